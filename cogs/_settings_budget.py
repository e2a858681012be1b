"""/settings budget monthly|member: how much this server, and each member here, may spend per
calendar month (UTC). The rules (within the operator's BOT_MONTHLY_BUDGET, a member's within the
server's) are the store's (`bot.storage.guild_budgets`); this module parses and answers."""

from __future__ import annotations

import discord
from discord import app_commands

from bot.edge.context import locale_of, services_of
from bot.edge.settings_view import refusal, unpriced_models
from bot.errors import UserFacingError
from bot.money import MAX_BUDGET_MICROS, format_usd, parse_budget
from bot.storage.guild_config import GuildConfigError
from cogs._settings_common import SettingsGroup, cmd, guild_of, name, opt

_AMOUNT = "US dollars, such as 25 or 12.50; 0 removes the budget"
Amount = app_commands.Range[float, 0, MAX_BUDGET_MICROS // 1_000_000]


async def _set(interaction: discord.Interaction, kind: str, amount: float) -> None:
    services = services_of(interaction)
    gid, locale, t = guild_of(interaction), locale_of(interaction), services.messages.t
    try:
        micros = parse_budget(amount)
    except ValueError:
        raise UserFacingError("settings.budget.invalid") from None
    try:
        await services.guild_config.set_budget(gid, kind, micros or None)
    except GuildConfigError as exc:
        raise refusal(exc) from None
    if not micros:
        text = t(locale, f"settings.budget.{kind}_cleared")
    elif kind == "monthly":
        spent = (await services.usage_report.guild_spend(gid)).month.micros
        text = t(
            locale,
            "settings.budget.monthly_set",
            amount=format_usd(micros),
            spent=format_usd(spent),
        )
    else:
        text = t(locale, "settings.budget.member_set", amount=format_usd(micros))
    unpriced = unpriced_models(services.catalog)
    if micros and unpriced:  # say now what the budget will refuse, not at a member's request
        text += "\n" + t(locale, "settings.budget.unpriced", models=", ".join(unpriced))
    await interaction.response.send_message(text[:2000], ephemeral=True)


class Budget(SettingsGroup):
    @app_commands.command(
        **cmd(
            "budget.monthly", "monthly", "The most this server may spend per calendar month (UTC)"
        )
    )
    @app_commands.rename(amount=name("budget.monthly", "amount"))
    @app_commands.describe(amount=opt("budget.monthly", "amount", _AMOUNT))
    async def monthly(self, interaction: discord.Interaction, amount: Amount) -> None:
        await _set(interaction, "monthly", amount)

    @app_commands.command(
        **cmd(
            "budget.member",
            "member",
            "The most each member may spend here per calendar month (UTC)",
        )
    )
    @app_commands.rename(amount=name("budget.member", "amount"))
    @app_commands.describe(amount=opt("budget.member", "amount", _AMOUNT))
    async def member(self, interaction: discord.Interaction, amount: Amount) -> None:
        await _set(interaction, "member", amount)
