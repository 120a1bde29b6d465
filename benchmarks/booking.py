"""Booking throughput under contention, and calendar speed with 10,000 stored bookings.

    python -m benchmarks.booking [--clients 2000] [--starts 200] [--dir benchmarks/results]
                                 [--json PATH] [--skip-baseline]

Part 1, the contended workload: one fresh migrated database whose single specialist has
exactly ``--starts`` free start times in the booking horizon, then ``--clients`` distinct clients
at once, client i booking start i % starts. Exactly ``--starts`` attempts can succeed. It runs
three ways, each on its own fresh database file:

* ours      BookingService on the real Database (one writer connection fed by a queue; units
            of work that queue up go to its thread together, each in its own transaction);
* baseline  what simple bots do: a new aiosqlite connection per attempt and one awaited
            statement at a time inside BEGIN IMMEDIATE, retried with backoff when locked;
* limit     BookingService's own transactions run one after another on one plain sqlite3
            connection in the main thread: same SQL, same pragmas, no concurrency overhead.

Part 2: ``calendar`` and ``free_times`` on a database holding 10,000 active bookings.

The clock is fixed (Tuesday 2026-12-01 08:00, Europe/Moscow), so results do not depend on
today's date. Database files live in ``--dir`` (keep it on a real disk, not tmpfs: fsync is
part of the cost) and are deleted at the end. The script prints a table, writes JSON, and exits
non-zero only when a correctness check fails (successes, overlaps), never for speed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import random
import sqlite3
import statistics
import sys
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from time import perf_counter
from typing import Any, TypeVar, cast

import aiosqlite
from pytz.tzinfo import BaseTzInfo

from database.connection import (
    Database,
    Work,
    _on_thread,
    configure,
    connect_sync,
    run_in_transaction,
)
from database.db_retry import is_busy_error
from database.migrate import migrate
from database.migrations.base import MigrationContext
from database.models import Actor
from services.booking import BookingRules, BookingService
from services.catalog import CatalogService
from services.schedule import ScheduleService
from services.slots import SlotRules
from utils.hours import parse_weekly
from utils.timeutil import FakeClock, get_tz, localize_strict, to_ts

T = TypeVar("T")

TZ: BaseTzInfo = get_tz("Europe/Moscow")
TODAY = date(2026, 12, 1)  # a Tuesday
HOURS = "mon-sun 08:00-18:00"
OPEN_MINUTE, CLOSE_MINUTE = 8 * 60, 18 * 60
DURATION = 60
BUSY_TIMEOUT_MS = 5000
ADMIN = Actor.admin(1000)
CLIENT_BASE = 10_000
RULES = BookingRules(
    slots=SlotRules(step_minutes=60, min_lead_minutes=60, horizon_days=30),
    max_active_per_client=3,
    cancel_cutoff_minutes=120,
    reminder_offsets=(1440, 120),
)

# Baseline (a): retry on "database is locked", 0.05 s x 2^n, at most this many tries.
BASELINE_TRIES = 10
BASELINE_DELAY = 0.05
BASELINE_LEVELS = (2000, 200, 50)

# Part 2.
CAL_SPECIALISTS = 20
CAL_BOOKINGS = 10_000
CAL_CLIENTS = 3_000
CAL_WARMUP = 3
CAL_RUNS = 50

OVERLAPS_SQL = """
SELECT count(*) FROM bookings a JOIN bookings b
  ON a.specialist_id = b.specialist_id AND a.id < b.id
 AND a.start_at < b.busy_until AND b.start_at < a.busy_until
