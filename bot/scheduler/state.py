"""What several collaborators share: the jobs held, their snapshots, flights and waiters.

`SchedulerState` is the one owner of these; collaborators change them only through its
methods, so each rule about them (what letting go of a job means, what a freed slot is) is
written once. It does no I/O and starts nothing.

- held jobs: every job this scheduler is responsible for right now, from the moment it is
  enqueued, recovered or taken over until it is settled (delivered, or its user told). Taken
  by the face (enqueue), recovery and cancel; let go by `Leases.settle`, dispatch (a job that
  changed before it could start) and a job task that died.
- snapshots: the latest row of each held job, which "queued" events carry.
- flights: the jobs taken out of the queue, submitting then running. Those in flight are
  what `max_concurrent` counts (dispatch grants them, `Dispatch.release_slot` frees them);
  those running are what the polling loop polls (tracking adds them; whoever ends a job
  first takes it out, so the loop leaves it alone).
- waiters of `wait_for_job`, woken when their job is let go.
- cancels requested by another process and being carried out here (cancel's watch loop).
- `changed`: set whenever something finished, for `wait_idle` and `stop`.
- `stats`: the counters every collaborator adds to.
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.jobs.model import JobStatus
from bot.jobs.polling import ProgressTrack, estimate_key

if TYPE_CHECKING:
    from bot.jobs.model import Job
    from bot.scheduler.config import SchedulerConfig
    from bot.scheduler.stats import SchedulerStats

# What a compare-and-set transition expects to find.
ONLY_QUEUED = frozenset({JobStatus.QUEUED})
ONLY_SUBMITTING = frozenset({JobStatus.SUBMITTING})
ONLY_RUNNING = frozenset({JobStatus.RUNNING})
ONLY_DELIVERING = frozenset({JobStatus.DELIVERING})
SUBMITTING_OR_RUNNING = frozenset({JobStatus.SUBMITTING, JobStatus.RUNNING})


@dataclass(eq=False)
class Flight:
    """A job the scheduler has taken out of the queue: submitting, then running."""

    job: Job
    track: ProgressTrack
    prediction_id: str | None = None
    created_mono: float = 0.0  # when the create answered (monotonic)
    deadline_mono: float = math.inf
    next_poll: float = 0.0
    poll_task: asyncio.Task[None] | None = None
    http: asyncio.Future[Any] | None = None  # the status query in flight, if any
    last_running_elapsed: float = 0.0  # age at the last answer that said "still running"
    emitted_progress: float | None = None
    emitted_eta: float | None = None  # the last estimate sent with an event
    error_streak: int = 0
    not_found_streak: int = 0
    closing: bool = False  # ending (finished, canceled, timed out): the loop leaves it alone
    cancel_requested: bool = False
    settled: asyncio.Event = field(default_factory=asyncio.Event)  # the create has answered
    # The job's `estimate_key`, made once: the polling loop and the forecast look its learned
    # duration up on every poll and every slot change.
    key: str = ""


def new_flight(job: Job, config: SchedulerConfig) -> Flight:
    return Flight(
        job=job,
        key=estimate_key(job),
        track=ProgressTrack(config.poll_policy.min_progress),
        prediction_id=job.prediction_id,
    )


class SchedulerState:
    def __init__(self, stats: SchedulerStats) -> None:
        self.stats = stats
        self.changed = asyncio.Event()  # something finished (for wait_idle and stop)
        self._held: set[int] = set()
        self._jobs: dict[int, Job] = {}  # latest snapshot of each held job
        self._inflight: dict[int, Flight] = {}  # submitting + running: what the cap counts
        self._running: dict[int, Flight] = {}  # what the polling loop polls
        self._waiters: dict[int, list[asyncio.Future[None]]] = {}
        self._canceling: set[int] = set()  # cancels requested elsewhere, being carried out

    # -- held jobs -----------------------------------------------------------------------

    def hold(self, job: Job) -> None:
        self._held.add(job.id)
        self._jobs[job.id] = job

    def keep(self, job_id: int) -> None:
        """Hold a job again (a cancel about to announce it) without a new snapshot."""
        self._held.add(job_id)

    def holds(self, job_id: int) -> bool:
        return job_id in self._held

    def holds_any(self) -> bool:
        return bool(self._held)

    def held(self) -> set[int]:
        """A copy of the held job ids."""
        return set(self._held)

    def record(self, job: Job) -> None:
        """The job's latest row, for the events that carry it."""
        self._jobs[job.id] = job

    def snapshot(self, job_id: int) -> Job | None:
        return self._jobs.get(job_id)

    def let_go(self, job_id: int) -> bool:
        """This scheduler is done with the job: wake whoever waits for it.

        True if it was held (the caller then releases its lease, where it should).
        """
        was_held = job_id in self._held
        self._held.discard(job_id)
        self._jobs.pop(job_id, None)
        self._canceling.discard(job_id)
        for future in self._waiters.pop(job_id, []):
            if not future.done():
                future.set_result(None)
        self.changed.set()
        return was_held

    # -- waiters -------------------------------------------------------------------------

    def waiter(self, job_id: int) -> asyncio.Future[None]:
        """A future resolved when the job is let go."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(job_id, []).append(future)
        return future

    def drop_waiters(self) -> None:
        for futures in self._waiters.values():
            for future in futures:
                future.cancel()
        self._waiters.clear()

    # -- cancels requested elsewhere -----------------------------------------------------

    def begin_remote_cancel(self, job_id: int) -> bool:
        """Mark a requested cancel as being carried out; False if it already is."""
        if job_id in self._canceling:
            return False
        self._canceling.add(job_id)
        return True

    def end_remote_cancel(self, job_id: int) -> None:
        self._canceling.discard(job_id)

    # -- flights -------------------------------------------------------------------------

    def in_flight(self) -> int:
        return len(self._inflight)

    def flight(self, job_id: int) -> Flight | None:
        return self._inflight.get(job_id)

    def flights(self) -> list[Flight]:
        """Every job in flight (submitting or running): what holds the cap's slots."""
        return list(self._inflight.values())

    def is_polled(self, job_id: int) -> bool:
        """The job runs and the polling loop has it (its age is known)."""
        return job_id in self._running

    def add_flight(self, flight: Flight) -> None:
        """Count a job under the cap (submitting, or running but not polled yet)."""
        self._inflight[flight.job.id] = flight

    def poll(self, flight: Flight) -> None:
        """Count a running job under the cap and hand it to the polling loop."""
        self._inflight[flight.job.id] = flight
        self._running[flight.job.id] = flight

    def running(self) -> list[Flight]:
        return list(self._running.values())

    def stop_polling(self, job_id: int) -> None:
        self._running.pop(job_id, None)

    def end_flight(self, job_id: int) -> bool:
        """The job no longer holds a slot; True if it did (the dispatcher then looks again)."""
        self._running.pop(job_id, None)
        freed = self._inflight.pop(job_id, None) is not None
        self.changed.set()
        return freed
