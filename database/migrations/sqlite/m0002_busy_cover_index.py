"""A covering index for reading who is busy when: the calendar reads every active booking of a
month (thousands of rows) and needs only (specialist, start, busy_until); with this index SQLite
answers from the index alone instead of visiting each table row (4.6 ms -> 1.8 ms for 4,040
bookings, benchmarks/booking.py)."""

from __future__ import annotations

import sqlite3

from database.migrations.base import MigrationContext

VERSION = 2
NAME = "covering index on active bookings (specialist_id, start_at, busy_until)"


def upgrade(conn: sqlite3.Connection, ctx: MigrationContext) -> None:
    conn.execute(
        "CREATE INDEX ix_bookings_active_busy ON bookings(specialist_id, start_at, busy_until)"
        " WHERE status = 'active'"
    )
