"""Approval before a booking is final, and blocked clients.

- ``services.approval``: the service's own say ('on' / 'off'); NULL follows APPROVAL.
- ``bookings.awaiting_approval``: a pending booking. It stays 'active', so it holds its time
  under the same unique index (and, on PostgreSQL, the same exclusion constraint) as any other;
  Approve clears the flag, Decline cancels it. The partial index finds the ones overdue.
- ``clients.blocked_at`` / ``block_reason``: /block and /unblock.
- The outbox gains the admin chat's approval card and the client's answer either way.

ADD COLUMN leaves the bookings table, and its triggers, as they are; the outbox is rebuilt for
its CHECK (``add_outbox_kinds_sqlite``)."""

from __future__ import annotations

import sqlite3

from database.migrations.base import MigrationContext, add_outbox_kinds_sqlite

VERSION = 12
NAME = "approval: pending bookings, per-service approval, blocked clients"

NEW_KINDS = ("card_approval", "notice_approved", "notice_declined")


def upgrade(conn: sqlite3.Connection, ctx: MigrationContext) -> None:
    conn.execute("ALTER TABLE services ADD COLUMN approval TEXT CHECK (approval IN ('on', 'off'))")
    conn.execute(
        "ALTER TABLE bookings ADD COLUMN awaiting_approval INTEGER NOT NULL DEFAULT 0"
        " CHECK (awaiting_approval IN (0, 1))"
    )
    conn.execute(
        "CREATE INDEX ix_bookings_awaiting ON bookings(created_at)"
        " WHERE awaiting_approval = 1 AND status = 'active'"
    )
    conn.execute("ALTER TABLE clients ADD COLUMN blocked_at INTEGER")
    conn.execute("ALTER TABLE clients ADD COLUMN block_reason TEXT")
    add_outbox_kinds_sqlite(conn, NEW_KINDS, VERSION)
