"""Staff notes about clients (/note)."""

from __future__ import annotations

from datetime import datetime

from database.engine import Conn
from domain.clients import ClientNote
from utils.timeutil import from_ts, to_ts


def add(conn: Conn, client_id: int, author_id: int | None, text: str, now: datetime) -> ClientNote:
    row = conn.execute(
        "INSERT INTO client_notes (client_id, author_id, text, created_at) VALUES (?, ?, ?, ?)"
        " RETURNING id",
        (client_id, author_id, text, to_ts(now)),
    ).fetchone()
    return ClientNote(int(row[0]), client_id, author_id, text, now)


def of_client(conn: Conn, client_id: int, limit: int) -> list[ClientNote]:
    """The newest ``limit`` notes, newest first."""
    found = conn.tuples(
        "SELECT id, client_id, author_id, text, created_at FROM client_notes"
        " WHERE client_id = ? ORDER BY id DESC LIMIT ?",
        (client_id, limit),
    )
    return [ClientNote(i, c, a, text, from_ts(at)) for i, c, a, text, at in found]
