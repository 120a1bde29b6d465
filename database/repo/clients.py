"""Clients, keyed by their Telegram user id."""

from __future__ import annotations

from datetime import datetime

from database.engine import Conn
from database.repo import rows
from domain.clients import Client
from domain.phones import phone_digits
from utils.timeutil import to_ts


def ensure(conn: Conn, client_id: int, now: datetime) -> None:
    ts = to_ts(now)
    conn.execute_later(
        "INSERT INTO clients (id, created_at, updated_at) VALUES (?, ?, ?)"
        " ON CONFLICT (id) DO NOTHING",
        (client_id, ts, ts),
    )


def upsert(
    conn: Conn,
    *,
    client_id: int,
    username: str | None,
    first_name: str,
    language: str | None,
    now: datetime,
) -> Client:
    """Created on first contact, kept up to date from Telegram; a chosen language is kept."""
    ts = to_ts(now)
    row = conn.execute(
        """INSERT INTO clients (id, username, first_name, language, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT (id) DO UPDATE SET
               username = excluded.username,
               first_name = excluded.first_name,
               language = COALESCE(clients.language, excluded.language),
               is_reachable = 1,
               updated_at = excluded.updated_at
           RETURNING *""",
        (client_id, username, first_name, language, ts, ts),
    ).fetchone()
    return rows.client(row)


FIELDS = frozenset({"name", "phone", "language", "is_reachable"})


def update(conn: Conn, client_id: int, now: datetime, **fields: object) -> Client | None:
    if not fields or set(fields) - FIELDS:
        raise ValueError(f"cannot update client fields {sorted(fields)}")
    assignments = ", ".join(f"{name} = ?" for name in fields)
    row = conn.execute(
        f"UPDATE clients SET {assignments}, updated_at = ? WHERE id = ? RETURNING *",
        (*fields.values(), to_ts(now), client_id),
    ).fetchone()
    return None if row is None else rows.client(row)


def set_blocked(
    conn: Conn, client_id: int, now: datetime, *, blocked: bool, reason: str | None = None
) -> Client | None:
    """/block (a reason, or none) and /unblock; None if there is no such client."""
    ts = to_ts(now)
    row = conn.execute(
        "UPDATE clients SET blocked_at = ?, block_reason = ?, updated_at = ? WHERE id = ?"
        " RETURNING *",
        (ts if blocked else None, reason if blocked else None, ts, client_id),
    ).fetchone()
    return None if row is None else rows.client(row)


def get(conn: Conn, client_id: int) -> Client | None:
    row = conn.execute("SELECT * FROM clients WHERE id = ?", (client_id,)).fetchone()
    return None if row is None else rows.client(row)


def find_by_username(conn: Conn, username: str) -> Client | None:
    row = conn.execute(
        "SELECT * FROM clients WHERE lower(username) = lower(?) ORDER BY updated_at DESC LIMIT 1",
        (username,),
    ).fetchone()
    return None if row is None else rows.client(row)


def find_by_phone(conn: Conn, digits: str) -> Client | None:
    """The client whose phone has these digits: one on Telegram before one without, then the
    latest updated. LIKE narrows by the digits in order; the comparison itself is exact."""
    pattern = "%" + "%".join(digits) + "%"
    found = conn.execute(
        "SELECT * FROM clients WHERE phone LIKE ? ORDER BY (id > 0) DESC, updated_at DESC, id",
        (pattern,),
    )
    for row in found:
        if phone_digits(row["phone"]) == digits:
            return rows.client(row)
    return None


def insert_offline(conn: Conn, name: str, phone: str, now: datetime) -> Client | None:
    """A client without Telegram, under the next free negative id (below every id there is),
    never reachable. None if a concurrent transaction took that id first (PostgreSQL): the
    caller looks again."""
    ts = to_ts(now)
    row = conn.execute(
        """INSERT INTO clients (id, first_name, name, phone, is_reachable, created_at, updated_at)
           SELECT CASE WHEN MIN(id) < 0 THEN MIN(id) ELSE 0 END - 1, ?, ?, ?, 0, ?, ?
           FROM clients WHERE TRUE
           ON CONFLICT (id) DO NOTHING
           RETURNING *""",
        (name, name, phone, ts, ts),
    ).fetchone()
    return None if row is None else rows.client(row)
