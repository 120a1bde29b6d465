"""Reminder claims as leases: who claimed a row (``claimed_by``), until when (``lease_until``),
and whether its send was started (``attempt_started_at``). A claimed row never tried goes back
to pending when the lease ends; only a row whose send was started may be failed unknown."""

from __future__ import annotations

import sqlite3

from database.migrations.base import MigrationContext

VERSION = 5
NAME = "reminders: leases (claimed_by, lease_until, attempt_started_at)"


def upgrade(conn: sqlite3.Connection, ctx: MigrationContext) -> None:
    conn.execute("ALTER TABLE reminders ADD COLUMN claimed_by TEXT")
    conn.execute("ALTER TABLE reminders ADD COLUMN lease_until INTEGER")
    conn.execute("ALTER TABLE reminders ADD COLUMN attempt_started_at INTEGER")
    # Rows left 'sending' by the older code were in flight as far as anyone can tell.
    conn.execute("UPDATE reminders SET attempt_started_at = claimed_at WHERE status = 'sending'")
