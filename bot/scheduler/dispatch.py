"""Dispatch: the line of queued jobs, and who gets a slot under the global cap.

A fair queue (`bot.jobs.queue`: round-robin across servers, then across each server's
members) feeds at most `max_concurrent` predictions in flight (submitting + running) for the
whole bot (docs/decisions/018-server-fair-queue.md). A slot is taken in the database
(`JobLeases.claim_slot`), so the cap holds across every process sharing it
(docs/decisions/011-work-sharing.md). The job whose claim is under way, or was refused because
other processes' jobs hold the slots, stays first in line ("the head", position 1); refused,
it asks again every `slot_retry_interval`.

Positions: `enqueue` returns the new job's place to its caller, and every other queued job
hears a "queued" event whenever its place changes, or its expected finish moves by more than
`bot.jobs.eta.REFRESH_RATIO` of its time left (the estimate rides on the event: `Forecast`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import TYPE_CHECKING, Any

from bot.jobs import events as ev
from bot.jobs.eta import moved
from bot.jobs.queue import FairQueue
from bot.scheduler.forecast import Forecast
from bot.scheduler.state import new_flight
from bot.scheduler.supervisor import sleep_or_wake

if TYPE_CHECKING:
    from bot.jobs.model import Job
    from bot.scheduler.config import Ports, SchedulerConfig
    from bot.scheduler.pump import EventPump
    from bot.scheduler.state import Flight, SchedulerState
    from bot.scheduler.supervisor import Supervisor
    from bot.storage.job_leases import SlotClaim

log = logging.getLogger(__name__)


class Dispatch:
    def __init__(
        self,
        ports: Ports,
        config: SchedulerConfig,
        state: SchedulerState,
        supervisor: Supervisor,
        pump: EventPump,
        *,
        start: Callable[[Flight], Coroutine[Any, Any, None]],
        announce: Callable[[Job], Coroutine[Any, Any, None]],
    ) -> None:
        """`start(flight)` submits a job granted a slot; `announce(job)` tells the user of a
        job canceled instead (a cancel was requested while it waited)."""
        self._owners = ports.owners
        self._clock = ports.clock
        self._config = config
        self._state = state
        self._supervisor = supervisor
        self._pump = pump
        self._start = start
        self._announce = announce
        self._queue = FairQueue()
        # The job taken from the queue whose slot claim is under way or was refused (another
        # process's jobs hold the slots): still first in line, position 1.
        self._head: Job | None = None
        self._lock = asyncio.Lock()  # one slot claim (or takeover) at a time
        self._wake = asyncio.Event()
        self._fresh: set[int] = set()  # enqueued just now: the caller shows its position
        self._last_positions: dict[int, int] = {}
        self._last_etas: dict[int, float | None] = {}
        self._forecast = Forecast(ports.clock, config, state)

    @contextlib.asynccontextmanager
    async def exclusive(self) -> AsyncIterator[None]:
        """No slot claim runs meanwhile (a takeover must not race our own count)."""
        async with self._lock:
            yield

    async def enqueue(self, job: Job) -> int:
        """Put a held job in line and start what fits; its position (0: started at once)."""
        self._fresh.add(job.id)
        self._queue.push(job)
        try:
            await self.fill_slots()
        finally:
            self._fresh.discard(job.id)
        position = self.positions().get(job.id, 0)
        if position:
            self._last_positions[job.id] = position  # the caller shows this one itself
            self._last_etas[job.id] = self._forecast.line(self.line()).get(job.id)
        self.emit_positions()
        return position

    def requeue(self, job: Job) -> None:
        """A job taken (at start or from another process) while still queued joins the line."""
        self._queue.push(job)
        self.wake(emit=False)

    def wake(self, *, emit: bool = True) -> None:
        """Something changed: let the dispatcher look for room (it starts queued jobs)."""
        if not self._supervisor.started or self._supervisor.stopping:
            return
        self._wake.set()
        if emit:
            self.emit_positions()

    async def loop(self) -> None:
        """Start queued jobs whenever there may be room; while other processes hold the
        slots, ask again every `slot_retry_interval` (they cannot tell us when one frees)."""
        while True:
            self._wake.clear()
            try:
                blocked = await self.fill_slots()
            except Exception:
                log.exception("could not start queued jobs; trying again")
                blocked = True
            self.emit_positions()
            if blocked:
                await sleep_or_wake(self._clock, self._config.slot_retry_interval, self._wake)
            else:
                await self._wake.wait()

    async def fill_slots(self) -> bool:
        """Start queued jobs while the cap allows; True when refused for want of a slot
        held elsewhere (or the database failed), so the caller should ask again later."""
        cap = self._config.max_concurrent
        async with self._lock:
            while (
                self._supervisor.started
                and not self._supervisor.stopping
                and self._state.in_flight() < cap
            ):
                job = self._head
                if job is None:
                    job = self._queue.pop()
                    if job is None:
                        return False
                    self._head = job
                try:
                    claim: SlotClaim = await self._supervisor.write(
                        self._owners.claim_slot(
                            job.id,
                            self._config.owner_id,
                            limit=cap,
                            local_in_flight=self._state.in_flight(),
                            until=self._config.lease_until(self._clock.now()),
                            timeout=self._config.job_timeout,
                            sole_owner=self._config.sole_owner,
                        )
                    )
                except Exception:
                    log.exception("job %d: could not claim a slot; will ask again", job.id)
                    return True
                if claim.outcome == "full":
                    self._state.stats.slot_waits += 1
                    return True
                self._head = None
                self._last_positions.pop(job.id, None)
                self._last_etas.pop(job.id, None)
                if claim.outcome == "granted" and claim.job is not None:
                    flight = new_flight(claim.job, self._config)
                    self._state.record(claim.job)
                    self._state.add_flight(flight)
                    self._supervisor.spawn(self._start(flight), f"job-{job.id}-submit", job.id)
                elif claim.outcome == "canceled" and claim.job is not None:
                    self._supervisor.spawn(
                        self._announce(claim.job), f"job-{job.id}-canceled", job.id
                    )
                else:
                    log.info("job %d changed before it could start; dropped", job.id)
                    self._state.let_go(job.id)  # not released: whoever moved it on holds it
            return False

    def positions(self) -> dict[int, int]:
        """job id -> 1-based place in line: the job waiting for a slot first, then the queue."""
        positions = self._queue.positions()
        if self._head is None:
            return positions
        return {self._head.id: 1, **{j: p + 1 for j, p in positions.items()}}

    def line(self) -> list[Job]:
        """The queued jobs in the order they would start: the head, then the queue."""
        order = self._queue.order()
        return order if self._head is None else [self._head, *order]

    def forecast(self, job: Job) -> float | None:
        """When a job not yet in line would finish if it joined the end of it now."""
        return self._forecast.line([*self.line(), job]).get(job.id)

    def in_line(self, job_id: int) -> bool:
        return job_id in self._queue or self._is_head(job_id)

    def _is_head(self, job_id: int) -> bool:
        return self._head is not None and self._head.id == job_id

    def dequeue(self, job_id: int) -> bool:
        """Take a job out of line (inside `exclusive()`); False if not in line."""
        if self._is_head(job_id):
            self._head = None
            return True
        return self._queue.remove(job_id) is not None

    def drop(self, job_id: int) -> None:
        """Take a job out of line at once, claim under way or not (another process has it)."""
        self._queue.remove(job_id)
        if self._is_head(job_id) and not self._lock.locked():
            self._head = None  # (if a claim is under way, it finds the job gone)

    def emit_positions(self) -> None:
        """A "queued" event for every job whose position changed or whose estimate moved."""
        line = self.line()
        positions = {job.id: n for n, job in enumerate(line, start=1)}
        for job_id in list(self._last_positions):
            if job_id not in positions:
                del self._last_positions[job_id]
                self._last_etas.pop(job_id, None)
        etas = self._forecast.line(line)
        now = self._clock.now()
        for job_id, position in positions.items():
            if job_id in self._fresh:
                continue  # enqueue() reports it to its caller
            job = self._state.snapshot(job_id)
            eta = etas.get(job_id)
            if job is None:
                continue
            if self._last_positions.get(job_id) != position or moved(
                self._last_etas.get(job_id), eta, now
            ):
                self._last_positions[job_id] = position
                self._last_etas[job_id] = eta
                self._pump.emit(ev.QUEUED, job, position=position, eta=eta)

    def release_slot(self, job_id: int) -> None:
        """The job no longer holds a slot (ended, canceled, lost): look for room."""
        if self._state.end_flight(job_id):
            self.wake()
