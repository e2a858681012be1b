"""The scale-out benchmark end to end, tiny: two bot processes on PostgreSQL, every job once."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.scaleout import HEADER, run_setup
from tests.backends import pg_available, pg_skip_reason


@pytest.mark.skipif(not pg_available(), reason=pg_skip_reason())
async def test_two_processes_report_throughput_without_errors(tmp_path: Path) -> None:
    """Six jobs over two processes: all delivered once, the cap held, every figure filled in."""
    result = await run_setup(
        "postgresql-2", jobs=6, cap=3, duration=0.4, jitter=0.1, folder=tmp_path, settle=0.1
    )
    assert result.errors == []
    assert len(result.overheads) == 6 and result.wall > 0
    assert 0 < result.throughput <= result.ceiling * 1.5
    assert result.peak_running <= 3 and len(result.cpu_seconds) == 2
    assert result.row().count("|") == HEADER.splitlines()[0].count("|")
