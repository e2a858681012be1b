"""What /usage me and /usage server show: the figures of `bot.policy.usage` as embeds.

Rendering only. Amounts are dollars, with the jobs of unknown price named beside them (a model
without a price is never shown as free). Mentions in an embed never ping (and the bot's allowed_mentions is none
besides), so top users are shown as mentions.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import discord

from bot.edge.render import code_span, model_label
from bot.money import Spend, format_usd

if TYPE_CHECKING:
    from bot.catalog import Catalog
    from bot.i18n import Messages
    from bot.policy import GuildUsage, UserUsage
    from bot.policy.usage import MonthSpend

COLOR = 0x5865F2
MODEL_LINES = 10


def _seconds(messages: Messages, locale: str, seconds: float) -> str:
    return messages.t(locale, "common.seconds", seconds=f"{seconds:.1f}")


def _lines(lines: list[str], empty: str) -> str:
    """Whole lines up to a field's 1024 characters: a line cut in half could leave an escape
    or a code span open."""
    if not lines:
        return empty
    kept: list[str] = []
    size = 0
    for line in lines:
        if size + len(line) + 1 > 1022:
            kept.append("…")
            break
        kept.append(line)
        size += len(line) + 1
    return "\n".join(kept)


def _label(messages: Messages, locale: str, key: str, code: str) -> str:
    """A code in words, or the code itself when no catalog has words for it (a newer kind)."""
    return messages.t(locale, key) if messages.has("en-US", key) else code_span(code, 100)


def reason_label(messages: Messages, locale: str, reason: str) -> str:
    return _label(messages, locale, f"usage.reason.{reason}", reason)


def failure_label(messages: Messages, locale: str, kind: str) -> str:
    """Failures are grouped by error kind, or by status when a job ended without one."""
    return _label(messages, locale, f"status.{kind}", kind)


def amount(messages: Messages, locale: str, spend: Spend) -> str:
    """`$1.23`, with the jobs of unknown price beside it when there are any (never as $0)."""
    if not spend.unknown_jobs:
        return format_usd(spend.micros)
    if not spend.micros:
        return messages.t(locale, "usage.amount_all_unknown", count=spend.unknown_jobs)
    return messages.t(
        locale, "usage.amount_unknown", amount=format_usd(spend.micros), count=spend.unknown_jobs
    )


def _model_lines(
    messages: Messages, catalog: Catalog, locale: str, usage: UserUsage | GuildUsage
) -> list[str]:
    return [
        messages.t(
            locale,
            "usage.model_spend_line",
            model=model_label(catalog, m.model),
            amount=amount(messages, locale, m.spend),
            images=m.images,
        )
        for m in usage.per_model[:MODEL_LINES]
    ]


def spend_lines(messages: Messages, locale: str, spend: MonthSpend) -> str:
    """Spend today and this month (UTC), and the budget that applies, if any."""
    t = messages.t
    lines = [
        t(locale, "usage.spend_today", amount=amount(messages, locale, spend.today)),
        t(locale, "usage.spend_month", amount=amount(messages, locale, spend.month)),
    ]
    if spend.budget:
        lines.append(
            t(
                locale,
                "usage.spend_budget",
                spent=format_usd(spend.month.micros),
                budget=format_usd(spend.budget),
                reset=f"<t:{int(spend.reset)}:D>",
            )
        )
    return "\n".join(lines)


def _today_lines(messages: Messages, locale: str, summary: UserUsage) -> list[str]:
    """The member's allowance today: images used of the limit, the cooldown, active jobs."""
    t = messages.t
    left = summary.remaining
    today: list[str] = []
    if left["user_daily_limit"]:
        today.append(
            t(locale, "usage.today_value", used=left["used"], limit=left["user_daily_limit"])
        )
        reset = f"<t:{int(left['reset'])}:R>"
        today.append(t(locale, "usage.remaining", remaining=left["remaining"], reset=reset))
    else:
        today.append(t(locale, "usage.today_unlimited", used=left["used"]))
    if left.get("cooldown_until"):
        today.append(t(locale, "usage.cooldown", retry=f"<t:{int(left['cooldown_until'])}:R>"))
    if left.get("active_jobs_limit"):
        today.append(
            t(
                locale,
                "usage.active_jobs",
                active=left["active_jobs"],
                limit=left["active_jobs_limit"],
            )
        )
    return today


