"""Event-loop lag: how late a short sleep wakes up, which is the loop's own measure of a stall.

Every coroutine in the bot shares one event loop, so anything that holds it (a slow parse, a
blocking call, a burst of work with no await in between) delays every other job and every
acknowledgement. This monitor sleeps `interval` seconds over and over and compares the time
it actually slept with the time it asked for: the difference is the lag. It keeps the
maximum, logs a WARNING for each stall over `warn_after`, a DEBUG line every `report_every`
seconds, and an INFO summary `loop-lag max=XXms` when it stops (the benchmark reads that line).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from bot.clock import Clock, SystemClock

log = logging.getLogger(__name__)


class LoopMonitor:
    def __init__(
        self,
        *,
        interval: float = 0.05,
        warn_after: float = 0.25,
        report_every: float = 60.0,
        clock: Clock | None = None,
        logger: logging.Logger | None = None,
    ) -> None:
        self.interval = interval
        self.warn_after = warn_after
        self.report_every = report_every
        self._clock: Clock = clock or SystemClock()
        self._log = logger or log
        self.max_lag = 0.0  # seconds, over the monitor's whole life
        self.samples = 0
        self.stalls = 0  # lags over warn_after
        self._window_max = 0.0  # since the last periodic report
        self._task: asyncio.Task[None] | None = None
        self._summarized = False

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        """Start measuring on the running loop (a second call does nothing)."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="loop-monitor")

    async def stop(self) -> None:
        """Stop measuring and log the summary once at INFO."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if not self._summarized:
            self._summarized = True
            self._log.info("%s", self.summary())

    def summary(self) -> str:
        return (
            f"loop-lag max={self.max_lag * 1000:.0f}ms "
            f"({self.samples} samples, {self.stalls} over {self.warn_after * 1000:.0f}ms)"
        )

    def record(self, lag: float) -> None:
        """Take one measurement (seconds late); public so a caller can feed its own."""
        lag = max(0.0, lag)
        self.samples += 1
        self.max_lag = max(self.max_lag, lag)
        self._window_max = max(self._window_max, lag)
        if lag > self.warn_after:
            self.stalls += 1
            self._log.warning(
                "event loop stalled for %.0fms (something ran without awaiting)", lag * 1000
            )

    async def _run(self) -> None:
        clock = self._clock
        reported = clock.monotonic()
        while True:
            before = clock.monotonic()
            await clock.sleep(self.interval)
            after = clock.monotonic()
            self.record(after - before - self.interval)
            if after - reported >= self.report_every:
                reported = after
                self._log.debug(
                    "loop-lag max=%.0fms (last %.0fs: %.0fms)",
                    self.max_lag * 1000,
                    self.report_every,
                    self._window_max * 1000,
                )
                self._window_max = 0.0


__all__ = ["LoopMonitor"]
