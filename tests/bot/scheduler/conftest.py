"""Fixtures: a fake CometAPI and a scheduler on one sped-up clock, a real database (a SQLite
file and a PostgreSQL database: every test runs on both), and a presenter that records what the
Discord layer would have been asked to do."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import aiohttp
import pytest

from bot.cometapi import ClientTuning, DownloadedImage, PredictionClient
from bot.jobs import (
    DeliveryError,
    DeliveryReceipt,
    Job,
    JobEvent,
    JobStatus,
    NewJob,
)
from bot.scheduler import JobScheduler, SchedulerConfig
from bot.storage import Database, apply_migrations
from bot.storage.jobs import JobStore
from bot.storage.postgres import PostgresDatabase
from tests.backends import (
    BACKENDS,
    ThrowawayPostgres,
    create_postgres_database,
    drop_postgres_database,
    make_database,
    pg_available,
    pg_skip_reason,
)
from tests.fakes.cometapi import FakeCometAPI

SCHNELL = "black-forest-labs/flux-schnell"


class FastClock:
    """Real time running `factor` times faster: a job second lasts 1/factor real seconds.

    Shared by the fake API (its predictions' timing) and the scheduler (polls, deadlines,
    backoff), so realistic durations and the real poll policy run in a fraction of the time.
    """

    def __init__(self, factor: float = 10.0) -> None:
        self.factor = factor
        self._mono0 = time.monotonic()
        self._wall0 = time.time()

    def _elapsed(self) -> float:
        return (time.monotonic() - self._mono0) * self.factor

    def monotonic(self) -> float:
        return self._mono0 + self._elapsed()

    def now(self) -> float:
        return self._wall0 + self._elapsed()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds) / self.factor)


class RecordingPresenter:
    """The Discord layer's part, recorded: progress events, deliveries, finishes.

    `deliver_errors` / `finish_errors` are raised by the next calls, in order; `deliver_gate`
    (when set) holds every delivery until it opens. A delivery counts only once it returned.
    """

    def __init__(self, clock: FastClock) -> None:
        self.clock = clock
        self.events: list[JobEvent] = []
        self.delivered: list[tuple[Job, list[DownloadedImage], float]] = []
        self.deliver_calls = 0
        self.deliver_errors: list[Exception] = []
        self.deliver_gate: asyncio.Event | None = None
        self.deliver_entered = asyncio.Event()
        self.finished: list[Job] = []
        self.finish_calls = 0
        self.finish_errors: list[Exception] = []

    async def progress(self, job: Job, event: JobEvent) -> None:
        self.events.append(event)

    async def deliver(self, job: Job, images: Sequence[DownloadedImage]) -> DeliveryReceipt:
        self.deliver_calls += 1
        self.deliver_entered.set()
        if self.deliver_gate is not None:
            await self.deliver_gate.wait()
        if self.deliver_errors:
            raise self.deliver_errors.pop(0)
        self.delivered.append((job, list(images), self.clock.monotonic()))
        return DeliveryReceipt(
            message_id=10_000 + job.id,
            attachments=[
                {"id": 20_000 + job.id * 10 + i, "filename": f"image-{i + 1}.{img.extension}"}
                for i, img in enumerate(images)
            ],
            method="token",
        )

    async def finish(self, job: Job) -> None:
        self.finish_calls += 1
        if self.finish_errors:
            raise self.finish_errors.pop(0)
        self.finished.append(job)

    def delivered_ids(self) -> list[int]:
        return [job.id for job, _, _ in self.delivered]

    def events_for(self, job_id: int, kind: str | None = None) -> list[JobEvent]:
        return [e for e in self.events if e.job.id == job_id and (kind is None or e.kind == kind)]

    def position_changes(self, job_id: int, start: int | None) -> list[int | None]:
        """The positions a queued job was told, after `start` (what enqueue returned), each
        time it changed. A "queued" event that repeats a position must carry a moved
        estimate (`bot.jobs.eta`): checked here, so no event is a plain duplicate."""
        changes: list[int | None] = []
        previous, eta = start, None
        for event in self.events_for(job_id, "queued"):
            if event.position != previous:
                changes.append(event.position)
            else:
                assert event.eta != eta, f"job {job_id}: a queued event that changed nothing"
            previous, eta = event.position, event.eta
        return changes


@pytest.fixture
def clock(request: pytest.FixtureRequest) -> FastClock:
    """x10 unless the test says `@pytest.mark.clock_factor(N)`."""
    marker = request.node.get_closest_marker("clock_factor")
    return FastClock(marker.args[0] if marker else 10.0)


@pytest.fixture
async def fake(clock: FastClock) -> AsyncIterator[FakeCometAPI]:
    server = FakeCometAPI(duration=2.0, start_delay=0.2, clock=clock.monotonic)
    await server.start()
    try:
        yield server
    finally:
        await server.close()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as http:
        yield http


@pytest.fixture
def client(
    session: aiohttp.ClientSession, fake: FakeCometAPI, clock: FastClock
) -> PredictionClient:
    return PredictionClient(
        session,
        base_url=fake.base_url,
        api_key=fake.api_key,
        sleep=clock.sleep,
        random=lambda: 0.5,
        # job seconds: the client sleeps on the shared fast clock
        tuning=ClientTuning(read_timeout=5, backoff_base=0.2, backoff_cap=2.0),
    )


@pytest.fixture(scope="session")
def postgres_for_jobs() -> Iterator[tuple[str, str]]:
    """One migrated PostgreSQL database for the whole session's scheduler tests: (url, name).

    Creating a database costs about 0.25 s; emptying one costs a few milliseconds, so each
    test empties it instead (tests run one at a time). Dropped at the end.
    """
    if not pg_available():
        pytest.skip(pg_skip_reason())

    async def create() -> tuple[str, str]:
        url, name = await create_postgres_database()
        db = await PostgresDatabase.open(url)
        try:
            await apply_migrations(db)
        finally:
            await db.close()
        return url, name

    # Its own event loop, in a thread: it is first asked for inside a test's running loop.
    with ThreadPoolExecutor(1) as thread:
        made = thread.submit(lambda: asyncio.run(create())).result()
        try:
            yield made
        finally:
            thread.submit(lambda: asyncio.run(drop_postgres_database(made[1]))).result()


@pytest.fixture(params=BACKENDS)
async def db(request: pytest.FixtureRequest, tmp_path: Any) -> AsyncIterator[Database]:
    """Every scheduler test runs on a SQLite file and on an emptied PostgreSQL database."""
    if request.param == "sqlite":
        database = await make_database("sqlite", tmp_path)
    else:
        url, name = request.getfixturevalue("postgres_for_jobs")
        pg = await ThrowawayPostgres.open(url)
        pg.url, pg.name, pg._dropped = url, name, True  # shared: emptied, never dropped here
        tables = await pg.fetchall(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
            "AND tablename <> 'schema_migrations'"
        )
        names = ", ".join(f'"{t["tablename"]}"' for t in tables)
        await pg.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
        database = pg
    try:
        yield database
    finally:
        await database.close()


@pytest.fixture
def store(db: Database, clock: FastClock) -> JobStore:
    return JobStore(db, clock)


@pytest.fixture
def presenter(clock: FastClock) -> RecordingPresenter:
    return RecordingPresenter(clock)


class FlakyStore(JobStore):
    """The real JobStore (a thin wrapper: same database, same SQL) whose writes fail on cue,
    as a full disk or a lost database connection would.

    `fail(to, times=n, when=...)`: the next n transitions to `to` (whose fields satisfy
    `when`) raise before reaching the database; `to=None` fails `update()` instead.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._rules: list[list[Any]] = []  # [to, times left, when]
        self.failures = 0

    def fail(
        self,
        to: JobStatus | None,
        *,
        times: int = 1,
        when: Callable[[dict[str, Any]], bool] = lambda fields: True,
    ) -> None:
        self._rules.append([to, times, when])

    def _maybe_fail(self, to: JobStatus | None, fields: dict[str, Any]) -> None:
        for rule in self._rules:
            if rule[0] is to and rule[1] > 0 and rule[2](fields):
                rule[1] -= 1
                self.failures += 1
                raise RuntimeError("database or disk is full")

    async def transition(self, job_id: int, to: JobStatus, **kwargs: Any) -> Job | None:
        self._maybe_fail(to, kwargs)
        return await super().transition(job_id, to, **kwargs)

    async def update(self, job_id: int, **fields: Any) -> Job | None:
        self._maybe_fail(None, fields)
        return await super().update(job_id, **fields)


