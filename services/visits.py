"""The client's answers about a visit: "I'll come" under a reminder, and the 1-5 rating after."""

from __future__ import annotations

from database.engine import Conn, Database
from database.repo import audit, bookings
from domain.actors import Actor
from domain.bookings import BookingStatus
from domain.outcomes import BookingResult, Outcome
from utils.timeutil import Clock, system_clock


class VisitService:
    def __init__(self, db: Database, clock: Clock = system_clock) -> None:
        self.db = db
        self.clock = clock

    async def confirm_visit(self, booking_id: int, client_id: int) -> BookingResult:
        """The client answered a reminder with "I'll come"; the admin agenda shows it."""
        now = self.clock()

        def work(conn: Conn) -> BookingResult:
            booking = bookings.get(conn, booking_id)
            if booking is None or booking.client_id != client_id:
                return BookingResult(Outcome.NOT_FOUND)
            if not booking.is_active or booking.start <= now:
                return BookingResult(Outcome.NOT_ACTIVE, booking)
            if bookings.confirm_visit(conn, booking_id, now):
                audit.record(
                    conn,
                    actor=Actor.client(client_id),
                    action="booking.confirmed_by_client",
                    entity="booking",
                    entity_id=booking_id,
                    now=now,
                )
            return BookingResult(Outcome.CONFIRMED, bookings.get(conn, booking_id))

        return await self.db.write(work, "confirm_visit")

    async def rate(self, booking_id: int, client_id: int, stars: int) -> BookingResult:
        """The client's 1-5 rating of a visit that took place (pressing again changes it)."""
        now = self.clock()

        def work(conn: Conn) -> BookingResult:
            booking = bookings.get(conn, booking_id)
            if booking is None or booking.client_id != client_id or not 1 <= stars <= 5:
                return BookingResult(Outcome.NOT_FOUND)
            if booking.status is not BookingStatus.COMPLETED:
                return BookingResult(Outcome.NOT_ACTIVE, booking)
            bookings.rate(conn, booking_id, stars, now)
            audit.record(
                conn,
                actor=Actor.client(client_id),
                action="booking.rated",
                entity="booking",
                entity_id=booking_id,
                now=now,
                stars=stars,
            )
            return BookingResult(Outcome.RATED, bookings.get(conn, booking_id))

        return await self.db.write(work, "rate")
