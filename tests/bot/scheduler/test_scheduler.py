"""JobScheduler: the happy path, the global cap, fairness, queue positions and events."""

from __future__ import annotations

import asyncio
import itertools

from bot.jobs import JobEvent, JobStatus
from bot.storage.jobs import JobStore
from tests.bot.scheduler.conftest import AddJob, MakeScheduler, RecordingPresenter
from tests.fakes.cometapi import FakeCometAPI


async def test_job_runs_from_queue_to_delivery(
    make_scheduler: MakeScheduler,
    add_job: AddJob,
    presenter: RecordingPresenter,
    fake: FakeCometAPI,
    store: JobStore,
) -> None:
    """A queued job is created, polled, downloaded and delivered, and every step is stored."""
    scheduler = make_scheduler()
    await scheduler.start()
    job = await add_job(num_outputs=2)
    assert await scheduler.enqueue(job) == 0
    done = await scheduler.wait_for_job(job.id)

    assert done.status is JobStatus.SUCCEEDED
    assert done.prediction_id in fake.predictions
    assert done.attempts == 1 and done.notified
    assert done.submitted_at and done.started_at and done.finished_at and done.delivered_at
    assert done.submitted_at <= done.started_at <= done.finished_at <= done.delivered_at
    assert done.deadline_at == done.submitted_at + 600
    assert done.provider_seconds and done.provider_seconds > 1.5
    assert done.output_count == 2
    assert done.result_message_id == 10_000 + job.id
    assert [a["filename"] for a in done.result_attachments] == ["image-1.webp", "image-2.webp"]
    assert done.delivery_method == "token"
    assert done.error_kind is None

    ((delivered_job, images, _),) = presenter.delivered
    assert delivered_job.id == job.id and delivered_job.status is JobStatus.DELIVERING
    assert [img.mime for img in images] == ["image/webp", "image/webp"]
    assert presenter.finished == []
    history = [e["status"] for e in await store.events(job.id)]
    assert history == ["queued", "submitting", "running", "delivering", "succeeded"]

    await scheduler.wait_idle()
    kinds = [e.kind for e in presenter.events_for(job.id)]
    assert kinds[0] == "started" and kinds[-2:] == ["delivering", "succeeded"]
    progress = [e.progress for e in presenter.events_for(job.id, "progress")]
    assert progress and progress == sorted(progress)


async def test_progress_events_move_in_steps_of_at_least_one_percent(
    make_scheduler: MakeScheduler, add_job: AddJob, presenter: RecordingPresenter
) -> None:
    """Progress from a 28-step bar is emitted only when it moves by 1% or more."""
    scheduler = make_scheduler()
    await scheduler.start()
    job = await add_job(model="black-forest-labs/flux-dev")
    await scheduler.enqueue(job)
    await scheduler.wait_for_job(job.id)
    await scheduler.wait_idle()
    values = [e.progress for e in presenter.events_for(job.id, "progress")]
    assert len(values) >= 2
    assert all(v is not None for v in values)
    steps = [b - a for a, b in itertools.pairwise(values)]  # type: ignore[operator]
    assert all(step >= 0.01 for step in steps)


async def test_global_cap_is_never_exceeded(
    make_scheduler: MakeScheduler, add_job: AddJob, fake: FakeCometAPI
) -> None:
    """With max_concurrent=3, the provider never runs more than 3 of our predictions at once."""
    fake.duration = 1.0
    scheduler = make_scheduler(max_concurrent=3)
    seen: list[int] = []

    async def sample(event: JobEvent) -> None:
        seen.append(scheduler.in_flight)

    scheduler.subscribe(sample)
    await scheduler.start()
    jobs = [await add_job(user_id=i % 4) for i in range(12)]
    positions = [await scheduler.enqueue(j) for j in jobs]
    assert positions[:3] == [0, 0, 0] and all(p > 0 for p in positions[3:])
    for job in jobs:
        assert (await scheduler.wait_for_job(job.id)).status is JobStatus.SUCCEEDED

    # The fake's own view: sweep the predictions' [created, finished) intervals.
    points = []
    for pred in fake.predictions.values():
        points += [(pred.created, 1), (pred.finished_at, -1)]
    running = peak = 0
    for _, delta in sorted(points, key=lambda p: (p[0], p[1])):
        running += delta
        peak = max(peak, running)
    assert peak == 3
    assert len(fake.predictions) == 12
    assert max(seen) <= 3