WHERE a.status = 'active' AND b.status = 'active'
"""


def at(day: date, minute: int) -> datetime:
    """The instant of a local wall time (minutes from midnight) in TZ; it must exist."""
    moment = localize_strict(TZ, datetime.combine(day, time(0, 0)) + timedelta(minutes=minute))
    if moment is None:
        raise ValueError(f"{day} {minute // 60:02d}:{minute % 60:02d} does not exist in {TZ}")
    return moment


NOW = at(TODAY, 8 * 60)


def new_clock() -> FakeClock:
    return FakeClock(NOW)


# ---------------------------------------------------------------- files


def db_files(path: Path) -> list[Path]:
    return [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]


def remove_db(path: Path) -> None:
    for file in db_files(path):
        file.unlink(missing_ok=True)


def fresh_path(directory: Path, name: str, created: list[Path]) -> Path:
    path = directory / f"bench-{name}.db"
    remove_db(path)
    created.append(path)
    return path


# ---------------------------------------------------------------- numbers


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


@dataclass
class RunResult:
    name: str
    concurrency: int
    clients: int
    wall_s: float = math.nan
    attempts_per_s: float = math.nan
    bookings_per_s: float = math.nan
    p50_ms: float = math.nan
    p99_ms: float = math.nan
    successes: int = 0
    overlaps: int = -1
    active_rows: int = -1
    completed: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    retries: int = 0
    status: str = "ok"  # ok | timeout | broken | skipped
    note: str = ""

    def finish(self, wall: float, latencies: Sequence[float], outcomes: Counter[str]) -> None:
        self.wall_s = wall
        self.completed = len(latencies)
        self.attempts_per_s = self.completed / wall if wall > 0 else math.nan
        self.successes = outcomes.get("booked", 0)
        self.bookings_per_s = self.successes / wall if wall > 0 else math.nan
        self.p50_ms = percentile(latencies, 50) * 1000
        self.p99_ms = percentile(latencies, 99) * 1000
        self.outcomes = dict(sorted(outcomes.items()))


def count_overlaps(path: Path) -> tuple[int, int]:
    """(overlapping pairs of active bookings of one specialist, active bookings)."""
    conn = connect_sync(path, BUSY_TIMEOUT_MS)
    try:
        overlaps = int(conn.execute(OVERLAPS_SQL).fetchone()[0])
        active = int(
            conn.execute("SELECT count(*) FROM bookings WHERE status = 'active'").fetchone()[0]
        )
    finally:
        conn.close()
    return overlaps, active


# ---------------------------------------------------------------- the limit's database


class InlineDatabase:
    """Database's write/read interface on one plain sqlite3 connection, in the calling thread.

    No thread, no lock: every unit of work runs right away, so a plain ``for`` loop of
    ``await service.book(...)`` measures the SQL and the Python of the transactions alone.
    """

    def __init__(self, path: Path) -> None:
        self.conn = connect_sync(path, BUSY_TIMEOUT_MS)

    async def write(self, work: Work[T], label: str = "write") -> T:
        return run_in_transaction(self.conn, work, "BEGIN IMMEDIATE")

    async def read(self, work: Work[T], label: str = "read") -> T:
        return run_in_transaction(self.conn, work, "BEGIN")

    def close(self) -> None:
        self.conn.close()


# ---------------------------------------------------------------- part 1: setup


@dataclass(frozen=True)
class Contended:
    path: Path
    service_id: int
    specialist_id: int
    starts: list[datetime]


async def prepare_contended(path: Path, wanted: int) -> Contended:
    """A fresh database with one specialist and exactly ``wanted`` free starts in the horizon.

    Weekly hours give 10 starts a day. Today is closed (the lead time would leave it partial),
    then whole days stay open until ``wanted`` is reached (the last one trimmed with custom
    hours if needed) and the rest of the horizon is closed, with date exceptions.
    """
    migrate(path, MigrationContext(tz=TZ, now=NOW))
    clock = new_clock()
    async with Database(path, busy_timeout_ms=BUSY_TIMEOUT_MS) as db:
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
        booking = BookingService(db, TZ, RULES, clock)
        last = RULES.slots.last_bookable_day(TZ, NOW)
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
    return Contended(path, service.id, specialists[0], starts)


def check_result(result: RunResult, path: Path) -> None:
    result.overlaps, result.active_rows = count_overlaps(path)


# ---------------------------------------------------------------- part 1: the three runs


async def run_ours(setup: Contended, clients: int) -> RunResult:
    result = RunResult("ours", clients, clients)
    latencies: list[float] = []
    outcomes: Counter[str] = Counter()
    async with Database(setup.path, busy_timeout_ms=BUSY_TIMEOUT_MS) as db:
        service = BookingService(db, TZ, RULES, new_clock())

        async def attempt(i: int) -> None:
            start = setup.starts[i % len(setup.starts)]
            began = perf_counter()
            try:
                booked = await service.book(CLIENT_BASE + i, setup.service_id, start)
                outcomes[booked.outcome.value] += 1
            except Exception as exc:
                result.errors[type(exc).__name__] = result.errors.get(type(exc).__name__, 0) + 1
                outcomes["error"] += 1
            latencies.append(perf_counter() - began)

        began = perf_counter()
        await asyncio.gather(*(attempt(i) for i in range(clients)))
        wall = perf_counter() - began
    result.finish(wall, latencies, outcomes)
    check_result(result, setup.path)
    return result


async def run_limit(setup: Contended, clients: int) -> RunResult:
    result = RunResult("limit (b)", 1, clients)
    latencies: list[float] = []
    outcomes: Counter[str] = Counter()
    inline = InlineDatabase(setup.path)
    try:
        service = BookingService(cast(Database, inline), TZ, RULES, new_clock())
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
        # The clients row is needed by the foreign key (BookingService does the same).
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


# ---------------------------------------------------------------- part 2: calendar


@dataclass
class Timing:
    name: str
    median_ms: float
    p95_ms: float
    min_ms: float
    result_size: int


async def timed(name: str, call: Callable[[], Awaitable[Any]]) -> Timing:
    for _ in range(CAL_WARMUP):
        await call()
    samples: list[float] = []
    size = 0
    for _ in range(CAL_RUNS):
        began = perf_counter()
        value = await call()
        samples.append(perf_counter() - began)
        size = len(value)
    return Timing(
        name,
        statistics.median(samples) * 1000,
        percentile(samples, 95) * 1000,
        min(samples) * 1000,
        size,
    )


def _december_plan(rng: random.Random) -> dict[date, float]:
    """Share of each December day's slots that is booked: realistic, with some full days."""
    plan: dict[date, float] = {}
    for n in range(31):
        day = TODAY + timedelta(days=n)
        if day.weekday() == 5 or day == date(2026, 12, 31):
            plan[day] = 1.0  # Saturdays and New Year's Eve: fully booked
        elif day.day in (2, 14, 23):
            plan[day] = 0.15  # a few quiet days
        else:
            plan[day] = rng.uniform(0.4, 0.8)
    return plan


