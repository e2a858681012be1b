"""UsageStore: what counts against a quota, and the anonymous counters /forget-me leaves."""

from __future__ import annotations

import calendar
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.jobs.model import Job, JobStatus, NewJob
from bot.storage import Database, open_database
from bot.storage.jobs import JobStore
from bot.storage.usage import DAY, UsageStore, day_key, day_start

GUILD = 111_111_111_111_111_111
OTHER = 222_222_222_222_222_222
NOON = float(calendar.timegm((2025, 3, 10, 12, 0, 0)))
TODAY = NOON - 12 * 3600


class Clock:
    def __init__(self, t: float = NOON) -> None:
        self.t = t

    def now(self) -> float:
        return self.t

    def monotonic(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.t += seconds


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await open_database(f"sqlite:///{tmp_path / 'bot.db'}")
    try:
        yield database
    finally:
        await database.close()


@pytest.fixture
def clock() -> Clock:
    return Clock()


def new(user: int = 1, guild: int | None = GUILD, count: int = 1) -> NewJob:
    return NewJob(
        kind="imagine",
        user_id=user,
        guild_id=guild,
        channel_id=5,
        model="a/b",
        prompt="p",
        input={"prompt": "p"},
        image_count=count,
    )


async def make(
    jobs: JobStore,
    status: JobStatus,
    *,
    prediction: str | None = None,
    user: int = 1,
    guild: int | None = GUILD,
    count: int = 1,
) -> Job:
    if status is JobStatus.REFUSED:
        return await jobs.insert(new(user, guild, count), status=status, refusal_reason="cooldown")
    job = await jobs.insert(new(user, guild, count))
    if prediction is not None or status is not JobStatus.QUEUED:
        moved = await jobs.transition(job.id, status, prediction_id=prediction)
        assert moved is not None
        job = moved
    return job


@pytest.mark.parametrize(
    ("status", "prediction", "counted"),
    [
        (JobStatus.QUEUED, None, True),
        (JobStatus.SUBMITTING, None, True),
        (JobStatus.RUNNING, "p", True),
        (JobStatus.DELIVERING, "p", True),
        (JobStatus.SUCCEEDED, "p", True),
        (JobStatus.FAILED, "p", True),
        (JobStatus.TIMED_OUT, "p", True),
        (JobStatus.CANCELED, "p", True),
        (JobStatus.FAILED, None, False),
        (JobStatus.CANCELED, None, False),
        (JobStatus.EXPIRED, None, False),
        (JobStatus.REFUSED, None, False),
    ],
)
async def test_what_counts_against_a_quota(
    db: Database, clock: Clock, status: JobStatus, prediction: str | None, counted: bool
) -> None:
    """Accepted jobs count unless they ended before the provider ran them; refusals never."""
    jobs, usage = JobStore(db, clock), UsageStore(db, clock)
    await make(jobs, status, prediction=prediction, count=3)
    expected = 3 if counted else 0
    assert await usage.user_images_since(db, 1, GUILD, TODAY) == expected
    assert await usage.guild_images_since(db, GUILD, TODAY) == expected


async def test_counts_are_per_day_per_server_and_dms_apart(db: Database, clock: Clock) -> None:
    """Yesterday's jobs, other servers and DMs are separate counts."""
    jobs, usage = JobStore(db, clock), UsageStore(db, clock)
    clock.t = TODAY - 1
    await make(jobs, JobStatus.QUEUED, count=4)
    clock.t = NOON
    await make(jobs, JobStatus.QUEUED, count=1)
    await make(jobs, JobStatus.QUEUED, count=2, guild=OTHER)
    await make(jobs, JobStatus.QUEUED, count=3, guild=None)
    await make(jobs, JobStatus.QUEUED, count=5, user=2)
    assert await usage.user_images_since(db, 1, GUILD, TODAY) == 1
    assert await usage.user_images_since(db, 1, OTHER, TODAY) == 2
    assert await usage.user_images_since(db, 1, None, TODAY) == 3
    assert await usage.guild_images_since(db, GUILD, TODAY) == 6
    assert await usage.active_jobs(db, 1) == 4


async def test_last_request_ignores_refusals_and_old_requests(db: Database, clock: Clock) -> None:
    """The cooldown's reference is the latest accepted request in the window, per server."""
    jobs, usage = JobStore(db, clock), UsageStore(db, clock)
    await make(jobs, JobStatus.QUEUED)
    clock.t = NOON + 10
    await make(jobs, JobStatus.REFUSED)
    await make(jobs, JobStatus.QUEUED, guild=OTHER)
    assert await usage.last_request_at(db, 1, GUILD, NOON - 60) == NOON
    assert await usage.last_request_at(db, 1, GUILD, NOON + 1) is None
    assert await usage.last_request_at(db, 1, OTHER, NOON) == NOON + 10
    assert await usage.last_request_at(db, 1, None, NOON - 60) is None


async def test_forgetting_folds_counts_into_hashed_and_anonymous_rows(
    db: Database, clock: Clock
) -> None:
    """Today and yesterday keep a salted hash (for quotas); older days keep only server totals."""
    jobs, usage = JobStore(db, clock), UsageStore(db, clock)
    clock.t = NOON - 3 * DAY
    await make(jobs, JobStatus.SUCCEEDED, prediction="old", count=2)
    clock.t = NOON - DAY
    await make(jobs, JobStatus.SUCCEEDED, prediction="y", count=1)
    clock.t = NOON
    await make(jobs, JobStatus.SUCCEEDED, prediction="t", count=3)
    await make(jobs, JobStatus.FAILED, count=4)  # never reached the provider
    await make(jobs, JobStatus.REFUSED, count=1)
    await make(jobs, JobStatus.SUCCEEDED, prediction="dm", count=1, guild=None)
    assert await usage.salt(db) is None

    report = await usage.forget_user(1)
    assert report.jobs_deleted == 6 and report.images_kept_anonymously == 4

    salt = await usage.salt(db)
    assert salt is not None and len(salt) == 32
    hashed = usage.user_hash(salt, 1)
    assert hashed not in (usage.user_hash(salt, 2), usage.user_hash("another salt", 1))
    rows = await db.fetchall(
        "SELECT day, guild_id, user_hash, requests, refused, images FROM anonymous_usage"
        " ORDER BY day, guild_id, user_hash"
    )
    assert rows == [
        {"day": day_key(NOON - 3 * DAY), "guild_id": GUILD, "user_hash": "", "requests": 1,
         "refused": 0, "images": 2},
        {"day": day_key(NOON - DAY), "guild_id": GUILD, "user_hash": hashed, "requests": 1,
         "refused": 0, "images": 1},
        {"day": day_key(NOON), "guild_id": 0, "user_hash": hashed, "requests": 1,
         "refused": 0, "images": 1},
        {"day": day_key(NOON), "guild_id": GUILD, "user_hash": hashed, "requests": 2,
         "refused": 1, "images": 3},
    ]  # fmt: skip
    assert not any(str(r["user_hash"]) == "1" for r in rows)
    assert await usage.anonymous_user_today(db, 1, GUILD, NOON + 5, NOON - 60) == (3, NOON)
    assert await usage.anonymous_user_today(db, 1, None, NOON + 5, NOON + 5) == (1, None)
    assert await usage.anonymous_user_today(db, 2, GUILD, NOON + 5, NOON - 60) == (0, None)
    assert await usage.anonymous_guild_images(db, GUILD, NOON) == 3
    totals = await usage.anonymous_totals(GUILD, TODAY - 3 * DAY, TODAY + DAY)
    assert (totals["requests"], totals["refused"], totals["images"]) == (4, 1, 6)
    assert (await usage.anonymous_totals(GUILD, TODAY - 3 * DAY, TODAY))["images"] == 3


async def test_pruning_folds_old_hashed_rows_into_server_totals(db: Database, clock: Clock) -> None:
    """Two days later the hashed rows are gone; the server's totals are unchanged."""
    jobs, usage = JobStore(db, clock), UsageStore(db, clock)
    await make(jobs, JobStatus.SUCCEEDED, prediction="t", count=3)
    await usage.forget_user(1)
    before = await usage.anonymous_totals(GUILD, TODAY, TODAY + DAY)
    clock.t = NOON + DAY
    assert await usage.prune_anonymous() == 0  # yesterday is still kept hashed
    clock.t = NOON + 2 * DAY
    assert await usage.prune_anonymous() == 1
    rows = await db.fetchall("SELECT user_hash, images FROM anonymous_usage")
    assert rows == [{"user_hash": "", "images": 3}]
    assert await usage.anonymous_totals(GUILD, TODAY, TODAY + DAY) == before


async def test_forgetting_twice_adds_up_and_keeps_one_salt(db: Database, clock: Clock) -> None:
    """A second /forget-me the same day adds to the same counter; the salt never changes."""
    jobs, usage = JobStore(db, clock), UsageStore(db, clock)
    await make(jobs, JobStatus.SUCCEEDED, prediction="a", count=2)
    await usage.forget_user(1)
    salt = await usage.salt(db)
    clock.t = NOON + 60
    await make(jobs, JobStatus.SUCCEEDED, prediction="b", count=1)
    fresh = UsageStore(db, clock)
    await fresh.forget_user(1)
    assert await fresh.salt(db) == salt
    assert await fresh.anonymous_user_today(db, 1, GUILD, NOON + 61, NOON) == (3, NOON + 60)
    empty = await fresh.forget_user(1)
    assert (empty.jobs_deleted, empty.events_deleted, empty.images_kept_anonymously) == (0, 0, 0)


def test_day_helpers_use_utc() -> None:
    """Days start at UTC midnight whatever the local time zone."""
    assert day_start(NOON) == TODAY
    assert day_start(TODAY) == TODAY
    assert day_key(TODAY - 0.5) == "2025-03-09" and day_key(TODAY) == "2025-03-10"
