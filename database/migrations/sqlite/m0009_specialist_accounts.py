"""Specialists' own Telegram accounts: a one-time link (/specialist_link) ties a Telegram user to
a specialist, who then gets their own agenda and the cards of their bookings in a private chat.
Links are stored as hashes of their codes; the outbox gains the specialist's cards."""

from __future__ import annotations

import sqlite3

from database.migrations.base import MigrationContext, add_outbox_kinds_sqlite

VERSION = 9
NAME = "specialist accounts and one-time links"

NEW_KINDS = ("specialist_booked", "specialist_cancelled", "specialist_moved")


def upgrade(conn: sqlite3.Connection, ctx: MigrationContext) -> None:
    conn.execute(
        """CREATE TABLE specialist_accounts (
            specialist_id INTEGER PRIMARY KEY
                REFERENCES specialists(id) ON UPDATE CASCADE ON DELETE CASCADE,
            user_id INTEGER NOT NULL UNIQUE,
            linked_at INTEGER NOT NULL
        )"""
    )
    conn.execute(
        """CREATE TABLE specialist_links (
            code_hash TEXT PRIMARY KEY,
            specialist_id INTEGER NOT NULL
                REFERENCES specialists(id) ON UPDATE CASCADE ON DELETE CASCADE,
            created_by INTEGER,
            created_at INTEGER NOT NULL,
            expires_at INTEGER NOT NULL,
            used_by INTEGER,
            used_at INTEGER
        )"""
    )
    conn.execute("CREATE INDEX ix_specialist_links_specialist ON specialist_links(specialist_id)")
    add_outbox_kinds_sqlite(conn, NEW_KINDS, VERSION)
