"""Numbers for the staff: bookings, cancellations, no-shows, revenue, the busiest times."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import TypeVar

import pytz
from pytz.tzinfo import BaseTzInfo

from database.engine import Database
from database.repo import bookings
from domain.actors import Role
from domain.bookings import BookingDetails, BookingStatus
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


K = TypeVar("K", str, int)


def busiest(counter: Counter[K]) -> list[tuple[K, int]]:
    return sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP]


def compute(rows: list[BookingDetails], tz: BaseTzInfo, first: date, last: date) -> Stats:
    counted = [d for d in rows if not d.booking.replaced_by_reschedule]
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
        return compute(await self.bookings(first, last), self.tz, first, last)


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
