"""Recovery: taking over jobs no live process works on, and resuming each from its state.

At start every unfinished job is taken (with several processes, only those whose lease
lapsed or was never claimed), and every finished job whose user was not told; while running,
every third of a lease, jobs whose process died are taken over the same way. Each resumes
exactly as after a restart, from its last written state (each status change is written
before the scheduler acts on it), by these rules:

- `queued` joins this process's line;
- `submitting` without a prediction id: the create may or may not have reached the provider.
  Creating again could run (and bill) it twice, so the job ends `failed` with error_kind
  "interrupted" and the user is told. With a prediction id, it is simply running;
- `running` is polled by its prediction id at once (a job past its deadline gets one
  answer's time: it may have finished meanwhile, and then its result is still wanted);
- `delivering` is delivered again from a fresh read of the prediction (see delivery);
- finished but its user not told: told.

Duration estimates are seeded at start from the recent deliveries, so a restart polls well
at once.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.jobs.model import JobStatus
from bot.jobs.polling import estimate_key
from bot.scheduler.state import ONLY_SUBMITTING, new_flight

if TYPE_CHECKING:
    from bot.jobs.model import Job
    from bot.scheduler.config import Ports, SchedulerConfig
    from bot.scheduler.delivery import Delivery
    from bot.scheduler.dispatch import Dispatch
    from bot.scheduler.leases import Leases
    from bot.scheduler.state import SchedulerState
    from bot.scheduler.supervisor import Supervisor
    from bot.scheduler.tracking import Tracking

log = logging.getLogger(__name__)


class Recovery:
    def __init__(
        self,
        ports: Ports,
        config: SchedulerConfig,
        state: SchedulerState,
        supervisor: Supervisor,
        dispatch: Dispatch,
        leases: Leases,
        tracking: Tracking,
        delivery: Delivery,
    ) -> None:
        self._store = ports.store
        self._owners = ports.owners
        self._clock = ports.clock
        self._config = config
        self._state = state
        self._estimator = state.stats.estimator
        self._supervisor = supervisor
        self._dispatch = dispatch
        self._leases = leases
        self._tracking = tracking
        self._delivery = delivery

    async def learn_durations(self) -> None:
        """Seed the duration estimates from recent deliveries, so a restart polls well at once."""
        try:
            jobs = await self._store.recent_succeeded()
        except Exception:
            log.exception("could not read past durations; estimates start empty")
            return
        for job in jobs:
            if job.started_at is not None and job.finished_at is not None:
                self._estimator.observe(estimate_key(job), job.finished_at - job.started_at)

    async def recover(self) -> None:
        """At start: take every job no live process works on, and resume each."""
        if self._config.lease_seconds is not None and not self._config.sole_owner:
            # Other processes may be running: only what nobody live holds, as a takeover.
            now = self._clock.now()
            jobs = await self._owners.takeover_candidates(
                unclaimed_before=now - self._config.lease_seconds, include_released_untold=True
            )
        else:
            jobs = await self._store.unfinished() + await self._store.unnotified_terminal()
        for job in jobs:
            if self._state.holds(job.id):
                continue  # enqueued before start()
            taken = await self._leases.take(job, force=self._config.sole_owner)
            if taken is None:
                log.info("job %d is held by another process; leaving it", job.id)
                continue
            if not self._config.sole_owner:
                self._count_takeover(job, taken)
            await self.resume(taken, why="found at start")
        self._dispatch.emit_positions()

    async def resume(self, job: Job, *, why: str) -> None:
        """Carry on with a job just taken (at start or from a dead process) from its state."""
        self._state.hold(job)
        if job.status is JobStatus.QUEUED:
            self._dispatch.requeue(job)
        elif job.status is JobStatus.SUBMITTING and job.prediction_id:
            running = await self._supervisor.write(
                self._store.transition(
                    job.id,
                    JobStatus.RUNNING,
                    expected=ONLY_SUBMITTING,
                    detail=f"recovered after {why}",
                    started_at=job.started_at or self._clock.now(),
                )
            )
            if running is not None:
                self._tracking.track(new_flight(running, self._config), recovered=True)
            else:
                self._leases.settle(job.id)
        elif job.status is JobStatus.SUBMITTING:
            self._supervisor.spawn(
                self._delivery.end(
                    job,
                    JobStatus.FAILED,
                    ONLY_SUBMITTING,
                    "interrupted",
                    f"the process stopped while this job was being submitted ({why}); it was "
                    "not submitted again, so that it cannot run twice",
                ),
                f"job-{job.id}-interrupted",
                job.id,
            )
        elif job.status is JobStatus.RUNNING:
            self._tracking.track(new_flight(job, self._config), recovered=True)
        elif job.status is JobStatus.DELIVERING:
            self._supervisor.spawn(
                self._delivery.deliver(job, None), f"job-{job.id}-redeliver", job.id
            )
        elif job.is_terminal and not job.notified and job.status is not JobStatus.REFUSED:
            self._supervisor.spawn(
                self._delivery.notify_finish(job), f"job-{job.id}-finish", job.id
            )
        else:
            self._leases.settle(job.id)  # finished and told meanwhile: nothing to do

    async def take_over_lapsed(self) -> None:
        """Take every job whose lease lapsed (its process died) and resume it here."""
        assert self._config.lease_seconds
        if self._supervisor.stopping:
            return
        now = self._clock.now()
        jobs = await self._owners.takeover_candidates(
            unclaimed_before=now - self._config.lease_seconds
        )
        for job in jobs:
            if self._supervisor.stopping:
                return
            if self._state.holds(job.id):
                continue
            # Under the dispatch lock: a slot claim must never run between the database
            # saying "this running job is ours" and our own count including it.
            async with self._dispatch.exclusive():
                taken = await self._leases.take(job)
                if taken is None:
                    continue
                self._count_takeover(job, taken)
                await self.resume(taken, why="taken over from another process")
        self._dispatch.wake()

    def _count_takeover(self, before: Job, taken: Job) -> None:
        """Log (for operators: a process died or stalled) and count a job taken from another."""
        if self._config.lease_seconds is None or before.lease_owner == self._config.owner_id:
            return
        if before.lease_owner is None and not before.is_active:
            return  # a notification given up earlier, retried: not a process's failure
        self._state.stats.takeovers += 1
        log.warning(
            "job %d (%s): taken over from %s",
            taken.id,
            taken.status.value,
            f"{before.lease_owner}, whose lease lapsed"
            if before.lease_owner
            else "the process that admitted it, which never claimed it",
        )
