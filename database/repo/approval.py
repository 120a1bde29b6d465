"""Pending bookings (awaiting the staff's Approve) and what decides that a booking is pending."""

from __future__ import annotations

from datetime import datetime

from database.engine import Conn
from database.repo import rows
from database.repo.bookings import DETAILS_SQL
from domain.bookings import Booking, BookingDetails
from domain.clients import Standing
from utils.timeutil import to_ts


def standing(conn: Conn, client_id: int, no_shows_since: datetime) -> Standing:
    """Whether the client is blocked, has a completed visit, and their recent no-shows: one
    statement, read inside the booking's transaction."""
    row = conn.execute(
        """SELECT
             (SELECT CASE WHEN blocked_at IS NULL THEN 0 ELSE 1 END
                FROM clients WHERE id = ?),
             (SELECT count(*) FROM (SELECT 1 FROM bookings
                 WHERE client_id = ? AND status = 'completed' LIMIT 1) AS v),
             (SELECT count(*) FROM bookings
                 WHERE client_id = ? AND status = 'no_show' AND start_at >= ?)""",
        (client_id, client_id, client_id, to_ts(no_shows_since)),
    ).fetchone()
    return Standing(bool(row[0]), bool(row[1]), int(row[2]))


def take_pending(conn: Conn, booking_id: int, now: datetime) -> Booking | None:
    """The booking no longer pending (approved, or about to be declined in the same
    transaction); None if it was not pending: approved, declined or cancelled meanwhile. The
    guard makes two decisions on one booking (two admins, an Approve and the timeout) never both
    win; on PostgreSQL the second waits for the first's row lock, then finds nothing."""
    row = conn.execute(
        """UPDATE bookings SET awaiting_approval = 0, updated_at = ?
           WHERE id = ? AND status = 'active' AND awaiting_approval = 1 RETURNING *""",
        (to_ts(now), booking_id),
    ).fetchone()
    return None if row is None else rows.booking(row)


def overdue(conn: Conn, made_before: datetime, now: datetime, limit: int) -> list[Booking]:
    """Pending bookings requested before ``made_before``, or whose start has come. Requested:
    made, or (a waitlist hold) taken, the last change a pending booking sees before its
    decision."""
    found = conn.execute(
        """SELECT * FROM bookings WHERE status = 'active' AND awaiting_approval = 1
             AND (updated_at < ? OR start_at <= ?)
           ORDER BY updated_at, id LIMIT ?""",
        (to_ts(made_before), to_ts(now), limit),
    )
    return [rows.booking(r) for r in found]


def pending(conn: Conn) -> list[BookingDetails]:
    """Every pending booking, the oldest request first."""
    found = conn.execute(
        DETAILS_SQL
        + " WHERE b.status = 'active' AND b.awaiting_approval = 1 ORDER BY b.created_at, b.id"
    )
    return [rows.booking_details(r) for r in found]
