"""Leases: which process works on a job, so several can share one database.

Every job this scheduler holds is leased to its `owner_id` in the database
(docs/decisions/011-work-sharing.md). With `lease_seconds` the leases expire: they are renewed
every third of the lease, and a job whose lease lapsed (its process died) is taken over by
any live process and resumed exactly as a restart would resume it (`Recovery`). Without it
(one process), leases never expire: nothing is renewed or taken over.

A scheduler that finds one of its jobs leased to someone else stops working on it
(`abandon`): at a renewal, or right before telling a user (`still_mine`), so a process that
stalled past its lease and lost the job does not deliver it too.

A clean stop expires its leases rather than releasing them: the other processes take those
jobs at their next scan instead of waiting a lease period.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.jobs.model import Job
    from bot.scheduler.config import Ports, SchedulerConfig
    from bot.scheduler.dispatch import Dispatch
    from bot.scheduler.state import SchedulerState
    from bot.scheduler.supervisor import Supervisor

log = logging.getLogger(__name__)


class Leases:
    def __init__(
        self,
        ports: Ports,
        config: SchedulerConfig,
        state: SchedulerState,
        supervisor: Supervisor,
        dispatch: Dispatch,
    ) -> None:
        self._store = ports.store
        self._owners = ports.owners
        self._clock = ports.clock
        self._config = config
        self._owner_id = config.owner_id
        self._lease_seconds = config.lease_seconds
        self._state = state
        self._supervisor = supervisor
        self._dispatch = dispatch

    def _until(self) -> float | None:
        return self._config.lease_until(self._clock.now())

    async def claim(self, job: Job) -> bool:
        """Lease a job just admitted to this scheduler; False if another process has it.

        The same statement records the job's pending message (`message_id`), known only once
        Discord answered the command, after the job was written.
        """
        return await self._supervisor.write(
            self._owners.claim(job.id, self._owner_id, self._until(), message_id=job.message_id)
        )

    async def take(self, job: Job, *, force: bool = False) -> Job | None:
        """Lease a job nobody live holds to this scheduler; its fresh row, or None."""
        if self._lease_seconds is None:
            if not await self._supervisor.write(self._owners.claim(job.id, self._owner_id, None)):
                return None
            return await self._store.get(job.id)
        return await self._supervisor.write(
            self._owners.take_over(job.id, self._owner_id, self._until(), force=force)
        )

    def settle(self, job_id: int) -> None:
        """This scheduler is done with the job: wake whoever waits for it, release its lease.

        (A job whose task died is let go without this: it keeps its lease unrenewed, so it
        is taken over, retried, only once the lease has lapsed.)
        """
        was_held = self._state.let_go(job_id)
        # A sole owner (SQLite) keeps the lease of a job it finished: no other process can
        # want it, and a finished job is never taken over; one write per job saved.
        releasing = self._lease_seconds and not self._config.sole_owner
        if was_held and releasing and not self._supervisor.stopping:
            self._supervisor.write_later(self._owners.release(self._owner_id, job_id))

    async def still_mine(self, job_id: int) -> bool:
        """Before telling a user: renew this job's lease, False if another process has it."""
        if not self._lease_seconds or self._config.sole_owner:
            return True  # no other process can have taken it
        try:
            mine = await self._supervisor.write(
                self._owners.claim(job_id, self._owner_id, self._until())
            )
        except Exception:
            log.warning("job %d: could not check its lease; going on", job_id, exc_info=True)
            return True  # the compare-and-set writes still keep two owners apart
        if not mine:
            self.abandon(job_id)
        return mine

    async def loop(self, take_over_lapsed: Callable[[], Awaitable[None]]) -> None:
        """Every third of the lease: renew what we hold, then take over what nobody holds."""
        assert self._lease_seconds
        while True:
            await self._clock.sleep(self._lease_seconds / 3)
            try:
                await self._renew()
            except Exception:
                log.exception("could not renew job leases")
            try:
                await take_over_lapsed()
            except Exception:
                log.exception("could not look for jobs to take over")

    async def _renew(self) -> None:
        held = self._state.held()
        if not held:
            return
        until = self._until()
        assert until is not None
        kept = await self._supervisor.write(self._owners.renew_held(self._owner_id, held, until))
        for job_id in sorted(held - kept.keys()):
            if self._state.holds(job_id):  # not settled meanwhile: someone else has it now
                self.abandon(job_id)

    def abandon(self, job_id: int) -> None:
        """Another process holds this job now: stop working on it, tell nobody anything.

        Its queue place, slot and polls are dropped at once. A step with an outside effect
        already under way (a create, a delivery) is left to finish: its compare-and-set
        write then fails and it stops (a create it made is canceled).
        """
        if not self._state.holds(job_id):
            return
        log.warning("job %d: another process took it over; this one stops working on it", job_id)
        self._state.stats.lost_leases += 1
        self._dispatch.drop(job_id)
        flight = self._state.flight(job_id)
        if flight is not None:
            flight.closing = True
            if flight.http is not None:
                self._supervisor.cut(flight.http)
        self._supervisor.cancel_job_tasks(job_id)
        self._state.stop_polling(job_id)
        self._state.let_go(job_id)  # the lease is the other process's now
        self._dispatch.release_slot(job_id)
        self._dispatch.emit_positions()

    async def expire_all(self) -> None:
        """At stop: expired, not released, so other processes take these jobs over at once."""
        if not self._lease_seconds:
            return
        try:
            await self._owners.expire_leases(self._owner_id)
        except Exception:
            log.exception("could not release job leases")
