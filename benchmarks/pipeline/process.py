"""The bots' processes: their environments, start and stop, what /proc says of them (CPU,
RSS, the machine's other load), and py-spy attached to them."""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from time import perf_counter

from benchmarks.pipeline.plan import ADMIN_ID, CLOCK_TICK, ROOT
from benchmarks.sink import BOT_TOKEN, Sink


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
