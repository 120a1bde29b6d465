"""The audit log (who changed what, written in the change's transaction) and small app facts."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime

from domain.actors import Actor
from utils.timeutil import to_ts


def record(
    conn: sqlite3.Connection,
    *,
    actor: Actor,
    action: str,
    entity: str,
    entity_id: int | None,
    now: datetime,
    **details: object,
) -> None:
    conn.execute(
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


def get_state(conn: sqlite3.Connection, key: str) -> str | None:
    row = conn.execute("SELECT value FROM app_state WHERE key = ?", (key,)).fetchone()
    return None if row is None else str(row[0])


def set_state(conn: sqlite3.Connection, key: str, value: str) -> None:
    conn.execute(
        "INSERT INTO app_state (key, value) VALUES (?, ?)"
        " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        (key, value),
    )
