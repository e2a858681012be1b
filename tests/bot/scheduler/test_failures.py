"""JobScheduler failures: create errors, failed predictions and delivery trouble all end
as a stored reason and one message to the user, never as silence."""

from __future__ import annotations

import asyncio

import pytest

from bot.jobs import DeliveryError, JobEvent, JobStatus
from bot.storage.jobs import JobStore
from tests.bot.scheduler.conftest import (
    SCHNELL,
    AddJob,
    MakeScheduler,
    RecordingPresenter,
    transient,
)
from tests.fakes.cometapi import FakeCometAPI


@pytest.mark.parametrize(
    ("status", "kind"),
    [(401, "auth"), (402, "no_credit"), (403, "forbidden"), (400, "invalid_input")],
)
async def test_create_errors_end_the_job_with_their_kind(
    make_scheduler: MakeScheduler,
    add_job: AddJob,
    presenter: RecordingPresenter,
    fake: FakeCometAPI,
    status: int,
    kind: str,
) -> None:
    """A refused create fails the job with the error's kind (auth stays distinguishable)."""
    fake.fail_next(1, status, route="create")
    scheduler = make_scheduler()
    await scheduler.start()
    job = await add_job()
    await scheduler.enqueue(job)
    done = await scheduler.wait_for_job(job.id)
    assert done.status is JobStatus.FAILED
    assert done.error_kind == kind and done.error_message
    assert done.prediction_id is None and done.notified
    assert len(fake.requests_for("create")) == 1  # never retried
    assert [j.error_kind for j in presenter.finished] == [kind]


async def test_invalid_input_and_unknown_model(
    make_scheduler: MakeScheduler, add_job: AddJob, fake: FakeCometAPI
) -> None:
    """The provider's 422 is invalid_input with its reason; an unknown model is unavailable."""
    scheduler = make_scheduler()
    await scheduler.start()
    bad = await add_job(num_outputs=9)
    missing = await add_job(model="acme/no-such-model")
    await scheduler.enqueue(bad)
    await scheduler.enqueue(missing)
    bad_done = await scheduler.wait_for_job(bad.id)
    assert bad_done.error_kind == "invalid_input"
    assert "num_outputs" in (bad_done.error_message or "")
    missing_done = await scheduler.wait_for_job(missing.id)
    assert missing_done.error_kind == "model_unavailable"


@pytest.mark.parametrize(
    ("fail_with", "kind"),
    [
        ("NSFW content detected in the output", "safety"),
        ("CUDA out of memory", "prediction_failed"),
    ],
)
async def test_failed_predictions_are_mapped(
    make_scheduler: MakeScheduler,
    add_job: AddJob,
    presenter: RecordingPresenter,
    fake: FakeCometAPI,
    fail_with: str,
    kind: str,
) -> None:
    """A failed prediction is "safety" or "prediction_failed", with the provider's message."""
    fake.set_model_behaviour(SCHNELL, duration=0.5, fail_with=fail_with)
    scheduler = make_scheduler()
    await scheduler.start()
    job = await add_job()
    await scheduler.enqueue(job)
    done = await scheduler.wait_for_job(job.id)
    assert done.status is JobStatus.FAILED
    assert done.error_kind == kind and done.error_message == fail_with
    assert done.prediction_id and done.finished_at and done.notified
    assert presenter.delivered == [] and [j.id for j in presenter.finished] == [job.id]


async def test_prediction_canceled_by_the_provider(
    make_scheduler: MakeScheduler,
    add_job: AddJob,
    fake: FakeCometAPI,
    presenter: RecordingPresenter,
) -> None:
    """A prediction the provider cancels ends the job canceled (canceled_by_provider)."""
    fake.set_model_behaviour("test/slow", duration=100.0)
    scheduler = make_scheduler()

    async def cancel_at_provider(event: JobEvent) -> None:
        if event.kind == "started" and event.job.prediction_id:
            fake.predictions[event.job.prediction_id].canceled_at = fake.clock()

    scheduler.subscribe(cancel_at_provider)
    await scheduler.start()
    job = await add_job(model="test/slow")
    await scheduler.enqueue(job)
    done = await scheduler.wait_for_job(job.id)
    assert done.status is JobStatus.CANCELED
    assert done.error_kind == "canceled_by_provider"
    assert [j.id for j in presenter.finished] == [job.id]


async def test_transient_delivery_errors_are_retried_without_downloading_again(
    make_scheduler: MakeScheduler,
    add_job: AddJob,
    presenter: RecordingPresenter,
    fake: FakeCometAPI,
) -> None:
    """Two transient failures, then success: three deliveries tried, the files fetched once."""
    presenter.deliver_errors = [transient(), RuntimeError("connection reset")]
    scheduler = make_scheduler(retry_backoff=0.2)
    await scheduler.start()
    job = await add_job(num_outputs=2)
    await scheduler.enqueue(job)
    done = await scheduler.wait_for_job(job.id)
    assert done.status is JobStatus.SUCCEEDED and done.notified
    assert presenter.deliver_calls == 3
    assert presenter.delivered_ids() == [job.id]
    assert len(fake.requests_for("files")) == 2  # one per output, not per attempt
    assert presenter.finished == []


