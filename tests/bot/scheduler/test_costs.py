"""The scheduler settles each job's cost as it ends, from what the provider reported: the
images it made (fewer than asked when the safety checker drops some), a billed failure, a
create that never arrived, a job given up before the provider said how it ended."""

from __future__ import annotations

import pytest

from bot.jobs import Job, JobStatus, NewJob
from bot.storage.jobs import JobStore
from tests.bot.scheduler.conftest import SCHNELL, MakeScheduler
from tests.fakes.cometapi import FakeCometAPI

PER_IMAGE = 3_000  # micro-dollars
PER_REQUEST = 192_000


async def add(store: JobStore, count: int, price: int, unit: str = "image") -> Job:
    """A queued job as admission writes it, with the model's price."""
    return await store.insert(
        NewJob(
            kind="imagine",
            user_id=1,
            guild_id=42,
            channel_id=7,
            model=SCHNELL,
            prompt="p",
            input={"prompt": "p", "num_outputs": count},
            image_count=count,
            price_micros=price,
            price_unit=unit,
        )
    )


async def test_a_job_that_ends_with_fewer_images_than_asked_pays_for_those_made(
    make_scheduler: MakeScheduler, store: JobStore, fake: FakeCometAPI
) -> None:
    """Asked for 4, the safety checker kept 3: CometAPI's image_count is 3, so $0.009."""
    fake.set_model_behaviour(SCHNELL, safe_images=3)
    scheduler = make_scheduler()
    await scheduler.start()
    job = await add(store, 4, PER_IMAGE)
    assert job.cost_micros == 12_000
    await scheduler.enqueue(job)
    done = await scheduler.wait_for_job(job.id)
    assert done.status is JobStatus.SUCCEEDED
    assert (done.output_count, done.provider_images) == (3, 3)
    assert (done.cost_estimated_micros, done.cost_micros) == (12_000, 9_000)


@pytest.mark.parametrize(
    ("unit", "price", "cost"), [("image", PER_IMAGE, 0), ("request", PER_REQUEST, PER_REQUEST)]
)
async def test_a_failed_prediction_counts_when_the_provider_bills_it(
    make_scheduler: MakeScheduler,
    store: JobStore,
    fake: FakeCometAPI,
    unit: str,
    price: int,
    cost: int,
) -> None:
    """A prediction that ran and failed: the request is billed at a per-request price; at a
    per-image price it made no image, so nothing."""
    fake.set_model_behaviour(SCHNELL, fail_with="CUDA out of memory", duration=0.5)
    scheduler = make_scheduler()
    await scheduler.start()
    job = await add(store, 2, price, unit)
    await scheduler.enqueue(job)
    done = await scheduler.wait_for_job(job.id)
    assert done.status is JobStatus.FAILED and done.prediction_id
    assert (done.provider_images, done.cost_micros) == (0, cost)


async def test_a_create_that_was_refused_costs_nothing(
    make_scheduler: MakeScheduler, store: JobStore, fake: FakeCometAPI
) -> None:
    """No prediction id (402 at the create): the provider ran nothing, the job costs 0."""
    fake.fail_next(1, 402, route="create")
    scheduler = make_scheduler()
    await scheduler.start()
    job = await add(store, 1, PER_REQUEST, "request")
    await scheduler.enqueue(job)
    done = await scheduler.wait_for_job(job.id)
    assert done.status is JobStatus.FAILED and done.prediction_id is None
    assert done.cost_micros == 0


async def test_a_job_given_up_before_the_provider_finished_keeps_its_estimate(
    make_scheduler: MakeScheduler, store: JobStore, fake: FakeCometAPI
) -> None:
    """Timed out: the provider may still finish, and bill, it; the estimate stands."""
    fake.set_model_behaviour(SCHNELL, duration=60.0)
    scheduler = make_scheduler(job_timeout=3)
    await scheduler.start()
    job = await add(store, 2, PER_IMAGE)
    await scheduler.enqueue(job)
    done = await scheduler.wait_for_job(job.id)
    assert done.status is JobStatus.TIMED_OUT
    assert (done.provider_images, done.cost_micros) == (None, 6_000)
