"""Specialists' own Telegram accounts and one-time links (see the SQLite migration 9)."""

from __future__ import annotations

from typing import Any

from database.migrations.base import MigrationContext, add_outbox_kinds_postgres

VERSION = 6
NAME = "specialist accounts and one-time links"

NEW_KINDS = ("specialist_booked", "specialist_cancelled", "specialist_moved")


def upgrade(conn: Any, ctx: MigrationContext) -> None:
    conn.execute(
        """CREATE TABLE specialist_accounts (
            specialist_id BIGINT PRIMARY KEY
                REFERENCES specialists(id) ON UPDATE CASCADE ON DELETE CASCADE,
            user_id BIGINT NOT NULL UNIQUE,
            linked_at BIGINT NOT NULL
        )"""
    )
    conn.execute(
        """CREATE TABLE specialist_links (
            code_hash TEXT PRIMARY KEY,
            specialist_id BIGINT NOT NULL
                REFERENCES specialists(id) ON UPDATE CASCADE ON DELETE CASCADE,
            created_by BIGINT,
            created_at BIGINT NOT NULL,
            expires_at BIGINT NOT NULL,
            used_by BIGINT,
            used_at BIGINT
        )"""
    )
    conn.execute("CREATE INDEX ix_specialist_links_specialist ON specialist_links(specialist_id)")
    add_outbox_kinds_postgres(conn, NEW_KINDS)
