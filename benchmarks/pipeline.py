"""The whole pipeline, measured from outside as a load test would: Bot API -> bot -> Bot API.

    python -m benchmarks.pipeline [--users 1000] [--rate 300] [--seconds 20]
                                  [--steady-users 3000] [--memory-users 10000]
                                  [--modes new,returning,steady,memory] [--bots ours,bare]
                                  [--variant NAME=COMMAND] [--quick] [--json PATH]
                                  [--profile DIR [--profile-gil]]

A Bot API sink of its own (benchmarks/sink.py) serves getUpdates by long polling and records,
for every update, when it was made available and when the first reply for that user's chat came
back. Two bots are run against it one after the other, each as its own OS process on the same
machine and under the same load:

* ours   the real ``python bot.py`` (SQLite in a temporary file, polling, every middleware), with
         RATE_LIMIT=0: the per-user throttle would otherwise drop a load test's users;
* bare   benchmarks/bare_bot.py: aiogram's Dispatcher with one /start handler and a fixed text.

Modes (in this order for each bot):

* new        a burst of --users users the bot has never seen, each sending /start at once;
* returning  the same users again (they exist in the bot's database now);
* steady     --rate updates/s for --seconds, over --steady-users users (user i % M), released
             on a schedule; the first --users of them are known by then, the rest are new;
* memory     a fresh process of the bot (earlier modes' high water would hide it), then
             one unmeasured wave of other new users (what the first requests allocate once),
             then --memory-users new users in waves of --wave (each wave sent when the one
             before is answered, so little is in flight): the RSS a client leaves behind.

Burst updates/s = updates / (last first-reply - arrival). Latency = first reply - arrival.
The sink and the load generator run in this process and share the machine's cores with the bot;
the numbers are the pipeline's on this machine, not the bot's alone.

--profile DIR attaches ``py-spy record`` to each bot during the new-users burst (or the modes
given by --profile-modes) and prints where the samples went (benchmarks/stacks.py). A profiled
run's timings are disturbed by the sampling: use an unprofiled run for the numbers.

--variant NAME=COMMAND runs one more bot with ours' environment, e.g. a patched copy
(``--variant fast="python /tmp/patched_bot.py"``): an A/B test of a change before making it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from time import perf_counter
from typing import Any

from benchmarks.common import clean, fmt, machine_info, percentile, ratio
from benchmarks.sink import BOT_TOKEN, Batch, Sink
from benchmarks.stacks import as_json, load, render, summarize

ROOT = Path(__file__).resolve().parent.parent
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


# ---------------------------------------------------------------- the bot's process


def ours_env(api_url: str, database: Path) -> dict[str, str]:
    """bot.py's settings: every one at its default except where a load test needs otherwise.

    A clean environment (not this shell's): nothing of ours tunes the bot but RATE_LIMIT=0.
    """
    return {
        **_base_env(),
        "BOT_TOKEN": BOT_TOKEN,
        "TELEGRAM_API_URL": api_url,
        "DATABASE_URL": f"sqlite:///{database}",
        "WEB_PORT": "",  # no HTTP server of its own: polling only
        "ADMIN_DIGEST_TIME": "",  # no morning digest to an admin chat that is not there
        "RATE_LIMIT": "0",  # the per-user throttle is off (see the module's docstring)
        "DEFAULT_LANGUAGE": "en",
        "TIMEZONE": "Europe/Moscow",
        "WORKING_HOURS": "mon-sun 09:00-18:00",
        "ADMIN_IDS": str(ADMIN_ID),
        "ADMIN_CHAT_ID": "",
        "LOG_LEVEL": "INFO",
        "LOG_FORMAT": "text",
        "LOG_FILE": "",
        "SENTRY_DSN": "",
        "REDIS_URL": "",
        "WEBHOOK_URL": "",
        "BACKUP_DIR": "",
    }


def bare_env(api_url: str) -> dict[str, str]:
    return {**_base_env(), "BOT_TOKEN": BOT_TOKEN, "TELEGRAM_API_URL": api_url}


def _base_env() -> dict[str, str]:
    env = {"LANG": "C.UTF-8", "PYTHONUNBUFFERED": "0"}
    for name in ("PATH", "HOME", "TMPDIR"):
        if name in os.environ:
            env[name] = os.environ[name]
    return env


def read_rss_kb(pid: int) -> tuple[int, int]:
    """(VmRSS, VmHWM) in kB from /proc/<pid>/status; (0, 0) when gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:  # the process has exited
        return 0, 0
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)

    def kb(name: str) -> int:
        return int(fields.get(name, "0").split()[0])

    return kb("VmRSS"), kb("VmHWM")


