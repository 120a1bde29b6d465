"""The catalog and the staff: services, specialists, and who offers what."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from database.engine import Conn
from database.repo import rows
from domain.catalog import Service, ServiceInfo, Specialist
from utils.timeutil import to_ts

# ---------------------------------------------------------------- services


def get_service(conn: Conn, service_id: int) -> Service | None:
    row = conn.execute("SELECT * FROM services WHERE id = ?", (service_id,)).fetchone()
    return None if row is None else rows.service(row)


def list_services(conn: Conn) -> list[ServiceInfo]:
    """Every service, each with how many active specialists offer it, in display order."""
    found = conn.execute(
        """SELECT s.*,
                  (SELECT COUNT(*) FROM specialist_services ss
                   JOIN specialists sp ON sp.id = ss.specialist_id
                   WHERE ss.service_id = s.id AND sp.is_active = 1) AS offered_by
           FROM services s ORDER BY s.sort_order, s.id"""
    )
    return [ServiceInfo(rows.service(r), int(r["offered_by"])) for r in found]


def insert_service(
    conn: Conn,
    *,
    name: str,
    duration_minutes: int,
    price: int,
    now: datetime,
    description: str = "",
    buffer_minutes: int = 0,
) -> int:
    ts = to_ts(now)
    row = conn.execute(
        """INSERT INTO services (name, description, duration_minutes, price, buffer_minutes,
                                 sort_order, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, (SELECT COALESCE(MAX(sort_order), 0) + 1 FROM services), ?, ?)
           RETURNING id""",
        (name, description, duration_minutes, price, buffer_minutes, ts, ts),
    ).fetchone()
    return int(row[0])


SERVICE_FIELDS = frozenset(
    {"name", "description", "duration_minutes", "price", "buffer_minutes", "is_active"}
) | {"capacity", "approval"}


def update_service(conn: Conn, service_id: int, now: datetime, **fields: object) -> bool:
    unknown = set(fields) - SERVICE_FIELDS
    if unknown or not fields:
        raise ValueError(f"cannot update service fields {sorted(unknown) or 'none'}")
    assignments = ", ".join(f"{name} = ?" for name in fields)
    cur = conn.execute(
        f"UPDATE services SET {assignments}, updated_at = ? WHERE id = ?",
        (*fields.values(), to_ts(now), service_id),
    )
    return int(cur.rowcount) == 1


def delete_service(conn: Conn, service_id: int) -> bool:
    """Deletes a service no booking references; sqlite3.IntegrityError (RESTRICT) otherwise."""
    return int(conn.execute("DELETE FROM services WHERE id = ?", (service_id,)).rowcount) == 1


# ---------------------------------------------------------------- specialists


def get_specialist(conn: Conn, specialist_id: int) -> Specialist | None:
    row = conn.execute("SELECT * FROM specialists WHERE id = ?", (specialist_id,)).fetchone()
    return None if row is None else rows.specialist(row)


def list_specialists(conn: Conn, *, active_only: bool) -> list[Specialist]:
    sql = "SELECT * FROM specialists"
    if active_only:
        sql += " WHERE is_active = 1"
    return [rows.specialist(r) for r in conn.execute(sql + " ORDER BY sort_order, id")]


def specialists_for_service(conn: Conn, service_id: int) -> list[Specialist]:
    """Active specialists offering the service, in display order."""
    found = conn.execute(
        """SELECT sp.* FROM specialists sp
           JOIN specialist_services ss ON ss.specialist_id = sp.id
           WHERE ss.service_id = ? AND sp.is_active = 1
           ORDER BY sp.sort_order, sp.id""",
        (service_id,),
    )
    return [rows.specialist(r) for r in found]


def insert_specialist(conn: Conn, name: str, now: datetime) -> int:
    row = conn.execute(
        """INSERT INTO specialists (name, sort_order, created_at)
           VALUES (?, (SELECT COALESCE(MAX(sort_order), 0) + 1 FROM specialists), ?)
           RETURNING id""",
        (name, to_ts(now)),
    ).fetchone()
    return int(row[0])


# What the first migration names the specialist it creates, in every language: the first start
# gives it the name of DEFAULT_LANGUAGE (services/schedule.ScheduleService.seed_weekly_hours).
PLACEHOLDER_SPECIALIST_NAME = "Master"


def name_placeholder_specialist(conn: Conn, name: str) -> int | None:
    """Names the migration's specialist (the first row, still called "Master"); its id, or None
    when there is no such row (renamed already, or a database from elsewhere)."""
    row = conn.execute(
        """UPDATE specialists SET name = ?
           WHERE id = (SELECT MIN(id) FROM specialists) AND name = ?
           RETURNING id""",
        (name, PLACEHOLDER_SPECIALIST_NAME),
    ).fetchone()
    return None if row is None else int(row[0])


def rename_specialist(conn: Conn, specialist_id: int, name: str) -> bool:
    cur = conn.execute("UPDATE specialists SET name = ? WHERE id = ?", (name, specialist_id))
    return int(cur.rowcount) == 1


def lock_specialist(conn: Conn, specialist_id: int) -> None:
    """PostgreSQL: hold the row until commit, so a booking being inserted for this specialist
    (its foreign key check shares the row) commits before, or waits and then fails. SQLite's
    write lock already serialises every writer."""
    if conn.dialect == "postgresql":
        conn.execute("SELECT id FROM specialists WHERE id = ? FOR UPDATE", (specialist_id,))


def count_specialists(conn: Conn) -> int:
    return int(conn.execute("SELECT COUNT(*) FROM specialists").fetchone()[0])


def delete_specialist(conn: Conn, specialist_id: int) -> bool:
    """Deletes a specialist no booking references, with their hours, days and services
    (ON DELETE CASCADE); an IntegrityError (RESTRICT) if a booking refers to them."""
    cur = conn.execute("DELETE FROM specialists WHERE id = ?", (specialist_id,))
    return int(cur.rowcount) == 1


def set_specialist_active(conn: Conn, specialist_id: int, active: bool) -> bool:
    cur = conn.execute(
        "UPDATE specialists SET is_active = ? WHERE id = ?", (int(active), specialist_id)
    )
    return int(cur.rowcount) == 1


# ---------------------------------------------------------------- who offers what


def service_and_specialists(conn: Conn, service_id: int) -> tuple[Service | None, list[Specialist]]:
    """The service, and the active specialists offering it in display order: one round trip
    for what every step of a booking reads first."""
    found = conn.execute(
        """SELECT s.*, sp.id AS sp_id, sp.name AS sp_name, sp.sort_order AS sp_sort
           FROM services s
           LEFT JOIN specialist_services ss ON ss.service_id = s.id
           LEFT JOIN specialists sp ON sp.id = ss.specialist_id AND sp.is_active = 1
           WHERE s.id = ?""",
        (service_id,),
    ).fetchall()
    if not found:
        return None, []
    offering = sorted(
        (Specialist(r["sp_id"], r["sp_name"], True, r["sp_sort"]) for r in found if r["sp_id"]),
        key=lambda sp: (sp.sort_order, sp.id),
    )
    return rows.service(found[0]), offering


def link_service_to_active_specialists(conn: Conn, service_id: int) -> None:
    conn.execute(
        """INSERT INTO specialist_services (specialist_id, service_id)
           SELECT id, ? FROM specialists WHERE is_active = 1
           ON CONFLICT DO NOTHING""",
        (service_id,),
    )


def service_ids_of_specialist(conn: Conn, specialist_id: int) -> list[int]:
    found = conn.execute(
        "SELECT service_id FROM specialist_services WHERE specialist_id = ? ORDER BY service_id",
        (specialist_id,),
    )
    return [int(r[0]) for r in found]


def replace_specialist_services(conn: Conn, specialist_id: int, service_ids: Iterable[int]) -> None:
    conn.execute("DELETE FROM specialist_services WHERE specialist_id = ?", (specialist_id,))
    conn.executemany(
        "INSERT INTO specialist_services (specialist_id, service_id) VALUES (?, ?)",
        [(specialist_id, sid) for sid in service_ids],
    )
