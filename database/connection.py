"""SQLite connections: one writer per process, serialised by an asyncio lock, and one reader.

Every database access is a *unit of work*: a plain function taking a ``sqlite3.Connection``.
The writer runs it inside ``BEGIN IMMEDIATE`` ... ``COMMIT`` on aiosqlite's connection thread, in a
single hop, so the availability check and the insert cannot interleave with another writer in
this process (the lock), in another process (the IMMEDIATE write lock) or with themselves (one
hop: no other coroutine's statements can land inside the transaction). Reads run in a deferred
transaction on the reader connection, so a unit of work sees one consistent snapshot.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import aiosqlite

from database.db_retry import RetryPolicy, run_with_retry

logger = logging.getLogger(__name__)

T = TypeVar("T")
Work = Callable[[sqlite3.Connection], T]


def configure(conn: sqlite3.Connection, busy_timeout_ms: int) -> None:
    """Pragmas every connection to the file gets (plain sqlite3 ones included)."""
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA foreign_keys = ON")


def connect_sync(path: Path | str, busy_timeout_ms: int = 5000) -> sqlite3.Connection:
    """A configured autocommit sqlite3 connection (migrations, backup, scripts)."""
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    configure(conn, busy_timeout_ms)
    return conn


def run_in_transaction(conn: sqlite3.Connection, work: Work[T], begin: str) -> T:
    conn.execute(begin)
    try:
        result = work(conn)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return result


class Database:
    def __init__(
        self,
        path: Path | str,
        *,
        busy_timeout_ms: int = 5000,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.path = Path(path)
        self.busy_timeout_ms = busy_timeout_ms
        self.retry = retry or RetryPolicy()
        self._writer: aiosqlite.Connection | None = None
        self._reader: aiosqlite.Connection | None = None
        self._write_lock = asyncio.Lock()

    async def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._writer = await self._connect(query_only=False)
        self._reader = await self._connect(query_only=True)

    async def _connect(self, *, query_only: bool) -> aiosqlite.Connection:
        # isolation_level=None: we issue BEGIN/COMMIT ourselves; the sqlite3 module's implicit
        # transactions would otherwise start a DEFERRED one before our first write.
        conn = await aiosqlite.connect(self.path, isolation_level=None)
        try:
            await _on_thread(conn, lambda raw: configure(raw, self.busy_timeout_ms))
            if query_only:
                await conn.execute("PRAGMA query_only = ON")
        except BaseException:
            await conn.close()
            raise
        return conn

    async def close(self) -> None:
        for conn in (self._reader, self._writer):
            if conn is not None:
                await conn.close()
        self._reader = self._writer = None

    async def __aenter__(self) -> Database:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def write(self, work: Work[T], label: str = "write") -> T:
        """Run ``work`` in one BEGIN IMMEDIATE transaction, retried while the file is locked."""
        writer = self._require(self._writer)

        async def attempt() -> T:
            return await _on_thread(
                writer, lambda raw: run_in_transaction(raw, work, "BEGIN IMMEDIATE")
            )

        async with self._write_lock:
            return await run_with_retry(attempt, self.retry, label)

    async def read(self, work: Work[T], label: str = "read") -> T:
        """Run ``work`` in one read transaction (a consistent snapshot) on the reader."""
        reader = self._require(self._reader)

        async def attempt() -> T:
            return await _on_thread(reader, lambda raw: run_in_transaction(raw, work, "BEGIN"))

        return await run_with_retry(attempt, self.retry, label)

    @staticmethod
    def _require(conn: aiosqlite.Connection | None) -> aiosqlite.Connection:
        if conn is None:
            raise RuntimeError("Database is not open")
        return conn


async def _on_thread(conn: aiosqlite.Connection, work: Callable[[sqlite3.Connection], T]) -> T:
    # aiosqlite executes every call on the connection's own thread. Handing it the whole unit of
    # work costs one thread hop per transaction instead of one per statement (the difference is
    # measured by benchmarks/booking.py). _execute/_conn are aiosqlite internals, pinned by
    # requirements.txt and exercised by every database test.
    raw: sqlite3.Connection = conn._conn
    result: T = await conn._execute(work, raw)  # type: ignore[no-untyped-call]
    return result
