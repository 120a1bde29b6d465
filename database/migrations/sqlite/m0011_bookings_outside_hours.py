"""A booking the staff placed outside the working hours on purpose (/book's or /move's explicit
override) says so: a later change of hours does not list it as left outside them (only a day
off does). ADD COLUMN leaves the table, and its triggers, as they are."""

from __future__ import annotations

import sqlite3

from database.migrations.base import MigrationContext

VERSION = 11
NAME = "bookings: outside_hours (placed outside the hours on purpose)"


def upgrade(conn: sqlite3.Connection, ctx: MigrationContext) -> None:
    conn.execute(
        "ALTER TABLE bookings ADD COLUMN outside_hours INTEGER NOT NULL DEFAULT 0"
        " CHECK (outside_hours IN (0, 1))"
    )
