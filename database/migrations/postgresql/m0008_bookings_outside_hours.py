"""Bookings placed outside the working hours on purpose (see the SQLite migration 11)."""

from __future__ import annotations

from typing import Any

from database.migrations.base import MigrationContext

VERSION = 8
NAME = "bookings: outside_hours (placed outside the hours on purpose)"


def upgrade(conn: Any, ctx: MigrationContext) -> None:
    conn.execute(
        "ALTER TABLE bookings ADD COLUMN outside_hours INTEGER NOT NULL DEFAULT 0"
        " CHECK (outside_hours IN (0, 1))"
    )
