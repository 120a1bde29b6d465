"""Usernames are found with lower(username) = lower(?), SQL both engines speak, instead of
SQLite's COLLATE NOCASE: the index follows."""

from __future__ import annotations

import sqlite3

from database.migrations.base import MigrationContext

VERSION = 4
NAME = "clients: index on lower(username)"


def upgrade(conn: sqlite3.Connection, ctx: MigrationContext) -> None:
    conn.execute("DROP INDEX IF EXISTS ix_clients_username")
    conn.execute("CREATE INDEX ix_clients_username ON clients(lower(username))")
