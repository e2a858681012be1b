"""/usage me, /usage server and /usage export: read the usage log, render it, nothing else."""

from __future__ import annotations

import csv
import io
import time
from typing import Any

import discord
from discord import app_commands
from discord.app_commands import locale_str as _
from discord.ext import commands

from bot.edge.context import locale_of, services_of
from bot.edge.render import model_label, truncate
from bot.errors import UserFacingError
from bot.storage.usage import DAY, day_start

DEFAULT_DAYS = 30
MAX_DAYS = 365
MODEL_LINES = 10
COLOR = 0x5865F2
# What a bot may upload when the interaction does not say (Discord's smallest limit).
FALLBACK_UPLOAD_LIMIT = 8 * 1024 * 1024


def require_manage_server(interaction: discord.Interaction) -> None:
    """A real check in code: default_permissions only hides a command, and a server can
    change that in its integration settings, and subcommands cannot carry it at all."""
    if interaction.guild_id is None:
        raise UserFacingError("refusal.guild_only")
    if not interaction.permissions.manage_guild:
        raise UserFacingError("refusal.manage_server_required")


def _days(name: str, english: str) -> Any:
    return _(english, key=f"option.usage.{name}.days.name")


def _days_help(name: str) -> Any:
    return _("How many days back (default 30)", key=f"option.usage.{name}.days.description")


def _seconds(t: Any, locale: str, seconds: float) -> str:
    return str(t(locale, "common.seconds", seconds=f"{seconds:.1f}"))


def _lines(lines: list[str], empty: str) -> str:
    return truncate("\n".join(lines), 1024) if lines else empty


def _label(messages: Any, locale: str, key: str, code: str) -> str:
    """A code in words, or the code itself when no catalog has words for it (a newer kind)."""
    return messages.t(locale, key) if messages.has("en-US", key) else f"`{code}`"


def reason_label(messages: Any, locale: str, reason: str) -> str:
    return _label(messages, locale, f"usage.reason.{reason}", reason)


def failure_label(messages: Any, locale: str, kind: str) -> str:
    """Failures are grouped by error kind, or by status when a job ended without one."""
    return _label(messages, locale, f"status.{kind}", kind)


