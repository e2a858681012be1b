"""What a server's /settings are: the values GuildConfigStore keeps, and how rows become them.

A server that never ran /settings has no row and gets `GuildConfig`'s defaults, which mean
"use the environment's values". None in a limit means the same. A limit is read within the
operator's ceiling (`guild_limits.LimitKind.effective`): a 0 stored before the ceilings, which
meant "no limit", reads as the operator's value; /settings no longer stores 0.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

# How a server spoils results (/settings spoiler): never, always, or in age-restricted channels.
SPOILER_MODES = ("off", "on", "nsfw-only")


class GuildConfigError(ValueError):
    """A /settings value was refused. `code` picks the localized sentence; `str()` is English."""

    def __init__(self, code: str, message: str, **params: Any) -> None:
        super().__init__(message)
        self.code = code
        self.params = params


@dataclass(frozen=True)
class RoleLimit:
    """A role's overrides in one server: None leaves that limit alone; a value is read within
    the operator's ceiling (a 0 stored earlier reads as the operator's value)."""

    guild_id: int
    role_id: int
    user_daily_limit: int | None = None
    user_cooldown_seconds: int | None = None
    user_max_active_jobs: int | None = None


@dataclass(frozen=True)
class BlockedUser:
    guild_id: int
    user_id: int
    blocked_by: int | None
    blocked_at: float
    reason: str | None = None


@dataclass(frozen=True)
class GuildConfig:
    """A server's policy. None in a limit means "the environment's value"; values are read
    within the operator's ceilings (`LimitKind.effective`), never used raw."""

    guild_id: int
    allowed_channel_ids: frozenset[int] = frozenset()
    allowed_role_ids: frozenset[int] = frozenset()
    user_daily_limit: int | None = None
    guild_daily_limit: int | None = None
    user_cooldown_seconds: int | None = None
    user_max_active_jobs: int | None = None
    allow_nsfw: bool = False
    log_channel_id: int | None = None
    default_model: str | None = None
    role_limits: tuple[RoleLimit, ...] = ()
    terms_version: int = 0
    # Monthly budgets in micro-dollars (bot.money); None: none. Read within the operator's
    # BOT_MONTHLY_BUDGET (`guild_budgets.effective_*`).
    monthly_budget_micros: int | None = None
    member_budget_micros: int | None = None
    spoiler_mode: str = "off"  # one of SPOILER_MODES

    def spoils(self, *, age_restricted_channel: bool) -> bool:
        """Whether the server wants results in this channel uploaded as spoilers."""
        if self.spoiler_mode == "on":
            return True
        return self.spoiler_mode == "nsfw-only" and age_restricted_channel


def ids_from_json(raw: str | None) -> frozenset[int]:
    """An allow list as stored (a JSON array of ids; NULL is empty)."""
    return frozenset(int(v) for v in json.loads(raw or "[]"))


def ids_to_json(ids: Iterable[int]) -> str:
    return json.dumps(sorted({int(i) for i in ids}))


def config_from_row(
    guild_id: int, row: dict[str, Any] | None, role_limits: tuple[RoleLimit, ...] = ()
) -> GuildConfig:
    """A GuildConfig from a guild_settings row; None (or a row of NULLs) gives the defaults."""
    if row is None or row.get("updated_at") is None:
        return GuildConfig(guild_id=guild_id, role_limits=role_limits)
    return GuildConfig(
        guild_id=guild_id,
        allowed_channel_ids=ids_from_json(row["allowed_channel_ids"]),
        allowed_role_ids=ids_from_json(row["allowed_role_ids"]),
        user_daily_limit=row["user_daily_limit"],
        guild_daily_limit=row["guild_daily_limit"],
        user_cooldown_seconds=row["user_cooldown_seconds"],
        user_max_active_jobs=row["user_max_active_jobs"],
        allow_nsfw=bool(row["allow_nsfw"]),
        log_channel_id=row["log_channel_id"],
        default_model=row["default_model"],
        role_limits=role_limits,
        terms_version=int(row["terms_version"]),
        monthly_budget_micros=_micros(row.get("monthly_budget_micros")),
        member_budget_micros=_micros(row.get("member_budget_micros")),
        # A column of migration 072: absent from rows read before it, and from old snapshots.
        spoiler_mode=row.get("spoiler_mode") or "off",
    )


def _micros(value: Any) -> int | None:
    return None if value is None else int(value)


def role_limit_from_row(row: dict[str, Any]) -> RoleLimit:
    return RoleLimit(
        guild_id=int(row["guild_id"]),
        role_id=int(row["role_id"]),
        user_daily_limit=row["user_daily_limit"],
        user_cooldown_seconds=row["user_cooldown_seconds"],
        user_max_active_jobs=row["user_max_active_jobs"],
    )


def blocked_user_from_row(row: dict[str, Any]) -> BlockedUser:
    return BlockedUser(
        guild_id=int(row["guild_id"]),
        user_id=int(row["user_id"]),
        blocked_by=row["blocked_by"],
        blocked_at=row["blocked_at"],
        reason=row["reason"],
    )


__all__ = [
    "SPOILER_MODES",
    "BlockedUser",
    "GuildConfig",
    "GuildConfigError",
    "RoleLimit",
    "blocked_user_from_row",
    "config_from_row",
    "ids_from_json",
    "ids_to_json",
    "role_limit_from_row",
]
