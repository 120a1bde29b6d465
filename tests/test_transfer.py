"""python -m database.transfer: a SQLite database of any version into an empty PostgreSQL one."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import psycopg
import pytest

from database.migrate import migrate
from database.migrations.base import MigrationContext
from database.postgres import PostgresDatabase
from database.transfer import TransferRefused, transfer
from domain.outcomes import Outcome
from domain.rules import Rules
from services.booking import ClientBookingService
from tests.conftest import at
from tests.support.clock import FakeClock
from tests.support.pg import PgServer
from tests.test_migrations import OLD_ROWS, make_old_db
from utils.timeutil import get_tz

ROOT = Path(__file__).resolve().parent.parent
TZ = get_tz("Europe/Moscow")
CTX = MigrationContext(tz=TZ, now=datetime(2026, 12, 1, 5, 0, tzinfo=UTC))


@pytest.fixture
def empty_pg(pg_server: PgServer) -> Iterator[str]:
    """A new PostgreSQL database with nothing in it, not even the schema."""
    name, url = pg_server.empty()
    yield url
    pg_server.drop(name)


def counts(url: str) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        return {
            table: int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])  # type: ignore[index]
            for table in ("services", "specialists", "clients", "bookings", "audit_log")
        }


def run_transfer(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "database.transfer", *args],
        cwd=ROOT,
        env={"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def test_an_old_layout_database_arrives_whole_and_keeps_working(
    tmp_path: Path, empty_pg: str
) -> None:
    source = tmp_path / "old.db"
    make_old_db(source, with_duration=True)

    result = run_transfer(f"sqlite:///{source}", empty_pg)

    assert result.returncode == 0, result.stderr
    assert "copied" in result.stdout
    with sqlite3.connect(source) as conn:  # migrated in place (a copy was kept aside)
        ids = [r[0] for r in conn.execute("SELECT id FROM bookings ORDER BY id")]
        clients = conn.execute("SELECT count(*) FROM clients").fetchone()[0]
    assert ids == sorted(row[0] for row in OLD_ROWS)
    assert any(name.startswith("old.db.pre-v0001-") for name in os.listdir(tmp_path))
    with psycopg.connect(empty_pg) as conn:
        assert [r[0] for r in conn.execute("SELECT id FROM bookings ORDER BY id")] == ids
    assert counts(empty_pg)["clients"] == clients
    # The sequences moved past the copied ids: a new booking gets the next one.
    clock = FakeClock(at(TZ, date(2026, 12, 1), "08:00"))
    async with PostgresDatabase(empty_pg, pool_size=2) as db:
        await db.write(
            lambda c: c.execute(
                "INSERT INTO working_hours (specialist_id, weekday, start_minute, end_minute)"
                " VALUES (1, 2, 600, 1080)"
            )
        )
        made = await ClientBookingService(db, Rules(TZ), clock).book(
            777, 1, at(TZ, date(2026, 12, 2), "10:00")
        )
    assert made.outcome is Outcome.BOOKED and made.booking is not None
    assert made.booking.id == max(ids) + 1


def test_overlapping_active_bookings_are_named_and_nothing_is_copied(
    tmp_path: Path, empty_pg: str
) -> None:
    source = tmp_path / "bot.db"
    migrate(source, CTX)
    with sqlite3.connect(source) as conn:
        conn.execute(
            "INSERT INTO services (id, name, duration_minutes, created_at, updated_at)"
            " VALUES (1, 'Cut', 60, 0, 0)"
        )
        conn.execute("INSERT INTO clients (id, created_at, updated_at) VALUES (5, 0, 0)")
        start = int(at(TZ, date(2026, 12, 2), "10:00").timestamp())
        for booking_id, begin in ((1, start), (2, start + 1800), (3, start + 7200)):
            conn.execute(
                "INSERT INTO bookings (id, client_id, service_id, specialist_id, start_at,"
                " end_at, busy_until, duration_minutes, created_at, updated_at)"
                " VALUES (?, 5, 1, 1, ?, ?, ?, 60, 0, 0)",
                (booking_id, begin, begin + 3600, begin + 3600),
            )

    with pytest.raises(TransferRefused, match=r"#1 and #2 \(specialist 1\)"):
        transfer(f"sqlite:///{source}", empty_pg, CTX)
    result = run_transfer(f"sqlite:///{source}", empty_pg)
    assert result.returncode == 1
    assert "nothing was copied" in result.stderr and "#1 and #2" in result.stderr
    assert "#3" not in result.stderr
    with psycopg.connect(empty_pg) as conn:
        tables = conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'bookings'"
        ).fetchone()
    assert tables == (0,)  # refused before the target was touched


def test_a_target_that_holds_data_is_refused(tmp_path: Path, pg_url: str) -> None:
    source = tmp_path / "bot.db"
    migrate(source, CTX)
    with psycopg.connect(pg_url) as conn:
        conn.execute("INSERT INTO clients (id, created_at, updated_at) VALUES (1, 0, 0)")
    before = counts(pg_url)

    result = run_transfer(f"sqlite:///{source}", pg_url)

    assert result.returncode == 1
    assert "the target database is not empty: clients (1 rows)" in result.stderr
    assert counts(pg_url) == before


def test_wrong_urls_are_explained() -> None:
    result = run_transfer("postgresql://a@h/db", "sqlite:///x.db")
    assert result.returncode == 1
    assert "the source must be a SQLite URL" in result.stderr
    assert run_transfer("only-one").returncode == 2
