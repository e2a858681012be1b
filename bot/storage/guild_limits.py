"""The limits a server can set, each declared once: `/settings limit kind:<code>`.

GuildConfigStore checks and stores them from these declarations, the /settings cog offers them
as its choices and shows them, and admission reads the same columns. A kind's `column` is at
once the guild_settings column, the GuildConfig field and the environment's setting
(`bot.settings.Settings`) of that name; `role_field`, when there is one, is the
guild_role_limits column and the RoleLimit field.

The environment's value of a limit is the operator's ceiling (docs/decisions/015): a server or
a role may only make it stricter, a lower count or a longer cooldown, and "no limit" is the
operator's choice alone. `check` holds that when a value is set; `effective` when one is read,
so values stored before the ceilings existed (a 0 meaning "no limit", a count above the
operator's) are read within them and never deleted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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
    maximum: int  # no stored value is above this
    seconds: bool = False  # a duration, shown in seconds: stricter means longer

    def operator_value(self, operator: Any) -> int:
        """The operator's value of this limit (an object with the Settings field names)."""
        return int(getattr(operator, self.column)) if operator is not None else 0

    def bounds(self, operator: int) -> tuple[int, int]:
        """The values a server or a role may set under the operator's value (0: none set).

        A count runs from 1 to the operator's value (to `maximum` when the operator set no
        limit); a cooldown from the operator's value (at least 1 second) to `maximum`.
        """
        if self.seconds:
            return max(1, operator), self.maximum
        return 1, operator or self.maximum

    def check(self, value: int | None, operator: int = 0) -> int | None:
        """The value to store (None: back to the operator's), or GuildConfigError naming why not."""
        if value is None:
            return None
        low, high = self.bounds(operator)
        whole = isinstance(value, int) and not isinstance(value, bool)
        if whole and low <= value <= high:
            return value
        params: dict[str, Any] = {"setting": self.column, "minimum": low, "maximum": high}
        if whole and operator and value >= 0:
            looser = value < operator if self.seconds else (value == 0 or value > operator)
            if looser:
                code = "limit_below_operator" if self.seconds else "limit_above_operator"
                bound = "at least" if self.seconds else "at most"
                raise GuildConfigError(
                    code,
                    f"{self.column} is {bound} {operator} in every server (the operator's"
                    f" limit): choose {low} to {high}.",
                    operator=operator,
                    **params,
                )
        if whole and value == 0:
            raise GuildConfigError(
                "limit_not_unlimited",
                f"Only the operator can remove {self.column}: choose {low} to {high}, or leave"
                " the value empty for the operator's.",
                **params,
            )
        raise GuildConfigError(
            "limit_out_of_range",
            f"{self.column} must be a whole number from {low} to {high}.",
            **params,
        )

    def effective(self, stored: int | None, operator: int) -> int:
        """What a server's or a role's stored value means under the operator's (0: no limit).

        Not set (None), or 0 stored before the ceilings ("no limit"), reads as the operator's
        value; a count above the operator's reads as the operator's, and so does a cooldown
        shorter than the operator's.
        """
        if not stored:
            return operator
        if self.seconds:
            return max(stored, operator)
        return stored if operator == 0 else min(stored, operator)


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
