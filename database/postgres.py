"""PostgreSQL, the engine for several processes: psycopg 3's sync API on worker threads.

A unit of work (database/engine.py) runs on a thread of this module's executor, on a connection
from a psycopg_pool pool, inside one transaction: the same service code as on SQLite
(database/postgres_conn.py turns its SQL into psycopg's). Writes are queued and go to worker
threads in batches, each unit its own READ COMMITTED transaction; a booking takes advisory
locks in one fixed order (database/repo/locks.py), and the whole unit is retried on a deadlock
(40P01), a serialization failure (40001) or the overlap constraint firing (23P01). Reads use a
second pool whose transactions are REPEATABLE READ, READ ONLY: one consistent snapshot per
unit, as SQLite's reader gives.

A unit that finds its pooled connection dead (the server restarted) before it could change
anything runs again once on a fresh connection, so a restarted server costs no user an error
once it is back; while it is down, a unit raises StorageUnavailable and the user is asked to
try again in a minute. (Checking every connection as the pool hands it out would cost a round
trip per unit.)

psycopg is imported only by this module and postgres_conn.py, and they only when DATABASE_URL
names PostgreSQL.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar

import psycopg
from psycopg.pq import TransactionStatus
from psycopg_pool import ConnectionPool, PoolTimeout

from database.db_retry import RetryPolicy, run_with_retry
from database.engine import Dialect, Work
from database.observe import TxWatch
from database.postgres_conn import PgConn, forget_prepared, named_row
from domain.errors import StorageUnavailable

logger = logging.getLogger(__name__)

T = TypeVar("T")

WRITE_BATCH = 16  # units of work one drainer hands a worker thread at once

# Whole-unit retry: a deadlock, a serialization failure, the overlap constraint firing.
CONFLICTS = frozenset({"40P01", "40001", "23P01"})


def is_conflict(exc: BaseException) -> bool:
    return isinstance(exc, psycopg.Error) and exc.sqlstate in CONFLICTS


def is_outage(exc: BaseException) -> bool:
    """The server cannot be reached or went away (not a problem of the unit itself)."""
    if isinstance(exc, PoolTimeout | _StaleConnection):
        return True
    if not isinstance(exc, psycopg.OperationalError):
        return False
    state = exc.sqlstate
    return state is None or state.startswith(("08", "57P"))


class PostgresDatabase:
    dialect: ClassVar[Dialect] = "postgresql"

    def __init__(
        self,
        dsn: str,
        *,
        pool_size: int = 10,
        retry: RetryPolicy | None = None,
        connect_timeout: float = 5.0,
        watch: TxWatch | None = None,
    ) -> None:
        self.dsn = dsn
        self.retry = retry or RetryPolicy()
        self.watch = watch or TxWatch()
        self.pool_size = pool_size
        self.connect_timeout = connect_timeout
        readers = max(2, pool_size // 2)
        # Reads on threads of their own: never queued behind a batch of writes.
        self._executor = ThreadPoolExecutor(pool_size, thread_name_prefix="pg-write")
        self._read_executor = ThreadPoolExecutor(readers, thread_name_prefix="pg-read")
        self._jobs: list[_Job[Any]] = []
        self._drainers = 0
        self._drain_tasks: set[asyncio.Task[None]] = set()
        common: dict[str, Any] = {
            "autocommit": True,  # transactions are the explicit ones of _run
            "row_factory": named_row,
            "connect_timeout": max(1, int(connect_timeout)),
            "application_name": "booking-bot",
        }
        # Every connection opened at start: a burst must not wait for connections to be made.
        self._writer = ConnectionPool(
            dsn,
            min_size=pool_size,
            max_size=pool_size,
            open=False,
            kwargs=common,
            timeout=connect_timeout,
            name="writer",
        )
        self._reader = ConnectionPool(
            dsn,
            min_size=readers,
            max_size=readers,
            open=False,
            kwargs=common,
            configure=_read_only,
            timeout=connect_timeout,
            name="reader",
        )

    async def open(self) -> None:
        """Connect both pools; StorageUnavailable if the server cannot be reached."""
        loop = asyncio.get_running_loop()

        def connect() -> None:
            for pool in (self._writer, self._reader):
                pool.open(wait=True, timeout=self.connect_timeout)

        try:
            await loop.run_in_executor(self._executor, connect)
        except PoolTimeout as exc:
            self._writer.close()
            self._reader.close()
            raise StorageUnavailable(f"PostgreSQL not reachable: {exc}") from exc

    async def close(self) -> None:
        """Finish what was queued, then close both pools."""
        while self._drain_tasks:
            await asyncio.gather(*self._drain_tasks, return_exceptions=True)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, self._writer.close)
        await loop.run_in_executor(self._executor, self._reader.close)
        self._executor.shutdown(wait=False)
        self._read_executor.shutdown(wait=False)

    async def __aenter__(self) -> PostgresDatabase:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def write(self, work: Work[T], label: str = "write") -> T:
        """Queued: up to pool_size drainers each take a batch of units to a worker thread in
        one hop, and run them one after another, each in its own transaction, on one pooled
        connection (as SQLite's writer queue does): fewer thread hops and wake-ups per unit."""
        loop = asyncio.get_running_loop()

        async def attempt() -> T:
            job: _Job[T] = _Job(work, label, loop.create_future())
            self._jobs.append(job)
            self._kick()
            return await job.future

        return await self._retrying(attempt, label)

    async def ping(self) -> None:
        await self.read(lambda c: c.execute("SELECT 1").fetchone(), "ping")

    async def read(self, work: Work[T], label: str = "read") -> T:
        def run(pool: ConnectionPool[Any], work: Work[T]) -> T:
            return self.watch.run(label, "read", lambda: _run_read(pool, work))

        return await self._unit(run, self._reader, work, label)

    def _kick(self) -> None:
        while self._jobs and self._drainers < self.pool_size:
            self._drainers += 1
            task = asyncio.create_task(self._drain())
            self._drain_tasks.add(task)
            task.add_done_callback(self._drain_tasks.discard)

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._jobs:
                # A caller that gave up (its task was cancelled) needs no transaction.
                batch = [job for job in self._jobs[:WRITE_BATCH] if not job.future.done()]
                del self._jobs[:WRITE_BATCH]
                if not batch:
                    continue
                works = [(job.work, job.label) for job in batch]
                try:
                    outcomes = await loop.run_in_executor(
                        self._executor, _run_batch, self._writer, works, self.watch
                    )
                except BaseException as exc:  # no connection at all (PoolTimeout, ...)
                    outcomes = [(False, exc)] * len(batch)
                for job, (ok, value) in zip(batch, outcomes, strict=True):
                    if job.future.done():
                        continue
                    if ok:
                        job.future.set_result(value)
                    elif isinstance(value, _StaleConnection) and not job.stale:
                        job.stale = True  # once more, on a fresh connection
                        self._jobs.append(job)
                    else:
                        error = value.__cause__ if isinstance(value, _StaleConnection) else value
                        job.future.set_exception(error or value)
        finally:
            self._drainers -= 1
            self._kick()

    async def _unit(
        self,
        run: Callable[[ConnectionPool[Any], Work[T]], T],
        pool: ConnectionPool[Any],
        work: Work[T],
        label: str,
    ) -> T:
        loop = asyncio.get_running_loop()

        async def attempt() -> T:
            return await loop.run_in_executor(self._read_executor, run, pool, work)

        return await self._retrying(attempt, label)

    async def _retrying(self, attempt: Callable[[], Awaitable[T]], label: str) -> T:
        try:
            return await run_with_retry(
                attempt, self.retry, label, retryable=is_conflict, what="lock conflict"
            )
        except Exception as exc:
            if is_outage(exc):
                logger.warning("%s: PostgreSQL unavailable (%s)", label, exc)
                raise StorageUnavailable(f"{label}: PostgreSQL unavailable") from exc
            raise


def _read_only(conn: psycopg.Connection[Any]) -> None:
    # Sent with each BEGIN by psycopg: no extra round trip per unit.
    conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
    conn.read_only = True


class _StaleConnection(Exception):
    """The pooled connection was dead before the unit could change anything (the server
    restarted, say): run the unit again on a fresh one."""


@dataclass
class _Job(Generic[T]):
    work: Work[T]
    label: str
    future: asyncio.Future[T]
    stale: bool = False


def _run_batch(
    pool: ConnectionPool[Any], works: list[tuple[Work[Any], str]], watch: TxWatch
) -> list[tuple[bool, Any]]:
    """Runs on a worker thread: each unit in its own transaction on one connection."""
    outcomes: list[tuple[bool, Any]] = []
    with pool.connection() as conn:
        for work, label in works:
            if conn.broken:  # lost mid-batch: the rest go again on a fresh connection
                outcomes.append((False, _StaleConnection()))
                continue
            try:
                transaction = functools.partial(_write_once, conn, work)
                outcomes.append((True, watch.run(label, "write", transaction)))
            except Exception as exc:
                outcomes.append((False, exc))
    if conn.broken:
        # The server dropped this one; it likely dropped the others in the pool too.
        pool.check()
    return outcomes


def _write_once(conn: psycopg.Connection[Any], work: Work[T]) -> T:
    unit = PgConn(conn)
    unit.execute_later("BEGIN")  # travels with the unit's first statement
    committing = False
    try:
        result = work(unit)
        committing = True
        unit.flush("COMMIT")
    except BaseException as exc:
        # What is prepared on the connection is unknown now (psycopg may DEALLOCATE ALL on a
        # rollback; a failed batch may not have run its PREPAREs): start again from none.
        forget_prepared(conn)
        if not conn.broken and conn.info.transaction_status != TransactionStatus.IDLE:
            conn.execute("ROLLBACK")  # the next unit on this connection starts clean
        # A connection lost during COMMIT may or may not have committed: never re-run that.
        if isinstance(exc, psycopg.OperationalError) and conn.broken and not committing:
            raise _StaleConnection from exc
        raise
    return result


def _run_read(pool: ConnectionPool[Any], work: Work[T]) -> T:
    for tries_left in (1, 0):
        with pool.connection() as conn:
            try:
                with conn.transaction():
                    return work(PgConn(conn))
            except psycopg.OperationalError:
                if not conn.broken or not tries_left:
                    raise
        pool.check()  # the server dropped this one; it likely dropped the others too
    raise AssertionError("unreachable")
