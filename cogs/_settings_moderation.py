"""/settings blocked-terms and /settings log-channel: what prompts may not contain, and where
moderators see every generation."""

from __future__ import annotations

import discord
from discord import app_commands

from bot.edge.context import locale_of, services_of
from bot.edge.settings_view import refusal, show_term, terms_embed
from bot.errors import UserFacingError
from bot.storage.guild_config import BlockedTermError
from cogs._settings_common import SettingsGroup, cmd, guild_of, name, opt, reply, store_of


async def _listed_terms(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[str]]:
    # Autocomplete runs no command checks: the list is only for those who manage it.
    if interaction.guild_id is None or not interaction.permissions.manage_guild:
        return []
    terms = await store_of(interaction).list_blocked_terms(interaction.guild_id)
    needle = current.strip().lower()
    return [
        app_commands.Choice(name=term.term[:100], value=term.term)
        for term in terms
        if needle in term.term.lower() and len(term.term) <= 100
    ][:25]


class BlockedTerms(SettingsGroup):
    @app_commands.command(**cmd("blocked_terms.add", "add", "Block a word, a phrase or a /regex/"))
    @app_commands.rename(term=name("blocked_terms.add", "term"))
    @app_commands.describe(term=opt("blocked_terms.add", "term", "A word, a phrase, or /regex/"))
    async def add(
        self, interaction: discord.Interaction, term: app_commands.Range[str, 1, 300]
    ) -> None:
        store, gid = store_of(interaction), guild_of(interaction)
        if term.strip() in {t.term for t in await store.list_blocked_terms(gid)}:
            await reply(interaction, "settings.blocked_terms.already")
            return
        try:
            added = await store.add_blocked_term(gid, term, added_by=interaction.user.id)
        except BlockedTermError as exc:
            raise refusal(exc) from None
        # Echoed to the moderator alone (ephemeral); members never see a term.
        await reply(interaction, "settings.blocked_terms.added", term=show_term(added.term))

    @app_commands.command(**cmd("blocked_terms.remove", "remove", "Unblock a term"))
    @app_commands.rename(term=name("blocked_terms.remove", "term"))
    @app_commands.describe(
        term=opt("blocked_terms.remove", "term", "The term to unblock, written as it was added")
    )
    @app_commands.autocomplete(term=_listed_terms)
    async def remove(
        self, interaction: discord.Interaction, term: app_commands.Range[str, 1, 300]
    ) -> None:
        if not await store_of(interaction).remove_blocked_term(guild_of(interaction), term):
            await reply(interaction, "settings.blocked_terms.not_found")
            return
        await reply(interaction, "settings.blocked_terms.removed", term=show_term(term.strip()))

    @app_commands.command(**cmd("blocked_terms.list", "list", "Show the blocked terms"))
    async def list_terms(self, interaction: discord.Interaction) -> None:
        terms = await store_of(interaction).list_blocked_terms(guild_of(interaction))
        if not terms:
            await reply(interaction, "settings.blocked_terms.empty")
            return
        messages = services_of(interaction).messages
        embed = terms_embed(messages, locale_of(interaction), terms)
        await interaction.response.send_message(embed=embed, ephemeral=True)


class LogChannel(SettingsGroup):
    @app_commands.command(**cmd("log_channel.set", "set", "Set the log channel"))
    @app_commands.rename(channel=name("log_channel.set", "channel"))
    @app_commands.describe(channel=opt("log_channel.set", "channel", "Channel for the log"))
    async def set_channel(
        self, interaction: discord.Interaction, channel: discord.TextChannel
    ) -> None:
        guild = interaction.guild
        me = guild.me if guild is not None else None
        if me is None and guild is not None and interaction.client.user is not None:
            me = await guild.fetch_member(interaction.client.user.id)
        if me is not None:
            # What the mirror needs: see the channel, post, and show an embed.
            perms = channel.permissions_for(me)
            if not (perms.view_channel and perms.send_messages and perms.embed_links):
                raise UserFacingError("settings.log_channel.no_permission", channel=channel.mention)
        await store_of(interaction).set_log_channel(guild_of(interaction), channel.id)
        await reply(interaction, "settings.log_channel.set", channel=channel.mention)

    @app_commands.command(
        **cmd("log_channel.clear", "clear", "Stop mirroring generations to a log channel")
    )
    async def clear(self, interaction: discord.Interaction) -> None:
        await store_of(interaction).set_log_channel(guild_of(interaction), None)
        await reply(interaction, "settings.log_channel.cleared")
