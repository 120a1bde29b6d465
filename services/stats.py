"""Numbers for the staff: bookings, cancellations, no-shows, revenue, the busiest times, and
per day and per weekday-hour how full the schedule was.

``StatsService.stats`` returns one ``Stats``; /stats renders its text and its chart from that one
value (handlers/admin/report_views.stats_text, handlers/admin/chart.chart_data), so they cannot
differ.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import TypeVar

import pytz
from pytz.tzinfo import BaseTzInfo

from database.engine import Conn, Database
from database.repo import bookings, catalog, schedule
from domain.actors import Role
from domain.bookings import BookingDetails, BookingStatus
from services.slots import hours_for_day
from utils.hours import Interval
from utils.timeutil import day_bounds_utc, to_local

TOP = 3
UTC_TZ: BaseTzInfo = pytz.utc  # counts only; no wall time


@dataclass(frozen=True)
class Stats:
    first: date
    last: date
    bookings: int  # every booking starting in the range, except the old halves of reschedules
    active: int
    completed: int
    no_shows: int
    cancelled_by_client: int
    cancelled_by_admin: int
    revenue: int  # active + completed, at the prices of booking time
    services: list[tuple[str, int]]  # busiest first (cancelled bookings not counted)
    weekdays: list[tuple[int, int]]  # (0 = Monday, count), busiest first
    hours: list[tuple[int, int]]  # (local hour, count), busiest first
    ratings: int = 0  # visits the client rated (1-5) after them
    rating_average: float | None = None
    daily: tuple[DayFigures, ...] = ()  # every day first..last, none left out (report() only)
    load: Load = field(default_factory=lambda: Load.empty())  # (report() only)

    @property
    def fill(self) -> float | None:
        """Booked minutes / working minutes over the range; None without working hours."""
        return self.load.fill()


@dataclass(frozen=True)
class DayFigures:
    """One local day: bookings starting on it (counted as ``Stats.bookings``) and its revenue
    (as ``Stats.revenue``), so the days add up to the totals."""

    day: date
    bookings: int
    revenue: int


HOURS = 24
Grid = tuple[tuple[int, ...], ...]  # [weekday 0 = Monday][local hour 0..23] -> minutes


@dataclass(frozen=True)
class Load:
    """How full the schedule was: per weekday and local hour, the minutes booked (bookings not
    cancelled, of any specialist) and the minutes worked (every specialist's hours, days off
    and custom hours as the slot engine reads them), summed over the range's dates."""

    booked: Grid
    working: Grid

    @staticmethod
    def empty() -> Load:
        zeros = tuple((0,) * HOURS for _ in range(7))
        return Load(zeros, zeros)

    def fill(self, weekday: int | None = None, hour: int | None = None) -> float | None:
        """Booked / working minutes of one cell, of a weekday, or of everything; None where
        nobody worked (a booking outside the hours still counts as booked)."""
        days = range(7) if weekday is None else [weekday]
        hours = range(HOURS) if hour is None else [hour]
        working = sum(self.working[d][h] for d in days for h in hours)
        booked = sum(self.booked[d][h] for d in days for h in hours)
        return booked / working if working else None


K = TypeVar("K", str, int)


def busiest(counter: Counter[K]) -> list[tuple[K, int]]:
    return sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP]


def compute(rows: list[BookingDetails], tz: BaseTzInfo, first: date, last: date) -> Stats:
    counted = [d for d in rows if d.booking.counted]
    status = Counter(d.booking.status for d in counted)
    cancelled_by = Counter(
        d.booking.cancelled_by_role for d in counted if d.booking.status is BookingStatus.CANCELLED
    )
    held = [d for d in counted if d.booking.status is not BookingStatus.CANCELLED]
    starts = [to_local(tz, d.booking.start) for d in held]
    revenue = sum(
        d.booking.price
        for d in held
        if d.booking.status in (BookingStatus.ACTIVE, BookingStatus.COMPLETED)
    )

    ratings = [d.booking.rating for d in counted if d.booking.rating is not None]
    services = Counter(d.service_name for d in held)
    weekdays = Counter(s.weekday() for s in starts)
    hours = Counter(s.hour for s in starts)
    return Stats(
        first=first,
        last=last,
        bookings=len(counted),
        active=status[BookingStatus.ACTIVE],
        completed=status[BookingStatus.COMPLETED],
        no_shows=status[BookingStatus.NO_SHOW],
        cancelled_by_client=cancelled_by[Role.CLIENT],
        cancelled_by_admin=cancelled_by[Role.ADMIN] + cancelled_by[Role.SYSTEM],
        revenue=revenue,
        services=busiest(services),
        weekdays=busiest(weekdays),
        hours=busiest(hours),
        ratings=len(ratings),
        rating_average=sum(ratings) / len(ratings) if ratings else None,
    )


