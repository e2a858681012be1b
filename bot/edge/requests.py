"""The request flow: what happens when someone asks for an image (by command, button or form).

The acknowledgement rule: validation, policy and the job write are local and fast; the
interaction is answered next; only then does anything touch CometAPI (the scheduler).
"""

from __future__ import annotations

import logging
import random
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import discord

from bot.catalog import (
    InputPolicy,
    InputValidationError,
    ModelSpec,
    UnknownModelError,
    VariationStep,
    build_input,
    reuse_input,
)
from bot.edge.access import can_view_job
from bot.edge.components import can_vary, pending_view, result_images, result_view
from bot.edge.context import locale_of, request_context, scheduler_of, services_of
from bot.edge.errors import send_ephemeral
from bot.edge.lineage import lineage_text
from bot.edge.render import escape_text, info_embed, message_link, model_label, pending_embed
from bot.errors import UserFacingError
from bot.jobs.model import Job, JobStatus, NewJob
from bot.money import format_usd, usd_to_micros
from bot.policy.ladder import read_layers, resolve

if TYPE_CHECKING:
    from bot.catalog import Problem
    from bot.scheduler import JobScheduler
    from bot.services import Services

log = logging.getLogger(__name__)

TOKEN_LIFETIME = 15 * 60
EDIT_IMAGE_TYPES = ("image/png", "image/jpeg", "image/webp", "image/gif")
MAX_EDIT_IMAGE_BYTES = 20 * 1024 * 1024
DEFAULT_EDIT_MODEL = "black-forest-labs/flux-kontext-pro"
DEFAULT_BLEND_MODEL = "black-forest-labs/flux-2-pro"
EDIT_KINDS = ("edit", "edit_result")
VARY_KINDS = ("vary_subtle", "vary_strong")
# Requests whose images the bot took from Discord itself (attachments, or a message it
# fetched): a stored input of theirs may keep its images when it is reused.
IMAGE_KINDS = (*EDIT_KINDS, "blend", *VARY_KINDS)
# Kinds whose input is a copy of their parent's, with changes: the command that made the
# first input is looked for up such a chain, at most this far.
COPY_KINDS = ("reroll", "remix")
MAX_REROLL_CHAIN = 50
# Refusal figures in micro-dollars (a budget's), shown as dollars.
MONEY_PARAMS = ("budget", "spent", "cost")


@dataclass(frozen=True)
class Reuse:
    """Start the new job from a past job's input (Re-roll, Vary, Remix): the options given to
    `submit_request` change it, and `new_seed` draws another seed.

    `vary` ("subtle" or "strong") sends the chosen image (the `image` option) to the model
    the catalog varies this job's model with; `image` is which image of the job's result
    (1-based), kept as the new job's lineage.
    """

    job: Job
    new_seed: bool = False
    vary: str | None = None
    image: int | None = None


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
    if "allowed" in raw and not raw["allowed"]:
        params["allowed"] = "—"
    if "expected" in raw:
        params["expected"] = services.messages.t(locale, f"type.{raw['expected']}")
    return params


def _problem_key(problem: Problem) -> str:
    # A safety setting refused by the channel's NSFW policy says where it would be allowed.
    if problem.code == "not_user_controllable" and problem.params.get("reason") == "nsfw_policy":
        return "validation.not_allowed_here"
    return f"validation.{problem.code}"


def validation_text(services: Services, locale: str, error: Any) -> str:
    lines = []
    for problem in error.problems:
        params = problem_params(services, locale, problem)
        lines.append("• " + services.messages.t(locale, _problem_key(problem), **params))
    return "\n".join(lines)[:1900]


