"""Canceler: every way a cancel is carried out, and cancels requested by another process.

A job still in line leaves it without reaching the provider (DEQUEUED). A job whose create is
on its way is waited for: cancelling the create would leave a prediction running with no id
to cancel. A running job is canceled at the provider when the API has a cancel route
(CANCELED_REMOTE), else only here (CANCELED_LOCAL: the provider may still finish it). A job
already delivering or finished is left alone (ALREADY_FINISHED). Every cancel is a
compare-and-set write, so a cancel and a poll never both win.

A job another process holds (docs/decisions/011-work-sharing.md): taken over first when its
owner is gone. If it is queued there, it is canceled here at once, taking its lease, and the
owner drops it at its next renewal or slot claim. If it is being submitted or running there,
the cancel is recorded in its row (`cancel_requested_at`) and carried out by the owner, whose
watch loop looks for such requests every `sync_interval`; the requesting side waits up to
`remote_cancel_wait` for the outcome.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.jobs.events import CancelResult
from bot.jobs.model import JobStatus
from bot.scheduler.state import ONLY_QUEUED, ONLY_RUNNING, ONLY_SUBMITTING, new_flight

if TYPE_CHECKING:
    from bot.jobs.model import Job
    from bot.scheduler.config import Ports, SchedulerConfig
    from bot.scheduler.delivery import Delivery
    from bot.scheduler.dispatch import Dispatch
    from bot.scheduler.leases import Leases
    from bot.scheduler.recovery import Recovery
    from bot.scheduler.state import SchedulerState
    from bot.scheduler.supervisor import Supervisor

log = logging.getLogger(__name__)


class Canceler:
    def __init__(
        self,
        ports: Ports,
        config: SchedulerConfig,
        state: SchedulerState,
        supervisor: Supervisor,
        dispatch: Dispatch,
        leases: Leases,
        delivery: Delivery,
        recovery: Recovery,
    ) -> None:
        self._store = ports.store
        self._owners = ports.owners
        self._clock = ports.clock
        self._config = config
        self._state = state
        self._supervisor = supervisor
        self._dispatch = dispatch
        self._leases = leases
        self._delivery = delivery
        self._recovery = recovery

    async def cancel(self, job_id: int, *, by_user_id: int) -> CancelResult:
        """Cancel for the requester or a moderator (see JobScheduler.cancel)."""
        detail = f"canceled by user {by_user_id}"
        if self._dispatch.in_line(job_id):
            async with self._dispatch.exclusive():
                dequeued = self._dispatch.dequeue(job_id)
            if dequeued:
                self._dispatch.emit_positions()
                done = await self._write_canceled(job_id, ONLY_QUEUED, "canceled", detail)
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
                self._state.hold(taken)
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
                    lease_owner=self._config.owner_id,
                    lease_expires_at=self._config.lease_until(self._clock.now()),
                )
            )
            if done is None:
                return await self.cancel(job.id, by_user_id=by_user_id)  # it moved on
            self._state.hold(done)
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
            done = await self._write_canceled(
                job.id,
                ONLY_QUEUED if queued else ONLY_SUBMITTING,
                "canceled" if queued else "canceled_provider_may_finish",
                detail,
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
        await self._supervisor.write(self._owners.request_cancel(job_id, by_user_id))
        deadline = self._clock.monotonic() + self._config.remote_cancel_wait
        while True:
            job = await self._store.get(job_id)
            if job is None:
                return CancelResult.NOT_FOUND
            if job.status not in (JobStatus.QUEUED, JobStatus.SUBMITTING, JobStatus.RUNNING):
                break
            if self._clock.monotonic() >= deadline:
                return CancelResult.CANCELED_REMOTE  # requested; the owner carries it out
            await self._clock.sleep(min(self._config.sync_interval, 0.25))
        if job.status is not JobStatus.CANCELED:
            return CancelResult.ALREADY_FINISHED
        if job.error_kind == "canceled_provider_may_finish":
            return CancelResult.CANCELED_LOCAL
        return CancelResult.CANCELED_REMOTE if job.prediction_id else CancelResult.DEQUEUED

    async def _cancel_running(self, job: Job, detail: str, *, taken: bool = False) -> CancelResult:
        """Stop polling a running job held here, cancel it at the provider, write it canceled."""
        flight = self._state.flight(job.id)
        if flight is not None:
            flight.closing = True  # from here on the loop and any poll answer leave it alone
            self._state.stop_polling(job.id)
            if flight.http is not None:
                flight.http.cancel()
        remote = await self._delivery.cancel_prediction(job)
        kind = "canceled" if remote else "canceled_provider_may_finish"
        try:
            done = await self._write_canceled(job.id, ONLY_RUNNING, kind, detail)
        finally:
            if flight is not None:
                self._dispatch.release_slot(job.id)
        if done is None:
            if taken:
                self._leases.settle(job.id)  # whoever changed it finishes it; nothing runs here
            return CancelResult.ALREADY_FINISHED
        self._state.keep(job.id)
        self._supervisor.spawn(self._delivery.announce_end(done), f"job-{job.id}-canceled", job.id)
        return CancelResult.CANCELED_REMOTE if remote else CancelResult.CANCELED_LOCAL

    async def _write_canceled(
        self, job_id: int, expected: frozenset[JobStatus], kind: str, detail: str
    ) -> Job | None:
        """Write a held job canceled (compare-and-set), retried while the database fails.

        If it never lands, this process lets the job go (its slot, its hold) and the error
        reaches the canceler: the job's lease lapses, and whoever takes it over resumes it
        from what is stored (a job canceled at the provider then ends "canceled by the
        provider"). A job is never left held here with nothing running it.
        """
        finished_at = self._clock.now()
        try:
            return await self._supervisor.write_retrying(
                lambda: self._store.transition(
                    job_id,
                    JobStatus.CANCELED,
                    expected=expected,
                    detail=detail,
                    error_kind=kind,
                    error_message=detail,
                    finished_at=finished_at,
                ),
                f"job {job_id}: recording its cancel",
            )
        except Exception:
            self._dispatch.release_slot(job_id)
            self._state.let_go(job_id)
            raise

    async def watch_loop(self) -> None:
        """Every `sync_interval`: carry out cancels requested elsewhere for our jobs."""
        while True:
            await self._clock.sleep(self._config.sync_interval)
            if not self._state.holds_any():
                continue
            try:
                requests = await self._owners.cancel_requests(self._config.owner_id)
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
