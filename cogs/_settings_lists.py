"""/settings channels and /settings roles: where the bot may be used, and by whom."""

from __future__ import annotations

import discord
from discord import app_commands

from cogs._settings_common import SettingsGroup, cmd, guild_of, name, opt, reply, store_of


class Channels(SettingsGroup):
    @app_commands.command(**cmd("channels.add", "add", "Allow the bot in a channel"))
    @app_commands.rename(channel=name("channels.add", "channel"))
    @app_commands.describe(channel=opt("channels.add", "channel", "Channel to allow"))
    async def add(self, interaction: discord.Interaction, channel: discord.TextChannel) -> None:
        store, gid = store_of(interaction), guild_of(interaction)
        if channel.id in (await store.get(gid)).allowed_channel_ids:
            await reply(interaction, "settings.channels.already", channel=channel.mention)
            return
        await store.add_allowed_channel(gid, channel.id)
        await reply(interaction, "settings.channels.added", channel=channel.mention)

    @app_commands.command(
        **cmd("channels.remove", "remove", "Remove a channel from the allowed list")
    )
    @app_commands.rename(channel=name("channels.remove", "channel"))
    @app_commands.describe(channel=opt("channels.remove", "channel", "Channel to remove"))
    async def remove(self, interaction: discord.Interaction, channel: discord.TextChannel) -> None:
        store, gid = store_of(interaction), guild_of(interaction)
        if channel.id not in (await store.get(gid)).allowed_channel_ids:
            await reply(interaction, "settings.channels.not_listed", channel=channel.mention)
            return
        await store.remove_allowed_channel(gid, channel.id)
        await reply(interaction, "settings.channels.removed", channel=channel.mention)

    @app_commands.command(
        **cmd("channels.clear", "clear", "Clear the list so the bot works in every channel")
    )
    async def clear(self, interaction: discord.Interaction) -> None:
        await store_of(interaction).set_allowed_channels(guild_of(interaction), [])
        await reply(interaction, "settings.channels.cleared")


class Roles(SettingsGroup):
    @app_commands.command(**cmd("roles.add", "add", "Allow a role to use the bot"))
    @app_commands.rename(role=name("roles.add", "role"))
    @app_commands.describe(role=opt("roles.add", "role", "Role to allow"))
    async def add(self, interaction: discord.Interaction, role: discord.Role) -> None:
        store, gid = store_of(interaction), guild_of(interaction)
        if role.id in (await store.get(gid)).allowed_role_ids:
            await reply(interaction, "settings.roles.already", role=role.mention)
            return
        await store.add_allowed_role(gid, role.id)
        await reply(interaction, "settings.roles.added", role=role.mention)

    @app_commands.command(**cmd("roles.remove", "remove", "Remove a role from the allowed list"))
    @app_commands.rename(role=name("roles.remove", "role"))
    @app_commands.describe(role=opt("roles.remove", "role", "Role to remove"))
    async def remove(self, interaction: discord.Interaction, role: discord.Role) -> None:
        store, gid = store_of(interaction), guild_of(interaction)
        if role.id not in (await store.get(gid)).allowed_role_ids:
            await reply(interaction, "settings.roles.not_listed", role=role.mention)
            return
        await store.remove_allowed_role(gid, role.id)
        await reply(interaction, "settings.roles.removed", role=role.mention)

    @app_commands.command(
        **cmd("roles.clear", "clear", "Clear the list so every member may use the bot")
    )
    async def clear(self, interaction: discord.Interaction) -> None:
        await store_of(interaction).set_allowed_roles(guild_of(interaction), [])
        await reply(interaction, "settings.roles.cleared")
