"""The first versioned schema; also upgrades the older unversioned layout in place.

The older layout (from the first bot):
  bookings(id, date TEXT 'YYYY-MM-DD', time TEXT 'HH:MM', user_id, username, created_at,
           service_id DEFAULT 1, [duration_minutes DEFAULT 60], UNIQUE(date, time))
  services(id, name, duration_minutes, price, is_active)
Its tables are renamed to legacy_*_v0 and kept, their rows copied into the new tables with the
same ids; local date+time becomes a UTC instant in the business time zone.
"""

from __future__ import annotations

import logging
import sqlite3
from datetime import UTC, datetime, timedelta

from database.migrations.base import MigrationContext, MigrationError, columns, table_exists
from utils.timeutil import localize_strict, to_ts

logger = logging.getLogger(__name__)

VERSION = 1
NAME = "initial schema (services, specialists, hours, clients, bookings, reminders, audit)"

SCHEMA = """
CREATE TABLE services (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL CHECK (length(trim(name)) > 0),
    description TEXT NOT NULL DEFAULT '',
    duration_minutes INTEGER NOT NULL CHECK (duration_minutes BETWEEN 1 AND 1440),
    price INTEGER NOT NULL DEFAULT 0 CHECK (price >= 0),
    buffer_minutes INTEGER NOT NULL DEFAULT 0 CHECK (buffer_minutes BETWEEN 0 AND 1440),
    is_active INTEGER NOT NULL DEFAULT 1 CHECK (is_active IN (0, 1)),
    sort_order INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE specialists (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL CHECK (length(trim(name)) > 0),
    is_active INTEGER NOT NULL DEFAULT 1 CHECK (is_active IN (0, 1)),
    sort_order INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);

CREATE TABLE specialist_services (
    specialist_id INTEGER NOT NULL
        REFERENCES specialists(id) ON UPDATE CASCADE ON DELETE CASCADE,
    service_id INTEGER NOT NULL
        REFERENCES services(id) ON UPDATE CASCADE ON DELETE CASCADE,
    PRIMARY KEY (specialist_id, service_id)
) WITHOUT ROWID;
CREATE INDEX ix_specialist_services_service ON specialist_services(service_id);

-- Weekly hours on the local wall clock, minutes from midnight; several rows a day, gaps are breaks.
CREATE TABLE working_hours (
    id INTEGER PRIMARY KEY,
    specialist_id INTEGER NOT NULL
        REFERENCES specialists(id) ON UPDATE CASCADE ON DELETE CASCADE,
    weekday INTEGER NOT NULL CHECK (weekday BETWEEN 0 AND 6),
    start_minute INTEGER NOT NULL CHECK (start_minute BETWEEN 0 AND 1440),
    end_minute INTEGER NOT NULL CHECK (end_minute BETWEEN 0 AND 1440),
    CHECK (start_minute < end_minute)
);
CREATE INDEX ix_working_hours_specialist ON working_hours(specialist_id, weekday);

-- One date's override: a day off (no minutes) or custom hours (one row per interval).
-- specialist_id NULL means the whole business.
CREATE TABLE schedule_exceptions (
    id INTEGER PRIMARY KEY,
    specialist_id INTEGER REFERENCES specialists(id) ON UPDATE CASCADE ON DELETE CASCADE,
    day TEXT NOT NULL CHECK (day GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    start_minute INTEGER CHECK (start_minute BETWEEN 0 AND 1440),
    end_minute INTEGER CHECK (end_minute BETWEEN 0 AND 1440),
    reason TEXT NOT NULL DEFAULT '',
    created_by INTEGER,
    created_at INTEGER NOT NULL,
    CHECK ((start_minute IS NULL AND end_minute IS NULL) OR start_minute < end_minute)
);
CREATE INDEX ix_schedule_exceptions_day ON schedule_exceptions(day);

-- id is the Telegram user id.
CREATE TABLE clients (
    id INTEGER PRIMARY KEY,
    username TEXT,
    first_name TEXT NOT NULL DEFAULT '',
    name TEXT,
    phone TEXT,
    language TEXT,
    is_reachable INTEGER NOT NULL DEFAULT 1 CHECK (is_reachable IN (0, 1)),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX ix_clients_username ON clients(username COLLATE NOCASE);

-- Instants are Unix seconds (UTC). busy_until = end + the service's buffer: the specialist takes
-- no other booking before it.
CREATE TABLE bookings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id INTEGER NOT NULL REFERENCES clients(id) ON UPDATE CASCADE ON DELETE RESTRICT,
    service_id INTEGER NOT NULL REFERENCES services(id) ON UPDATE CASCADE ON DELETE RESTRICT,
    specialist_id INTEGER NOT NULL
        REFERENCES specialists(id) ON UPDATE CASCADE ON DELETE RESTRICT,
    start_at INTEGER NOT NULL,
    end_at INTEGER NOT NULL,
    busy_until INTEGER NOT NULL,
    duration_minutes INTEGER NOT NULL CHECK (duration_minutes > 0),
    buffer_minutes INTEGER NOT NULL DEFAULT 0 CHECK (buffer_minutes >= 0),
    price INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL DEFAULT 'active'
        CHECK (status IN ('active', 'cancelled', 'completed', 'no_show')),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    cancelled_at INTEGER,
    cancelled_by INTEGER,
    cancelled_by_role TEXT CHECK (cancelled_by_role IN ('client', 'admin', 'system')),
    cancel_reason TEXT,
    rescheduled_from INTEGER REFERENCES bookings(id) ON UPDATE CASCADE ON DELETE RESTRICT,
    confirmed_at INTEGER,
    CHECK (end_at > start_at AND busy_until >= end_at)
);
-- Backstop for the in-transaction overlap check: never two active bookings of one specialist at
-- the same start, whatever code path writes.
CREATE UNIQUE INDEX ux_bookings_active_start ON bookings(specialist_id, start_at)
    WHERE status = 'active';
CREATE INDEX ix_bookings_active_start ON bookings(start_at) WHERE status = 'active';
CREATE INDEX ix_bookings_start ON bookings(start_at);
CREATE INDEX ix_bookings_client ON bookings(client_id, start_at);
CREATE INDEX ix_bookings_service ON bookings(service_id);
CREATE INDEX ix_bookings_rescheduled_from ON bookings(rescheduled_from);

-- The reminder outbox, written and voided in the same transaction as the booking changes.
CREATE TABLE reminders (
    id INTEGER PRIMARY KEY,
    booking_id INTEGER NOT NULL REFERENCES bookings(id) ON UPDATE CASCADE ON DELETE CASCADE,
    kind TEXT NOT NULL DEFAULT 'reminder' CHECK (kind IN ('reminder', 'feedback')),
    offset_minutes INTEGER NOT NULL,
    due_at INTEGER NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'sending', 'sent', 'skipped', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    reason TEXT,
    claimed_at INTEGER,
    sent_at INTEGER,
    updated_at INTEGER NOT NULL,
    UNIQUE (booking_id, kind, offset_minutes)
);
CREATE INDEX ix_reminders_pending_due ON reminders(due_at) WHERE status = 'pending';

CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    actor_id INTEGER,
    actor_role TEXT NOT NULL CHECK (actor_role IN ('client', 'admin', 'system')),
    action TEXT NOT NULL,
    entity TEXT NOT NULL,
    entity_id INTEGER,
    details TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX ix_audit_log_entity ON audit_log(entity, entity_id);

CREATE TABLE app_state (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""

DEFAULT_SPECIALIST_ID = 1
DEFAULT_SPECIALIST_NAME = "Master"
LEGACY_DURATION = 60


def upgrade(conn: sqlite3.Connection, ctx: MigrationContext) -> None:
    legacy_bookings = table_exists(conn, "bookings") and "start_at" not in columns(conn, "bookings")
    legacy_services = table_exists(conn, "services") and "buffer_minutes" not in columns(
        conn, "services"
    )
    if legacy_bookings:
        conn.execute("ALTER TABLE bookings RENAME TO legacy_bookings_v0")
    if legacy_services:
        conn.execute("ALTER TABLE services RENAME TO legacy_services_v0")

    for statement in _statements(SCHEMA):
        conn.execute(statement)

    now = to_ts(ctx.now)
    conn.execute(
        "INSERT INTO specialists (id, name, created_at) VALUES (?, ?, ?)",
        (DEFAULT_SPECIALIST_ID, DEFAULT_SPECIALIST_NAME, now),
    )
    if legacy_services:
        _import_services(conn, now)
    if legacy_bookings:
        _import_bookings(conn, ctx, now)
    conn.execute(
        "INSERT INTO specialist_services (specialist_id, service_id) SELECT ?, id FROM services",
        (DEFAULT_SPECIALIST_ID,),
    )


def _statements(script: str) -> list[str]:
    # Executed one by one: executescript() would COMMIT the migration's transaction.
    lines = [line for line in script.splitlines() if not line.strip().startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


def _import_services(conn: sqlite3.Connection, now: int) -> None:
    conn.execute(
        """
        INSERT INTO services (id, name, duration_minutes, price, is_active, sort_order,
                              created_at, updated_at)
        SELECT id,
               COALESCE(NULLIF(trim(name), ''), 'Service #' || id),
               CASE WHEN duration_minutes BETWEEN 1 AND 1440 THEN duration_minutes ELSE ? END,
               MAX(COALESCE(price, 0), 0),
               CASE WHEN COALESCE(is_active, 1) THEN 1 ELSE 0 END,
               id, ?, ?
        FROM legacy_services_v0
        """,
        (LEGACY_DURATION, now, now),
    )


def _parse_legacy_start(day: str, clock: str) -> datetime | None:
    for day_format in ("%Y-%m-%d", "%d.%m.%Y"):
        for time_format in ("%H:%M", "%H:%M:%S"):
            try:
                return datetime.strptime(  # noqa: DTZ007 - local wall time, localized below
                    f"{day.strip()} {clock.strip()}", f"{day_format} {time_format}"
                )
            except ValueError:
                continue
    return None


def _parse_legacy_created(value: object, ctx: MigrationContext) -> int | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if parsed.tzinfo is None:
        # The old bot stored datetime.now(): local wall time of the business.
        localized = localize_strict(ctx.tz, parsed)
        return to_ts(localized) if localized else None
    return to_ts(parsed.astimezone(UTC))


def _import_bookings(conn: sqlite3.Connection, ctx: MigrationContext, now: int) -> None:
    has_duration = "duration_minutes" in columns(conn, "legacy_bookings_v0")
    duration_sql = "b.duration_minutes" if has_duration else "NULL"
    rows = conn.execute(
        f"""
        SELECT b.id, b.date, b.time, b.user_id, b.username, b.created_at,
               COALESCE(b.service_id, 1) AS service_id, {duration_sql} AS duration,
               s.duration_minutes AS service_duration, s.price AS price, s.id AS known_service
        FROM legacy_bookings_v0 b LEFT JOIN services s ON s.id = COALESCE(b.service_id, 1)
        ORDER BY b.id
        """
    ).fetchall()

    unreadable = []
    seen: dict[int, int] = {}  # start instant -> the old booking already there
    for row in rows:
        local = _parse_legacy_start(str(row["date"] or ""), str(row["time"] or ""))
        if local is None:
            unreadable.append(f"#{row['id']} ({row['date']!r} {row['time']!r})")
            continue
        if row["known_service"] is None:
            # A booking of a service the old table no longer has: keep it, under a placeholder.
            conn.execute(
                """INSERT OR IGNORE INTO services
                   (id, name, duration_minutes, is_active, created_at, updated_at)
                   VALUES (?, ?, ?, 0, ?, ?)""",
                (row["service_id"], f"Service #{row['service_id']}", LEGACY_DURATION, now, now),
            )
        client_id = row["user_id"] if row["user_id"] is not None else 0
        conn.execute(
            """INSERT INTO clients (id, username, first_name, created_at, updated_at)
               VALUES (?, ?, '', ?, ?)
               ON CONFLICT(id) DO UPDATE SET username = COALESCE(excluded.username, username)""",
            (client_id, row["username"], now, now),
        )
        start = localize_strict(ctx.tz, local)
        if start is None:
            # A wall time the clocks skipped: the old bot meant the same wall time a moment later.
            start = ctx.tz.normalize(ctx.tz.localize(local, is_dst=False))
        if (clash := seen.setdefault(to_ts(start), row["id"])) != row["id"]:
            # The same moment written two ways ('2026-12-24' and '24.12.2026'): UNIQUE(date,
            # time) could not see it; one specialist cannot hold both.
            unreadable.append(f"#{row['id']} (same time as #{clash})")
            continue
        duration = row["duration"] or row["service_duration"] or LEGACY_DURATION
        end = start + timedelta(minutes=duration)
        created = _parse_legacy_created(row["created_at"], ctx) or now
        conn.execute(
            """INSERT INTO bookings (id, client_id, service_id, specialist_id, start_at, end_at,
                                     busy_until, duration_minutes, price, status,
                                     created_at, updated_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'active', ?, ?)""",
            (
                row["id"],
                client_id,
                row["service_id"],
                DEFAULT_SPECIALIST_ID,
                to_ts(start),
                to_ts(end),
                to_ts(end),
                duration,
                row["price"] or 0,
                created,
                now,
            ),
        )
    if unreadable:
        raise MigrationError(
            "old bookings with an unreadable or duplicate date and time "
            "(fix them, then start again): " + ", ".join(unreadable[:20])
        )
    logger.info("imported %d bookings from the older layout", len(rows))
