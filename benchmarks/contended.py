"""Part 1, the contended workload: ``--clients`` clients at once on ``--starts`` free starts of
one specialist, run three ways (ours, a baseline of what simple bots do, and the limit of the
same transactions one after another on one connection). See benchmarks/booking.py."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from time import perf_counter
from typing import cast

import aiosqlite

from benchmarks.common import (
    ADMIN,
    BASELINE_DELAY,
    BASELINE_TRIES,
    BUSY_TIMEOUT_MS,
    CLIENT_BASE,
    DURATION,
    HOURS,
    NOW,
    OPEN_MINUTE,
    RULES,
    TODAY,
    TZ,
    InlineDatabase,
    RunResult,
    count_overlaps,
    count_overlaps_in_file,
    new_clock,
)
from database.db_retry import is_busy_error
from database.engine import Database
from database.migrate import migrate
from database.migrations.base import MigrationContext
from database.sqlite import SqliteDatabase, _on_thread, configure
from services.booking import ClientBookingService
from services.catalog import CatalogService
from services.schedule import ScheduleService
from utils.hours import parse_weekly
from utils.timeutil import to_ts

# ---------------------------------------------------------------- part 1: setup


@dataclass(frozen=True)
class Contended:
    path: Path
    service_id: int
    specialist_id: int
    starts: list[datetime]


async def prepare_contended(path: Path, wanted: int) -> Contended:
    """A fresh SQLite file with one specialist and exactly ``wanted`` free starts."""
    migrate(path, MigrationContext(tz=TZ, now=NOW))
    async with SqliteDatabase(path, busy_timeout_ms=BUSY_TIMEOUT_MS) as db:
        service_id, specialist_id, starts = await populate(db, wanted)
    return Contended(path, service_id, specialist_id, starts)


async def populate(db: Database, wanted: int) -> tuple[int, int, list[datetime]]:
    """One specialist and exactly ``wanted`` free starts in the horizon, on a migrated
    database: (service id, specialist id, the starts).

    Weekly hours give 10 starts a day. Today is closed (the lead time would leave it partial),
    then whole days stay open until ``wanted`` is reached (the last one trimmed with custom
    hours if needed) and the rest of the horizon is closed, with date exceptions.
    """
    clock = new_clock()
    schedule = ScheduleService(db, clock)
    await schedule.seed_weekly_hours(parse_weekly(HOURS))
    service = await CatalogService(db, clock).add(
        ADMIN, name="Haircut", duration_minutes=DURATION, price=1500
    )
    specialists = await db.read(
        lambda c: [int(r[0]) for r in c.execute("SELECT id FROM specialists")]
    )
    if len(specialists) != 1:
        raise RuntimeError(f"expected one specialist, found {specialists}")
    booking = ClientBookingService(db, RULES, clock)
    last = RULES.last_bookable_day(NOW)
    days = [TODAY + timedelta(days=n) for n in range((last - TODAY).days + 1)]
    remaining = wanted
    for day in days:
        if day == TODAY or remaining == 0:
            await schedule.set_day(day, None, ADMIN, reason="benchmark: closed")
            continue
        free = sorted(await booking.free_times(service.id, day))
        if len(free) > remaining:
            keep_until = free[remaining - 1] + timedelta(minutes=DURATION)
            end = keep_until.astimezone(TZ)
            end_minute = end.hour * 60 + end.minute
            await schedule.set_day(
                day, [(OPEN_MINUTE, end_minute)], ADMIN, reason="benchmark: trimmed"
            )
            remaining = 0
        else:
            remaining -= len(free)
    if remaining:
        raise SystemExit(
            f"--starts {wanted}: the {len(days)}-day horizon has only {wanted - remaining}"
            f" starts with hours '{HOURS}'"
        )
    starts: list[datetime] = []
    for day in days:
        starts.extend(sorted(await booking.free_times(service.id, day)))
    if len(starts) != wanted:
        raise RuntimeError(f"free_times lists {len(starts)} starts, expected {wanted}")
    return service.id, specialists[0], starts


def check_result(result: RunResult, path: Path) -> None:
    result.overlaps, result.active_rows = count_overlaps_in_file(path)


# ---------------------------------------------------------------- part 1: the three runs


async def run_ours(setup: Contended, clients: int) -> RunResult:
    async with SqliteDatabase(setup.path, busy_timeout_ms=BUSY_TIMEOUT_MS) as db:
        return await run_booking_storm(db, "ours", setup.service_id, setup.starts, clients)


async def run_booking_storm(
    db: Database, name: str, service_id: int, starts: list[datetime], clients: int
) -> RunResult:
    """``clients`` distinct clients at once, client i booking start i % len(starts)."""
    result = RunResult(name, clients, clients)
    latencies: list[float] = []
    outcomes: Counter[str] = Counter()
    service = ClientBookingService(db, RULES, new_clock())

    async def attempt(i: int) -> None:
        start = starts[i % len(starts)]
        began = perf_counter()
        try:
            booked = await service.book(CLIENT_BASE + i, service_id, start)
            outcomes[booked.outcome.value] += 1
        except Exception as exc:
            result.errors[type(exc).__name__] = result.errors.get(type(exc).__name__, 0) + 1
            outcomes["error"] += 1
        latencies.append(perf_counter() - began)

    began = perf_counter()
    await asyncio.gather(*(attempt(i) for i in range(clients)))
    wall = perf_counter() - began
    result.finish(wall, latencies, outcomes)
    result.overlaps, result.active_rows = await count_overlaps(db)
    return result


async def run_limit(setup: Contended, clients: int, *, fsync: bool = True) -> RunResult:
    """The same transactions one after another, each committed on its own. ``fsync=False``
    (synchronous=OFF): the same again with commits that do not wait for the disk, the most that
    saving fsyncs could gain here."""
    result = RunResult("limit (b)" if fsync else "limit, no fsync", 1, clients)
    latencies: list[float] = []
    outcomes: Counter[str] = Counter()
    inline = InlineDatabase(setup.path, "FULL" if fsync else "OFF")
    try:
        service = ClientBookingService(cast(Database, inline), RULES, new_clock())
        began = perf_counter()
        for i in range(clients):
            start = setup.starts[i % len(setup.starts)]
            t0 = perf_counter()
            booked = await service.book(CLIENT_BASE + i, setup.service_id, start)
            latencies.append(perf_counter() - t0)
            outcomes[booked.outcome.value] += 1
        wall = perf_counter() - began
    finally:
        inline.close()
    result.finish(wall, latencies, outcomes)
    check_result(result, setup.path)
    return result


async def _baseline_tx(
    conn: aiosqlite.Connection,
    client_id: int,
    service_id: int,
    specialist_id: int,
    start: datetime,
    now: datetime,
) -> str:
    """One check-and-insert, one awaited statement at a time, as a simple bot writes it."""
    now_ts = to_ts(now)
    start_ts = to_ts(start)
    await conn.execute("BEGIN IMMEDIATE")
    try:
        rows = await conn.execute_fetchall(
            "SELECT * FROM services WHERE id = ? AND is_active = 1", (service_id,)
        )
        if not rows:
            await conn.execute("ROLLBACK")
            return "unknown_service"
        svc = next(iter(rows))
        end_ts = start_ts + int(svc["duration_minutes"]) * 60
        busy_until = end_ts + int(svc["buffer_minutes"]) * 60
        rows = await conn.execute_fetchall(
            """SELECT count(*) FROM bookings
               WHERE client_id = ? AND status = 'active' AND start_at > ?""",
            (client_id, now_ts),
        )
        if int(next(iter(rows))[0]) >= RULES.max_active_per_client:
            await conn.execute("ROLLBACK")
            return "limit_reached"
        rows = await conn.execute_fetchall(
            """SELECT id FROM bookings
               WHERE specialist_id = ? AND status = 'active'
                 AND start_at < ? AND busy_until > ? LIMIT 1""",
            (specialist_id, busy_until, start_ts),
        )
        if list(rows):
            await conn.execute("ROLLBACK")
            return "slot_taken"
        # The clients row is needed by the foreign key (ClientBookingService does the same).
        await conn.execute(
            "INSERT OR IGNORE INTO clients (id, created_at, updated_at) VALUES (?, ?, ?)",
            (client_id, now_ts, now_ts),
        )
        cursor = await conn.execute(
            """INSERT INTO bookings (client_id, service_id, specialist_id, start_at, end_at,
                                     busy_until, duration_minutes, buffer_minutes, price,
                                     status, created_at, updated_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'active', ?, ?)""",
            (
                client_id,
                service_id,
                specialist_id,
                start_ts,
                end_ts,
                busy_until,
                svc["duration_minutes"],
                svc["buffer_minutes"],
                svc["price"],
                now_ts,
                now_ts,
            ),
        )
        booking_id = cursor.lastrowid
        reminders = []
        for offset in RULES.reminder_offsets:
            due = start_ts - offset * 60
            status = "pending" if due > now_ts else "skipped"
            reminders.append((booking_id, offset, due, status, now_ts))
        await conn.executemany(
            """INSERT INTO reminders (booking_id, kind, offset_minutes, due_at, status,
                                      updated_at)
               VALUES (?, 'reminder', ?, ?, ?, ?)""",
            reminders,
        )
        details = json.dumps(
            {"start": start.isoformat(), "service_id": service_id, "specialist_id": specialist_id},
            sort_keys=True,
        )
        await conn.execute(
            """INSERT INTO audit_log (at, actor_id, actor_role, action, entity, entity_id,
                                      details)
               VALUES (?, ?, 'client', 'booking.created', 'booking', ?, ?)""",
            (now_ts, client_id, booking_id, details),
        )
        await conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            await conn.execute("ROLLBACK")
        raise
    return "booked"


async def run_baseline_level(
    setup: Contended, clients: int, concurrency: int, budget_s: float
) -> RunResult:
    result = RunResult("baseline (a)", concurrency, clients)
    latencies: list[float] = []
    outcomes: Counter[str] = Counter()
    gate = asyncio.Semaphore(concurrency)
    now = NOW
    retries = 0

    async def attempt(i: int) -> None:
        nonlocal retries
        start = setup.starts[i % len(setup.starts)]
        client_id = CLIENT_BASE + i
        async with gate:
            began = perf_counter()
            outcome = "error"
            try:
                async with aiosqlite.connect(setup.path, isolation_level=None) as conn:
                    await _on_thread(conn, lambda raw: configure(raw, BUSY_TIMEOUT_MS))
                    for n in range(BASELINE_TRIES):
                        try:
                            outcome = await _baseline_tx(
                                conn, client_id, setup.service_id, setup.specialist_id, start, now
                            )
                            break
                        except sqlite3.OperationalError as exc:
                            if not is_busy_error(exc):
                                raise
                            if n == BASELINE_TRIES - 1:
                                outcome = "gave_up_locked"
                                break
                            retries += 1
                            await asyncio.sleep(BASELINE_DELAY * 2**n)
            except Exception as exc:
                key = f"{type(exc).__name__}: {exc}"[:120]
                result.errors[key] = result.errors.get(key, 0) + 1
            latencies.append(perf_counter() - began)
            outcomes[outcome] += 1

    tasks = [asyncio.ensure_future(attempt(i)) for i in range(clients)]
    began = perf_counter()
    _done, pending = await asyncio.wait(tasks, timeout=budget_s)
    wall = perf_counter() - began
    if pending:
        result.status = "timeout"
        result.note = f"not finished after {budget_s:.0f} s: {len(latencies)}/{clients} done"
        for task in pending:
            task.cancel()
        # Let cancelled attempts close their connections (a thread may sit in busy_timeout).
        await asyncio.gather(*pending, return_exceptions=True)
    result.finish(wall, latencies, outcomes)
    result.retries = retries
    if result.status == "ok" and (result.errors or outcomes.get("gave_up_locked")):
        result.status = "broken"
        result.note = (
            f"{sum(result.errors.values())} errors, {outcomes.get('gave_up_locked', 0)} gave up"
            " after every retry"
        )
    check_result(result, setup.path)
    return result
