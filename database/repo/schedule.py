"""Weekly working hours and the dates that differ from them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime

from database.engine import Conn
from database.repo import rows
from domain.actors import Actor
from domain.schedule import ScheduleException
from utils.hours import Interval, WeeklyHours
from utils.timeutil import to_ts


def weekly_hours(conn: Conn, specialist_ids: Sequence[int]) -> dict[int, WeeklyHours]:
    result: dict[int, WeeklyHours] = {sid: {} for sid in specialist_ids}
    if not specialist_ids:
        return result
    marks = ",".join("?" * len(specialist_ids))
    found = conn.execute(
        f"""SELECT specialist_id, weekday, start_minute, end_minute FROM working_hours
            WHERE specialist_id IN ({marks}) ORDER BY specialist_id, weekday, start_minute""",
        tuple(specialist_ids),
    )
    for row in found:
        result[row[0]].setdefault(row[1], []).append((row[2], row[3]))
    return result


def replace_weekday_hours(
    conn: Conn, specialist_id: int, weekday: int, intervals: Iterable[Interval]
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


def exceptions_between(conn: Conn, first: date, last: date) -> list[ScheduleException]:
    found = conn.execute(
        "SELECT * FROM schedule_exceptions WHERE day BETWEEN ? AND ? ORDER BY day, start_minute",
        (first.isoformat(), last.isoformat()),
    )
    return [rows.schedule_exception(r) for r in found]


def add_exception(
    conn: Conn,
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


def clear_exceptions(conn: Conn, day: date, specialist_id: int | None) -> int:
    cur = conn.execute(
        "DELETE FROM schedule_exceptions WHERE day = ?"
        " AND COALESCE(specialist_id, 0) = COALESCE(?, 0)",
        (day.isoformat(), specialist_id),
    )
    return int(cur.rowcount)
