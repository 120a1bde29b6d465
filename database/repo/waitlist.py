"""The waitlist, and the holds offered from it (booking rows with ``held_until``)."""

from __future__ import annotations

from datetime import date, datetime

from database.engine import Conn, Row
from database.repo import rows
from domain.bookings import Booking
from domain.waitlist import DayPart, WaitDetails, WaitEntry, WaitStatus
from utils.timeutil import from_ts, to_ts

_LIVE = "('waiting', 'offered')"


def _entry(row: Row) -> WaitEntry:
    return WaitEntry(
        id=row["id"],
        client_id=row["client_id"],
        service_id=row["service_id"],
        specialist_id=row["specialist_id"],
        day=date.fromisoformat(row["day"]),
        part=None if row["part"] is None else DayPart(row["part"]),
        status=WaitStatus(row["status"]),
        booking_id=row["booking_id"],
        created_at=from_ts(row["created_at"]),
    )


def join(
    conn: Conn,
    client_id: int,
    service_id: int,
    specialist_id: int | None,
    day: date,
    part: DayPart | None,
    now: datetime,
) -> WaitEntry | None:
    """The new entry, last in line; None if the client already waits for that service and day
    (the unique index decides, so two presses at once make one entry)."""
    ts = to_ts(now)
    row = conn.execute(
        f"""INSERT INTO waitlist (client_id, service_id, specialist_id, day, part, status,
                                  created_at, updated_at)
            VALUES (?, ?, ?, ?, ?, 'waiting', ?, ?)
            ON CONFLICT (client_id, service_id, day) WHERE status IN {_LIVE} DO NOTHING
            RETURNING *""",
        (client_id, service_id, specialist_id, day.isoformat(), part, ts, ts),
    ).fetchone()
    return None if row is None else _entry(row)


def waiting_on(conn: Conn, day: date, specialist_id: int | None) -> list[WaitEntry]:
    """Those still waiting (no offer in hand) for ``day``, first in line first: for any
    specialist, or (``specialist_id``) for that one or any."""
    sql = "SELECT * FROM waitlist WHERE day = ? AND status = 'waiting'"
    params: list[object] = [day.isoformat()]
    if specialist_id is not None:
        sql += " AND (specialist_id IS NULL OR specialist_id = ?)"
        params.append(specialist_id)
    return [_entry(r) for r in conn.execute(sql + " ORDER BY id", params)]


def days_waited(conn: Conn, first: date) -> list[date]:
    """The days from ``first`` on that someone waits for."""
    found = conn.execute(
        "SELECT DISTINCT day FROM waitlist WHERE status = 'waiting' AND day >= ? ORDER BY day",
        (first.isoformat(),),
    )
    return [date.fromisoformat(r[0]) for r in found]


def of_hold(conn: Conn, booking_id: int) -> WaitEntry | None:
    row = conn.execute(
        "SELECT * FROM waitlist WHERE booking_id = ? ORDER BY id DESC LIMIT 1", (booking_id,)
    ).fetchone()
    return None if row is None else _entry(row)


def set_status(
    conn: Conn,
    entry_id: int,
    status: WaitStatus,
    now: datetime,
    *,
    only_from: tuple[WaitStatus, ...],
) -> bool:
    """Guarded by the status it may change from: True if it changed."""
    marks = ",".join("?" * len(only_from))
    cur = conn.execute(
        f"""UPDATE waitlist SET status = ?, updated_at = ?
            WHERE id = ? AND status IN ({marks})""",
        (status.value, to_ts(now), entry_id, *(s.value for s in only_from)),
    )
    return int(cur.rowcount) == 1


def attach_hold(conn: Conn, entry_id: int, booking_id: int) -> None:
    conn.execute("UPDATE waitlist SET booking_id = ? WHERE id = ?", (booking_id, entry_id))


def end_turn(conn: Conn, booking_id: int, now: datetime) -> None:
    """The waiter whose hold this was has had their turn (they declined, it expired, the staff
    closed the day)."""
    conn.execute(
        "UPDATE waitlist SET status = 'passed', updated_at = ?"
        " WHERE booking_id = ? AND status = 'offered'",
        (to_ts(now), booking_id),
    )


def take_hold(
    conn: Conn, booking_id: int, now: datetime, *, awaiting_approval: bool = False
) -> Booking | None:
    """The hold made a plain booking (or pending, ``awaiting_approval``); None if it is not a
    live hold any more. The guard makes Book, No thanks and the expiry never both win."""
    row = conn.execute(
        """UPDATE bookings SET held_until = NULL, awaiting_approval = ?, updated_at = ?
           WHERE id = ? AND status = 'active' AND held_until IS NOT NULL RETURNING *""",
        (int(awaiting_approval), to_ts(now), booking_id),
    ).fetchone()
    return None if row is None else rows.booking(row)


def expired_holds(conn: Conn, now: datetime, limit: int) -> list[Booking]:
    found = conn.execute(
        """SELECT * FROM bookings WHERE status = 'active' AND held_until IS NOT NULL
             AND held_until <= ? ORDER BY held_until, id LIMIT ?""",
        (to_ts(now), limit),
    )
    return [rows.booking(r) for r in found]


_DETAILS_SQL = f"""
SELECT w.*, s.name AS service_name, sp.name AS specialist_name,
       COALESCE(c.name, c.first_name, '') AS client_name
FROM waitlist w
JOIN services s ON s.id = w.service_id
LEFT JOIN specialists sp ON sp.id = w.specialist_id
JOIN clients c ON c.id = w.client_id
WHERE w.status IN {_LIVE}
"""


def _details(row: Row) -> WaitDetails:
    return WaitDetails(_entry(row), row["service_name"], row["specialist_name"], row["client_name"])


def of_client(conn: Conn, client_id: int, first: date) -> list[WaitDetails]:
    """The client's live entries from ``first`` on (earlier days have lapsed)."""
    found = conn.execute(
        _DETAILS_SQL + " AND w.client_id = ? AND w.day >= ? ORDER BY w.day, w.id",
        (client_id, first.isoformat()),
    )
    return [_details(r) for r in found]


def of_day(conn: Conn, day: date) -> list[WaitDetails]:
    """A day's live entries, in line order."""
    found = conn.execute(_DETAILS_SQL + " AND w.day = ? ORDER BY w.id", (day.isoformat(),))
    return [_details(r) for r in found]


def leave(conn: Conn, entry_id: int, client_id: int, now: datetime) -> WaitEntry | None:
    """The client's waiting entry, left; None if not theirs or no longer waiting (an entry with
    an offer in hand is left by declining the offer)."""
    row = conn.execute(
        """UPDATE waitlist SET status = 'left', updated_at = ?
           WHERE id = ? AND client_id = ? AND status = 'waiting' RETURNING *""",
        (to_ts(now), entry_id, client_id),
    ).fetchone()
    return None if row is None else _entry(row)
