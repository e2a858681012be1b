"""When to poll a running prediction next: an ETA estimator and an adaptive interval.

Three sources of "when will it finish":

- the model's history: an EWMA of the durations already seen for that model (and for the
  same step and output counts) and of their spread, seeded at start from the jobs table, so
  a prediction is usually found done at the first or second look;
- the progress in the logs: progress p at age t gives a finish at ~ t/p, and two readings
  give a rate; a tqdm bar's N/M is read as N/M plus half a step;
- neither: poll quickly at first and more slowly as the job ages (a fraction of its age).
  When many jobs of a model with no history run at once (a cold start, a new model), only
  a few "scouts" do that; the rest wait, at most `max_interval`, for the first scout to
  finish and teach the model's duration (`Scouts`).

The history wins when there is one (it is specific and not coarse; its target is one spread
before the mean), else the logs, else the age. Until the target nothing is asked; after it
the job is "overdue" and polled at short, slowly growing intervals: polling a little early
costs one request, polling late costs the user's time. Every delay is capped by
`max_interval`, so a wrong estimate delays a result by at most that much.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.jobs.model import Job


@dataclass(frozen=True)
class PollPolicy:
    min_interval: float = 0.35  # quickest poll of a young job with no estimate yet
    overdue_interval: float = 0.25  # quickest poll of a job past its predicted finish
    max_interval: float = 5.0  # slowest poll, and the farthest an ETA may push the next one
    age_ratio: float = 0.2  # without an ETA, wait this fraction of the job's age
    overdue_ratio: float = 0.5  # past the ETA, wait this fraction of the time overdue
    finish_margin: float = 0.05  # poll this long after a finish predicted from the logs
    min_gap: float = 0.05  # never poll one prediction more often than this
    spread_factor: float = 1.0  # first look this many spreads before the model's usual finish
    min_progress: float = 0.05  # progress below this is too early to extrapolate from
    progress_trust: float = 0.5  # with no history, wait at most this fraction of the age
    error_backoff: float = 1.0  # wait after a failed poll, doubling per failure in a row
    error_backoff_cap: float = 30.0
    ewma_alpha: float = 0.3  # weight of the newest duration in the model's estimate
    # With no duration learned for a model, only this many of its running jobs poll on the
    # age schedule; the others wait (up to max_interval) for the first of them to finish.
    scouts: int = 4

    def scaled(self, factor: float) -> PollPolicy:
        """Every duration multiplied by `factor` (ratios unchanged): for tests and benches."""
        ratios = {
            "age_ratio",
            "overdue_ratio",
            "spread_factor",
            "min_progress",
            "progress_trust",
            "ewma_alpha",
            "scouts",
        }
        return replace(
            self,
            **{
                f.name: getattr(self, f.name) * factor for f in fields(self) if f.name not in ratios
            },
        )

    def overdue_target(self, estimate: ModelEstimate) -> float:
        """The age from which a job of this estimate may be done: a spread before its mean."""
        return estimate.duration - self.spread_factor * estimate.spread

    def error_delay(self, streak: int, retry_after: float | None = None) -> float:
        """Wait after the `streak`-th failed poll in a row; the server's Retry-After wins."""
        backoff = min(self.error_backoff_cap, self.error_backoff * 2 ** max(0, streak - 1))
        if retry_after is not None and retry_after > 0:
            return max(retry_after, self.min_gap)
        return max(backoff, self.min_gap)


@dataclass(frozen=True)
class ModelEstimate:
    duration: float  # EWMA of finished durations, seconds from create to finish
    spread: float  # EWMA of the absolute deviation from it
    samples: int


def estimate_key(job: Job) -> str:
    """Durations are learned per model, and per step and output count (they scale with both)."""
    parts = [job.model]
    for name in ("num_inference_steps", "num_outputs"):
        value = job.input.get(name)
        if value is not None:
            parts.append(f"{name}={value}")
    return "|".join(parts)


class DurationEstimator:
    """Per-model EWMA of how long predictions take (create to finish)."""

    def __init__(self, alpha: float = 0.3) -> None:
        self._alpha = alpha
        self._models: dict[str, ModelEstimate] = {}

    def observe(self, model: str, seconds: float) -> None:
        if seconds <= 0:
            return
        old = self._models.get(model)
        if old is None:
            self._models[model] = ModelEstimate(seconds, seconds * 0.05, 1)
            return
        a = self._alpha
        spread = (1 - a) * old.spread + a * abs(seconds - old.duration)
        duration = (1 - a) * old.duration + a * seconds
        self._models[model] = ModelEstimate(duration, spread, old.samples + 1)

    def get(self, model: str) -> ModelEstimate | None:
        return self._models.get(model)

    def snapshot(self) -> dict[str, ModelEstimate]:
        return dict(self._models)


