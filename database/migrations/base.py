"""What every migration module gets; the runner lives in database/migrate.py."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

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


_KIND_CHECK = re.compile(r"CHECK\s*\(\s*kind\s+IN\s*\(([^)]*)\)\s*\)", re.IGNORECASE)


def with_kinds(table_sql: str, kinds: Sequence[str]) -> str:
    """A CREATE TABLE statement with ``kinds`` added to its CHECK on kind."""
    found = _KIND_CHECK.search(table_sql)
    if found is None:
        raise ValueError("the reminders table has no CHECK on kind")
    present = re.findall(r"'([^']*)'", found.group(1))
    listed = ", ".join(f"'{k}'" for k in [*present, *(k for k in kinds if k not in present)])
    return table_sql[: found.start(1)] + listed + table_sql[found.end(1) :]


def add_outbox_kinds_sqlite(conn: sqlite3.Connection, kinds: Sequence[str], version: int) -> None:
    """Add kinds to the outbox's CHECK, keeping whatever other migrations added. SQLite cannot
    change a CHECK in place: the table is rebuilt, rows, ids and indexes kept."""
    (table_sql,) = conn.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'reminders'"
    ).fetchone()
    indexes = [
        row[0]
        for row in conn.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'reminders'"
            " AND sql IS NOT NULL"
        )
    ]
    listed = ", ".join(row[1] for row in conn.execute("PRAGMA table_info(reminders)"))
    rebuilt = re.sub(
        r"^\s*CREATE\s+TABLE\s+\"?reminders\"?",
        f"CREATE TABLE reminders_v{version}",
        with_kinds(table_sql, kinds),
        count=1,
        flags=re.IGNORECASE,
    )
    conn.execute(rebuilt)
    conn.execute(f"INSERT INTO reminders_v{version} ({listed}) SELECT {listed} FROM reminders")
    conn.execute("DROP TABLE reminders")
    conn.execute(f"ALTER TABLE reminders_v{version} RENAME TO reminders")
    for index in indexes:
        conn.execute(index)


def add_outbox_kinds_postgres(conn: Any, kinds: Sequence[str]) -> None:
    """Add kinds to the outbox's CHECK, keeping whatever other migrations added."""
    row = conn.execute(
        "SELECT pg_get_constraintdef(oid) FROM pg_constraint"
        " WHERE conname = 'reminders_kind_check' AND conrelid = 'reminders'::regclass"
    ).fetchone()
    present = re.findall(r"'([^']*)'", row[0])
    listed = ", ".join(f"'{k}'" for k in [*present, *(k for k in kinds if k not in present)])
    conn.execute(
        f"""ALTER TABLE reminders DROP CONSTRAINT reminders_kind_check,
            ADD CONSTRAINT reminders_kind_check CHECK (kind IN ({listed}))"""
    )
