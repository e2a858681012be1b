"""The scheduler's estimates on its events: none without history, then close to the truth,
running and queued."""

from __future__ import annotations

from bot.jobs.events import JobEvent
from bot.jobs.model import Job
from tests.bot.scheduler.conftest import AddJob, FastClock, MakeScheduler, RecordingPresenter
from tests.fakes.cometapi import FakeCometAPI


def real_finish(fake: FakeCometAPI, clock: FastClock, job: Job) -> float:
    """When the fake finished the job's prediction, in epoch seconds of the job clock (not
    when a poll happened to see it)."""
    assert job.prediction_id is not None
    return fake.finished_at(job.prediction_id) + (clock.now() - clock.monotonic())


async def test_a_model_without_history_gets_no_estimate_then_one_after_a_finished_job(
    make_scheduler: MakeScheduler,
    add_job: AddJob,
    presenter: RecordingPresenter,
    fake: FakeCometAPI,
    clock: FastClock,
) -> None:
    """The first job's events carry no ETA; the second's, and its forecast, say about when
    it really finished (within a quarter of its 2.2 s)."""
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
    finish = real_finish(fake, clock, done)
    assert abs(started.eta - finish) < 0.25 * 2.2
    assert abs(shown - finish) < 0.25 * 2.2


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
    assert abs(shown - real_finish(fake, clock, done)) < 0.25 * (shown - queued_at)
    started: list[JobEvent] = presenter.events_for(behind.id, "started")
    assert started and started[0].eta is not None
