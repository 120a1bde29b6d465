"""SQLite, the embedded engine: one writer per process, fed by a queue, and one reader.

Every database access is a *unit of work*: a plain function taking a ``Conn`` (database/engine.py;
here a ``sqlite3.Connection``).
The writer runs each one inside its own ``BEGIN IMMEDIATE`` ... ``COMMIT`` on aiosqlite's
connection thread, so the availability check and the insert cannot interleave with another
writer in this process (one queue, one thread, one transaction after another), in another
process (the IMMEDIATE write lock) or with another coroutine's statements (a unit of work is a
single call on the thread). Units that queue up while the thread is busy go over together in one
hop, still one transaction each. Reads run in a deferred transaction on the reader connection,
so a unit of work sees one consistent snapshot.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Generic, TypeVar, cast

import aiosqlite

from database.db_retry import (
    RetryPolicy,
    announce_retry,
    give_up,
    is_busy_error,
    run_with_retry,
)
from database.engine import Dialect, Work
from database.observe import TxWatch
from domain.errors import StorageUnavailable
from utils.files import private_file

logger = logging.getLogger(__name__)

T = TypeVar("T")


class SqliteConn(sqlite3.Connection):
    """The stdlib connection, with what database/engine.Conn adds."""

    dialect: ClassVar[Dialect] = "sqlite"

    def execute_later(self, sql: str, parameters: Sequence[Any] = (), /) -> None:
        self.execute(sql, parameters)

    def executemany_later(self, sql: str, parameters: Iterable[Sequence[Any]], /) -> None:
        self.executemany(sql, parameters)

    def tuples(self, sql: str, parameters: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        cursor = self.cursor()
        cursor.row_factory = None  # no sqlite3.Row per row
        return cursor.execute(sql, parameters).fetchall()


# Units of work handed to the writer thread in one hop. Larger batches save wake-ups; smaller
# ones let the first callers hear back sooner (benchmarks/booking.py shows both).
MAX_BATCH = 64


def configure(conn: sqlite3.Connection, busy_timeout_ms: int) -> None:
    """Pragmas every connection to the file gets (plain sqlite3 ones included)."""
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA foreign_keys = ON")


def connect_sync(path: Path | str, busy_timeout_ms: int = 5000) -> SqliteConn:
    """A configured autocommit connection (migrations, backup, scripts)."""
    private_file(Path(path))
    conn = sqlite3.connect(
        str(path), isolation_level=None, check_same_thread=False, factory=SqliteConn
    )
    configure(conn, busy_timeout_ms)
    return conn


def run_in_transaction(conn: SqliteConn, work: Work[T], begin: str) -> T:
    conn.execute(begin)
    try:
        result = work(conn)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return result


class SqliteDatabase:
    dialect: ClassVar[Dialect] = "sqlite"

    def __init__(
        self,
        path: Path | str,
        *,
        busy_timeout_ms: int = 5000,
        retry: RetryPolicy | None = None,
        watch: TxWatch | None = None,
    ) -> None:
        self.path = Path(path)
        self.busy_timeout_ms = busy_timeout_ms
        self.retry = retry or RetryPolicy()
        self.watch = watch or TxWatch()
        self._writer: aiosqlite.Connection | None = None
        self._reader: aiosqlite.Connection | None = None
        self._queue: list[_Job[Any]] = []
        self._drainer: asyncio.Task[None] | None = None
        self._retrying: set[asyncio.Task[None]] = set()
        self._identity: tuple[int, int] | None = None

    async def open(self) -> None:
        private_file(self.path)  # SQLite gives its -wal and -shm files the same mode
        self._writer = await self._connect(query_only=False)
        self._reader = await self._connect(query_only=True)
        self._identity = _identity(self.path)

    async def ping(self) -> None:
        """The file is still there, still the one opened (not deleted or replaced under the
        bot: its connections would go on writing to a file nobody can see), and answers."""
        if _identity(self.path) != self._identity:
            raise DatabaseGone(f"{self.path} was deleted or replaced while the bot had it open")
        await self.read(lambda c: c.execute("SELECT count(*) FROM sqlite_master").fetchone())

    async def _connect(self, *, query_only: bool) -> aiosqlite.Connection:
        # isolation_level=None: we issue BEGIN/COMMIT ourselves; the sqlite3 module's implicit
        # transactions would otherwise start a DEFERRED one before our first write.
        conn = await aiosqlite.connect(self.path, isolation_level=None, factory=SqliteConn)
        try:
            await _on_thread(conn, lambda raw: configure(raw, self.busy_timeout_ms))
            if query_only:
                await conn.execute("PRAGMA query_only = ON")
        except BaseException:
            await conn.close()
            raise
        return conn

    async def close(self) -> None:
        """Finish what was queued (including retries), then close both connections."""
        while self._drainer is not None or self._retrying:
            await asyncio.gather(
                *(t for t in (self._drainer, *self._retrying) if t is not None),
                return_exceptions=True,
            )
        for conn in (self._reader, self._writer):
            if conn is not None:
                await conn.close()
        self._reader = self._writer = None

    async def __aenter__(self) -> SqliteDatabase:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def write(self, work: Work[T], label: str = "write") -> T:
        """Run ``work`` in one BEGIN IMMEDIATE transaction, retried while the file is locked."""
        self._require(self._writer)
        job: _Job[T] = _Job(work, label, asyncio.get_running_loop().create_future())
        self._enqueue(job)
        return await job.future

    def _enqueue(self, job: _Job[Any]) -> None:
        self._queue.append(job)
        if self._drainer is None:
            self._drainer = asyncio.create_task(self._drain())

    async def _drain(self) -> None:
        writer = self._require(self._writer)
        try:
            while self._queue:
                batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
                run = functools.partial(_run_batch, jobs=batch, watch=self.watch)
                outcomes = await _on_thread(writer, run)
                for job, (ok, value) in zip(batch, outcomes, strict=True):
                    self._settle(job, ok, value)
        except BaseException as exc:  # the thread itself failed: nobody may wait forever
            for job in self._queue:
                if not job.future.done():
                    job.future.set_exception(exc)
            raise
        finally:
            self._drainer = None

    def _settle(self, job: _Job[Any], ok: bool, value: Any) -> None:
        if job.future.done():  # the caller was cancelled; the transaction stands
            return
        if ok:
            job.future.set_result(value)
        elif is_busy_error(value) and job.retries < self.retry.max_retries:
            job.retries += 1
            wait = announce_retry(job.label, self.retry, value, job.retries)
            task = asyncio.create_task(self._requeue_after(job, wait))
            self._retrying.add(task)
            task.add_done_callback(self._retrying.discard)
        elif is_busy_error(value):
            job.future.set_exception(give_up(job.label, self.retry, value))
        else:
            job.future.set_exception(value)

    async def _requeue_after(self, job: _Job[Any], wait: float) -> None:
        # Waiting here, not on the writer thread, lets other units of work go on meanwhile.
        await asyncio.sleep(wait)
        self._enqueue(job)

    async def read(self, work: Work[T], label: str = "read") -> T:
        """Run ``work`` in one read transaction (a consistent snapshot) on the reader."""
        reader = self._require(self._reader)

        def transaction(raw: SqliteConn) -> T:
            return self.watch.run(label, "read", lambda: run_in_transaction(raw, work, "BEGIN"))

        async def attempt() -> T:
            return await _on_thread(reader, transaction)

        return await run_with_retry(attempt, self.retry, label)

    @staticmethod
    def _require(conn: aiosqlite.Connection | None) -> aiosqlite.Connection:
        if conn is None:
            raise RuntimeError("Database is not open")
        return conn


class DatabaseGone(StorageUnavailable):
    """The database file was deleted or replaced while open."""


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return None
    return stat.st_dev, stat.st_ino


@dataclass
class _Job(Generic[T]):
    work: Work[T]
    label: str
    future: asyncio.Future[T]
    retries: int = 0


def _run_batch(conn: SqliteConn, jobs: list[_Job[Any]], watch: TxWatch) -> list[tuple[bool, Any]]:
    """Runs on the writer thread: the batch's units in one transaction (group commit), each
    inside a SAVEPOINT of its own, so a failing unit rolls back alone; one COMMIT, so one
    fsync, for the lot. Nobody hears back before that COMMIT is durable: a crash before it
    loses only units no caller was told of.

    If the COMMIT itself fails (a deferred constraint is checked there, for every unit at once;
    the disk is full), the batch is rolled back and its units run again one transaction each:
    only the one at fault fails. Running a unit again is safe (see db_retry.py)."""
    try:
        conn.execute("BEGIN IMMEDIATE")
    except Exception as exc:  # the file is locked by another process: the lot is retried
        return [(False, exc)] * len(jobs)
    try:
        outcomes = [
            watch.run(job.label, "write", functools.partial(_run_unit, conn, job.work))
            for job in jobs
        ]
        watch.run("commit", "write", lambda: conn.execute("COMMIT"))
    except Exception as exc:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        if len(jobs) == 1 or is_busy_error(exc):
            return [(False, exc)] * len(jobs)
        logger.warning("a batch of %d units failed to commit (%s); each runs alone", len(jobs), exc)
        return [_run_alone(conn, job, watch) for job in jobs]
    return outcomes


def _run_unit(conn: SqliteConn, work: Work[Any]) -> tuple[bool, Any]:
    """One unit inside the batch's transaction: its changes stay, or are undone alone."""
    conn.execute("SAVEPOINT unit")
    try:
        result = work(conn)
    except Exception as exc:
        if not conn.in_transaction:
            # SQLite rolled the whole transaction back (SQLITE_FULL, an I/O error...): the
            # units before this one are gone too. Fail the batch; nobody was told yet.
            raise
        conn.execute("ROLLBACK TO unit")
        conn.execute("RELEASE unit")
        return False, exc
    conn.execute("RELEASE unit")
    return True, result


def _run_alone(conn: SqliteConn, job: _Job[Any], watch: TxWatch) -> tuple[bool, Any]:
    try:
        transaction = functools.partial(run_in_transaction, conn, job.work, "BEGIN IMMEDIATE")
        return True, watch.run(job.label, "write", transaction)
    except Exception as exc:
        return False, exc


async def _on_thread(conn: aiosqlite.Connection, work: Callable[[SqliteConn], T]) -> T:
    # aiosqlite executes every call on the connection's own thread. Handing it the whole unit of
    # work costs one thread hop per transaction instead of one per statement (the difference is
    # measured by benchmarks/booking.py). _execute/_conn are aiosqlite internals, pinned by
    # requirements.txt and exercised by every database test.
    raw = cast(SqliteConn, conn._conn)  # connected with factory=SqliteConn
    result: T = await conn._execute(work, raw)  # type: ignore[no-untyped-call]
    return result
