"""The memory benchmark end to end, tiny: the measured process delivers and reports its RSS."""

from __future__ import annotations

import asyncio

from bench.bench_memory import parse_args, report, serve_and_measure


async def test_a_small_burst_is_delivered_refitted_and_measured() -> None:
    """1 job x 2 outputs of 2 MP over a 0.5 MB upload limit: both re-encoded, RSS reported."""
    args = parse_args(["--jobs", "1", "--outputs", "2", "--megapixels", "2"])
    args.upload_limit_mb = 0.5
    result = await asyncio.wait_for(serve_and_measure(args), 60)
    assert result["succeeded"] == 1 and result["errors"] == []
    assert result["images"] == 2 and result["refit"] == 2
    assert 20 < result["peak_rss_mb"] < 1024
    line = report(result)
    assert line.startswith("bench_memory: 1 jobs x 2 outputs of 1414x1414") and "peak RSS" in line
