"""Part 2: the month calendar and one day's free times on a database holding 10,000 active
bookings of 20 specialists. See benchmarks/booking.py."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from pathlib import Path
from time import perf_counter
from typing import Any

from benchmarks.common import (
    ADMIN,
    BUSY_TIMEOUT_MS,
    CAL_BOOKINGS,
    CAL_CLIENTS,
    CAL_SPECIALISTS,
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
    timed,
)
from database.engine import Conn
from database.migrate import migrate
from database.migrations.base import MigrationContext
from database.sqlite import SqliteDatabase
from services.booking import ClientBookingService
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


async def prepare_calendar(path: Path) -> tuple[int, dict[str, Any]]:
    """20 specialists with the same hours, one service, 10,000 active bookings."""
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
    async with SqliteDatabase(path, busy_timeout_ms=BUSY_TIMEOUT_MS) as db:
        service = ClientBookingService(db, RULES, new_clock())
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
