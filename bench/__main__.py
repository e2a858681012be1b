"""`python -m bench`: the bot against a naive bot, end to end, under N simultaneous /imagine.

    .venv/bin/python -m bench                      # N = 1, 50, 200, 1000; writes the docs
    .venv/bin/python -m bench --quick              # a short smoke run; prints only
    .venv/bin/python -m bench --n 200 --duration 3 --repeat 3 --no-docs

For every N it runs the real bot (`python -m bot`), the naive reference bot
(`python -m bench.naive_bot`) and the real bot with `COMETAPI_PREFER_WAIT`, each as a
subprocess against a fresh fake Discord and fake CometAPI in this process (bench/e2e.py),
prints a table and the targets, and writes docs/benchmarks.md (the part between its markers)
and docs/benchmarks.png. Exit status: 1 if any run had an error (a lost job, a request
Discord would refuse, an unknown route), 0 otherwise; with --strict also 1 if a target was
missed.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from bench.chart import draw_chart
from bench.e2e import ROOT, RunOptions, RunResult, Scenario, run_scenario
from bench.report import evaluate, group, markdown, table, targets_text, write_docs
from tests.fakes.discord.spec import load_spec


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__.splitlines()[0] if __doc__ else None
    )
    parser.add_argument("--n", default="1,50,200,1000", help="commands at once, comma-separated")
    parser.add_argument("--duration", type=float, default=3.0, help="seconds per prediction")
    parser.add_argument("--jitter", type=float, default=0.2, help="± fraction of the duration")
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="runs of each bot per N below --repeat-below (the figures are medians; 3)",
    )
    parser.add_argument(
        "--repeat-below",
        type=int,
        default=1000,
        help="N from which each bot runs once (the slow runs; default 1000)",
    )
    parser.add_argument("--warmup", type=int, default=4, help="unmeasured jobs before each burst")
    parser.add_argument("--no-prefer-wait", action="store_true", help="skip the Prefer: wait row")
    parser.add_argument("--quick", action="store_true", help="N=1,20, 1 s jobs, once; no docs")
    parser.add_argument("--no-docs", action="store_true", help="print only; leave docs/ alone")
    parser.add_argument("--md", type=Path, default=ROOT / "docs" / "benchmarks.md")
    parser.add_argument("--png", type=Path, default=ROOT / "docs" / "benchmarks.png")
    parser.add_argument("--profile", type=Path, help="run each bot under cProfile into this dir")
    parser.add_argument("--keep", type=Path, help="keep each run's database and log here")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    if args.quick:
        args.n, args.duration, args.repeat, args.warmup = "1,20", 1.0, 1, 1
        args.no_docs = True
    args.ns = [int(x) for x in str(args.n).split(",") if x.strip()]
    return args


def scenarios(args: argparse.Namespace) -> list[Scenario]:
    """Every run, in order: per N, bot and naive alternating, then the Prefer: wait row."""
    # Long enough for any prediction to finish inside the create request (the API caps at 60).
    prefer_wait = min(60, math.ceil(args.duration * (1 + args.jitter)) + 2)
    out: list[Scenario] = []
    for n in args.ns:
        repeats = 1 if n >= args.repeat_below else max(1, args.repeat)
        for i in range(repeats):
            pair = [
                Scenario("bot", n, args.duration, args.jitter, seed=10 + i),
                Scenario("naive", n, args.duration, args.jitter, seed=10 + i),
            ]
            out += pair if i % 2 == 0 else pair[::-1]  # alternate, so drift favours neither
        if not args.no_prefer_wait:
            out.append(Scenario("bot", n, args.duration, args.jitter, prefer_wait=prefer_wait))
    return out


async def run_all(args: argparse.Namespace) -> list[RunResult]:
    spec = load_spec()
    options = RunOptions(
        warmup=args.warmup,
        settle=0.3 if args.quick else 0.5,
        profile_dir=args.profile,
        keep_dir=args.keep,
    )
    plan = scenarios(args)
    results = []
    for index, scenario in enumerate(plan, start=1):
        started = time.monotonic()
        result = await run_scenario(scenario, options=options, spec=spec)
        f = result.figures()
        print(
            f"[{index}/{len(plan)}] {scenario.label}, N={scenario.n}: "
            f"ack p99 {f['ack_p99_ms'] or 0:.0f} ms, delivery p50 {f['delivery_p50_ms'] or 0:.0f}"
            f" ms, {len(result.errors)} error(s) ({time.monotonic() - started:.0f} s)",
            file=sys.stderr,
            flush=True,
        )
        results.append(result)
    return results


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    results = asyncio.run(run_all(args))
    rows = group(results)
    targets = evaluate(rows)
    print()
    print(table(rows))
    print()
    print(targets_text(targets))
    elapsed = time.monotonic() - started
    print(f"\n{len(results)} runs in {elapsed:.0f} s", file=sys.stderr)
    if not args.no_docs:
        chart = draw_chart(rows, args.png)
        meta = {
            "when": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "command": " ".join(["python -m bench", *(argv if argv is not None else sys.argv[1:])]),
            "cpus": str(os.cpu_count()),
            "cpu": _cpu_model(),
            "duration": f"{args.duration:g}",
            "jitter": f"{args.jitter * 100:.0f}%",
            "repeats": f"{args.repeat} runs per bot (1 from N={args.repeat_below})",
        }
        relative = os.path.relpath(chart, args.md.parent)
        write_docs(args.md, markdown(rows, targets, meta, relative))
        print(f"wrote {args.md} and {chart}", file=sys.stderr)
    if any(r.errors for r in results):
        return 1
    if args.strict and any(t.met is False for t in targets):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
