"""Bookings: the busy intervals the slot engine reads, the rows, and the lists people read."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import NamedTuple

from database.engine import Conn
from database.repo import rows
from domain.actors import Actor
from domain.bookings import Booking, BookingDetails, BookingStatus, BusyInterval
from domain.catalog import Service
from utils.timeutil import to_ts

_new_busy = tuple.__new__  # BusyInterval from a plain row without a Python-level __new__ call


def busy_intervals(
    conn: Conn,
    start: datetime,
    end: datetime,
    specialist_ids: Sequence[int] | None = None,
    exclude_booking: int | None = None,
) -> list[BusyInterval]:
    """Active bookings that take any time in [start, end), sorted by specialist and start
    (with their service: a group session's seats share a service and a start).

    A booking never takes more than two days (duration and buffer are at most 24h each), so
    looking back that far is enough and keeps the index range short. ``exclude_booking``: a
    booking being moved, whose own time does not block its move.
    """
    params: list[object] = [to_ts(start) - 2 * 86400, to_ts(end), to_ts(start)]
    sql = """SELECT specialist_id, start_at, busy_until, id, service_id FROM bookings
             WHERE status = 'active' AND start_at >= ? AND start_at < ? AND busy_until > ?"""
    if specialist_ids is not None:
        sql += f" AND specialist_id IN ({','.join('?' * len(specialist_ids))})"
        params.extend(specialist_ids)
    if exclude_booking is not None:
        sql += " AND id != ?"
        params.append(exclude_booking)
    sql += " ORDER BY specialist_id, start_at"
    return [_new_busy(BusyInterval, r) for r in conn.tuples(sql, params)]


class PlacementFacts(NamedTuple):
    """What a booking decision reads under its locks, in one round trip."""

    mine: int | None  # the client's active booking (a seat) of the service at exactly this start
    future_active: int  # the client's future active bookings (the one moved not counted)
    busy: list[BusyInterval]  # of the specialists concerned, as busy_intervals() returns


def placement_facts(
    conn: Conn,
    *,
    client_id: int,
    service_id: int,
    start: datetime,
    now: datetime,
    busy_from: datetime,
    busy_to: datetime,
    specialist_ids: Sequence[int],
    exclude_booking: int | None,
) -> PlacementFacts:
    """The client's facts and the busy times in one statement: the fewer round trips a booking
    makes while it holds its locks, the more bookings a second (PostgreSQL: the booking units of
    one specialist run one after another)."""
    marks = ",".join("?" * len(specialist_ids)) or "NULL"
    rows = conn.tuples(
        f"""SELECT facts.mine, facts.future_active,
                   b.specialist_id, b.start_at, b.busy_until, b.id, b.service_id
            FROM (SELECT
                    (SELECT id FROM bookings WHERE client_id = ? AND service_id = ?
                        AND start_at = ? AND status = 'active' LIMIT 1) AS mine,
                    (SELECT count(*) FROM bookings WHERE client_id = ? AND status = 'active'
                        AND start_at > ? AND id <> COALESCE(?, 0)) AS future_active
                 ) AS facts
            LEFT JOIN bookings b ON b.status = 'active'
                AND b.start_at >= ? AND b.start_at < ? AND b.busy_until > ?
                AND b.specialist_id IN ({marks}) AND b.id <> COALESCE(?, 0)
            ORDER BY b.specialist_id, b.start_at""",
        (
            client_id,
            service_id,
            to_ts(start),
            client_id,
            to_ts(now),
            exclude_booking,
            to_ts(busy_from) - 2 * 86400,
            to_ts(busy_to),
            to_ts(busy_from),
            *specialist_ids,
            exclude_booking,
        ),
    )
    busy = [_new_busy(BusyInterval, r[2:]) for r in rows if r[5] is not None]
    return PlacementFacts(rows[0][0], int(rows[0][1]), busy)


# 0 if seat 0 is free, else the lowest seat after a taken one that is not taken itself; the
# session's two parameter triples are (specialist_id, start_at, service_id).
_LOWEST_FREE_SEAT = """(SELECT CASE
    WHEN NOT EXISTS (SELECT 1 FROM bookings WHERE status = 'active' AND specialist_id = ?
                     AND start_at = ? AND service_id = ? AND seat = 0) THEN 0
    ELSE (SELECT min(s.seat + 1) FROM bookings s
          WHERE s.status = 'active' AND s.specialist_id = ? AND s.start_at = ?
            AND s.service_id = ?
            AND NOT EXISTS (SELECT 1 FROM bookings n WHERE n.status = 'active'
                            AND n.specialist_id = s.specialist_id AND n.start_at = s.start_at
                            AND n.service_id = s.service_id AND n.seat = s.seat + 1))
    END)"""


def insert(
    conn: Conn,
    *,
    client_id: int,
    service: Service,
    specialist_id: int,
    start: datetime,
    now: datetime,
    rescheduled_from: int | None = None,
    outside_hours: bool = False,
    awaiting_approval: bool = False,
    held_until: datetime | None = None,
) -> Booking:
    """The booking of ``start`` with the service as it is now (its length, buffer and price), on
    the lowest seat free in its session (specialist, service, start): 0 when the session is
    empty, as every booking of a one-client service. Chosen inside the insert, so two writers
    that both saw one seat left pick the same seat and the unique index
    (ux_bookings_active_seat) refuses the second: a seat is never given twice."""
    end = start + timedelta(minutes=service.duration_minutes)
    busy_until = end + timedelta(minutes=service.buffer_minutes)
    ts = to_ts(now)
    session = (specialist_id, to_ts(start), service.id)
    row = conn.execute(
        f"""INSERT INTO bookings (client_id, service_id, specialist_id, start_at, end_at,
                                 busy_until, duration_minutes, buffer_minutes, price, status,
                                 created_at, updated_at, rescheduled_from, outside_hours, seat,
                                 awaiting_approval, held_until)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'active', ?, ?, ?, ?, {_LOWEST_FREE_SEAT}, ?, ?)
           RETURNING *""",
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
            int(outside_hours),
            *session,
            *session,
            int(awaiting_approval),
            None if held_until is None else to_ts(held_until),
        ),
    ).fetchone()
    return rows.booking(row)


def has_active(conn: Conn, client_id: int, service_id: int, start: datetime, end: datetime) -> bool:
    """Whether the client has an active booking of the service starting in [start, end)."""
    row = conn.execute(
        """SELECT 1 FROM bookings WHERE client_id = ? AND service_id = ? AND status = 'active'
             AND start_at >= ? AND start_at < ? AND held_until IS NULL LIMIT 1""",
        (client_id, service_id, to_ts(start), to_ts(end)),
    ).fetchone()
    return row is not None


def get(conn: Conn, booking_id: int) -> Booking | None:
    row = conn.execute("SELECT * FROM bookings WHERE id = ?", (booking_id,)).fetchone()
    return None if row is None else rows.booking(row)


def active_at(conn: Conn, client_id: int, service_id: int, start: datetime) -> Booking | None:
    """The client's active booking of the service at exactly ``start`` (a repeated Confirm)."""
    row = conn.execute(
        """SELECT * FROM bookings WHERE client_id = ? AND service_id = ? AND start_at = ?
           AND status = 'active'""",
        (client_id, service_id, to_ts(start)),
    ).fetchone()
    return None if row is None else rows.booking(row)


