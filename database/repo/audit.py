"""The audit log (who changed what, written in the change's transaction) and small app facts."""

from __future__ import annotations

import json
from datetime import datetime

from database.engine import Conn
from domain.actors import Actor
from utils.timeutil import to_ts


def record(
    conn: Conn,
    *,
    actor: Actor,
    action: str,
    entity: str,
    entity_id: int | None,
    now: datetime,
    **details: object,
) -> None:
    conn.execute_later(
        """INSERT INTO audit_log (at, actor_id, actor_role, action, entity, entity_id, details)
           VALUES (?, ?, ?, ?, ?, ?, ?)""",
        (
            to_ts(now),
            actor.id,
            actor.role.value,
            action,
            entity,
            entity_id,
            json.dumps(details, ensure_ascii=False, default=str, sort_keys=True),
        ),
    )


# ---------------------------------------------------------------- small key-value state


def get_state(conn: Conn, key: str) -> str | None:
    row = conn.execute("SELECT value FROM app_state WHERE key = ?", (key,)).fetchone()
    return None if row is None else str(row[0])


def set_state(conn: Conn, key: str, value: str) -> None:
    conn.execute(
        "INSERT INTO app_state (key, value) VALUES (?, ?)"
        " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (key, value),
    )


def claim_state(conn: Conn, key: str, value: str) -> bool:
    """Set ``key`` to ``value`` unless it holds it already, in one statement: True for the one
    caller that changed it, however many processes ask at once."""
    row = conn.execute(
        "INSERT INTO app_state (key, value) VALUES (?, ?)"
        " ON CONFLICT (key) DO UPDATE SET value = excluded.value"
        " WHERE app_state.value <> excluded.value"
        " RETURNING key",
        (key, value),
    ).fetchone()
    return row is not None