async def test_users_take_turns_in_exact_round_robin_order(
    make_scheduler: MakeScheduler, add_job: AddJob, fake: FakeCometAPI
) -> None:
    """Four users' jobs start one user-turn at a time, by when their oldest job arrived."""
    # Long enough (0.2 s real) that A1 is still running while all eight are enqueued, even on
    # a loaded machine; the positions below assume it is.
    fake.duration = 2.0
    scheduler = make_scheduler(max_concurrent=1)
    await scheduler.start()
    arrivals = [("A", 1), ("A", 2), ("A", 3), ("B", 1), ("C", 1), ("B", 2), ("A", 4), ("D", 1)]
    users = {"A": 1, "B": 2, "C": 3, "D": 4}
    jobs = {}
    returned = []
    for user, n in arrivals:
        job = await add_job(users[user], prompt=f"{user}{n}")
        jobs[f"{user}{n}"] = job
        returned.append(await scheduler.enqueue(job))
    # A1 starts at once; then the rotation is A, B, C, D (A's oldest queued job is oldest).
    assert returned == [0, 1, 2, 2, 3, 5, 6, 4]
    assert scheduler.queue_positions() == {
        jobs[name].id: i
        for i, name in enumerate(["A2", "B1", "C1", "D1", "A3", "B2", "A4"], start=1)
    }
    for job in jobs.values():
        await scheduler.wait_for_job(job.id)
    created = [r.json["input"]["prompt"] for r in fake.requests_for("create")]
    assert created == ["A1", "A2", "B1", "C1", "D1", "A3", "B2", "A4"]


async def test_queue_positions_are_announced_as_the_queue_moves(
    make_scheduler: MakeScheduler,
    add_job: AddJob,
    presenter: RecordingPresenter,
    fake: FakeCometAPI,
) -> None:
    """Each queued job hears its new position whenever it changes, and only then (an event
    that repeats a position carries a moved estimate, bot.jobs.eta)."""
    fake.duration = 0.5
    scheduler = make_scheduler(max_concurrent=1)
    await scheduler.start()
    a, b, c, d = [await add_job(user_id=u) for u in (1, 2, 3, 4)]
    assert [await scheduler.enqueue(j) for j in (a, b, c, d)] == [0, 1, 2, 3]
    assert scheduler.position(d.id) == 3 and scheduler.position(a.id) is None
    for job in (a, b, c, d):
        await scheduler.wait_for_job(job.id)
    await scheduler.wait_idle()

    def queued(job_id: int) -> list[int | None]:
        start = {a.id: 0, b.id: 1, c.id: 2, d.id: 3}[job_id]
        return presenter.position_changes(job_id, start)

    assert queued(a.id) == []
    assert queued(b.id) == []  # stayed first until it started
    assert queued(c.id) == [1]
    assert queued(d.id) == [2, 1]


async def test_enqueue_before_start_runs_once(
    make_scheduler: MakeScheduler,
    add_job: AddJob,
    fake: FakeCometAPI,
    presenter: RecordingPresenter,
) -> None:
    """A job enqueued before start() is run at start and not picked up twice by recovery."""
    scheduler = make_scheduler()
    job = await add_job()
    assert await scheduler.enqueue(job) == 1
    assert await scheduler.enqueue(job) == 1  # idempotent
    await scheduler.start()
    done = await scheduler.wait_for_job(job.id)
    assert done.status is JobStatus.SUCCEEDED
    assert len(fake.requests_for("create")) == 1
    assert presenter.delivered_ids() == [job.id]


async def test_stop_is_clean_and_safe_twice(
    make_scheduler: MakeScheduler, add_job: AddJob, fake: FakeCometAPI
) -> None:
    """stop() cancels every task the scheduler made, and a second stop() is harmless."""
    fake.duration = 100.0
    scheduler = make_scheduler()
    await scheduler.start()
    await scheduler.enqueue(await add_job())
    started = asyncio.Event()

    async def on_event(event: JobEvent) -> None:
        if event.kind == "started":
            started.set()

    scheduler.subscribe(on_event)
    await started.wait()
    before = {t for t in asyncio.all_tasks() if t is not asyncio.current_task()}
    assert any(t.get_name().startswith("jobs-") for t in before)
    await asyncio.gather(scheduler.stop(), scheduler.stop())
    await scheduler.stop()
    left = [t for t in asyncio.all_tasks() if t.get_name().startswith(("jobs-", "job-"))]
    assert left == []


async def test_stop_before_start_is_harmless(make_scheduler: MakeScheduler) -> None:
    """A scheduler that never started stops without error."""
    await make_scheduler().stop()


async def test_wait_for_job_on_an_unknown_or_finished_job(
    make_scheduler: MakeScheduler, add_job: AddJob, store: JobStore
) -> None:
    """wait_for_job returns a job the scheduler does not hold at once; unknown ids raise."""
    scheduler = make_scheduler()
    await scheduler.start()
    job = await add_job()
    await store.transition(job.id, JobStatus.FAILED, error_kind="x", notified=True)
    assert (await scheduler.wait_for_job(job.id)).status is JobStatus.FAILED
    try:
        await scheduler.wait_for_job(999)
    except LookupError:
        pass
    else:
        raise AssertionError("expected LookupError")
