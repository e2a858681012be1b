"""The limits a server can set, each declared once: `/settings limit kind:<code>`.

GuildConfigStore checks and stores them from these declarations, the /settings cog offers them
as its choices and shows them, and admission reads the same columns. A kind's `column` is at
once the guild_settings column, the GuildConfig field and the environment's setting
(`bot.settings.Settings`) of that name; `role_field`, when there is one, is the
guild_role_limits column and the RoleLimit field.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.storage.guild_model import GuildConfigError

# Image counts: far above any real quota, low enough that a typo is caught.
MAX_LIMIT = 1_000_000
# Jobs a member may have queued or running: each holds a place in the shared scheduler.
MAX_ACTIVE_JOBS = 1000
# A cooldown longer than a day makes no sense next to a daily quota; the anonymous counters
# kept after /forget-me also only remember two days.
MAX_COOLDOWN_SECONDS = 86_400


@dataclass(frozen=True)
class LimitKind:
    """One limit: where it is stored, its bounds, and how it reads."""

    code: str  # the /settings limit `kind:` value
    column: str  # guild_settings column = GuildConfig field = Settings field
    role_field: str | None  # guild_role_limits column = RoleLimit field; None: server-wide only
    maximum: int  # values run from 0 (no limit) to this
    seconds: bool = False  # a duration, shown in seconds

    def check(self, value: int | None) -> int | None:
        """The value to store (None: back to the default), or GuildConfigError if out of range."""
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= self.maximum:
            raise GuildConfigError(
                "limit_out_of_range",
                f"{self.column} must be a whole number from 0 to {self.maximum}"
                " (0 means no limit).",
                setting=self.column,
                minimum=0,
                maximum=self.maximum,
            )
        return value


# In the order /settings offers and shows them.
LIMIT_KINDS: dict[str, LimitKind] = {
    kind.code: kind
    for kind in (
        LimitKind("user_daily", "user_daily_limit", "user_daily_limit", MAX_LIMIT),
        LimitKind("guild_daily", "guild_daily_limit", None, MAX_LIMIT),
        LimitKind(
            "cooldown",
            "user_cooldown_seconds",
            "user_cooldown_seconds",
            MAX_COOLDOWN_SECONDS,
            seconds=True,
        ),
        LimitKind("active_jobs", "user_max_active_jobs", "user_max_active_jobs", MAX_ACTIVE_JOBS),
    )
}
# The columns a role can override, in guild_role_limits.
ROLE_FIELDS: tuple[str, ...] = tuple(k.role_field for k in LIMIT_KINDS.values() if k.role_field)


def limit_kind(code: str) -> LimitKind:
    """The kind for a `/settings limit kind:` value; ValueError for one that was never declared."""
    try:
        return LIMIT_KINDS[code]
    except KeyError:
        raise ValueError(f"unknown limit kind {code!r}") from None


__all__ = [
    "LIMIT_KINDS",
    "MAX_ACTIVE_JOBS",
    "MAX_COOLDOWN_SECONDS",
    "MAX_LIMIT",
    "ROLE_FIELDS",
    "LimitKind",
    "limit_kind",
]
