"""What a click on a job's button does: one `DynamicItem` class per action.

Each class matches its own custom_id template (`bot.edge.components`), reads the job from the
database and acts; nothing is kept in memory between the message and the click, so buttons
work after a restart and forever after. They are registered once, when the bot starts
(`DYNAMIC_ITEMS`).
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

import discord

from bot.catalog import reroll_input
from bot.edge.components import (
    EDIT_MODAL_PREFIX,
    job_custom_id,
    job_template,
    prompt_form,
)
from bot.edge.context import (
    is_moderator,
    locale_of,
    scheduler_of,
    services_of,
)
from bot.edge.errors import handle_error, send_ephemeral
from bot.edge.render import info_embed
from bot.edge.requests import new_seed, submit_request
from bot.errors import UserFacingError
from bot.jobs.events import CancelResult
from bot.jobs.model import Job

# What the requester is told after Cancel, by the scheduler's answer.
_CANCEL_KEYS = {
    CancelResult.CANCELED_LOCAL: "error.canceled_provider_may_finish",
    CancelResult.ALREADY_FINISHED: "refusal.job_finished",
    CancelResult.NOT_FOUND: "refusal.job_not_found",
}


class JobButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=job_template("job")):
    """The shared part: the job id from the custom_id, the job from the database, and every
    error answered with one sentence. Subclasses set `action` and implement `act`."""

    action: ClassVar[str] = "job"

    def __init__(self, job_id: int) -> None:
        super().__init__(discord.ui.Button(custom_id=job_custom_id(self.action, job_id)))
        self.job_id = job_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> JobButton:
        return cls(int(match["job"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        services = services_of(interaction)
        try:
            job = await services.jobs.get(self.job_id)
            if job is None:
                raise UserFacingError("refusal.job_not_found")
            await self.act(interaction, job)
        except Exception as exc:
            await handle_error(services.messages, interaction, exc)

    async def act(self, interaction: discord.Interaction, job: Job) -> None:
        raise NotImplementedError


class CancelButton(JobButton, template=job_template("cancel")):
    action = "cancel"

    async def act(self, interaction: discord.Interaction, job: Job) -> None:
        if not (interaction.user.id == job.user_id or is_moderator(interaction.permissions)):
            raise UserFacingError("refusal.not_requester")
        if not job.is_active:
            raise UserFacingError("refusal.job_finished")
        await interaction.response.defer(ephemeral=True, thinking=True)
        outcome = await scheduler_of(interaction).cancel(job.id, by_user_id=interaction.user.id)
        key = _CANCEL_KEYS.get(outcome, "jobs.cancel_requested")
        text = services_of(interaction).messages.t(locale_of(interaction), key, job_id=job.id)
        await interaction.followup.send(text, ephemeral=True)


class RerollButton(JobButton, template=job_template("reroll")):
    action = "reroll"

    async def act(self, interaction: discord.Interaction, job: Job) -> None:
        if interaction.user.id != job.user_id:
            raise UserFacingError("refusal.not_requester")
        if job.erased_at is not None:  # RETENTION_DAYS passed: nothing left to re-roll
            raise UserFacingError("refusal.job_erased")
        spec = services_of(interaction).catalog.get(job.model)
        await submit_request(
            interaction,
            kind="reroll",
            model_id=job.model,
            options={},
            parent=job,
            input_override=reroll_input(spec, job.input, rng=new_seed),
        )


class EditButton(JobButton, template=job_template("edit")):
    action = "edit"

    async def act(self, interaction: discord.Interaction, job: Job) -> None:
        if interaction.user.id != job.user_id:
            raise UserFacingError("refusal.not_requester")
        form = prompt_form(
            f"{EDIT_MODAL_PREFIX}{job.id}",
            services_of(interaction).messages,
            locale_of(interaction),
        )
        await interaction.response.send_modal(form)


class InfoButton(JobButton, template=job_template("info")):
    action = "info"

    async def act(self, interaction: discord.Interaction, job: Job) -> None:
        services = services_of(interaction)
        embed = info_embed(services.messages, services.catalog, job, locale_of(interaction))
        await interaction.response.send_message(embed=embed, ephemeral=True)


class DeleteButton(JobButton, template=job_template("delete")):
    action = "delete"

    async def act(self, interaction: discord.Interaction, job: Job) -> None:
        if not (interaction.user.id == job.user_id or is_moderator(interaction.permissions)):
            raise UserFacingError("refusal.not_moderator")
        await interaction.response.defer(ephemeral=True, thinking=True)
        target = job.result_message_id or job.message_id
        if interaction.message is not None and interaction.message.id in (target, job.message_id):
            await interaction.message.delete()
        elif target and job.channel_id:
            channel = interaction.client.get_partial_messageable(job.channel_id)
            try:
                await channel.get_partial_message(target).delete()
            except discord.NotFound:
                pass
        services = services_of(interaction)
        await services.jobs.update(
            job.id, result_attachments=[], refusal_detail=f"deleted by {interaction.user.id}"
        )
        await interaction.followup.send(
            services.messages.t(locale_of(interaction), "action.deleted"), ephemeral=True
        )


class BlockButton(JobButton, template=job_template("block")):
    """The log channel's Block: the requester may no longer use the bot in this server."""

    action = "block"

    async def act(self, interaction: discord.Interaction, job: Job) -> None:
        if not is_moderator(interaction.permissions) or interaction.guild_id is None:
            raise UserFacingError("refusal.not_moderator")
        services = services_of(interaction)
        await services.guild_config.block_user(
            interaction.guild_id, job.user_id, blocked_by=interaction.user.id
        )
        text = services.messages.t(
            locale_of(interaction), "settings.block.done", user=f"<@{job.user_id}>"
        )
        await send_ephemeral(interaction, text)


DYNAMIC_ITEMS: tuple[type[JobButton], ...] = (
    CancelButton,
    RerollButton,
    EditButton,
    InfoButton,
    DeleteButton,
    BlockButton,
)
