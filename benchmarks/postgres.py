"""The contended workload on PostgreSQL, beside SQLite's: a fresh database on the server named
by ``--pg-url``, migrated, the same specialist and starts, the same storm of clients."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from benchmarks.common import NOW, TZ, RunResult
from benchmarks.contended import populate, run_booking_storm
from database.migrate import migrate_postgres
from database.migrations.base import MigrationContext

BENCH_DATABASE = "booking_bench"


def _url_of(base: str, database: str) -> str:
    return urlunsplit(urlsplit(base)._replace(path=f"/{database}"))


def _recreate(base: str) -> str:
    import psycopg

    with psycopg.connect(base, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {BENCH_DATABASE} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {BENCH_DATABASE}")
    return _url_of(base, BENCH_DATABASE)


def drop(base: str) -> None:
    import psycopg

    with psycopg.connect(base, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {BENCH_DATABASE} WITH (FORCE)")


def server_settings(base: str) -> dict[str, str]:
    import psycopg

    with psycopg.connect(base, connect_timeout=5) as conn:
        names = ("server_version", "synchronous_commit", "fsync", "max_connections")
        return {n: str(conn.execute(f"SHOW {n}").fetchone()[0]) for n in names}  # type: ignore[index]


async def run_postgres(base: str, clients: int, starts: int, pool_size: int) -> RunResult:
    from database.postgres import PostgresDatabase

    url = _recreate(base)
    try:
        migrate_postgres(url, MigrationContext(tz=TZ, now=NOW))
        async with PostgresDatabase(url, pool_size=pool_size) as db:
            service_id, _, found = await populate(db, starts)
            result = await run_booking_storm(db, "postgresql", service_id, found, clients)
            deadlocks = await db.read(
                lambda c: c.execute(
                    "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()"
                ).fetchone()[0]
            )
    finally:
        drop(base)
    result.note = f"pool {pool_size}, deadlocks {deadlocks}"
    return result
