"""The staff's side: the agenda, a client's history, and changes to any booking (book or move
one for a client, cancel, mark completed or no-show, cancel the bookings a change of hours or a
day off left outside the hours), each in one transaction with its audit row.

A booking the staff make or move for a client goes through the client's steps and the same
decision (services/placement.py) under ``Rules.for_staff()``: no lead time, no per-client limit;
the working hours are set aside only when the admin explicitly asks (``outside_hours``)."""

from __future__ import annotations

from datetime import date, datetime

from database.engine import Conn, Database
from database.repo import audit, bookings, locks, outbox, schedule, waitlist
from domain.actors import Actor, Role
from domain.bookings import (
    DAY_OFF_REASON,
    OUTSIDE_HOURS_REASON,
    BookingDetails,
    BookingStatus,
)
from domain.outcomes import (
    BookingResult,
    HoursCancel,
    HoursCancelOutcome,
    Outcome,
    OutsideHours,
)
from domain.reminders import ReminderKind
from domain.rules import Rules
from domain.schedule import HoursScope, ScheduleException, closure, fits_hours
from domain.waitlist import WaitDetails
from services import changes, placement
from services.booking import ClientBookingService
from services.slots import hours_for_day
from utils.timeutil import Clock, day_bounds_utc, system_clock, to_ts


class StaffService:
    def __init__(self, db: Database, rules: Rules, clock: Clock = system_clock) -> None:
        self.db = db
        self.rules = rules
        self.clock = clock
        # The booking steps (select, calendar, free times) as staff walk them for a client.
        self.flow = ClientBookingService(db, rules.for_staff(), clock)

    def today(self) -> date:
        """The business's local date now."""
        return self.rules.today(self.clock())

    # ------------------------------------------------------------ changes

    async def cancel(
        self, booking_id: int, actor: Actor, reason: str | None = None
    ) -> BookingResult:
        """Any active booking, whenever it starts."""
        now, rules = self.clock(), self.rules
        return await self.db.write(
            lambda conn: changes.cancel(conn, rules, booking_id, actor, reason, now), "cancel"
        )

    async def book_for(
        self,
        client_id: int,
        service_id: int,
        start: datetime,
        actor: Actor,
        specialist_id: int | None = None,
        *,
        outside_hours: bool = False,
    ) -> BookingResult:
        """Book ``start`` for the client (a phone call, a walk-in); the client is told (if they
        can be reached) and the admin chat gets a card, through the outbox."""
        now, rules = self.clock(), self.rules.for_staff()

        def work(conn: Conn) -> BookingResult:
            placed = placement.place(
                conn,
                rules,
                client_id,
                service_id,
                start,
                specialist_id,
                now,
                None,
                outside_hours=outside_hours,
            )
            if isinstance(placed, BookingResult):
                return placed
            booking = changes.insert(conn, rules, client_id, placed, start, now, actor, None)
            return BookingResult(Outcome.BOOKED, booking)

        return await self.db.write(work, "staff.book")

    async def reschedule(
        self,
        booking_id: int,
        new_start: datetime,
        actor: Actor,
        specialist_id: int | None = None,
        *,
        outside_hours: bool = False,
    ) -> BookingResult:
        """Move any active booking: old and new change together, under the staff's rules."""
        now, rules = self.clock(), self.rules.for_staff()
        return await self.db.write(
            lambda conn: changes.reschedule(
                conn,
                rules,
                booking_id,
                new_start,
                actor,
                specialist_id,
                now,
                outside_hours=outside_hours,
            ),
            "reschedule",
        )

    async def mark(self, booking_id: int, status: BookingStatus, actor: Actor) -> BookingResult:
        """Record that a booking took place (completed) or the client did not come."""
        if status not in (BookingStatus.COMPLETED, BookingStatus.NO_SHOW):
            raise ValueError(f"cannot mark a booking {status}")
        now, rules = self.clock(), self.rules

        def work(conn: Conn) -> BookingResult:
            booking = bookings.get(conn, booking_id)
            refusal = rules.mark_refusal(booking, status, now)
            if refusal is not None:
                return changes.refused(refusal, booking)
            assert booking is not None
            marked = bookings.set_status(
                conn, booking.id, status, now, only_from=rules.markable_from(status)
            )
            if marked is None:  # changed by another transaction meanwhile
                return changes.refused(Outcome.NOT_ACTIVE, bookings.get(conn, booking_id))
            # A visit that took place still gets its rating request; a no-show gets nothing.
            kinds = (
                (ReminderKind.REMINDER,)
                if status is BookingStatus.COMPLETED
                else (ReminderKind.REMINDER, ReminderKind.FEEDBACK)
            )
            outbox.void_pending(conn, booking.id, f"booking {status}", now, kinds)
            audit.record(
                conn,
                actor=actor,
                action=f"booking.{status}",
                entity="booking",
                entity_id=booking.id,
                now=now,
                previous_status=booking.status.value,
            )
            return BookingResult(Outcome.MARKED, marked)

        return await self.db.write(work, "mark")

    async def cancel_outside_hours(
        self, scope: HoursScope, actor: Actor, asked: datetime
    ) -> HoursCancel:
        """Cancel, in one transaction, the scope's upcoming active bookings that are outside the
        working hours now, each checked again under the hours' lock (the hours may have been
        changed back since ``asked``, when the admin was shown them). Each client is told: of
        the day off (with its reason) when the day is closed, of a cancel otherwise.

        Nothing left to cancel is ALREADY_CANCELLED when staff cancelled bookings of the scope
        since ``asked`` (a repeated "Cancel them all"), NONE_OUTSIDE otherwise.
        """
        now, rules = self.clock(), self.rules

        def work(conn: Conn) -> HoursCancel:
            locks.for_hours(conn)
            found = _in_scope(conn, rules, scope)
            cancelled: list[BookingDetails] = []
            for details, closed in _outside(conn, rules, scope, found, now):
                reason = (closed.reason or DAY_OFF_REASON) if closed else OUTSIDE_HOURS_REASON
                if changes.cancel_in_tx(conn, details.booking, actor, reason, now) is None:
                    continue  # cancelled or moved by another transaction meanwhile
                told = rules.notices_after_cancel(
                    actor, closed.reason if closed else None, now, day_off=closed is not None
                )
                if details.booking.held_until is None:  # a hold's waiter never had a booking
                    outbox.insert(conn, details.booking.id, told, now)
                after = bookings.details(conn, details.booking.id)
                assert after is not None
                cancelled.append(after)
            if cancelled:
                return HoursCancel(HoursCancelOutcome.CANCELLED, cancelled)
            if any(_cancelled_by_staff_since(d, asked) for d in found):
                return HoursCancel(HoursCancelOutcome.ALREADY_CANCELLED)
            return HoursCancel(HoursCancelOutcome.NONE_OUTSIDE)

        return await self.db.write(work, "cancel_outside_hours")

    # ------------------------------------------------------------ reading

    def weekday_scope(self, weekday: int, specialist_id: int | None) -> HoursScope:
        """Where new weekly hours of a weekday reach: its dates a client may book now (today to
        the horizon), for the specialist or (None) every one."""
        first, last = self.rules.bookable_days(self.clock())
        return HoursScope(first, last, weekday, specialist_id)

    async def outside_hours(self, scope: HoursScope) -> OutsideHours:
        """The scope's upcoming active bookings that fall outside the working hours now."""
        now, rules = self.clock(), self.rules

        def work(conn: Conn) -> list[BookingDetails]:
            found = _in_scope(conn, rules, scope)
            return [details for details, _ in _outside(conn, rules, scope, found, now)]

        return OutsideHours(scope, await self.db.read(work, "outside_hours"), now)

    async def get(self, booking_id: int) -> BookingDetails | None:
        return await self.db.read(lambda c: bookings.details(c, booking_id), "get_booking")

    async def agenda(self, day: date) -> list[BookingDetails]:
        """Every booking starting on the local day, in time order, whatever its status."""
        start, end = day_bounds_utc(self.rules.tz, day)
        return await self.db.read(lambda c: bookings.starting_between(c, start, end), "agenda")

    async def waiting(self, day: date) -> list[WaitDetails]:
        """The day's waitlist, in line order (an offer in hand included)."""
        return await self.db.read(lambda c: waitlist.of_day(c, day), "agenda.waitlist")

    async def active_on(self, day: date) -> list[BookingDetails]:
        """The active bookings starting on the local day, in time order."""
        return [d for d in await self.agenda(day) if d.booking.is_active]

    async def history(self, client_id: int) -> list[BookingDetails]:
        """Every booking of the client, any status, newest first."""
        return await self.db.read(lambda c: bookings.history_of_client(c, client_id), "history")


