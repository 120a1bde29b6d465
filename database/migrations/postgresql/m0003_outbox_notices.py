"""The outbox carries notices and cards beside reminders (see the SQLite migration 6)."""

from __future__ import annotations

from typing import Any

from database.migrations.base import MigrationContext

VERSION = 3
NAME = "outbox: notices and cards beside reminders"


def upgrade(conn: Any, ctx: MigrationContext) -> None:
    conn.execute(
        """ALTER TABLE reminders DROP CONSTRAINT reminders_kind_check,
           ADD CONSTRAINT reminders_kind_check CHECK (kind IN (
               'reminder', 'feedback', 'card_booked', 'card_cancelled', 'card_rescheduled',
               'notice_cancelled', 'notice_day_off', 'confirmation')),
           ADD COLUMN previous_booking_id BIGINT
               REFERENCES bookings(id) ON UPDATE CASCADE ON DELETE CASCADE,
           ADD COLUMN note TEXT"""
    )
    conn.execute("CREATE INDEX ix_reminders_booking ON reminders(booking_id)")
