"""What happens when someone asks for an image or presses a button.

The acknowledgement rule: validation, policy and the job write are local and fast; the
interaction is answered next; only then does anything touch CometAPI (the scheduler).
"""

from __future__ import annotations

import logging
import random
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import discord

from bot.discord_errors import handle_app_command_error, send_ephemeral
from bot.discord_render import info_embed, message_link, pending_embed
from bot.discord_translator import locale_of
from bot.discord_views import (
    CONTEXT_MODAL_PREFIX,
    EDIT_MODAL_PREFIX,
    PromptModal,
    modal_prompt,
    pending_view,
    result_view,
)
from bot.errors import UserFacingError
from bot.jobs.model import Job, JobStatus, NewJob

if TYPE_CHECKING:
    from bot.app import ImageBot
    from bot.services import Services

log = logging.getLogger(__name__)

TOKEN_LIFETIME = 15 * 60
EDIT_IMAGE_TYPES = ("image/png", "image/jpeg", "image/webp", "image/gif")
MAX_EDIT_IMAGE_BYTES = 20 * 1024 * 1024
DEFAULT_EDIT_MODEL = "black-forest-labs/flux-kontext-pro"


def services_of(interaction: discord.Interaction) -> Services:
    client: ImageBot = interaction.client  # type: ignore[assignment]
    return client.services


def is_moderator(interaction: discord.Interaction) -> bool:
    perms = interaction.permissions
    return bool(perms.manage_guild or perms.manage_messages or perms.administrator)


def request_context(interaction: discord.Interaction) -> Any:
    from bot.policy import RequestContext

    member = interaction.user
    roles = frozenset(r.id for r in getattr(member, "roles", []) or [])
    channel = interaction.channel
    return RequestContext(
        user_id=interaction.user.id,
        guild_id=interaction.guild_id,
        channel_id=interaction.channel_id,
        role_ids=roles,
        is_moderator=bool(interaction.permissions.manage_guild),
        channel_age_restricted=bool(getattr(channel, "nsfw", False)),
    )


def _fmt(value: Any) -> Any:
    if isinstance(value, list | tuple | set | frozenset):
        return ", ".join(str(v) for v in value)
    return value


def problem_params(services: Services, locale: str, problem: Any) -> dict[str, Any]:
    """The catalog's problem data under the names the message templates use."""
    raw = dict(problem.params)
    params = {k: _fmt(v) for k, v in raw.items()}
    params.setdefault("field", problem.field or "")
    params.setdefault("option", problem.field or "")
    if "maximum" in raw:
        params["max"] = _fmt(raw["maximum"])
    if "minimum" in raw:
        params["min"] = _fmt(raw["minimum"])
    if "multiple_of" in raw:
        params["multiple"] = raw["multiple_of"]
    if isinstance(raw.get("requires"), dict):
        params["requirement"] = ", ".join(f"{k}={v}" for k, v in raw["requires"].items())
    if "expected" in raw:
        params["expected"] = services.messages.t(locale, f"type.{raw['expected']}")
    return params


def validation_text(services: Services, locale: str, error: Any) -> str:
    lines = []
    for problem in error.problems:
        params = problem_params(services, locale, problem)
        lines.append("• " + services.messages.t(locale, f"validation.{problem.code}", **params))
    return "\n".join(lines)[:1900]


def refusal_text(services: Services, locale: str, refusal: Any) -> str:
    params = dict(refusal.params)
    for key in ("reset", "retry"):
        if isinstance(params.get(key), int | float):
            params[key] = f"<t:{int(params[key])}:R>"
    if "channels" in params:
        params["channels"] = ", ".join(f"<#{c}>" for c in params["channels"]) or "—"
    if "roles" in params:
        params["roles"] = ", ".join(f"<@&{r}>" for r in params["roles"]) or "—"
    return services.messages.t(locale, f"refusal.{refusal.reason}", **params)


