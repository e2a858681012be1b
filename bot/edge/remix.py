"""Remix: the same settings with what the member changed, as a new request.

The form is filled in with the job's prompt and with the options that fit a form (aspect
ratio, seed, number of images, where the model takes them). What comes back goes through the
one door (`submit_request` with `Reuse`): the stored input with the changes, validated for the
channel where the form is submitted and admitted like a fresh command. A field left as it was
keeps the stored value; an emptied seed means a new random one.
"""

from __future__ import annotations

from typing import Any

import discord

from bot.catalog import ModelSpec
from bot.edge.components import PROMPT_FIELD, REMIX_MODAL_PREFIX, RemixModal, modal_values
from bot.edge.context import services_of
from bot.edge.requests import Reuse, submit_request
from bot.errors import UserFacingError
from bot.i18n import Messages
from bot.jobs.model import Job

# The form's fields besides the prompt: slash option names, in the order they are shown.
FORM_OPTIONS = ("aspect_ratio", "seed", "count")
_MAX_LENGTHS = {"aspect_ratio": 32, "seed": 10, "count": 2}
# A member's prompt is at most 2000 characters (/imagine's limit; Discord allows 4000 here).
PROMPT_MAX = 2000


def remix_form(job: Job, spec: ModelSpec, messages: Messages, locale: str) -> RemixModal:
    """The Remix form for `job`: its prompt, and each option of FORM_OPTIONS the model takes."""
    t = messages.t
    form = RemixModal(
        custom_id=f"{REMIX_MODAL_PREFIX}{job.id}", title=t(locale, "modal.remix.title")
    )
    form.field(
        PROMPT_FIELD,
        t(locale, "modal.remix.prompt_label"),
        default=job.prompt[:PROMPT_MAX] or None,
        paragraph=True,
        max_length=PROMPT_MAX,
        required=True,
    )
    for option in FORM_OPTIONS:
        field = spec.option_field(option)
        if field is None or (option == "count" and spec.max_outputs < 2):
            continue
        value = job.input.get(field.name)
        form.field(
            option,
            t(locale, f"modal.remix.{option}_label"),
            default=None if value is None else str(value),
            placeholder=t(locale, f"modal.remix.{option}_placeholder", max=spec.max_outputs),
            max_length=_MAX_LENGTHS[option],
        )
    return form


async def submit_remix_form(interaction: discord.Interaction, rest: str) -> None:
    """The Remix form's submission: a new request from the job's input with the changes."""
    parent = await services_of(interaction).jobs.get(int(rest))
    if parent is None:
        raise UserFacingError("refusal.job_not_found")
    if interaction.user.id != parent.user_id:
        raise UserFacingError("refusal.not_requester")
    values = modal_values(interaction)
    # The prompt is always given (an emptied one is refused as empty, never silently kept);
    # an emptied option keeps the stored value.
    options: dict[str, Any] = {"prompt": values.get(PROMPT_FIELD, "").strip()}
    for option in FORM_OPTIONS:
        text = values.get(option, "").strip()
        if text:
            options[option] = text
    await submit_request(
        interaction,
        kind="remix",
        model_id=None,
        options=options,
        reuse=Reuse(parent, new_seed="seed" not in options),
    )


__all__ = ["FORM_OPTIONS", "remix_form", "submit_remix_form"]
