"""The outbox gains the notices of a booking the staff made for a client (/book, /move): the
admin chat's card (``card_staff``) and the client's news (``notice_booked``).

SQLite cannot change a CHECK constraint in place: the table is rebuilt, rows and ids kept. The
kinds are added to whatever list the table holds now (another migration may have added its own),
and its indexes are made again as they were."""

from __future__ import annotations

import re
import sqlite3

from database.migrations.base import MigrationContext

VERSION = 10
NAME = "outbox: notices of bookings the staff made"

NEW_KINDS = ("card_staff", "notice_booked")
_KIND_CHECK = re.compile(r"CHECK\s*\(\s*kind\s+IN\s*\(([^)]*)\)\s*\)", re.IGNORECASE)


def with_kinds(table_sql: str, kinds: tuple[str, ...]) -> str:
    """The CREATE TABLE statement with ``kinds`` added to its CHECK on kind."""
    found = _KIND_CHECK.search(table_sql)
    if found is None:
        raise ValueError("the reminders table has no CHECK on kind")
    present = re.findall(r"'([^']*)'", found.group(1))
    listed = ", ".join(f"'{k}'" for k in [*present, *(k for k in kinds if k not in present)])
    return table_sql[: found.start(1)] + listed + table_sql[found.end(1) :]


def upgrade(conn: sqlite3.Connection, ctx: MigrationContext) -> None:
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
    columns = ", ".join(row[1] for row in conn.execute("PRAGMA table_info(reminders)"))
    rebuilt = re.sub(
        r"^\s*CREATE\s+TABLE\s+\"?reminders\"?",
        "CREATE TABLE reminders_v10",
        with_kinds(table_sql, NEW_KINDS),
        count=1,
        flags=re.IGNORECASE,
    )
    conn.execute(rebuilt)
    conn.execute(f"INSERT INTO reminders_v10 ({columns}) SELECT {columns} FROM reminders")
    conn.execute("DROP TABLE reminders")
    conn.execute("ALTER TABLE reminders_v10 RENAME TO reminders")
    for index in indexes:
        conn.execute(index)
