"""Work in flight at shutdown: handlers and background jobs finish before the database closes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator

logger = logging.getLogger(__name__)


class InFlight:
    """The tasks currently handling an update or running a job.

    Stopping the polling loop does not wait for the updates it already handed out (aiogram runs
    each as its own task), so without this a SIGTERM could close the database under a handler
    that is halfway through a booking confirmation.
    """

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[object]] = set()

    @contextlib.contextmanager
    def track(self) -> Iterator[None]:
        task = asyncio.current_task()
        if task is None:  # pragma: no cover - always inside a task in an asyncio program
            yield
            return
        self._tasks.add(task)
        try:
            yield
        finally:
            self._tasks.discard(task)

    def __len__(self) -> int:
        return len(self._tasks)

    async def drain(self, timeout: float) -> int:  # noqa: ASYNC109 - a deadline, not a hang
        """Wait up to ``timeout`` seconds for tracked work, including work that starts while
        waiting (an update handed over just before the stop); returns how many did not
        finish."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        announced = False
        while True:
            pending = {t for t in self._tasks if t is not asyncio.current_task()}
            if not pending:
                return 0
            if not announced:
                logger.info("waiting for %d update(s) or job(s) in flight", len(pending))
                announced = True
            remaining = deadline - loop.time()
            if remaining <= 0:
                logger.warning(
                    "%d update(s) or job(s) still running after %.0fs", len(pending), timeout
                )
                return len(pending)
            await asyncio.wait(pending, timeout=remaining, return_when=asyncio.FIRST_COMPLETED)
