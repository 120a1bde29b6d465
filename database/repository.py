"""SQL lives here and nowhere else. Plain functions over a ``sqlite3.Connection``.

They run inside the transaction the caller opened (Database.write / Database.read), never open
or commit one themselves, and return dataclasses from database.models.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from datetime import date, datetime

from database.models import (
    Actor,
    Booking,
    BookingDetails,
    BookingStatus,
    BusyRow,
    Client,
    ScheduleException,
    Service,
    Specialist,
)
from utils.hours import Interval, WeeklyHours
from utils.timeutil import to_ts

# ---------------------------------------------------------------- services


def get_service(conn: sqlite3.Connection, service_id: int) -> Service | None:
    row = conn.execute("SELECT * FROM services WHERE id = ?", (service_id,)).fetchone()
    return None if row is None else Service.from_row(row)


def list_services(conn: sqlite3.Connection, *, active_only: bool) -> list[Service]:
    sql = "SELECT * FROM services"
    if active_only:
        sql += " WHERE is_active = 1"
    sql += " ORDER BY sort_order, id"
    return [Service.from_row(r) for r in conn.execute(sql)]


def insert_service(
    conn: sqlite3.Connection,
    *,
    name: str,
    duration_minutes: int,
    price: int,
    now: datetime,
    description: str = "",
    buffer_minutes: int = 0,
) -> int:
    ts = to_ts(now)
    cur = conn.execute(
        """INSERT INTO services (name, description, duration_minutes, price, buffer_minutes,
                                 sort_order, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, (SELECT COALESCE(MAX(sort_order), 0) + 1 FROM services), ?, ?)""",
        (name, description, duration_minutes, price, buffer_minutes, ts, ts),
    )
    return int(cur.lastrowid or 0)


SERVICE_FIELDS = frozenset({"name", "description", "duration_minutes", "price", "buffer_minutes"})


def update_service(
    conn: sqlite3.Connection, service_id: int, now: datetime, **fields: object
) -> bool:
    unknown = set(fields) - SERVICE_FIELDS - {"is_active"}
    if unknown or not fields:
        raise ValueError(f"cannot update service fields {sorted(unknown) or 'none'}")
    assignments = ", ".join(f"{name} = ?" for name in fields)
    cur = conn.execute(
        f"UPDATE services SET {assignments}, updated_at = ? WHERE id = ?",
        (*fields.values(), to_ts(now), service_id),
    )
    return cur.rowcount == 1


def delete_service(conn: sqlite3.Connection, service_id: int) -> bool:
    """Deletes a service no booking references; sqlite3.IntegrityError (RESTRICT) otherwise."""
    return conn.execute("DELETE FROM services WHERE id = ?", (service_id,)).rowcount == 1


def count_bookings_of_service(conn: sqlite3.Connection, service_id: int) -> int:
    row = conn.execute("SELECT count(*) FROM bookings WHERE service_id = ?", (service_id,))
    return int(row.fetchone()[0])


# ---------------------------------------------------------------- specialists and hours


def get_specialist(conn: sqlite3.Connection, specialist_id: int) -> Specialist | None:
    row = conn.execute("SELECT * FROM specialists WHERE id = ?", (specialist_id,)).fetchone()
    return None if row is None else Specialist.from_row(row)


def list_specialists(conn: sqlite3.Connection, *, active_only: bool) -> list[Specialist]:
    sql = "SELECT * FROM specialists"
    if active_only:
        sql += " WHERE is_active = 1"
    return [Specialist.from_row(r) for r in conn.execute(sql + " ORDER BY sort_order, id")]


def specialists_for_service(conn: sqlite3.Connection, service_id: int) -> list[Specialist]:
    """Active specialists offering the service, in display order."""
    rows = conn.execute(
        """SELECT sp.* FROM specialists sp
           JOIN specialist_services ss ON ss.specialist_id = sp.id
           WHERE ss.service_id = ? AND sp.is_active = 1
           ORDER BY sp.sort_order, sp.id""",
        (service_id,),
    )
    return [Specialist.from_row(r) for r in rows]


def link_service_to_active_specialists(conn: sqlite3.Connection, service_id: int) -> None:
    conn.execute(
        """INSERT OR IGNORE INTO specialist_services (specialist_id, service_id)
           SELECT id, ? FROM specialists WHERE is_active = 1""",
        (service_id,),
    )


def weekly_hours(conn: sqlite3.Connection, specialist_ids: Sequence[int]) -> dict[int, WeeklyHours]:
    result: dict[int, WeeklyHours] = {sid: {} for sid in specialist_ids}
    if not specialist_ids:
        return result
    marks = ",".join("?" * len(specialist_ids))
    rows = conn.execute(
        f"""SELECT specialist_id, weekday, start_minute, end_minute FROM working_hours
            WHERE specialist_id IN ({marks}) ORDER BY specialist_id, weekday, start_minute""",
        tuple(specialist_ids),
    )
    for row in rows:
        result[row[0]].setdefault(row[1], []).append((row[2], row[3]))
    return result


def replace_weekday_hours(
    conn: sqlite3.Connection, specialist_id: int, weekday: int, intervals: Iterable[Interval]
) -> None:
    conn.execute(
        "DELETE FROM working_hours WHERE specialist_id = ? AND weekday = ?",
        (specialist_id, weekday),
    )
    conn.executemany(
        """INSERT INTO working_hours (specialist_id, weekday, start_minute, end_minute)
           VALUES (?, ?, ?, ?)""",
        [(specialist_id, weekday, start, end) for start, end in intervals],
    )


def exceptions_between(
    conn: sqlite3.Connection, first: date, last: date
) -> list[ScheduleException]:
    rows = conn.execute(
        "SELECT * FROM schedule_exceptions WHERE day BETWEEN ? AND ? ORDER BY day, start_minute",
        (first.isoformat(), last.isoformat()),
    )
    return [ScheduleException.from_row(r) for r in rows]


def add_exception(
    conn: sqlite3.Connection,
    *,
    day: date,
    specialist_id: int | None,
    hours: Interval | None,
    reason: str,
    actor: Actor,
    now: datetime,
) -> None:
    conn.execute(
        """INSERT INTO schedule_exceptions
           (specialist_id, day, start_minute, end_minute, reason, created_by, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?)""",
        (
            specialist_id,
            day.isoformat(),
            None if hours is None else hours[0],
            None if hours is None else hours[1],
            reason,
            actor.id,
            to_ts(now),
        ),
    )


def clear_exceptions(conn: sqlite3.Connection, day: date, specialist_id: int | None) -> int:
    cur = conn.execute(
        "DELETE FROM schedule_exceptions WHERE day = ? AND specialist_id IS ?",
        (day.isoformat(), specialist_id),
    )
    return cur.rowcount


# ---------------------------------------------------------------- clients


def ensure_client(conn: sqlite3.Connection, client_id: int, now: datetime) -> None:
    ts = to_ts(now)
    conn.execute(
        "INSERT OR IGNORE INTO clients (id, created_at, updated_at) VALUES (?, ?, ?)",
        (client_id, ts, ts),
    )


def upsert_client(
    conn: sqlite3.Connection,
    *,
    client_id: int,
    username: str | None,
    first_name: str,
    language: str | None,
    now: datetime,
) -> None:
    ts = to_ts(now)
    conn.execute(
        """INSERT INTO clients (id, username, first_name, language, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT(id) DO UPDATE SET
               username = excluded.username,
               first_name = excluded.first_name,
               language = COALESCE(clients.language, excluded.language),
               is_reachable = 1,
               updated_at = excluded.updated_at""",
        (client_id, username, first_name, language, ts, ts),
    )


CLIENT_FIELDS = frozenset({"name", "phone", "language", "is_reachable"})


def update_client(
    conn: sqlite3.Connection, client_id: int, now: datetime, **fields: object
) -> bool:
    if not fields or set(fields) - CLIENT_FIELDS:
        raise ValueError(f"cannot update client fields {sorted(fields)}")
    assignments = ", ".join(f"{name} = ?" for name in fields)
    cur = conn.execute(
        f"UPDATE clients SET {assignments}, updated_at = ? WHERE id = ?",
        (*fields.values(), to_ts(now), client_id),
    )
    return cur.rowcount == 1


def get_client(conn: sqlite3.Connection, client_id: int) -> Client | None:
    row = conn.execute("SELECT * FROM clients WHERE id = ?", (client_id,)).fetchone()
    return None if row is None else Client.from_row(row)


def count_future_active(
    conn: sqlite3.Connection, client_id: int, now: datetime, exclude_booking: int | None = None
) -> int:
    row = conn.execute(
        """SELECT count(*) FROM bookings
           WHERE client_id = ? AND status = 'active' AND start_at > ? AND id IS NOT ?""",
        (client_id, to_ts(now), exclude_booking),
    ).fetchone()
    return int(row[0])


# ---------------------------------------------------------------- bookings


def busy_intervals(
    conn: sqlite3.Connection,
    start: datetime,
    end: datetime,
    specialist_ids: Sequence[int] | None = None,
) -> list[BusyRow]:
    """Active bookings that take any time in [start, end), sorted by specialist and start.

    A booking never takes more than two days (duration and buffer are at most 24h each), so
    looking back that far is enough and keeps the index range short.
    """
    params: list[object] = [to_ts(start) - 2 * 86400, to_ts(end), to_ts(start)]
    sql = """SELECT specialist_id, start_at, busy_until, id FROM bookings
             WHERE status = 'active' AND start_at >= ? AND start_at < ? AND busy_until > ?"""
    if specialist_ids is not None:
        sql += f" AND specialist_id IN ({','.join('?' * len(specialist_ids))})"
        params.extend(specialist_ids)
    sql += " ORDER BY specialist_id, start_at"
    cursor = conn.cursor()
    cursor.row_factory = None  # plain tuples: no sqlite3.Row per booking on this hot path
    return cursor.execute(sql, params).fetchall()


def insert_booking(
    conn: sqlite3.Connection,
    *,
    client_id: int,
    service: Service,
    specialist_id: int,
    start: datetime,
    end: datetime,
    busy_until: datetime,
    now: datetime,
    rescheduled_from: int | None = None,
) -> Booking:
    ts = to_ts(now)
    row = conn.execute(
        """INSERT INTO bookings (client_id, service_id, specialist_id, start_at, end_at,
                                 busy_until, duration_minutes, buffer_minutes, price, status,
                                 created_at, updated_at, rescheduled_from)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'active', ?, ?, ?) RETURNING *""",
        (
            client_id,
            service.id,
            specialist_id,
            to_ts(start),
            to_ts(end),
            to_ts(busy_until),
            service.duration_minutes,
            service.buffer_minutes,
            service.price,
            ts,
            ts,
            rescheduled_from,
        ),
    ).fetchone()
    return Booking.from_row(row)


def get_booking(conn: sqlite3.Connection, booking_id: int) -> Booking | None:
    row = conn.execute("SELECT * FROM bookings WHERE id = ?", (booking_id,)).fetchone()
    return None if row is None else Booking.from_row(row)


def active_booking_at(
    conn: sqlite3.Connection, client_id: int, service_id: int, start: datetime
) -> Booking | None:
    row = conn.execute(
        """SELECT * FROM bookings WHERE client_id = ? AND service_id = ? AND start_at = ?
           AND status = 'active'""",
        (client_id, service_id, to_ts(start)),
    ).fetchone()
    return None if row is None else Booking.from_row(row)


def set_booking_status(
    conn: sqlite3.Connection,
    booking_id: int,
    status: BookingStatus,
    now: datetime,
    *,
    actor: Actor | None = None,
    reason: str | None = None,
) -> Booking:
    ts = to_ts(now)
    if status is BookingStatus.CANCELLED:
        assert actor is not None, "a cancellation records who did it"
        row = conn.execute(
            """UPDATE bookings SET status = 'cancelled', updated_at = ?, cancelled_at = ?,
                   cancelled_by = ?, cancelled_by_role = ?, cancel_reason = ?
               WHERE id = ? RETURNING *""",
            (ts, ts, actor.id, actor.role.value, reason, booking_id),
        ).fetchone()
    else:
        row = conn.execute(
            "UPDATE bookings SET status = ?, updated_at = ? WHERE id = ? RETURNING *",
            (status.value, ts, booking_id),
        ).fetchone()
    return Booking.from_row(row)


_DETAILS_SQL = """
SELECT b.*, s.name AS service_name, sp.name AS specialist_name,
       c.name AS client_name, c.first_name AS client_first_name, c.username AS client_username,
       c.phone AS client_phone, c.language AS client_language
