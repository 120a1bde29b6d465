"""The client's side of booking: pick a service, a specialist, a day and a time; book, move and
cancel their own bookings.

The same steps serve the staff booking for a client (``StaffService.flow``: this class under
``Rules.for_staff()``, with ``by`` the admin and times outside the working hours on request).

Every decision about whether a time can be booked is made inside the writer's BEGIN IMMEDIATE
transaction, from what the database holds at that moment, by the same slot engine that lists
free times (services/placement.py). Results are values (``BookingResult``); handlers translate
the outcome to text in one place.
"""

from __future__ import annotations

import logging
from datetime import date, datetime

from database.engine import Conn, Database
from database.repo import bookings, catalog
from domain.actors import Actor
from domain.bookings import BookingDetails
from domain.catalog import ServiceInfo, Specialist
from domain.outcomes import BookingResult, Outcome, Selection
from domain.rules import Rules
from services import changes, placement
from services.calendar import MonthCache
from services.sessions import FreeTime
from services.sessions import free_times as with_seats
from services.slots import available_days, free_starts, hours_for_day, month_days
from utils.logging_setup import bind
from utils.metrics import BOOKINGS
from utils.timeutil import Clock, system_clock

logger = logging.getLogger(__name__)


def _counted(action: str, result: BookingResult) -> BookingResult:
    """In the metrics (bookings by outcome), and the booking's id in the log lines that follow."""
    BOOKINGS.labels(action, result.outcome.value).inc()
    if result.booking is not None:
        bind(booking_id=result.booking.id)
    logger.info("client %s: %s", action, result.outcome.value)
    return result


