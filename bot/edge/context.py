"""From an interaction to the core: the bot's services and scheduler, who asks, and where.

The edge modules reach the core through these functions only. They read the bot through the
`EdgeHost` protocol instead of importing the bot class, so nothing below the runner depends on
`bot.edge.app` (which is what kept seven modules in one import circle).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, cast

import discord

from bot.i18n import resolve_locale
from bot.policy import RequestContext

if TYPE_CHECKING:
    from bot.scheduler import JobScheduler
    from bot.services import Services


class EdgeHost(Protocol):
    """What the bot class offers the interaction side (`bot.edge.app.ImageBot` is one)."""

    @property
    def services(self) -> Services: ...

    @property
    def scheduler(self) -> JobScheduler: ...


class _HasLocales(Protocol):
    @property
    def locale(self) -> discord.Locale: ...

    @property
    def guild_locale(self) -> discord.Locale | None: ...


def host_of(interaction: discord.Interaction) -> EdgeHost:
    return cast("EdgeHost", interaction.client)


def services_of(interaction: discord.Interaction) -> Services:
    return host_of(interaction).services


def scheduler_of(interaction: discord.Interaction) -> JobScheduler:
    return host_of(interaction).scheduler


def locale_of(interaction: _HasLocales) -> str:
    """The catalog locale to answer an interaction in: the user's, else the server's."""
    guild_locale = interaction.guild_locale
    return resolve_locale(
        str(interaction.locale), str(guild_locale) if guild_locale is not None else None
    )


def is_moderator(permissions: discord.Permissions) -> bool:
    """May act on other members' jobs (cancel, delete): Manage Messages, Manage Server or
    Administrator, in the channel the permissions were computed for."""
    return bool(
        permissions.manage_messages or permissions.manage_guild or permissions.administrator
    )


def manages_server(permissions: discord.Permissions) -> bool:
    """Runs the server's bot policy: Manage Server (or Administrator)."""
    return bool(permissions.manage_guild or permissions.administrator)


def request_context(interaction: discord.Interaction) -> RequestContext:
    """Who asks and where, as the admission policy needs it."""
    member = interaction.user
    roles = frozenset(r.id for r in getattr(member, "roles", []) or [])
    channel = interaction.channel
    return RequestContext(
        user_id=interaction.user.id,
        guild_id=interaction.guild_id,
        channel_id=interaction.channel_id,
        role_ids=roles,
        is_moderator=manages_server(interaction.permissions),
        channel_age_restricted=bool(getattr(channel, "nsfw", False)),
    )
