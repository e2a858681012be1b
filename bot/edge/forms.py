"""Forms (modals): the "Edit image" message menu's form, the Edit and Remix buttons' forms,
and where Edit and Vary find a result's images.

Submissions are routed by custom_id from the bot's interaction listener, not by a Modal object
kept in memory, so a form opened before a restart still works after it. The image a form
edits is always read from a message the bot fetched from Discord (fresh signed URLs), never
from text a member typed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import discord

from bot.edge.components import (
    CONTEXT_MODAL_PREFIX,
    EDIT_MODAL_PREFIX,
    REMIX_MODAL_PREFIX,
    modal_prompt,
    prompt_form,
)
from bot.edge.context import locale_of, services_of
from bot.edge.errors import handle_error
from bot.edge.remix import submit_remix_form
from bot.edge.requests import EDIT_IMAGE_TYPES, submit_request
from bot.errors import UserFacingError
from bot.jobs.model import Job


def first_image_url(message: discord.Message | None) -> str | None:
    """The URL of the first image attached to (or embedded in) a message."""
    if message is None:
        return None
    for attachment in message.attachments:
        if (attachment.content_type or "").split(";")[0] in EDIT_IMAGE_TYPES:
            return attachment.url
    for embed in message.embeds:
        if embed.image and embed.image.url:
            return embed.image.url
    return None


async def fetch_message(
    interaction: discord.Interaction, channel_id: int, message_id: int
) -> discord.Message:
    channel = interaction.client.get_partial_messageable(channel_id)
    return await channel.fetch_message(message_id)


async def result_image_url(interaction: discord.Interaction, job: Job, image: int) -> str:
    """The signed URL of image `image` (1-based) of the job's result, read fresh from Discord.

    A click on the result message carries it; a click elsewhere (the buttons /show posts)
    fetches it. The bot names each file `job-<id>-<n>.<ext>` (`SPOILER_job-...` when spoiled);
    the position is the fallback.
    """
    targets = {job.result_message_id, job.message_id} - {None}
    message = (
        interaction.message if interaction.message and interaction.message.id in targets else None
    )
    if (message is None or not message.attachments) and job.channel_id and targets:
        try:
            message = await fetch_message(
                interaction, job.channel_id, job.result_message_id or job.message_id or 0
            )
        except (discord.NotFound, discord.Forbidden):
            message = None
    images = [
        a
        for a in (message.attachments if message else [])
        if (a.content_type or "").split(";")[0] in EDIT_IMAGE_TYPES
    ]
    named = [
        a
        for a in images
        if a.filename.removeprefix("SPOILER_").startswith(f"job-{job.id}-{image}.")
    ]
    if named:
        return named[0].url
    if 1 <= image <= len(images):
        return images[image - 1].url
    raise UserFacingError("refusal.no_image_in_message")


async def open_context_edit(interaction: discord.Interaction, message: discord.Message) -> None:
    """The "Edit image" message command: ask for the prompt in a form."""
    if first_image_url(message) is None:
        raise UserFacingError("refusal.no_image_in_message")
    form = prompt_form(
        f"{CONTEXT_MODAL_PREFIX}{message.channel.id}:{message.id}",
        services_of(interaction).messages,
        locale_of(interaction),
    )
    await interaction.response.send_modal(form)


async def on_modal_submit(interaction: discord.Interaction) -> None:
    """Every form submission of the bot, by custom_id prefix."""
    data: Any = interaction.data or {}
    custom_id = str(data.get("custom_id", ""))
    for prefix, handler in _FORMS:
        if custom_id.startswith(prefix):
            try:
                await handler(interaction, custom_id[len(prefix) :])
            except Exception as exc:
                await handle_error(services_of(interaction).messages, interaction, exc)
            return


async def _submit_edit_form(interaction: discord.Interaction, rest: str) -> None:
    """The Edit button's form: edit the job's result with the new prompt."""
    prompt = modal_prompt(interaction).strip()
    parent = await services_of(interaction).jobs.get(int(rest))
    if parent is None:
        raise UserFacingError("refusal.job_not_found")
    if interaction.user.id != parent.user_id:
        raise UserFacingError("refusal.not_requester")
    # The result message rides along with a modal opened from its button, with fresh signed
    # attachment URLs; fetch it only when it does not.
    url = first_image_url(interaction.message)
    if url is None and parent.channel_id and parent.result_message_id:
        fetched = await fetch_message(interaction, parent.channel_id, parent.result_message_id)
        url = first_image_url(fetched)
    if url is None:
        raise UserFacingError("refusal.no_image_in_message")
    await submit_request(
        interaction,
        kind="edit_result",
        model_id=None,
        options={"prompt": prompt, "image": url},
        parent=parent,
        parent_image=1,  # Edit works on the result's first image
    )


async def _submit_context_form(interaction: discord.Interaction, rest: str) -> None:
    """The "Edit image" menu's form: edit the image of the message it was opened on."""
    prompt = modal_prompt(interaction).strip()
    channel_id, message_id = (int(x) for x in rest.split(":"))
    url = first_image_url(await fetch_message(interaction, channel_id, message_id))
    if url is None:
        raise UserFacingError("refusal.no_image_in_message")
    await submit_request(
        interaction, kind="edit", model_id=None, options={"prompt": prompt, "image": url}
    )


_FORMS: tuple[tuple[str, Callable[[discord.Interaction, str], Awaitable[None]]], ...] = (
    (EDIT_MODAL_PREFIX, _submit_edit_form),
    (CONTEXT_MODAL_PREFIX, _submit_context_form),
    (REMIX_MODAL_PREFIX, submit_remix_form),
)
