"""The waitlist as clients and staff use it: joining for a day that has no free time, leaving,
taking or declining the time held for you, the holds' expiry, and the lists.

What happens when time frees up is services/holds.py (inside the transaction that freed it).
A hold is taken, declined or expired through one guarded UPDATE (``waitlist.take_hold``), so of
a Book, a No thanks and the expiry at once exactly one wins; a hold declined or expired is
cancelled and its time offered to the next in line in the same transaction.
"""

from __future__ import annotations

from datetime import date, datetime

from database.engine import Conn, Database
from database.repo import audit, bookings, catalog, waitlist
from domain.actors import SYSTEM, Actor
from domain.bookings import HOLD_DECLINED_REASON, HOLD_EXPIRED_REASON, Booking
from domain.outcomes import BookingResult, Outcome
from domain.rules import Rules
from domain.waitlist import DayPart, WaitDetails, WaitOutcome, WaitStatus
from services import changes, holds
from utils.timeutil import Clock, system_clock


def release_in_tx(
    conn: Conn, rules: Rules, booking_id: int, actor: Actor, reason: str, now: datetime
) -> Booking | None:
    """The hold cancelled (declined or expired), that waiter's turn over, and its time offered
    to the next in line; None if it was no longer a live hold."""
    taken = waitlist.take_hold(conn, booking_id, now)
    if taken is None:
        return None
    waitlist.end_turn(conn, booking_id, now)
    # Taken above, so the cancel cannot find it changed; its specialist never heard of it.
    cancelled = changes.cancel_in_tx(conn, taken, actor, reason, now, tell_specialist=False)
    assert cancelled is not None
    holds.offer_freed(conn, rules, now, [holds.freed_by(rules, cancelled)])
    return cancelled


