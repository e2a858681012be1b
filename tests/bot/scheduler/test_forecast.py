"""The scheduler's estimates on its events: none without history, then close to the truth,
running and queued."""

from __future__ import annotations

import pytest

from bot.jobs.events import JobEvent
from tests.bot.scheduler.conftest import AddJob, FastClock, MakeScheduler, RecordingPresenter
from tests.fakes.cometapi import FakeCometAPI


@pytest.mark.clock_factor(20)
async def test_a_model_without_history_gets_no_estimate_then_one_after_a_finished_job(
    make_scheduler: MakeScheduler,
    add_job: AddJob,
    presenter: RecordingPresenter,
    fake: FakeCometAPI,
) -> None:
    """The first job's events carry no ETA; the second's "started" says about one duration."""
    fake.duration, fake.start_delay = 2.0, 0.2
    scheduler = make_scheduler()
    await scheduler.start()
    first = await add_job()
    assert scheduler.forecast(first) is None
    await scheduler.enqueue(first)
    await scheduler.wait_for_job(first.id)
    assert all(e.eta is None for e in presenter.events_for(first.id))

    second = await add_job()
    shown = scheduler.forecast(second)
    assert shown is not None
    await scheduler.enqueue(second)
    done = await scheduler.wait_for_job(second.id)
    started = next(e for e in presenter.events_for(second.id, "started"))
    assert started.eta is not None
    assert done.finished_at is not None
    # Within a quarter of the 2.2 s the prediction took (the clock runs 20 times faster).
    assert abs(started.eta - done.finished_at) < 0.25 * 2.2
    assert abs(shown - done.finished_at) < 0.25 * 2.2 + 0.5


@pytest.mark.clock_factor(20)
async def test_a_queued_job_waits_for_the_one_ahead_in_its_estimate(
    make_scheduler: MakeScheduler,
    add_job: AddJob,
    presenter: RecordingPresenter,
    fake: FakeCometAPI,
    clock: FastClock,
) -> None:
    """One slot: the second job's estimate is about two durations away, and holds."""
    fake.duration, fake.start_delay = 2.0, 0.2
    scheduler = make_scheduler(max_concurrent=1)
    await scheduler.start()
    warm = await add_job()
    await scheduler.enqueue(warm)
    await scheduler.wait_for_job(warm.id)
    presenter.events.clear()

    ahead, behind = await add_job(user_id=1), await add_job(user_id=2)
    await scheduler.enqueue(ahead)
    queued_at = clock.now()  # the scheduler's clock (job seconds)
    shown = scheduler.forecast(behind)
    assert shown is not None and 3.5 < shown - queued_at < 5.5
    await scheduler.enqueue(behind)
    done = await scheduler.wait_for_job(behind.id)
    assert done.finished_at is not None
    assert abs(shown - done.finished_at) < 0.25 * (done.finished_at - queued_at)
    started: list[JobEvent] = presenter.events_for(behind.id, "started")
    assert started and started[0].eta is not None