def refusal_text(services: Services, locale: str, refusal: Any) -> str:
    params = dict(refusal.params)
    for key in ("reset", "retry"):
        if isinstance(params.get(key), int | float):
            params[key] = f"<t:{int(params[key])}:R>"
    if isinstance(params.get("reset_day"), int | float):  # a budget's: the first of next month
        params["reset_day"] = f"<t:{int(params['reset_day'])}:D>"
    for key in MONEY_PARAMS:
        if isinstance(params.get(key), int):
            params[key] = format_usd(params[key])
    if isinstance(params.get("model"), str):
        params["model"] = model_label(services.catalog, params["model"])
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
    parent_image: int | None = None,
    reuse: Reuse | None = None,
    style: str | None = None,
    spoiler: bool | None = None,
) -> Job | None:
    """Validate, admit, acknowledge with the pending message, then hand the job over.

    The one door every job passes, whether from a command, a form, or a stored input
    (`reuse`): the input is validated with the policy of the channel where the interaction
    happens now, and admission judges the member there, with the server's current rules.
    A fresh /imagine climbs the precedence ladder (`bot.policy.ladder`): the `style` the
    member named and their preferences fill what the command leaves out. `spoiler` can add
    a spoiler to what the server's rule and the parent job already decide, never remove one.
    """
    services = services_of(interaction)
    locale = locale_of(interaction)
    ctx = request_context(interaction)
    config = await services.guild_config.get(interaction.guild_id) if interaction.guild_id else None
    variation: VariationStep | None = None
    typed_model = model_id
    if reuse is not None:
        if reuse.job.erased_at is not None:  # RETENTION_DAYS passed: nothing left to reuse
            raise UserFacingError("refusal.job_erased")
        parent = parent or reuse.job
        parent_image = parent_image or reuse.image
        model_id = model_id or reuse.job.model
    if model_id is None:
        if kind in EDIT_KINDS:
            model_id = DEFAULT_EDIT_MODEL
        elif kind == "blend":
            model_id = DEFAULT_BLEND_MODEL
        else:
            model_id = (config.default_model if config else None) or services.settings.default_model
    prompt = str(options.get("prompt") or (reuse.job.prompt if reuse else "") or "")
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
        parent_image=parent_image,
        spoiler=bool(spoiler)
        or bool(parent and parent.spoiler)
        or bool(config and config.spoils(age_restricted_channel=ctx.channel_age_restricted)),
    )
    policy = InputPolicy(
        age_restricted_channel=ctx.channel_age_restricted,
        allow_nsfw=bool(config and config.allow_nsfw),
    )
    try:
        if reuse is not None and reuse.vary is not None:
            # A variation runs the model the catalog varies the parent's model with.
            variation = _variation_of(services, reuse.job, reuse.vary)
            model_id = variation.model
            new = replace(new, model=model_id)
        if reuse is None and kind == "imagine":
            layers = await read_layers(
                preferences=services.preferences,
                styles=services.styles,
                admission=services.admission,
                options=options,
                model=typed_model,
                style_name=style,
                user_id=ctx.user_id,
                guild_id=ctx.guild_id,
                role_ids=ctx.role_ids,
                server_model=config.default_model if config else None,
                bot_model=services.settings.default_model,
                terms_version=config.terms_version if config else None,
            )
            resolved = resolve(services.catalog, layers, policy=policy, extra=extra, rng=new_seed)
            spec, model_input = resolved.spec, resolved.input
            new = replace(
                new,
                model=resolved.spec.id,
                style=layers.style.name if layers.style else None,
                notes=tuple(note.as_dict() for note in resolved.notes),
            )
        elif reuse is None:
            spec = services.catalog.get(model_id)
            check_model_serves(kind, spec)
            model_input = build_input(spec, options, extra=extra, policy=policy, rng=new_seed)
        else:
            spec = services.catalog.get(model_id)
            origin = await first_command_of(services, reuse.job)
            check_model_serves(kind if variation else origin, spec)
            model_input = reuse_input(
                spec,
                reuse.job.input,
                policy=policy,
                options=options,
                new_seed=reuse.new_seed,
                # /edit, /blend, "Edit image", the Edit form and Vary take their images from
                # Discord; an image in any other stored input was typed by someone (before
                # extra refused it).
                images_from_discord=origin in IMAGE_KINDS,
                variation=variation,
                rng=new_seed,
            )
    except UnknownModelError as exc:
        unknown = exc.model_id
        await services.admission.record_refusal(new, "validation", f"unknown model {unknown}")
        await send_ephemeral(
            interaction, services.messages.t(locale, "validation.unknown_model", model=unknown)
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
    price = spec.price  # the job keeps the price it was admitted at (bot.jobs.costs)
    new = replace(
        new,
        input=model_input,
        image_count=count,
        prompt=str(model_input.get("prompt", prompt)),
        price_micros=usd_to_micros(price.usd) if price else None,
        price_unit=price.unit if price else None,
    )
    # The settings read above carry the server's terms_version: admission need not read it.
    version = config.terms_version if config else None
    outcome = await services.admission.admit(new, ctx, terms_version=version)
    if not isinstance(outcome, Job):
        await send_ephemeral(interaction, refusal_text(services, locale, outcome))
        return None
    job = outcome
    scheduler = scheduler_of(interaction)
    position = _expected_position(scheduler)
    embed = pending_embed(
        services.messages, services.catalog, job, position=position, eta=scheduler.forecast(job)
    )
    try:
        response = await interaction.response.send_message(
            embed=embed, view=pending_view(job, services.messages)
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
    # The scheduler records the message id with the job's lease, in one write.
    job = replace(job, message_id=message_id)
    await scheduler.enqueue(job)
    return job


def check_model_serves(kind: str, spec: ModelSpec) -> None:
    """The model can serve this command: /edit and Vary need a model that takes an image,
    /blend one that takes a list of images, /imagine one that needs none (an image-edit model
    is refused with a pointer to /edit)."""
    label = escape_text(spec.label)  # an operator's MODELS_FILE may hold any text
    if kind in (*EDIT_KINDS, *VARY_KINDS) and spec.image_field is None:
        raise UserFacingError("validation.option_not_accepted", option="image", model=label)
    if kind == "blend" and spec.images_field is None:
        raise UserFacingError("validation.option_not_accepted", option="images", model=label)
    if kind == "imagine" and not spec.usable_for("text-to-image"):
        raise UserFacingError("validation.model_needs_image", model=label)


def _variation_of(services: Services, job: Job, level: str) -> VariationStep:
    """How this job's results are varied; refused when the catalog varies its model no more."""
    source = services.catalog.get(job.model)
    if source.variation is None:
        raise UserFacingError("refusal.no_variation", model=escape_text(source.label))
    return VariationStep(source, level)


async def first_command_of(services: Services, job: Job) -> str:
    """The kind of the command that made a job's input: a re-roll's or remix's is its
    parent's, and so on up the chain (a parent deleted by /forget-me ends it as "reroll",
    trusted with nothing)."""
    for _ in range(MAX_REROLL_CHAIN):
        if job.kind not in COPY_KINDS or job.parent_id is None:
            break
        found = await services.jobs.get(job.parent_id)
        if found is None:
            break
        job = found
    return job.kind


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
    interaction: discord.Interaction,
    attachment: discord.Attachment,
    prompt: str,
    *,
    kind: str = "edit",
    model: str = DEFAULT_EDIT_MODEL,
) -> None:
    """Log a refused /edit or /blend attachment like any other refused request."""
    services = services_of(interaction)
    new = NewJob(
        kind=kind,
        user_id=interaction.user.id,
        guild_id=interaction.guild_id,
        channel_id=interaction.channel_id,
        model=model,
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
    # A job the member may not see is answered exactly like an id that does not exist.
    if job is None or job.status is JobStatus.REFUSED or not can_view_job(interaction, job):
        raise UserFacingError("refusal.job_not_found")
    parent = await parent_of(services, job)
    lines = []
    link = job_link(job)
    if link:
        lines.append(services.messages.t(locale, "show.link", url=link))
    # A variation, remix or re-roll links back to the result it was made from.
    lineage = lineage_text(services.messages, locale, job, job_link(parent))
    if lineage:
        lines.append(lineage)
    kwargs: dict[str, Any] = {}
    if job.status is JobStatus.SUCCEEDED:
        kwargs["view"] = result_view(
            job,
            services.messages,
            images=result_images(job),
            vary=can_vary(services.catalog, job),
        )
    await interaction.response.send_message(
        content="\n".join(lines) or None,
        embed=info_embed(services.messages, services.catalog, job, locale, parent=parent),
        ephemeral=True,
        **kwargs,
    )


async def parent_of(services: Services, job: Job) -> Job | None:
    """The job this one was made from, if it still exists (/forget-me deletes jobs)."""
    return await services.jobs.get(job.parent_id) if job.parent_id else None


def job_link(job: Job | None) -> str | None:
    """The link to a job's message in Discord: its result, else its pending message."""
    if job is None:
        return None
    return message_link(job.guild_id, job.channel_id, job.result_message_id or job.message_id)
