"""JobScheduler.cancel: queued jobs leave the queue; running ones are cancelled remotely, or
locally when the API has no cancel route; the user is told either way."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from bot.cometapi import ClientTuning, PredictionClient
from bot.jobs import CancelResult, Job, JobEvent, JobStatus
from bot.jobs.polling import PollPolicy
from bot.scheduler import JobScheduler, SchedulerConfig
from bot.storage.jobs import JobStore
from tests.bot.scheduler.conftest import (
    AddJob,
    FastClock,
    FlakyStore,
    MakeScheduler,
    RecordingPresenter,
)
from tests.fakes.cometapi import FakeCometAPI


async def started(scheduler: JobScheduler, job_id: int) -> None:
    """Return once the job's prediction has been created."""
    seen = asyncio.Event()

    async def on_event(event: JobEvent) -> None:
        if event.kind == "started" and event.job.id == job_id:
            seen.set()

    unsubscribe = scheduler.subscribe(on_event)
    try:
        await seen.wait()
    finally:
        unsubscribe()


async def test_cancel_queued_job_leaves_the_queue(
    make_scheduler: MakeScheduler,
    add_job: AddJob,
    presenter: RecordingPresenter,
    fake: FakeCometAPI,
    store: JobStore,
) -> None:
    """A queued job is dequeued without reaching the provider; those behind it move up."""
    fake.duration = 1.0
    scheduler = make_scheduler(max_concurrent=1)
    await scheduler.start()
    first, doomed, last = [await add_job(user_id=u) for u in (1, 2, 3)]
    for job in (first, doomed, last):
        await scheduler.enqueue(job)
    assert scheduler.position(last.id) == 2

    assert await scheduler.cancel(doomed.id, by_user_id=2) == CancelResult.DEQUEUED
    assert scheduler.position(last.id) == 1 and scheduler.position(doomed.id) is None
    canceled = await scheduler.wait_for_job(doomed.id)
    assert canceled.status is JobStatus.CANCELED
    assert canceled.error_kind == "canceled" and canceled.notified
    assert canceled.prediction_id is None
    events = await store.events(doomed.id)
    assert events[-1]["detail"] == "canceled by user 2"

    for job in (first, last):
        assert (await scheduler.wait_for_job(job.id)).status is JobStatus.SUCCEEDED
    assert len(fake.requests_for("create")) == 2
    assert [j.id for j in presenter.finished] == [doomed.id]
    await scheduler.wait_idle()
    assert presenter.position_changes(last.id, 2) == [1]
    assert [e.kind for e in presenter.events_for(doomed.id)] == ["canceled"]


async def test_cancel_running_job_with_a_cancel_route(
    make_scheduler: MakeScheduler,
    add_job: AddJob,
    presenter: RecordingPresenter,
    fake: FakeCometAPI,
) -> None:
    """A running prediction is cancelled at the provider and the slot is freed."""
    fake.set_model_behaviour("test/slow", duration=100.0)
    scheduler = make_scheduler(max_concurrent=1)
    await scheduler.start()
    job, after = await add_job(model="test/slow"), await add_job(user_id=2)
    await scheduler.enqueue(job)
    await scheduler.enqueue(after)
    await started(scheduler, job.id)

    assert await scheduler.cancel(job.id, by_user_id=99) == CancelResult.CANCELED_REMOTE
    done = await scheduler.wait_for_job(job.id)
    assert done.status is JobStatus.CANCELED and done.error_kind == "canceled"
    assert done.notified and done.finished_at is not None
    assert fake.status(done.prediction_id or "") == "canceled"
    assert presenter.delivered_ids() == [after.id] or presenter.delivered_ids() == []
    assert (await scheduler.wait_for_job(after.id)).status is JobStatus.SUCCEEDED
    assert presenter.delivered_ids() == [after.id]
    assert [j.id for j in presenter.finished] == [job.id]


async def test_cancel_running_job_without_a_cancel_route(
    make_scheduler: MakeScheduler,
    add_job: AddJob,
    presenter: RecordingPresenter,
    fake: FakeCometAPI,
) -> None:
    """With no cancel route we stop locally, say the provider may still finish, and poll no more."""
    fake.cancel_route = False
    fake.set_model_behaviour("test/slow", duration=100.0)
    scheduler = make_scheduler()
    await scheduler.start()
    job = await add_job(model="test/slow")
    await scheduler.enqueue(job)
    await started(scheduler, job.id)

    assert await scheduler.cancel(job.id, by_user_id=1) == CancelResult.CANCELED_LOCAL
    done = await scheduler.wait_for_job(job.id)
    assert done.status is JobStatus.CANCELED
    assert done.error_kind == "canceled_provider_may_finish"
    await scheduler.wait_idle()
    assert scheduler.in_flight == 0  # nothing left to poll
    assert fake.status(done.prediction_id or "") in ("starting", "processing")  # it runs on
    assert len(fake.requests_for("cancel")) == 1
    assert [j.id for j in presenter.finished] == [job.id]


async def test_cancel_finished_or_unknown_job(
    make_scheduler: MakeScheduler, add_job: AddJob, presenter: RecordingPresenter
) -> None:
    """Cancelling a delivered job changes nothing; an unknown id is not found."""
    scheduler = make_scheduler()
    await scheduler.start()
    job = await add_job()
    await scheduler.enqueue(job)
    await scheduler.wait_for_job(job.id)
    assert await scheduler.cancel(job.id, by_user_id=1) == CancelResult.ALREADY_FINISHED
    assert await scheduler.cancel(12345, by_user_id=1) == CancelResult.NOT_FOUND
    assert presenter.finished == []


