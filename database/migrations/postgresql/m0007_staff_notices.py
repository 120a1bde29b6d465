"""The outbox gains the notices of a booking the staff made for a client (see the SQLite
migration 10). The kinds are added to whatever list the constraint holds now."""

from __future__ import annotations

from typing import Any

from database.migrations.base import MigrationContext, add_outbox_kinds_postgres

VERSION = 7
NAME = "outbox: notices of bookings the staff made"

NEW_KINDS = ("card_staff", "notice_booked")


def upgrade(conn: Any, ctx: MigrationContext) -> None:
    add_outbox_kinds_postgres(conn, NEW_KINDS)