async def submit_request(
    interaction: discord.Interaction,
    *,
    kind: str,
    model_id: str | None,
    options: Mapping[str, Any],
    extra: str | None = None,
    parent: Job | None = None,
    input_override: dict[str, Any] | None = None,
) -> Job | None:
    """Validate, admit, acknowledge with the pending message, then hand the job over."""
    from bot.catalog import InputPolicy, InputValidationError, UnknownModelError, build_input

    services = services_of(interaction)
    locale = locale_of(interaction)
    ctx = request_context(interaction)
    config = await services.guild_config.get(interaction.guild_id) if interaction.guild_id else None
    if model_id is None:
        if kind in ("edit", "edit_result"):
            model_id = DEFAULT_EDIT_MODEL
        else:
            model_id = (config.default_model if config else None) or services.settings.default_model
    prompt = str(options.get("prompt") or (input_override or {}).get("prompt") or "")
    new = NewJob(
        kind=kind,
        user_id=interaction.user.id,
        guild_id=interaction.guild_id,
        channel_id=interaction.channel_id,
        model=model_id,
        prompt=prompt,
        input={},
        image_count=1,
        locale=locale,
        application_id=interaction.application_id,
        interaction_id=interaction.id,
        interaction_token=interaction.token,
        token_expires_at=interaction.created_at.timestamp() + TOKEN_LIFETIME,
        parent_id=parent.id if parent else None,
        upload_limit=getattr(interaction, "filesize_limit", None),
    )
    try:
        spec = services.catalog.get(model_id)
        if kind in ("edit", "edit_result") and spec.image_field is None:
            raise UserFacingError(
                "validation.option_not_accepted", option="image", model=spec.label
            )
        if input_override is not None:
            model_input = input_override
        else:
            policy = InputPolicy(
                age_restricted_channel=ctx.channel_age_restricted,
                allow_nsfw=bool(config and config.allow_nsfw),
            )
            model_input = build_input(
                spec, options, extra=extra, policy=policy, rng=lambda: random.randint(0, 2**31 - 1)
            )
    except UnknownModelError:
        await services.admission.record_refusal(new, "validation", f"unknown model {model_id}")
        await send_ephemeral(
            interaction, services.messages.t(locale, "validation.unknown_model", model=model_id)
        )
        return None
    except InputValidationError as exc:
        await services.admission.record_refusal(new, "validation", str(exc)[:500])
        await send_ephemeral(interaction, validation_text(services, locale, exc))
        return None
    except UserFacingError as exc:
        await services.admission.record_refusal(new, "validation", exc.key)
        await send_ephemeral(interaction, services.messages.t(locale, exc.key, **exc.params))
        return None

    count = int(model_input.get("num_outputs", 1) or 1)
    new = _replace(
        new, input=model_input, image_count=count, prompt=str(model_input.get("prompt", prompt))
    )
    outcome = await services.admission.admit(new, ctx)
    if not isinstance(outcome, Job):
        await send_ephemeral(interaction, refusal_text(services, locale, outcome))
        return None
    job = outcome
    scheduler = services.scheduler
    position = _expected_position(scheduler)
    try:
        response = await interaction.response.send_message(
            embed=pending_embed(services.messages, services.catalog, job, position=position),
            view=pending_view(job, services.messages),
        )
    except discord.HTTPException:
        # Discord never showed the pending message: nothing was promised, so nothing runs.
        await services.jobs.transition(
            job.id,
            JobStatus.CANCELED,
            expected=[JobStatus.QUEUED],
            error_kind="interaction_failed",
            notified=True,
        )
        raise
    message_id = getattr(response, "message_id", None)
    if message_id is None:
        message = await interaction.original_response()
        message_id = message.id
    job = await services.jobs.update(job.id, message_id=message_id) or job
    if scheduler is not None:
        await scheduler.enqueue(job)
    return job


def _expected_position(scheduler: Any) -> int | None:
    if scheduler is None:
        return None
    try:
        queued = len(scheduler.queue_positions())
        full = scheduler.in_flight >= scheduler.max_concurrent
        return queued + 1 if queued or full else None
    except Exception:
        return None


def _replace(new: NewJob, **changes: Any) -> NewJob:
    from dataclasses import replace

    return replace(new, **changes)


# -- buttons ------------------------------------------------------------------------------


async def handle_button(interaction: discord.Interaction, action: str, job_id: int) -> None:
    try:
        await _handle_button(interaction, action, job_id)
    except Exception as exc:
        await handle_app_command_error(interaction.client, interaction, exc)  # type: ignore[arg-type]