async def prepare_calendar(path: Path) -> tuple[int, dict[str, Any]]:
    """20 specialists with the same hours, one service, 10,000 active bookings."""
    migrate(path, MigrationContext(tz=TZ, now=NOW))
    clock = new_clock()
    rng = random.Random(20261201)
    async with Database(path, busy_timeout_ms=BUSY_TIMEOUT_MS) as db:

        def add_specialists(conn: sqlite3.Connection) -> None:
            conn.executemany(
                "INSERT INTO specialists (name, sort_order, created_at) VALUES (?, ?, ?)",
                [(f"Specialist {n}", n, to_ts(NOW)) for n in range(2, CAL_SPECIALISTS + 1)],
            )

        await db.write(add_specialists, "bench.specialists")
        await ScheduleService(db, clock).seed_weekly_hours(parse_weekly(HOURS))
        service = await CatalogService(db, clock).add(
            ADMIN, name="Haircut", duration_minutes=DURATION, price=1500
        )
        ids = await db.read(
            lambda c: [int(r[0]) for r in c.execute("SELECT id FROM specialists ORDER BY id")]
        )
        hours = range(OPEN_MINUTE, CLOSE_MINUTE, DURATION)

        chosen: list[tuple[int, datetime]] = []
        plan = _december_plan(rng)
        for day, share in plan.items():
            for sid in ids:
                for minute in hours:
                    if share >= 1.0 or rng.random() < share:
                        chosen.append((sid, at(day, minute)))
        december = len(chosen)
        past_first = date(2026, 1, 1)
        past_days = [past_first + timedelta(days=n) for n in range((TODAY - past_first).days)]
        slots_per_day = len(ids) * len(hours)
        picks = rng.sample(range(len(past_days) * slots_per_day), CAL_BOOKINGS - december)
        for pick in picks:
            day_index, rest = divmod(pick, slots_per_day)
            sid_index, hour_index = divmod(rest, len(hours))
            chosen.append((ids[sid_index], at(past_days[day_index], hours[hour_index])))

        now_ts = to_ts(NOW)
        client_ids = [100_000 + n for n in range(CAL_CLIENTS)]
        rows = []
        for sid, start in chosen:
            start_ts = to_ts(start)
            created = min(now_ts, start_ts - 86400 * rng.randint(1, 14))
            rows.append(
                (
                    rng.choice(client_ids),
                    service.id,
                    sid,
                    start_ts,
                    start_ts + DURATION * 60,
                    start_ts + DURATION * 60,
                    DURATION,
                    service.price,
                    created,
                    created,
                )
            )

        def insert(conn: sqlite3.Connection) -> None:
            conn.executemany(
                "INSERT INTO clients (id, first_name, created_at, updated_at) VALUES (?, ?, ?, ?)",
                [(cid, f"Client {cid}", now_ts, now_ts) for cid in client_ids],
            )
            conn.executemany(
                """INSERT INTO bookings (client_id, service_id, specialist_id, start_at, end_at,
                                         busy_until, duration_minutes, price, status,
                                         created_at, updated_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'active', ?, ?)""",
                rows,
            )

        began = perf_counter()
        await db.write(insert, "bench.bookings")
        insert_s = perf_counter() - began
        stored = await db.read(
            lambda c: int(
                c.execute("SELECT count(*) FROM bookings WHERE status = 'active'").fetchone()[0]
            )
        )
    full_days = sorted(d.isoformat() for d, share in plan.items() if share >= 1.0)
    info = {
        "specialists": len(ids),
        "active_bookings": stored,
        "december_bookings": december,
        "december_slots": 31 * slots_per_day,
        "fully_booked_days": full_days,
        "insert_seconds": round(insert_s, 3),
    }
    return service.id, info


