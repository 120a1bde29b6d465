"""What every migration module gets; the runner lives in database/migrate.py."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime

from pytz.tzinfo import BaseTzInfo


class MigrationError(RuntimeError):
    """A migration cannot proceed; the message says what the operator must fix."""


@dataclass(frozen=True)
class MigrationContext:
    tz: BaseTzInfo
    now: datetime


def table_exists(conn: sqlite3.Connection, name: str) -> bool:
    row = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)
    ).fetchone()
    return row is not None


def columns(conn: sqlite3.Connection, table: str) -> set[str]:
    return {str(row[1]) for row in conn.execute(f"PRAGMA table_info({table})")}
