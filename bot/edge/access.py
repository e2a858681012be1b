"""Who may see a job, and who may act on it: judged in the job's own channel, now.

A button can be pressed far from its job: on a /show copy in another channel, or in the log
channel. The permissions Discord sends with an interaction are those of the channel where it
happened, so they say nothing about the job's channel. These checks compute the member's
permissions in the job's channel from discord.py's cache (`intents.guilds` keeps every
channel, role and overwrite of the bot's servers). A job in another server, a job made in a
DM, or a channel the cache does not know is visible to its requester only, and nobody else may
moderate it: when in doubt, no.
"""

from __future__ import annotations

from typing import Any

import discord

from bot.edge.components import PREFIX
from bot.edge.context import manages_server
from bot.jobs.model import Job


def permissions_in_job_channel(
    interaction: discord.Interaction, job: Job
) -> discord.Permissions | None:
    """The member's permissions in the job's channel, or None when they cannot be known."""
    guild = interaction.guild
    if guild is None or job.guild_id != guild.id or job.channel_id is None:
        return None
    channel = guild.get_channel_or_thread(job.channel_id)
    member = interaction.user
    if channel is None or not isinstance(member, discord.Member):
        return None
    return channel.permissions_for(member)


def can_view_job(interaction: discord.Interaction, job: Job) -> bool:
    """The requester, or a member who can read the job's channel now (/show, Info)."""
    if job.user_id == interaction.user.id:
        return True
    permissions = permissions_in_job_channel(interaction, job)
    return bool(
        permissions is not None and permissions.view_channel and permissions.read_message_history
    )


def can_delete_job(interaction: discord.Interaction, job: Job) -> bool:
    """Delete: the requester, or Manage Messages in the job's channel; on the log channel's
    post (the one with a Block button), Manage Server in the job's server too."""
    if job.user_id == interaction.user.id:
        return True
    permissions = permissions_in_job_channel(interaction, job)
    if permissions is not None and permissions.manage_messages:
        return True
    return is_log_post(interaction.message) and can_block_from(interaction, job)


def can_block_from(interaction: discord.Interaction, job: Job) -> bool:
    """The log channel's Block: Manage Server in the job's server, like /settings block."""
    return (
        job.guild_id is not None
        and job.guild_id == interaction.guild_id
        and manages_server(interaction.permissions)
    )


def is_log_post(message: discord.Message | None) -> bool:
    """Whether a message is a log channel mirror: the only posts that carry a Block button."""
    if message is None:
        return False
    return any(
        str(getattr(child, "custom_id", "") or "").startswith(f"{PREFIX}:block:")
        for row in message.components
        for child in _children(row)
    )


def _children(row: Any) -> list[Any]:
    return list(getattr(row, "children", []) or [])


__all__ = [
    "can_block_from",
    "can_delete_job",
    "can_view_job",
    "is_log_post",
    "permissions_in_job_channel",
]
