"""The limits admission applies: the operator's ceilings, a server's values within them, and
the roles' (docs/decisions/015), plus what a check answers when it refuses.

Split from `bot.policy.admission` so that the budget checks (`bot.policy.budgets`) and the
admission that runs them share these names without importing each other.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

from bot.storage.guild_config import LIMIT_KINDS, GuildConfig


class LimitDefaults(Protocol):
    """The environment's limits, the operator's ceilings (`bot.settings.Settings` is one)."""

    @property
    def user_daily_limit(self) -> int: ...
    @property
    def guild_daily_limit(self) -> int: ...
    @property
    def user_cooldown_seconds(self) -> int: ...
    @property
    def user_max_active_jobs(self) -> int: ...
    @property
    def bot_daily_limit(self) -> int: ...
    @property
    def allow_dms(self) -> bool: ...
    @property
    def bot_monthly_budget(self) -> Decimal: ...
    @property
    def guild_max_active_jobs(self) -> int: ...


@dataclass(frozen=True)
class DefaultLimits:
    """LimitDefaults without a whole Settings object (tests, the benchmark, the CLI)."""

    user_daily_limit: int = 50
    guild_daily_limit: int = 0
    user_cooldown_seconds: int = 0
    user_max_active_jobs: int = 2
    bot_daily_limit: int = 0
    allow_dms: bool = False
    bot_monthly_budget: Decimal = Decimal(0)
    guild_max_active_jobs: int = 0


@dataclass(frozen=True)
class EffectiveLimits:
    """The limits that apply to one member in one place. 0 means no limit (no cooldown).

    `user_daily` counts the member's images here; `user_daily_total` (USER_DAILY_LIMIT) their
    images in every server and DM; `bot_daily` (BOT_DAILY_LIMIT) every image of the bot.
    """

    user_daily: int
    guild_daily: int
    cooldown_seconds: int
    active_jobs: int
    user_daily_total: int = 0
    bot_daily: int = 0


@dataclass
class Verdict:
    """A check's refusal: the reason, the data the user's sentence needs, the logged figures."""

    reason: str
    params: dict[str, Any] = field(default_factory=dict)
    detail: str | None = None


def _best_cap(current: int, offered: int) -> int:
    # Caps where 0 means unlimited: unlimited wins, otherwise the larger.
    if current == 0 or offered == 0:
        return 0
    return max(current, offered)


def limits_for(
    defaults: LimitDefaults, config: GuildConfig, role_ids: Iterable[int]
) -> EffectiveLimits:
    """The operator's ceilings, the server's values within them, then the member's roles.

    A server's value is read within the operator's (`LimitKind.effective`: not set, or a 0
    stored before the ceilings, is the operator's value). A role may give its members more
    than the server's value (higher counts, a shorter cooldown; the best role wins) but never
    more than the operator's ceiling, since its value is read the same way.
    """

    def read(code: str, stored: int | None) -> int:
        kind = LIMIT_KINDS[code]
        return kind.effective(stored, kind.operator_value(defaults))

    daily = read("user_daily", config.user_daily_limit)
    cooldown = read("cooldown", config.user_cooldown_seconds)
    active = read("active_jobs", config.user_max_active_jobs)
    held = frozenset(role_ids)
    for role in config.role_limits:
        if role.role_id not in held:
            continue
        if role.user_daily_limit is not None:
            daily = _best_cap(daily, read("user_daily", role.user_daily_limit))
        if role.user_max_active_jobs is not None:
            active = _best_cap(active, read("active_jobs", role.user_max_active_jobs))
        if role.user_cooldown_seconds is not None:
            cooldown = min(cooldown, read("cooldown", role.user_cooldown_seconds))
    return EffectiveLimits(
        user_daily=daily,
        guild_daily=read("guild_daily", config.guild_daily_limit),
        cooldown_seconds=cooldown,
        active_jobs=active,
        user_daily_total=defaults.user_daily_limit,
        bot_daily=defaults.bot_daily_limit,
    )


__all__ = [
    "DefaultLimits",
    "EffectiveLimits",
    "LimitDefaults",
    "Verdict",
    "limits_for",
]
