"""What a pipeline run is made of: its constants and goals, the plan, and the results (the
JSON's shape: every field below is a key of benchmarks/results/pipeline.json)."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.common import percentile
from benchmarks.sink import Batch

ROOT = Path(__file__).resolve().parent.parent.parent
USER_BASE = 10_000_000  # load-test users: far from any real id and from ADMIN_IDS
MEMORY_USER_BASE = 20_000_000
MEMORY_WARM_UP_BASE = 30_000_000
ADMIN_ID = 1000
MODES = ("new", "returning", "steady", "memory")
BOTS = ("ours", "bare")
CLOCK_TICK = os.sysconf("SC_CLK_TCK")

# Goals (from the speed issue).
GOAL_NEW = 0.8  # ours/bare updates/s, new users burst
GOAL_RETURNING = 0.9  # ours/bare updates/s, returning users burst
GOAL_STEADY_P99 = 2.0  # ours p99 within 2x bare's ...
GOAL_STEADY_P99_MS = 10.0  # ... or at most this

# Steady mode "kept up": at the end of the schedule, the oldest unanswered update is younger.
KEPT_UP_AGE_S = 1.0
# A mode during which other processes used more of the machine than this (%) is flagged.
BUSY_PCT = 10.0


@dataclass
class ModeResult:
    bot: str
    mode: str
    updates: int
    users: int
    new_users: int
    answered: int = 0
    wall_s: float = math.nan
    updates_per_s: float = math.nan
    p50_ms: float = math.nan
    p95_ms: float = math.nan
    p99_ms: float = math.nan
    max_ms: float = math.nan
    bot_cpu_s: float = math.nan
    bot_cpu_ms_per_update: float = math.nan
    bot_main_thread_cpu_s: float = math.nan  # the event loop's thread; the rest: other threads
    runner_cpu_s: float = math.nan  # this process: the sink and the load generator
    others_cpu_pct: float = math.nan  # every other process, % of all cores over the mode
    rss_start_mb: float = math.nan
    rss_end_mb: float = math.nan
    rss_settled_mb: float = math.nan  # a moment after the last reply
    hwm_mb: float = math.nan
    # steady mode
    rate: float = math.nan
    seconds: float = math.nan
    backlog_at_end: int = 0  # released by the end of the schedule, not answered yet
    unfetched_at_end: int = 0  # ... not even fetched by getUpdates yet
    oldest_unanswered_s: float = 0.0
    drain_s: float = math.nan  # from the end of the schedule to the last reply
    kept_up: bool | None = None
    release_lag_p99_ms: float = math.nan  # the load generator's own lateness
    release_lag_max_ms: float = math.nan
    sample_reply: str = ""
    status: str = "ok"
    profile: dict[str, Any] | None = None


@dataclass
class BotRun:
    bot: str
    startup_s: float = math.nan
    rss_ready_mb: float = math.nan
    modes: list[ModeResult] = field(default_factory=list)
    exit_code: int | None = None
    log: dict[str, int] = field(default_factory=dict)
    log_notable: list[str] = field(default_factory=list)  # the first warnings and errors
    sink_calls: dict[str, int] = field(default_factory=dict)
    unmatched_replies: int = 0
    get_updates_calls: int = 0
    error: str = ""


def finish(result: ModeResult, batch: Batch, first: float) -> None:
    latencies = batch.latencies()
    result.answered = len(latencies)
    result.sample_reply = batch.sample
    if latencies:
        last = max(r for r in batch.replies if r == r)
        result.wall_s = last - first
        result.updates_per_s = result.answered / result.wall_s if result.wall_s > 0 else math.nan
        result.p50_ms = percentile(latencies, 50) * 1000
        result.p95_ms = percentile(latencies, 95) * 1000
        result.p99_ms = percentile(latencies, 99) * 1000
        result.max_ms = max(latencies) * 1000
    if result.answered < result.updates:
        result.status = f"incomplete: {result.updates - result.answered} unanswered"


@dataclass
class Plan:
    users: int
    rate: float
    seconds: float
    steady_users: int
    memory_users: int
    wave: int
    modes: tuple[str, ...]
    settle_s: float
    profile_dir: Path | None
    profile_modes: tuple[str, ...]
    profile_rate: int
    profile_format: str
    profile_gil: bool
