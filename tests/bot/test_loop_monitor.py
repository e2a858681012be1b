"""LoopMonitor: measures how late the event loop wakes a sleeper, warns on stalls, summarizes."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest

from bot.loop_monitor import LoopMonitor


class ScriptedClock:
    """Each sleep takes the asked time plus the next scripted lag; then it waits for good."""

    def __init__(self, lags: list[float]) -> None:
        self.t = 100.0
        self.lags = list(lags)
        self.exhausted = asyncio.Event()

    def now(self) -> float:
        return self.t

    def monotonic(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        if not self.lags:
            self.exhausted.set()
            await asyncio.Event().wait()
        self.t += seconds + self.lags.pop(0)
        await asyncio.sleep(0)


async def _run(monitor: LoopMonitor, clock: ScriptedClock) -> None:
    monitor.start()
    await asyncio.wait_for(clock.exhausted.wait(), 5)
    await monitor.stop()


async def test_keeps_the_worst_lag_and_warns_only_above_the_threshold(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The max of every sample is kept; only lags over warn_after log a WARNING."""
    clock = ScriptedClock([0.001, 0.3, 0.02, 0.25, 0.004])
    monitor = LoopMonitor(interval=0.05, warn_after=0.25, clock=clock)
    with caplog.at_level(logging.DEBUG, logger="bot.loop_monitor"):
        await _run(monitor, clock)
    assert monitor.samples == 5
    assert monitor.max_lag == pytest.approx(0.3)
    assert monitor.stalls == 1
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "300ms" in warnings[0].getMessage()


async def test_stop_logs_the_summary_line_once_at_info(caplog: pytest.LogCaptureFixture) -> None:
    """Stopping logs `loop-lag max=XXms` at INFO, and a second stop does not repeat it."""
    clock = ScriptedClock([0.0123, 0.0456])
    monitor = LoopMonitor(clock=clock)
    with caplog.at_level(logging.INFO, logger="bot.loop_monitor"):
        await _run(monitor, clock)
        await monitor.stop()
    lines = [r.getMessage() for r in caplog.records if "loop-lag" in r.getMessage()]
    assert len(lines) == 1
    assert lines[0].startswith("loop-lag max=46ms")
    assert caplog.records[-1].levelno == logging.INFO
    assert not monitor.running


async def test_reports_at_debug_every_period(caplog: pytest.LogCaptureFixture) -> None:
    """A DEBUG line carries the max so far and the window's max every report_every seconds."""
    # 0.05 s sleeps with no lag: 1 s of clock time every 20 samples; 60 samples = 3 reports.
    clock = ScriptedClock([0.0] * 19 + [0.08] + [0.0] * 40)
    monitor = LoopMonitor(interval=0.05, report_every=1.0, clock=clock)
    with caplog.at_level(logging.DEBUG, logger="bot.loop_monitor"):
        await _run(monitor, clock)
    debug = [r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG]
    assert len(debug) >= 2
    assert debug[0].startswith("loop-lag max=80ms")
    assert debug[-1].endswith(": 0ms)")  # the window after the stall was clean


async def test_a_real_blocking_call_shows_up_as_lag() -> None:
    """On the real clock, code that blocks the loop for 120 ms is measured as a stall."""
    monitor = LoopMonitor(interval=0.01)
    monitor.start()
    await asyncio.sleep(0.03)
    time.sleep(0.12)  # holds the event loop, as a slow synchronous call would
    await asyncio.sleep(0.03)
    await monitor.stop()
    assert monitor.max_lag >= 0.09
    assert monitor.samples >= 2


async def test_stop_without_start_still_summarizes(caplog: pytest.LogCaptureFixture) -> None:
    """A bot that stops before its setup finished still logs a (zero) summary, no error."""
    monitor = LoopMonitor()
    with caplog.at_level(logging.INFO, logger="bot.loop_monitor"):
        await monitor.stop()
    assert any(r.getMessage().startswith("loop-lag max=0ms") for r in caplog.records)
