"""Many clients pressing Confirm on the same time at once: exactly one booking, no errors."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sqlite3
import sys
from asyncio.subprocess import PIPE
from datetime import date
from pathlib import Path

import psycopg
import pytest
from pytz.tzinfo import BaseTzInfo

from database.db_retry import DatabaseBusyError, RetryPolicy
from database.engine import Conn, Database
from database.sqlite import SqliteDatabase
from domain.outcomes import Outcome
from domain.rules import Rules
from services.booking import ClientBookingService
from tests.conftest import AddService, OpenAnother, at, postgresql_only, sqlite_only
from tests.support.clock import FakeClock

ROOT = Path(__file__).resolve().parent.parent
WED = date(2026, 12, 2)


async def active_at(db: Database, start_ts: int) -> int:
    row = await db.read(
        lambda c: c.execute(
            "SELECT count(*) FROM bookings WHERE status = 'active' AND start_at = ?", (start_ts,)
        ).fetchone()
    )
    return int(row[0])


async def active_of(db: Database, client_id: int) -> int:
    row = await db.read(
        lambda c: c.execute(
            "SELECT count(*) FROM bookings WHERE client_id = ? AND status = 'active'", (client_id,)
        ).fetchone()
    )
    return int(row[0])


async def overlapping_pairs(db: Database) -> int:
    row = await db.read(
        lambda c: c.execute(
            """SELECT count(*) FROM bookings a JOIN bookings b
               ON a.specialist_id = b.specialist_id AND a.id < b.id
              AND a.start_at < b.busy_until AND b.start_at < a.busy_until
              WHERE a.status = 'active' AND b.status = 'active'"""
        ).fetchone()
    )
    return int(row[0])


async def test_fifty_coroutines_one_slot_one_winner(
    booking: ClientBookingService, add_service: AddService, db: Database, tz: BaseTzInfo
) -> None:
    service = await add_service()
    start = at(tz, WED, "10:00")
    results = await asyncio.gather(*(booking.book(1000 + i, service.id, start) for i in range(50)))
    outcomes = [r.outcome for r in results]
    assert outcomes.count(Outcome.BOOKED) == 1
    assert outcomes.count(Outcome.SLOT_TAKEN) == 49
    assert await active_at(db, int(start.timestamp())) == 1
    assert await overlapping_pairs(db) == 0


async def test_fifty_connections_in_one_process_one_winner(
    add_service: AddService,
    engine: str,
    db_path: Path,
    tz: BaseTzInfo,
    clock: FakeClock,
    another_db: OpenAnother,
) -> None:
    """Each client on its own connection: the database's locks, not our writer queue, decide
    (SQLite: the file's write lock; PostgreSQL: the row locks and the overlap constraint)."""
    service = await add_service()
    start = at(tz, WED, "10:00")
    databases: list[Database]
    if engine == "sqlite":
        databases = [
            SqliteDatabase(db_path, retry=RetryPolicy(max_retries=10, delay=0.01))
            for _ in range(50)
        ]
        await asyncio.gather(*(d.open() for d in databases))
    else:
        databases = [await another_db(pool_size=50)] * 50
    try:
        services = [ClientBookingService(d, Rules(tz), clock) for d in databases]
        results = await asyncio.gather(
            *(s.book(2000 + i, service.id, start) for i, s in enumerate(services))
        )
    finally:
        if engine == "sqlite":
            await asyncio.gather(*(d.close() for d in databases))
    outcomes = [r.outcome for r in results]
    assert outcomes.count(Outcome.BOOKED) == 1
    assert outcomes.count(Outcome.SLOT_TAKEN) == 49


@pytest.mark.slow
@sqlite_only
async def test_four_processes_one_file_one_winner(
    add_service: AddService, db: Database, db_path: Path, tz: BaseTzInfo, clock: FakeClock
) -> None:
    service = await add_service()
    start = at(tz, WED, "10:00")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    args = [str(db_path), clock().isoformat(), start.isoformat(), str(service.id)]
    workers = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.support.book_worker",
            *args,
            str(5000 + p * 100),
            "10",
            cwd=ROOT,
            env=env,
            stdin=PIPE,
            stdout=PIPE,
            stderr=PIPE,
        )
        for p in range(4)
    ]
    try:
        for worker in workers:
            assert worker.stdout is not None
            line = await asyncio.wait_for(worker.stdout.readline(), 60)
            assert line.strip() == b"ready"
        for worker in workers:  # release them together
            assert worker.stdin is not None
            worker.stdin.write(b"go\n")
        outputs = await asyncio.wait_for(asyncio.gather(*(w.communicate() for w in workers)), 120)
    finally:
        for worker in workers:
            if worker.returncode is None:
                worker.kill()
    outcomes: list[str] = []
    for worker, (out, err) in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, err.decode()
        assert b"Traceback" not in err
        outcomes.extend(json.loads(out.decode().strip().splitlines()[-1]))
    assert len(outcomes) == 40
    assert outcomes.count("booked") == 1
    assert outcomes.count("slot_taken") == 39
    assert await active_at(db, int(start.timestamp())) == 1