MakeScheduler = Callable[..., JobScheduler]


@pytest.fixture
async def make_scheduler(
    store: JobStore, client: PredictionClient, presenter: RecordingPresenter, clock: FastClock
) -> AsyncIterator[MakeScheduler]:
    """Build schedulers on the shared client/presenter (and store, unless the test gives its
    own); every other override is a SchedulerConfig field. All are stopped at the end."""
    made: list[JobScheduler] = []

    def make(*, store: JobStore = store, **overrides: Any) -> JobScheduler:
        options: dict[str, Any] = {
            "max_concurrent": 4,
            "job_timeout": 600,
            "poll_request_timeout": 30,
            "retry_backoff": 0.5,
            "stop_grace": 1.0,
        }
        options.update(overrides)
        scheduler = JobScheduler(
            store=store,
            client=client,
            presenter=presenter,
            config=SchedulerConfig(**options),
            clock=clock,
        )
        made.append(scheduler)
        return scheduler

    yield make
    for scheduler in made:
        await scheduler.stop()


AddJob = Callable[..., Awaitable[Job]]


@pytest.fixture
def add_job(store: JobStore) -> AddJob:
    """Write a queued job as the Discord layer's admission would."""
    counter = iter(range(1, 1_000_000))

    async def add(user_id: int = 1, *, model: str = SCHNELL, **input: Any) -> Job:
        n = next(counter)
        fields = {"prompt": f"job {n}", **input}
        return await store.insert(
            NewJob(
                kind="imagine",
                user_id=user_id,
                guild_id=42,
                channel_id=7,
                model=model,
                prompt=str(fields["prompt"]),
                input=fields,
                image_count=int(fields.get("num_outputs", 1)),
            )
        )

    return add


def seen(scheduler: JobScheduler, kind: str, job_id: int) -> asyncio.Event:
    """Set once the scheduler emits `kind` for the job. Subscribe before the act that causes
    it: an enqueue may start the job and emit "started" before it returns."""
    event = asyncio.Event()

    async def on_event(e: JobEvent) -> None:
        if e.kind == kind and e.job.id == job_id:
            event.set()

    scheduler.subscribe(on_event)
    return event


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "clock_factor(n): how much faster the job clock runs")


def transient(kind: str = "discord_unavailable") -> DeliveryError:
    return DeliveryError("Discord answered 503", kind=kind, permanent=False)
