"""Several schedulers on one database, as several bot processes run them: the global cap and
fairness hold across them, a dead process's jobs are taken over and delivered once, a process
that lost a job stops working on it, and a cancel clicked on one reaches the job on another.

Each scheduler is one "process": its own owner id, database connection and presenter.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from bot.cometapi import PredictionClient
from bot.jobs import CancelResult, Job, JobStatus
from bot.scheduler import JobScheduler, SchedulerConfig
from bot.storage import Database, open_database
from bot.storage.job_leases import JobLeases
from bot.storage.jobs import JobStore
from tests.backends import url_of
from tests.bot.scheduler.conftest import AddJob, FastClock, RecordingPresenter, seen
from tests.fakes.cometapi import FakeCometAPI

LEASE = 3.0  # job seconds: 0.3 s of real time on the x10 clock


class MortalStore(JobStore):
    """A process's JobStore; after `die()` it never says goodbye (leases stay as they were)."""

    dead = False

    def die(self) -> None:
        self.dead = True

    async def expire_leases(self, owner: str) -> int:
        if self.dead:
            raise ConnectionError("the process was killed")
        return await super().expire_leases(owner)


class Process:
    """One bot process: a scheduler with its own connection, store and presenter."""

    def __init__(self, scheduler: JobScheduler, store: MortalStore, presenter: RecordingPresenter):
        self.scheduler = scheduler
        self.store = store
        self.presenter = presenter

    async def kill(self) -> None:
        """As SIGKILL: nothing more is written, the leases are left to lapse."""
        self.store.die()
        await self.scheduler.stop()


MakeProcess = Callable[..., Awaitable[Process]]


@pytest.fixture
async def make_process(
    db: Database, client: PredictionClient, clock: FastClock
) -> AsyncIterator[MakeProcess]:
    made: list[Process] = []
    handles: list[Database] = []

    async def make(owner: str, **overrides: Any) -> Process:
        handle = await open_database(url_of(db))
        handles.append(handle)
        store = MortalStore(handle, clock)
        presenter = RecordingPresenter(clock)
        options: dict[str, Any] = {
            "max_concurrent": 3,
            "job_timeout": 600,
            "owner_id": owner,
            "lease_seconds": LEASE,
            "retry_backoff": 0.5,
            "stop_grace": 0,
        }
        options.update(overrides)
        scheduler = JobScheduler(
            store=store,
            client=client,
            presenter=presenter,
            config=SchedulerConfig(**options),
            clock=clock,
        )
        process = Process(scheduler, store, presenter)
        made.append(process)
        await process.scheduler.start()
        return process

    yield make
    for process in made:
        process.store.dead = False
        await process.scheduler.stop()
    for handle in handles:
        await handle.close()


def peak_running(fake: FakeCometAPI) -> int:
    """The most predictions the provider ran at once (a sweep over [created, finished))."""
    points = []
    for pred in fake.predictions.values():
        points += [(pred.created, 1), (pred.finished_at, -1)]
    running = peak = 0
    for _, delta in sorted(points):
        running += delta
        peak = max(peak, running)
    return peak


def told(*processes: Process) -> Counter[int]:
    """How many times each job's user was told, by any process."""
    ids: list[int] = []
    for p in processes:
        ids += p.presenter.delivered_ids() + [j.id for j in p.presenter.finished]
    return Counter(ids)


async def settled(store: JobStore, job_id: int, timeout: float = 20) -> Job:
    """The job once it is finished and its user told (whichever process did it)."""
    async with asyncio.timeout(timeout):
        while True:
            job = await store.get(job_id)
            assert job is not None
            if job.is_terminal and job.notified:
                return job
            await asyncio.sleep(0.01)


async def test_the_global_cap_holds_across_processes(
    make_process: MakeProcess, add_job: AddJob, store: JobStore, fake: FakeCometAPI
) -> None:
    """Two processes with 6 jobs each and a cap of 3: never more than 3 run, all land once."""
    fake.duration = 1.0
    a, b = await make_process("a"), await make_process("b")
    jobs = {p: [await add_job(user_id=10 * i + u) for u in range(6)] for i, p in enumerate((a, b))}
    for process, mine in jobs.items():
        for job in mine:
            await process.scheduler.enqueue(job)
    everything = jobs[a] + jobs[b]
    finals = [await settled(store, j.id) for j in everything]
    assert all(j.status is JobStatus.SUCCEEDED for j in finals)
    assert peak_running(fake) == 3
    assert len(fake.requests_for("create")) == 12
    assert told(a, b) == Counter({j.id: 1 for j in everything})
    assert a.scheduler.stats.slot_waits + b.scheduler.stats.slot_waits > 0


