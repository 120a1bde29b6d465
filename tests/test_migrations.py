"""Schema creation, idempotence, and the upgrade of the older unversioned layout."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from pytz.tzinfo import BaseTzInfo

from database.engine import Conn, Database
from database.migrate import discover, migrate
from database.migrations.base import MigrationContext, MigrationError
from database.sqlite import SqliteDatabase
from domain.outcomes import Outcome
from domain.rules import Rules
from services.booking import ClientBookingService
from services.jobs import JobsService
from tests.conftest import at, sqlite_only
from tests.support.clock import FakeClock
from utils.timeutil import from_ts, get_tz, to_local

ROOT = Path(__file__).resolve().parent.parent

OLD_SERVICES = """CREATE TABLE services (id INTEGER PRIMARY KEY, name TEXT,
    duration_minutes INTEGER, price INTEGER, is_active INTEGER DEFAULT 1)"""
OLD_BOOKINGS = """CREATE TABLE bookings (id INTEGER PRIMARY KEY AUTOINCREMENT, date TEXT,
    time TEXT, user_id INTEGER, username TEXT, created_at TEXT, service_id INTEGER DEFAULT 1,
    {extra} UNIQUE(date, time))"""

# id, date, time, user_id, username, created_at, service_id, duration (variant only)
OLD_ROWS = [
    (1, "2026-11-20", "10:00", 501, "anna", "2026-11-19 18:00:00", 1, 60),
    (2, "2026-11-20", "11:30", 502, None, "2026-11-19T19:00:00", 2, 90),
    (5, "2026-12-24", "15:00", 501, "anna_new", "garbage", 1, 60),
    (9, "2026-12-25", "12:00", 503, "boris", None, 7, 45),  # service 7 no longer exists
    (12, "2026-03-29", "02:30", 504, "gap", None, 1, 60),  # a wall time the clocks skipped
]


def make_old_db(path: Path, *, with_duration: bool) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path)
    conn.execute(OLD_SERVICES)
    conn.execute(
        OLD_BOOKINGS.format(extra="duration_minutes INTEGER DEFAULT 60," if with_duration else "")
    )
    conn.executemany(
        "INSERT INTO services VALUES (?, ?, ?, ?, ?)",
        [(1, "Haircut", 60, 1500, 1), (2, "Colouring", 120, 4000, 1), (3, "Old", 30, 100, 0)],
    )
    for row in OLD_ROWS:
        values = row if with_duration else row[:7]
        marks = ",".join("?" * len(values))
        columns = "id, date, time, user_id, username, created_at, service_id"
        if with_duration:
            columns += ", duration_minutes"
        conn.execute(f"INSERT INTO bookings ({columns}) VALUES ({marks})", values)
    conn.commit()
    conn.close()


def dump(path: Path) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return sorted(
            r[0] for r in conn.execute("SELECT sql FROM sqlite_master WHERE sql NOT NULL")
        )
    finally:
        conn.close()


def ctx(tz: BaseTzInfo) -> MigrationContext:
    return MigrationContext(tz=tz, now=datetime(2026, 12, 1, 5, 0, tzinfo=UTC))


def test_fresh_database_gets_the_whole_schema_once(db_path: Path, tz: BaseTzInfo) -> None:
    report = migrate(db_path, ctx(tz))
    assert report.applied == [m.version for m in discover()]
    assert report.backup is None  # nothing to copy aside in a new file
    conn = sqlite3.connect(db_path)
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {
        "services", "specialists", "specialist_services", "working_hours",
        "schedule_exceptions", "clients", "bookings", "reminders", "audit_log",
        "schema_migrations",
    } <= tables  # fmt: skip
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("SELECT id, name FROM specialists").fetchall() == [(1, "Master")]
    conn.close()

    before = dump(db_path)
    again = migrate(db_path, ctx(tz))
    assert again.applied == []
    assert again.backup is None
    assert dump(db_path) == before


@sqlite_only
async def test_database_connections_use_the_required_pragmas(db: Database) -> None:
    def pragmas(conn: Conn) -> tuple[object, ...]:
        return tuple(
            conn.execute(f"PRAGMA {name}").fetchone()[0]
            for name in ("journal_mode", "foreign_keys", "synchronous", "busy_timeout")
        )

    assert await db.write(pragmas) == ("wal", 1, 2, 5000)  # synchronous 2 = FULL
    assert await db.read(pragmas) == ("wal", 1, 2, 5000)
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        await db.read(lambda c: c.execute("DELETE FROM services"))


@pytest.mark.parametrize("with_duration", [False, True])
async def test_older_layout_upgrades_without_losing_a_row(
    tmp_path: Path, with_duration: bool
) -> None:
    tz = get_tz("Europe/Berlin")
    path = tmp_path / "old.db"
    make_old_db(path, with_duration=with_duration)

    report = migrate(path, ctx(tz))

    assert report.applied == [m.version for m in discover()]
    assert report.backup is not None and report.backup.exists()
    original = sqlite3.connect(report.backup)
    assert original.execute("SELECT count(*) FROM bookings").fetchone()[0] == len(OLD_ROWS)
    original.close()

    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    services = {r["id"]: r for r in conn.execute("SELECT * FROM services")}
    assert {i: (s["name"], s["duration_minutes"], s["price"], s["is_active"]) for i, s in
            services.items() if i <= 3} == {
        1: ("Haircut", 60, 1500, 1), 2: ("Colouring", 120, 4000, 1), 3: ("Old", 30, 100, 0),
    }  # fmt: skip
    assert services[7]["is_active"] == 0  # placeholder keeps booking #9's service id
    bookings = {r["id"]: r for r in conn.execute("SELECT * FROM bookings")}
    assert sorted(bookings) == [row[0] for row in OLD_ROWS]
    for bid, day, hhmm, user, _username, _created, service_id, duration in OLD_ROWS:
        b = bookings[bid]
        local = to_local(tz, from_ts(b["start_at"]))
        if bid == 12:
            # 02:30 did not exist that night: it can only have meant 03:30 summer time.
            assert local.strftime("%Y-%m-%d %H:%M") == "2026-03-29 03:30"
        else:
            assert local.strftime("%Y-%m-%d %H:%M") == f"{day} {hhmm}"
        assert (b["client_id"], b["service_id"], b["status"]) == (user, service_id, "active")
        expected = duration if with_duration else services[service_id]["duration_minutes"]
        assert b["duration_minutes"] == expected
        assert b["end_at"] - b["start_at"] == expected * 60
    # 2026-11-20 10:00 in Berlin (CET, UTC+1) is 09:00 UTC.
    assert from_ts(bookings[1]["start_at"]) == datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    clients = {r["id"]: r["username"] for r in conn.execute("SELECT * FROM clients")}
    assert clients == {501: "anna_new", 502: None, 503: "boris", 504: "gap"}
    # The old tables stay, renamed, as an archive.
    assert conn.execute("SELECT count(*) FROM legacy_bookings_v0").fetchone()[0] == len(OLD_ROWS)
    conn.close()

    # The upgraded file is a working database: new bookings get new ids after the old ones.
    clock = FakeClock(at(tz, date(2026, 12, 1), "08:00"))
    async with SqliteDatabase(path) as database:
        await database.write(
            lambda c: c.execute(
                "INSERT INTO working_hours (specialist_id, weekday, start_minute, end_minute)"
                " VALUES (1, 2, 600, 1080)"
            )
        )
        service = ClientBookingService(database, Rules(tz), clock=clock)
        result = await service.book(777, 1, at(tz, date(2026, 12, 2), "10:00"))
        assert result.outcome is Outcome.BOOKED
        assert result.booking is not None and result.booking.id == 13

    assert migrate(path, ctx(tz)).applied == []


async def test_imported_future_bookings_get_their_reminders_at_start(tmp_path: Path) -> None:
    tz = get_tz("Europe/Berlin")
    path = tmp_path / "old.db"
    make_old_db(path, with_duration=True)
    migrate(path, ctx(tz))
    clock = FakeClock(at(tz, date(2026, 12, 1), "08:00"))
    async with SqliteDatabase(path) as database:
        jobs = JobsService(database, Rules(tz), clock=clock)
        assert await jobs.backfill_outbox() == 2  # #5 and #9 are ahead; the rest are past
        assert await jobs.backfill_outbox() == 0
        rows = await database.read(
            lambda c: sorted(
                tuple(r) for r in c.execute("SELECT booking_id, offset_minutes FROM reminders")
            )
        )
    assert rows == [(5, 120), (5, 1440), (9, 120), (9, 1440)]


def test_the_same_old_time_written_two_ways_is_named_not_crashed(
    tmp_path: Path, tz: BaseTzInfo
) -> None:
    path = tmp_path / "old.db"
    make_old_db(path, with_duration=False)
    conn = sqlite3.connect(path)
    conn.execute(
        "INSERT INTO bookings (id, date, time, user_id) VALUES (41, '24.12.2026', '15:00', 7)"
    )
    conn.commit()
    conn.close()
    with pytest.raises(MigrationError, match=r"#41 \(same time as #5\)"):
        migrate(path, ctx(tz))


def test_a_database_at_an_older_version_gets_only_the_newer_migrations(
    db_path: Path, tz: BaseTzInfo
) -> None:
    everything = discover()
    first = migrate(db_path, ctx(tz), migrations=everything[:1])
    assert first.applied == [1]
    later = migrate(db_path, ctx(tz))
    assert later.applied == [m.version for m in everything[1:]]
    assert later.backup is not None  # a database with data is copied aside first
    conn = sqlite3.connect(db_path)
    versions = [r[0] for r in conn.execute("SELECT version FROM schema_migrations ORDER BY 1")]
    assert versions == [m.version for m in everything]
    conn.close()


def test_unreadable_old_rows_stop_the_upgrade_and_change_nothing(
    tmp_path: Path, tz: BaseTzInfo
) -> None:
    path = tmp_path / "old.db"
    make_old_db(path, with_duration=False)
    conn = sqlite3.connect(path)
    conn.execute("INSERT INTO bookings (id, date, time, user_id) VALUES (40, 'tomorrow', '10', 1)")
    conn.commit()
    conn.close()
    before = dump(path)

    with pytest.raises(MigrationError, match="#40"):
        migrate(path, ctx(tz))

    # Only the empty bookkeeping table may have appeared; the old schema is untouched.
    assert [sql for sql in dump(path) if "schema_migrations" not in sql] == before
    conn = sqlite3.connect(path)
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "legacy_bookings_v0" not in tables
    assert conn.execute("SELECT count(*) FROM bookings").fetchone()[0] == len(OLD_ROWS) + 1
    assert conn.execute("SELECT count(*) FROM schema_migrations").fetchone()[0] == 0
    conn.close()


def test_migrate_command_line(tmp_path: Path) -> None:
    path = tmp_path / "cli.db"
    make_old_db(path, with_duration=True)
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{path}",
        "TIMEZONE": "Europe/Moscow",
        "BOT_TOKEN": "",
    }
    run = subprocess.run(
        [sys.executable, "-m", "database.migrate"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert f"applied {[m.version for m in discover()]}" in run.stdout
    again = subprocess.run(
        [sys.executable, "-m", "database.migrate"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert again.returncode == 0
    assert "nothing to apply" in again.stdout
    backups = list(tmp_path.glob("cli.db.pre-v0001-*.bak"))
    assert len(backups) == 1
