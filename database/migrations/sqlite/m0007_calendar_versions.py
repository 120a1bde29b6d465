"""A version number per specialist that every change of their free time raises, kept by
triggers so no code path can forget it. The month calendar (services/calendar.py) caches each
specialist's days per process and checks these numbers on every read, so a client's calendar
costs a few index lookups instead of reading a month of bookings, and a booking made by
another process shows at once.

Row 0 stands for the whole business: its days off and custom hours (schedule_exceptions with
no specialist). A table rebuilt by a later migration (bookings, working_hours,
schedule_exceptions) must create its triggers again."""

from __future__ import annotations

import sqlite3

from database.migrations.base import MigrationContext

VERSION = 7
NAME = "calendar versions: raised by triggers on bookings, hours and exceptions"


def bump(expr: str) -> str:
    return (
        f"INSERT INTO calendar_versions (specialist_id, version) VALUES ({expr}, 1)"
        " ON CONFLICT (specialist_id) DO UPDATE SET version = calendar_versions.version + 1;"
    )


# The columns that decide who is busy when; other updates (a rating, a confirmation) do not
# move anyone's free time.
BOOKING_CHANGED = (
    "OLD.status IS NOT NEW.status OR OLD.start_at IS NOT NEW.start_at"
    " OR OLD.busy_until IS NOT NEW.busy_until OR OLD.specialist_id IS NOT NEW.specialist_id"
)

TRIGGERS = {
    "bookings_cal_insert": f"AFTER INSERT ON bookings BEGIN {bump('NEW.specialist_id')} END",
    "bookings_cal_update": (
        f"AFTER UPDATE ON bookings WHEN {BOOKING_CHANGED} BEGIN"
        f" {bump('OLD.specialist_id')} {bump('NEW.specialist_id')} END"
    ),
    "bookings_cal_delete": f"AFTER DELETE ON bookings BEGIN {bump('OLD.specialist_id')} END",
    "hours_cal_insert": f"AFTER INSERT ON working_hours BEGIN {bump('NEW.specialist_id')} END",
    "hours_cal_update": (
        "AFTER UPDATE ON working_hours BEGIN"
        f" {bump('OLD.specialist_id')} {bump('NEW.specialist_id')} END"
    ),
    "hours_cal_delete": f"AFTER DELETE ON working_hours BEGIN {bump('OLD.specialist_id')} END",
    "exceptions_cal_insert": (
        f"AFTER INSERT ON schedule_exceptions BEGIN {bump('COALESCE(NEW.specialist_id, 0)')} END"
    ),
    "exceptions_cal_update": (
        "AFTER UPDATE ON schedule_exceptions BEGIN"
        f" {bump('COALESCE(OLD.specialist_id, 0)')} {bump('COALESCE(NEW.specialist_id, 0)')} END"
    ),
    "exceptions_cal_delete": (
        f"AFTER DELETE ON schedule_exceptions BEGIN {bump('COALESCE(OLD.specialist_id, 0)')} END"
    ),
}


def upgrade(conn: sqlite3.Connection, ctx: MigrationContext) -> None:
    conn.execute(
        """CREATE TABLE calendar_versions (
            specialist_id INTEGER PRIMARY KEY,
            version INTEGER NOT NULL
        )"""
    )
    for name, body in TRIGGERS.items():
        conn.execute(f"CREATE TRIGGER {name} {body}")
