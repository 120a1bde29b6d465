"""What GET /healthz reports: each check by name, and whether the process can serve.

Three kinds of check:
- flags, set by bot.py as start-up gets through its steps (migrations applied, Redis
  answered, the webhook route registered);
- probes, asked on each request (the database answers a query);
- heartbeats, fresh while something keeps happening: the last successful contact with the
  Bot API (every call that got an answer beats it), the last scheduler tick. One older than
  its limit fails the check.

The answer is 200 only when every check passes, 503 naming what failed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from utils.logging_setup import scrub

logger = logging.getLogger(__name__)

Probe = Callable[[], Awaitable[object]]
PROBE_TIMEOUT = 2.0


@dataclass
class HealthReport:
    ok: bool
    checks: dict[str, str]  # name -> "ok", or what failed
    ages: dict[str, float] = field(default_factory=dict)  # heartbeat -> seconds since

    def body(self) -> dict[str, object]:
        body: dict[str, object] = {
            "status": "ok" if self.ok else "unavailable",
            "checks": self.checks,
        }
        if self.ages:
            body["seconds_since"] = {name: round(age, 1) for name, age in self.ages.items()}
        return body


class Health:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._flags: dict[str, bool] = {}
        self._probes: dict[str, Probe] = {}
        self._limits: dict[str, float] = {}
        self._beats: dict[str, float] = {}

    def expect(self, *names: str) -> None:
        """Checks that fail until ``passed`` says otherwise."""
        for name in names:
            self._flags.setdefault(name, False)

    def passed(self, name: str, ok: bool = True) -> None:
        self._flags[name] = ok

    def probe(self, name: str, probe: Probe) -> None:
        self._probes[name] = probe

    def watch(self, name: str, max_age: float) -> None:
        """A heartbeat: failing until ``beat(name)``, and again ``max_age`` seconds after."""
        self._limits[name] = max_age

    def beat(self, name: str) -> None:
        self._beats[name] = self.clock()

    def age(self, name: str) -> float | None:
        """Seconds since the last beat (None: never)."""
        last = self._beats.get(name)
        return None if last is None else self.clock() - last

    async def check(self) -> HealthReport:
        checks = {name: "ok" if ok else "not ready" for name, ok in self._flags.items()}
        ages: dict[str, float] = {}
        for name, limit in self._limits.items():
            age = self.age(name)
            if age is None:
                checks[name] = "never yet"
                continue
            ages[name] = age
            checks[name] = "ok" if age <= limit else f"stale: {age:.0f} s ago (limit {limit:.0f})"
        for name, probe in self._probes.items():
            try:
                await asyncio.wait_for(probe(), PROBE_TIMEOUT)
            except Exception as exc:  # reported, not raised: this is the health endpoint
                checks[name] = scrub(f"failed: {type(exc).__name__}: {exc}")[:200]
            else:
                checks[name] = "ok"
        return HealthReport(all(v == "ok" for v in checks.values()), checks, ages)
