"""The waitlist, and holds.

- ``waitlist``: a client waiting for a time on one day (a service, optionally a specialist and a
  part of the day), first come first served (by id). One live entry per client, service and day.
- ``bookings.held_until``: a hold is a booking row the bot makes for the first waiter when a
  matching time frees up, in the transaction that freed it. It is active, so it holds its time
  (or its seat) under the same unique indexes as any booking, and every reader of busy times
  sees it; it becomes the client's booking when they press Book (``held_until`` cleared), and is
  cancelled when they decline or it expires (the next waiter is offered the time in that
  transaction).
- The outbox gains the offer to the client.

ADD COLUMN leaves the bookings table, and its triggers, as they are; the outbox is rebuilt for
its CHECK (``add_outbox_kinds_sqlite``)."""

from __future__ import annotations

import sqlite3

from database.migrations.base import MigrationContext, add_outbox_kinds_sqlite

VERSION = 14
NAME = "waitlist and holds"

NEW_KINDS = ("waitlist_offer",)


def upgrade(conn: sqlite3.Connection, ctx: MigrationContext) -> None:
    conn.execute(
        """CREATE TABLE waitlist (
            id INTEGER PRIMARY KEY,
            client_id INTEGER NOT NULL REFERENCES clients(id) ON UPDATE CASCADE ON DELETE CASCADE,
            service_id INTEGER NOT NULL
                REFERENCES services(id) ON UPDATE CASCADE ON DELETE CASCADE,
            specialist_id INTEGER REFERENCES specialists(id) ON UPDATE CASCADE ON DELETE CASCADE,
            day TEXT NOT NULL CHECK (day GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
            part TEXT CHECK (part IN ('morning', 'afternoon', 'evening')),
            status TEXT NOT NULL DEFAULT 'waiting'
                CHECK (status IN ('waiting', 'offered', 'booked', 'passed', 'left')),
            booking_id INTEGER REFERENCES bookings(id) ON UPDATE CASCADE ON DELETE SET NULL,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        )"""
    )
    conn.execute(
        "CREATE INDEX ix_waitlist_day ON waitlist(day, id) WHERE status IN ('waiting', 'offered')"
    )
    conn.execute(
        "CREATE UNIQUE INDEX ux_waitlist_live ON waitlist(client_id, service_id, day)"
        " WHERE status IN ('waiting', 'offered')"
    )
    conn.execute("CREATE INDEX ix_waitlist_booking ON waitlist(booking_id)")
    conn.execute("ALTER TABLE bookings ADD COLUMN held_until INTEGER")
    conn.execute(
        "CREATE INDEX ix_bookings_held ON bookings(held_until)"
        " WHERE held_until IS NOT NULL AND status = 'active'"
    )
    add_outbox_kinds_sqlite(conn, NEW_KINDS, VERSION)
