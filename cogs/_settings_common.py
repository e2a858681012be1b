"""What every /settings subcommand shares: the Manage Server check, localized names, replies.

Modules of cogs/ starting with `_` are not extensions (`discover_extensions` skips them): the
/settings subgroups live in `_settings_lists` and `_settings_moderation` and are assembled into
one tree by the Settings cog in `cogs.settings`.
"""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands
from discord.app_commands import locale_str as _

from bot.edge.context import locale_of, services_of
from bot.storage.guild_config import GuildConfigStore


def require_manage_server(interaction: discord.Interaction) -> bool:
    """Every /settings subcommand runs this before any option is read.

    `default_permissions` only hides the command, and a server can change who sees it in its
    integration settings. Raised as check failures so the tree's error handler gives the one
    sentence.
    """
    if interaction.guild_id is None:
        raise app_commands.NoPrivateMessage()
    if not interaction.permissions.manage_guild:
        raise app_commands.MissingPermissions(["manage_guild"])
    return True


class SettingsGroup(app_commands.Group):
    """A /settings subgroup. Its commands are bound to the group, not to the Settings cog, so
    discord.py runs this check instead of the cog's: it must be the same one."""

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        return require_manage_server(interaction)


def cmd(path: str, english_name: str, english_description: str) -> dict[str, Any]:
    """name= and description= of `/settings <path>`, with their catalog keys."""
    return {
        "name": _(english_name, key=f"command.settings.{path}.name"),
        "description": _(english_description, key=f"command.settings.{path}.description"),
    }


def opt(path: str, option: str, english: str) -> Any:
    """An option's description, with its catalog key."""
    return _(english, key=f"option.settings.{path}.{option}.description")


def name(path: str, option: str) -> Any:
    """An option's name, with its catalog key."""
    return _(option, key=f"option.settings.{path}.{option}.name")


def guild_of(interaction: discord.Interaction) -> int:
    assert interaction.guild_id is not None  # require_manage_server
    return interaction.guild_id


def store_of(interaction: discord.Interaction) -> GuildConfigStore:
    return services_of(interaction).guild_config


async def reply(interaction: discord.Interaction, key: str, **params: Any) -> None:
    """Answer with one ephemeral sentence in the moderator's language."""
    text = services_of(interaction).messages.t(locale_of(interaction), key, **params)
    await interaction.response.send_message(text, ephemeral=True)
