"""Retry of whole transactions when the database reports a lock conflict.

SQLite: busy_timeout already makes SQLite wait inside one attempt; this layer covers what is
left (a lock held longer than the timeout, SQLITE_BUSY returned without waiting). PostgreSQL:
a deadlock (40P01), a serialization failure (40001) or the overlap constraint firing (23P01,
another transaction booked the time first) re-run the unit, which then sees the winner's row.
Either way the whole unit of work runs again with exponential backoff. Units of work are
functions of the database state and their arguments, so running one again is safe: the failed
attempt was rolled back.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from domain.errors import StorageUnavailable
from utils.metrics import DB_RETRIES

logger = logging.getLogger(__name__)

T = TypeVar("T")

_BUSY_CODES = {sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED}


class DatabaseBusyError(StorageUnavailable):
    """The database stayed locked through every retry."""


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 3
    delay: float = 0.5
    backoff: float = 2.0

    def delay_before(self, retry: int) -> float:
        """Seconds to wait before retry number ``retry`` (1-based)."""
        return self.delay * self.backoff ** (retry - 1)


def is_busy_error(exc: BaseException) -> bool:
    if not isinstance(exc, sqlite3.OperationalError):
        return False
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        # Extended codes (SQLITE_BUSY_SNAPSHOT, ...) keep the primary code in the low byte.
        return (code & 0xFF) in _BUSY_CODES
    text = str(exc).lower()
    return "database is locked" in text or "database is busy" in text


def give_up(
    label: str, policy: RetryPolicy, exc: BaseException, what: str = "database is locked"
) -> DatabaseBusyError:
    logger.error("%s: still in conflict after %d retries", label, policy.max_retries)
    error = DatabaseBusyError(f"{label}: {what}")
    error.__cause__ = exc
    return error


def announce_retry(
    label: str,
    policy: RetryPolicy,
    exc: BaseException,
    retry: int,
    what: str = "database is locked",
) -> float:
    """Log (and count) retry number ``retry`` of ``label``; return how long to wait before it."""
    DB_RETRIES.labels(label).inc()
    wait = policy.delay_before(retry)
    logger.warning(
        "%s: %s (%s); retry %d/%d in %.2fs",
        label,
        what,
        exc,
        retry,
        policy.max_retries,
        wait,
    )
    return wait


async def run_with_retry(
    attempt: Callable[[], Awaitable[T]],
    policy: RetryPolicy,
    label: str,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    *,
    retryable: Callable[[BaseException], bool] = is_busy_error,
    what: str = "database is locked",
) -> T:
    retry = 0
    while True:
        try:
            return await attempt()
        except Exception as exc:
            if not retryable(exc):
                raise
            retry += 1
            if retry > policy.max_retries:
                raise give_up(label, policy, exc, what) from exc
            await sleep(announce_retry(label, policy, exc, retry, what))
