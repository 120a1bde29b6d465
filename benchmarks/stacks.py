"""Where the samples of a py-spy profile went: a summary of collapsed stacks, as text.

    python -m benchmarks.stacks PROFILE.txt [--top 20]

PROFILE.txt is ``py-spy record --format raw --threads`` output: one stack a line, root first,
frames separated by ``;``, the sample count last (``thread (123): MainThread;f (file.py:10);...
42``). py-spy leaves idle threads out unless ``--idle``, so shares are of the samples in which a
thread was running Python (or a C call made from it: SQLite's time shows under the Python
function that called ``execute``).

The summary: samples by thread; by the library of the innermost frame (self time); the
functions on the stack of the most samples (inclusive, each counted once a stack); named
suspects (inclusive: a middleware's own work, not what it wraps); and the heaviest stacks, cut
to their innermost frames.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

_LINE = re.compile(r"^(?P<stack>.*) (?P<count>\d+)$")
_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^()]*?)(?::\d+)?\)$")
_THREAD = re.compile(r"^thread \(\d+\): ?(?P<name>.*)$")

# The innermost frame's file -> a library, first match wins (self-time attribution).
LIBRARIES: tuple[tuple[str, str], ...] = (
    ("utils/logging_setup.py", "logging"),
    ("logging/", "logging"),
    ("pythonjsonlogger/", "logging"),
    ("pydantic", "pydantic (models in and out)"),
    ("aiohttp/", "aiohttp (HTTP)"),
    ("yarl/", "aiohttp (HTTP)"),
    ("multidict/", "aiohttp (HTTP)"),
    ("json/", "json"),
    ("asyncio/", "asyncio event loop"),
    ("selectors.py", "asyncio event loop"),
    ("prometheus_client/", "metrics (prometheus_client)"),
    ("aiogram/", "aiogram (dispatch, filters, methods)"),
    ("magic_filter/", "aiogram (dispatch, filters, methods)"),
    ("aiosqlite/", "database (aiosqlite, sqlite3, repo)"),
    ("database/", "database (aiosqlite, sqlite3, repo)"),
    ("sqlite3/", "database (aiosqlite, sqlite3, repo)"),
    ("threading.py", "threads and queues"),
    ("queue.py", "threads and queues"),
    ("utils/i18n.py", "i18n"),
    ("babel/", "i18n"),
    ("contextvars", "asyncio event loop"),
    ("handlers/", "our handlers and middlewares"),
    ("services/", "our services"),
    ("utils/", "our utils"),
    ("domain/", "our domain"),
    ("apscheduler/", "scheduler"),
    ("bare_bot.py", "the bare bot's handler"),
)

# Named suspects: a sample counts when any frame of its stack matches (func, file) substrings.
SUSPECTS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("polling: getUpdates and parsing updates", (("_listen_updates", "dispatcher.py"),)),
    ("aiogram Dispatcher.feed_update (everything per update)", (("feed_update", "aiogram/"),)),
    (
        "replies: Bot.__call__ (build, send, parse a method)",
        (("Bot.__call__", "aiogram/client/bot.py"),),
    ),
    ("ClientContext middleware (client lookup + upsert)", (("ClientContext.__call__", ""),)),
    ("ClientService.touch", (("ClientService.touch", ""),)),
    ("SqliteDatabase.read/write/_drain (event loop side)", (("SqliteDatabase.", "sqlite.py"),)),
    ("aiosqlite connection thread (SQL + COMMIT)", (("Connection.run", "aiosqlite/"),)),
    (
        "cross-thread wake-ups (call_soon_threadsafe, future set from a thread)",
        (
            ("call_soon_threadsafe", ""),
            ("_write_to_self", ""),
            ("set_result", "aiosqlite/"),
        ),
    ),
    (
        "sync callbacks sent to a thread (aiogram's asyncio.to_thread; pool threads)",
        (("to_thread", "asyncio/threads.py"), ("_worker", "concurrent/futures/thread.py")),
    ),
    ("logging (any logger call)", (("", "logging/"), ("", "logging_setup.py"))),
    ("i18n (Translator)", (("", "utils/i18n.py"),)),
    ("views (screens, keyboards)", (("", "handlers/views/"),)),
    ("metrics (prometheus_client)", (("", "prometheus_client/"),)),
    ("log context (bound/bind)", (("bound", "logging_setup.py"), ("bind", "logging_setup.py"))),
    (
        "Notifier built per update",
        (("Notifier.__init__", ""), ("TelegramOutbox.__init__", ""), ("<lambda>", "handlers/")),
    ),
    ("InFlight tracking", (("InFlight.", "utils/lifecycle.py"),)),
    (
        "FSM state (FSMContext, storage)",
        (("FSMContext.", "aiogram/fsm/context.py"), ("", "aiogram/fsm/storage/")),
    ),
    ("pydantic (validate/dump)", (("", "pydantic"),)),
    ("scheduler (APScheduler jobs)", (("", "apscheduler/"),)),
)


@dataclass(frozen=True)
class Frame:
    func: str
    file: str

    def __str__(self) -> str:
        return f"{self.func} ({self.file})" if self.file else self.func


@dataclass(frozen=True)
class Stack:
    thread: str
    frames: tuple[Frame, ...]
    count: int


def parse_frame(text: str) -> Frame:
    match = _FRAME.match(text)
    if match is None:
        return Frame(text, "")
    return Frame(match["func"], match["file"])


def load(path: Path) -> list[Stack]:
    stacks: list[Stack] = []
    for line in path.read_text(errors="replace").splitlines():
        match = _LINE.match(line.strip())
        if match is None:
            continue
        parts = match["stack"].split(";")
        thread = "all"
        thread_match = _THREAD.match(parts[0])
        if thread_match is not None:
            thread = thread_match["name"] or "thread"
            parts = parts[1:]
        frames = tuple(parse_frame(p) for p in parts if p)
        stacks.append(Stack(thread, frames, int(match["count"])))
    return stacks


def thread_kind(stack: Stack) -> str:
    """Threads by role: the event loop, aiosqlite's connection threads, the rest by name."""
    if any("aiosqlite/" in f.file for f in stack.frames):
        return "aiosqlite connection threads"
    if stack.thread == "MainThread":
        return "MainThread (event loop)"
    if stack.thread.startswith("asyncio_"):
        return "asyncio executor threads"
    return stack.thread


