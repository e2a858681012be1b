"""Delivery does not trust the API: it fetches at most the images a job asked for, and an
image too large to decode fails the job as a download failure, with its user told."""

from __future__ import annotations

import logging

import pytest

from bot.jobs import JobStatus
from bot.storage.jobs import JobStore
from tests.bot.scheduler.conftest import (
    SCHNELL,
    AddJob,
    FlakyStore,
    MakeScheduler,
    RecordingPresenter,
)
from tests.fakes.cometapi import FakeCometAPI


async def test_5000_outputs_for_2_asked_deliver_2_and_log_the_rest(
    make_scheduler: MakeScheduler,
    add_job: AddJob,
    presenter: RecordingPresenter,
    fake: FakeCometAPI,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A status with 5,000 output URLs: two are downloaded and delivered, 4,998 are logged."""
    fake.set_model_behaviour(SCHNELL, output_count=5000)
    scheduler = make_scheduler()
    await scheduler.start()
    job = await add_job(num_outputs=2)
    with caplog.at_level(logging.WARNING, logger="bot.scheduler.delivery"):
        await scheduler.enqueue(job)
        done = await scheduler.wait_for_job(job.id)
    assert done.status is JobStatus.SUCCEEDED and done.output_count == 2
    assert [len(images) for _, images, _ in presenter.delivered] == [2]
    assert len(fake.requests_for("files")) == 2
    assert any("5000 outputs" in r.message and "4998 ignored" in r.message for r in caplog.records)


async def test_never_more_than_ten_outputs_whatever_the_job_says(
    make_scheduler: MakeScheduler,
    add_job: AddJob,
    presenter: RecordingPresenter,
    fake: FakeCometAPI,
    store: JobStore,
) -> None:
    """Even a job row that claims 50 images gets at most ten (one Discord message's worth)."""
    fake.set_model_behaviour("acme/many", output_count=30)
    scheduler = make_scheduler()
    await scheduler.start()
    job = await add_job(model="acme/many")
    job = await store.update(job.id, image_count=50) or job
    await scheduler.enqueue(job)
    done = await scheduler.wait_for_job(job.id)
    assert done.status is JobStatus.SUCCEEDED
    assert [len(images) for _, images, _ in presenter.delivered] == [10]
    assert len(fake.requests_for("files")) == 10


async def test_a_pixel_bomb_fails_the_job_as_a_download_failure(
    make_scheduler: MakeScheduler,
    add_job: AddJob,
    presenter: RecordingPresenter,
    fake: FakeCometAPI,
) -> None:
    """An output of 12,000 x 12,000 pixels ends the job `failed`/download, its user told why."""
    fake.set_model_behaviour(SCHNELL, output_kind="bomb")
    scheduler = make_scheduler()
    await scheduler.start()
    job = await add_job()
    await scheduler.enqueue(job)
    done = await scheduler.wait_for_job(job.id)
    assert done.status is JobStatus.FAILED and done.error_kind == "download"
    assert "megapixels" in (done.error_message or "")
    assert done.notified and [j.id for j in presenter.finished] == [job.id]
    assert presenter.delivered == []


async def test_a_delivery_whose_record_fails_once_is_recorded_not_repeated(
    store: JobStore,
    make_scheduler: MakeScheduler,
    add_job: AddJob,
    presenter: RecordingPresenter,
) -> None:
    """Discord has the result, the write after it fails once: retried, so the job is
    `succeeded` and the member was shown it once."""
    flaky = FlakyStore(store.db, store.clock)
    flaky.fail(JobStatus.SUCCEEDED)
    scheduler = make_scheduler(store=flaky, retry_backoff=0.1)
    await scheduler.start()
    job = await add_job()
    await scheduler.enqueue(job)
    done = await scheduler.wait_for_job(job.id)
    assert done.status is JobStatus.SUCCEEDED and done.notified
    assert flaky.failures == 1 and presenter.deliver_calls == 1


async def test_a_failure_told_but_not_recorded_is_retried(
    store: JobStore,
    make_scheduler: MakeScheduler,
    add_job: AddJob,
    presenter: RecordingPresenter,
    fake: FakeCometAPI,
) -> None:
    """The terminal write and the `notified` write each fail once: both land on retry, and
    the member is told once."""
    fake.set_model_behaviour(SCHNELL, fail_with="CUDA out of memory")
    flaky = FlakyStore(store.db, store.clock)
    flaky.fail(JobStatus.FAILED)
    flaky.fail(None, when=lambda fields: "notified" in fields)
    scheduler = make_scheduler(store=flaky, retry_backoff=0.1)
    await scheduler.start()
    job = await add_job()
    await scheduler.enqueue(job)
    done = await scheduler.wait_for_job(job.id)
    assert done.status is JobStatus.FAILED and done.notified
    assert flaky.failures == 2 and presenter.finish_calls == 1