async def run_calendar(path: Path) -> tuple[list[Timing], dict[str, Any]]:
    service_id, info = await prepare_calendar(path)
    day = date(2026, 12, 10)  # a partly booked Thursday
    info["free_times_day"] = day.isoformat()
    async with Database(path, busy_timeout_ms=BUSY_TIMEOUT_MS) as db:
        service = BookingService(db, TZ, RULES, new_clock())
        year, month = TODAY.year, TODAY.month
        timings = [
            await timed(
                "calendar, any specialist", lambda: service.calendar(service_id, year, month)
            ),
            await timed(
                "calendar, one specialist",
                lambda: service.calendar(service_id, year, month, specialist_id=1),
            ),
            await timed(
                f"free_times {day:%d.%m}, any", lambda: service.free_times(service_id, day)
            ),
            await timed(
                f"free_times {day:%d.%m}, one",
                lambda: service.free_times(service_id, day, specialist_id=1),
            ),
        ]
    return timings, info


# ---------------------------------------------------------------- report


def machine_info() -> dict[str, Any]:
    cpu = None
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text(errors="replace").splitlines():
            if line.lower().startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "platform": platform.platform(),
        "cpu_model": cpu or platform.processor() or None,
        "cpu_count": os.cpu_count(),
        "python": sys.version.split()[0],
        "sqlite": sqlite3.sqlite_version,
        "aiosqlite": getattr(aiosqlite, "__version__", None),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def fmt(value: float, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:,.{digits}f}"


def print_runs(runs: Sequence[RunResult], expected: int) -> None:
    header = (
        f"{'run':<14}{'conc':>6}{'wall s':>9}{'attempts/s':>12}{'bookings/s':>12}"
        f"{'p50 ms':>10}{'p99 ms':>10}{'success':>9}{'overlap':>9}  status"
    )
    print(header)
    print("-" * len(header))
    for r in runs:
        success = f"{r.successes}/{expected}"
        print(
            f"{r.name:<14}{r.concurrency:>6}{fmt(r.wall_s, 2):>9}{fmt(r.attempts_per_s):>12}"
            f"{fmt(r.bookings_per_s):>12}{fmt(r.p50_ms):>10}{fmt(r.p99_ms):>10}"
            f"{success:>9}{r.overlaps:>9}  {r.status}{' - ' + r.note if r.note else ''}"
        )
        if r.errors:
            for key, count in sorted(r.errors.items(), key=lambda kv: -kv[1])[:5]:
                print(f"{'':<14}error x{count}: {key}")


