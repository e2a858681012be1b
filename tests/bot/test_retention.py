"""The daily retention sweep, on an injected clock: first a minute after start, then once a
day, an hour later when the database refused; 90 days is measured from each sweep."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.jobs.model import JobStatus, NewJob
from bot.retention import DAY, keep_erasing
from bot.storage import Database, open_database
from bot.storage.jobs import JobStore
from bot.storage.retention import JobRetention
from tests.bot.storage.usage_helpers import NOON


class Stop(Exception):
    """Raised by the clock once the test has seen enough sleeps."""


class SteppingClock:
    """Time moves only by the sleeps asked for; after `sleeps` of them the loop is stopped."""

    def __init__(self, t: float, sleeps: int) -> None:
        self.t = t
        self.asked: list[float] = []
        self._left = sleeps

    def now(self) -> float:
        return self.t

    def monotonic(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        if self._left == 0:
            raise Stop
        self._left -= 1
        self.asked.append(seconds)
        self.t += seconds


class RecordingRetention(JobRetention):
    """The real sweep, noting the time of each; the first `failures` sweeps raise instead."""

    def __init__(self, db: Database, clock: SteppingClock, failures: int = 0) -> None:
        super().__init__(db, clock)
        self.sweeps: list[float] = []
        self.failures = failures

    async def erase_ended_before(self, cutoff: float, *, batch: int = 200) -> int:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("database unreachable")
        self.sweeps.append(self.clock.now())
        return await super().erase_ended_before(cutoff, batch=batch)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await open_database(f"sqlite:///{tmp_path / 'bot.db'}")
    try:
        yield database
    finally:
        await database.close()


async def _ended(jobs: JobStore, at: float) -> int:
    job = await jobs.insert(
        NewJob(
            kind="imagine",
            user_id=1,
            guild_id=2,
            channel_id=3,
            model="a/b",
            prompt="kept for a while",
            input={"prompt": "kept for a while"},
            image_count=1,
        )
    )
    done = await jobs.transition(job.id, JobStatus.SUCCEEDED, prediction_id="p", finished_at=at)
    assert done is not None
    return job.id


async def test_old_jobs_are_erased_a_minute_after_start_then_once_a_day(db: Database) -> None:
    """95 days old: erased at the first sweep; 89.5 days old: at the next day's sweep."""
    clock = SteppingClock(NOON, sleeps=3)
    jobs = JobStore(db, clock)
    older = await _ended(jobs, NOON - 95 * DAY)
    younger = await _ended(jobs, NOON - 89.5 * DAY)
    retention = RecordingRetention(db, clock)
    with pytest.raises(Stop):
        await keep_erasing(retention, 90, clock)
    assert clock.asked == [60.0, DAY, DAY]
    assert retention.sweeps == [NOON + 60, NOON + 60 + DAY, NOON + 60 + 2 * DAY]
    first, second = await jobs.get(older), await jobs.get(younger)
    assert first is not None and first.erased_at == NOON + 60 and first.prompt == ""
    assert second is not None and second.erased_at == NOON + 60 + DAY


async def test_a_refused_sweep_is_tried_again_an_hour_later(db: Database) -> None:
    """The database is down at the first sweep: the loop lives on and tries after an hour."""
    clock = SteppingClock(NOON, sleeps=2)
    jobs = JobStore(db, clock)
    old = await _ended(jobs, NOON - 100 * DAY)
    retention = RecordingRetention(db, clock, failures=1)
    with pytest.raises(Stop):
        await keep_erasing(retention, 90, clock)
    assert clock.asked == [60.0, 3600.0]
    erased = await jobs.get(old)
    assert erased is not None and erased.erased_at == NOON + 60 + 3600
