"""The command line: arguments, the run of each bot in turn, the printed report and the JSON."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shlex
import shutil
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

from benchmarks.common import clean, fmt
from benchmarks.pipeline.load import run_bot
from benchmarks.pipeline.plan import BOTS, BUSY_PCT, MODES, BotRun, Plan
from benchmarks.pipeline.process import ours_env
from benchmarks.pipeline.report import (
    NOTES,
    describe_machine,
    goals,
    print_goals,
    print_profiles,
    print_tables,
    rss_growth,
)


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
