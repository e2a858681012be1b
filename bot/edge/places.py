"""Where each command works, declared on the command and checked again when it is used.

Discord shows a command only in the contexts its registration names (`contexts`,
`integration_types`). The bot's tree defaults to servers only, installed to servers only; a
command that works elsewhere says so (`SERVERS_AND_DMS`). The image commands, /jobs and /show
are offered in DMs with the bot only when the operator sets ALLOW_DMS=1 (`image_places`): a DM
has no server whose rules (block list, blocked terms, allowed channels) could apply.

A declaration is not enough on its own: commands registered globally before it stay until the
next sync, and a client may send anything. `ImageTree.interaction_check` refuses a command used
where it is not declared, with one sentence, before the command runs.
"""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands

from bot.edge.context import locale_of, services_of
from bot.edge.errors import send_ephemeral

SERVERS = app_commands.AppCommandContext(guild=True, dm_channel=False, private_channel=False)
SERVERS_AND_DMS = app_commands.AppCommandContext(guild=True, dm_channel=True, private_channel=False)
SERVER_INSTALL = app_commands.AppInstallationType(guild=True, user=False)


def image_places(allow_dms: bool) -> app_commands.AppCommandContext:
    """/imagine, /edit, "Edit image", /jobs and /show: servers, and DMs when the operator allows."""
    return SERVERS_AND_DMS if allow_dms else SERVERS


def image_places_of(client: discord.Client) -> app_commands.AppCommandContext:
    """`image_places` for the bot's settings (a client without them: servers only)."""
    settings = getattr(getattr(client, "services", None), "settings", None)
    return image_places(bool(getattr(settings, "allow_dms", False)))


def declared_places(
    command: app_commands.Command[Any, ..., Any] | app_commands.ContextMenu,
    tree: app_commands.CommandTree[Any],
) -> app_commands.AppCommandContext:
    """Where a command is declared to work: its top-level command's contexts over the tree's."""
    root = command.root_parent if isinstance(command, app_commands.Command) else None
    own = (root or command).allowed_contexts
    return tree.allowed_contexts.merge(own) if own is not None else tree.allowed_contexts


class ImageTree(app_commands.CommandTree[Any]):
    """The bot's command tree: servers only unless a command says otherwise, and held to it."""

    def __init__(self, client: discord.Client, **kwargs: Any) -> None:
        super().__init__(
            client, allowed_contexts=SERVERS, allowed_installs=SERVER_INSTALL, **kwargs
        )

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        if interaction.guild_id is not None:
            return True
        command = interaction.command
        if not isinstance(command, app_commands.Command | app_commands.ContextMenu):
            return True
        places = declared_places(command, self)
        allowed = (
            places.private_channel if interaction.context.private_channel else (places.dm_channel)
        )
        if allowed:
            return True
        if interaction.type is discord.InteractionType.application_command:
            services = services_of(interaction)
            text = services.messages.t(locale_of(interaction), "refusal.guild_only")
            await send_ephemeral(interaction, text)
        return False


__all__ = [
    "SERVERS",
    "SERVERS_AND_DMS",
    "SERVER_INSTALL",
    "ImageTree",
    "declared_places",
    "image_places",
    "image_places_of",
]
