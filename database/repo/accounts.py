"""Specialists' Telegram accounts and the one-time links that make them."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from database.engine import Conn
from utils.timeutil import from_ts, to_ts


class LinkRow(NamedTuple):
    specialist_id: int
    expires_at: datetime
    used_by: int | None


def add_link(
    conn: Conn, specialist_id: int, code_hash: str, by: int | None, now: datetime, until: datetime
) -> None:
    """A new link for the specialist; their older unused links stop working."""
    conn.execute(
        "DELETE FROM specialist_links WHERE specialist_id = ? AND used_by IS NULL",
        (specialist_id,),
    )
    conn.execute(
        "INSERT INTO specialist_links (code_hash, specialist_id, created_by, created_at,"
        " expires_at) VALUES (?, ?, ?, ?, ?)",
        (code_hash, specialist_id, by, to_ts(now), to_ts(until)),
    )


def use_link(conn: Conn, code_hash: str, user_id: int, now: datetime) -> int | None:
    """Marks an unused, unexpired link used by ``user_id``: its specialist, or None."""
    row = conn.execute(
        "UPDATE specialist_links SET used_by = ?, used_at = ?"
        " WHERE code_hash = ? AND used_by IS NULL AND expires_at > ? RETURNING specialist_id",
        (user_id, to_ts(now), code_hash, to_ts(now)),
    ).fetchone()
    return None if row is None else int(row[0])


def get_link(conn: Conn, code_hash: str) -> LinkRow | None:
    row = conn.execute(
        "SELECT specialist_id, expires_at, used_by FROM specialist_links WHERE code_hash = ?",
        (code_hash,),
    ).fetchone()
    return None if row is None else LinkRow(int(row[0]), from_ts(row[1]), row[2])


def link_account(conn: Conn, specialist_id: int, user_id: int, now: datetime) -> None:
    """One account per specialist and one specialist per account: a new link replaces both."""
    conn.execute(
        "DELETE FROM specialist_accounts WHERE specialist_id = ? OR user_id = ?",
        (specialist_id, user_id),
    )
    conn.execute(
        "INSERT INTO specialist_accounts (specialist_id, user_id, linked_at) VALUES (?, ?, ?)",
        (specialist_id, user_id, to_ts(now)),
    )


def unlink(conn: Conn, specialist_id: int) -> int | None:
    """The account that was linked, or None if there was none."""
    row = conn.execute(
        "DELETE FROM specialist_accounts WHERE specialist_id = ? RETURNING user_id",
        (specialist_id,),
    ).fetchone()
    return None if row is None else int(row[0])


def specialist_of(conn: Conn, user_id: int) -> int | None:
    row = conn.execute(
        "SELECT specialist_id FROM specialist_accounts WHERE user_id = ?", (user_id,)
    ).fetchone()
    return None if row is None else int(row[0])


def account_of(conn: Conn, specialist_id: int) -> int | None:
    row = conn.execute(
        "SELECT user_id FROM specialist_accounts WHERE specialist_id = ?", (specialist_id,)
    ).fetchone()
    return None if row is None else int(row[0])


def all_accounts(conn: Conn) -> list[tuple[int, int]]:
    return [
        (int(sid), int(uid))
        for sid, uid in conn.tuples(
            "SELECT specialist_id, user_id FROM specialist_accounts ORDER BY specialist_id"
        )
    ]
