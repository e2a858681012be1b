"""When a job's image is expected: the estimate the pending message shows as `<t:ETA:R>`.

Honest by construction (docs/decisions/023-eta-and-spoilers.md):

- **History or nothing.** A model key (`estimate_key`: the model, and the step and output
  counts, since durations scale with both) with fewer than `MIN_HISTORY` finished jobs has no
  estimate, and neither has a queued job behind one. The scheduler learns durations from
  every prediction it finishes and seeds them from the jobs table at start.
- **Running:** the model's learned duration (create to finish), blended with the finish the
  progress in the logs points to as the progress grows (at 0 % all history, at 100 % all
  logs). A job past its expected finish has no estimate any more (it is late; a moving "in 1
  second" would be a guess).
- **Queued:** the jobs ahead start in their line order on the slots of the global cap as the
  running ones free them (list scheduling of the expected durations, `queue_finish`); the job
  finishes its own expected duration after it starts.
- **Refresh:** a shown estimate is replaced only when the new one differs by more than
  `REFRESH_RATIO` of the time it had left (`moved`), within the presenter's edit interval.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence

from bot.jobs.polling import ModelEstimate

# Finished jobs of a model key before its estimate is shown: "no history, no estimate".
# One is enough on the fake's duration mixes (bench.bench_eta: the median error with 1-2
# finished jobs is already within the target, docs/benchmarks.md), and the learned average
# moves with every finished job after it.
MIN_HISTORY = 1
REFRESH_RATIO = 0.2
# A shown estimate this close (or past) counts this much as its time left, so a change of
# a fraction of a second near the end does not cost an edit each poll.
_MIN_LEFT = 1.0


def has_history(estimate: ModelEstimate | None) -> bool:
    return estimate is not None and estimate.samples >= MIN_HISTORY


def expected_total(
    estimate: ModelEstimate, progress: float | None = None, progress_eta: float | None = None
) -> float:
    """Expected create-to-finish seconds of a running prediction.

    The logs' word (`progress_eta`, the age at which they say it finishes) counts in
    proportion to the progress: a 1/4 bar is coarse, a 3/4 bar knows more than the average.
    """
    total = estimate.duration
    if progress is not None and progress_eta is not None and progress > 0:
        weight = min(1.0, progress)
        total = (1 - weight) * total + weight * progress_eta
    return total


def running_left(
    estimate: ModelEstimate | None,
    elapsed: float,
    progress: float | None = None,
    progress_eta: float | None = None,
) -> float | None:
    """Seconds until a running prediction `elapsed` seconds old finishes (negative: late);
    None without history."""
    if estimate is None or not has_history(estimate):
        return None
    return expected_total(estimate, progress, progress_eta) - elapsed


def queue_finishes(running: Sequence[float], durations: Sequence[float], slots: int) -> list[float]:
    """Seconds until each queued job finishes, in line order.

    `running`: seconds left of each prediction in flight (a late one counts 0); `durations`:
    the expected durations of the queued jobs in line order; `slots`: the cap on predictions
    in flight. Each job starts on the slot that frees first (list scheduling); one pass,
    O(n log n) in the queued jobs: n jobs can only ever use the n slots that free first.
    """
    wanted = len(durations)
    idle = min(wanted, max(0, slots - len(running)))
    free = [0.0] * idle + heapq.nsmallest(wanted - idle, (max(0.0, left) for left in running))
    heapq.heapify(free)
    finishes = []
    for duration in durations:
        finish = heapq.heappop(free) + duration
        finishes.append(finish)
        heapq.heappush(free, finish)
    return finishes


def moved(shown: float | None, new: float | None, now: float) -> bool:
    """Whether `new` should replace the `shown` estimate (epoch seconds; None: none shown)."""
    if shown is None or new is None:
        return shown != new
    left = max(shown - now, _MIN_LEFT)
    return abs(new - shown) > REFRESH_RATIO * left


__all__ = [
    "MIN_HISTORY",
    "REFRESH_RATIO",
    "expected_total",
    "has_history",
    "moved",
    "queue_finishes",
    "running_left",
]