def read_machine_busy_s() -> float:
    """CPU seconds all cores spent busy since boot (/proc/stat), every process included."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except OSError:
        return math.nan
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields[:8])
    return (user + nice + system + irq + softirq + steal) / CLOCK_TICK


def read_cpu_s(pid: int, tid: int | None = None) -> float:
    """User + system CPU seconds of the process (all its threads, ended ones too), or of one
    of its threads, from /proc."""
    path = f"/proc/{pid}/stat" if tid is None else f"/proc/{pid}/task/{tid}/stat"
    try:
        fields = Path(path).read_text().rsplit(")", 1)[1].split()
    except OSError:
        return math.nan
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICK


class BotProcess:
    def __init__(self, name: str, argv: list[str], env: dict[str, str], cwd: Path, log: Path):
        self.name = name
        self.argv = argv
        self.env = env
        self.cwd = cwd
        self.log = log
        self.proc: asyncio.subprocess.Process | None = None

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    async def start(self) -> None:
        with self.log.open("wb") as out:  # the child keeps its own descriptor
            self.proc = await asyncio.create_subprocess_exec(
                *self.argv,
                cwd=self.cwd,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def running(self) -> bool:
        return self.proc is not None and self.proc.returncode is None

    async def stop(self, grace: float = 30.0) -> int | None:
        if self.proc is None:
            return None
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.proc.wait(), grace)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()
        return self.proc.returncode

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def log_counts(self, notable: list[str] | None = None) -> dict[str, int]:
        """Lines, errors, warnings and tracebacks in the bot's log; the first few warning and
        error lines go to ``notable``."""
        counts = {"lines": 0, "error": 0, "warning": 0, "traceback": 0}
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return counts
        for line in text.splitlines():
            counts["lines"] += 1
            bad = True
            if " ERROR " in line or line.startswith("ERROR:"):
                counts["error"] += 1
            elif " WARNING " in line or line.startswith("WARNING:"):
                counts["warning"] += 1
            else:
                bad = False
            if line.startswith("Traceback"):
                counts["traceback"] += 1
            if bad and notable is not None and len(notable) < 5:
                notable.append(line[:300])
        return counts


# ---------------------------------------------------------------- profiling


class Profiler:
    """``py-spy record`` attached to a running process, stopped with SIGINT (it then writes)."""

    def __init__(self, pid: int, out: Path, rate: int, fmt: str, gil: bool = False) -> None:
        self.gil = gil
        self.pid = pid
        self.out = out
        self.rate = rate
        self.fmt = fmt
        self.proc: asyncio.subprocess.Process | None = None
        self.output: list[str] = []
        self._reader: asyncio.Task[None] | None = None

    @staticmethod
    def executable() -> str | None:
        beside = Path(sys.executable).with_name("py-spy")
        return str(beside) if beside.exists() else shutil.which("py-spy")

    async def start(self) -> None:
        exe = self.executable()
        if exe is None:
            raise SystemExit("--profile needs py-spy: .venv/bin/python -m pip install py-spy")
        self.proc = await asyncio.create_subprocess_exec(
            exe,
            "record",
            "--pid",
            str(self.pid),
            "--rate",
            str(self.rate),
            "--format",
            self.fmt,
            "--threads",
            *(["--gil"] if self.gil else []),
            "-o",
            str(self.out),
            stdin=subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        sampling = asyncio.Event()

        async def read() -> None:
            assert self.proc is not None and self.proc.stdout is not None
            async for raw in self.proc.stdout:
                line = raw.decode(errors="replace").rstrip()
                self.output.append(line)
                if "Sampling" in line:
                    sampling.set()

        self._reader = asyncio.create_task(read())
        try:
            await asyncio.wait_for(sampling.wait(), 20)
        except TimeoutError:
            raise SystemExit("py-spy did not start: " + " | ".join(self.output)) from None

    async def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                await asyncio.wait_for(self.proc.wait(), 60)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()
        if self._reader is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._reader, 5)


# ---------------------------------------------------------------- results


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


def _finish(result: ModeResult, batch: Batch, first: float) -> None:
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


# ---------------------------------------------------------------- the load


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
    _finish(result, batch, first)
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
    _finish(result, batch, first)
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
    _finish(result, batch, start)
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


def make_bot(
    name: str, api_url: str, workdir: Path, command: list[str] | None, n: int
) -> BotProcess:
    """Ours (or a variant of it: ``command``, run with ours' environment) or the bare bot; the
    ``n``-th process of this bot in the run (its own log file)."""
    log = workdir / f"{name}-{n}.log"
    if name == "ours" or command is not None:
        return BotProcess(
            name,
            command or [sys.executable, str(ROOT / "bot.py")],
            ours_env(api_url, workdir / f"{name}.db"),
            workdir,  # not the project folder: its .env, if any, is not read
            log,
        )
    return BotProcess(
        name, [sys.executable, "-m", "benchmarks.bare_bot"], bare_env(api_url), ROOT, log
    )


async def launch(bot: BotProcess, sink: Sink, settle_s: float) -> float:
    """Start the process and wait for its first getUpdates; seconds it took."""
    sink.polling = asyncio.Event()
    began = perf_counter()
    await bot.start()
    ready = asyncio.create_task(sink.polling.wait())
    while not ready.done():
        if not bot.running():
            ready.cancel()
            raise RuntimeError(f"{bot.name} exited at start-up:\n{bot.tail()}")
        if perf_counter() - began > 120:
            ready.cancel()
            raise RuntimeError(f"{bot.name} did not poll within 120 s:\n{bot.tail()}")
        await asyncio.wait({ready}, timeout=0.2)
    took = perf_counter() - began
    await asyncio.sleep(settle_s)  # start-up work (the first scheduler tick) ends
    return took


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


# ---------------------------------------------------------------- report


MODE_TITLES = {
    "new": "new users: a burst of {users} users never seen, each sending /start at once",
    "returning": "returning users: the same {users} users again, each sending /start at once",
    "steady": "steady: {rate:g} updates/s for {seconds:g} s over {steady_users} users "
    "(user i mod {steady_users}; /start)",
    "memory": "memory: a fresh process of each bot, a warm-up wave, then {memory_users} new "
    "users (/start) in waves of {wave}, each sent when the one before is answered",
}


def print_tables(runs: Sequence[BotRun], plan: Plan) -> None:
    for mode in plan.modes:
        rows = [(run, m) for run in runs for m in run.modes if m.mode == mode]
        if not rows:
            continue
        print()
        print(MODE_TITLES[mode].format(**asdict(plan)))
        steady = mode == "steady"
        header = (
            f"{'bot':<6}{'updates':>8}{'new':>7}{'upd/s':>9}{'p50 ms':>9}{'p95 ms':>9}"
            f"{'p99 ms':>9}{'max ms':>9}{'CPU ms/upd':>11}{'main':>6}{'sink ms/upd':>12}"
            f"{'others':>7}{'RSS MB start>end':>18}"
        )
        if steady:
            header += f"{'backlog':>9}{'oldest s':>9}{'drain s':>8}{'lag p99':>8}  kept up"
        print(header)
        print("-" * len(header))
        for _run, m in rows:
            rss = f"{fmt(m.rss_start_mb)}>{fmt(m.rss_end_mb)}"
            sink_ms = m.runner_cpu_s * 1000 / m.answered if m.answered else math.nan
            main_pct = ratio(m.bot_main_thread_cpu_s, m.bot_cpu_s) * 100
            line = (
                f"{m.bot:<6}{m.answered:>8}{m.new_users:>7}{fmt(m.updates_per_s, 0):>9}"
                f"{fmt(m.p50_ms):>9}{fmt(m.p95_ms):>9}{fmt(m.p99_ms):>9}{fmt(m.max_ms):>9}"
                f"{fmt(m.bot_cpu_ms_per_update, 2):>11}{fmt(main_pct, 0) + '%':>6}"
                f"{fmt(sink_ms, 2):>12}"
                f"{fmt(m.others_cpu_pct, 0) + '%':>7}{rss:>18}"
            )
            if steady:
                line += (
                    f"{m.backlog_at_end:>9}{fmt(m.oldest_unanswered_s, 2):>9}"
                    f"{fmt(m.drain_s, 2):>8}{fmt(m.release_lag_p99_ms):>8}  "
                    f"{'yes' if m.kept_up else 'NO'}"
                )
            if m.status != "ok":
                line += f"  [{m.status}]"
            print(line)


def find(runs: Sequence[BotRun], bot: str, mode: str) -> ModeResult | None:
    for run in runs:
        if run.bot == bot:
            for m in run.modes:
                if m.mode == mode:
                    return m
    return None


def goals(runs: Sequence[BotRun]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for mode, goal in (("new", GOAL_NEW), ("returning", GOAL_RETURNING)):
        ours, bare = find(runs, "ours", mode), find(runs, "bare", mode)
        if ours is None or bare is None:
            continue
        r = ratio(ours.updates_per_s, bare.updates_per_s)
        out.append(
            {
                "goal": f"{mode} users burst, updates/s ours/bare >= {goal}",
                "ours": ours.updates_per_s,
                "bare": bare.updates_per_s,
                "ratio": r,
                # The same ratio from the CPU each update cost: less at the mercy of whatever
                # else the machine ran meanwhile.
                "cpu_ratio": ratio(bare.bot_cpu_ms_per_update, ours.bot_cpu_ms_per_update),
                "passed": None if math.isnan(r) else r >= goal,
            }
        )
    ours, bare = find(runs, "ours", "steady"), find(runs, "bare", "steady")
    if ours is not None and bare is not None:
        r = ratio(ours.p99_ms, bare.p99_ms)
        passed = None
        if not math.isnan(ours.p99_ms):
            passed = bool(ours.kept_up) and (
                ours.p99_ms <= GOAL_STEADY_P99_MS or (not math.isnan(r) and r <= GOAL_STEADY_P99)
            )
        out.append(
            {
                "goal": f"steady p99 ours <= {GOAL_STEADY_P99:g}x bare or <= "
                f"{GOAL_STEADY_P99_MS:g} ms (and kept up)",
                "ours": ours.p99_ms,
                "bare": bare.p99_ms,
                "ratio": r,
                "cpu_ratio": math.nan,
                "passed": passed,
            }
        )
    return out


def rss_growth(runs: Sequence[BotRun]) -> list[dict[str, Any]]:
    """MB of RSS per 10,000 new clients: measured by the memory mode, else extrapolated."""
    out: list[dict[str, Any]] = []
    for run in runs:
        for mode, how in (
            ("memory", "measured: {n} new users in waves, RSS {a:.1f} -> {b:.1f} MB"),
            ("new", "extrapolated from the new-users burst of {n}, RSS {a:.1f} -> {b:.1f} MB"),
        ):
            m = find([run], run.bot, mode)
            if m is None or not m.new_users or math.isnan(m.rss_settled_mb):
                continue
            growth = (m.rss_settled_mb - m.rss_start_mb) * 10_000 / m.new_users
            out.append(
                {
                    "bot": run.bot,
                    "from": mode,
                    "mb_per_10k_clients": growth,
                    "how": how.format(n=m.new_users, a=m.rss_start_mb, b=m.rss_settled_mb),
                }
            )
    return out


def print_goals(rows: Sequence[dict[str, Any]], growth: Sequence[dict[str, Any]]) -> None:
    print()
    print("goals (ours against the bare aiogram bot)")
    header = f"{'goal':<62}{'ours':>10}{'bare':>10}{'ratio':>8}{'by CPU':>8}  result"
    print(header)
    print("-" * len(header))
    for row in rows:
        verdict = {True: "PASS", False: "FAIL", None: "-"}[row["passed"]]
        print(
            f"{row['goal']:<62}{fmt(row['ours']):>10}{fmt(row['bare']):>10}"
            f"{fmt(row['ratio'], 2):>8}{fmt(row['cpu_ratio'], 2):>8}  {verdict}"
        )
    print(
        "('by CPU': bare's CPU per update / ours', the throughput ratio both would reach with "
        "the same CPU share)"
    )
    if growth:
        print()
        print("RSS growth per 10,000 clients (RSS a moment after the mode minus before it; a")
        print("burst's figure also holds its high water: Python keeps freed memory in its arenas)")
        for g in growth:
            print(f"  {g['bot']:<5} {fmt(g['mb_per_10k_clients']):>7} MB   {g['how']}")


NOTES = (
    "ours runs with RATE_LIMIT=0: the per-user throttle (3/s, burst 10) would drop a load "
    "test's users; every other setting of bot.py is at its default (a clean environment), "
    "except WEB_PORT and ADMIN_DIGEST_TIME empty, DEFAULT_LANGUAGE=en, WORKING_HOURS set.",
    "The sink (Bot API) and the load generator run in the benchmark's own process, on the "
    "same cores as the bot: their CPU ('sink ms/upd', runner_cpu_s) is taken from the bot's "
    "share. 'CPU ms/upd' is the bot process's CPU (all its threads) per update answered; "
    "'main' the share of it on the event loop's thread (the rest: aiosqlite's and asyncio's "
    "executor threads). "
    "'others' is the CPU every other process on the machine used meanwhile, in % of all "
    "cores: anything above a few % means the numbers are lower than on a quiet machine.",
    "Both bots log at INFO to a file (aiogram's one line per update included).",
    "Latency = the first reply call for the user's chat - the time the update was made "
    "available to getUpdates; a burst's updates all arrive at once, so its latencies include "
    "the wait behind the others. Burst updates/s = updates / (last first reply - arrival).",
    "steady: 'backlog' = released by the end of the schedule and not answered then; 'oldest s' "
    "= the age of the oldest of them; kept up = all answered and the oldest younger than "
    f"{KEPT_UP_AGE_S:g} s; 'lag p99' = how late the load generator released updates (ms).",
    "ours keeps the clients it has seen in memory (ClientService, one polling process), so "
    "returning users in the same process are answered without a database read.",
)


def print_profiles(runs: Sequence[BotRun], top: int) -> None:
    for run in runs:
        for m in run.modes:
            path = Path(m.profile["path"]) if m.profile else None
            if path is not None and path.exists():
                print()
                print(render(summarize(load(path), top), f"profile {run.bot} {m.mode}"))


def describe_machine(workdir: Path) -> dict[str, Any]:
    info = machine_info()
    for package in ("aiogram", "aiohttp", "aiosqlite", "pydantic"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            info[package] = metadata.version(package)
    info["load_average_at_start"] = os.getloadavg()
    info["database_dir"] = str(workdir)
    info["database_fs"] = _filesystem(workdir)
    info["git"] = _git_revision()
    return info


def _filesystem(path: Path) -> str:
    best, kind = "", "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/mounts").read_text().splitlines():
            parts = line.split()
            if len(parts) > 2 and str(path).startswith(parts[1]) and len(parts[1]) > len(best):
                best, kind = parts[1], parts[2]
    return kind


def _git_revision() -> str | None:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return head + (" (with uncommitted changes)" if dirty else "")


# ---------------------------------------------------------------- command line


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.pipeline",
        description="Bot API -> bot -> Bot API, measured from outside: bot.py against a bare "
        "aiogram bot under the same load.",
    )
    parser.add_argument("--users", type=int, default=None, help="burst users (1000)")
    parser.add_argument("--rate", type=float, default=None, help="steady updates/s (300)")
    parser.add_argument("--seconds", type=float, default=None, help="steady duration (20)")
    parser.add_argument(
        "--steady-users", type=int, default=None, help="users the steady load cycles over (3000)"
    )
    parser.add_argument(
        "--memory-users", type=int, default=None, help="new users of the memory mode (10000)"
    )
    parser.add_argument(
        "--wave", type=int, default=None, help="users per wave in the memory mode (500)"
    )
    parser.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="NAME=COMMAND",
        help="one more bot run with ours' environment (e.g. a patched copy of bot.py)",
    )
    parser.add_argument(
        "--modes",
        default=",".join(MODES),
        help=f"comma-separated, run in this order ({','.join(MODES)})",
    )
    parser.add_argument("--bots", default=",".join(BOTS), help="ours,bare (both, in this order)")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a smoke run (200 users; 200/s for 3 s over 600 users; 1000 memory users)",
    )
    parser.add_argument(
        "--json",
        type=Path,
        default=None,
        help="results file (benchmarks/results/pipeline.json; none for --quick or --profile "
        "unless given)",
    )
    parser.add_argument(
        "--dir", type=Path, default=None, help="where the database and logs go (a temp dir)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the database and bot logs")
    parser.add_argument(
        "--profile",
        type=Path,
        default=None,
        metavar="DIR",
        help="attach py-spy to each bot during --profile-modes; profiles go to DIR",
    )
    parser.add_argument("--profile-modes", default="new", help="modes to profile (new)")
    parser.add_argument("--profile-rate", type=int, default=200, help="py-spy samples/s (200)")
    parser.add_argument(
        "--profile-format",
        default="raw",
        choices=("raw", "flamegraph", "speedscope"),
        help="raw (collapsed stacks, summarized here), flamegraph (SVG) or speedscope",
    )
    parser.add_argument(
        "--profile-gil",
        action="store_true",
        help="py-spy --gil: only samples of the thread holding the GIL (CPU spent in Python)",
    )
    parser.add_argument("--top", type=int, default=15, help="rows per profile summary block")
    args = parser.parse_args(argv)
    quick = args.quick
    defaults = {
        "users": 200 if quick else 1000,
        "rate": 200.0 if quick else 300.0,
        "seconds": 3.0 if quick else 20.0,
        "steady_users": 600 if quick else 3000,
        "memory_users": 1000 if quick else 10_000,
        "wave": 250 if quick else 500,
    }
    for name, value in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    for name in ("users", "steady_users", "memory_users", "wave"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.rate <= 0 or args.seconds <= 0:
        parser.error("--rate and --seconds must be positive")
    args.mode_list = tuple(m for m in args.modes.split(",") if m)
    args.variants = {}
    for spec in args.variant:
        name, sep, command = spec.partition("=")
        if not sep or not name or not command.strip() or name in BOTS:
            parser.error(f"--variant wants NAME=COMMAND with a new name, not {spec!r}")
        argv = shlex.split(command)
        if argv[0] in ("python", "python3"):
            argv[0] = sys.executable
        elif not Path(argv[0]).is_absolute() and Path(argv[0]).exists():
            argv[0] = str(Path(argv[0]).resolve())  # it runs in the temp dir
        args.variants[name] = argv
    bots = [b for b in args.bots.split(",") if b]
    at = bots.index("ours") + 1 if "ours" in bots else len(bots)
    args.bot_list = (*bots[:at], *args.variants, *bots[at:])
    unknown = [m for m in args.mode_list if m not in MODES] + [b for b in bots if b not in BOTS]
    if unknown:
        parser.error(f"unknown mode or bot: {', '.join(unknown)}")
    if args.json is None and not quick and args.profile is None:
        args.json = Path("benchmarks/results/pipeline.json")
    return args


async def amain(args: argparse.Namespace) -> int:
    workdir = Path(tempfile.mkdtemp(prefix="bench-pipeline-", dir=args.dir))
    plan = Plan(
        users=args.users,
        rate=args.rate,
        seconds=args.seconds,
        steady_users=args.steady_users,
        memory_users=args.memory_users,
        wave=args.wave,
        modes=args.mode_list,
        settle_s=0.5 if args.quick else 1.0,
        profile_dir=args.profile,
        profile_modes=tuple(m for m in args.profile_modes.split(",") if m),
        profile_rate=args.profile_rate,
        profile_format=args.profile_format,
        profile_gil=args.profile_gil,
    )
    if plan.profile_dir is not None:
        plan.profile_dir.mkdir(parents=True, exist_ok=True)
    machine = describe_machine(workdir)
    print(
        f"pipeline benchmark: {machine['cpu_count']} CPU ({machine['cpu_model']}), "
        f"Python {machine['python']}, aiogram {machine.get('aiogram')}, "
        f"SQLite {machine['sqlite']}; database in {workdir} ({machine['database_fs']})"
    )
    print("ours runs with RATE_LIMIT=0 (the per-user throttle would drop load-test users);")
    print("the sink and the load generator share the machine's cores with the bot.")
    if plan.profile_dir is not None:
        print(f"PROFILED RUN (py-spy, {plan.profile_rate}/s): timings are disturbed")
    runs: list[BotRun] = []
    failed = False
    try:
        for name in args.bot_list:
            try:
                runs.append(await run_bot(name, plan, workdir, args.variants.get(name)))
            except (RuntimeError, OSError) as exc:
                runs.append(BotRun(name, error=f"{name}: {exc}"))
            if runs[-1].error:
                failed = True
                print(runs[-1].error, file=sys.stderr)
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(f"database and logs kept in {workdir}")
    machine["load_average_at_end"] = os.getloadavg()
    print_tables(runs, plan)
    goal_rows = goals(runs)
    growth = rss_growth(runs)
    print_goals(goal_rows, growth)
    print()
    for run in runs:
        print(
            f"{run.bot}: ready in {fmt(run.startup_s, 2)} s at {fmt(run.rss_ready_mb)} MB RSS; "
            f"log {run.log.get('lines', 0)} lines, {run.log.get('error', 0)} errors, "
            f"{run.log.get('warning', 0)} warnings; getUpdates calls {run.get_updates_calls}; "
            f"unmatched replies {run.unmatched_replies}; exit code {run.exit_code}"
        )
        for line in run.log_notable:
            print(f"  log: {line}")
        replies = [m.sample_reply for m in run.modes if m.sample_reply]
        if replies:
            print(f"  a reply: {replies[0]!r}")
    busy = [
        f"{m.bot} {m.mode} ({fmt(m.others_cpu_pct, 0)}%)"
        for run in runs
        for m in run.modes
        if m.others_cpu_pct > BUSY_PCT
    ]
    if busy:
        print()
        print(
            f"WARNING: other processes used more than {BUSY_PCT:g}% of the machine during: "
            + ", ".join(busy)
            + ". Those rows are slower than on a quiet machine; 'by CPU' is the steadier ratio."
        )
    print()
    print("notes:")
    for note in NOTES:
        print(f"- {note}")
    if plan.profile_format == "raw":
        print_profiles(runs, args.top)
    if args.json is not None:
        report = {
            "benchmark": "pipeline",
            "machine": machine,
            "settings": {
                "users": plan.users,
                "rate": plan.rate,
                "seconds": plan.seconds,
                "steady_users": plan.steady_users,
                "memory_users": plan.memory_users,
                "wave": plan.wave,
                "variants": dict(args.variants),
                "modes": list(plan.modes),
                "bots": list(args.bot_list),
                "quick": args.quick,
                "profiled": plan.profile_dir is not None,
                "ours_env": {
                    k: v
                    for k, v in ours_env("<sink>", Path("<tmp>/ours.db")).items()
                    if k not in ("PATH", "HOME", "TMPDIR", "BOT_TOKEN")
                },
            },
            "notes": list(NOTES),
            "runs": [asdict(run) for run in runs],
            "goals": goal_rows,
            "rss_growth_per_10k_clients": growth,
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(clean(report), indent=2, ensure_ascii=False) + "\n")
        print()
        print(f"results written to {args.json}")
    incomplete = any(m.status != "ok" for run in runs for m in run.modes)
    return 1 if failed or incomplete else 0


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    return asyncio.run(amain(args))


if __name__ == "__main__":
    raise SystemExit(main())
