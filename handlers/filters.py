"""Filters that run on the event loop.

aiogram runs every filter that is not a coroutine (a plain function, an ``F`` magic filter) on a
worker thread (``asyncio.to_thread``), for every update that reaches it: two thread hops and a
wake-up of the loop for a check of a few attribute reads. Measured by benchmarks/pipeline.py:
the router-level checks alone cost about 0.45 ms of CPU per update in a burst. ``inline`` wraps
such a check in an async Filter; tests/test_filters.py keeps every registered filter async.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiogram.filters import Filter
from magic_filter import MagicFilter


class Inline(Filter):
    def __init__(self, check: MagicFilter | Callable[[Any], Any]) -> None:
        self.check: Callable[[Any], Any] = (
            check.resolve if isinstance(check, MagicFilter) else check
        )

    async def __call__(self, event: Any) -> Any:
        return self.check(event)


def inline(check: MagicFilter | Callable[[Any], Any]) -> Inline:
    return Inline(check)
