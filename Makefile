# Everything a fresh machine needs: `make run` starts the bot, `make test` runs every check.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run servers test lint bench bench-pipeline migrate clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-servers.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $(VENV)/.runtime $@

run: $(VENV)/.runtime
	$(BIN)/python bot.py

# The drivers for PostgreSQL and Redis (`make servers run` with DATABASE_URL=postgresql://...).
servers: $(VENV)/.servers

$(VENV)/.servers: requirements-servers.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements-servers.txt
	touch $@

migrate: $(VENV)/.runtime
	$(BIN)/python -m database.migrate

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/mypy .

test: lint
	$(BIN)/python -m pytest

bench: $(VENV)/.runtime $(VENV)/.servers
	$(BIN)/python -m benchmarks.booking

# bot.py against a bare aiogram bot, through a local Bot API, measured from outside (a few minutes).
bench-pipeline: $(VENV)/.runtime
	$(BIN)/python -m benchmarks.pipeline

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
