"""bench.bench_eta, small: the pending message's estimate is within the issue's target."""

from __future__ import annotations

import statistics

from bench.bench_eta import TARGET, WARM, errors, parse_args, report, run


async def test_the_first_estimate_shown_is_within_a_quarter_once_warm() -> None:
    """Two duration mixes (1-2 s, 4-8 s), 20 jobs each: median error under 25 % at 10 finished."""
    args = parse_args(["--per-model", "20", "--mix", "1-2,4-8", "--gap", "1.2", "--speed", "20"])
    result = await run(args)
    warm = errors(result, "first", WARM)
    assert len(warm) >= 10
    assert statistics.median(warm) < TARGET, "\n".join(report(result))
    started = errors(result, "start", WARM)
    assert started and statistics.median(started) < TARGET, "\n".join(report(result))
