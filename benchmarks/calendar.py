"""Part 2: the month calendar and one day's free times on a database holding 10,000 active
bookings of 20 specialists (benchmarks/booking.py), and the calendar's cost against the table's
size: ``python -m benchmarks.calendar`` times it at 1,000, 10,000 and 100,000 bookings, writes
benchmarks/results/calendar.json, and with ``--plot FILE`` draws the curve (matplotlib)."""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import random
import statistics
from collections.abc import Awaitable
from datetime import date, datetime, timedelta
from functools import partial
from pathlib import Path
from time import perf_counter
from typing import Any

from benchmarks.common import (
    ADMIN,
    BUSY_TIMEOUT_MS,
    CAL_BOOKINGS,
    CAL_CLIENTS,
    CAL_RUNS,
    CAL_SPECIALISTS,
    CAL_WARMUP,
    CLOSE_MINUTE,
    DURATION,
    HOURS,
    NOW,
    OPEN_MINUTE,
    RULES,
    TODAY,
    TZ,
    Timing,
    at,
    new_clock,
    percentile,
    remove_db,
    timed,
)
from database.engine import Conn
from database.migrate import migrate
from database.migrations.base import MigrationContext
from database.sqlite import SqliteDatabase
from services.booking import ClientBookingService
from services.calendar import MonthCache
from services.catalog import CatalogService
from services.schedule import ScheduleService
from utils.hours import parse_weekly
from utils.timeutil import to_ts


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


async def prepare_calendar(path: Path, total: int = CAL_BOOKINGS) -> tuple[int, dict[str, Any]]:
    """20 specialists with the same hours, one service, ``total`` active bookings: December
    as _december_plan() books it (a random part of it when ``total`` is smaller), the rest on
    earlier days, at most half of their slots."""
    migrate(path, MigrationContext(tz=TZ, now=NOW))
    clock = new_clock()
    rng = random.Random(20261201)
    async with SqliteDatabase(path, busy_timeout_ms=BUSY_TIMEOUT_MS) as db:

        def add_specialists(conn: Conn) -> None:
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
        sampled = len(chosen) > total
        if sampled:
            chosen = rng.sample(chosen, total)
        december = len(chosen)
        slots_per_day = len(ids) * len(hours)
        past = max(334, math.ceil(2 * (total - december) / slots_per_day))
        past_days = [TODAY - timedelta(days=n) for n in range(past, 0, -1)]
        picks = rng.sample(range(len(past_days) * slots_per_day), total - december)
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

        def insert(conn: Conn) -> None:
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
    full_days = [] if sampled else sorted(d.isoformat() for d, s in plan.items() if s >= 1.0)
    info = {
        "specialists": len(ids),
        "active_bookings": stored,
        "december_bookings": december,
        "december_slots": 31 * slots_per_day,
        "fully_booked_days": full_days,
        "insert_seconds": round(insert_s, 3),
    }
    return service.id, info


async def run_calendar(
    path: Path, total: int = CAL_BOOKINGS
) -> tuple[list[Timing], dict[str, Any]]:
    service_id, info = await prepare_calendar(path, total)
    day = date(2026, 12, 10)  # a partly booked Thursday
    info["free_times_day"] = day.isoformat()
    async with SqliteDatabase(path, busy_timeout_ms=BUSY_TIMEOUT_MS) as db:
        service = ClientBookingService(db, RULES, new_clock())
        year, month = TODAY.year, TODAY.month

        def afresh() -> Awaitable[set[date]]:
            service.months = MonthCache()  # as the first read after a start
            return service.calendar(service_id, year, month)

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
            await timed("calendar, any, computed afresh", afresh),
            await _after_each_change(db, service, service_id),
        ]
    return timings, info


async def _after_each_change(
    db: SqliteDatabase, service: ClientBookingService, service_id: int
) -> Timing:
    """The calendar read right after one specialist's free time changed (a booking, say, in
    this process or another): that specialist's month is computed again, the others kept."""
    ids = await db.read(lambda c: [int(r[0]) for r in c.execute("SELECT id FROM specialists")])
    samples: list[float] = []
    size = 0
    for n in range(CAL_WARMUP + CAL_RUNS):
        sid = ids[n % len(ids)]
        await db.write(partial(_bump, specialist_id=sid))
        began = perf_counter()
        size = len(await service.calendar(service_id, TODAY.year, TODAY.month))
        if n >= CAL_WARMUP:
            samples.append(perf_counter() - began)
    return Timing(
        "calendar, any, after a change",
        statistics.median(samples) * 1000,
        percentile(samples, 95) * 1000,
        min(samples) * 1000,
        size,
    )


def _bump(conn: Conn, specialist_id: int) -> None:
    conn.execute(
        "INSERT INTO calendar_versions (specialist_id, version) VALUES (?, 1)"
        " ON CONFLICT (specialist_id) DO UPDATE SET version = calendar_versions.version + 1",
        (specialist_id,),
    )


SIZES = (1_000, 10_000, 100_000)
CURVE_CALLS = (
    "calendar, any specialist",
    "calendar, any, after a change",
    "calendar, any, computed afresh",
)


async def run_curve(directory: Path, sizes: tuple[int, ...] = SIZES) -> list[dict[str, Any]]:
    """The calendar at each table size: the median of each way it is read."""
    curve = []
    for total in sizes:
        path = directory / f"bench-calendar-{total}.db"
        remove_db(path)
        timings, info = await run_calendar(path, total)
        by_name = {t.name: t.median_ms for t in timings}
        curve.append(
            {
                "bookings": info["active_bookings"],
                "december_bookings": info["december_bookings"],
                **{name: by_name[name] for name in CURVE_CALLS},
            }
        )
        remove_db(path)
    return curve


def plot(curve: list[dict[str, Any]], target: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    figure, axes = pyplot.subplots(figsize=(7, 4), dpi=100)
    sizes = [point["bookings"] for point in curve]
    for name in CURVE_CALLS:
        axes.plot(sizes, [point[name] for point in curve], marker="o", label=name)
    axes.axhline(2.0, color="grey", linestyle="--", linewidth=1, label="goal: 2 ms")
    axes.set_xscale("log")
    axes.set_xlabel("active bookings stored (20 specialists)")
    axes.set_ylabel("median ms per month view")
    axes.set_title("Month calendar for any specialist, by table size")
    axes.legend()
    axes.grid(True, which="both", alpha=0.3)
    figure.tight_layout()
    figure.savefig(target)
    pyplot.close(figure)


def main() -> None:
    parser = argparse.ArgumentParser(description="The month calendar against the table's size.")
    parser.add_argument("--dir", type=Path, default=Path("benchmarks/results"))
    parser.add_argument("--plot", type=Path, help="draw the curve into this PNG")
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    curve = asyncio.run(run_curve(args.dir))
    print(f"{'bookings':>9}{'december':>10}" + "".join(f"{n[10:]:>26}" for n in CURVE_CALLS))
    for point in curve:
        print(
            f"{point['bookings']:>9}{point['december_bookings']:>10}"
            + "".join(f"{point[n]:>23.2f} ms" for n in CURVE_CALLS)
        )
    (args.dir / "calendar.json").write_text(json.dumps({"curve": curve}, indent=2) + "\n")
    if args.plot:
        plot(curve, args.plot)
        print(f"plot: {args.plot}")


if __name__ == "__main__":
    main()