def ratio(a: float, b: float) -> float:
    if not b or math.isnan(a) or math.isnan(b):
        return math.nan
    return a / b


@dataclass
class Goal:
    name: str
    passed: bool | None  # None: not measured
    value: str
    correctness: bool


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.booking",
        description="Booking throughput under contention, and calendar speed.",
    )
    parser.add_argument("--clients", type=int, default=2000, help="concurrent clients (2000)")
    parser.add_argument("--starts", type=int, default=200, help="free start times (200)")
    parser.add_argument(
        "--dir",
        type=Path,
        default=Path("benchmarks/results"),
        help="database files go here, on a real disk (benchmarks/results)",
    )
    parser.add_argument("--json", type=Path, default=None, help="results file (DIR/booking.json)")
    parser.add_argument("--skip-baseline", action="store_true", help="skip baseline (a)")
    parser.add_argument(
        "--baseline-budget",
        type=float,
        default=180.0,
        help="seconds one baseline run may take before a lower concurrency is tried (180)",
    )
    args = parser.parse_args(argv)
    if args.clients < 1 or args.starts < 1:
        parser.error("--clients and --starts must be positive")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    directory: Path = args.dir.resolve()
    directory.mkdir(parents=True, exist_ok=True)
    json_path: Path = args.json or args.dir / "booking.json"
    machine = machine_info()
    print(
        f"booking benchmark: {machine['platform']}, {machine['cpu_model']} x{machine['cpu_count']},"
        f" Python {machine['python']}, SQLite {machine['sqlite']}, {machine['date']}"
    )
    print(
        f"contended workload: {args.clients} clients at once on {args.starts} starts"
        f" ({args.clients / args.starts:g} per start), clock fixed at {NOW.astimezone(TZ)}"
    )
    print(f"database files in {directory}")
    print()
    created: list[Path] = []
    try:
        report, goals = asyncio.run(run(args, directory, created))
    finally:
        for path in created:
            remove_db(path)
    report["machine"] = machine
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(_clean(report), indent=2, ensure_ascii=False) + "\n")
    print()
    print(f"results written to {json_path}")
    failed = [g.name for g in goals if g.correctness and not g.passed]
    if failed:
        print(f"CORRECTNESS FAILURE: {'; '.join(failed)}", file=sys.stderr)
        return 1
    return 0


