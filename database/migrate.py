"""Versioned, forward-only migrations, per engine: ``python -m database.migrate``.

Each module database/migrations/<engine>/mNNNN_*.py has VERSION, NAME and upgrade(conn, ctx).
Each runs in its own transaction together with its schema_migrations row, so a failure leaves
the database as it was. Two processes starting at once apply each migration once: SQLite's
BEGIN IMMEDIATE, PostgreSQL's advisory lock held while migrating.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import ModuleType

from database.backup import backup_file
from database.engine import DatabaseUrl, DriverMissing, require_module
from database.migrations.base import MigrationContext, MigrationError
from database.sqlite import connect_sync
from domain.errors import StorageUnavailable
from utils.timeutil import system_clock, to_ts

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    upgrade: Callable[[sqlite3.Connection, MigrationContext], None]


@dataclass
class MigrationReport:
    applied: list[int] = field(default_factory=list)
    backup: Path | None = None
    current_version: int = 0


# Any 64-bit number, the same in every process: who migrates a PostgreSQL database now.
PG_MIGRATION_LOCK = -(2**62)  # apart from the booking keys (database/repo/locks.py)


def discover(engine: str = "sqlite") -> list[Migration]:
    package = importlib.import_module(f"database.migrations.{engine}")
    found = []
    for info in pkgutil.iter_modules(package.__path__):
        if not info.name.startswith("m") or not info.name[1:5].isdigit():
            continue
        module: ModuleType = importlib.import_module(f"{package.__name__}.{info.name}")
        found.append(Migration(module.VERSION, module.NAME, module.upgrade))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise MigrationError(f"two migrations share a version: {versions}")
    return found


def _applied(conn: sqlite3.Connection) -> set[int]:
    return {int(row[0]) for row in conn.execute("SELECT version FROM schema_migrations")}


def _has_user_tables(conn: sqlite3.Connection) -> bool:
    row = conn.execute(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        " AND name != 'schema_migrations'"
    ).fetchone()
    return bool(row[0])


def migrate(
    path: Path | str,
    ctx: MigrationContext,
    *,
    busy_timeout_ms: int = 5000,
    migrations: list[Migration] | None = None,
) -> MigrationReport:
    path = Path(path)
    migrations = discover() if migrations is None else migrations
    report = MigrationReport()
    conn = connect_sync(path, busy_timeout_ms)
    try:
        # Table rebuilds need foreign keys off; foreign_key_check below re-validates before commit.
        conn.execute("PRAGMA foreign_keys = OFF")
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)"
        )
        pending = [m for m in migrations if m.version not in _applied(conn)]
        if pending and _has_user_tables(conn):
            report.backup = _backup_aside(conn, path, pending[0].version, ctx.now)
        for migration in pending:
            if _apply(conn, migration, ctx):
                report.applied.append(migration.version)
        report.current_version = max(_applied(conn), default=0)
    finally:
        conn.close()
    return report


def _apply(conn: sqlite3.Connection, migration: Migration, ctx: MigrationContext) -> bool:
    conn.execute("BEGIN IMMEDIATE")
    try:
        if migration.version in _applied(conn):  # another process got here first
            conn.execute("ROLLBACK")
            return False
        logger.info("applying migration %04d: %s", migration.version, migration.name)
        migration.upgrade(conn, ctx)
        violations = conn.execute("PRAGMA foreign_key_check").fetchall()
        if violations:
            raise MigrationError(
                f"migration {migration.version} leaves broken references: "
                + ", ".join(f"{v[0]} row {v[1]} -> {v[2]}" for v in violations[:10])
            )
        conn.execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
            (migration.version, migration.name, to_ts(ctx.now)),
        )
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return True


def _backup_aside(conn: sqlite3.Connection, path: Path, version: int, now: datetime) -> Path:
    target = path.with_name(f"{path.name}.pre-v{version:04d}-{now:%Y%m%dT%H%M%S}.bak")
    backup_file(conn, target)
    logger.info("copied %s aside to %s before migrating", path, target)
    return target


def migrate_postgres(
    dsn: str, ctx: MigrationContext, *, migrations: list[Migration] | None = None
) -> MigrationReport:
    psycopg = require_module("psycopg", "PostgreSQL")
    migrations = discover("postgresql") if migrations is None else migrations
    report = MigrationReport()
    try:
        connection = psycopg.connect(dsn, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        raise StorageUnavailable(f"PostgreSQL not reachable: {exc}".strip()) from None
    with connection as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (PG_MIGRATION_LOCK,))
        try:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)"
            )

            def applied() -> set[int]:
                rows = conn.execute("SELECT version FROM schema_migrations").fetchall()
                return {int(row[0]) for row in rows}

            for migration in migrations:
                if migration.version in applied():
                    continue
                logger.info("applying migration %04d: %s", migration.version, migration.name)
                with conn.transaction():
                    migration.upgrade(conn, ctx)
                    conn.execute(
                        "INSERT INTO schema_migrations (version, name, applied_at)"
                        " VALUES (%s, %s, %s)",
                        (migration.version, migration.name, to_ts(ctx.now)),
                    )
                report.applied.append(migration.version)
            report.current_version = max(applied(), default=0)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (PG_MIGRATION_LOCK,))
    return report


def migrate_url(
    url: DatabaseUrl, ctx: MigrationContext, *, busy_timeout_ms: int = 5000
) -> MigrationReport:
    """Migrate the database DATABASE_URL names, whichever engine it is."""
    if url.dialect == "postgresql":
        assert url.dsn is not None
        return migrate_postgres(url.dsn, ctx)
    assert url.path is not None
    return migrate(url.path, ctx, busy_timeout_ms=busy_timeout_ms)


def main() -> int:
    from config import load_settings_or_exit
    from utils.logging_setup import setup_logging
    from utils.timeutil import get_tz

    settings = load_settings_or_exit()
    setup_logging(settings.log_level, settings.log_file, settings.log_format)
    ctx = MigrationContext(tz=get_tz(settings.timezone), now=system_clock())
    try:
        report = migrate_url(settings.database, ctx, busy_timeout_ms=settings.db_busy_timeout_ms)
    except MigrationError as exc:
        logger.error("migration failed, nothing was changed: %s", exc)
        return 1
    except (StorageUnavailable, DriverMissing) as exc:
        logger.error("cannot migrate: %s", exc)
        return 1
    if report.applied:
        logger.info("applied %s; schema is at version %d", report.applied, report.current_version)
    else:
        logger.info("nothing to apply; schema is at version %d", report.current_version)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
