"""What GET /healthz reports: each check by name, and whether the process can serve.

Flags are set by bot.py as start-up gets through its steps (migrations applied, Redis
answered, the webhook route registered); probes are asked on each request (the database
answers a query). The answer is 200 only when every check passes, 503 naming what failed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

logger = logging.getLogger(__name__)

Probe = Callable[[], Awaitable[object]]
PROBE_TIMEOUT = 2.0


class Health:
    def __init__(self) -> None:
        self._flags: dict[str, bool] = {}
        self._probes: dict[str, Probe] = {}

    def expect(self, *names: str) -> None:
        """Checks that fail until ``passed`` says otherwise."""
        for name in names:
            self._flags.setdefault(name, False)

    def passed(self, name: str, ok: bool = True) -> None:
        self._flags[name] = ok

    def probe(self, name: str, probe: Probe) -> None:
        self._probes[name] = probe

    async def check(self) -> tuple[bool, dict[str, str]]:
        """(all passed, {check: "ok" or what failed})."""
        results = {name: "ok" if ok else "not ready" for name, ok in self._flags.items()}
        for name, probe in self._probes.items():
            try:
                await asyncio.wait_for(probe(), PROBE_TIMEOUT)
            except Exception as exc:  # reported, not raised: this is the health endpoint
                results[name] = f"failed: {type(exc).__name__}"
            else:
                results[name] = "ok"
        return all(v == "ok" for v in results.values()), results
