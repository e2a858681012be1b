"""Helpers for the policy tests: a clock the test moves, job builders, an Admission factory."""

from __future__ import annotations

import calendar
from decimal import Decimal

from bot.jobs.model import NewJob
from bot.policy import Admission, DefaultLimits
from bot.storage.guild_config import GuildConfigStore
from bot.storage.jobs import JobStore

# 2025-03-10 12:00:00 UTC: midday, so "today" has room on both sides.
NOON = float(calendar.timegm((2025, 3, 10, 12, 0, 0)))
MIDNIGHT = float(calendar.timegm((2025, 3, 11, 0, 0, 0)))
GUILD = 111_111_111_111_111_111
OTHER_GUILD = 222_222_222_222_222_222
CHANNEL = 333_333_333_333_333_333


class FakeClock:
    """Epoch time that only moves when the test says so."""

    def __init__(self, start: float = NOON) -> None:
        self.t = start

    def now(self) -> float:
        return self.t

    def monotonic(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.t += max(0.0, seconds)

    def advance(self, seconds: float) -> None:
        self.t += seconds

    def set(self, t: float) -> None:
        self.t = t


def new_job(
    user: int = 1,
    guild: int | None = GUILD,
    channel: int | None = CHANNEL,
    count: int = 1,
    prompt: str = "a lighthouse at dusk",
    model: str = "black-forest-labs/flux-schnell",
    price: int | None = None,
    unit: str = "image",
) -> NewJob:
    """A request; `price` in micro-dollars per `unit` (None: the model's price is unknown)."""
    return NewJob(
        kind="imagine",
        user_id=user,
        guild_id=guild,
        channel_id=channel,
        model=model,
        prompt=prompt,
        input={"prompt": prompt, "num_outputs": count},
        image_count=count,
        price_micros=price,
        price_unit=unit if price is not None else None,
    )


def make_admission(
    jobs: JobStore,
    config: GuildConfigStore,
    clock: FakeClock,
    *,
    allow_dms: bool = False,
    bot_monthly_budget: str = "0",
    **limits: int,
) -> Admission:
    """An Admission under these operator limits (0, the default for each, means none) and
    BOT_MONTHLY_BUDGET in dollars."""
    defaults = DefaultLimits(
        user_daily_limit=limits.get("user_daily_limit", 0),
        guild_daily_limit=limits.get("guild_daily_limit", 0),
        user_cooldown_seconds=limits.get("user_cooldown_seconds", 0),
        user_max_active_jobs=limits.get("user_max_active_jobs", 0),
        bot_daily_limit=limits.get("bot_daily_limit", 0),
        allow_dms=allow_dms,
        guild_max_active_jobs=limits.get("guild_max_active_jobs", 0),
        bot_monthly_budget=Decimal(bot_monthly_budget),
    )
    return Admission(store=jobs, config=config, defaults=defaults, clock=clock)
