"""`python -m bench`: the bot against a naive bot, end to end, under N simultaneous /imagine.

    .venv/bin/python -m bench                      # everything below; writes the docs
    .venv/bin/python -m bench --quick              # a short smoke run; prints only
    .venv/bin/python -m bench --n 200 --cold '' --mix '' --no-docs   # one N, warm only

For every N of --n (1, 50, 200, 1000) it runs the real bot (`python -m bot`), the naive
reference bot (`python -m bench.naive_bot`) and the real bot with `COMETAPI_PREFER_WAIT`;
for every N of --cold (20, 200, 1000) the bot and the naive bot cold (no warm-up jobs); for
every N of --mix (200, 1000) the bot and the naive bot on the realistic mix of models
(flux-schnell 1-2 s, flux-1.1-pro 4-8 s, flux-1.1-pro-ultra 10-20 s; member i asks for the
i-th in turn). Each run is a subprocess against a fresh fake Discord and fake CometAPI in
this process (bench/e2e.py); runs below --repeat-below are repeated (--repeat, bot and naive
alternating). It prints a table and the targets, and writes docs/benchmarks.md (the part
between its markers) and docs/benchmarks.png. Exit status: 1 if any run had an error (a lost
job, a request Discord would refuse, an unknown route), 0 otherwise; with --strict also 1 if
a target was missed.
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
from bench.e2e import ROOT, BotKind, RunOptions, RunResult, Scenario, run_scenario
from bench.report import evaluate, group, markdown, table, targets_text, write_docs
from tests.fakes.discord.spec import load_spec

BOTS: tuple[BotKind, ...] = ("bot", "naive")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__.splitlines()[0] if __doc__ else None
    )
    parser.add_argument("--n", default="1,50,200,1000", help="commands at once, comma-separated")
    parser.add_argument(
        "--cold",
        default="20,200,1000",
        help="N of the cold runs (bot and naive, no warm-up jobs), comma-separated; '' for none",
    )
    parser.add_argument(
        "--mix",
        default="200,1000",
        help="N of the realistic-mix runs (three models, 1-20 s), comma-separated; '' for none",
    )
    parser.add_argument(
        "--mix-scale",
        type=float,
        default=1.0,
        help="multiply the mix's durations by this (1: as published)",
    )
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
    parser.add_argument(
        "--quick", action="store_true", help="N=1,20 and a cold N=20, 1 s jobs, once; no docs"
    )
    parser.add_argument("--no-docs", action="store_true", help="print only; leave docs/ alone")
    parser.add_argument("--md", type=Path, default=ROOT / "docs" / "benchmarks.md")
    parser.add_argument("--png", type=Path, default=ROOT / "docs" / "benchmarks.png")
    parser.add_argument("--profile", type=Path, help="run each bot under cProfile into this dir")
    parser.add_argument("--keep", type=Path, help="keep each run's database and log here")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    if args.quick:
        args.n, args.duration, args.repeat, args.warmup = "1,20", 1.0, 1, 1
        args.cold, args.mix = "20", ""
        args.no_docs = True
    args.ns = _ns(args.n)
    args.cold_ns = _ns(args.cold)
    args.mix_ns = _ns(args.mix)
    return args


def _ns(text: str) -> list[int]:
    return [int(x) for x in str(text).split(",") if x.strip()]


def scenarios(args: argparse.Namespace) -> list[Scenario]:
    """Every run, in order: the warm runs of every N of --n (bot and naive alternating, then
    the Prefer: wait row), then the cold runs of --cold, then the mix runs of --mix."""
    # Long enough for any prediction to finish inside the create request (the API caps at 60).
    prefer_wait = min(60, math.ceil(args.duration * (1 + args.jitter)) + 2)
    out: list[Scenario] = []
    for n in args.ns:
        out += _pairs(args, n)
        if not args.no_prefer_wait:
            out.append(Scenario("bot", n, args.duration, args.jitter, prefer_wait=prefer_wait))
    for n in args.cold_ns:
        out += _pairs(args, n, cold=True)
    for n in args.mix_ns:
        out += _pairs(args, n, mix=True)
    return out


def _pairs(
    args: argparse.Namespace, n: int, *, cold: bool = False, mix: bool = False
) -> list[Scenario]:
    """The bot and the naive bot at N=`n`, repeated below --repeat-below, alternating."""
    repeats = 1 if n >= args.repeat_below else max(1, args.repeat)
    out: list[Scenario] = []
    for i in range(repeats):
        pair = [
            Scenario(
                bot,
                n,
                args.duration,
                args.jitter,
                seed=10 + i,
                cold=cold,
                mix=mix,
                mix_scale=args.mix_scale,
            )
            for bot in BOTS
        ]
        out += pair if i % 2 == 0 else pair[::-1]  # alternate, so drift favours neither
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
            "mix_scale": f"{args.mix_scale:g}",
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
