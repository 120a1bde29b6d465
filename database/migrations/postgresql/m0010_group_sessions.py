"""Group sessions (see the SQLite migration 13): services.capacity, bookings.seat, and the
overlap rule applied to sessions rather than to each booking.

A session is one specialist, one service, one start. Its bookings take the same time, so the old
``no_overlap`` (no two active bookings of one specialist overlap) would refuse the second seat.
An exclusion constraint fires when every operator says "conflict", so "overlap and not the same
session" (same service and same start) is written as two constraints, each an AND (btree_gist,
created by migration 1, gives the ``<>`` operator class for bigint):

- ``no_overlap``: same specialist, overlapping time, different start. Bookings at one start
  never conflict here, whatever their length.
- ``one_session_per_start``: same specialist, same start, different service.

Together they refuse exactly "overlapping, and not of one session". The unique indexes: a seat
is never given twice (``ux_bookings_active_seat``, which also makes the capacity hold when two
writers both read the last seat: both pick the same, lowest free seat), and one client never
holds two seats of one session (``ux_bookings_active_client``). With capacity 1 every seat is
0 and these are exactly the old rules. A violation (23P01, 23505 on these) rolls the unit back;
23P01 re-runs it whole, as before.
"""

from __future__ import annotations

from typing import Any

from database.migrations.base import MigrationContext

VERSION = 10
NAME = "group sessions: services.capacity, bookings.seat"

SQL = """
ALTER TABLE services ADD COLUMN capacity INTEGER NOT NULL DEFAULT 1
    CHECK (capacity BETWEEN 1 AND 1000);
ALTER TABLE bookings ADD COLUMN seat INTEGER NOT NULL DEFAULT 0 CHECK (seat >= 0);

ALTER TABLE bookings DROP CONSTRAINT no_overlap;
ALTER TABLE bookings ADD CONSTRAINT no_overlap EXCLUDE USING gist (
    specialist_id WITH =,
    int8range(start_at, busy_until, '[)') WITH &&,
    start_at WITH <>
) WHERE (status = 'active');
ALTER TABLE bookings ADD CONSTRAINT one_session_per_start EXCLUDE USING gist (
    specialist_id WITH =,
    start_at WITH =,
    service_id WITH <>
) WHERE (status = 'active');

DROP INDEX ux_bookings_active_start;
CREATE UNIQUE INDEX ux_bookings_active_seat ON bookings(specialist_id, start_at, seat)
    WHERE status = 'active';
CREATE UNIQUE INDEX ux_bookings_active_client ON bookings(specialist_id, start_at, client_id)
    WHERE status = 'active';
DROP INDEX ix_bookings_active_busy;
CREATE INDEX ix_bookings_active_busy ON bookings(specialist_id, start_at, busy_until, service_id)
    WHERE status = 'active';
"""


def upgrade(conn: Any, ctx: MigrationContext) -> None:
    conn.execute(SQL)
