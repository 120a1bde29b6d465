"""Clients rate a visit 1-5 after it (FEEDBACK_DELAY_MINUTES after the end)."""

from __future__ import annotations

import sqlite3

from database.migrations.base import MigrationContext

VERSION = 3
NAME = "bookings.rating and rated_at"


def upgrade(conn: sqlite3.Connection, ctx: MigrationContext) -> None:
    conn.execute("ALTER TABLE bookings ADD COLUMN rating INTEGER CHECK (rating BETWEEN 1 AND 5)")
    conn.execute("ALTER TABLE bookings ADD COLUMN rated_at INTEGER")
