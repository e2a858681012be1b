"""UsageStore: what counts against a quota, per day, per server and for the cooldown."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.jobs.model import JobStatus
from bot.storage import Database, open_database
from bot.storage.jobs import JobStore
from bot.storage.usage import UsageStore
from tests.bot.storage.usage_helpers import GUILD, NOON, OTHER, TODAY, Clock, make


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