async def run(
    args: argparse.Namespace, directory: Path, created: list[Path]
) -> tuple[dict[str, Any], list[Goal]]:
    runs: list[RunResult] = []
    setup = await prepare_contended(fresh_path(directory, "ours", created), args.starts)
    ours = await run_ours(setup, args.clients)
    runs.append(ours)

    baseline: RunResult | None = None
    baseline_tries: list[RunResult] = []
    if not args.skip_baseline:
        levels = sorted({min(c, args.clients) for c in BASELINE_LEVELS}, reverse=True)
        for level in levels:
            name = f"baseline-{level}"
            setup_b = await prepare_contended(fresh_path(directory, name, created), args.starts)
            print(f"baseline (a): concurrency {level} ...", flush=True)
            attempt = await run_baseline_level(setup_b, args.clients, level, args.baseline_budget)
            baseline_tries.append(attempt)
            print(
                f"  {attempt.status}: {attempt.completed}/{args.clients} attempts in"
                f" {attempt.wall_s:.1f} s, {attempt.successes} bookings"
                f"{', ' + attempt.note if attempt.note else ''}",
                flush=True,
            )
            remove_db(setup_b.path)
            if attempt.status == "ok":
                break
        baseline = baseline_tries[-1]
        runs.append(baseline)

    setup_l = await prepare_contended(fresh_path(directory, "limit", created), args.starts)
    limit = await run_limit(setup_l, args.clients)
    runs.append(limit)

    print()
    print_runs(runs, min(args.clients, args.starts))
    if baseline is not None and len(baseline_tries) > 1:
        for earlier in baseline_tries[:-1]:
            print(
                f"  (baseline at concurrency {earlier.concurrency}: {earlier.status},"
                f" {earlier.note})"
            )
    ours_vs_base = ratio(ours.attempts_per_s, baseline.attempts_per_s) if baseline else math.nan
    ours_vs_limit = ratio(ours.attempts_per_s, limit.attempts_per_s)
    print()
    print(f"ours / baseline (attempts/s): {fmt(ours_vs_base, 1)}x")
    print(f"ours / limit    (attempts/s): {fmt(ours_vs_limit, 2)}x")

    print()
    print("calendar with 10,000 bookings ...", flush=True)
    timings, cal_info = await run_calendar(fresh_path(directory, "calendar", created))
    print(
        f"  {cal_info['active_bookings']} active bookings, {cal_info['specialists']}"
        f" specialists; December: {cal_info['december_bookings']} of"
        f" {cal_info['december_slots']} slots booked,"
        f" fully booked {', '.join(d[-5:] for d in cal_info['fully_booked_days'])}"
    )
    print(f"  {'call':<28}{'median ms':>11}{'p95 ms':>9}{'min ms':>9}{'result':>8}")
    for t in timings:
        print(
            f"  {t.name:<28}{fmt(t.median_ms, 2):>11}{fmt(t.p95_ms, 2):>9}"
            f"{fmt(t.min_ms, 2):>9}{t.result_size:>8}"
        )

    expected = min(args.clients, args.starts)  # every start, or every client, booked once
    correct_runs = [ours, limit] + ([baseline] if baseline else [])
    goals = [
        Goal(
            "0 overlaps (every run)",
            all(r.overlaps == 0 for r in correct_runs),
            ", ".join(f"{r.name}: {r.overlaps}" for r in correct_runs),
            True,
        ),
        Goal(
            f"exactly {expected} successes (ours, limit)",
            ours.successes == expected and limit.successes == expected,
            f"ours {ours.successes}, limit {limit.successes}",
            True,
        ),
        Goal(
            "ours >= 2,000 attempts/s",
            ours.attempts_per_s >= 2000,
            fmt(ours.attempts_per_s),
            False,
        ),
        Goal(
            "ours >= 10x baseline",
            None if baseline is None else ours_vs_base >= 10,
            fmt(ours_vs_base) + "x",
            False,
        ),
        Goal("ours >= 0.5x limit", ours_vs_limit >= 0.5, fmt(ours_vs_limit, 2) + "x", False),
        Goal(
            "calendar median < 10 ms",
            timings[0].median_ms < 10,
            f"{fmt(timings[0].median_ms, 2)} ms",
            False,
        ),
    ]
    if baseline is not None:
        goals.append(
            Goal(
                f"baseline: {expected} successes (informative)",
                baseline.successes == expected,
                str(baseline.successes),
                False,
            )
        )
    print()
    print("goals:")
    for g in goals:
        verdict = "n/a " if g.passed is None else ("PASS" if g.passed else "FAIL")
        print(f"  {verdict}  {g.name:<44} {g.value}")

    report: dict[str, Any] = {
        "params": {
            "clients": args.clients,
            "starts": args.starts,
            "now": NOW.isoformat(),
            "tz": str(TZ),
            "hours": HOURS,
            "rules": {
                "step_minutes": RULES.slots.step_minutes,
                "min_lead_minutes": RULES.slots.min_lead_minutes,
                "horizon_days": RULES.slots.horizon_days,
                "max_active_per_client": RULES.max_active_per_client,
            },
            "pragmas": {
                "journal_mode": "wal",
                "synchronous": "full",
                "foreign_keys": "on",
                "busy_timeout_ms": BUSY_TIMEOUT_MS,
            },
            "baseline_tries": BASELINE_TRIES,
            "baseline_delay_s": BASELINE_DELAY,
            "directory": str(directory),
        },
        "contended": {r.name: asdict(r) for r in runs},
        "baseline_attempts": [asdict(r) for r in baseline_tries],
        "ratios": {"ours_over_baseline": ours_vs_base, "ours_over_limit": ours_vs_limit},
        "calendar": {"setup": cal_info, "timings": [asdict(t) for t in timings]},
        "goals": [asdict(g) for g in goals],
    }
    return report, goals


def _clean(value: object) -> object:
    """JSON-safe: NaN becomes null, floats are rounded, dates and paths become strings."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, 3)
    if value is None or isinstance(value, bool | int | str):
        return value
    return str(value)


if __name__ == "__main__":
    sys.exit(main())