def _local_days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def daily_figures(
    rows: Sequence[BookingDetails], tz: BaseTzInfo, days: list[date]
) -> list[DayFigures]:
    """Per local day, what compute() totals: the days' sums are Stats.bookings and revenue."""
    count: Counter[date] = Counter()
    revenue: Counter[date] = Counter()
    for d in rows:
        b = d.booking
        if not b.counted:
            continue
        day = to_local(tz, b.start).date()
        count[day] += 1
        if b.status in (BookingStatus.ACTIVE, BookingStatus.COMPLETED):
            revenue[day] += b.price
    return [DayFigures(day, count[day], revenue[day]) for day in days]


def _add_minutes(grid: list[list[int]], day: date, start: int, end: int) -> None:
    """Minutes [start, end) from the local midnight of ``day`` (end may pass midnight) into
    the weekday-hour cells they cover."""
    while start < end:
        hour = start // 60
        stop = min(end, (hour + 1) * 60)
        weekday = (day.weekday() + hour // HOURS) % 7
        grid[weekday][hour % HOURS] += stop - start
        start = stop


def schedule_load(
    rows: Sequence[BookingDetails],
    tz: BaseTzInfo,
    working: Iterable[tuple[date, Interval]],
) -> Load:
    """Booked and working minutes per weekday and local (wall-clock) hour; a group session's
    time once, however many took a seat (it is the specialist's time that is booked)."""
    booked = [[0] * HOURS for _ in range(7)]
    worked = [[0] * HOURS for _ in range(7)]
    counted: set[tuple[int, int, datetime]] = set()
    for d in rows:
        b = d.booking
        if not b.counted or b.status is BookingStatus.CANCELLED:
            continue
        if (session := (b.specialist_id, b.service_id, b.start)) in counted:
            continue
        counted.add(session)
        local = to_local(tz, b.start)
        start = local.hour * 60 + local.minute
        minutes = int((b.end - b.start).total_seconds()) // 60
        _add_minutes(booked, local.date(), start, start + minutes)
    for day, (start, end) in working:
        _add_minutes(worked, day, start, end)
    return Load(tuple(map(tuple, booked)), tuple(map(tuple, worked)))


def report(
    rows: list[BookingDetails],
    working: Iterable[tuple[date, Interval]],
    tz: BaseTzInfo,
    first: date,
    last: date,
) -> Stats:
    """Everything /stats shows: compute()'s totals, the figures per day, the schedule's load."""
    return replace(
        compute(rows, tz, first, last),
        daily=tuple(daily_figures(rows, tz, _local_days(first, last))),
        load=schedule_load(rows, tz, working),
    )


def working_intervals(
    conn: Conn, rows: Sequence[BookingDetails], first: date, last: date
) -> list[tuple[date, Interval]]:
    """Every working interval of each date in the range, of the specialists active now and of
    any specialist with a booking in the range (switched off since)."""
    ids = {sp.id for sp in catalog.list_specialists(conn, active_only=True)}
    ids |= {d.booking.specialist_id for d in rows}
    weekly, exceptions = schedule.hours_between(conn, sorted(ids), first, last)
    return [
        (day, interval)
        for day in _local_days(first, last)
        for sid in sorted(ids)
        for interval in hours_for_day(day, sid, weekly.get(sid, {}), exceptions)
    ]


class StatsService:
    def __init__(self, db: Database, tz: BaseTzInfo) -> None:
        self.db = db
        self.tz = tz

    async def bookings(self, first: date, last: date) -> list[BookingDetails]:
        """Every booking starting on the local days first..last inclusive, in time order."""
        start, _ = day_bounds_utc(self.tz, first)
        _, end = day_bounds_utc(self.tz, last)
        return await self.db.read(lambda c: bookings.starting_between(c, start, end), "stats.rows")

    async def stats(self, first: date, last: date) -> Stats:
        """The numbers of the local days first..last inclusive: /stats's text and chart."""
        start, _ = day_bounds_utc(self.tz, first)
        _, end = day_bounds_utc(self.tz, last)

        def work(conn: Conn) -> tuple[list[BookingDetails], list[tuple[date, Interval]]]:
            rows = bookings.starting_between(conn, start, end)
            return rows, working_intervals(conn, rows, first, last)

        rows, working = await self.db.read(work, "stats")
        return report(rows, working, self.tz, first, last)


@dataclass(frozen=True)
class ClientSummary:
    bookings: int  # every booking, except the old halves of reschedules
    upcoming: int  # active
    completed: int
    no_shows: int
    cancelled_by_client: int
    cancelled_by_admin: int
    ratings: int = 0
    rating_average: float | None = None


def client_summary(history: list[BookingDetails]) -> ClientSummary:
    s = compute(history, UTC_TZ, date.min, date.max)
    return ClientSummary(
        bookings=s.bookings,
        upcoming=s.active,
        completed=s.completed,
        no_shows=s.no_shows,
        cancelled_by_client=s.cancelled_by_client,
        cancelled_by_admin=s.cancelled_by_admin,
        ratings=s.ratings,
        rating_average=s.rating_average,
    )
