"""Pending bookings: the staff's Approve and Decline, the list of those waiting, and the
timeout that declines the ones nobody answered (or whose start came first).

Which bookings are pending is decided when they are made (``Rules.needs_approval``, written by
services/changes.py). A decision takes the pending state with one guarded UPDATE
(``approval.take_pending``), so of two admins pressing at once, or an Approve and the timeout,
exactly one wins; the other is told it was already decided.
"""

from __future__ import annotations

from datetime import datetime

from database.engine import Conn, Database
from database.repo import accounts, approval, audit, bookings, outbox
from domain.actors import SYSTEM, Actor
from domain.bookings import APPROVAL_TIMEOUT_REASON, DECLINED_REASON, BookingDetails
from domain.outcomes import BookingResult, Outcome
from domain.rules import Rules
from services import changes, holds
from utils.timeutil import Clock, system_clock


def _undecided(conn: Conn, booking_id: int) -> BookingResult:
    booking = bookings.get(conn, booking_id)
    return BookingResult(Outcome.NOT_FOUND if booking is None else Outcome.NOT_PENDING, booking)


def approve_in_tx(
    conn: Conn, rules: Rules, booking_id: int, actor: Actor, now: datetime
) -> BookingResult:
    """The booking final: its reminders from now on, the client told (with the .ics), its
    specialist's card."""
    taken = approval.take_pending(conn, booking_id, now)
    if taken is None:
        return _undecided(conn, booking_id)
    rows = [
        *rules.outbox_rows(taken.start, taken.end, now),
        *rules.notices_after_decision(now, approved=True),
    ]
    if accounts.account_of(conn, taken.specialist_id) is not None:
        rows.append(rules.specialist_card(now, replaced=taken.rescheduled_from))
    outbox.insert(conn, booking_id, rows, now)
    audit.record(
        conn,
        actor=actor,
        action="booking.approved",
        entity="booking",
        entity_id=booking_id,
        now=now,
    )
    return BookingResult(Outcome.APPROVED, taken)


def decline_in_tx(
    conn: Conn, rules: Rules, booking_id: int, actor: Actor, reason: str, now: datetime
) -> BookingResult:
    """The booking cancelled (its time free again) and the client told why."""
    taken = approval.take_pending(conn, booking_id, now)
    if taken is None:
        return _undecided(conn, booking_id)
    # Taken from pending above, so the cancel cannot find it changed; its specialist never heard
    # of it.
    cancelled = changes.cancel_in_tx(conn, taken, actor, reason, now, tell_specialist=False)
    assert cancelled is not None
    outbox.insert(
        conn, booking_id, rules.notices_after_decision(now, approved=False, reason=reason), now
    )
    holds.offer_freed(conn, rules, now, [holds.freed_by(rules, cancelled)])
    audit.record(
        conn,
        actor=actor,
        action="booking.declined",
        entity="booking",
        entity_id=booking_id,
        now=now,
        reason=reason,
    )
    return BookingResult(Outcome.DECLINED, cancelled)


class ApprovalService:
    def __init__(self, db: Database, rules: Rules, clock: Clock = system_clock) -> None:
        self.db = db
        self.rules = rules
        self.clock = clock

    async def approve(self, booking_id: int, actor: Actor) -> BookingResult:
        now, rules = self.clock(), self.rules
        return await self.db.write(
            lambda conn: approve_in_tx(conn, rules, booking_id, actor, now), "approve"
        )

    async def decline(
        self, booking_id: int, actor: Actor, reason: str = DECLINED_REASON
    ) -> BookingResult:
        now, rules = self.clock(), self.rules
        return await self.db.write(
            lambda conn: decline_in_tx(conn, rules, booking_id, actor, reason, now), "decline"
        )

    async def pending(self) -> list[BookingDetails]:
        """Every booking waiting for an answer, the oldest request first."""
        return await self.db.read(approval.pending, "pending")

    async def decline_overdue(self, limit: int = 100) -> list[int]:
        """Pending bookings nobody answered within APPROVAL_TIMEOUT_MINUTES, or whose start has
        come, are declined (the clients told); their ids. Each is taken by its guarded UPDATE,
        so two processes on the same tick decline it once."""
        now, rules = self.clock(), self.rules

        def work(conn: Conn) -> list[int]:
            declined = []
            for booking in approval.overdue(conn, rules.approval_overdue_before(now), now, limit):
                result = decline_in_tx(
                    conn, rules, booking.id, SYSTEM, APPROVAL_TIMEOUT_REASON, now
                )
                if result.outcome is Outcome.DECLINED:
                    declined.append(booking.id)
            return declined

        return await self.db.write(work, "decline_overdue")