def set_status(
    conn: Conn,
    booking_id: int,
    status: BookingStatus,
    now: datetime,
    *,
    only_from: tuple[BookingStatus, ...],
    actor: Actor | None = None,
    reason: str | None = None,
) -> Booking | None:
    """The booking with its new status, or None if it no longer has one of ``only_from``
    (another transaction changed it first: on PostgreSQL this waits for that one to end, then
    looks again, so two moves or a move and a cancel of one booking never both happen)."""
    ts = to_ts(now)
    marks = ",".join("?" * len(only_from))
    previous = tuple(s.value for s in only_from)
    if status is BookingStatus.CANCELLED:
        assert actor is not None, "a cancellation records who did it"
        row = conn.execute(
            f"""UPDATE bookings SET status = 'cancelled', updated_at = ?, cancelled_at = ?,
                    cancelled_by = ?, cancelled_by_role = ?, cancel_reason = ?
                WHERE id = ? AND status IN ({marks}) RETURNING *""",
            (ts, ts, actor.id, actor.role.value, reason, booking_id, *previous),
        ).fetchone()
    else:
        row = conn.execute(
            f"""UPDATE bookings SET status = ?, updated_at = ?
                WHERE id = ? AND status IN ({marks}) RETURNING *""",
            (status.value, ts, booking_id, *previous),
        ).fetchone()
    return None if row is None else rows.booking(row)


def confirm_visit(conn: Conn, booking_id: int, now: datetime) -> bool:
    """True on the first "I'll come" only."""
    cur = conn.execute(
        "UPDATE bookings SET confirmed_at = ?, updated_at = ?"
        " WHERE id = ? AND confirmed_at IS NULL",
        (to_ts(now), to_ts(now), booking_id),
    )
    return int(cur.rowcount) == 1


def rate(conn: Conn, booking_id: int, stars: int, now: datetime) -> None:
    conn.execute(
        "UPDATE bookings SET rating = ?, rated_at = ? WHERE id = ?",
        (stars, to_ts(now), booking_id),
    )


# ---------------------------------------------------------------- counts


def count_future_active(
    conn: Conn, client_id: int, now: datetime, exclude_booking: int | None = None
) -> int:
    row = conn.execute(
        """SELECT count(*) FROM bookings
           WHERE client_id = ? AND status = 'active' AND start_at > ?
             AND id <> COALESCE(?, 0)""",
        (client_id, to_ts(now), exclude_booking),
    ).fetchone()
    return int(row[0])


