"""Move a SQLite database into PostgreSQL: ``python -m database.transfer SOURCE_URL TARGET_URL``.

The source (``sqlite:///path``) is migrated first, whatever its version (the file is copied
aside before). The target (``postgresql://...``) must be empty: it is migrated, then every row
is copied in one transaction with its id kept, the id sequences are moved past the copied ids,
and the row counts of both sides are compared before COMMIT. Nothing is written on any
refusal: a target that holds data, or a source whose active bookings overlap (SQLite's indexes
forbid two bookings of one specialist at the same start on the same seat, not every overlap;
PostgreSQL's constraints forbid them all, so they are named for a person to resolve first). The
seats of one group session (same specialist, service and start) share their time by design.
"""

from __future__ import annotations

import logging
import sqlite3
import sys
from dataclasses import dataclass
from typing import Any

from database.engine import DatabaseUrlError, DriverMissing, parse_database_url, require_module
from database.migrate import migrate, migrate_postgres
from database.migrations.base import MigrationContext, MigrationError
from database.sqlite import connect_sync
from domain.errors import StorageUnavailable
from utils.timeutil import system_clock

logger = logging.getLogger(__name__)

# In the order foreign keys allow; each with its id column (None: no identity to move).
TABLES: tuple[tuple[str, str | None], ...] = (
    ("services", "id"),
    ("specialists", "id"),
    ("specialist_services", None),
    ("specialist_accounts", None),
    ("specialist_links", None),
    ("working_hours", "id"),
    ("schedule_exceptions", "id"),
    ("clients", None),  # Telegram ids, no sequence
    ("client_notes", "id"),
    ("bookings", "id"),
    ("waitlist", "id"),
    ("reminders", "id"),
    ("audit_log", "id"),
    ("app_state", None),
)
# Kept by triggers from the tables above: filled as they are copied, never copied themselves.
DERIVED = ("calendar_versions",)

OVERLAPS_SQL = """
SELECT a.id, b.id, a.specialist_id FROM bookings a JOIN bookings b
  ON a.specialist_id = b.specialist_id AND a.id < b.id
 AND a.start_at < b.busy_until AND b.start_at < a.busy_until
 AND NOT (a.start_at = b.start_at AND a.service_id = b.service_id)
WHERE a.status = 'active' AND b.status = 'active'
ORDER BY a.id, b.id
"""


class TransferRefused(Exception):
    """Why nothing was copied, for the operator."""


@dataclass(frozen=True)
class TransferReport:
    rows: dict[str, int]


def overlapping_bookings(conn: sqlite3.Connection) -> list[tuple[int, int, int]]:
    return [(int(a), int(b), int(s)) for a, b, s in conn.execute(OVERLAPS_SQL)]


def transfer(source: str, target: str, ctx: MigrationContext) -> TransferReport:
    src, dst = parse_database_url(source), parse_database_url(target)
    if src.dialect != "sqlite" or src.path is None:
        raise TransferRefused("the source must be a SQLite URL (sqlite:///path)")
    if dst.dialect != "postgresql" or dst.dsn is None:
        raise TransferRefused("the target must be a PostgreSQL URL (postgresql://...)")
    if not src.path.exists():
        raise TransferRefused(f"no SQLite database at {src.path}")
    migrate(src.path, ctx)
    reader = connect_sync(src.path)
    try:
        # One snapshot of the source for the whole copy (stop the bot first all the same:
        # what it writes after this moment would not be copied).
        reader.execute("BEGIN")
        overlaps = overlapping_bookings(reader)
        if overlaps:
            named = ", ".join(f"#{a} and #{b} (specialist {s})" for a, b, s in overlaps[:20])
            more = f" and {len(overlaps) - 20} more pairs" if len(overlaps) > 20 else ""
            raise TransferRefused(
                f"active bookings overlap in the source: {named}{more}; cancel or move one of"
                " each pair first (PostgreSQL refuses overlapping active bookings)"
            )
        _refuse_foreign_tables(dst.dsn)
        migrate_postgres(dst.dsn, ctx)
        return _copy(reader, dst.dsn)
    finally:
        if reader.in_transaction:
            reader.execute("ROLLBACK")
        reader.close()


