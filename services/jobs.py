"""Background work the scheduler runs: closing past bookings, and giving imported bookings
their reminders. (Delivering due reminders is services/outbox.py.)"""

from __future__ import annotations

from database.engine import Conn, Database
from database.repo import audit, bookings, outbox
from domain.actors import SYSTEM
from domain.rules import Rules
from utils.timeutil import Clock, system_clock


class JobsService:
    def __init__(self, db: Database, rules: Rules, clock: Clock = system_clock) -> None:
        self.db = db
        self.rules = rules
        self.clock = clock

    async def complete_past(self, limit: int = 500) -> int:
        """Active bookings whose end has passed become completed (admins may still mark no-show)."""
        now = self.clock()

        def work(conn: Conn) -> int:
            ended = bookings.complete_ended(conn, now, limit)
            for booking_id in ended:
                audit.record(
                    conn,
                    actor=SYSTEM,
                    action="booking.completed",
                    entity="booking",
                    entity_id=booking_id,
                    now=now,
                    automatic=True,
                )
            return len(ended)

        return await self.db.write(work, "complete_past")

    async def backfill_outbox(self) -> int:
        """Reminder rows for future bookings that have none (those imported from the older
        layout, which had no reminders): every booking is reminded the same way."""
        now, rules = self.clock(), self.rules

        def work(conn: Conn) -> int:
            missing = bookings.active_without_outbox(conn, now)
            for booking in missing:
                outbox.insert(
                    conn, booking.id, rules.outbox_rows(booking.start, booking.end, now), now
                )
            return len(missing)

        return await self.db.write(work, "backfill_outbox")
