"""The reminder outbox: rows written with a booking, claimed when due, and how each ended."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from database.engine import Conn
from domain.notices import CARDS, NoticeKind
from domain.reminders import DueEntry, DueNotice, OutboxRow, ReminderKind, ReminderStatus
from utils.timeutil import from_ts, to_ts

ALL_KINDS = (ReminderKind.REMINDER, ReminderKind.FEEDBACK)
_SCHEDULED = "'reminder', 'feedback'"  # the kinds sent at most once


def insert(conn: Conn, booking_id: int, entries: Iterable[OutboxRow], now: datetime) -> None:
    ts = to_ts(now)
    conn.executemany_later(
        """INSERT INTO reminders (booking_id, kind, offset_minutes, due_at, status, reason,
                                  updated_at, previous_booking_id, note)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        [
            (
                booking_id,
                e.kind.value,
                e.offset_minutes,
                to_ts(e.due),
                e.status.value,
                e.reason,
                ts,
                e.previous_id,
                e.note,
            )
            for e in entries
        ],
    )


def void_pending(
    conn: Conn,
    booking_id: int,
    reason: str,
    now: datetime,
    kinds: tuple[ReminderKind, ...] = ALL_KINDS,
) -> int:
    cur = conn.execute(
        # A row being sent ('sending') is left to finish: it ends sent or failed, truthfully.
        f"""UPDATE reminders SET status = 'skipped', reason = ?, updated_at = ?
            WHERE booking_id = ? AND status = 'pending'
              AND kind IN ({",".join("?" * len(kinds))})""",
        (reason, to_ts(now), booking_id, *(k.value for k in kinds)),
    )
    return int(cur.rowcount)


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


def due(conn: Conn, now: datetime, limit: int) -> list[DueEntry]:
    """Due pending rows, oldest first. On PostgreSQL the rows are locked and rows another
    process has locked are passed over (SKIP LOCKED): two dispatchers never claim one row."""
    sql = (
        _DUE_SQL + " WHERE r.status = 'pending' AND r.due_at <= ?"
        f" AND r.kind IN ({_SCHEDULED}) ORDER BY r.due_at, r.id LIMIT ?"
    )
    if conn.dialect == "postgresql":
        sql += " FOR UPDATE OF r SKIP LOCKED"
    found = conn.execute(sql, (to_ts(now), limit))
    return [
        DueEntry(
            reminder_id=row["reminder_id"],
            kind=ReminderKind(row["kind"]),
            offset_minutes=row["offset_minutes"],
            attempts=row["attempts"],
            booking_id=row["booking_id"],
            client_id=row["client_id"],
            start=from_ts(row["start_at"]),
            booking_status=row["booking_status"],
            service_name=row["service_name"],
            specialist_name=row["specialist_name"],
            client_language=row["client_language"],
            client_reachable=bool(row["client_reachable"]),
        )
        for row in found
    ]


NOTICE_KINDS = tuple(k.value for k in NoticeKind)


def due_notices(
    conn: Conn,
    now: datetime,
    limit: int,
    booking_ids: Sequence[int] | None = None,
    of_kinds: Sequence[str] = NOTICE_KINDS,
) -> list[DueNotice]:
    """Due pending notices of ``of_kinds``, oldest first (only those of ``booking_ids``, when
    given); locked and passed over by other processes on PostgreSQL, as due() does."""
    kinds = ",".join("?" * len(of_kinds))
    params: list[object] = [to_ts(now), *of_kinds]
    sql = f"""SELECT id, kind, booking_id, previous_booking_id, note, attempts FROM reminders
              WHERE status = 'pending' AND due_at <= ? AND kind IN ({kinds})"""
    if booking_ids is not None:
        sql += f" AND booking_id IN ({','.join('?' * len(booking_ids)) or 'NULL'})"
        params.extend(booking_ids)
    sql += " ORDER BY due_at, id LIMIT ?"
    params.append(limit)
    if conn.dialect == "postgresql":
        sql += " FOR UPDATE SKIP LOCKED"
    return [
        DueNotice(int(r[0]), NoticeKind(r[1]), int(r[2]), r[3], r[4], int(r[5]))
        for r in conn.execute(sql, params)
    ]


def confirmation_answered(conn: Conn, booking_id: int, now: datetime) -> None:
    """The client saw their booked card in the chat: the fallback confirmation is not needed."""
    conn.execute(
        """UPDATE reminders SET status = 'skipped', reason = 'answered in the chat',
               updated_at = ?
           WHERE booking_id = ? AND kind = 'confirmation' AND status = 'pending'""",
        (to_ts(now), booking_id),
    )


