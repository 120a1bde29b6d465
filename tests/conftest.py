from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import date, datetime, time
from pathlib import Path
from typing import cast

import pytest
from pytz.tzinfo import BaseTzInfo

from database.db_retry import RetryPolicy
from database.engine import Database
from database.migrate import migrate
from database.migrations.base import MigrationContext
from database.postgres import PostgresDatabase
from database.sqlite import SqliteDatabase
from domain.actors import Actor
from domain.catalog import Service
from domain.rules import Rules
from services.booking import ClientBookingService
from services.catalog import CatalogService
from services.jobs import JobsService
from services.schedule import ScheduleService
from services.staff import StaffService
from services.visits import VisitService
from tests.support.clock import FakeClock
from tests.support.pg import PgServer
from utils.hours import parse_weekly
from utils.timeutil import get_tz, localize_strict

ADMIN = Actor.admin(1000)
DEFAULT_HOURS = "mon-fri 10:00-14:00,15:00-19:00; sat 11:00-16:00"


def require_service(name: str, reason: str) -> None:
    """Skip when a local server is missing, unless CI demands every service (REQUIRE_SERVICES=1)."""
    if os.environ.get("REQUIRE_SERVICES") == "1":
        pytest.fail(f"{name} is required in CI but unreachable: {reason}")
    pytest.skip(f"{name} unreachable: {reason}")


def at(tz: BaseTzInfo, day: date, hhmm: str) -> datetime:
    """A local wall time as an aware datetime (must exist)."""
    hour, minute = (int(p) for p in hhmm.split(":"))
    moment = localize_strict(tz, datetime.combine(day, time(hour, minute)))
    assert moment is not None, f"{day} {hhmm} does not exist in {tz}"
    return moment


@pytest.fixture
def tz() -> BaseTzInfo:
    return get_tz("Europe/Moscow")


@pytest.fixture
def clock(tz: BaseTzInfo) -> FakeClock:
    # Tuesday 2026-12-01, 08:00 in Moscow.
    return FakeClock(at(tz, date(2026, 12, 1), "08:00"))


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "bot.db"


TEST_RETRY = RetryPolicy(max_retries=5, delay=0.01, backoff=2.0)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """The local PostgreSQL server (skips, or fails in CI, when it cannot be reached)."""
    server = PgServer()
    reason = server.unreachable()
    if reason is not None:
        require_service("PostgreSQL", reason)
    yield server
    server.drop_all()


@pytest.fixture
def pg_url(pg_server: PgServer) -> Iterator[str]:
    """A fresh migrated PostgreSQL database for one test."""
    name, url = pg_server.fresh()
    yield url
    pg_server.drop(name)


@pytest.fixture
async def sqlite_db(db_path: Path, tz: BaseTzInfo, clock: FakeClock) -> AsyncIterator[Database]:
    migrate(db_path, MigrationContext(tz=tz, now=clock()))
    database = SqliteDatabase(db_path, retry=TEST_RETRY)
    await database.open()
    yield database
    await database.close()


@pytest.fixture
async def postgresql_db(pg_url: str) -> AsyncIterator[Database]:
    database = PostgresDatabase(pg_url, retry=TEST_RETRY, pool_size=8)
    await database.open()
    yield database
    await database.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def db(engine: str, request: pytest.FixtureRequest) -> Database:
    """The database of a test that runs on both engines."""
    return cast(Database, request.getfixturevalue(f"{engine}_db"))


# For tests of what only SQLite has (its writer queue, pragmas, a locked file).
sqlite_only = pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
# For what only PostgreSQL has (its constraint, its locks).
postgresql_only = pytest.mark.parametrize("engine", ["postgresql"], indirect=True)

OpenAnother = Callable[..., Awaitable[Database]]


@pytest.fixture
async def another_db(
    engine: str, request: pytest.FixtureRequest, db_path: Path
) -> AsyncIterator[OpenAnother]:
    """Opens more connections to the test's database, as another process would."""
    opened: list[Database] = []

    async def open_another(pool_size: int = 2) -> Database:
        database: Database
        if engine == "sqlite":
            database = SqliteDatabase(db_path, retry=TEST_RETRY)
        else:
            url = request.getfixturevalue("pg_url")
            database = PostgresDatabase(url, retry=TEST_RETRY, pool_size=pool_size)
        await database.open()
        opened.append(database)
        return database

    yield open_another
    for database in opened:
        await database.close()


@pytest.fixture
def rules(tz: BaseTzInfo) -> Rules:
    return Rules(
        tz=tz,
        step_minutes=30,
        min_lead_minutes=60,
        horizon_days=30,
        max_active_per_client=3,
        cancel_cutoff_minutes=120,
        reminder_offsets=(1440, 120),
    )


@pytest.fixture
def booking(db: Database, rules: Rules, clock: FakeClock) -> ClientBookingService:
    return ClientBookingService(db, rules, clock)


@pytest.fixture
def staff(db: Database, rules: Rules, clock: FakeClock) -> StaffService:
    return StaffService(db, rules, clock)


@pytest.fixture
def visits(db: Database, clock: FakeClock) -> VisitService:
    return VisitService(db, clock)


@pytest.fixture
def jobs(db: Database, rules: Rules, clock: FakeClock) -> JobsService:
    return JobsService(db, rules, clock)


@pytest.fixture
def catalog(db: Database, clock: FakeClock) -> CatalogService:
    return CatalogService(db, clock)


@pytest.fixture
def schedule(db: Database, clock: FakeClock) -> ScheduleService:
    return ScheduleService(db, clock)


AddService = Callable[..., Awaitable[Service]]


@pytest.fixture
async def add_service(catalog: CatalogService, schedule: ScheduleService) -> AddService:
    """Seeds the default working hours once, then adds a service offered by every specialist."""
    await schedule.seed_weekly_hours(parse_weekly(DEFAULT_HOURS))

    async def add(
        name: str = "Haircut", duration: int = 60, price: int = 1500, buffer: int = 0
    ) -> Service:
        return await catalog.add(
            ADMIN, name=name, duration_minutes=duration, price=price, buffer_minutes=buffer
        )

    return add