async def test_cancel_and_poll_never_both_win(
    make_scheduler: MakeScheduler,
    add_job: AddJob,
    presenter: RecordingPresenter,
    fake: FakeCometAPI,
    clock: FastClock,
) -> None:
    """Cancels racing the polls around each finish: every job ends one way, its user told once."""
    fake.duration = 0.5
    # Every job a scout: each polls on its own schedule, so the polls race the cancels.
    scheduler = make_scheduler(max_concurrent=8, poll_policy=PollPolicy(scouts=8))
    results: dict[int, CancelResult] = {}
    racers: list[asyncio.Task[None]] = []

    async def race(job_id: int, prediction_id: str) -> None:
        # From 0.3 s before to 0.4 s after the finish: some cancels win, some polls do.
        offset = -0.3 + 0.1 * (job_id % 8)
        await clock.sleep(fake.finished_at(prediction_id) + offset - clock.monotonic())
        results[job_id] = await scheduler.cancel(job_id, by_user_id=1)

    async def on_event(event: JobEvent) -> None:
        if event.kind == "started" and event.job.prediction_id:
            racers.append(asyncio.create_task(race(event.job.id, event.job.prediction_id)))

    scheduler.subscribe(on_event)
    await scheduler.start()
    jobs = [await add_job(user_id=u) for u in range(8)]
    for job in jobs:
        await scheduler.enqueue(job)
    finals = [await scheduler.wait_for_job(j.id) for j in jobs]
    await scheduler.wait_idle()
    await asyncio.gather(*racers)
    assert set(results.values()) == {CancelResult.ALREADY_FINISHED, CancelResult.CANCELED_REMOTE}
    for job, final in zip(jobs, finals, strict=True):
        told = presenter.delivered_ids().count(job.id) + [j.id for j in presenter.finished].count(
            job.id
        )
        assert told == 1
        if results[job.id] == CancelResult.ALREADY_FINISHED:
            assert final.status is JobStatus.SUCCEEDED
        else:
            assert results[job.id] == CancelResult.CANCELED_REMOTE
            assert final.status is JobStatus.CANCELED


async def test_create_that_may_have_arrived_is_not_repeated(
    store: JobStore,
    presenter: RecordingPresenter,
    fake: FakeCometAPI,
    clock: FastClock,
    add_job: AddJob,
) -> None:
    """An unanswered create fails "network" and is never re-sent; a cancel meanwhile waits for it."""
    fake.hang("create")
    async with aiohttp.ClientSession() as session:
        client = PredictionClient(
            session,
            base_url=fake.base_url,
            api_key=fake.api_key,
            tuning=ClientTuning(read_timeout=0.3),
        )
        scheduler = JobScheduler(
            store=store,
            client=client,
            presenter=presenter,
            config=SchedulerConfig(max_concurrent=2, job_timeout=600),
            clock=clock,
        )
        await scheduler.start()
        try:
            job = await add_job()
            await scheduler.enqueue(job)
            while not fake.requests_for("create"):
                await asyncio.sleep(0.01)  # the create is on its way (it will hang)
            assert await scheduler.cancel(job.id, by_user_id=1) == CancelResult.ALREADY_FINISHED
            done = await scheduler.wait_for_job(job.id)
        finally:
            await scheduler.stop()
    assert done.status is JobStatus.FAILED and done.error_kind == "network"
    assert done.prediction_id is None and done.notified
    assert len(fake.requests_for("create")) == 1
    assert len(fake.predictions) == 1  # the provider did get it: exactly why we do not retry


async def test_a_cancel_that_cannot_be_recorded_strands_nothing(
    store: JobStore,
    make_scheduler: MakeScheduler,
    add_job: AddJob,
    presenter: RecordingPresenter,
    fake: FakeCometAPI,
) -> None:
    """Canceled at the provider, but the write fails for good: the canceler hears the error,
    the slot is free, and the job (let go, its lease lapsing) is taken over and ends
    "canceled by the provider", its member told once."""
    fake.set_model_behaviour("test/slow", duration=100.0)
    flaky = FlakyStore(store.db, store.clock)
    flaky.fail(JobStatus.CANCELED, times=2)
    scheduler = make_scheduler(
        store=flaky, max_concurrent=1, delivery_retries=1, retry_backoff=0.1, lease_seconds=3.0
    )
    await scheduler.start()
    job, after = await add_job(model="test/slow"), await add_job(user_id=2)
    await scheduler.enqueue(job)
    await scheduler.enqueue(after)
    await started(scheduler, job.id)
    with pytest.raises(RuntimeError):
        await scheduler.cancel(job.id, by_user_id=99)
    assert (await scheduler.wait_for_job(after.id)).status is JobStatus.SUCCEEDED  # slot freed
    done = await wait_status(store, job.id, JobStatus.CANCELED)
    assert done.error_kind == "canceled_by_provider"
    await scheduler.wait_idle()
    assert [j.id for j in presenter.finished] == [job.id]


async def wait_status(store: JobStore, job_id: int, status: JobStatus) -> Job:
    for _ in range(400):
        job = await store.get(job_id)
        if job is not None and job.status is status:
            return job
        await asyncio.sleep(0.025)
    raise AssertionError(f"job {job_id} never became {status.value}")
