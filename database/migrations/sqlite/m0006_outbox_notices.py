"""The outbox carries every message that follows a committed change, not only reminders: cards
to the admin chat, news to a client, the client's own confirmation (domain/notices.py). The
table keeps its name; it gains the kinds, the booking a move replaced, and a note (a reason).
SQLite cannot change a CHECK constraint in place: the table is rebuilt, rows and ids kept."""

from __future__ import annotations

import sqlite3

from database.migrations.base import MigrationContext

VERSION = 6
NAME = "outbox: notices and cards beside reminders"

KINDS = (
    "'reminder', 'feedback', 'card_booked', 'card_cancelled', 'card_rescheduled',"
    " 'notice_cancelled', 'notice_day_off', 'confirmation'"
)
COLUMNS = (
    "id, booking_id, kind, offset_minutes, due_at, status, attempts, reason, claimed_at,"
    " sent_at, updated_at, claimed_by, lease_until, attempt_started_at"
)


def upgrade(conn: sqlite3.Connection, ctx: MigrationContext) -> None:
    conn.execute(
        f"""CREATE TABLE reminders_v6 (
            id INTEGER PRIMARY KEY,
            booking_id INTEGER NOT NULL
                REFERENCES bookings(id) ON UPDATE CASCADE ON DELETE CASCADE,
            kind TEXT NOT NULL DEFAULT 'reminder' CHECK (kind IN ({KINDS})),
            offset_minutes INTEGER NOT NULL,
            due_at INTEGER NOT NULL,
            status TEXT NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'sending', 'sent', 'skipped', 'failed')),
            attempts INTEGER NOT NULL DEFAULT 0,
            reason TEXT,
            claimed_at INTEGER,
            sent_at INTEGER,
            updated_at INTEGER NOT NULL,
            claimed_by TEXT,
            lease_until INTEGER,
            attempt_started_at INTEGER,
            previous_booking_id INTEGER
                REFERENCES bookings(id) ON UPDATE CASCADE ON DELETE CASCADE,
            note TEXT,
            UNIQUE (booking_id, kind, offset_minutes)
        )"""
    )
    conn.execute(f"INSERT INTO reminders_v6 ({COLUMNS}) SELECT {COLUMNS} FROM reminders")
    conn.execute("DROP TABLE reminders")
    conn.execute("ALTER TABLE reminders_v6 RENAME TO reminders")
    conn.execute(
        "CREATE INDEX ix_reminders_pending_due ON reminders(due_at) WHERE status = 'pending'"
    )
    conn.execute("CREATE INDEX ix_reminders_booking ON reminders(booking_id)")