def library(frame: Frame) -> str:
    for pattern, name in LIBRARIES:
        if pattern in frame.file:
            return name
    top = frame.file.split("/", 1)[0] if frame.file else frame.func
    return top or "?"


def _matches(frame: Frame, func: str, file: str) -> bool:
    return func in frame.func and file in frame.file


@dataclass
class Summary:
    total: int
    threads: list[tuple[str, int]]
    libraries: list[tuple[str, int]]
    self_functions: list[tuple[str, int]]
    inclusive_functions: list[tuple[str, int]]
    suspects: list[tuple[str, int]]
    heavy_stacks: list[tuple[str, int]]


def summarize(stacks: Sequence[Stack], top: int = 20, depth: int = 6) -> Summary:
    total = sum(s.count for s in stacks)
    threads: Counter[str] = Counter()
    libraries: Counter[str] = Counter()
    self_functions: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    suspects: Counter[str] = Counter()
    heavy: Counter[str] = Counter()
    for stack in stacks:
        threads[thread_kind(stack)] += stack.count
        if not stack.frames:
            libraries["(no Python frame)"] += stack.count
            continue
        leaf = stack.frames[-1]
        libraries[library(leaf)] += stack.count
        self_functions[str(leaf)] += stack.count
        for name in {str(f) for f in stack.frames}:
            inclusive[name] += stack.count
        for name, patterns in SUSPECTS:
            if any(_matches(f, func, file) for f in stack.frames for func, file in patterns):
                suspects[name] += stack.count
        tail = " <- ".join(str(f) for f in reversed(stack.frames[-depth:]))
        heavy[f"[{thread_kind(stack).split()[0]}] {tail}"] += stack.count
    return Summary(
        total,
        threads.most_common(),
        libraries.most_common(top),
        self_functions.most_common(top),
        inclusive.most_common(top),
        sorted(suspects.items(), key=lambda kv: -kv[1]),
        heavy.most_common(top),
    )


def render(summary: Summary, title: str = "") -> str:
    total = summary.total or 1

    def block(header: str, rows: Sequence[tuple[str, int]]) -> list[str]:
        lines = [f"  {header}"]
        lines += [f"    {100 * n / total:5.1f}%  {n:>6}  {name}" for name, n in rows]
        return lines

    lines = [f"{title} - {summary.total} samples (non-idle)"]
    lines += block("by thread", summary.threads)
    lines += block("self time by library (innermost frame)", summary.libraries)
    lines += block("self time by function", summary.self_functions)
    lines += block("inclusive (function anywhere on the stack)", summary.inclusive_functions)
    lines += block("suspects (inclusive)", summary.suspects)
    lines += block("heaviest stacks (innermost first)", summary.heavy_stacks)
    return "\n".join(lines)


def as_json(summary: Summary) -> dict[str, object]:
    total = summary.total or 1

    def rows(items: Sequence[tuple[str, int]]) -> list[dict[str, object]]:
        return [{"name": k, "samples": n, "share": round(n / total, 4)} for k, n in items]

    return {
        "samples": summary.total,
        "threads": rows(summary.threads),
        "libraries": rows(summary.libraries),
        "self_functions": rows(summary.self_functions),
        "inclusive_functions": rows(summary.inclusive_functions),
        "suspects": rows(summary.suspects),
        "heavy_stacks": rows(summary.heavy_stacks),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.stacks", description="Summarize py-spy raw stacks."
    )
    parser.add_argument("profile", type=Path, nargs="+")
    parser.add_argument("--top", type=int, default=20)
    parser.add_argument("--depth", type=int, default=6, help="frames shown per heavy stack")
    args = parser.parse_args(argv)
    for path in args.profile:
        print(render(summarize(load(path), args.top, args.depth), str(path)))
        print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
