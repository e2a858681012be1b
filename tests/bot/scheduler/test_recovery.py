"""Restart recovery: every unfinished job is resumed from its stored state; no job is created
twice and nobody is told twice, wherever the previous process stopped."""

from __future__ import annotations

import asyncio
from collections import Counter

import aiohttp

from bot.cometapi import ClientTuning, PredictionClient
from bot.jobs import Job, JobStatus
from bot.scheduler import JobScheduler, SchedulerConfig
from bot.storage.job_leases import JobLeases
from bot.storage.jobs import JobStore
from tests.bot.scheduler.conftest import (
    SCHNELL,
    AddJob,
    FastClock,
    FlakyStore,
    MakeScheduler,
    RecordingPresenter,
    seen,
)
from tests.fakes.cometapi import FakeCometAPI


def told(presenter: RecordingPresenter) -> Counter[int]:
    """How many times each job's user was told (a delivery or a finish)."""
    return Counter(presenter.delivered_ids() + [j.id for j in presenter.finished])


async def as_submitting(store: JobStore, job: Job, prediction_id: str | None = None) -> None:
    now = store.clock.now()
    await store.transition(
        job.id,
        JobStatus.SUBMITTING,
        attempts=1,
        submitted_at=now,
        deadline_at=now + 600,
    )
    if prediction_id:
        await store.update(job.id, prediction_id=prediction_id)


async def test_every_stored_state_is_resumed(
    make_scheduler: MakeScheduler,
    add_job: AddJob,
    store: JobStore,
    client: PredictionClient,
    presenter: RecordingPresenter,
    fake: FakeCometAPI,
) -> None:
    """Rows left in each state by a dead process: each ends right, each user told once."""
    fake.duration = 0.5
    fake.set_model_behaviour("test/gone", duration=0.1, data_removed=True)
    queued = await add_job(prompt="queued")

    mid_create = await add_job(prompt="mid create")
    await as_submitting(store, mid_create)

    created = await add_job(prompt="created, id saved")
    pred = await client.create(SCHNELL, created.input)
    await as_submitting(store, created, pred.id)

    running = await add_job(prompt="running")
    pred = await client.create(SCHNELL, running.input)
    await as_submitting(store, running, pred.id)
    await store.transition(running.id, JobStatus.RUNNING, started_at=store.clock.now())

    delivering = await add_job(prompt="delivering")
    pred = await client.create(SCHNELL, delivering.input)
    fake.finish_now(pred.id)
    await as_submitting(store, delivering, pred.id)
    await store.transition(delivering.id, JobStatus.DELIVERING, finished_at=store.clock.now())

    expired = await add_job(model="test/gone", prompt="outputs gone")
    pred = await client.create("test/gone", expired.input)
    await fake.wait_finished(pred.id)
    await as_submitting(store, expired, pred.id)
    await store.transition(expired.id, JobStatus.DELIVERING, finished_at=store.clock.now())

    failed_untold = await add_job(prompt="failed, user not told")
    await store.transition(failed_untold.id, JobStatus.FAILED, error_kind="no_credit")
    done_told = await add_job(prompt="delivered and told")
    await store.transition(done_told.id, JobStatus.SUCCEEDED, notified=True)
    done_before = await store.get(done_told.id)
    direct_creates = len(fake.requests_for("create"))

    scheduler = make_scheduler()
    await scheduler.start()
    ids = [queued, mid_create, created, running, delivering, expired, failed_untold]
    final = {j.id: await scheduler.wait_for_job(j.id) for j in ids}
    await scheduler.wait_idle()

    for job in (queued, created, running, delivering):
        assert final[job.id].status is JobStatus.SUCCEEDED, final[job.id]
    assert final[mid_create.id].status is JobStatus.FAILED
    assert final[mid_create.id].error_kind == "interrupted"
    assert final[expired.id].status is JobStatus.EXPIRED
    assert final[expired.id].error_kind == "expired"
    assert final[failed_untold.id].status is JobStatus.FAILED
    assert all(j.notified for j in final.values())
    assert told(presenter) == Counter({j.id: 1 for j in ids})
    assert len(fake.requests_for("create")) == direct_creates + 1  # only the queued one
    assert await store.get(done_told.id) == done_before  # finished and told: left alone
    assert done_told.id not in told(presenter)


