"""AnonymousUsage: the counters /forget-me leaves, the salt, and pruning old hashed rows."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.jobs.model import JobStatus
from bot.storage import Database, open_database
from bot.storage.anonymous_usage import AnonymousUsage
from bot.storage.jobs import JobStore
from bot.storage.usage_log import DAY, day_key
from tests.bot.storage.usage_helpers import GUILD, NOON, TODAY, Clock, make


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


async def test_forgetting_folds_counts_into_hashed_and_anonymous_rows(
    db: Database, clock: Clock
) -> None:
    """Today and yesterday keep a salted hash (for quotas); older days keep only server totals."""
    jobs, usage = JobStore(db, clock), AnonymousUsage(db, clock)
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
    assert await usage.user_today(db, 1, GUILD, NOON + 5, NOON - 60) == (3, NOON)
    assert await usage.user_today(db, 1, None, NOON + 5, NOON + 5) == (1, None)
    assert await usage.user_today(db, 2, GUILD, NOON + 5, NOON - 60) == (0, None)
    assert await usage.guild_images(db, GUILD, NOON) == 3
    totals = await usage.totals(GUILD, TODAY - 3 * DAY, TODAY + DAY)
    assert (totals["requests"], totals["refused"], totals["images"]) == (4, 1, 6)
    assert (await usage.totals(GUILD, TODAY - 3 * DAY, TODAY))["images"] == 3


async def test_pruning_folds_old_hashed_rows_into_server_totals(db: Database, clock: Clock) -> None:
    """Two days later the hashed rows are gone; the server's totals are unchanged."""
    jobs, usage = JobStore(db, clock), AnonymousUsage(db, clock)
    await make(jobs, JobStatus.SUCCEEDED, prediction="t", count=3)
    await usage.forget_user(1)
    before = await usage.totals(GUILD, TODAY, TODAY + DAY)
    clock.t = NOON + DAY
    assert await usage.prune() == 0  # yesterday is still kept hashed
    clock.t = NOON + 2 * DAY
    assert await usage.prune() == 1
    rows = await db.fetchall("SELECT user_hash, images FROM anonymous_usage")
    assert rows == [{"user_hash": "", "images": 3}]
    assert await usage.totals(GUILD, TODAY, TODAY + DAY) == before


async def test_forgetting_twice_adds_up_and_keeps_one_salt(db: Database, clock: Clock) -> None:
    """A second /forget-me the same day adds to the same counter; the salt never changes."""
    jobs, usage = JobStore(db, clock), AnonymousUsage(db, clock)
    await make(jobs, JobStatus.SUCCEEDED, prediction="a", count=2)
    await usage.forget_user(1)
    salt = await usage.salt(db)
    clock.t = NOON + 60
    await make(jobs, JobStatus.SUCCEEDED, prediction="b", count=1)
    fresh = AnonymousUsage(db, clock)
    await fresh.forget_user(1)
    assert await fresh.salt(db) == salt
    assert await fresh.user_today(db, 1, GUILD, NOON + 61, NOON) == (3, NOON + 60)
    empty = await fresh.forget_user(1)
    assert (empty.jobs_deleted, empty.events_deleted, empty.images_kept_anonymously) == (0, 0, 0)


async def test_forgetting_keeps_the_spend_and_the_members_month_until_it_ends(
    database: Database,
) -> None:
    """Spend and jobs of unknown price fold into the server's counters; the member's spend this
    month stays under their hash for a per-member budget, and goes when the month is over."""
    clock = Clock()
    jobs, usage = JobStore(database, clock), AnonymousUsage(database, clock)
    await make(jobs, JobStatus.SUCCEEDED, prediction="a", count=4, price=3_000, made=3)
    await make(jobs, JobStatus.SUCCEEDED, prediction="b", count=2)  # unknown price
    await make(jobs, JobStatus.REFUSED, count=4, price=3_000)
    await usage.forget_user(1)
    totals = await usage.totals(GUILD, TODAY, TODAY + DAY)
    assert (totals["spend_micros"], totals["unknown_jobs"]) == (9_000, 1)
    assert await usage.member_spend(database, 1, GUILD, NOON) == 9_000
    assert await usage.member_spend(database, 2, GUILD, NOON) == 0
    clock.t = NOON + 25 * DAY  # April 4th
    await usage.prune()
    assert await usage.member_spend(database, 1, GUILD, NOON) == 0
    assert await database.fetchval("SELECT COUNT(*) FROM anonymous_member_spend") == 0
    assert (await usage.totals(GUILD, TODAY, TODAY + DAY))["spend_micros"] == 9_000
