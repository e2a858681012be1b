"""JobScheduler: owns every accepted job from the queue to the user's notification.

One scheduler per process (docs/decisions/006-one-scheduler.md):

- a fair queue (round-robin across servers, then their members) feeding at most
  `max_concurrent` predictions in flight (submitting + running) for the whole bot;
- one polling loop for every running prediction, one short task per HTTP request, polls
  aimed at the predicted finish;
- delivery: outputs downloaded at once and concurrently, handed to the presenter, retried
  (without downloading again) on transient trouble.

Several processes may share the database (docs/decisions/011-work-sharing.md): every job
held is leased, the cap is counted in the database, a lapsed lease is taken over, and a
cancel for another process's job reaches its owner.

This class is the face: the public API, and the wiring of the collaborators that do the work,
each owning its own state:

- `Dispatch` (dispatch.py): the line, slot claims under the cap, queue positions;
- `Tracking` (tracking.py): the create, the polling loop, deadlines;
- `Delivery` (delivery.py): downloads, delivery, ending a job and telling its user;
- `Canceler` (cancel.py): every cancel path, and cancels requested by another process;
- `Leases` (leases.py) and `Recovery` (recovery.py): who works on a job; taking over jobs at
  start and from dead processes, and resuming each from its stored state;
- `Supervisor` (supervisor.py): every task, HTTP call and write, critical sections, stop;
- `SchedulerState` (state.py): what several of them share; `EventPump` (pump.py): events.

Durability. Every status change is one compare-and-set `JobStore.transition`, written before
the scheduler acts on it, so a cancel and a poll never both win and a restart resumes from
the last written state (`start()` recovers every unfinished job). The two steps with an
effect outside the process (creating a prediction, telling the user) run as critical sections
that `stop()` lets finish; database writes cannot be cut in half.

Error kinds stored on a job that ended without a result (the Discord layer picks the sentence):
a refused create gives the client error's kind (invalid_input, auth, no_credit, forbidden,
model_unavailable, rate_limited, provider, network, unexpected; "internal" for a bug); a
failed prediction "safety" or "prediction_failed"; "not_found" when the API lost it;
"download"; the presenter's DeliveryError kinds; "interrupted" (restart during a create);
canceled jobs "canceled", "canceled_provider_may_finish" or "canceled_by_provider";
"timed_out"; "expired".
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from bot.clock import Clock, SystemClock
from bot.jobs.events import CancelResult, EventListener, JobPresenter
from bot.jobs.model import Job, JobStatus
from bot.jobs.polling import DurationEstimator
from bot.scheduler.cancel import Canceler
from bot.scheduler.config import Ports, SchedulerConfig
from bot.scheduler.delivery import Delivery
from bot.scheduler.dispatch import Dispatch
from bot.scheduler.leases import Leases
from bot.scheduler.pump import EventPump
from bot.scheduler.recovery import Recovery
from bot.scheduler.state import SchedulerState
from bot.scheduler.stats import SchedulerStats
from bot.scheduler.supervisor import Supervisor
from bot.scheduler.tracking import Tracking
from bot.storage.job_leases import JobLeases

if TYPE_CHECKING:
    from bot.cometapi import PredictionClient
    from bot.storage.jobs import JobStore

log = logging.getLogger(__name__)


class JobScheduler:
    def __init__(
        self,
        *,
        store: JobStore,
        client: PredictionClient,
        presenter: JobPresenter,
        config: SchedulerConfig,
        clock: Clock | None = None,
    ) -> None:
        self._store = store
        self._config = config
        self.stats = SchedulerStats(DurationEstimator(config.poll_policy.ewma_alpha))
        self._state = SchedulerState(self.stats)
        clock = clock or SystemClock()
        self._supervisor = Supervisor(
            stop_grace=config.stop_grace,
            changed=self._state.changed,
            on_job_failed=self._job_task_failed,
            write_retries=config.delivery_retries,
            retry_delay=config.retry_delay,
            sleep=clock.sleep,
        )
        self._pump = EventPump(presenter, config.event_timeout)

        ports = Ports(store, JobLeases(store), client, presenter, clock)
        self._dispatch = Dispatch(
            ports,
            config,
            self._state,
            self._supervisor,
            self._pump,
            # Tracking and delivery are built below: they need dispatch (to free slots) as
            # much as it needs them, so it reaches them through these two callbacks.
            start=lambda flight: self._tracking.submit(flight),
            announce=lambda job: self._delivery.announce_end(job),
        )
        self._leases = Leases(ports, config, self._state, self._supervisor, self._dispatch)
        self._delivery = Delivery(
            ports, config, self._state, self._supervisor, self._pump, self._leases
        )
        self._tracking = Tracking(
            ports,
            config,
            self._state,
            self._supervisor,
            self._pump,
            self._dispatch,
            self._delivery,
            self._leases,
        )
        self._recovery = Recovery(
            ports,
            config,
            self._state,
            self._supervisor,
            self._dispatch,
            self._leases,
            self._tracking,
            self._delivery,
        )
        self._canceler = Canceler(
            ports,
            config,
            self._state,
            self._supervisor,
            self._dispatch,
            self._leases,
            self._delivery,
            self._recovery,
        )
        self._stop_done: asyncio.Event | None = None

    # -- public API ----------------------------------------------------------------------

    async def start(self) -> None:
        """Recover every unfinished job, then run the polling loop."""
        if self._supervisor.started:
            return
        self._supervisor.mark_started()
        self._pump.start()
        await self._recovery.learn_durations()
        await self._recovery.recover()
        self._supervisor.start_service(self._tracking.poll_loop(), "jobs-poll-loop")
        self._supervisor.start_service(self._dispatch.loop(), "jobs-dispatch")
        if self._config.lease_seconds:
            self._supervisor.start_service(
                self._leases.loop(self._recovery.take_over_lapsed), "jobs-leases"
            )
            self._supervisor.start_service(self._canceler.watch_loop(), "jobs-cancel-watch")
        await self._dispatch.fill_slots()
        self._dispatch.emit_positions()

    async def stop(self) -> None:
        """Cancel in-flight HTTP, let critical steps finish, leave the database consistent."""
        if self._stop_done is not None:
            await self._stop_done.wait()
            return
        self._stop_done = asyncio.Event()
        try:
            await self._shutdown()
        finally:
            self._stop_done.set()

    async def enqueue(self, job: Job) -> int:
        """Take a job already written as `queued`; returns its position (0: started at once)."""
        if job.status is not JobStatus.QUEUED:
            raise ValueError(f"job {job.id} is {job.status.value}, not queued")
        if self._state.holds(job.id):
            return self._dispatch.positions().get(job.id, 0)
        if not await self._leases.claim(job):
            log.warning("job %d is held by another process; not queued here", job.id)
            return 0
        self._state.hold(job)
        return await self._dispatch.enqueue(job)

    def position(self, job_id: int) -> int | None:
        return self._dispatch.positions().get(job_id)

    def queue_positions(self) -> dict[int, int]:
        return self._dispatch.positions()

    def forecast(self, job: Job) -> float | None:
        """When a job about to be enqueued is expected to finish (epoch seconds), for its
        first pending message; None without an honest estimate (`bot.jobs.eta`)."""
        return self._dispatch.forecast(job)

    async def cancel(self, job_id: int, *, by_user_id: int) -> CancelResult:
        """Cancel for the requester or a moderator (the Discord layer checks who may).

        A job another process runs: taken over when its owner is gone, else the cancel is
        recorded for the owner, and this waits (up to `remote_cancel_wait`) for the outcome;
        CANCELED_REMOTE when the owner has not acted by then (it will: the request is stored).
        """
        return await self._canceler.cancel(job_id, by_user_id=by_user_id)

    def subscribe(self, listener: EventListener) -> Callable[[], None]:
        """Add a listener for every event; returns the function that removes it."""
        return self._pump.subscribe(listener)

    async def wait_for_job(self, job_id: int) -> Job:
        """Return the job once this scheduler is done with it (delivered or user told)."""
        if self._state.holds(job_id):
            await self._state.waiter(job_id)
        job = await self._store.get(job_id)
        if job is None:
            raise LookupError(f"no job {job_id}")
        return job

    async def wait_idle(self) -> None:
        """Return once no job is held, no work task runs, and every event was handed out."""
        while True:
            if not self._state.holds_any() and not self._supervisor.busy:
                await self._pump.join()
                if not self._state.holds_any() and not self._supervisor.busy:
                    return
                continue
            self._state.changed.clear()
            await self._state.changed.wait()

    @property
    def max_concurrent(self) -> int:
        """The cap on predictions in flight (for the whole bot)."""
        return self._config.max_concurrent

    @property
    def in_flight(self) -> int:
        """Predictions submitting or running right now (what max_concurrent caps)."""
        return self._state.in_flight()

    # -- wiring --------------------------------------------------------------------------

    def _job_task_failed(self, job_id: int) -> None:
        """A job's task died on a bug or a database failure: free its slot, let it go.

        Its lease is kept, unrenewed, so the job is taken over (retried) only once it lapsed.
        """
        self._dispatch.release_slot(job_id)
        self._state.let_go(job_id)

    async def _shutdown(self) -> None:
        # Tasks and writes first (a critical step may still emit events and settle jobs), then
        # the events, then whoever still waits, and last the leases, once nothing runs here.
        await self._supervisor.shutdown()
        await self._pump.stop()
        self._state.drop_waiters()
        await self._leases.expire_all()
