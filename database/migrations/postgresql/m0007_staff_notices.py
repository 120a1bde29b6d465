"""The outbox gains the notices of a booking the staff made for a client (see the SQLite
migration 10). The kinds are added to whatever list the constraint holds now."""

from __future__ import annotations

import re
from typing import Any

from database.migrations.base import MigrationContext

VERSION = 7
NAME = "outbox: notices of bookings the staff made"

NEW_KINDS = ("card_staff", "notice_booked")


def upgrade(conn: Any, ctx: MigrationContext) -> None:
    row = conn.execute(
        "SELECT pg_get_constraintdef(oid) FROM pg_constraint"
        " WHERE conname = 'reminders_kind_check' AND conrelid = 'reminders'::regclass"
    ).fetchone()
    present = re.findall(r"'([^']*)'", row[0])
    kinds = [*present, *(k for k in NEW_KINDS if k not in present)]
    listed = ", ".join(f"'{k}'" for k in kinds)
    conn.execute(
        f"""ALTER TABLE reminders DROP CONSTRAINT reminders_kind_check,
            ADD CONSTRAINT reminders_kind_check CHECK (kind IN ({listed}))"""
    )
