"""The outbox gains the notices of a booking the staff made for a client (/book, /move): the
admin chat's card (``card_staff``) and the client's news (``notice_booked``).

SQLite cannot change a CHECK constraint in place: the table is rebuilt, rows and ids kept. The
kinds are added to whatever list the table holds now (another migration may have added its own),
and its indexes are made again as they were."""

from __future__ import annotations

import sqlite3

from database.migrations.base import MigrationContext, add_outbox_kinds_sqlite

VERSION = 10
NAME = "outbox: notices of bookings the staff made"

NEW_KINDS = ("card_staff", "notice_booked")


def upgrade(conn: sqlite3.Connection, ctx: MigrationContext) -> None:
    add_outbox_kinds_sqlite(conn, NEW_KINDS, VERSION)
