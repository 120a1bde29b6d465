"""The specialist a new database starts with is named in DEFAULT_LANGUAGE at the first start
("Мастер" for ru, "Master" for en); a database that has started before keeps its name."""

from __future__ import annotations

import json

import pytest

from config import load_settings
from database.engine import Database
from services.container import build_services
from tests.support.clock import FakeClock
from utils.hours import parse_weekly

HOURS = parse_weekly("mon-fri 10:00-19:00")


async def specialists(db: Database) -> list[tuple[int, str]]:
    found = await db.read(lambda c: c.execute("SELECT id, name FROM specialists").fetchall())
    return [(int(r[0]), str(r[1])) for r in found]


async def renames(db: Database) -> list[tuple[str, dict[str, object]]]:
    found = await db.read(
        lambda c: c.execute(
            "SELECT actor_role, details FROM audit_log WHERE action = 'specialist.renamed'"
        ).fetchall()
    )
    return [(str(r[0]), json.loads(r[1])) for r in found]


@pytest.mark.parametrize(("language", "name"), [("ru", "Мастер"), ("en", "Master")])
async def test_the_first_start_names_the_specialist_in_the_default_language(
    db: Database, clock: FakeClock, language: str, name: str
) -> None:
    settings = load_settings(_env_file=None, default_language=language)
    services = build_services(settings, db, clock)

    assert await services.schedule.seed_weekly_hours(HOURS)

    assert await specialists(db) == [(1, name)]
    # The client sees that name when choosing a specialist.
    assert [s.specialist.name for s in await services.specialists.list()] == [name]
    if language == "ru":
        assert await renames(db) == [("system", {"name": "Мастер", "was": "Master"})]
    else:
        assert await renames(db) == []  # nothing changed, nothing recorded


async def test_a_database_that_started_before_keeps_its_specialists_name(
    db: Database, clock: FakeClock
) -> None:
    # It first started with DEFAULT_LANGUAGE=en (or before the name was translated)...
    english = build_services(load_settings(_env_file=None, default_language="en"), db, clock)
    await english.schedule.seed_weekly_hours(HOURS)
    # ...and now starts again with ru: the row is not renamed.
    russian = build_services(load_settings(_env_file=None, default_language="ru"), db, clock)
    assert not await russian.schedule.seed_weekly_hours(HOURS)
    assert await specialists(db) == [(1, "Master")]
    assert await renames(db) == []


async def test_a_specialist_the_admin_renamed_before_the_first_start_keeps_that_name(
    db: Database, clock: FakeClock
) -> None:
    await db.write(lambda c: c.execute("UPDATE specialists SET name = 'Olga' WHERE id = 1"))
    services = build_services(load_settings(_env_file=None, default_language="ru"), db, clock)
    await services.schedule.seed_weekly_hours(HOURS)
    assert await specialists(db) == [(1, "Olga")]
