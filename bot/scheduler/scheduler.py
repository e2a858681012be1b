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
from bot.scheduler.config import Ports, SchedulerConfig
from bot.scheduler.delivery import Delivery
from bot.scheduler.dispatch import Dispatch
from bot.scheduler.leases import Leases
from bot.scheduler.pump import EventPump
from bot.scheduler.recovery import Recovery
from bot.scheduler.state import (
    ONLY_QUEUED,
    ONLY_RUNNING,
    ONLY_SUBMITTING,
    SchedulerState,
    new_flight,
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
            self._supervisor.start_service(self._watch_loop(), "jobs-cancel-watch")
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
        self._hold(job)
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
        detail = f"canceled by user {by_user_id}"
        if self._dispatch.in_line(job_id):
            async with self._dispatch.exclusive():
                dequeued = self._dispatch.dequeue(job_id)
            if dequeued:
                self._dispatch.emit_positions()
                done = await self._supervisor.write(
                    self._store.transition(
                        job_id,
                        JobStatus.CANCELED,
                        expected=ONLY_QUEUED,
                        detail=detail,
                        error_kind="canceled",
                        error_message=detail,
                        finished_at=self._clock.now(),
                    )
                )
                if done is None:
                    self._leases.settle(job_id)
                    return CancelResult.ALREADY_FINISHED
                self._supervisor.spawn(
                    self._delivery.announce_end(done), f"job-{job_id}-canceled", job_id
                )
                return CancelResult.DEQUEUED

        flight = self._state.flight(job_id)
        if flight is not None and flight.prediction_id is None:
            # The create is on its way: cancelling it now would leave a prediction running
            # with no id to cancel. Wait for its answer, then cancel what it created.
            flight.cancel_requested = True
            await flight.settled.wait()

        job = await self._store.get(job_id)
        if job is None:
            return CancelResult.NOT_FOUND
        taken = False
        if not self._state.holds(job_id):
            if not job.is_active:
                return CancelResult.ALREADY_FINISHED
            elsewhere = await self._cancel_elsewhere(job, by_user_id, detail)
            if isinstance(elsewhere, CancelResult):
                return elsewhere
            job, taken = elsewhere, True
        return await self._cancel_held(job, detail, by_user_id, taken=taken)

    async def _cancel_elsewhere(self, job: Job, by_user_id: int, detail: str) -> CancelResult | Job:
        """A job this process does not hold: take it if nobody live does, else ask its owner."""
        async with self._dispatch.exclusive():
            taken = await self._leases.take(job)
            if taken is not None:
                self._hold(taken)
                if taken.status is JobStatus.RUNNING:
                    # Counted under the cap until its cancel ends (see claim_slot).
                    self._state.add_flight(new_flight(taken, self._config))
        if taken is not None:
            return taken
        if job.status is JobStatus.QUEUED:
            # Nothing has reached the provider: end it here, taking the lease with it, so the
            # owner finds the job gone at its next renewal or slot claim.
            done = await self._supervisor.write(
                self._store.transition(
                    job.id,
                    JobStatus.CANCELED,
                    expected=ONLY_QUEUED,
                    detail=detail,
                    error_kind="canceled",
                    error_message=detail,
                    finished_at=self._clock.now(),
                    lease_owner=self._owner_id,
                    lease_expires_at=self._lease_until(),
                )
            )
            if done is None:
                return await self.cancel(job.id, by_user_id=by_user_id)  # it moved on
            self._hold(done)
            self._supervisor.spawn(
                self._delivery.announce_end(done), f"job-{job.id}-canceled", job.id
            )
            return CancelResult.DEQUEUED
        if job.status is JobStatus.DELIVERING:
            return CancelResult.ALREADY_FINISHED
        return await self._request_cancel(job.id, by_user_id)

    async def _cancel_held(
        self, job: Job, detail: str, by_user_id: int, *, taken: bool
    ) -> CancelResult:
        """Cancel a job this scheduler holds (`taken`: just taken over for this cancel)."""
        if job.status in (JobStatus.QUEUED, JobStatus.SUBMITTING):
            queued = job.status is JobStatus.QUEUED
            # A submitting job here is a create cut short by a shutdown or a dead process:
            # we cannot know the prediction, so stop and say the provider may still run it.
            done = await self._supervisor.write(
                self._store.transition(
                    job.id,
                    JobStatus.CANCELED,
                    expected=ONLY_QUEUED if queued else ONLY_SUBMITTING,
                    detail=detail,
                    error_kind="canceled" if queued else "canceled_provider_may_finish",
                    error_message=detail,
                    finished_at=self._clock.now(),
                )
            )
            if done is None:
                if not taken:
                    return CancelResult.ALREADY_FINISHED  # its own task ends it and tells
                self._leases.settle(job.id)
                return await self.cancel(job.id, by_user_id=by_user_id)  # look again
            self._state.keep(job.id)
            self._supervisor.spawn(
                self._delivery.announce_end(done), f"job-{job.id}-canceled", job.id
            )
            return CancelResult.DEQUEUED if queued else CancelResult.CANCELED_LOCAL
        if job.status is JobStatus.RUNNING:
            return await self._cancel_running(job, detail, taken=taken)
        if taken:
            await self._recovery.resume(job, why="taken over")  # past canceling; finish it here
        return CancelResult.ALREADY_FINISHED

    async def _request_cancel(self, job_id: int, by_user_id: int) -> CancelResult:
        """Record a cancel for the owner of a running job, and wait a while for its outcome."""
        await self._supervisor.write(self._store.request_cancel(job_id, by_user_id))
        deadline = self._clock.monotonic() + self._remote_cancel_wait
        while True:
            job = await self._store.get(job_id)
            if job is None:
                return CancelResult.NOT_FOUND
            if job.status not in (JobStatus.QUEUED, JobStatus.SUBMITTING, JobStatus.RUNNING):
                break
            if self._clock.monotonic() >= deadline:
                return CancelResult.CANCELED_REMOTE  # requested; the owner carries it out
            await self._clock.sleep(min(self._sync_interval, 0.25))
        if job.status is not JobStatus.CANCELED:
            return CancelResult.ALREADY_FINISHED
        if job.error_kind == "canceled_provider_may_finish":
            return CancelResult.CANCELED_LOCAL
        return CancelResult.CANCELED_REMOTE if job.prediction_id else CancelResult.DEQUEUED

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

    # -- cancel --------------------------------------------------------------------------

    async def _cancel_running(self, job: Job, detail: str, *, taken: bool = False) -> CancelResult:
        flight = self._state.flight(job.id)
        if flight is not None:
            flight.closing = True  # from here on the loop and any poll answer leave it alone
            self._state.stop_polling(job.id)
            if flight.http is not None:
                flight.http.cancel()
        remote = await self._delivery.cancel_prediction(job)
        kind = "canceled" if remote else "canceled_provider_may_finish"
        done = await self._supervisor.write(
            self._store.transition(
                job.id,
                JobStatus.CANCELED,
                expected=ONLY_RUNNING,
                detail=detail,
                error_kind=kind,
                error_message=detail,
                finished_at=self._clock.now(),
            )
        )
        if flight is not None:
            self._dispatch.release_slot(job.id)
        if done is None:
            if taken:
                self._leases.settle(job.id)  # whoever changed it finishes it; nothing runs here
            return CancelResult.ALREADY_FINISHED
        self._state.keep(job.id)
        self._supervisor.spawn(self._delivery.announce_end(done), f"job-{job.id}-canceled", job.id)
        return CancelResult.CANCELED_REMOTE if remote else CancelResult.CANCELED_LOCAL

    # -- bookkeeping ---------------------------------------------------------------------

    def _hold(self, job: Job) -> None:
        self._state.hold(job)

    def _retry_delay(self, attempt: int) -> float:
        return self._config.retry_delay(attempt)

    def _lease_until(self) -> float | None:
        return self._config.lease_until(self._clock.now())

    # -- several processes: takeovers, cancels from elsewhere ----------------------------

    async def _watch_loop(self) -> None:
        """Every `sync_interval`: carry out cancels requested elsewhere for our jobs."""
        while True:
            await self._clock.sleep(self._sync_interval)
            if not self._state.holds_any():
                continue
            try:
                requests = await self._store.cancel_requests(self._owner_id)
            except Exception:
                log.exception("could not read cancel requests")
                continue
            for job_id, by_user_id in requests:
                if self._state.holds(job_id) and self._state.begin_remote_cancel(job_id):
                    self._supervisor.spawn(
                        self._cancel_requested(job_id, by_user_id), f"job-{job_id}-remote-cancel"
                    )

    async def _cancel_requested(self, job_id: int, by_user_id: int | None) -> None:
        log.info("job %d: cancel requested from another process", job_id)
        try:
            await self.cancel(job_id, by_user_id=by_user_id or 0)
        finally:
            # Done (the job is no longer cancelable) or failed: a request still standing is
            # picked up again at the next look.
            self._state.end_remote_cancel(job_id)

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
