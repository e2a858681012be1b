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


def new(
    user: int = 1,
    guild: int | None = GUILD,
    count: int = 1,
    price: int | None = None,
    unit: str = "image",
) -> NewJob:
    """A request; `price` in micro-dollars per `unit` (None: the model's price is unknown)."""
    return NewJob(
        kind="imagine",
        user_id=user,
        guild_id=guild,
        channel_id=5,
        model="a/b",
        prompt="p",
        input={"prompt": "p"},
        image_count=count,
        price_micros=price,
        price_unit=unit if price is not None else None,
    )


async def make(
    jobs: JobStore,
    status: JobStatus,
    *,
    prediction: str | None = None,
    user: int = 1,
    guild: int | None = GUILD,
    count: int = 1,
    price: int | None = None,
    unit: str = "image",
    made: int | None = None,
) -> Job:
    """A job in `status`; `made`: the images the provider said it made (provider_images)."""
    request = new(user, guild, count, price, unit)
    if status is JobStatus.REFUSED:
        return await jobs.insert(request, status=status, refusal_reason="cooldown")
    job = await jobs.insert(request)
    if prediction is not None or status is not JobStatus.QUEUED:
        extra = {} if made is None else {"provider_images": made}
        moved = await jobs.transition(job.id, status, prediction_id=prediction, **extra)
        assert moved is not None
        job = moved
    return job