async def test_permanent_delivery_error_fails_the_job(
    make_scheduler: MakeScheduler, add_job: AddJob, presenter: RecordingPresenter
) -> None:
    """A permanent delivery error is not retried: failed with its kind, and the user told."""
    presenter.deliver_errors = [
        DeliveryError("file too large", kind="too_large_to_upload", permanent=True)
    ]
    scheduler = make_scheduler()
    await scheduler.start()
    job = await add_job()
    await scheduler.enqueue(job)
    done = await scheduler.wait_for_job(job.id)
    assert done.status is JobStatus.FAILED
    assert done.error_kind == "too_large_to_upload" and done.error_message == "file too large"
    assert presenter.deliver_calls == 1
    assert [j.error_kind for j in presenter.finished] == ["too_large_to_upload"]


async def test_delivery_retries_run_out(
    make_scheduler: MakeScheduler, add_job: AddJob, presenter: RecordingPresenter
) -> None:
    """After delivery_retries transient failures the job fails with the last error's kind."""
    presenter.deliver_errors = [transient() for _ in range(3)]
    scheduler = make_scheduler(delivery_retries=2, retry_backoff=0.1)
    await scheduler.start()
    job = await add_job()
    await scheduler.enqueue(job)
    done = await scheduler.wait_for_job(job.id)
    assert done.status is JobStatus.FAILED and done.error_kind == "discord_unavailable"
    assert presenter.deliver_calls == 3
    assert [j.id for j in presenter.finished] == [job.id]


async def test_broken_download_fails_the_job(
    make_scheduler: MakeScheduler,
    add_job: AddJob,
    presenter: RecordingPresenter,
    fake: FakeCometAPI,
) -> None:
    """Outputs that are not whole images end the job failed "download"."""
    fake.set_model_behaviour(SCHNELL, duration=0.5, output_kind="broken")
    scheduler = make_scheduler()
    await scheduler.start()
    job = await add_job()
    await scheduler.enqueue(job)
    done = await scheduler.wait_for_job(job.id)
    assert done.status is JobStatus.FAILED and done.error_kind == "download"
    assert presenter.deliver_calls == 0 and len(presenter.finished) == 1


async def test_finish_is_retried_until_the_user_is_told(
    make_scheduler: MakeScheduler,
    add_job: AddJob,
    presenter: RecordingPresenter,
    fake: FakeCometAPI,
    store: JobStore,
) -> None:
    """presenter.finish raising is retried; notified is set only once it succeeded."""
    fake.fail_next(1, 402, route="create")
    presenter.finish_errors = [RuntimeError("discord down"), RuntimeError("still down")]
    scheduler = make_scheduler(retry_backoff=0.1)
    await scheduler.start()
    job = await add_job()
    await scheduler.enqueue(job)
    done = await scheduler.wait_for_job(job.id)
    assert done.status is JobStatus.FAILED and done.notified
    assert presenter.finish_calls == 3 and len(presenter.finished) == 1


async def test_progress_presenter_errors_are_not_fatal(
    make_scheduler: MakeScheduler, add_job: AddJob, presenter: RecordingPresenter
) -> None:
    """A presenter whose progress() raises does not stop the job, nor the other listeners."""
    calls: list[str] = []

    async def broken(job: object, event: JobEvent) -> None:
        raise RuntimeError("edit failed")

    async def listener(event: JobEvent) -> None:
        calls.append(event.kind)

    presenter.progress = broken  # type: ignore[method-assign]
    scheduler = make_scheduler()
    scheduler.subscribe(listener)
    await scheduler.start()
    job = await add_job()
    await scheduler.enqueue(job)
    assert (await scheduler.wait_for_job(job.id)).status is JobStatus.SUCCEEDED
    await scheduler.wait_idle()
    assert calls[-1] == "succeeded"


async def test_a_stuck_listener_does_not_hold_back_the_others(
    make_scheduler: MakeScheduler, add_job: AddJob, presenter: RecordingPresenter
) -> None:
    """A presenter.progress that never returns is cut after event_timeout; events flow on."""
    never = asyncio.Event()
    seen: list[str] = []

    async def stuck(job: object, event: JobEvent) -> None:
        await never.wait()

    async def listener(event: JobEvent) -> None:
        seen.append(event.kind)

    presenter.progress = stuck  # type: ignore[method-assign]
    scheduler = make_scheduler(event_timeout=0.02)
    scheduler.subscribe(listener)
    await scheduler.start()
    job = await add_job()
    await scheduler.enqueue(job)
    assert (await scheduler.wait_for_job(job.id)).status is JobStatus.SUCCEEDED
    await scheduler.wait_idle()
    assert seen[0] == "started" and seen[-1] == "succeeded"
