"""A server's monthly budgets, in micro-dollars: `/settings budget monthly|member AMOUNT`.

Like the limits (`guild_limits`, docs/decisions/015), the operator's value is the ceiling: a
server's monthly budget is at most BOT_MONTHLY_BUDGET when the operator set one, and a member's
monthly budget at most the server's monthly budget (and the operator's). Unlike the limits,
the operator's budget is not a per-server default: it caps the whole bot, so a server that sets
none simply has no budget of its own. Values are read within the ceilings (`effective_*`), so a
budget stored before the operator lowered theirs is never rewritten, only read lower.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.money import MAX_BUDGET_MICROS, format_usd
from bot.storage.guild_model import GuildConfig, GuildConfigError


@dataclass(frozen=True)
class BudgetKind:
    """One budget a server can set: its `/settings budget` name and its guild_settings column."""

    code: str
    column: str  # = the GuildConfig field


BUDGET_KINDS: dict[str, BudgetKind] = {
    kind.code: kind
    for kind in (
        BudgetKind("monthly", "monthly_budget_micros"),
        BudgetKind("member", "member_budget_micros"),
    )
}


def effective_guild_budget(config: GuildConfig, operator: int) -> int:
    """The server's monthly budget as it applies (0: none of its own), within the operator's."""
    own = config.monthly_budget_micros or 0
    return min(own, operator) if own and operator else own


def effective_member_budget(config: GuildConfig, operator: int) -> int:
    """A member's monthly budget here as it applies (0: none), within the server's and the bot's."""
    own = config.member_budget_micros or 0
    if not own:
        return 0
    caps = [c for c in (effective_guild_budget(config, operator), operator) if c]
    return min([own, *caps])


def check_budget(
    kind: BudgetKind, value: int | None, config: GuildConfig, operator: int
) -> int | None:
    """The value to store (None: no budget), or GuildConfigError naming the ceiling it passes."""
    if not value:
        return None
    params: dict[str, Any] = {"setting": kind.column}
    if kind.code == "monthly":
        ceiling, code = operator or MAX_BUDGET_MICROS, "budget_above_operator"
    else:
        guild = effective_guild_budget(config, operator)
        ceiling = min(c for c in (guild, operator, MAX_BUDGET_MICROS) if c)
        code = "budget_above_server" if guild and ceiling == guild else "budget_above_operator"
    if value > ceiling:
        if ceiling == MAX_BUDGET_MICROS:
            code = "budget_out_of_range"
        raise GuildConfigError(
            code,
            f"{kind.column} may be at most {format_usd(ceiling)}.",
            maximum=ceiling,
            **params,
        )
    return value


__all__ = [
    "BUDGET_KINDS",
    "BudgetKind",
    "check_budget",
    "effective_guild_budget",
    "effective_member_budget",
]