async def test_killed_while_queued_and_running(
    make_scheduler: MakeScheduler,
    add_job: AddJob,
    presenter: RecordingPresenter,
    fake: FakeCometAPI,
) -> None:
    """Killed with one job running and two queued: after a restart all three land, each made once."""
    fake.duration = 2.0
    first = make_scheduler(max_concurrent=1, stop_grace=0)
    await first.start()
    jobs = [await add_job(user_id=u) for u in (1, 2, 3)]
    started = seen(first, "started", jobs[0].id)
    for job in jobs:
        await first.enqueue(job)
    await started.wait()
    await first.stop()

    second = make_scheduler(max_concurrent=1)
    await second.start()
    finals = [await second.wait_for_job(j.id) for j in jobs]
    assert all(j.status is JobStatus.SUCCEEDED for j in finals)
    assert told(presenter) == Counter({j.id: 1 for j in jobs})
    assert len(fake.requests_for("create")) == 3


async def test_killed_while_a_status_query_hangs(
    make_scheduler: MakeScheduler,
    add_job: AddJob,
    presenter: RecordingPresenter,
    fake: FakeCometAPI,
    store: JobStore,
) -> None:
    """Killed mid-poll: the job stays running and the next process polls and delivers it."""
    fake.set_model_behaviour("test/hang", duration=0.5, hang_get=True)
    first = make_scheduler(stop_grace=0)
    await first.start()
    job = await add_job(model="test/hang")
    await first.enqueue(job)
    while not fake.requests_for("get"):
        await asyncio.sleep(0.01)  # the fake has the query; it hangs
    await first.stop()
    stored = await store.get(job.id)
    assert stored is not None and stored.status is JobStatus.RUNNING

    fake.set_model_behaviour("test/hang", duration=0.5)
    second = make_scheduler()
    await second.start()
    assert (await second.wait_for_job(job.id)).status is JobStatus.SUCCEEDED
    assert told(presenter) == Counter({job.id: 1})
    assert len(fake.requests_for("create")) == 1


async def test_killed_mid_delivery(
    make_scheduler: MakeScheduler,
    add_job: AddJob,
    presenter: RecordingPresenter,
    fake: FakeCometAPI,
    store: JobStore,
) -> None:
    """Killed mid-delivery: the job stays delivering; the next process refetches and delivers once."""
    presenter.deliver_gate = asyncio.Event()
    first = make_scheduler(stop_grace=0)
    await first.start()
    job = await add_job()
    await first.enqueue(job)
    await presenter.deliver_entered.wait()
    await first.stop()
    stored = await store.get(job.id)
    assert stored is not None and stored.status is JobStatus.DELIVERING

    presenter.deliver_gate.set()
    second = make_scheduler()
    await second.start()
    assert (await second.wait_for_job(job.id)).status is JobStatus.SUCCEEDED
    assert told(presenter) == Counter({job.id: 1})
    assert presenter.deliver_calls == 2  # the cut one, then the one that landed
    assert len(fake.requests_for("create")) == 1


async def test_clean_stop_lets_a_delivery_in_progress_finish(
    make_scheduler: MakeScheduler,
    add_job: AddJob,
    presenter: RecordingPresenter,
    store: JobStore,
) -> None:
    """stop() lets a delivery under way finish and records it, so a restart has nothing to redo."""
    presenter.deliver_gate = asyncio.Event()
    first = make_scheduler(stop_grace=5)
    await first.start()
    job = await add_job()
    await first.enqueue(job)
    await presenter.deliver_entered.wait()
    stopping = asyncio.create_task(first.stop())
    await asyncio.sleep(0)
    presenter.deliver_gate.set()
    await stopping
    stored = await store.get(job.id)
    assert stored is not None and stored.status is JobStatus.SUCCEEDED and stored.notified

    second = make_scheduler()
    await second.start()
    await second.wait_idle()
    assert told(presenter) == Counter({job.id: 1})


async def test_killed_mid_create_is_not_created_again(
    make_scheduler: MakeScheduler,
    add_job: AddJob,
    presenter: RecordingPresenter,
    fake: FakeCometAPI,
    store: JobStore,
) -> None:
    """Killed mid-create: the next process ends the job "interrupted" rather than create it twice."""
    fake.hang("create")
    first = make_scheduler(stop_grace=0)
    await first.start()
    job = await add_job()
    await first.enqueue(job)
    while not fake.requests_for("create"):
        await asyncio.sleep(0.01)  # the create reached the fake (it will not answer)
    await first.stop()
    stored = await store.get(job.id)
    assert stored is not None and stored.status is JobStatus.SUBMITTING
    assert stored.prediction_id is None

    second = make_scheduler()
    await second.start()
    done = await second.wait_for_job(job.id)
    assert done.status is JobStatus.FAILED and done.error_kind == "interrupted"
    assert done.notified
    assert len(fake.requests_for("create")) == 1
    assert told(presenter) == Counter({job.id: 1})