# "2/4" as tqdm prints it (digits on both sides, so "it/s" never matches).
_FRACTION = re.compile(r"(?<![\d.])(\d+)\s*/\s*(\d+)(?![\d.])")


def progress_step(logs: str) -> float | None:
    """The size of one step of the last `N/M` bar in the logs (1/M), or None."""
    last = None
    for match in _FRACTION.finditer(logs):
        last = match
    if last is None or int(last.group(2)) <= 0:
        return None
    return 1 / int(last.group(2))


class ProgressTrack:
    """One prediction's progress readings, turned into a predicted finish time."""

    def __init__(self, min_progress: float = 0.05) -> None:
        self._min_progress = min_progress
        self._first: tuple[float, float] | None = None  # (elapsed, progress) of the first reading
        self._last: float | None = None
        self._eta: float | None = None

    @property
    def progress(self) -> float | None:
        """The last progress read from the logs (0..1), or None."""
        return self._last

    @property
    def eta(self) -> float | None:
        """The age (seconds since create) at which the logs say it finishes, or None."""
        return self._eta

    def update(
        self, elapsed: float, progress: float | None, step: float | None = None
    ) -> float | None:
        """Age (seconds since create) at which the logs say it will finish, or None.

        A bar that reads N/M has done N steps and part of the next one, so the reading is
        taken as N/M plus half a step. The estimate only changes when the progress advances:
        a stalled bar says nothing new, and the previous estimate (now overdue) stands.
        """
        if progress is None or elapsed <= 0 or progress >= 1.0:
            return self._eta
        if self._last is not None and progress <= self._last:
            return self._eta
        self._last = progress
        # 0/M says only that the first step began: it anchors the rate, it predicts nothing.
        mid = min(0.99, progress + (step or 0.0) / 2) if progress > 0 else 0.0
        if self._first is None:
            self._first = (elapsed, mid)
        if mid < self._min_progress:
            return self._eta
        estimates = [elapsed / mid]  # steady progress since the create
        first_t, first_p = self._first
        if mid > first_p and elapsed > first_t:  # the rate between two readings
            estimates.append(elapsed + (1 - mid) * (elapsed - first_t) / (mid - first_p))
        self._eta = min(estimates)
        return self._eta


def next_delay(
    policy: PollPolicy,
    *,
    elapsed: float,
    estimate: ModelEstimate | None = None,
    progress_eta: float | None = None,
) -> float:
    """Seconds to wait before the next poll of a prediction `elapsed` seconds old."""
    age_wait = min(policy.max_interval, max(policy.min_interval, elapsed * policy.age_ratio))
    target: float | None = None  # the age at which we expect it done
    if estimate is not None:
        # History first: it is specific (per model, step and output count) and not coarse
        # like a 4-step bar. Aim a little before the usual finish: a result found early costs
        # one request, a result found late costs the user's time.
        target = policy.overdue_target(estimate)
    elif progress_eta is not None:
        # Logs alone can be coarse: never wait longer than a fraction of the job's age on
        # their word.
        cap = elapsed + max(age_wait, elapsed * policy.progress_trust)
        target = min(progress_eta + policy.finish_margin, cap)
    if target is None:
        wait = age_wait
    elif elapsed < target:
        wait = target - elapsed
    else:  # overdue: look often, less and less often the longer it lasts
        overdue = (elapsed - target) * policy.overdue_ratio
        wait = max(policy.overdue_interval, min(age_wait, overdue))
    return min(policy.max_interval, max(policy.min_gap, wait))


class Scouts:
    """Per model with no learned duration, the few running jobs that look on the age schedule.

    A burst on a model the bot has not seen (a fresh database, a new model) has nothing to
    aim at: every job polled on the age schedule asks 8 times for a 3-second prediction, 200
    jobs 1,600 times. The jobs of one model take about as long as each other, so a few
    scouts are enough: the others wait, at most `PollPolicy.max_interval`, until the first
    scout finishes; its duration is learned and the waiting jobs are planned from it
    (`learned`). A scout that ends leaves room for the next job that looks.
    """

    def __init__(self, size: int) -> None:
        self._size = max(1, size)
        self._by_key: dict[str, list[int]] = {}

    def admits(self, key: str, job_id: int, alive: Callable[[int], bool]) -> bool:
        """True if the job is, or now becomes, one of the key's scouts."""
        scouts = self._by_key.setdefault(key, [])
        if job_id in scouts:
            return True
        scouts[:] = [s for s in scouts if alive(s)]
        if len(scouts) < self._size:
            scouts.append(job_id)
            return True
        return False

    def learned(self, key: str) -> bool:
        """The key's duration is known now; True if jobs were waiting on its scouts."""
        return self._by_key.pop(key, None) is not None
