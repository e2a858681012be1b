"""What the scheduler is built from: its tuning (SchedulerConfig) and what it drives (Ports)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.jobs.polling import PollPolicy

if TYPE_CHECKING:
    from bot.clock import Clock
    from bot.cometapi import PredictionClient
    from bot.jobs.events import JobPresenter
    from bot.storage.job_leases import JobLeases
    from bot.storage.jobs import JobStore


@dataclass(frozen=True)
class Ports:
    """The outside world the scheduler drives: the jobs table, the prediction API, the
    Discord layer and time.

    Fixed at construction and never changed, so it is not shared state: every collaborator
    takes it whole, and its constructor then names only the collaborators it works with.
    """

    store: JobStore
    owners: JobLeases  # who works on which job (leases, slots, cancels from elsewhere)
    client: PredictionClient
    presenter: JobPresenter
    clock: Clock


@dataclass(frozen=True, kw_only=True)
class SchedulerConfig:
    """How the scheduler runs its jobs; times in seconds of the scheduler's clock.

    `max_concurrent` caps predictions in flight (submitting + running) for the whole bot;
    `job_timeout` is a job's deadline from its submission.

    `lease_seconds` None: one process, leases without expiry (no renewals, no takeovers).
    With `lease_seconds`: leases renewed every lease/3, lapsed ones taken over at the same
    pace; `sole_owner` (no other process can share the database, e.g. SQLite) takes every
    unfinished job at start whatever its lease, instead of waiting for it to lapse.
    Every `sync_interval` the owner looks for cancels requested elsewhere; a queued job
    refused a slot because other processes hold them asks again every
    `slot_retry_interval`; `cancel()` of another process's running job waits up to
    `remote_cancel_wait` for the owner to carry it out.
    """

    max_concurrent: int
    job_timeout: float
    owner_id: str = "local"
    poll_request_timeout: float = 30
    delivery_retries: int = 5
    lease_seconds: float | None = None
    poll_policy: PollPolicy = field(default_factory=PollPolicy)
    retry_backoff: float = 1.0
    retry_backoff_cap: float = 30.0
    stop_grace: float = 5.0
    download_timeout: float = 60
    event_timeout: float = 30  # a stuck listener must not hold the others
    sole_owner: bool = False
    sync_interval: float = 1.0
    slot_retry_interval: float = 0.1
    remote_cancel_wait: float = 10.0

    def __post_init__(self) -> None:
        if self.max_concurrent < 1:
            raise ValueError("max_concurrent must be at least 1")
        # A negative count of retries means none (frozen: set through object).
        object.__setattr__(self, "delivery_retries", max(0, self.delivery_retries))

    def retry_delay(self, attempt: int) -> float:
        """The wait before retry `attempt` (1-based) of a delivery or a notification."""
        return min(self.retry_backoff_cap, self.retry_backoff * 2 ** max(0, attempt - 1))

    def lease_until(self, now: float) -> float | None:
        """When a lease taken or renewed at `now` ends; None: it never expires."""
        return None if self.lease_seconds is None else now + self.lease_seconds