FROM bookings b
JOIN services s ON s.id = b.service_id
JOIN specialists sp ON sp.id = b.specialist_id
JOIN clients c ON c.id = b.client_id
"""


def booking_details(conn: sqlite3.Connection, booking_id: int) -> BookingDetails | None:
    row = conn.execute(_DETAILS_SQL + " WHERE b.id = ?", (booking_id,)).fetchone()
    return None if row is None else BookingDetails.from_row(row)


def upcoming_for_client(
    conn: sqlite3.Connection, client_id: int, now: datetime
) -> list[BookingDetails]:
    rows = conn.execute(
        _DETAILS_SQL
        + " WHERE b.client_id = ? AND b.status = 'active' AND b.start_at > ? ORDER BY b.start_at",
        (client_id, to_ts(now)),
    )
    return [BookingDetails.from_row(r) for r in rows]


def bookings_between(
    conn: sqlite3.Connection, start: datetime, end: datetime
) -> list[BookingDetails]:
    """Every booking (any status) starting in [start, end), in time order: the agenda."""
    rows = conn.execute(
        _DETAILS_SQL + " WHERE b.start_at >= ? AND b.start_at < ? ORDER BY b.start_at, b.id",
        (to_ts(start), to_ts(end)),
    )
    return [BookingDetails.from_row(r) for r in rows]


# ---------------------------------------------------------------- reminders and audit


def insert_reminders(
    conn: sqlite3.Connection,
    booking_id: int,
    rows: Iterable[tuple[str, int, datetime, str, str | None]],
    now: datetime,
) -> None:
    """rows: (kind, offset_minutes, due, status, reason)."""
    ts = to_ts(now)
    conn.executemany(
        """INSERT INTO reminders (booking_id, kind, offset_minutes, due_at, status, reason,
                                  updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?)""",
        [
            (booking_id, kind, off, to_ts(due), status, reason, ts)
            for kind, off, due, status, reason in rows
        ],
    )


def void_pending_reminders(
    conn: sqlite3.Connection,
    booking_id: int,
    reason: str,
    now: datetime,
    kinds: tuple[str, ...] = ("reminder", "feedback"),
) -> int:
    cur = conn.execute(
        # A row being sent ('sending') is left to finish: it ends sent or failed, truthfully.
        f"""UPDATE reminders SET status = 'skipped', reason = ?, updated_at = ?
            WHERE booking_id = ? AND status = 'pending'
              AND kind IN ({",".join("?" * len(kinds))})""",
        (reason, to_ts(now), booking_id, *kinds),
    )
    return cur.rowcount


def active_without_outbox(conn: sqlite3.Connection, now: datetime) -> list[Booking]:
    """Future active bookings with no reminder rows at all (imported from the older layout)."""
    rows = conn.execute(
        """SELECT * FROM bookings b WHERE b.status = 'active' AND b.start_at > ?
           AND NOT EXISTS (SELECT 1 FROM reminders r WHERE r.booking_id = b.id)
           ORDER BY b.start_at""",
        (to_ts(now),),
    )
    return [Booking.from_row(r) for r in rows]


def rate_booking(conn: sqlite3.Connection, booking_id: int, stars: int, now: datetime) -> None:
    conn.execute(
        "UPDATE bookings SET rating = ?, rated_at = ? WHERE id = ?",
        (stars, to_ts(now), booking_id),
    )


def reminders_of(conn: sqlite3.Connection, booking_id: int) -> list[sqlite3.Row]:
    return list(
        conn.execute("SELECT * FROM reminders WHERE booking_id = ? ORDER BY due_at", (booking_id,))
    )


def confirm_visit(conn: sqlite3.Connection, booking_id: int, now: datetime) -> bool:
    cur = conn.execute(
        "UPDATE bookings SET confirmed_at = ?, updated_at = ?"
        " WHERE id = ? AND confirmed_at IS NULL",
        (to_ts(now), to_ts(now), booking_id),
    )
    return cur.rowcount == 1


def active_ended_before(conn: sqlite3.Connection, moment: datetime, limit: int) -> list[int]:
    rows = conn.execute(
        "SELECT id FROM bookings WHERE status = 'active' AND end_at <= ? ORDER BY end_at LIMIT ?",
        (to_ts(moment), limit),
    )
    return [int(r[0]) for r in rows]


_DUE_SQL = """
SELECT r.id AS reminder_id, r.kind, r.offset_minutes, r.due_at, r.attempts,
       b.id AS booking_id, b.client_id, b.start_at, b.end_at, b.status AS booking_status,
       s.name AS service_name, sp.name AS specialist_name,
       c.language AS client_language, c.is_reachable AS client_reachable