def me_embed(
    messages: Messages, catalog: Catalog, locale: str, summary: UserUsage
) -> discord.Embed:
    """/usage me: today's allowance, then the period's requests, images and models."""
    t = messages.t
    embed = discord.Embed(
        title=t(locale, "usage.me.title"),
        description=t(locale, "usage.period", since=f"<t:{int(summary.since)}:D>"),
        color=COLOR,
    )
    today = _today_lines(messages, locale, summary)
    embed.add_field(name=t(locale, "usage.today"), value="\n".join(today), inline=False)
    embed.add_field(
        name=t(locale, "usage.spend"),
        value=spend_lines(messages, locale, summary.spend),
        inline=False,
    )
    if summary.requests == 0:
        embed.add_field(
            name=t(locale, "usage.requests"), value=t(locale, "usage.none"), inline=False
        )
        return embed
    embed.add_field(name=t(locale, "usage.requests"), value=str(summary.accepted))
    embed.add_field(name=t(locale, "usage.images"), value=str(summary.images))
    embed.add_field(name=t(locale, "usage.refused"), value=str(summary.refused))
    embed.add_field(
        name=t(locale, "usage.provider_time"),
        value=_seconds(messages, locale, summary.provider_seconds),
    )
    models = _model_lines(messages, catalog, locale, summary)
    if models:
        embed.add_field(
            name=t(locale, "usage.top_models"),
            value=_lines(models, t(locale, "usage.none")),
            inline=False,
        )
    return embed


def _count_lines(
    messages: Messages,
    locale: str,
    counts: dict[str, int],
    label: Callable[[Messages, str, str], str],
) -> list[str]:
    """`label: n` lines, most frequent first (ties by code)."""
    return [
        messages.t(locale, "usage.count_line", label=label(messages, locale, code), count=n)
        for code, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    ]


def server_embed(messages: Messages, catalog: Catalog, locale: str, s: GuildUsage) -> discord.Embed:
    """/usage server: totals, refusals by reason, failures by kind, top members and models."""
    t = messages.t
    embed = discord.Embed(
        title=t(locale, "usage.server.title"),
        description=t(locale, "usage.period", since=f"<t:{int(s.since)}:D>"),
        color=COLOR,
    )
    if s.requests == 0 and s.forgotten.requests == 0 and s.forgotten.refused == 0:
        embed.description = f"{embed.description}\n{t(locale, 'usage.none')}"
    embed.add_field(name=t(locale, "usage.requests"), value=str(s.accepted))
    embed.add_field(name=t(locale, "usage.images"), value=str(s.images))
    embed.add_field(
        name=t(locale, "usage.provider_time"), value=_seconds(messages, locale, s.provider_seconds)
    )
    embed.add_field(
        name=t(locale, "usage.spend"), value=spend_lines(messages, locale, s.spend), inline=False
    )
    refused = _count_lines(messages, locale, s.refused_by_reason, reason_label)
    embed.add_field(
        name=f"{t(locale, 'usage.refused')} · {s.refused}",
        value=_lines(refused, "—"),
        inline=False,
    )
    failures = _count_lines(messages, locale, s.failures_by_kind, failure_label)
    embed.add_field(
        name=f"{t(locale, 'usage.failed')} · {sum(s.failures_by_kind.values())}",
        value=_lines(failures, "—"),
        inline=False,
    )
    users = [
        t(
            locale,
            "usage.user_spend_line",
            user=f"<@{u.user_id}>",
            amount=amount(messages, locale, u.spend),
            images=u.images,
            requests=u.requests,
        )
        for u in s.top_users
    ]
    embed.add_field(name=t(locale, "usage.top_spenders"), value=_lines(users, "—"), inline=False)
    models = _model_lines(messages, catalog, locale, s)
    embed.add_field(name=t(locale, "usage.top_models"), value=_lines(models, "—"), inline=False)
    if s.forgotten.requests or s.forgotten.refused or s.forgotten.images:
        embed.set_footer(
            text=t(
                locale,
                "usage.forgotten",
                images=s.forgotten.images,
                requests=s.forgotten.requests,
            )
        )
    return embed


__all__ = ["amount", "failure_label", "me_embed", "reason_label", "server_embed", "spend_lines"]