async def test_clean_stop_records_a_create_that_answers_in_time(
    store: JobStore,
    presenter: RecordingPresenter,
    fake: FakeCometAPI,
    clock: FastClock,
    add_job: AddJob,
    make_scheduler: MakeScheduler,
) -> None:
    """stop() lets a create under way answer and stores its id, so the next process delivers it."""
    fake.duration = 0.4  # with Prefer: wait the fake holds the create until the end
    async with aiohttp.ClientSession() as session:
        slow_client = PredictionClient(
            session,
            base_url=fake.base_url,
            api_key=fake.api_key,
            tuning=ClientTuning(prefer_wait=1),
        )
        first = JobScheduler(
            store=store,
            client=slow_client,
            presenter=presenter,
            config=SchedulerConfig(max_concurrent=2, job_timeout=600, stop_grace=5),
            clock=clock,
        )
        await first.start()
        job = await add_job()
        await first.enqueue(job)
        while not fake.requests_for("create"):
            await asyncio.sleep(0.01)
        await first.stop()
    stored = await store.get(job.id)
    assert stored is not None and stored.prediction_id is not None
    assert stored.status is JobStatus.RUNNING

    second = make_scheduler()
    await second.start()
    assert (await second.wait_for_job(job.id)).status is JobStatus.SUCCEEDED
    assert told(presenter) == Counter({job.id: 1})
    assert len(fake.requests_for("create")) == 1


async def test_leases_are_claimed_renewed_and_released(
    make_scheduler: MakeScheduler,
    add_job: AddJob,
    store: JobStore,
    fake: FakeCometAPI,
    clock: FastClock,
) -> None:
    """Leases: claimed and renewed while active, expired on stop; another owner's job left alone."""
    fake.set_model_behaviour("test/slow", duration=100.0)
    foreign = await add_job(user_id=5)
    assert await JobLeases(store).claim(foreign.id, "other-process", clock.now() + 1000)
    scheduler = make_scheduler(owner_id="proc-a", lease_seconds=3.0)
    await scheduler.start()
    job = await add_job(model="test/slow")
    started = seen(scheduler, "started", job.id)
    await scheduler.enqueue(job)
    await started.wait()
    held = await store.get(job.id)
    assert held is not None and held.lease_owner == "proc-a"
    assert held.lease_expires_at is not None and held.lease_expires_at > clock.now()
    first_expiry = held.lease_expires_at
    await clock.sleep(1.5)  # the renewal runs every lease/3
    renewed = await store.get(job.id)
    assert renewed is not None and (renewed.lease_expires_at or 0) > first_expiry
    assert (await store.get(foreign.id)).status is JobStatus.QUEUED  # type: ignore[union-attr]
    assert scheduler.position(foreign.id) is None
    await scheduler.stop()
    released = await store.get(job.id)
    # Expired rather than cleared: other processes may take it over at once.
    assert released is not None and released.lease_owner == "proc-a"
    assert released.lease_expires_at is not None and released.lease_expires_at <= clock.now()


async def test_a_failed_write_frees_the_slot_and_the_job_resumes_after_a_restart(
    store: JobStore,
    make_scheduler: MakeScheduler,
    add_job: AddJob,
    presenter: RecordingPresenter,
    fake: FakeCometAPI,
) -> None:
    """A write that fails for good (past its retries) frees the job's slot without losing
    it: the next start delivers it."""
    flaky = FlakyStore(store.db, store.clock)
    flaky.fail(JobStatus.DELIVERING, times=3)
    first = make_scheduler(store=flaky, max_concurrent=1, delivery_retries=2, retry_backoff=0.1)
    await first.start()
    broken, other = await add_job(), await add_job(user_id=2)
    await first.enqueue(broken)
    await first.enqueue(other)
    assert (await first.wait_for_job(broken.id)).status is JobStatus.RUNNING
    assert (await first.wait_for_job(other.id)).status is JobStatus.SUCCEEDED
    await first.stop()

    second = make_scheduler()
    await second.start()
    assert (await second.wait_for_job(broken.id)).status is JobStatus.SUCCEEDED
    assert told(presenter) == Counter({broken.id: 1, other.id: 1})
    assert len(fake.requests_for("create")) == 2