async def _handle_button(interaction: discord.Interaction, action: str, job_id: int) -> None:
    services = services_of(interaction)
    locale = locale_of(interaction)
    job = await services.jobs.get(job_id)
    if job is None:
        raise UserFacingError("refusal.job_not_found")
    is_requester = interaction.user.id == job.user_id
    if action == "info":
        await interaction.response.send_message(
            embed=info_embed(services.messages, services.catalog, job, locale), ephemeral=True
        )
        return
    if action == "cancel":
        if not (is_requester or is_moderator(interaction)):
            raise UserFacingError("refusal.not_requester")
        if not job.is_active:
            raise UserFacingError("refusal.job_finished")
        await interaction.response.defer(ephemeral=True, thinking=True)
        outcome = await services.scheduler.cancel(job_id, by_user_id=interaction.user.id)
        key = {
            "canceled_local": "error.canceled_provider_may_finish",
            "already_finished": "refusal.job_finished",
            "not_found": "refusal.job_not_found",
        }.get(str(getattr(outcome, "value", outcome)), "jobs.cancel_requested")
        await interaction.followup.send(
            services.messages.t(locale, key, job_id=job_id), ephemeral=True
        )
        return
    if action == "delete":
        if not (is_requester or is_moderator(interaction)):
            raise UserFacingError("refusal.not_moderator")
        await interaction.response.defer(ephemeral=True, thinking=True)
        target = job.result_message_id or job.message_id
        if interaction.message is not None and interaction.message.id in (target, job.message_id):
            await interaction.message.delete()
        elif target and job.channel_id:
            try:
                await (
                    interaction.client.get_partial_messageable(job.channel_id)
                    .get_partial_message(target)
                    .delete()
                )  # type: ignore[attr-defined]
            except discord.NotFound:
                pass
        await services.jobs.update(
            job_id, result_attachments=[], refusal_detail=f"deleted by {interaction.user.id}"
        )
        await interaction.followup.send(
            services.messages.t(locale, "action.deleted"), ephemeral=True
        )
        return
    if action == "block":
        if not is_moderator(interaction) or interaction.guild_id is None:
            raise UserFacingError("refusal.not_moderator")
        await services.guild_config.block_user(
            interaction.guild_id, job.user_id, blocked_by=interaction.user.id
        )
        await send_ephemeral(
            interaction,
            services.messages.t(locale, "settings.block.done", user=f"<@{job.user_id}>"),
        )
        return
    if action == "reroll":
        if not is_requester:
            raise UserFacingError("refusal.not_requester")
        from bot.catalog import reroll_input

        spec = services.catalog.get(job.model)
        new_input = reroll_input(spec, job.input, rng=lambda: random.randint(0, 2**31 - 1))
        await submit_request(
            interaction,
            kind="reroll",
            model_id=job.model,
            options={},
            parent=job,
            input_override=new_input,
        )
        return
    if action == "edit":
        if not is_requester:
            raise UserFacingError("refusal.not_requester")
        modal = PromptModal(
            custom_id=f"{EDIT_MODAL_PREFIX}{job_id}",
            title=services.messages.t(locale, "modal.edit.title"),
            label=services.messages.t(locale, "modal.edit.prompt_label"),
            placeholder=services.messages.t(locale, "modal.edit.prompt_placeholder"),
        )
        await interaction.response.send_modal(modal)
        return
    raise UserFacingError("refusal.job_not_found")


# -- modals and the context menu ---------------------------------------------------------


def first_image_url(message: discord.Message | None) -> str | None:
    if message is None:
        return None
    for attachment in message.attachments:
        if (attachment.content_type or "").split(";")[0] in EDIT_IMAGE_TYPES:
            return attachment.url
    for embed in message.embeds:
        if embed.image and embed.image.url:
            return embed.image.url
    return None


async def open_context_edit(interaction: discord.Interaction, message: discord.Message) -> None:
    """The "Edit image" message command: ask for the prompt in a form."""
    services = services_of(interaction)
    locale = locale_of(interaction)
    if first_image_url(message) is None:
        raise UserFacingError("refusal.no_image_in_message")
    modal = PromptModal(
        custom_id=f"{CONTEXT_MODAL_PREFIX}{message.channel.id}:{message.id}",
        title=services.messages.t(locale, "modal.edit.title"),
        label=services.messages.t(locale, "modal.edit.prompt_label"),
        placeholder=services.messages.t(locale, "modal.edit.prompt_placeholder"),
    )
    await interaction.response.send_modal(modal)