def skip_superseded(conn: Conn, now: datetime) -> list[int]:
    """Due rows with a later due row of the same booking and kind: after downtime only the latest
    (the closest to the appointment) is worth sending. Returns the skipped ids."""
    ts = to_ts(now)
    found = conn.execute(
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
    return [int(r[0]) for r in found]


def set_status(
    conn: Conn,
    reminder_id: int,
    status: ReminderStatus,
    now: datetime,
    *,
    reason: str | None = None,
) -> None:
    """Settle a row that is not being sent (skipped at the claim)."""
    conn.execute(
        "UPDATE reminders SET status = ?, reason = ?, updated_at = ? WHERE id = ?",
        (status.value, reason, to_ts(now), reminder_id),
    )


def claim(
    conn: Conn,
    reminder_id: int,
    now: datetime,
    owner: str,
    lease_until: datetime,
    *,
    started: bool = False,
) -> None:
    """The row is this process's to send until ``lease_until``; its send has not started (or,
    with ``started``, starts now: the caller sends it at once)."""
    ts = to_ts(now)
    params: tuple[int, ...] = ()
    attempt = "attempt_started_at = NULL"
    if started:
        attempt, params = "attempt_started_at = ?, attempts = attempts + 1", (ts,)
    conn.execute(
        f"""UPDATE reminders SET status = 'sending', claimed_by = ?, claimed_at = ?,
               lease_until = ?, updated_at = ?, {attempt}
           WHERE id = ?""",
        (owner, ts, to_ts(lease_until), ts, *params, reminder_id),
    )


def start_attempt(conn: Conn, reminder_id: int, owner: str, now: datetime) -> bool:
    """Mark the send as started, while this process still holds the lease: True only then.
    From here on, a crash leaves a reminder failed (it may have reached the client)."""
    cur = conn.execute(
        """UPDATE reminders SET attempt_started_at = ?, attempts = attempts + 1, updated_at = ?
           WHERE id = ? AND status = 'sending' AND claimed_by = ?
             AND attempt_started_at IS NULL AND lease_until > ?""",
        (to_ts(now), to_ts(now), reminder_id, owner, to_ts(now)),
    )
    return int(cur.rowcount) == 1


def finish(
    conn: Conn,
    reminder_id: int,
    owner: str,
    status: ReminderStatus,
    now: datetime,
    reason: str | None = None,
) -> bool:
    """How the started send ended: sent, failed, or pending again (a transient error)."""
    ts = to_ts(now)
    cur = conn.execute(
        """UPDATE reminders SET status = ?, reason = ?, updated_at = ?,
               sent_at = CASE WHEN ? = 'sent' THEN ? ELSE sent_at END,
               claimed_by = NULL, lease_until = NULL, attempt_started_at = NULL
           WHERE id = ? AND status = 'sending' AND claimed_by = ?""",
        (status.value, reason, ts, status.value, ts, reminder_id, owner),
    )
    return int(cur.rowcount) == 1


def release(conn: Conn, owner: str, now: datetime) -> int:
    """This process's claimed rows whose send never started: pending again (at a stop)."""
    cur = conn.execute(
        """UPDATE reminders SET status = 'pending', claimed_by = NULL, lease_until = NULL,
               updated_at = ?
           WHERE status = 'sending' AND claimed_by = ? AND attempt_started_at IS NULL""",
        (to_ts(now), owner),
    )
    return int(cur.rowcount)


def expire_leases(conn: Conn, now: datetime) -> int:
    """Claimed rows whose lease ended (the process stopped or died): pending again if their send
    never started; a notice's even if it had (notices are sent at least once)."""
    cur = conn.execute(
        f"""UPDATE reminders SET status = 'pending', claimed_by = NULL, lease_until = NULL,
               attempt_started_at = NULL, updated_at = ?
           WHERE status = 'sending' AND lease_until <= ?
             AND (attempt_started_at IS NULL OR kind NOT IN ({_SCHEDULED}))""",
        (to_ts(now), to_ts(now)),
    )
    return int(cur.rowcount)


def abandon_stale_sending(conn: Conn, started_before: datetime, now: datetime) -> int:
    """Reminders whose send started in a process that died mid-send: we cannot know whether
    the message left, so they are failed, never sent again (at most once)."""
    cur = conn.execute(
        f"""UPDATE reminders SET status = 'failed', updated_at = ?,
               reason = 'interrupted while sending; not sent again'
           WHERE status = 'sending' AND attempt_started_at < ? AND kind IN ({_SCHEDULED})""",
        (to_ts(now), to_ts(started_before)),
    )
    return int(cur.rowcount)


def backlog(conn: Conn, now: datetime) -> dict[str, int]:
    """Rows due and not delivered yet (pending, or being sent), by kind."""
    rows = conn.execute(
        """SELECT kind, count(*) FROM reminders
           WHERE status IN ('pending', 'sending') AND due_at <= ? GROUP BY kind""",
        (to_ts(now),),
    )
    return {str(kind): int(count) for kind, count in rows}


CARD_KINDS = tuple(k.value for k in CARDS)


def cards_about_client(conn: Conn, client_id: int, since: datetime) -> int:
    """Cards about the client's changes that went out (or are going out) since ``since``."""
    kinds = ",".join("?" * len(CARD_KINDS))
    row = conn.execute(
        f"""SELECT count(*) FROM reminders r JOIN bookings b ON b.id = r.booking_id
            WHERE b.client_id = ? AND r.kind IN ({kinds}) AND r.status IN ('sent', 'sending')
              AND r.due_at >= ?""",
        (client_id, *CARD_KINDS, to_ts(since)),
    ).fetchone()
    return int(row[0])
