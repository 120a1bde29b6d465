"""Booking throughput under contention, and calendar speed with 10,000 stored bookings.

    python -m benchmarks.booking [--clients 2000] [--starts 200] [--dir benchmarks/results]
                                 [--json PATH] [--skip-baseline]

Part 1, the contended workload: one fresh migrated database whose single specialist has
exactly ``--starts`` free start times in the booking horizon, then ``--clients`` distinct clients
at once, client i booking start i % starts. Exactly ``--starts`` attempts can succeed. It runs
three ways, each on its own fresh database file:

* ours      ClientBookingService on the real Database (one writer connection fed by a queue; units
            of work that queue up go to its thread together, each in its own transaction);
* baseline  what simple bots do: a new aiosqlite connection per attempt and one awaited
            statement at a time inside BEGIN IMMEDIATE, retried with backoff when locked;
* limit     ClientBookingService's own transactions run one after another on one plain sqlite3
            connection in the main thread: same SQL, same pragmas, no concurrency overhead, one
            commit (one fsync) per booking: the one-commit-per-booking limit;
* limit, no fsync   the same with synchronous=OFF: commits that do not wait for the disk, so
            ``limit, no fsync / limit`` is the most that saving fsyncs (what a group commit
            does) can gain over the limit on this disk; the median cost of an fsync here is
            printed beside it.

Part 2: ``calendar`` and ``free_times`` on a database holding 10,000 active bookings.

The clock is fixed (Tuesday 2026-12-01 08:00, Europe/Moscow), so results do not depend on
today's date. Database files live in ``--dir`` (keep it on a real disk, not tmpfs: fsync is
part of the cost) and are deleted at the end. The script prints a table, writes JSON, and exits
non-zero only when a correctness check fails (successes, overlaps), never for speed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import sys
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from benchmarks.calendar import run_calendar
from benchmarks.common import (
    BASELINE_DELAY,
    BASELINE_LEVELS,
    BASELINE_TRIES,
    BUSY_TIMEOUT_MS,
    HOURS,
    NOW,
    RULES,
    TZ,
    Goal,
    RunResult,
    clean,
    fmt,
    fresh_path,
    fsync_cost_us,
    machine_info,
    print_runs,
    ratio,
    remove_db,
)
from benchmarks.contended import prepare_contended, run_baseline_level, run_limit, run_ours
from benchmarks.postgres import run_postgres


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.booking",
        description="Booking throughput under contention, and calendar speed.",
    )
    parser.add_argument("--clients", type=int, default=2000, help="concurrent clients (2000)")
    parser.add_argument("--starts", type=int, default=200, help="free start times (200)")
    parser.add_argument(
        "--dir",
        type=Path,
        default=Path("benchmarks/results"),
        help="database files go here, on a real disk (benchmarks/results)",
    )
    parser.add_argument("--json", type=Path, default=None, help="results file (DIR/booking.json)")
    parser.add_argument("--skip-baseline", action="store_true", help="skip baseline (a)")
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"),
        help="PostgreSQL server for the same workload (a database booking_bench is made there)",
    )
    parser.add_argument("--pg-pool", type=int, default=10, help="connections (DB_POOL_SIZE, 10)")
    parser.add_argument("--skip-postgres", action="store_true", help="SQLite only")
    parser.add_argument(
        "--baseline-budget",
        type=float,
        default=180.0,
        help="seconds one baseline run may take before a lower concurrency is tried (180)",
    )
    args = parser.parse_args(argv)
    if args.clients < 1 or args.starts < 1:
        parser.error("--clients and --starts must be positive")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    directory: Path = args.dir.resolve()
    directory.mkdir(parents=True, exist_ok=True)
    json_path: Path = args.json or args.dir / "booking.json"
    machine = machine_info()
    print(
        f"booking benchmark: {machine['platform']}, {machine['cpu_model']} x{machine['cpu_count']},"
        f" Python {machine['python']}, SQLite {machine['sqlite']}, {machine['date']}"
    )
    print(
        f"contended workload: {args.clients} clients at once on {args.starts} starts"
        f" ({args.clients / args.starts:g} per start), clock fixed at {NOW.astimezone(TZ)}"
    )
    print(f"database files in {directory}")
    print()
    created: list[Path] = []
    try:
        report, goals = asyncio.run(run(args, directory, created))
    finally:
        for path in created:
            remove_db(path)
    report["machine"] = machine
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(clean(report), indent=2, ensure_ascii=False) + "\n")
    print()
    print(f"results written to {json_path}")
    failed = [g.name for g in goals if g.correctness and not g.passed]
    if failed:
        print(f"CORRECTNESS FAILURE: {'; '.join(failed)}", file=sys.stderr)
        return 1
    return 0


async def run(
    args: argparse.Namespace, directory: Path, created: list[Path]
) -> tuple[dict[str, Any], list[Goal]]:
    runs: list[RunResult] = []
    setup = await prepare_contended(fresh_path(directory, "ours", created), args.starts)
    ours = await run_ours(setup, args.clients)
    runs.append(ours)

    baseline: RunResult | None = None
    baseline_tries: list[RunResult] = []
    if not args.skip_baseline:
        levels = sorted({min(c, args.clients) for c in BASELINE_LEVELS}, reverse=True)
        for level in levels:
            name = f"baseline-{level}"
            setup_b = await prepare_contended(fresh_path(directory, name, created), args.starts)
            print(f"baseline (a): concurrency {level} ...", flush=True)
            attempt = await run_baseline_level(setup_b, args.clients, level, args.baseline_budget)
            baseline_tries.append(attempt)
            print(
                f"  {attempt.status}: {attempt.completed}/{args.clients} attempts in"
                f" {attempt.wall_s:.1f} s, {attempt.successes} bookings"
                f"{', ' + attempt.note if attempt.note else ''}",
                flush=True,
            )
            remove_db(setup_b.path)
            if attempt.status == "ok":
                break
        baseline = baseline_tries[-1]
        runs.append(baseline)

    setup_l = await prepare_contended(fresh_path(directory, "limit", created), args.starts)
    limit = await run_limit(setup_l, args.clients)
    runs.append(limit)
    setup_n = await prepare_contended(fresh_path(directory, "nofsync", created), args.starts)
    no_fsync = await run_limit(setup_n, args.clients, fsync=False)
    runs.append(no_fsync)
    fsync_us = fsync_cost_us(directory)

    postgres: RunResult | None = None
    if not args.skip_postgres:
        print("postgresql: the same workload ...", flush=True)
        try:
            postgres = await run_postgres(args.pg_url, args.clients, args.starts, args.pg_pool)
        except Exception as exc:  # no server here: say so, the SQLite numbers still stand
            print(f"  postgresql skipped: {type(exc).__name__}: {exc}".splitlines()[0])
        else:
            runs.append(postgres)

    print()
    print_runs(runs, min(args.clients, args.starts))
    if baseline is not None and len(baseline_tries) > 1:
        for earlier in baseline_tries[:-1]:
            print(
                f"  (baseline at concurrency {earlier.concurrency}: {earlier.status},"
                f" {earlier.note})"
            )
    ours_vs_base = ratio(ours.attempts_per_s, baseline.attempts_per_s) if baseline else math.nan
    ours_vs_limit = ratio(ours.attempts_per_s, limit.attempts_per_s)
    ceiling = ratio(no_fsync.attempts_per_s, limit.attempts_per_s)
    print()
    print(f"ours / baseline (attempts/s): {fmt(ours_vs_base, 1)}x")
    print(f"ours / limit    (attempts/s): {fmt(ours_vs_limit, 2)}x")
    print(
        f"limit, no fsync / limit:      {fmt(ceiling, 2)}x  (an fsync here: median"
        f" {fmt(fsync_us, 0)} us; {limit.successes} commits in the limit's"
        f" {fmt(limit.wall_s * 1000, 0)} ms)"
    )
    print(
        "  the most that saving fsyncs (a group commit) can gain over the limit on this disk; the"
        " rest of the limit's time is the transactions' own CPU"
    )

    print()
    print("calendar with 10,000 bookings ...", flush=True)
    timings, cal_info = await run_calendar(fresh_path(directory, "calendar", created))
    print(
        f"  {cal_info['active_bookings']} active bookings, {cal_info['specialists']}"
        f" specialists; December: {cal_info['december_bookings']} of"
        f" {cal_info['december_slots']} slots booked,"
        f" fully booked {', '.join(d[-5:] for d in cal_info['fully_booked_days'])}"
    )
    print(f"  {'call':<28}{'median ms':>11}{'p95 ms':>9}{'min ms':>9}{'result':>8}")
    for t in timings:
        print(
            f"  {t.name:<28}{fmt(t.median_ms, 2):>11}{fmt(t.p95_ms, 2):>9}"
            f"{fmt(t.min_ms, 2):>9}{t.result_size:>8}"
        )

    expected = min(args.clients, args.starts)  # every start, or every client, booked once
    correct_runs = [ours, limit, no_fsync] + [r for r in (baseline, postgres) if r is not None]
    goals = [
        Goal(
            "0 overlaps (every run)",
            all(r.overlaps == 0 for r in correct_runs),
            ", ".join(f"{r.name}: {r.overlaps}" for r in correct_runs),
            True,
        ),
        Goal(
            f"exactly {expected} successes (ours, limit)",
            ours.successes == expected and limit.successes == expected,
            f"ours {ours.successes}, limit {limit.successes}",
            True,
        ),
        Goal(
            "ours >= 10,000 attempts/s",
            ours.attempts_per_s >= 10_000,
            fmt(ours.attempts_per_s),
            False,
        ),
        Goal(
            "ours > 2x limit (b)",
            ours_vs_limit > 2,
            f"{fmt(ours_vs_limit, 2)}x (no fsync at all: {fmt(ceiling, 2)}x on this disk)",
            False,
        ),
        Goal(
            "ours >= 10x baseline",
            None if baseline is None else ours_vs_base >= 10,
            fmt(ours_vs_base) + "x",
            False,
        ),
        Goal(
            "postgresql >= 1,000 attempts/s, exactly the successes",
            None
            if postgres is None
            else postgres.attempts_per_s >= 1000 and postgres.successes == expected,
            "-" if postgres is None else f"{fmt(postgres.attempts_per_s)}, {postgres.successes}",
            False,
        ),
        Goal(
            "calendar, any specialist, median <= 2 ms",
            timings[0].median_ms <= 2,
            f"{fmt(timings[0].median_ms, 2)} ms",
            False,
        ),
    ]
    if baseline is not None:
        goals.append(
            Goal(
                f"baseline: {expected} successes (informative)",
                baseline.successes == expected,
                str(baseline.successes),
                False,
            )
        )
    print()
    print("goals:")
    for g in goals:
        verdict = "n/a " if g.passed is None else ("PASS" if g.passed else "FAIL")
        print(f"  {verdict}  {g.name:<44} {g.value}")

    report: dict[str, Any] = {
        "params": {
            "clients": args.clients,
            "starts": args.starts,
            "now": NOW.isoformat(),
            "tz": str(TZ),
            "hours": HOURS,
            "rules": {
                "step_minutes": RULES.step_minutes,
                "min_lead_minutes": RULES.min_lead_minutes,
                "horizon_days": RULES.horizon_days,
                "max_active_per_client": RULES.max_active_per_client,
            },
            "pragmas": {
                "journal_mode": "wal",
                "synchronous": "full",
                "foreign_keys": "on",
                "busy_timeout_ms": BUSY_TIMEOUT_MS,
            },
            "baseline_tries": BASELINE_TRIES,
            "baseline_delay_s": BASELINE_DELAY,
            "directory": str(directory),
        },
        "contended": {r.name: asdict(r) for r in runs},
        "baseline_attempts": [asdict(r) for r in baseline_tries],
        "ratios": {
            "ours_over_baseline": ours_vs_base,
            "ours_over_limit": ours_vs_limit,
            "no_fsync_limit_over_limit": ceiling,
        },
        "fsync_median_us": fsync_us,
        "calendar": {"setup": cal_info, "timings": [asdict(t) for t in timings]},
        "goals": [asdict(g) for g in goals],
    }
    return report, goals


if __name__ == "__main__":
    sys.exit(main())