async def on_modal_submit(interaction: discord.Interaction) -> None:
    """Modal submissions, routed by custom_id so forms survive a restart."""
    data: Any = interaction.data or {}
    custom_id = str(data.get("custom_id", ""))
    if not custom_id.startswith((EDIT_MODAL_PREFIX, CONTEXT_MODAL_PREFIX)):
        return
    services = services_of(interaction)
    try:
        prompt = modal_prompt(interaction).strip()
        if custom_id.startswith(EDIT_MODAL_PREFIX):
            job_id = int(custom_id[len(EDIT_MODAL_PREFIX) :])
            parent = await services.jobs.get(job_id)
            if parent is None:
                raise UserFacingError("refusal.job_not_found")
            if interaction.user.id != parent.user_id:
                raise UserFacingError("refusal.not_requester")
            # The result message rides along with a modal opened from its button, with fresh
            # signed attachment URLs; fetch it only when it does not.
            url = first_image_url(interaction.message)
            if url is None and parent.channel_id and parent.result_message_id:
                fetched = await interaction.client.get_partial_messageable(
                    parent.channel_id
                ).fetch_message(  # type: ignore[attr-defined]
                    parent.result_message_id
                )
                url = first_image_url(fetched)
            if url is None:
                raise UserFacingError("refusal.no_image_in_message")
            await submit_request(
                interaction,
                kind="edit_result",
                model_id=None,
                options={"prompt": prompt, "image": url},
                parent=parent,
            )
        else:
            channel_id, message_id = (
                int(x) for x in custom_id[len(CONTEXT_MODAL_PREFIX) :].split(":")
            )
            message = await interaction.client.get_partial_messageable(channel_id).fetch_message(
                message_id
            )  # type: ignore[attr-defined]
            url = first_image_url(message)
            if url is None:
                raise UserFacingError("refusal.no_image_in_message")
            await submit_request(
                interaction, kind="edit", model_id=None, options={"prompt": prompt, "image": url}
            )
    except Exception as exc:
        await handle_app_command_error(interaction.client, interaction, exc)  # type: ignore[arg-type]


def check_edit_attachment(attachment: discord.Attachment) -> None:
    """An image of a type the models read, and not absurdly large."""
    content_type = (attachment.content_type or "").split(";")[0]
    if content_type not in EDIT_IMAGE_TYPES:
        raise UserFacingError("refusal.attachment_not_image")
    if attachment.size > MAX_EDIT_IMAGE_BYTES:
        raise UserFacingError(
            "refusal.attachment_too_large", max_mb=MAX_EDIT_IMAGE_BYTES // (1024 * 1024)
        )


async def record_attachment_refusal(
    interaction: discord.Interaction, attachment: discord.Attachment, prompt: str
) -> None:
    """Log a refused /edit attachment like any other refused request."""
    services = services_of(interaction)
    new = NewJob(
        kind="edit",
        user_id=interaction.user.id,
        guild_id=interaction.guild_id,
        channel_id=interaction.channel_id,
        model=DEFAULT_EDIT_MODEL,
        prompt=prompt,
        input={},
        image_count=0,
        locale=locale_of(interaction),
    )
    detail = f"attachment {attachment.content_type or 'unknown type'}, {attachment.size} bytes"
    await services.admission.record_refusal(new, "validation", detail)


async def show_job(interaction: discord.Interaction, job_id: int) -> None:
    services = services_of(interaction)
    locale = locale_of(interaction)
    job = await services.jobs.get(job_id)
    visible = job is not None and (
        job.user_id == interaction.user.id
        or (job.guild_id is not None and job.guild_id == interaction.guild_id)
    )
    if job is None or not visible or job.status is JobStatus.REFUSED:
        raise UserFacingError("refusal.job_not_found")
    link = message_link(job.guild_id, job.channel_id, job.result_message_id or job.message_id)
    content = services.messages.t(locale, "show.link", url=link) if link else None
    kwargs: dict[str, Any] = {}
    if job.status is JobStatus.SUCCEEDED:
        kwargs["view"] = result_view(job, services.messages)
    await interaction.response.send_message(
        content=content,
        embed=info_embed(services.messages, services.catalog, job, locale),
        ephemeral=True,
        **kwargs,
    )
