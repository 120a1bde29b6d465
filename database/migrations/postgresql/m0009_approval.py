"""Approval before a booking is final, and blocked clients (see the SQLite migration 12)."""

from __future__ import annotations

from typing import Any

from database.migrations.base import MigrationContext, add_outbox_kinds_postgres

VERSION = 9
NAME = "approval: pending bookings, per-service approval, blocked clients"

NEW_KINDS = ("card_approval", "notice_approved", "notice_declined")


def upgrade(conn: Any, ctx: MigrationContext) -> None:
    conn.execute("ALTER TABLE services ADD COLUMN approval TEXT CHECK (approval IN ('on', 'off'))")
    conn.execute(
        "ALTER TABLE bookings ADD COLUMN awaiting_approval INTEGER NOT NULL DEFAULT 0"
        " CHECK (awaiting_approval IN (0, 1))"
    )
    conn.execute(
        "CREATE INDEX ix_bookings_awaiting ON bookings(created_at)"
        " WHERE awaiting_approval = 1 AND status = 'active'"
    )
    conn.execute("ALTER TABLE clients ADD COLUMN blocked_at BIGINT")
    conn.execute("ALTER TABLE clients ADD COLUMN block_reason TEXT")
    add_outbox_kinds_postgres(conn, NEW_KINDS)
