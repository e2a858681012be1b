"""Forecast: when each job held here is expected to finish, for the events it emits.

Stateless: it reads the flights (`SchedulerState`), the learned durations and the clock, and
applies `bot.jobs.eta`. Dispatch asks it for the queued jobs (and for a job about to be
enqueued, which the pending message shows first), tracking for the running ones.

The line it sees is this process's: with several processes sharing the cap, another
process's predictions hold slots it does not count, so a queued estimate there is early.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from bot.jobs.eta import has_history, queue_finishes, running_left
from bot.jobs.polling import estimate_key

if TYPE_CHECKING:
    from bot.clock import Clock
    from bot.jobs.model import Job
    from bot.scheduler.config import SchedulerConfig
    from bot.scheduler.state import Flight, SchedulerState


class Forecast:
    def __init__(self, clock: Clock, config: SchedulerConfig, state: SchedulerState) -> None:
        self._clock = clock
        self._slots = config.max_concurrent
        self._state = state
        self._estimator = state.stats.estimator

    def running(self, flight: Flight) -> float | None:
        """Epoch seconds at which a job in flight should finish; None without history, or
        once it is late."""
        left = self._left(flight)
        if left is None or left <= 0:
            return None
        return self._clock.now() + left

    def line(self, jobs: Sequence[Job]) -> dict[int, float | None]:
        """Epoch estimates for queued jobs in line order (the first starts first).

        A job behind one without history, or behind a prediction in flight without it, has
        none either: its wait is unknown.
        """
        out: dict[int, float | None] = {job.id: None for job in jobs}
        if not jobs:
            return out
        flights = self._state.flights()
        running: list[float] = []
        if len(flights) + len(jobs) > self._slots:
            # Only when the line waits for slots do the predictions in flight matter: with
            # every slot busy, this walks each of them, so it is not done per event for free.
            for flight in flights:
                left = self._left(flight)
                if left is None:
                    return out
                running.append(left)
        durations: list[float] = []
        for job in jobs:
            estimate = self._estimator.get(estimate_key(job))
            if estimate is None or not has_history(estimate):
                break
            durations.append(estimate.duration)
        now = self._clock.now()
        finishes = queue_finishes(running, durations, self._slots)
        for job, finish in zip(jobs, finishes, strict=False):
            out[job.id] = now + finish
        return out

    def _left(self, flight: Flight) -> float | None:
        estimate = self._estimator.get(flight.key)
        elapsed = 0.0  # submitting, or not handed to the polling loop yet: it just began
        if self._state.is_polled(flight.job.id):
            elapsed = max(0.0, self._clock.monotonic() - flight.created_mono)
        return running_left(estimate, elapsed, flight.track.progress, flight.track.eta)