# ------------------------------------------------------------ inside a transaction


def _in_scope(conn: Conn, rules: Rules, scope: HoursScope) -> list[BookingDetails]:
    """Every booking (any status) starting in the scope, in time order."""
    start, _ = day_bounds_utc(rules.tz, scope.first)
    _, end = day_bounds_utc(rules.tz, scope.last)
    return [
        d
        for d in bookings.starting_between(conn, start, end)
        if scope.covers(rules.local(d.booking.start).date(), d.booking.specialist_id)
    ]


def _outside(
    conn: Conn, rules: Rules, scope: HoursScope, found: list[BookingDetails], now: datetime
) -> list[tuple[BookingDetails, ScheduleException | None]]:
    """The upcoming active ones among ``found`` that the working hours (as the slot engine
    reads them: days off, custom hours, weekly hours) no longer include, each with what
    closes its day, if something does. A booking the staff placed outside the hours on
    purpose counts only when its day is closed."""
    upcoming = [d for d in found if d.booking.is_active and d.booking.start > now]
    specialist_ids = sorted({d.booking.specialist_id for d in upcoming})
    weekly, exceptions = schedule.hours_between(conn, specialist_ids, scope.first, scope.last)
    outside = []
    for details in upcoming:
        b = details.booking
        day = rules.local(b.start).date()
        closed = closure(exceptions, day, b.specialist_id)
        if b.outside_hours and closed is None:
            continue  # placed outside the hours on purpose: only a day off concerns it
        hours = hours_for_day(day, b.specialist_id, weekly[b.specialist_id], exceptions)
        if not fits_hours(b.start, b.end, day, rules.tz, hours):
            outside.append((details, closed))
    return outside


def _cancelled_by_staff_since(details: BookingDetails, asked: datetime) -> bool:
    b = details.booking
    return (
        b.status is BookingStatus.CANCELLED
        and b.cancelled_by_role is not Role.CLIENT
        and not b.replaced_by_reschedule
        and b.cancelled_at is not None
        and to_ts(b.cancelled_at) >= to_ts(asked)
    )
