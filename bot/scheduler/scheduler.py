"""JobScheduler: owns every accepted job from the queue to the user's notification.

One scheduler per process (docs/decisions/006-one-scheduler.md):

- a fair queue (round-robin across users) feeding at most `max_concurrent` predictions in
  flight (submitting + running) for the whole bot;
- one polling loop for every running prediction. It keeps each prediction's next poll time
  and deadline, and starts one short task per HTTP request, so a slow or hanging answer
  never holds back another job. When to poll comes from `bot.jobs.polling` (ETA from the
  model's past durations and from the progress in the logs, else an interval that grows
  with the job's age);
- delivery: outputs downloaded at once and concurrently, handed to the presenter, retried
  (without downloading again) on transient trouble.

Durability. Every status change is one compare-and-set `JobStore.transition`, written before
the scheduler acts on it, so a cancel and a poll never both win and a restart resumes from
the last written state (`start()` recovers every unfinished job). Two steps have an effect
outside the process that the database must not miss: creating a prediction (its id is
written right after) and telling the user (the terminal status and `notified` are written
right after). Those run as "critical sections": `stop()` lets them finish for up to
`stop_grace` seconds instead of cutting them in half. Database writes themselves are shielded
from cancellation, so nothing is ever half-written.

Recovery rules, chosen where a choice was needed:

- `submitting` without a prediction id: the create may or may not have reached the provider.
  Creating again could run (and bill) it twice, so the job ends `failed` with error_kind
  "interrupted" and the user is told. With a prediction id, it is simply running.
- `delivering`: the prediction is read again for fresh output URLs; outputs gone
  (`data_removed`, 404) end the job `expired`.
- A create that may have arrived but got no answer (NetworkError with may_have_arrived) is
  never repeated: the job ends `failed` with error_kind "network" (we have no id to poll).
- Users are told once: a success is written with notified=1 in the same transition that
  records the delivery; a failure's notification sets notified=1 right after
  `presenter.finish` returns. Only a crash between Discord accepting the message and that
  write can repeat it, and then the presenter edits the same pending message again.

Several processes (docs/decisions/011-work-sharing.md). With `lease_seconds`, every job this
scheduler holds is leased to its `owner_id` in the database and renewed every third of the
lease; a job whose lease lapsed (its process died) is taken over by any live process and
resumed exactly as a restart would resume it. A slot under the global cap is taken in the
database (`JobStore.claim_slot`), so `max_concurrent` holds across every process. A cancel for
a job another process runs is recorded (`cancel_requested_at`) and carried out by the owner.
A scheduler that finds one of its jobs leased to someone else stops working on it.

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
from bot.jobs.events import (
    CancelResult,
    EventListener,
    JobPresenter,
)
from bot.jobs.model import Job, JobStatus
from bot.jobs.polling import DurationEstimator
from bot.scheduler.cancel import Canceler
from bot.scheduler.config import Ports, SchedulerConfig
from bot.scheduler.delivery import Delivery
from bot.scheduler.dispatch import Dispatch
from bot.scheduler.leases import Leases
from bot.scheduler.pump import EventPump
from bot.scheduler.recovery import Recovery
from bot.scheduler.state import (
    SchedulerState,
)
from bot.scheduler.stats import SchedulerStats
from bot.scheduler.supervisor import Supervisor
from bot.scheduler.tracking import Tracking

if TYPE_CHECKING:
    from bot.cometapi import PredictionClient
    from bot.storage.jobs import JobStore

log = logging.getLogger(__name__)

# Consecutive 404s on a status query before a running prediction is declared lost: a gateway
# may answer 404 for a moment right after the create.
_NOT_FOUND_LIMIT = 3


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
        self._client = client
        self._presenter = presenter
        self._config = config
        self._max_concurrent = config.max_concurrent
        self._job_timeout = config.job_timeout
        self._clock: Clock = clock or SystemClock()
        self._owner_id = config.owner_id
        self._poll_request_timeout = config.poll_request_timeout
        self._delivery_retries = config.delivery_retries
        self._lease_seconds = config.lease_seconds
        self._policy = config.poll_policy
        self._stop_grace = config.stop_grace
        self._download_timeout = config.download_timeout
        self._event_timeout = config.event_timeout
        self._sole_owner = config.sole_owner
        self._sync_interval = config.sync_interval
        self._slot_retry_interval = config.slot_retry_interval
        self._remote_cancel_wait = config.remote_cancel_wait
        self._estimator = DurationEstimator(self._policy.ewma_alpha)
        self.stats = SchedulerStats(self._estimator)
        self._state = SchedulerState(self.stats)
        self._supervisor = Supervisor(
            stop_grace=config.stop_grace,
            changed=self._state.changed,
            on_job_failed=self._job_task_failed,
        )
        self._pump = EventPump(presenter, config.event_timeout)

        ports = Ports(store, client, presenter, self._clock)
        self._dispatch = Dispatch(
            ports,
            config,
            self._state,
            self._supervisor,
            self._pump,
            start=lambda flight: self._tracking.submit(flight),
            # Built below: they need dispatch (to free slots) as much as it needs them.
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
        if self._lease_seconds:
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
        if not await self._leases.claim(job.id):
            log.warning("job %d is held by another process; not queued here", job.id)
            return 0
        self._state.hold(job)
        return await self._dispatch.enqueue(job)

    def position(self, job_id: int) -> int | None:
        return self._dispatch.positions().get(job_id)

    def queue_positions(self) -> dict[int, int]:
        return self._dispatch.positions()

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
        return self._max_concurrent

    @property
    def in_flight(self) -> int:
        """Predictions submitting or running right now (what max_concurrent caps)."""
        return self._state.in_flight()

    # -- recovery ------------------------------------------------------------------------

    def _job_task_failed(self, job_id: int) -> None:
        """A job's task died on a bug or a database failure: free its slot, let it go.

        Its lease is kept, unrenewed, so the job is taken over (retried) only once it lapsed.
        """
        self._dispatch.release_slot(job_id)
        self._state.let_go(job_id)

    async def _shutdown(self) -> None:
        await self._supervisor.shutdown()
        await self._pump.stop()
        self._state.drop_waiters()
        await self._leases.expire_all()
