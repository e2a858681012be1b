"""/usage me, /usage server and /usage export: read the usage log, render it, nothing else."""

from __future__ import annotations

import io
from typing import Any

import discord
from discord import app_commands
from discord.app_commands import locale_str as _
from discord.ext import commands

from bot.edge.context import locale_of, services_of
from bot.edge.usage_view import me_embed, server_embed
from bot.errors import UserFacingError

DEFAULT_DAYS = 30
MAX_DAYS = 365
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
        roles = frozenset(r.id for r in getattr(interaction.user, "roles", []) or [])
        summary = await services.usage_report.user_summary(
            interaction.user.id, interaction.guild_id, days, role_ids=roles
        )
        embed = me_embed(services.messages, services.catalog, locale_of(interaction), summary)
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
        summary = await services.usage_report.guild_summary(interaction.guild_id, days)
        embed = server_embed(services.messages, services.catalog, locale_of(interaction), summary)
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
        export = await services.usage_report.export(interaction.guild_id, days)
        if export.rows == 0:
            await interaction.followup.send(t(locale, "usage.export.empty"), ephemeral=True)
            return
        data = export.data
        limit = getattr(interaction, "filesize_limit", None) or FALLBACK_UPLOAD_LIMIT
        if len(data) > limit:
            await interaction.followup.send(t(locale, "usage.export.too_large"), ephemeral=True)
            return
        await interaction.followup.send(
            t(locale, "usage.export.done", since=f"<t:{int(export.since)}:D>", rows=export.rows),
            file=discord.File(io.BytesIO(data), filename=export.filename),
            ephemeral=True,
        )


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(Usage(bot))
