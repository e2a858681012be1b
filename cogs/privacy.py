"""/forget-me: delete the caller's records after an ephemeral confirmation.

The two buttons carry the caller and the confirmation's deadline in their custom_id and are
registered as dynamic items, so a click always gets an answer: after the deadline, or after
a restart, it says the confirmation expired instead of failing silently.
"""

from __future__ import annotations

import re
from typing import Any

import discord
from discord import app_commands
from discord.app_commands import locale_str as _
from discord.ext import commands

from bot.edge.context import locale_of, services_of
from bot.edge.errors import send_ephemeral

CONFIRM_SECONDS = 120
PREFIX = "imagebot:forget:"
_TEMPLATE = rf"{PREFIX}(?P<action>confirm|keep):(?P<user>[0-9]+):(?P<until>[0-9]+)"


class ForgetButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=_TEMPLATE):  # type: ignore[misc]
    def __init__(self, action: str, user_id: int, until: int, label: str | None = None) -> None:
        style = discord.ButtonStyle.danger if action == "confirm" else discord.ButtonStyle.secondary
        super().__init__(
            discord.ui.Button(
                label=label or action,
                style=style,
                custom_id=f"{PREFIX}{action}:{user_id}:{until}",
            )
        )
        self.action = action
        self.user_id = user_id
        self.until = until

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> ForgetButton:
        return cls(match["action"], int(match["user"]), int(match["until"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        await answer(interaction, self.action, self.user_id, self.until)


async def answer(interaction: discord.Interaction, action: str, user_id: int, until: int) -> None:
    """Confirm or keep, for the caller only, before the deadline."""
    services = services_of(interaction)
    locale = locale_of(interaction)
    t = services.messages.t
    if interaction.user.id != user_id:
        # The message is ephemeral, so only a forged click lands here; still, never act.
        await send_ephemeral(interaction, t(locale, "refusal.not_requester"))
        return
    if services.clock.now() > until:
        await interaction.response.edit_message(content=t(locale, "forget_me.expired"), view=None)
        return
    if action == "keep":
        await interaction.response.edit_message(content=t(locale, "forget_me.kept"), view=None)
        return
    # Deleting many rows can take longer than Discord's 3 seconds: acknowledge first.
    await interaction.response.defer()
    if await services.jobs.active_for_user(user_id):
        # Deleting now would strand running jobs; the user can try again once they finish.
        text = t(locale, "forget_me.active_jobs")
    else:
        report = await services.usage_report.forget_user(user_id)
        text = t(locale, "forget_me.done", jobs=report.jobs_deleted)
    await interaction.edit_original_response(content=text, view=None)


class Privacy(commands.Cog):
    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot

    @app_commands.command(
        name=_("forget-me", key="command.forget_me.name"),
        description=_(
            "Delete your prompts, usage records and preferences (asks first)",
            key="command.forget_me.description",
        ),
    )
    # Forgetting must work wherever someone can reach the bot, a DM included.
    @app_commands.allowed_contexts(guilds=True, dms=True, private_channels=False)
    async def forget_me(self, interaction: discord.Interaction) -> None:
        services = services_of(interaction)
        locale = locale_of(interaction)
        t = services.messages.t
        user_id = interaction.user.id
        if await services.jobs.active_for_user(user_id):
            await interaction.response.send_message(
                t(locale, "forget_me.active_jobs"), ephemeral=True
            )
            return
        until = int(services.clock.now()) + CONFIRM_SECONDS
        # Only dynamic items: discord.py keeps no per-message state for this view, and the
        # deadline travels in the custom_id.
        view = discord.ui.View(timeout=None)
        view.add_item(ForgetButton("confirm", user_id, until, t(locale, "button.confirm")))
        view.add_item(ForgetButton("keep", user_id, until, t(locale, "button.keep")))
        await interaction.response.send_message(
            t(locale, "forget_me.confirm"), view=view, ephemeral=True
        )


async def setup(bot: commands.Bot) -> None:
    bot.add_dynamic_items(ForgetButton)
    await bot.add_cog(Privacy(bot))


async def teardown(bot: commands.Bot) -> None:
    bot.remove_dynamic_items(ForgetButton)