def _copy(reader: sqlite3.Connection, dsn: str) -> TransferReport:
    psycopg = require_module("psycopg", "PostgreSQL")
    counts: dict[str, int] = {}
    with psycopg.connect(dsn) as conn, conn.transaction():
        _refuse_unless_empty(conn)
        conn.execute("DELETE FROM specialists")  # the seed row; the source has its own
        for table, id_column in TABLES:
            columns = _shared_columns(reader, conn, table)
            # By id: a moved booking refers to the one it replaced, always an older row.
            order = f" ORDER BY {id_column}" if id_column else ""
            rows = reader.execute(f"SELECT {', '.join(columns)} FROM {table}{order}").fetchall()
            with conn.cursor().copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(tuple(row))
            if id_column is not None:
                conn.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', '{id_column}'),"
                    f" COALESCE(MAX({id_column}), 1), MAX({id_column}) IS NOT NULL) FROM {table}"
                )
            copied = conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            if copied != len(rows):
                raise TransferRefused(
                    f"{table}: {len(rows)} rows in the source, {copied} in the target"
                )
            counts[table] = len(rows)
    return TransferReport(counts)


def _refuse_foreign_tables(dsn: str) -> None:
    """Tables that are not ours mean another application's database: not touched at all."""
    psycopg = require_module("psycopg", "PostgreSQL")
    ours = {table for table, _ in TABLES} | {"schema_migrations", *DERIVED}
    try:
        with psycopg.connect(dsn, connect_timeout=5) as conn:
            found = {
                str(r[0])
                for r in conn.execute(
                    "SELECT table_name FROM information_schema.tables"
                    " WHERE table_schema = current_schema()"
                )
            }
    except psycopg.OperationalError as exc:
        raise StorageUnavailable("PostgreSQL not reachable") from exc
    foreign = sorted(found - ours)
    if foreign:
        raise TransferRefused(f"the target database is not empty: tables {', '.join(foreign)}")


def _refuse_unless_empty(conn: Any) -> None:
    """Only a target with nothing but its freshly migrated schema (and seed specialist)."""
    held = []
    for table, _ in TABLES:
        count = conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        seed = 1 if table == "specialists" else 0
        if count > seed:
            held.append(f"{table} ({count} rows)")
    if held:
        raise TransferRefused(f"the target database is not empty: {', '.join(held)}")


def _shared_columns(reader: sqlite3.Connection, conn: Any, table: str) -> list[str]:
    source = [str(r[1]) for r in reader.execute(f"PRAGMA table_info({table})")]
    target = {
        str(r[0])
        for r in conn.execute(
            "SELECT column_name FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND table_name = %s",
            (table,),
        )
    }
    return [c for c in source if c in target]


def main(argv: list[str] | None = None) -> int:
    from config import load_settings_or_exit
    from utils.logging_setup import setup_logging
    from utils.timeutil import get_tz

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python -m database.transfer SOURCE_URL TARGET_URL", file=sys.stderr)
        print("  e.g. sqlite:///data/bot.db postgresql://bot@127.0.0.1:5432/bot", file=sys.stderr)
        return 2
    settings = load_settings_or_exit()
    setup_logging(settings.log_level, settings.log_file, settings.log_format)
    ctx = MigrationContext(tz=get_tz(settings.timezone), now=system_clock())
    try:
        report = transfer(args[0], args[1], ctx)
    except (DatabaseUrlError, DriverMissing) as exc:
        print(f"cannot transfer: {exc}", file=sys.stderr)
        return 2
    except (TransferRefused, MigrationError, StorageUnavailable) as exc:
        print(f"nothing was copied: {exc}", file=sys.stderr)
        return 1
    total = sum(report.rows.values())
    summary = ", ".join(f"{table} {count}" for table, count in report.rows.items())
    print(f"copied {total} rows: {summary}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
