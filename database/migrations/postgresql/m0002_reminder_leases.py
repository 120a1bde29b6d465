"""Reminder claims as leases (see the SQLite migration 5)."""

from __future__ import annotations

from typing import Any

from database.migrations.base import MigrationContext

VERSION = 2
NAME = "reminders: leases (claimed_by, lease_until, attempt_started_at)"


def upgrade(conn: Any, ctx: MigrationContext) -> None:
    conn.execute(
        "ALTER TABLE reminders ADD COLUMN claimed_by TEXT,"
        " ADD COLUMN lease_until BIGINT, ADD COLUMN attempt_started_at BIGINT"
    )
    conn.execute("UPDATE reminders SET attempt_started_at = claimed_at WHERE status = 'sending'")