FROM reminders r
JOIN bookings b ON b.id = r.booking_id
JOIN services s ON s.id = b.service_id
JOIN specialists sp ON sp.id = b.specialist_id
JOIN clients c ON c.id = b.client_id
"""


def due_reminders(conn: sqlite3.Connection, now: datetime, limit: int) -> list[sqlite3.Row]:
    return list(
        conn.execute(
            _DUE_SQL + " WHERE r.status = 'pending' AND r.due_at <= ?"
            " ORDER BY r.due_at, r.id LIMIT ?",
            (to_ts(now), limit),
        )
    )


def skip_superseded(conn: sqlite3.Connection, now: datetime) -> list[int]:
    """Due rows with a later due row of the same booking and kind: after downtime only the latest
    (the closest to the appointment) is worth sending. Returns the skipped ids."""
    ts = to_ts(now)
    rows = conn.execute(
        """UPDATE reminders SET status = 'skipped', updated_at = ?,
               reason = 'superseded by a later reminder of the same booking'
           WHERE status = 'pending' AND due_at <= ? AND EXISTS (
               SELECT 1 FROM reminders later
               WHERE later.booking_id = reminders.booking_id AND later.kind = reminders.kind
                 AND later.status = 'pending' AND later.due_at <= ?
                 AND later.due_at > reminders.due_at)
           RETURNING id""",
        (ts, ts, ts),
    )
    return [int(r[0]) for r in rows]


def set_reminder_status(
    conn: sqlite3.Connection,
    reminder_id: int,
    status: str,
    now: datetime,
    *,
    reason: str | None = None,
    expect: str | None = None,
) -> bool:
    """Move a reminder to ``status``; with ``expect``, only from that status (a compare-and-set)."""
    ts = to_ts(now)
    sql = """UPDATE reminders SET status = ?, reason = ?, updated_at = ?,
                 attempts = attempts + (? = 'sending'),
                 claimed_at = CASE WHEN ? = 'sending' THEN ? ELSE claimed_at END,
                 sent_at = CASE WHEN ? = 'sent' THEN ? ELSE sent_at END
             WHERE id = ?"""
    params: list[object] = [status, reason, ts, status, status, ts, status, ts, reminder_id]
    if expect is not None:
        sql += " AND status = ?"
        params.append(expect)
    return conn.execute(sql, params).rowcount == 1


def abandon_stale_sending(conn: sqlite3.Connection, claimed_before: datetime, now: datetime) -> int:
    """Rows claimed by a process that died mid-send: we cannot know whether the message left,
    so they are failed, never sent again (at most once)."""
    cur = conn.execute(
        """UPDATE reminders SET status = 'failed', updated_at = ?,
               reason = 'interrupted while sending; not sent again'
           WHERE status = 'sending' AND claimed_at < ?""",
        (to_ts(now), to_ts(claimed_before)),
    )
    return cur.rowcount


def audit(
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


# ---------------------------------------------------------------- admin chat: specialists, clients


def insert_specialist(conn: sqlite3.Connection, name: str, now: datetime) -> int:
    cur = conn.execute(
        """INSERT INTO specialists (name, sort_order, created_at)
           VALUES (?, (SELECT COALESCE(MAX(sort_order), 0) + 1 FROM specialists), ?)""",
        (name, to_ts(now)),
    )
    return int(cur.lastrowid or 0)


def set_specialist_active(conn: sqlite3.Connection, specialist_id: int, active: bool) -> bool:
    cur = conn.execute(
        "UPDATE specialists SET is_active = ? WHERE id = ?", (int(active), specialist_id)
    )
    return cur.rowcount == 1


def service_ids_of_specialist(conn: sqlite3.Connection, specialist_id: int) -> list[int]:
    rows = conn.execute(
        "SELECT service_id FROM specialist_services WHERE specialist_id = ? ORDER BY service_id",
        (specialist_id,),
    )
    return [int(r[0]) for r in rows]


def replace_specialist_services(
    conn: sqlite3.Connection, specialist_id: int, service_ids: Iterable[int]
) -> None:
    conn.execute("DELETE FROM specialist_services WHERE specialist_id = ?", (specialist_id,))
    conn.executemany(
        "INSERT INTO specialist_services (specialist_id, service_id) VALUES (?, ?)",
        [(specialist_id, sid) for sid in service_ids],
    )


def count_future_active_of_specialist(
    conn: sqlite3.Connection, specialist_id: int, now: datetime
) -> int:
    row = conn.execute(
        """SELECT count(*) FROM bookings
           WHERE specialist_id = ? AND status = 'active' AND start_at > ?""",
        (specialist_id, to_ts(now)),
    ).fetchone()
    return int(row[0])


def find_client_by_username(conn: sqlite3.Connection, username: str) -> Client | None:
    row = conn.execute(
        "SELECT * FROM clients WHERE username = ? COLLATE NOCASE ORDER BY updated_at DESC LIMIT 1",
        (username,),
    ).fetchone()
    return None if row is None else Client.from_row(row)


def bookings_of_client(conn: sqlite3.Connection, client_id: int) -> list[BookingDetails]:
    """Every booking of the client (any status), newest start first."""
    rows = conn.execute(
        _DETAILS_SQL + " WHERE b.client_id = ? ORDER BY b.start_at DESC, b.id DESC", (client_id,)
    )
    return [BookingDetails.from_row(r) for r in rows]
