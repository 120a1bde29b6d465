"""The staff's side: the agenda, a client's history, and changes to any booking (cancel, mark
completed or no-show, cancel a whole day), each in one transaction with its audit row."""

from __future__ import annotations

from datetime import date, datetime

from database.engine import Conn, Database
from database.repo import audit, bookings, outbox
from domain.actors import Actor
from domain.bookings import BookingDetails, BookingStatus
from domain.outcomes import BookingResult, Outcome
from domain.reminders import ReminderKind
from domain.rules import Rules
from services import placement
from utils.timeutil import Clock, day_bounds_utc, system_clock


class StaffService:
    def __init__(self, db: Database, rules: Rules, clock: Clock = system_clock) -> None:
        self.db = db
        self.rules = rules
        self.clock = clock

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
            lambda conn: placement.cancel(conn, rules, booking_id, actor, reason, now), "cancel"
        )

    async def reschedule(
        self,
        booking_id: int,
        new_start: datetime,
        actor: Actor,
        specialist_id: int | None = None,
    ) -> BookingResult:
        now, rules = self.clock(), self.rules
        return await self.db.write(
            lambda conn: placement.reschedule(
                conn, rules, booking_id, new_start, actor, specialist_id, now
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
                return placement.refused(refusal, booking)
            assert booking is not None
            marked = bookings.set_status(
                conn, booking.id, status, now, only_from=rules.markable_from(status)
            )
            if marked is None:  # changed by another transaction meanwhile
                return placement.refused(Outcome.NOT_ACTIVE, bookings.get(conn, booking_id))
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

    async def cancel_day(self, day: date, actor: Actor, reason: str) -> list[BookingDetails]:
        """Cancel every active booking starting on the local day, in one transaction; each
        client is told why (``reason``, the day off's own words, may be empty).

        Returns the cancelled bookings.
        """
        start, end = day_bounds_utc(self.rules.tz, day)
        now = self.clock()

        def work(conn: Conn) -> list[BookingDetails]:
            cancelled: list[BookingDetails] = []
            for details in bookings.starting_between(conn, start, end):
                if details.booking.is_active and placement.cancel_in_tx(
                    conn, details.booking, actor, reason or "day off", now
                ):
                    told = self.rules.notices_after_cancel(actor, reason, now, day_off=True)
                    outbox.insert(conn, details.booking.id, told, now)
                    after = bookings.details(conn, details.booking.id)
                    assert after is not None
                    cancelled.append(after)
            return cancelled

        return await self.db.write(work, "cancel_day")

    # ------------------------------------------------------------ reading

    async def get(self, booking_id: int) -> BookingDetails | None:
        return await self.db.read(lambda c: bookings.details(c, booking_id), "get_booking")

    async def agenda(self, day: date) -> list[BookingDetails]:
        """Every booking starting on the local day, in time order, whatever its status."""
        start, end = day_bounds_utc(self.rules.tz, day)
        return await self.db.read(lambda c: bookings.starting_between(c, start, end), "agenda")

    async def active_on(self, day: date) -> list[BookingDetails]:
        """The active bookings starting on the local day, in time order."""
        return [d for d in await self.agenda(day) if d.booking.is_active]

    async def history(self, client_id: int) -> list[BookingDetails]:
        """Every booking of the client, any status, newest first."""
        return await self.db.read(lambda c: bookings.history_of_client(c, client_id), "history")