class _Signal(logging.Handler):
    """Sets an event when a log message contains the given text (no polling loops)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text
        self.event = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if self.text in record.getMessage():
            self.event.set()


@sqlite_only
async def test_a_locked_file_is_retried_with_backoff_and_logged(
    add_service: AddService,
    db_path: Path,
    tz: BaseTzInfo,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    service = await add_service()
    impatient = SqliteDatabase(
        db_path, busy_timeout_ms=0, retry=RetryPolicy(max_retries=5, delay=0.02, backoff=2.0)
    )
    await impatient.open()
    blocker = sqlite3.connect(db_path, isolation_level=None)
    try:
        blocker.execute("BEGIN IMMEDIATE")  # another process holds the write lock
        booking = ClientBookingService(impatient, Rules(tz), clock=clock)
        caplog.set_level(logging.WARNING, logger="database.db_retry")
        second_retry = _Signal("retry 2/5")
        logging.getLogger("database.db_retry").addHandler(second_retry)
        attempt = asyncio.create_task(booking.book(1, service.id, at(tz, WED, "10:00")))
        await asyncio.wait_for(second_retry.event.wait(), 10)
        logging.getLogger("database.db_retry").removeHandler(second_retry)
        blocker.execute("COMMIT")  # the lock goes away: the next retry succeeds
        result = await attempt
        assert result.outcome is Outcome.BOOKED
        messages = [r.getMessage() for r in caplog.records]
        assert any("book: database is locked" in m and "retry 1/5" in m for m in messages)

        blocker.execute("BEGIN IMMEDIATE")
        with pytest.raises(DatabaseBusyError):
            await booking.book(2, service.id, at(tz, WED, "11:00"))
        blocker.execute("ROLLBACK")
    finally:
        blocker.close()
        await impatient.close()


@postgresql_only
async def test_postgresql_itself_refuses_an_overlap_that_bypasses_the_service(
    db: Database, add_service: AddService, tz: BaseTzInfo, booking: ClientBookingService
) -> None:
    """The EXCLUDE constraint: a second active booking overlapping the first (another start,
    so no unique index catches it) is refused by the database, whatever code writes it."""
    service = await add_service()
    made = await booking.book(1, service.id, at(tz, WED, "10:00"))
    assert made.booking is not None
    start = int(made.booking.start.timestamp()) + 1800  # half an hour into the first

    def overlapping(conn: Conn) -> None:
        conn.execute("INSERT INTO clients (id, created_at, updated_at) VALUES (2, 0, 0)")
        conn.execute(
            "INSERT INTO bookings (client_id, service_id, specialist_id, start_at, end_at,"
            " busy_until, duration_minutes, created_at, updated_at)"
            " VALUES (2, ?, 1, ?, ?, ?, 60, 0, 0)",
            (service.id, start, start + 3600, start + 3600),
        )

    # Retried whole (another transaction may have booked first), then given up: still refused.
    with pytest.raises(DatabaseBusyError) as refused:
        await db.write(overlapping)
    assert isinstance(refused.value.__cause__, psycopg.errors.ExclusionViolation)
    assert "no_overlap" in str(refused.value.__cause__)
    assert await overlapping_pairs(db) == 0


async def test_two_moves_or_a_move_and_a_cancel_of_one_booking_never_both_happen(
    add_service: AddService, another_db: OpenAnother, tz: BaseTzInfo, clock: FakeClock
) -> None:
    """Two replicas act on one booking at once: one change wins, the other is told the
    booking is no longer active, and the client never ends up with two bookings."""
    service = await add_service()
    first, second = await another_db(), await another_db()
    one, two = (ClientBookingService(d, Rules(tz), clock) for d in (first, second))
    for n, day in enumerate((WED, date(2026, 12, 3), date(2026, 12, 4), date(2026, 12, 7))):
        client = 3000 + n
        made = await one.book(client, service.id, at(tz, day, "10:00"))
        assert made.booking is not None
        booking_id = made.booking.id
        if n % 2:  # two moves, to times far apart: only the booking itself is contended
            moves = await asyncio.gather(
                one.reschedule(booking_id, at(tz, day, "15:00"), client),
                two.reschedule(booking_id, at(tz, day, "17:00"), client),
            )
        else:
            moves = await asyncio.gather(
                one.reschedule(booking_id, at(tz, day, "15:00"), client),
                two.cancel(booking_id, client),
            )
        outcomes = sorted(r.outcome.value for r in moves)
        assert outcomes.count("not_active") == 1, outcomes
        active = await active_of(first, client)
        assert active == (1 if "rescheduled" in outcomes and "cancelled" not in outcomes else 0)
