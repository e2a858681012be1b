"""The request flow: what happens when someone asks for an image (by command, button or form).

The acknowledgement rule: validation, policy and the job write are local and fast; the
interaction is answered next; only then does anything touch CometAPI (the scheduler).
"""

from __future__ import annotations

import logging
import random
from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import discord

from bot.catalog import InputPolicy, InputValidationError, UnknownModelError, build_input
from bot.edge.components import pending_view, result_view
from bot.edge.context import locale_of, request_context, scheduler_of, services_of
from bot.edge.errors import send_ephemeral
from bot.edge.render import escape_text, info_embed, message_link, pending_embed
from bot.errors import UserFacingError
from bot.jobs.model import Job, JobStatus, NewJob

if TYPE_CHECKING:
    from bot.scheduler import JobScheduler
    from bot.services import Services

log = logging.getLogger(__name__)

TOKEN_LIFETIME = 15 * 60
EDIT_IMAGE_TYPES = ("image/png", "image/jpeg", "image/webp", "image/gif")
MAX_EDIT_IMAGE_BYTES = 20 * 1024 * 1024
DEFAULT_EDIT_MODEL = "black-forest-labs/flux-kontext-pro"
EDIT_KINDS = ("edit", "edit_result")


def new_seed() -> int:
    return random.randint(0, 2**31 - 1)


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
    services = services_of(interaction)
    locale = locale_of(interaction)
    ctx = request_context(interaction)
    config = await services.guild_config.get(interaction.guild_id) if interaction.guild_id else None
    if model_id is None:
        if kind in EDIT_KINDS:
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
        if kind in EDIT_KINDS and spec.image_field is None:
            raise UserFacingError(
                "validation.option_not_accepted", option="image", model=escape_text(spec.label)
            )
        if input_override is not None:
            model_input = input_override
        else:
            policy = InputPolicy(
                age_restricted_channel=ctx.channel_age_restricted,
                allow_nsfw=bool(config and config.allow_nsfw),
            )
            model_input = build_input(spec, options, extra=extra, policy=policy, rng=new_seed)
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
    new = replace(
        new, input=model_input, image_count=count, prompt=str(model_input.get("prompt", prompt))
    )
    outcome = await services.admission.admit(new, ctx)
    if not isinstance(outcome, Job):
        await send_ephemeral(interaction, refusal_text(services, locale, outcome))
        return None
    job = outcome
    scheduler = scheduler_of(interaction)
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
    await scheduler.enqueue(job)
    return job


def _expected_position(scheduler: JobScheduler) -> int | None:
    """Where a job admitted now will stand in line (None: it starts at once)."""
    queued = len(scheduler.queue_positions())
    full = scheduler.in_flight >= scheduler.max_concurrent
    return queued + 1 if queued or full else None


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
