"""What /settings shows a moderator: the overview, the limit lines, the blocked-term list, and
the sentence for a value the store refused.

Rendering only. The limits come from their one declaration (`bot.storage.guild_limits`), so a
new kind shows up here without a change.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

import discord

from bot.edge.render import code_span, model_label, truncate
from bot.errors import UserFacingError
from bot.money import format_usd, usd_to_micros
from bot.policy import LimitDefaults
from bot.storage.guild_budgets import effective_guild_budget, effective_member_budget
from bot.storage.guild_config import (
    LIMIT_KINDS,
    BlockedTerm,
    BlockedUser,
    GuildConfig,
    GuildConfigError,
    LimitKind,
)

if TYPE_CHECKING:
    from bot.catalog import Catalog
    from bot.i18n import Messages

COLOR = 0x5865F2
SHOWN_BLOCKED_USERS = 20
# An embed description holds 4096 characters; the rest is room for the "more" line.
TERMS_SHOWN_CHARS = 3900
# GuildConfigError.code -> the moderator's sentence. A term's codes not listed here are
# `settings.blocked_terms.<code>`.
ERROR_KEYS = {
    "limit_out_of_range": "settings.limit.out_of_range",
    "limit_above_operator": "settings.limit.above_operator",
    "limit_below_operator": "settings.limit.below_operator",
    "limit_not_unlimited": "settings.limit.not_unlimited",
    "limit_not_per_role": "settings.limit.role_not_supported",
    "pattern_invalid": "settings.blocked_terms.invalid_regex",
    "budget_above_operator": "settings.budget.above_operator",
    "budget_above_server": "settings.budget.above_server",
    "budget_out_of_range": "settings.budget.out_of_range",
}


class ShownDefaults(LimitDefaults, Protocol):
    """The environment's values /settings shows as the bot's defaults (`Settings` is one)."""

    @property
    def default_model(self) -> str: ...


def term_reason_key(code: str) -> str:
    """The moderators' sentence for a code of the store's refusals (a term's, by default):
    `/settings` answers with it, and the log channel explains a skipped stored term with it."""
    return ERROR_KEYS.get(code, f"settings.blocked_terms.{code}")


def refusal(error: GuildConfigError) -> UserFacingError:
    """The sentence for a /settings value the store refused, with the data it carries."""
    key = term_reason_key(error.code)
    if error.code.startswith("budget_"):  # the ceiling, in dollars
        return UserFacingError(key, max=format_usd(int(error.params["maximum"])))
    if error.code.startswith("limit_") and "minimum" in error.params:
        params = {"min": error.params["minimum"], "max": error.params["maximum"]}
        if "operator" in error.params:  # the refusal is about the operator's value: name it
            params["operator"] = error.params["operator"]
        return UserFacingError(key, **params)
    return UserFacingError(key, **error.params)


def show_term(term: str) -> str:
    """A term as code, shown verbatim whatever backticks or markdown it holds."""
    return code_span(term, TERMS_SHOWN_CHARS)


def limit_label(messages: Messages, locale: str, kind: LimitKind) -> str:
    return messages.t(locale, f"choice.settings.limit.kind.{kind.code}")


def limit_value(messages: Messages, locale: str, kind: LimitKind, value: int) -> str:
    if value == 0:
        return messages.t(locale, "settings.no_limit")
    if kind.seconds:
        return messages.t(locale, "common.seconds", seconds=value)
    return str(value)


def default_value(messages: Messages, locale: str, kind: LimitKind, defaults: LimitDefaults) -> str:
    """The environment's value of a limit, marked as the bot's default."""
    value = limit_value(messages, locale, kind, int(getattr(defaults, kind.column)))
    return messages.t(locale, "settings.bot_default", value=value)


def own_value(
    messages: Messages, locale: str, kind: LimitKind, own: int, defaults: LimitDefaults
) -> str:
    """A server's or a role's stored value as it applies: within the operator's, marked when a
    value stored earlier is read as the operator's instead (docs/decisions/015)."""
    applied = kind.effective(own, kind.operator_value(defaults))
    shown = limit_value(messages, locale, kind, applied)
    return shown if applied == own else messages.t(locale, "settings.capped", value=shown)


def limit_lines(
    messages: Messages, locale: str, config: GuildConfig, defaults: LimitDefaults
) -> list[str]:
    """Every limit of the server (its own or the default), then each role's own values."""
    t = messages.t
    lines = []
    for kind in LIMIT_KINDS.values():
        own = getattr(config, kind.column)
        value = (
            default_value(messages, locale, kind, defaults)
            if own is None
            else own_value(messages, locale, kind, own, defaults)
        )
        label = limit_label(messages, locale, kind)
        lines.append(t(locale, "settings.limit_line", limit=label, value=value))
    for role in config.role_limits:
        for kind in LIMIT_KINDS.values():
            own = getattr(role, kind.role_field) if kind.role_field else None
            if own is None:
                continue
            lines.append(
                t(
                    locale,
                    "settings.role_limit_line",
                    role=f"<@&{role.role_id}>",
                    limit=limit_label(messages, locale, kind),
                    value=own_value(messages, locale, kind, own, defaults),
                )
            )
    return lines


def budget_lines(
    messages: Messages, locale: str, config: GuildConfig, defaults: LimitDefaults
) -> list[str]:
    """The server's and each member's monthly budgets as they apply, then the operator's."""
    t = messages.t
    bot = usd_to_micros(defaults.bot_monthly_budget)

    def shown(own: int | None, applied: int) -> str:
        if not own:
            return t(locale, "settings.not_set")
        text = format_usd(applied)
        # Marked when the operator's budget is what applies (a member's above the server's
        # own budget simply reads as the server's, which the line above shows).
        capped = applied != own and applied == bot
        return t(locale, "settings.capped", value=text) if capped else text

    lines = [
        t(
            locale,
            "settings.budget.monthly_line",
            value=shown(config.monthly_budget_micros, effective_guild_budget(config, bot)),
        ),
        t(
            locale,
            "settings.budget.member_line",
            value=shown(config.member_budget_micros, effective_member_budget(config, bot)),
        ),
    ]
    if bot:
        lines.append(t(locale, "settings.budget.bot_line", value=format_usd(bot)))
    return lines


def unpriced_models(catalog: Catalog) -> list[str]:
    """The models that cannot be used while a budget is in force: those without a price."""
    return [m.label for m in catalog if m.price is None]


def settings_embed(
    messages: Messages,
    catalog: Catalog,
    defaults: ShownDefaults,
    locale: str,
    config: GuildConfig,
    *,
    term_count: int,
    blocked: Sequence[BlockedUser],
) -> discord.Embed:
    """/settings show: everything the server has set, and what it falls back to."""
    t = messages.t
    embed = discord.Embed(title=t(locale, "settings.title"), color=COLOR)
    channels = ", ".join(f"<#{c}>" for c in sorted(config.allowed_channel_ids))
    embed.add_field(
        name=t(locale, "settings.channels"),
        value=truncate(channels, 1024) or t(locale, "settings.all_channels"),
        inline=False,
    )
    roles = ", ".join(f"<@&{r}>" for r in sorted(config.allowed_role_ids))
    embed.add_field(
        name=t(locale, "settings.roles"),
        value=truncate(roles, 1024) or t(locale, "settings.everyone"),
        inline=False,
    )
    embed.add_field(
        name=t(locale, "settings.limits"),
        value=truncate("\n".join(limit_lines(messages, locale, config, defaults)), 1024),
        inline=False,
    )
    budgets = budget_lines(messages, locale, config, defaults)
    bot_budget = usd_to_micros(defaults.bot_monthly_budget)
    unpriced = unpriced_models(catalog)
    if unpriced and (bot_budget or config.monthly_budget_micros or config.member_budget_micros):
        budgets.append(t(locale, "settings.budget.unpriced", models=", ".join(unpriced)))
    embed.add_field(
        name=t(locale, "settings.budgets"), value=truncate("\n".join(budgets), 1024), inline=False
    )
    embed.add_field(
        name=t(locale, "settings.blocked_terms"),
        value=t(locale, "settings.blocked_terms_count", count=term_count),
        inline=False,
    )
    embed.add_field(
        name=t(locale, "settings.nsfw"),
        value=t(locale, "settings.nsfw_allow" if config.allow_nsfw else "settings.nsfw_deny"),
    )
    spoiler_key = "settings.spoiler_" + config.spoiler_mode.replace("-", "_")
    embed.add_field(name=t(locale, "settings.spoiler"), value=t(locale, spoiler_key))
    embed.add_field(
        name=t(locale, "settings.log_channel"),
        value=f"<#{config.log_channel_id}>"
        if config.log_channel_id
        else t(locale, "settings.not_set"),
    )
    default_model = (
        model_label(catalog, config.default_model)
        if config.default_model
        else t(locale, "settings.bot_default", value=model_label(catalog, defaults.default_model))
    )
    embed.add_field(name=t(locale, "settings.default_model"), value=default_model)
    users = [f"<@{b.user_id}>" for b in blocked[:SHOWN_BLOCKED_USERS]]
    if len(blocked) > SHOWN_BLOCKED_USERS:
        users.append("…")
    embed.add_field(
        name=f"{t(locale, 'settings.blocked_users')} · {len(blocked)}",
        value=truncate(", ".join(users), 1024) or t(locale, "common.none"),
        inline=False,
    )
    return embed


def terms_embed(messages: Messages, locale: str, terms: Sequence[BlockedTerm]) -> discord.Embed:
    """/settings blocked-terms list: as many terms as fit, then how many are not shown."""
    t = messages.t
    lines: list[str] = []
    size = 0
    for term in terms:
        line = f"• {show_term(term.term)}"
        if size + len(line) + 1 > TERMS_SHOWN_CHARS:
            break
        lines.append(line)
        size += len(line) + 1
    if len(lines) < len(terms):
        lines.append(t(locale, "settings.blocked_terms.more", count=len(terms) - len(lines)))
    return discord.Embed(
        title=f"{t(locale, 'settings.blocked_terms.list_title')} · {len(terms)}",
        description="\n".join(lines),
        color=COLOR,
    )


__all__ = [
    "ShownDefaults",
    "budget_lines",
    "default_value",
    "limit_label",
    "limit_lines",
    "limit_value",
    "refusal",
    "settings_embed",
    "show_term",
    "terms_embed",
    "unpriced_models",
]
