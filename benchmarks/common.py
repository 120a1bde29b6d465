"""What the booking benchmarks share: the fixed clock and rules, database files, numbers,
timings, the report helpers and the machine's description."""

from __future__ import annotations

import math
import os
import platform
import sqlite3
import statistics
import sys
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from time import perf_counter
from typing import Any, TypeVar

import aiosqlite
from pytz.tzinfo import BaseTzInfo

from database.engine import Conn, Database, Work
from database.sqlite import connect_sync, run_in_transaction
from domain.actors import Actor
from domain.rules import Rules
from utils.timeutil import Clock, get_tz, localize_strict

T = TypeVar("T")

TZ: BaseTzInfo = get_tz("Europe/Moscow")
TODAY = date(2026, 12, 1)  # a Tuesday
HOURS = "mon-sun 08:00-18:00"
OPEN_MINUTE, CLOSE_MINUTE = 8 * 60, 18 * 60
DURATION = 60
BUSY_TIMEOUT_MS = 5000
ADMIN = Actor.admin(1000)
CLIENT_BASE = 10_000
RULES = Rules(
    TZ,
    step_minutes=60,
    min_lead_minutes=60,
    horizon_days=30,
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


def new_clock() -> Clock:
    """The benchmark's clock stands still: results do not depend on today's date."""
    return lambda: NOW


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


def _overlaps(conn: Conn) -> tuple[int, int]:
    """(overlapping pairs of active bookings of one specialist, active bookings)."""
    overlaps = int(conn.execute(OVERLAPS_SQL).fetchone()[0])
    active = int(
        conn.execute("SELECT count(*) FROM bookings WHERE status = 'active'").fetchone()[0]
    )
    return overlaps, active


async def count_overlaps(db: Database) -> tuple[int, int]:
    return await db.read(_overlaps, "bench.overlaps")


def count_overlaps_in_file(path: Path) -> tuple[int, int]:
    conn = connect_sync(path, BUSY_TIMEOUT_MS)
    try:
        return _overlaps(conn)
    finally:
        conn.close()


# ---------------------------------------------------------------- the limit's database


class InlineDatabase:
    """Database's write/read interface on one plain sqlite3 connection, in the calling thread.

    No thread, no lock: every unit of work runs right away, so a plain ``for`` loop of
    ``await service.book(...)`` measures the SQL and the Python of the transactions alone.
    """

    def __init__(self, path: Path, synchronous: str = "FULL") -> None:
        self.conn = connect_sync(path, BUSY_TIMEOUT_MS)
        if synchronous != "FULL":  # what a commit would cost without waiting for the disk
            self.conn.execute(f"PRAGMA synchronous = {synchronous}")

    async def write(self, work: Work[T], label: str = "write") -> T:
        return run_in_transaction(self.conn, work, "BEGIN IMMEDIATE")

    async def read(self, work: Work[T], label: str = "read") -> T:
        return run_in_transaction(self.conn, work, "BEGIN")

    def close(self) -> None:
        self.conn.close()


# ---------------------------------------------------------------- timings


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


def fsync_cost_us(directory: Path, rounds: int = 200) -> float:
    """Median microseconds to append 4 KiB to a file in ``directory`` and fsync it: what the
    disk makes each durable commit wait for (SQLite's WAL append and sync are about this)."""
    path = directory / "fsync-probe.tmp"
    samples: list[float] = []
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        block = b"\0" * 4096
        for _ in range(rounds):
            began = perf_counter()
            os.write(fd, block)
            os.fsync(fd)
            samples.append(perf_counter() - began)
    finally:
        os.close(fd)
        path.unlink(missing_ok=True)
    return percentile(samples, 50) * 1e6


def fmt(value: float, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:,.{digits}f}"


def print_runs(runs: Sequence[RunResult], expected: int) -> None:
    header = (
        f"{'run':<16}{'conc':>6}{'wall s':>9}{'attempts/s':>12}{'bookings/s':>12}"
        f"{'p50 ms':>10}{'p99 ms':>10}{'success':>9}{'overlap':>9}  status"
    )
    print(header)
    print("-" * len(header))
    for r in runs:
        success = f"{r.successes}/{expected}"
        print(
            f"{r.name:<16}{r.concurrency:>6}{fmt(r.wall_s, 2):>9}{fmt(r.attempts_per_s):>12}"
            f"{fmt(r.bookings_per_s):>12}{fmt(r.p50_ms):>10}{fmt(r.p99_ms):>10}"
            f"{success:>9}{r.overlaps:>9}  {r.status}{' - ' + r.note if r.note else ''}"
        )
        if r.errors:
            for key, count in sorted(r.errors.items(), key=lambda kv: -kv[1])[:5]:
                print(f"{'':<16}error x{count}: {key}")


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


def clean(value: object) -> object:
    """JSON-safe: NaN becomes null, floats are rounded, dates and paths become strings."""
    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, 3)
    if value is None or isinstance(value, bool | int | str):
        return value
    return str(value)
