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


def hours_between(
    conn: Conn, specialist_ids: Sequence[int], first: date, last: date
) -> tuple[dict[int, WeeklyHours], list[ScheduleException]]:
    """weekly_hours() and exceptions_between() in one round trip."""
    weekly: dict[int, WeeklyHours] = {sid: {} for sid in specialist_ids}
    marks = ",".join("?" * len(specialist_ids)) or "NULL"
    found = conn.tuples(
        f"""SELECT 0, specialist_id, weekday, start_minute, end_minute, NULL, NULL
            FROM working_hours WHERE specialist_id IN ({marks})
            UNION ALL
            SELECT 1, specialist_id, id, start_minute, end_minute, day, reason
            FROM schedule_exceptions WHERE day BETWEEN ? AND ?
            ORDER BY 1, 2, 3, 4""",
        (*specialist_ids, first.isoformat(), last.isoformat()),
    )
    exceptions: list[ScheduleException] = []
    for kind, sid, number, start, end, day, reason in found:
        if kind == 0:
            weekly[sid].setdefault(number, []).append((start, end))
        else:
            hours = None if start is None else (start, end)
            exceptions.append(
                ScheduleException(number, sid, date.fromisoformat(day), hours, reason)
            )
    exceptions.sort(key=lambda e: (e.day, -1 if e.hours is None else e.hours[0]))
    return weekly, exceptions


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


def exceptions_from(conn: Conn, first: date) -> list[ScheduleException]:
    """Every override on or after ``first``, the business's before each specialist's."""
    found = conn.execute(
        "SELECT * FROM schedule_exceptions WHERE day >= ?"
        " ORDER BY COALESCE(specialist_id, 0), day, start_minute",
        (first.isoformat(),),
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


BUSINESS = 0  # the calendar_versions row of the whole business's exceptions


def calendar_versions(conn: Conn, specialist_ids: Sequence[int]) -> dict[int, int]:
    """The current version of each specialist's free time and the business's (BUSINESS); a
    missing row is version 0. Triggers raise them (database/migrations/*/m*_calendar_versions)."""
    marks = ",".join("?" * (len(specialist_ids) + 1))
    found = conn.tuples(
        f"SELECT specialist_id, version FROM calendar_versions WHERE specialist_id IN ({marks})",
        (BUSINESS, *specialist_ids),
    )
    return {int(sid): int(version) for sid, version in found}
