"""The Database wrapper: units of work, each its own transaction, even when batched."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

from database.engine import Conn, Database
from database.sqlite import SqliteDatabase
from tests.conftest import sqlite_only
from utils import metrics

ROOT = Path(__file__).resolve().parent.parent


@sqlite_only
async def test_units_of_work_queued_together_are_still_separate_transactions(
    db: Database,
) -> None:
    await db.write(lambda c: c.execute("CREATE TABLE t (v INTEGER UNIQUE)"))

    def insert(value: int) -> Callable[[Conn], int]:
        return lambda c: c.execute("INSERT INTO t VALUES (?)", (value,)).rowcount

    def insert_then_fail(c: Conn) -> None:
        c.execute("INSERT INTO t VALUES (100)")
        raise RuntimeError("step two failed")

    results = await asyncio.gather(
        db.write(insert(1)),
        db.write(insert_then_fail),
        db.write(insert(1)),  # violates UNIQUE: only this unit fails
        db.write(insert(2)),
        return_exceptions=True,
    )
    assert results[0] == 1
    assert isinstance(results[1], RuntimeError)
    assert isinstance(results[2], sqlite3.IntegrityError)
    assert results[3] == 1
    values = await db.read(lambda c: [r[0] for r in c.execute("SELECT v FROM t ORDER BY v")])
    assert values == [1, 2]  # 100 was rolled back with its failing unit


def commits() -> float:
    """SQLite COMMITs the writer has made (each one an fsync with synchronous=FULL)."""
    value = metrics.REGISTRY.get_sample_value(
        "bot_db_transaction_seconds_count", {"label": "commit", "mode": "write"}
    )
    return value or 0.0


@sqlite_only
async def test_units_queued_together_share_one_commit(db: Database) -> None:
    await db.write(lambda c: c.execute("CREATE TABLE t (v INTEGER)"))
    before = commits()
    await asyncio.gather(
        *(db.write(lambda c: c.execute("INSERT INTO t VALUES (1)")) for _ in range(20))
    )
    assert commits() - before == 1  # one batch, one COMMIT, every caller answered after it
    assert await db.read(lambda c: c.execute("SELECT count(*) FROM t").fetchone()[0]) == 20


@sqlite_only
async def test_a_unit_that_spoils_the_whole_commit_fails_alone(db: Database) -> None:
    """A deferred constraint is checked only at COMMIT, for the whole batch: the batch is
    rolled back and its units run again one transaction each, so only the culprit fails."""

    def tables(c: Conn) -> None:
        c.execute("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
        c.execute(
            "CREATE TABLE child (v INTEGER, parent_id INTEGER REFERENCES parent (id)"
            " DEFERRABLE INITIALLY DEFERRED)"
        )
        c.execute("INSERT INTO parent VALUES (1)")

    await db.write(tables)

    def child(value: int, parent: int) -> Callable[[Conn], int]:
        return lambda c: c.execute("INSERT INTO child VALUES (?, ?)", (value, parent)).rowcount

    results = await asyncio.gather(
        db.write(child(1, 1)), db.write(child(2, 99)), db.write(child(3, 1)), return_exceptions=True
    )
    assert results[0] == 1 and results[2] == 1
    assert isinstance(results[1], sqlite3.IntegrityError)
    values = await db.read(lambda c: [r[0] for r in c.execute("SELECT v FROM child ORDER BY v")])
    assert values == [1, 3]


async def test_a_kill_mid_batch_loses_no_acknowledged_write(tmp_path: Path) -> None:
    path = tmp_path / "storm.db"
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.support.write_storm",
        str(path),
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None
    acknowledged: list[int] = []
    try:
        async with asyncio.timeout(60):
            while len(acknowledged) < 2_000:
                line = await proc.stdout.readline()
                assert line, "the writer stopped"
                acknowledged.append(int(line))
    finally:
        proc.kill()  # SIGKILL: in the middle of a batch, with others queued behind it
        await proc.wait()
    with contextlib.closing(sqlite3.connect(path)) as conn:
        committed = {row[0] for row in conn.execute("SELECT n FROM acked")}
    assert set(acknowledged) <= committed
    assert len(committed) >= len(acknowledged)


@sqlite_only
async def test_many_writes_in_flight_all_complete_in_order(db: Database) -> None:
    await db.write(lambda c: c.execute("CREATE TABLE log (n INTEGER)"))

    def insert(n: int) -> Callable[[Conn], object]:
        return lambda c: c.execute("INSERT INTO log VALUES (?)", (n,))

    await asyncio.gather(*(db.write(insert(n)) for n in range(300)))
    logged = await db.read(lambda c: [r[0] for r in c.execute("SELECT n FROM log ORDER BY rowid")])
    assert logged == list(range(300))


async def test_close_waits_for_queued_work(db_path) -> None:
    database = SqliteDatabase(db_path)
    await database.open()
    await database.write(lambda c: c.execute("CREATE TABLE x (n INTEGER)"))
    pending = [
        asyncio.create_task(database.write(lambda c: c.execute("INSERT INTO x VALUES (1)")))
        for _ in range(10)
    ]
    await asyncio.sleep(0)
    await database.close()
    assert all(t.done() and t.exception() is None for t in pending)
    conn = sqlite3.connect(db_path)
    assert conn.execute("SELECT count(*) FROM x").fetchone()[0] == 10
    conn.close()


async def test_using_a_closed_database_is_an_error(db_path) -> None:
    database = SqliteDatabase(db_path)
    with pytest.raises(RuntimeError, match="not open"):
        await database.write(lambda c: None)


async def test_a_failed_batch_leaves_the_next_units_working(postgresql_db: Database) -> None:
    """PostgreSQL sends waiting statements with the next one read, preparing them on first use;
    when such a batch fails, what was prepared is unknown, and the next units still work."""
    await postgresql_db.write(lambda c: c.execute("CREATE TABLE t (v INTEGER PRIMARY KEY)"))

    def insert_then_read(value: int) -> Callable[[Conn], int]:
        def work(c: Conn) -> int:
            c.execute_later("INSERT INTO t VALUES (?)", (value,))
            return int(c.execute("SELECT count(*) FROM t WHERE v >= ?", (0,)).fetchone()[0])

        return work

    assert await postgresql_db.write(insert_then_read(1)) == 1
    with pytest.raises(psycopg.errors.UniqueViolation):
        await postgresql_db.write(insert_then_read(1))  # fails inside the batch
    for value in (2, 3):
        assert await postgresql_db.write(insert_then_read(value)) == value


async def test_connections_the_server_dropped_are_replaced_without_an_error(
    postgresql_db: Database, pg_url: str
) -> None:
    """A server restart kills every pooled connection; the next units run on fresh ones."""
    await postgresql_db.write(lambda c: c.execute("CREATE TABLE t (v INTEGER)"))
    await postgresql_db.read(lambda c: c.execute("SELECT 1").fetchall())
    with psycopg.connect(pg_url, autocommit=True) as admin:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    await postgresql_db.write(lambda c: c.execute("INSERT INTO t VALUES (1)"))
    rows = await postgresql_db.read(lambda c: c.execute("SELECT v FROM t").fetchall())
    assert [r[0] for r in rows] == [1]


async def test_after_a_failed_unit_every_statement_still_runs(postgresql_db: Database) -> None:
    """psycopg prepares a statement run often, and may drop every prepared statement when a
    transaction is rolled back; the statements this code prepares itself must follow."""
    await postgresql_db.write(lambda c: c.execute("CREATE TABLE t (v INTEGER PRIMARY KEY)"))

    def unit(value: int) -> Callable[[Conn], int]:
        def work(c: Conn) -> int:
            c.execute("SELECT ?", (value,)).fetchone()  # psycopg's own, prepared after 5 runs
            c.execute_later("INSERT INTO t VALUES (?)", (value,))  # ours, batched
            return int(c.execute("SELECT count(*) FROM t WHERE v >= ?", (0,)).fetchone()[0])

        return work

    for value in range(1, 8):
        assert await postgresql_db.write(unit(value)) == value
    with pytest.raises(psycopg.errors.DivisionByZero):
        await postgresql_db.write(lambda c: c.execute("SELECT 1 / ?", (0,)).fetchone())
    with pytest.raises(psycopg.errors.QueryCanceled):
        await postgresql_db.write(
            lambda c: [
                c.execute("SET LOCAL statement_timeout = 1"),
                c.execute("SELECT pg_sleep(?)", (0.1,)),
            ]
        )
    for value in range(8, 12):
        assert await postgresql_db.write(unit(value)) == value
