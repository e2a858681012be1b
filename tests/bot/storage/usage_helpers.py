"""The usage-log tests' helpers: a clock the test moves, and jobs in any status."""

from __future__ import annotations

import calendar

from bot.jobs.model import Job, JobStatus, NewJob
from bot.storage.jobs import JobStore

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