async def test_a_freed_slot_goes_to_the_process_that_waited_longest(
    make_process: MakeProcess, add_job: AddJob, store: JobStore, fake: FakeCometAPI
) -> None:
    """One process's backlog does not take every freed slot: the other's waiting job goes next."""
    fake.duration = 0.5
    a = await make_process("a", max_concurrent=1)
    b = await make_process("b", max_concurrent=1)
    backlog = [await add_job(user_id=u, prompt=f"A{u}") for u in range(1, 5)]
    started = seen(a.scheduler, "started", backlog[0].id)
    for job in backlog:
        await a.scheduler.enqueue(job)
    await started.wait()
    other = await add_job(user_id=9, prompt="B1")
    assert await b.scheduler.enqueue(other) == 1  # waiting for a slot another process holds
    for job in [*backlog, other]:
        await settled(store, job.id)
    created = [r.json["input"]["prompt"] for r in fake.requests_for("create")]
    assert created == ["A1", "B1", "A2", "A3", "A4"]


async def test_a_dead_processes_jobs_are_taken_over_and_delivered_once(
    make_process: MakeProcess, add_job: AddJob, store: JobStore, fake: FakeCometAPI
) -> None:
    """Killed with two predictions running and one queued: the survivor takes all three over
    once their leases lapse, polls the running ones by id and delivers each once."""
    fake.duration = 3.0
    a = await make_process("a", max_concurrent=2)
    survivor = await make_process("b", max_concurrent=2)
    jobs = [await add_job(user_id=u) for u in (1, 2, 3)]
    for job in jobs:
        await a.scheduler.enqueue(job)
    running = [JobStatus.RUNNING, JobStatus.RUNNING]
    while [(await store.get(j.id)).status for j in jobs[:2]] != running:  # type: ignore[union-attr]
        await asyncio.sleep(0.01)
    await a.kill()

    finals = [await settled(store, j.id) for j in jobs]
    assert all(j.status is JobStatus.SUCCEEDED for j in finals)
    assert told(a, survivor) == Counter({j.id: 1 for j in jobs})
    assert sorted(survivor.presenter.delivered_ids()) == [j.id for j in jobs]
    assert len(fake.requests_for("create")) == 3
    assert survivor.scheduler.stats.takeovers == 3
    assert peak_running(fake) <= 2
    async with asyncio.timeout(5):  # each lease is released once its user was told
        while await store.db.fetchval("SELECT COUNT(*) FROM jobs WHERE lease_owner IS NOT NULL"):
            await asyncio.sleep(0.01)


async def test_a_process_that_lost_a_job_stops_working_on_it(
    make_process: MakeProcess, add_job: AddJob, store: JobStore, fake: FakeCometAPI
) -> None:
    """A job whose lease passed to another process is dropped at the next renewal: no more
    polls, no delivery; the new owner delivers it."""
    fake.duration = 4.0
    a = await make_process("a")
    job = await add_job()
    started = seen(a.scheduler, "started", job.id)
    await a.scheduler.enqueue(job)
    await started.wait()
    # As if `a` had stalled past its lease and a process since gone had taken the job.
    await store.db.execute(
        "UPDATE jobs SET lease_owner = 'gone', lease_expires_at = 0 WHERE id = ?", job.id
    )
    b = await make_process("b")
    assert (await settled(store, job.id)).status is JobStatus.SUCCEEDED
    assert a.scheduler.stats.lost_leases == 1 and a.scheduler.in_flight == 0
    assert a.presenter.delivered == [] and b.presenter.delivered_ids() == [job.id]
    assert b.scheduler.stats.takeovers == 1
    assert len(fake.requests_for("create")) == 1


