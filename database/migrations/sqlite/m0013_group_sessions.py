"""Group sessions: a service takes up to ``capacity`` clients at one start (default 1, as
before), and each booking of a session holds a numbered seat.

A session is one specialist, one service, one start; its seats are its active bookings. The
decision (a seat left, no other session overlapping, not the client's second seat) is made in
the writer's transaction (services/placement.py, services/sessions.py). The indexes are the
backstop whatever code path writes:

- ``ux_bookings_active_seat`` (specialist_id, start_at, seat) WHERE active replaces
  ``ux_bookings_active_start`` (specialist_id, start_at). A booking takes the lowest seat free in
  its session, chosen inside the insert itself, so two writers that both read "one seat left"
  both pick that seat and the second insert fails: no seat is ever given twice. A booking of
  another service at a start where a session already is would take seat 0 of its own (empty)
  session and collide with the session's seat 0. With capacity 1 every seat is 0, so the index
  is exactly the old one.
- ``ux_bookings_active_client`` (specialist_id, start_at, client_id) WHERE active: one client
  never holds two seats of one session.
- The covering index of the busy-time queries gains service_id, which they now read (a session
  of the service itself does not block joining it).

Overlaps at different starts are, as before on SQLite, decided under the file's write lock (the
writer's BEGIN IMMEDIATE); PostgreSQL's constraints cover them too (its migration 10).
ADD COLUMN and index changes leave the table, and its triggers (migration 7), as they are.
Existing bookings get seat 0: they were unique by (specialist_id, start_at), so both new
unique indexes hold for them.
"""

from __future__ import annotations

import sqlite3

from database.migrations.base import MigrationContext

VERSION = 13
NAME = "group sessions: services.capacity, bookings.seat"

MAX_CAPACITY = 1000

STATEMENTS = (
    "ALTER TABLE services ADD COLUMN capacity INTEGER NOT NULL DEFAULT 1"
    f" CHECK (capacity BETWEEN 1 AND {MAX_CAPACITY})",
    "ALTER TABLE bookings ADD COLUMN seat INTEGER NOT NULL DEFAULT 0 CHECK (seat >= 0)",
    "DROP INDEX ux_bookings_active_start",
    "CREATE UNIQUE INDEX ux_bookings_active_seat ON bookings(specialist_id, start_at, seat)"
    " WHERE status = 'active'",
    "CREATE UNIQUE INDEX ux_bookings_active_client ON bookings(specialist_id, start_at, client_id)"
    " WHERE status = 'active'",
    "DROP INDEX ix_bookings_active_busy",
    "CREATE INDEX ix_bookings_active_busy"
    " ON bookings(specialist_id, start_at, busy_until, service_id) WHERE status = 'active'",
)


def upgrade(conn: sqlite3.Connection, ctx: MigrationContext) -> None:
    for statement in STATEMENTS:
        conn.execute(statement)