class Usage(commands.Cog):
    usage = app_commands.Group(
        name=_("usage", key="command.usage.name"),
        description=_("Image generation usage", key="command.usage.description"),
        guild_only=True,
    )

    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot

    @usage.command(
        name=_("me", key="command.usage.me.name"),
        description=_("Your own usage", key="command.usage.me.description"),
    )
    @app_commands.rename(days=_days("me", "days"))
    @app_commands.describe(days=_days_help("me"))
    async def me(
        self,
        interaction: discord.Interaction,
        days: app_commands.Range[int, 1, MAX_DAYS] = DEFAULT_DAYS,
    ) -> None:
        services = services_of(interaction)
        locale = locale_of(interaction)
        t = services.messages.t
        roles = frozenset(r.id for r in getattr(interaction.user, "roles", []) or [])
        summary = await services.usage_report.user_summary(
            interaction.user.id, interaction.guild_id, days, role_ids=roles
        )
        left = summary.remaining
        embed = discord.Embed(
            title=t(locale, "usage.me.title"),
            description=t(locale, "usage.period", since=f"<t:{int(summary.since)}:D>"),
            color=COLOR,
        )
        today: list[str] = []
        if left["user_daily_limit"]:
            today.append(
                t(locale, "usage.today_value", used=left["used"], limit=left["user_daily_limit"])
            )
            today.append(
                t(
                    locale,
                    "usage.remaining",
                    remaining=left["remaining"],
                    reset=f"<t:{int(left['reset'])}:R>",
                )
            )
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
        embed.add_field(name=t(locale, "usage.today"), value="\n".join(today), inline=False)
        if summary.requests == 0:
            embed.add_field(
                name=t(locale, "usage.requests"), value=t(locale, "usage.none"), inline=False
            )
        else:
            embed.add_field(name=t(locale, "usage.requests"), value=str(summary.accepted))
            embed.add_field(name=t(locale, "usage.images"), value=str(summary.images))
            embed.add_field(name=t(locale, "usage.refused"), value=str(summary.refused))
            embed.add_field(
                name=t(locale, "usage.provider_time"),
                value=_seconds(t, locale, summary.provider_seconds),
            )
            models = [
                t(
                    locale,
                    "usage.model_line",
                    model=model_label(services.catalog, m.model),
                    images=m.images,
                )
                for m in summary.per_model[:MODEL_LINES]
            ]
            if models:
                embed.add_field(
                    name=t(locale, "usage.top_models"),
                    value=_lines(models, t(locale, "usage.none")),
                    inline=False,
                )
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @usage.command(
        name=_("server", key="command.usage.server.name"),
        description=_(
            "This server's usage (Manage Server)", key="command.usage.server.description"
        ),
    )
    @app_commands.rename(days=_days("server", "days"))
    @app_commands.describe(days=_days_help("server"))
    async def server(
        self,
        interaction: discord.Interaction,
        days: app_commands.Range[int, 1, MAX_DAYS] = DEFAULT_DAYS,
    ) -> None:
        require_manage_server(interaction)
        assert interaction.guild_id is not None
        services = services_of(interaction)
        locale = locale_of(interaction)
        t = services.messages.t
        s = await services.usage_report.guild_summary(interaction.guild_id, days)
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
            name=t(locale, "usage.provider_time"), value=_seconds(t, locale, s.provider_seconds)
        )
        refused = [
            t(
                locale,
                "usage.count_line",
                label=reason_label(services.messages, locale, reason),
                count=n,
            )
            for reason, n in sorted(s.refused_by_reason.items(), key=lambda kv: (-kv[1], kv[0]))
        ]
        embed.add_field(
            name=f"{t(locale, 'usage.refused')} · {s.refused}",
            value=_lines(refused, "—"),
            inline=False,
        )
        failures = [
            t(
                locale,
                "usage.count_line",
                label=failure_label(services.messages, locale, kind),
                count=n,
            )
            for kind, n in sorted(s.failures_by_kind.items(), key=lambda kv: (-kv[1], kv[0]))
        ]
        failed_total = sum(s.failures_by_kind.values())
        embed.add_field(
            name=f"{t(locale, 'usage.failed')} · {failed_total}",
            value=_lines(failures, "—"),
            inline=False,
        )
        users = [
            t(
                locale,
                "usage.user_line",
                user=f"<@{u.user_id}>",
                images=u.images,
                requests=u.requests,
            )
            for u in s.top_users
        ]
        embed.add_field(name=t(locale, "usage.top_users"), value=_lines(users, "—"), inline=False)
        models = [
            t(
                locale,
                "usage.model_line",
                model=model_label(services.catalog, m.model),
                images=m.images,
            )
            for m in s.per_model[:MODEL_LINES]
        ]
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
        # Mentions in an embed never ping; the bot's allowed_mentions is none besides.
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @usage.command(
        name=_("export", key="command.usage.export.name"),
        description=_(
            "Download this server's usage log as a CSV file (Manage Server)",
            key="command.usage.export.description",
        ),
    )
    @app_commands.rename(days=_days("export", "days"))
    @app_commands.describe(days=_days_help("export"))
    async def export(
        self,
        interaction: discord.Interaction,
        days: app_commands.Range[int, 1, MAX_DAYS] = DEFAULT_DAYS,
    ) -> None:
        require_manage_server(interaction)
        assert interaction.guild_id is not None
        services = services_of(interaction)
        locale = locale_of(interaction)
        t = services.messages.t
        # A long period is many rows: acknowledge first, the file follows.
        await interaction.response.defer(ephemeral=True, thinking=True)
        now = services.clock.now()
        # The same period as /usage server: the last `days` UTC days, today included.
        today = day_start(now)
        since = today - (days - 1) * DAY
        text = await services.usage_report.export_csv(interaction.guild_id, since, today + DAY)
        rows = sum(1 for _row in csv.reader(io.StringIO(text))) - 1
        if rows <= 0:
            await interaction.followup.send(t(locale, "usage.export.empty"), ephemeral=True)
            return
        data = text.encode("utf-8")
        limit = getattr(interaction, "filesize_limit", None) or FALLBACK_UPLOAD_LIMIT
        if len(data) > limit:
            await interaction.followup.send(t(locale, "usage.export.too_large"), ephemeral=True)
            return
        day = time.strftime("%Y-%m-%d", time.gmtime(now))
        file = discord.File(io.BytesIO(data), filename=f"usage-{interaction.guild_id}-{day}.csv")
        await interaction.followup.send(
            t(locale, "usage.export.done", since=f"<t:{int(since)}:D>", rows=rows),
            file=file,
            ephemeral=True,
        )


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(Usage(bot))
