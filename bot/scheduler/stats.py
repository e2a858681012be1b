"""SchedulerStats: counters for tests and benchmarks, and the learned duration estimates."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.jobs.polling import DurationEstimator, ModelEstimate

_POLLS_KEPT = 10_000  # per-job poll counts kept in SchedulerStats


@dataclass
class SchedulerStats:
    """Counters for tests and benchmarks."""

    estimator: DurationEstimator
    polls: int = 0
    poll_errors: int = 0
    creates: int = 0
    deliveries: int = 0
    takeovers: int = 0  # jobs taken over from a process whose lease lapsed
    lost_leases: int = 0  # jobs another process took from this one
    slot_waits: int = 0  # slot claims refused because other processes' jobs held the slots
    polls_by_job: dict[int, int] = field(default_factory=dict)

    def estimates(self) -> dict[str, ModelEstimate]:
        """Per-model duration estimates (EWMA of finished durations)."""
        return self.estimator.snapshot()

    def count_poll(self, job_id: int) -> None:
        self.polls += 1
        self.polls_by_job[job_id] = self.polls_by_job.get(job_id, 0) + 1
        if len(self.polls_by_job) > _POLLS_KEPT:  # a long-lived bot: keep the newest jobs
            del self.polls_by_job[next(iter(self.polls_by_job))]
