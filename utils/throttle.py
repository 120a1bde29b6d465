"""Per-user throttling of incoming updates: a token bucket per user (RATE_LIMIT tokens a second,
up to RATE_BURST). An update that finds a token passes. The first that finds none is answered
once ("too fast", the middleware's job) and dropped; the rest of that streak are dropped
silently, until a token is back. Nothing is queued, so a flood costs memory for one bucket.

In this process (``MemoryLimiter``), or in Redis (``RedisLimiter``: one script call per update,
shared by every replica, on Redis's own clock).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from enum import Enum
from typing import Any, Protocol

logger = logging.getLogger(__name__)


class Verdict(Enum):
    PASS = 0
    WARN = 1  # the first of a streak over the limit: tell the user, drop the update
    DROP = 2


class Limiter(Protocol):
    async def hit(self, user_id: int) -> Verdict: ...


class MemoryLimiter:
    """Buckets in a dict; full ones (idle long enough to refill) are forgotten when it grows."""

    def __init__(
        self,
        rate: float,
        burst: int,
        clock: Callable[[], float] = time.monotonic,
        max_users: int = 50_000,
    ) -> None:
        self.rate = rate
        self.burst = float(burst)
        self.clock = clock
        self.max_users = max_users
        self._buckets: dict[int, tuple[float, float, bool]] = {}  # tokens, at, warned

    async def hit(self, user_id: int) -> Verdict:
        now = self.clock()
        tokens, at, warned = self._buckets.get(user_id, (self.burst, now, False))
        tokens = min(self.burst, tokens + max(0.0, now - at) * self.rate)
        if tokens >= 1:
            verdict, tokens, warned = Verdict.PASS, tokens - 1, False
        elif warned:
            verdict = Verdict.DROP
        else:
            verdict, warned = Verdict.WARN, True
        self._buckets[user_id] = (tokens, now, warned)
        if len(self._buckets) > self.max_users:
            self._forget_full(now)
        return verdict

    def _forget_full(self, now: float) -> None:
        refill = self.burst / self.rate
        self._buckets = {u: b for u, b in self._buckets.items() if now - b[1] < refill}
        if len(self._buckets) > self.max_users:  # all busy at once: forget the oldest half
            by_age = sorted(self._buckets.items(), key=lambda item: item[1][1])
            self._buckets = dict(by_age[len(by_age) // 2 :])


# KEYS[1]: the user's bucket; ARGV: rate, burst. Returns the Verdict's value.
_BUCKET_SCRIPT = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at', 'warned')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
local verdict = 0
if tokens >= 1 then
  tokens = tokens - 1
  redis.call('HSET', KEYS[1], 'warned', '0')
elseif state[3] == '1' then
  verdict = 2
else
  verdict = 1
  redis.call('HSET', KEYS[1], 'warned', '1')
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', string.format('%.6f', now))
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]))
return verdict
"""


class RedisLimiter:
    """The same bucket in Redis. If Redis fails, the update passes (logged): throttling is
    protection, never the reason a client cannot book."""

    def __init__(self, redis: Any, rate: float, burst: int, prefix: str = "throttle") -> None:
        self.rate = rate
        self.burst = burst
        self.prefix = prefix
        self._script = redis.register_script(_BUCKET_SCRIPT)
        # A bucket idle this long is full again: Redis forgets it.
        self._ttl_ms = math.ceil(burst / rate * 1000) + 1000

    async def hit(self, user_id: int) -> Verdict:
        try:
            value = await self._script(
                keys=[f"{self.prefix}:{user_id}"], args=[self.rate, self.burst, self._ttl_ms]
            )
        except Exception as exc:  # Redis down or slow: let it through
            logger.warning("throttling skipped, Redis did not answer: %s", exc)
            return Verdict.PASS
        return Verdict(int(value))