class ClientBookingService:
    def __init__(self, db: Database, rules: Rules, clock: Clock = system_clock) -> None:
        self.db = db
        self.rules = rules
        self.clock = clock
        self.months = MonthCache()

    # ------------------------------------------------------------ changes

    async def book(
        self,
        client_id: int,
        service_id: int,
        start: datetime,
        specialist_id: int | None = None,
    ) -> BookingResult:
        """Book ``start`` for the client; ``specialist_id`` None means any free specialist."""
        now, rules = self.clock(), self.rules

        def work(conn: Conn) -> BookingResult:
            placed = placement.place(
                conn, rules, client_id, service_id, start, specialist_id, now, None
            )
            if isinstance(placed, BookingResult):
                return placed
            actor = Actor.client(client_id)
            client = changes.standing(conn, rules, actor, client_id, now)
            if client is not None and client.blocked:
                return BookingResult(Outcome.BLOCKED)
            booking = changes.insert(
                conn, rules, client_id, placed, start, now, actor, None, client
            )
            return BookingResult(Outcome.BOOKED, booking)

        return _counted("book", await self.db.write(work, "book"))

    async def cancel(self, booking_id: int, client_id: int) -> BookingResult:
        """The client's own booking, until the cutoff."""
        now, rules, actor = self.clock(), self.rules, Actor.client(client_id)
        bind(booking_id=booking_id)
        return _counted(
            "cancel",
            await self.db.write(
                lambda conn: changes.cancel(conn, rules, booking_id, actor, None, now), "cancel"
            ),
        )

    async def reschedule(
        self,
        booking_id: int,
        new_start: datetime,
        client_id: int,
        specialist_id: int | None = None,
    ) -> BookingResult:
        """Move the client's own booking (until the cutoff): old and new change together."""
        now, rules, actor = self.clock(), self.rules, Actor.client(client_id)
        bind(booking_id=booking_id)
        result = await self.db.write(
            lambda conn: changes.reschedule(
                conn, rules, booking_id, new_start, actor, specialist_id, now
            ),
            "reschedule",
        )
        return _counted("reschedule", result)

    # ------------------------------------------------------------ the steps of the flow

    async def select(
        self,
        client_id: int,
        service_id: int,
        specialist_id: int = 0,
        moving_id: int = 0,
        *,
        by: Actor | None = None,
    ) -> Selection | BookingResult:
        """Validate a step of the flow (ids come from buttons, so they may be stale or forged).
        ``by``: who walks it for the client (an admin); the client themself by default."""
        now, rules = self.clock(), self.rules
        actor = by or Actor.client(client_id)

        def work(conn: Conn) -> Selection | BookingResult:
            service, offering = catalog.service_and_specialists(conn, service_id)
            if service is None or not ServiceInfo(service, len(offering)).bookable:
                # Gone, switched off, or nobody active does it: not in the clients' list either.
                return BookingResult(Outcome.SERVICE_INACTIVE)
            specialist = next((s for s in offering if s.id == specialist_id), None)
            if specialist_id and specialist is None:
                return BookingResult(Outcome.UNKNOWN_SPECIALIST)
            if specialist is None and len(offering) == 1:
                # Nobody to choose between: the card names who will do it.
                specialist = offering[0]
            moving = None
            if moving_id:
                moving = bookings.get(conn, moving_id)
                refusal = rules.change_refusal(moving, actor, now)
                if refusal is not None:
                    return changes.refused(refusal, moving)
                assert moving is not None
                if moving.service_id != service_id or moving.client_id != client_id:
                    return BookingResult(Outcome.NOT_FOUND)
            elif rules.limit_reached(bookings.count_future_active(conn, client_id, now)):
                # Told before walking the calendar; book() checks again at Confirm.
                return BookingResult(Outcome.LIMIT_REACHED)
            return Selection(service, specialist, len(offering), moving)

        return await self.db.read(work, "select")

    async def specialists(self, service_id: int) -> list[Specialist]:
        """Active specialists offering the service, in display order."""
        return await self.db.read(lambda c: catalog.specialists_for_service(c, service_id))

    def bookable_days(self) -> tuple[date, date]:
        """The first and last local dates a client may book now (today .. today + horizon)."""
        return self.rules.bookable_days(self.clock())

    async def changeable(self, booking_id: int, client_id: int) -> BookingResult:
        """CHANGEABLE (with the booking) if the client may cancel or move it now, else why not.

        Lets a client be told before walking the calendar; cancel and reschedule check again.
        """
        now, rules, actor = self.clock(), self.rules, Actor.client(client_id)

        def work(conn: Conn) -> BookingResult:
            booking = bookings.get(conn, booking_id)
            refusal = rules.change_refusal(booking, actor, now)
            if refusal is not None:
                return changes.refused(refusal, booking)
            return BookingResult(Outcome.CHANGEABLE, booking)

        return await self.db.read(work, "changeable")

    async def free_times(
        self,
        service_id: int,
        day: date,
        specialist_id: int | None = None,
        moving_id: int | None = None,
        *,
        outside_hours: bool = False,
    ) -> dict[datetime, list[int]]:
        """Free starts on a local day, each with the specialists free then (empty if none).

        ``moving_id``: the booking being rescheduled, whose own time does not block its move.
        ``outside_hours`` (staff only): the free starts the working hours do not offer.
        """
        found = await self.free_slots(
            service_id, day, specialist_id, moving_id, outside_hours=outside_hours
        )
        return {start: free.specialists for start, free in found.items()}

    async def free_slots(
        self,
        service_id: int,
        day: date,
        specialist_id: int | None = None,
        moving_id: int | None = None,
        *,
        outside_hours: bool = False,
    ) -> dict[datetime, FreeTime]:
        """free_times(), each start with the seats left in the session a booking would join
        (a group service; None otherwise)."""
        now, rules = self.clock(), self.rules

        def free(conn: Conn, outside: bool) -> dict[datetime, FreeTime]:
            loaded = placement.load(
                conn,
                rules,
                service_id,
                specialist_id,
                day,
                day,
                now,
                moving_id,
                outside_hours=outside,
            )
            if loaded is None:
                return {}
            found = free_starts(day, loaded.schedules, loaded.exceptions, loaded.query)
            index = {s.specialist_id: s.busy for s in loaded.schedules}
            return with_seats(found, index, loaded.query)

        def work(conn: Conn) -> dict[datetime, FreeTime]:
            if not outside_hours:
                return free(conn, False)
            inside = free(conn, False)
            return {start: f for start, f in free(conn, True).items() if start not in inside}

        return await self.db.read(work, "free_times")

    async def calendar(
        self,
        service_id: int,
        year: int,
        month: int,
        specialist_id: int | None = None,
        moving_id: int | None = None,
    ) -> set[date]:
        """Days of the month with at least one free start (``month``)."""
        open_days, _ = await self.month(service_id, year, month, specialist_id, moving_id)
        return open_days

    async def month(
        self,
        service_id: int,
        year: int,
        month: int,
        specialist_id: int | None = None,
        moving_id: int | None = None,
        *,
        full: bool = False,
    ) -> tuple[set[date], set[date]]:
        """Days of the month with at least one free start (services/calendar.py), and with
        ``full`` the days someone who offers the service works and nothing is free: a client
        may wait for a time of such a day to free up, never for a day nobody works. One read.

        A move's calendar, where the booking moved does not block itself, and a group service's,
        where a session with a seat left keeps its day open, are computed afresh."""
        now, rules, months = self.clock(), self.rules, self.months
        days = month_days(year, month)

        def work(conn: Conn) -> tuple[set[date], set[date]]:
            offered = placement.offering(conn, rules, service_id, specialist_id, now)
            if offered is None:
                return set(), set()
            ids, query = offered
            if moving_id is None and not query.is_group:
                open_days = months.open_days(conn, ids, year, month, query)
            else:
                loaded = placement.load(
                    conn, rules, service_id, specialist_id, days[0], days[-1], now, moving_id
                )
                if loaded is None:
                    return set(), set()
                open_days = available_days(
                    year, month, loaded.schedules, loaded.exceptions, loaded.query
                )
            if not full:
                return open_days, set()
            weekly, exceptions = placement.hours(conn, ids, days[0], days[-1])
            working = {
                day
                for day in days
                if any(hours_for_day(day, sid, weekly[sid], exceptions) for sid in ids)
            }
            return open_days, working - open_days

        return await self.db.read(work, "calendar")

    # ------------------------------------------------------------ reading

    async def get(self, booking_id: int) -> BookingDetails | None:
        return await self.db.read(lambda c: bookings.details(c, booking_id), "get_booking")

    async def upcoming(self, client_id: int) -> list[BookingDetails]:
        now = self.clock()
        return await self.db.read(
            lambda c: bookings.upcoming_of_client(c, client_id, now), "upcoming"
        )