class WaitlistService:
    def __init__(self, db: Database, rules: Rules, clock: Clock = system_clock) -> None:
        self.db = db
        self.rules = rules
        self.clock = clock

    async def join(
        self,
        client_id: int,
        service_id: int,
        specialist_id: int | None,
        day: date,
        part: DayPart | None,
    ) -> WaitOutcome:
        """Last in line for ``day``: only for a bookable day that has no free time that suits
        (otherwise the client books one), once per service and day."""
        now, rules, actor = self.clock(), self.rules, Actor.client(client_id)

        def work(conn: Conn) -> WaitOutcome:
            client = changes.standing(conn, rules, actor, client_id, now)
            if client is not None and client.blocked:
                return WaitOutcome.BLOCKED
            first, last = rules.bookable_days(now)
            starts = holds.suitable_starts(conn, rules, service_id, specialist_id, day, part, now)
            if starts is None or not first <= day <= last:
                return WaitOutcome.NOT_BOOKABLE
            if starts:
                return WaitOutcome.HAS_TIME
            entry = waitlist.join(conn, client_id, service_id, specialist_id, day, part, now)
            if entry is None:
                return WaitOutcome.ALREADY
            audit.record(
                conn,
                actor=actor,
                action="waitlist.joined",
                entity="waitlist",
                entity_id=entry.id,
                now=now,
                day=day.isoformat(),
                service_id=service_id,
                specialist_id=specialist_id,
                part=part,
            )
            return WaitOutcome.JOINED

        return await self.db.write(work, "waitlist.join")

    async def leave(self, entry_id: int, client_id: int) -> WaitOutcome:
        now, actor = self.clock(), Actor.client(client_id)

        def work(conn: Conn) -> WaitOutcome:
            if waitlist.leave(conn, entry_id, client_id, now) is None:
                return WaitOutcome.NOT_FOUND
            audit.record(
                conn,
                actor=actor,
                action="waitlist.left",
                entity="waitlist",
                entity_id=entry_id,
                now=now,
            )
            return WaitOutcome.LEFT

        return await self.db.write(work, "waitlist.leave")

    async def accept(self, booking_id: int, client_id: int) -> BookingResult:
        """The held time becomes the client's booking (pending, if their bookings need the
        staff's approval), told and reminded like any other."""
        now, rules, actor = self.clock(), self.rules, Actor.client(client_id)

        def work(conn: Conn) -> BookingResult:
            booking = bookings.get(conn, booking_id)
            if booking is None or booking.client_id != client_id:
                return BookingResult(Outcome.NOT_FOUND)
            if not booking.is_held:
                entry = waitlist.of_hold(conn, booking_id)
                if booking.is_active and entry is not None and entry.status is WaitStatus.BOOKED:
                    return BookingResult(Outcome.ALREADY_BOOKED, booking)  # a double click
                return BookingResult(Outcome.OFFER_GONE, booking)
            assert booking.held_until is not None
            if booking.held_until <= now:  # expired, and the job has not come round yet
                release_in_tx(conn, rules, booking_id, SYSTEM, HOLD_EXPIRED_REASON, now)
                return BookingResult(Outcome.OFFER_GONE, booking)
            client = changes.standing(conn, rules, actor, client_id, now)
            assert client is not None
            if client.blocked:
                release_in_tx(conn, rules, booking_id, SYSTEM, HOLD_DECLINED_REASON, now)
                return BookingResult(Outcome.BLOCKED)
            service = catalog.get_service(conn, booking.service_id)
            assert service is not None  # a service with bookings is never deleted
            pending = rules.needs_approval(client, service)
            taken = waitlist.take_hold(conn, booking_id, now, awaiting_approval=pending)
            if taken is None:
                return BookingResult(Outcome.OFFER_GONE, booking)
            changes.announce(conn, rules, taken, actor, now, pending=pending)
            entry = waitlist.of_hold(conn, booking_id)
            if entry is not None:
                live = (WaitStatus.OFFERED,)
                waitlist.set_status(conn, entry.id, WaitStatus.BOOKED, now, only_from=live)
            audit.record(
                conn,
                actor=actor,
                action="booking.created",
                entity="booking",
                entity_id=booking_id,
                now=now,
                start=taken.start.isoformat(),
                service_id=taken.service_id,
                specialist_id=taken.specialist_id,
                from_waitlist=True,
                pending=pending,
            )
            return BookingResult(Outcome.BOOKED, taken)

        return await self.db.write(work, "waitlist.accept")

    async def decline(self, booking_id: int, client_id: int) -> BookingResult:
        """No thanks: the next in line is offered the time."""
        now, rules, actor = self.clock(), self.rules, Actor.client(client_id)

        def work(conn: Conn) -> BookingResult:
            booking = bookings.get(conn, booking_id)
            if booking is None or booking.client_id != client_id:
                return BookingResult(Outcome.NOT_FOUND)
            released = release_in_tx(conn, rules, booking_id, actor, HOLD_DECLINED_REASON, now)
            if released is None:
                return BookingResult(Outcome.OFFER_GONE, booking)
            return BookingResult(Outcome.CANCELLED, released)

        return await self.db.write(work, "waitlist.decline")

    async def expire_holds(self, limit: int = 100) -> list[int]:
        """Holds whose time ran out are cancelled and offered to the next in line; their ids.
        Each is taken by its guarded UPDATE, so two processes on one tick expire it once."""
        now, rules = self.clock(), self.rules

        def work(conn: Conn) -> list[int]:
            expired = []
            for held in waitlist.expired_holds(conn, now, limit):
                if release_in_tx(conn, rules, held.id, SYSTEM, HOLD_EXPIRED_REASON, now):
                    expired.append(held.id)
            return expired

        return await self.db.write(work, "waitlist.expire")

    async def sweep(self) -> list[int]:
        """Offer every day waited for whatever time is free in it now; the holds made. The
        tick's safety net: the units that free time offer it themselves."""
        now, rules = self.clock(), self.rules
        today = rules.today(now)
        if not await self.db.read(lambda c: waitlist.days_waited(c, today), "waitlist.days"):
            return []  # nobody waits: no write

        def work(conn: Conn) -> list[int]:
            return holds.offer_waited(conn, rules, now, None, lambda day: True)

        return await self.db.write(work, "waitlist.sweep")

    async def of_client(self, client_id: int) -> list[WaitDetails]:
        today = self.rules.today(self.clock())
        return await self.db.read(lambda c: waitlist.of_client(c, client_id, today), "waitlist")

    async def of_day(self, day: date) -> list[WaitDetails]:
        return await self.db.read(lambda c: waitlist.of_day(c, day), "waitlist.day")
