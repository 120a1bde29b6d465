"""Staff notes about a client (/note): who wrote each and when. Clients never see them."""

from __future__ import annotations

import sqlite3

from database.migrations.base import MigrationContext

VERSION = 8
NAME = "client notes"


def upgrade(conn: sqlite3.Connection, ctx: MigrationContext) -> None:
    conn.execute(
        """CREATE TABLE client_notes (
            id INTEGER PRIMARY KEY,
            client_id INTEGER NOT NULL
                REFERENCES clients(id) ON UPDATE CASCADE ON DELETE CASCADE,
            author_id INTEGER,
            text TEXT NOT NULL CHECK (length(text) BETWEEN 1 AND 500),
            created_at INTEGER NOT NULL
        )"""
    )
    conn.execute("CREATE INDEX ix_client_notes_client ON client_notes(client_id, id)")
