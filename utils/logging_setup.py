"""Logging to stdout and, when LOG_FILE is set, to a rotating file; secrets are masked.

LOG_FORMAT=json writes one JSON object a line. Every record carries what is known of the work
it belongs to (the update's id, the user's, the booking's): ``bind`` sets them for the running
task (a middleware does it for each update), and both formats show them.
"""

from __future__ import annotations

import contextvars
import io
import logging
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from logging.handlers import RotatingFileHandler
from pathlib import Path
from typing import Any

from pythonjsonlogger.json import JsonFormatter

from utils.files import private_file

# The bot token travels inside Bot API URLs (https://api.telegram.org/bot<TOKEN>/method).
TOKEN_PATTERN = re.compile(r"[0-9]{3,}:[A-Za-z0-9_-]{20,}")
MASK = "<BOT_TOKEN>"
# A password inside a server URL (DATABASE_URL, REDIS_URL): scheme://user:PASSWORD@host
URL_PASSWORD = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://[^:/@\s]*:)[^@\s]+@")


def scrub(text: str) -> str:
    return URL_PASSWORD.sub(r"\1***@", TOKEN_PATTERN.sub(MASK, text))


CONTEXT_FIELDS = ("update_id", "user_id", "booking_id")
_context: contextvars.ContextVar[dict[str, int]] = contextvars.ContextVar("log_context")


@contextmanager
def bound(**fields: int | None) -> Iterator[None]:
    """Within the block (and the tasks it starts), records carry these fields."""
    token = _context.set(_context.get({}) | {k: v for k, v in fields.items() if v is not None})
    try:
        yield
    finally:
        _context.reset(token)


def bind(**fields: int | None) -> None:
    """From now on in this task (until the enclosing ``bound`` ends), records carry these."""
    _context.set(_context.get({}) | {k: v for k, v in fields.items() if v is not None})


class ContextFilter(logging.Filter):
    """Copies the bound fields onto each record (as attributes, None when unknown)."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = _context.get({})
        for name in CONTEXT_FIELDS:
            setattr(record, name, context.get(name))
        return True


class ScrubbingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        known = [
            f"{name}={getattr(record, name)}" for name in CONTEXT_FIELDS if _known(record, name)
        ]
        if known:
            first, newline, rest = text.partition("\n")
            text = f"{first} [{' '.join(known)}]{newline}{rest}"
        return scrub(text)


class ScrubbingJsonFormatter(JsonFormatter):
    """One JSON object a line: time, level, logger, message, the bound fields, the traceback."""

    def __init__(self) -> None:
        super().__init__(
            "%(asctime)s %(levelname)s %(name)s %(message)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            json_ensure_ascii=False,
        )

    def add_fields(
        self, log_record: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]
    ) -> None:
        super().add_fields(log_record, record, message_dict)
        for name in CONTEXT_FIELDS:
            if _known(record, name):
                log_record[name] = getattr(record, name)
            else:
                log_record.pop(name, None)

    def format(self, record: logging.LogRecord) -> str:
        return scrub(super().format(record))


def _known(record: logging.LogRecord, name: str) -> bool:
    return getattr(record, name, None) is not None


class PrivateRotatingFileHandler(RotatingFileHandler):
    """The log holds clients' names and ids: every file of it is 0600, rotated ones too."""

    def _open(self) -> io.TextIOWrapper:
        private_file(Path(self.baseFilename))
        return super()._open()


def setup_logging(
    level: str = "INFO", log_file: str | None = None, log_format: str = "text"
) -> None:
    formatter: logging.Formatter
    if log_format == "json":
        formatter = ScrubbingJsonFormatter()
    else:
        formatter = ScrubbingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stdout)]
    if log_file:
        handlers.append(
            PrivateRotatingFileHandler(
                log_file, maxBytes=5_000_000, backupCount=5, encoding="utf-8"
            )
        )
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    for handler in handlers:
        handler.setFormatter(formatter)
        handler.addFilter(ContextFilter())
        root.addHandler(handler)
    root.setLevel(level)
    # APScheduler logs every run of every job at INFO: one line a poll is noise, not news.
    logging.getLogger("apscheduler").setLevel(max(logging.WARNING, root.level))
    # aiogram logs "Update id=... is handled" at INFO for every update: a formatted, scrubbed
    # and written line per update (measured by benchmarks/pipeline.py), saying what the
    # bot_updates and bot_handler_seconds metrics already count (UpdateObserver). Kept at
    # LOG_LEVEL=DEBUG, where one line per update is what was asked for.
    logging.getLogger("aiogram.event").setLevel(
        logging.NOTSET if root.level <= logging.DEBUG else max(logging.WARNING, root.level)
    )