def count_future_active_of_specialist(conn: Conn, specialist_id: int, now: datetime) -> int:
    row = conn.execute(
        """SELECT count(*) FROM bookings
           WHERE specialist_id = ? AND status = 'active' AND start_at > ?""",
        (specialist_id, to_ts(now)),
    ).fetchone()
    return int(row[0])


def count_of_service(conn: Conn, service_id: int) -> int:
    row = conn.execute("SELECT count(*) FROM bookings WHERE service_id = ?", (service_id,))
    return int(row.fetchone()[0])


def count_of_specialist(conn: Conn, specialist_id: int) -> int:
    """Bookings of any status (cancelled and moved ones too) that name the specialist."""
    row = conn.execute("SELECT count(*) FROM bookings WHERE specialist_id = ?", (specialist_id,))
    return int(row.fetchone()[0])


def load_by_specialist(
    conn: Conn, start: datetime, end: datetime, specialist_ids: Sequence[int]
) -> dict[int, int]:
    """How many active bookings of each specialist take time in [start, end)."""
    marks = ",".join("?" * len(specialist_ids))
    found = conn.execute(
        f"""SELECT specialist_id, count(*) FROM bookings
            WHERE status = 'active' AND start_at >= ? AND start_at < ? AND busy_until > ?
              AND specialist_id IN ({marks})
            GROUP BY specialist_id""",
        (to_ts(start) - 2 * 86400, to_ts(end), to_ts(start), *specialist_ids),
    )
    return {int(r[0]): int(r[1]) for r in found}


# ---------------------------------------------------------------- background work


def complete_ended(conn: Conn, moment: datetime, limit: int) -> list[int]:
    """Active bookings that ended by ``moment`` become completed (at most ``limit``); returns
    their ids. Guarded by the status, so two processes never complete one booking twice. A
    pending one, or a hold, is never a visit: declined when its start comes, expired."""
    found = conn.execute(
        """UPDATE bookings SET status = 'completed', updated_at = ?
           WHERE status = 'active' AND awaiting_approval = 0 AND held_until IS NULL AND id IN (
               SELECT id FROM bookings WHERE status = 'active' AND end_at <= ?
                 AND awaiting_approval = 0 AND held_until IS NULL
               ORDER BY end_at LIMIT ?)
           RETURNING id""",
        (to_ts(moment), to_ts(moment), limit),
    )
    return sorted(int(r[0]) for r in found)


def active_without_outbox(conn: Conn, now: datetime) -> list[Booking]:
    """Future active bookings with no reminder rows at all (imported from the older layout)."""
    found = conn.execute(
        """SELECT * FROM bookings b WHERE b.status = 'active' AND b.start_at > ?
           AND NOT EXISTS (SELECT 1 FROM reminders r WHERE r.booking_id = b.id)
           ORDER BY b.start_at""",
        (to_ts(now),),
    )
    return [rows.booking(r) for r in found]


# ---------------------------------------------------------------- with names: lists and cards

DETAILS_SQL = """
SELECT b.*, s.name AS service_name, s.capacity AS service_capacity, sp.name AS specialist_name,
       c.name AS client_name, c.first_name AS client_first_name, c.username AS client_username,
       c.phone AS client_phone, c.language AS client_language,
       (SELECT n.text FROM client_notes n WHERE n.client_id = b.client_id
        ORDER BY n.id DESC LIMIT 1) AS client_note
FROM bookings b
JOIN services s ON s.id = b.service_id
JOIN specialists sp ON sp.id = b.specialist_id
JOIN clients c ON c.id = b.client_id
"""


def details(conn: Conn, booking_id: int) -> BookingDetails | None:
    row = conn.execute(DETAILS_SQL + " WHERE b.id = ?", (booking_id,)).fetchone()
    return None if row is None else rows.booking_details(row)


def upcoming_of_client(conn: Conn, client_id: int, now: datetime) -> list[BookingDetails]:
    found = conn.execute(
        DETAILS_SQL
        + " WHERE b.client_id = ? AND b.status = 'active' AND b.start_at > ? ORDER BY b.start_at",
        (client_id, to_ts(now)),
    )
    return [rows.booking_details(r) for r in found]


def history_of_client(conn: Conn, client_id: int) -> list[BookingDetails]:
    """Every booking of the client (any status), newest start first."""
    found = conn.execute(
        DETAILS_SQL + " WHERE b.client_id = ? ORDER BY b.start_at DESC, b.id DESC", (client_id,)
    )
    return [rows.booking_details(r) for r in found]


def starting_between(
    conn: Conn, start: datetime, end: datetime, specialist_id: int | None = None
) -> list[BookingDetails]:
    """Every booking (any status) starting in [start, end), in time order, of one specialist
    or all: the agenda, the statistics and the export."""
    sql = DETAILS_SQL + " WHERE b.start_at >= ? AND b.start_at < ?"
    params: list[object] = [to_ts(start), to_ts(end)]
    if specialist_id is not None:
        sql += " AND b.specialist_id = ?"
        params.append(specialist_id)
    found = conn.execute(sql + " ORDER BY b.start_at, b.id", params)
    return [rows.booking_details(r) for r in found]
