"""The load: bursts, waves and a steady rate of /start released through the sink, and one
bot's whole run through the modes of the plan."""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import time
from collections.abc import Sequence
from pathlib import Path
from time import perf_counter

from benchmarks.common import fmt, percentile
from benchmarks.pipeline.plan import (
    KEPT_UP_AGE_S,
    MEMORY_USER_BASE,
    MEMORY_WARM_UP_BASE,
    USER_BASE,
    BotRun,
    ModeResult,
    Plan,
    finish,
)
from benchmarks.pipeline.process import (
    BotProcess,
    Profiler,
    launch,
    make_bot,
    read_cpu_s,
    read_machine_busy_s,
    read_rss_kb,
)
from benchmarks.sink import Batch, Sink
from benchmarks.stacks import as_json, load, summarize


class Meter:
    """Process figures at the start and end of a mode."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.rss0, _ = read_rss_kb(pid)
        self.cpu0 = read_cpu_s(pid)
        self.main0 = read_cpu_s(pid, pid)
        self.runner0 = time.process_time()
        self.busy0 = read_machine_busy_s()
        self.began = perf_counter()

    def finish(self, result: ModeResult) -> None:
        rss, hwm = read_rss_kb(self.pid)
        wall = perf_counter() - self.began
        result.rss_start_mb = self.rss0 / 1024
        result.rss_end_mb = rss / 1024
        result.hwm_mb = hwm / 1024
        result.bot_cpu_s = read_cpu_s(self.pid) - self.cpu0
        result.bot_main_thread_cpu_s = read_cpu_s(self.pid, self.pid) - self.main0
        result.runner_cpu_s = time.process_time() - self.runner0
        others = read_machine_busy_s() - self.busy0 - result.bot_cpu_s - result.runner_cpu_s
        cores = os.cpu_count() or 1
        result.others_cpu_pct = max(0.0, others) * 100 / (wall * cores) if wall > 0 else math.nan
        if result.answered:
            result.bot_cpu_ms_per_update = result.bot_cpu_s * 1000 / result.answered


async def run_burst(
    sink: Sink, bot: BotProcess, name: str, users: Sequence[int], known: set[int]
) -> ModeResult:
    result = ModeResult(bot.name, name, len(users), len(set(users)), len(set(users) - known))
    batch = Batch(name, expected=len(users))
    meter = Meter(bot.pid)
    first = sink.release(batch, users)
    timeout = max(60.0, len(users) / 20)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(_done_or_dead(batch, bot), timeout)
    finish(result, batch, first)
    meter.finish(result)
    known.update(users)
    return result


async def run_waves(
    sink: Sink, bot: BotProcess, name: str, users: Sequence[int], wave: int, known: set[int]
) -> ModeResult:
    """Bursts of ``wave`` users, each released when the one before is answered; one wave of
    other new users first, unmeasured (what the first requests allocate once is not a
    client's)."""
    warm_up = [MEMORY_WARM_UP_BASE + i for i in range(wave)]
    await run_burst(sink, bot, "warm-up", warm_up, known)
    await asyncio.sleep(1.0)
    result = ModeResult(bot.name, name, len(users), len(set(users)), len(set(users) - known))
    batch = Batch(name)
    meter = Meter(bot.pid)
    first = math.nan
    for start in range(0, len(users), wave):
        part = users[start : start + wave]
        batch.expected = start + len(part)
        batch.done.clear()
        at = sink.release(batch, part)
        first = at if math.isnan(first) else first
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(_done_or_dead(batch, bot), max(60.0, wave / 20))
        if batch.answered < batch.expected:
            break
    finish(result, batch, first)
    result.updates = len(users)
    if result.answered < result.updates:
        result.status = f"incomplete: {result.updates - result.answered} unanswered"
    meter.finish(result)
    known.update(users)
    return result


async def run_steady(sink: Sink, bot: BotProcess, plan: Plan, known: set[int]) -> ModeResult:
    total = int(plan.rate * plan.seconds)
    users = [USER_BASE + i % plan.steady_users for i in range(total)]
    result = ModeResult(bot.name, "steady", total, len(set(users)), len(set(users) - known))
    result.rate, result.seconds = plan.rate, plan.seconds
    batch = Batch("steady", expected=total)
    meter = Meter(bot.pid)
    lags: list[float] = []
    start = perf_counter()
    released = 0
    while released < total and bot.running():
        now = perf_counter()
        due = min(total, int((now - start) * plan.rate) + 1)
        if due > released:
            at = sink.release(batch, users[released:due])
            lags.extend(at - (start + j / plan.rate) for j in range(released, due))
            released = due
        if released < total:
            await asyncio.sleep(max(0.0, start + released / plan.rate - perf_counter()))
    end = perf_counter()
    result.backlog_at_end = released - batch.answered
    result.unfetched_at_end = sink.pending_fetch()
    unanswered = [a for a, r in zip(batch.arrivals, batch.replies, strict=True) if r != r]
    result.oldest_unanswered_s = end - min(unanswered) if unanswered else 0.0
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(_done_or_dead(batch, bot), 60)
    finish(result, batch, start)
    meter.finish(result)
    if result.answered:
        last = max(r for r in batch.replies if r == r)
        result.drain_s = max(0.0, last - end)
    result.kept_up = result.answered == total and result.oldest_unanswered_s < KEPT_UP_AGE_S
    if lags:
        result.release_lag_p99_ms = percentile(lags, 99) * 1000
        result.release_lag_max_ms = max(lags) * 1000
    known.update(users)
    return result


async def _done_or_dead(batch: Batch, bot: BotProcess) -> None:
    """Until every update is answered, or the bot's process has died."""
    while not batch.done.is_set():
        if not bot.running():
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(batch.done.wait(), 0.5)


async def run_bot(name: str, plan: Plan, workdir: Path, command: list[str] | None = None) -> BotRun:
    run = BotRun(name)
    sink = Sink()
    await sink.start()
    processes = [make_bot(name, sink.base_url, workdir, command, 1)]
    bot = processes[0]
    try:
        run.startup_s = await launch(bot, sink, plan.settle_s)
        run.rss_ready_mb = read_rss_kb(bot.pid)[0] / 1024
        known: set[int] = set()
        burst_users = [USER_BASE + i for i in range(plan.users)]
        for number, mode in enumerate(plan.modes):
            if mode == "memory" and number > 0:
                # A fresh process: what earlier modes left in Python's arenas (a burst's high
                # water) would hide what each client costs.
                run.exit_code = await bot.stop()
                bot = make_bot(name, sink.base_url, workdir, command, len(processes) + 1)
                processes.append(bot)
                await launch(bot, sink, plan.settle_s)
            profiler = None
            if plan.profile_dir is not None and mode in plan.profile_modes:
                out = plan.profile_dir / f"{name}-{mode}.{_extension(plan.profile_format)}"
                profiler = Profiler(
                    bot.pid, out, plan.profile_rate, plan.profile_format, plan.profile_gil
                )
                await profiler.start()
            if mode == "returning" and not known.issuperset(burst_users):
                # They must exist first: an unmeasured burst of the same users makes them.
                await run_burst(sink, bot, "prime", burst_users, known)
                await asyncio.sleep(plan.settle_s)
            if mode in ("new", "returning"):
                result = await run_burst(sink, bot, mode, burst_users, known)
            elif mode == "steady":
                result = await run_steady(sink, bot, plan, known)
            else:
                users = [MEMORY_USER_BASE + i for i in range(plan.memory_users)]
                result = await run_waves(sink, bot, mode, users, plan.wave, known)
            if profiler is not None:
                await profiler.stop()
                result.profile = {"path": str(profiler.out)}
                if plan.profile_format == "raw" and profiler.out.exists():
                    result.profile["summary"] = as_json(summarize(load(profiler.out)))
            await asyncio.sleep(plan.settle_s)
            result.rss_settled_mb = read_rss_kb(bot.pid)[0] / 1024
            run.modes.append(result)
            print(f"  {name:<5} {mode:<10} {_one_line(result)}", flush=True)
            if not bot.running():
                run.error = f"{name} died during {mode}:\n{bot.tail()}"
                break
    finally:
        run.exit_code = await bot.stop()
        await sink.close()
        for process in processes:
            for key, count in process.log_counts(run.log_notable).items():
                run.log[key] = run.log.get(key, 0) + count
        run.sink_calls = dict(sorted(sink.calls.items()))
        run.unmatched_replies = sink.unmatched_replies
        run.get_updates_calls = sink.get_updates_calls
    return run


def _extension(profile_format: str) -> str:
    return {"raw": "txt", "flamegraph": "svg", "speedscope": "json"}.get(profile_format, "out")


def _one_line(r: ModeResult) -> str:
    return (
        f"{r.answered}/{r.updates} answered, {fmt(r.updates_per_s, 0)} upd/s, "
        f"p50 {fmt(r.p50_ms)} ms, p99 {fmt(r.p99_ms)} ms, {r.status}"
    )