async def test_cancel_clicked_on_another_process_is_carried_out_by_the_owner(
    make_process: MakeProcess, add_job: AddJob, store: JobStore, fake: FakeCometAPI
) -> None:
    """The click lands on `b`; `a` runs the job: `a` cancels it at the provider and tells."""
    fake.duration = 30.0
    a, b = await make_process("a"), await make_process("b")
    job = await add_job()
    started = seen(a.scheduler, "started", job.id)
    await a.scheduler.enqueue(job)
    await started.wait()
    assert await b.scheduler.cancel(job.id, by_user_id=7) is CancelResult.CANCELED_REMOTE
    done = await settled(store, job.id)
    assert done.status is JobStatus.CANCELED and done.error_kind == "canceled"
    assert done.error_message == "canceled by user 7"
    assert len(fake.requests_for("cancel")) == 1
    assert [j.id for j in a.presenter.finished] == [job.id] and b.presenter.finished == []
    assert told(a, b) == Counter({job.id: 1})
    assert a.scheduler.in_flight == 0


async def test_cancel_of_a_job_queued_on_another_process(
    make_process: MakeProcess, add_job: AddJob, store: JobStore, fake: FakeCometAPI
) -> None:
    """A job waiting in another process's queue is canceled at once; that process drops it."""
    fake.duration = 3.0
    a, b = await make_process("a", max_concurrent=1), await make_process("b", max_concurrent=1)
    first, waiting = await add_job(user_id=1), await add_job(user_id=2)
    await a.scheduler.enqueue(first)
    assert await a.scheduler.enqueue(waiting) == 1
    assert await b.scheduler.cancel(waiting.id, by_user_id=2) is CancelResult.DEQUEUED
    async with asyncio.timeout(5):
        while a.scheduler.position(waiting.id) is not None:  # gone at a's next renewal
            await asyncio.sleep(0.01)
    assert (await settled(store, first.id)).status is JobStatus.SUCCEEDED
    canceled = await settled(store, waiting.id)
    assert canceled.status is JobStatus.CANCELED and canceled.prediction_id is None
    assert [j.id for j in b.presenter.finished] == [waiting.id]
    assert told(a, b) == Counter({first.id: 1, waiting.id: 1})
    assert len(fake.requests_for("create")) == 1


async def test_cancel_of_a_dead_processes_job_waits_for_the_takeover(
    make_process: MakeProcess, add_job: AddJob, store: JobStore, fake: FakeCometAPI
) -> None:
    """The owner is dead but its lease is live: the request waits, the job is taken over once
    the lease lapses, and the cancel is carried out then."""
    fake.duration = 30.0
    a, b = await make_process("a"), await make_process("b")
    job = await add_job()
    started = seen(a.scheduler, "started", job.id)
    await a.scheduler.enqueue(job)
    await started.wait()
    await a.kill()
    assert await b.scheduler.cancel(job.id, by_user_id=3) is CancelResult.CANCELED_REMOTE
    done = await settled(store, job.id)
    assert done.status is JobStatus.CANCELED and done.error_kind == "canceled"
    assert len(fake.requests_for("cancel")) == 1
    assert told(a, b) == Counter({job.id: 1})


async def test_a_sole_owner_takes_its_previous_runs_jobs_at_once(
    make_process: MakeProcess,
    add_job: AddJob,
    store: JobStore,
    fake: FakeCometAPI,
    clock: FastClock,
) -> None:
    """SQLite's only process takes jobs still leased to its previous run at start; a process
    that may share the database leaves them until the lease lapses."""
    job = await add_job()
    assert await JobLeases(store).claim(job.id, "previous-run", clock.now() + 1000)
    shared = await make_process("shared")
    await asyncio.sleep(2 * LEASE / clock.factor)  # two takeover scans
    assert shared.scheduler.position(job.id) is None and not fake.requests_for("create")
    await shared.scheduler.stop()

    sole = await make_process("sole", sole_owner=True)
    assert (await settled(store, job.id)).status is JobStatus.SUCCEEDED
    assert sole.presenter.delivered_ids() == [job.id]


async def test_a_fresh_admission_is_left_to_the_process_that_admitted_it(
    make_process: MakeProcess,
    add_job: AddJob,
    store: JobStore,
    fake: FakeCometAPI,
    clock: FastClock,
) -> None:
    """A job nobody has claimed yet is another process's for a lease period (it is about to
    enqueue it); after that, anyone takes it (its admitter died before enqueueing)."""
    other = await make_process("other")
    job = await add_job()
    await asyncio.sleep(LEASE / 2 / clock.factor)  # at least one scan
    stored = await store.get(job.id)
    assert stored is not None and stored.lease_owner is None
    assert (await settled(store, job.id)).status is JobStatus.SUCCEEDED
    assert other.presenter.delivered_ids() == [job.id]
    assert other.scheduler.stats.takeovers == 1
