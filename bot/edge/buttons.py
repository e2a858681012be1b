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

from bot.catalog import UnknownModelError
from bot.edge.access import can_block_from, can_delete_job, can_view_job
from bot.edge.components import (
    EDIT_MODAL_PREFIX,
    VARY_TEMPLATE,
    job_custom_id,
    job_template,
    prompt_form,
    vary_custom_id,
)
from bot.edge.context import (
    is_moderator,
    locale_of,
    scheduler_of,
    services_of,
)
from bot.edge.errors import handle_error, send_ephemeral
from bot.edge.forms import result_image_url
from bot.edge.remix import remix_form
from bot.edge.render import info_embed
from bot.edge.requests import Reuse, parent_of, submit_request
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
        # The same input with a new seed, judged as a fresh request where it is pressed.
        await submit_request(
            interaction, kind="reroll", model_id=None, options={}, reuse=Reuse(job, new_seed=True)
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


class VaryButton(JobButton, template=VARY_TEMPLATE):
    """Vary (Subtle) / Vary (Strong) of one image of the result: the custom_id carries the job,
    which image (1-based) and the level, so one registered class serves every such button."""

    action = "vary"

    def __init__(self, job_id: int, image: int = 1, level: str = "subtle") -> None:
        discord.ui.DynamicItem.__init__(
            self, discord.ui.Button(custom_id=vary_custom_id(job_id, image, level))
        )
        self.job_id, self.image, self.level = job_id, image, level

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> VaryButton:
        return cls(int(match["job"]), int(match["image"]), match["level"])

    async def act(self, interaction: discord.Interaction, job: Job) -> None:
        if interaction.user.id != job.user_id:
            raise UserFacingError("refusal.not_requester")
        # The image is read fresh from the result message (Discord's URLs are signed and
        # expire), then the request goes through the one door like any other.
        url = await result_image_url(interaction, job, self.image)
        await submit_request(
            interaction,
            kind=f"vary_{self.level}",
            model_id=None,
            options={"image": url},
            reuse=Reuse(job, new_seed=True, vary=self.level, image=self.image),
        )


class RemixButton(JobButton, template=job_template("remix")):
    action = "remix"

    async def act(self, interaction: discord.Interaction, job: Job) -> None:
        if interaction.user.id != job.user_id:
            raise UserFacingError("refusal.not_requester")
        services = services_of(interaction)
        try:
            spec = services.catalog.get(job.model)
        except UnknownModelError:
            raise UserFacingError("validation.unknown_model", model=job.model) from None
        form = remix_form(job, spec, services.messages, locale_of(interaction))
        await interaction.response.send_modal(form)


class InfoButton(JobButton, template=job_template("info")):
    action = "info"

    async def act(self, interaction: discord.Interaction, job: Job) -> None:
        # Like /show: to anyone else, a job they may not see does not exist.
        if not can_view_job(interaction, job):
            raise UserFacingError("refusal.job_not_found")
        services = services_of(interaction)
        parent = await parent_of(services, job)
        embed = info_embed(
            services.messages, services.catalog, job, locale_of(interaction), parent=parent
        )
        await interaction.response.send_message(embed=embed, ephemeral=True)


class DeleteButton(JobButton, template=job_template("delete")):
    action = "delete"

    async def act(self, interaction: discord.Interaction, job: Job) -> None:
        # Judged in the job's channel: pressing it on a /show copy elsewhere grants nothing.
        if not can_delete_job(interaction, job):
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
        if not can_block_from(interaction, job):
            raise UserFacingError("refusal.manage_server_required")
        assert interaction.guild_id is not None  # can_block_from: the job's server
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
    VaryButton,
    RemixButton,
    EditButton,
    InfoButton,
    DeleteButton,
    BlockButton,
)
