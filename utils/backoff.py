"""Waiting for something outside the process (the Bot API, PostgreSQL, Redis) at start-up:
retried with backoff, logged, and given up at once when a stop signal comes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

logger = logging.getLogger(__name__)

T = TypeVar("T")
MAX_DELAY = 60.0


async def unless_stopped(work: Awaitable[T], stop: asyncio.Event) -> T | None:
    """``work``'s result, or None if a stop signal comes first (``work`` is then cancelled).

    A server that accepts connections but never answers would otherwise hold SIGTERM off until
    its client's own timeout.
    """
    task = asyncio.ensure_future(work)
    stopping = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    return None if task.cancelled() else task.result()


async def pause(stop: asyncio.Event, seconds: float) -> None:
    """Sleep ``seconds``, or less if a stop signal comes."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


async def until_ready(
    attempt: Callable[[], Awaitable[T]],
    stop: asyncio.Event,
    what: str,
    retry_on: tuple[type[BaseException], ...],
    *,
    first_delay: float = 1.0,
) -> T | None:
    """``attempt()``'s result once it succeeds, retrying with backoff on ``retry_on``; None if
    a stop signal comes first."""
    delay = first_delay
    while not stop.is_set():
        try:
            result = await unless_stopped(attempt(), stop)
        except retry_on as exc:
            logger.warning("%s not reachable (%s); retrying in %.0fs", what, exc, delay)
            await pause(stop, delay)
            delay = min(delay * 2, MAX_DELAY)
            continue
        if stop.is_set():
            return None
        return result
    return None
