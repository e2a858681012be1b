"""What a job looks like in Discord: the pending message, the result, failures, Info.

Rendering only: text comes from the message catalogs in the job's own locale, so a message
edited long after the command still speaks the requester's language.

Text a member, a server or the API wrote (prompts, refusal and error details, model names
from MODELS_FILE, blocked terms) is shown as text, never as markdown: `user_text` escapes it
and `code_span` quotes it, both cutting to a limit after escaping, so a field stays within
Discord's limits whatever the text holds.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import discord

from bot.edge.lineage import lineage_text
from bot.jobs.model import Job, JobStatus

if TYPE_CHECKING:
    from bot.catalog import Catalog
    from bot.i18n import Messages

PROMPT_SHOWN = 900  # an embed description holds 4096, but a long prompt buries the state
EMBED_TOTAL = 6000  # Discord's limit on all of an embed's text together
COLOR_PENDING = 0x5865F2
COLOR_DONE = 0x57F287
COLOR_FAILED = 0xED4245

# error_kind (from the scheduler and the CometAPI client) → message key.
ERROR_KEYS = {
    "invalid_input": "error.invalid_input",
    "safety": "error.safety",
    "model_unavailable": "error.model_unavailable",
    "no_credit": "error.no_credit",
    "auth": "error.not_configured",
    "forbidden": "error.forbidden",
    "rate_limited": "error.rate_limited",
    "provider": "error.provider",
    "network": "error.network",
    "not_found": "error.provider",
    "prediction_failed": "error.prediction_failed",
    "download": "error.download",
    "too_large_to_upload": "error.too_large_to_upload",
    "delivery_failed": "error.delivery_failed",
    "interrupted": "error.interrupted",
    "internal": "error.internal",
    "canceled_provider_may_finish": "error.canceled_provider_may_finish",
}


# Every character Discord's markdown gives a meaning to in running text: emphasis, underline,
# strike, spoiler, code, masked links ([text](url)), quotes, headings, subtext (-#), lists and
# custom emoji or mentions (<...>). Discord shows a backslash before any punctuation as nothing,
# so escaping one that needed none costs nothing.
_MARKDOWN = re.compile(r"[\\*_~|`\[\]<>#\-]")
# `scheme://`: escaping the colon keeps a URL in a prompt from becoming a link (its text stays
# readable: a link in a prompt has nothing to offer a moderator but a click).
_SCHEME_COLON = re.compile(r"(?<=[A-Za-z0-9]):(?=//)")
_NUMBERED = re.compile(r"^(\s*\d+)\.(?=\s)", re.MULTILINE)  # "1. " starts a list
_BACKTICKS = re.compile(r"`+")


def truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def escape_text(text: str) -> str:
    """Markdown in `text` shown as the characters themselves (no masked links, spoilers, ...)."""
    text = _MARKDOWN.sub(r"\\\g<0>", text)
    text = _SCHEME_COLON.sub(r"\\:", text)
    return _NUMBERED.sub(r"\1\\.", text)


def user_text(text: str, limit: int, *, empty: str = "") -> str:
    """Text someone else wrote, escaped, then cut to `limit` characters (escapes included)."""
    return cut_escaped(escape_text(text), limit) or empty


def code_span(text: str, limit: int = 1024, *, empty: str = "—") -> str:
    """Text shown verbatim in inline code: no markdown inside, whatever backticks it holds.

    The fence is one backtick longer than the longest run in the text (Discord's inline code
    takes any length), padded with a space when the text starts or ends with one.
    """
    text = " ".join(text.splitlines())
    if not text:
        return empty
    longest = max((len(m) for m in _BACKTICKS.findall(text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text[0] == "`" or text[-1] == "`" else ""
    room = limit - 2 * (len(fence) + len(pad))
    if len(text) > room:
        text = text[: max(1, room - 1)] + "…"
        pad = " " if text[0] == "`" else pad
    return f"{fence}{pad}{text}{pad}{fence}"


def model_label(catalog: Catalog, model_id: str) -> str:
    """A model's name for display; labels come from MODELS_FILE too, so they are escaped."""
    try:
        return escape_text(catalog.get(model_id).label)
    except Exception:
        return escape_text(model_id)


def fit_total(embed: discord.Embed, limit: int = EMBED_TOTAL) -> discord.Embed:
    """Shorten the description so the whole embed stays within Discord's 6000 characters."""
    excess = len(embed) - limit
    if excess > 0 and embed.description:
        embed.description = cut_escaped(embed.description, len(embed.description) - excess)
    return embed


def cut_escaped(escaped: str, limit: int) -> str:
    """Cut escaped text to `limit` characters, "…" included, never between an escape and its
    character (the backslash would then escape the "…" and the cut char would be lost)."""
    if len(escaped) <= limit:
        return escaped
    cut = escaped[: max(0, limit - 1)]
    trailing = len(cut) - len(cut.rstrip("\\"))
    if trailing % 2:
        cut = cut[:-1]
    return cut + "…"


def status_line(
    messages: Messages,
    job: Job,
    *,
    position: int | None = None,
    progress: float | None = None,
) -> str:
    loc = job.locale
    if job.status is JobStatus.QUEUED:
        if position:
            return messages.t(loc, "status.queued", position=position)
        return messages.t(loc, "status.starting")
    if job.status is JobStatus.SUBMITTING:
        return messages.t(loc, "status.starting")
    if job.status is JobStatus.RUNNING:
        if progress is not None:
            return messages.t(loc, "status.processing", percent=round(progress * 100))
        return messages.t(loc, "status.processing_no_progress")
    if job.status is JobStatus.DELIVERING:
        return messages.t(loc, "status.delivering")
    return messages.t(loc, f"status.{job.status.value}")


def note_lines(messages: Messages, catalog: Catalog, job: Job, locale: str) -> list[str]:
    """One sentence per preference (or style default) the request did not use, and why."""
    lines = []
    for note in job.notes:
        setting = str(note.get("setting", ""))
        value = note.get("value")
        shown = model_label(catalog, str(value)) if setting == "model" else value
        params: dict[str, Any] = {
            **{k: v for k, v in note.items() if k not in ("setting", "source", "reason")},
            "setting": messages.t(locale, f"prefs.setting.{setting}"),
            "value": _code(shown),
            "model": note.get("model") or model_label(catalog, job.model),
            "option": _code(note.get("option", "")),
        }
        key = f"note.{note.get('source', 'preference')}.{note.get('reason', '')}"
        lines.append("• " + messages.t(locale, key, **params))
    return lines


def _code(value: Any) -> str:
    """A value shown as code: never breaks out of its backticks, never too long."""
    return "`" + truncate(str(value).replace("`", "'"), 80) + "`"


def pending_embed(
    messages: Messages,
    catalog: Catalog,
    job: Job,
    *,
    position: int | None = None,
    progress: float | None = None,
    eta: float | None = None,
) -> discord.Embed:
    loc = job.locale
    title_key = "pending.title_edit" if job.kind in ("edit", "edit_result") else "pending.title"
    embed = discord.Embed(
        title=messages.t(loc, title_key),
        description=user_text(job.prompt, PROMPT_SHOWN),
        color=COLOR_PENDING,
    )
    embed.add_field(name=messages.t(loc, "pending.model"), value=model_label(catalog, job.model))
    embed.add_field(
        name=messages.t(loc, "pending.status"),
        value=status_line(messages, job, position=position, progress=progress),
    )
    # A relative timestamp counts up on the user's screen without any edit from us.
    embed.add_field(name=messages.t(loc, "pending.started"), value=f"<t:{int(job.created_at)}:R>")
    if eta is not None:
        # And counts down to the estimate (bot.jobs.eta: only with history, only while honest).
        embed.add_field(name=messages.t(loc, "pending.eta"), value=f"<t:{round(eta)}:R>")
    if job.style:
        embed.add_field(name=messages.t(loc, "pending.style"), value=truncate(job.style, 100))
    _add_notes(embed, messages, catalog, job)
    embed.set_footer(text=messages.t(loc, "common.job", job_id=job.id))
    return embed


def _add_notes(embed: discord.Embed, messages: Messages, catalog: Catalog, job: Job) -> None:
    """The preferences a request could not use, as one field (pending message and result)."""
    notes = note_lines(messages, catalog, job, job.locale)
    if notes:
        embed.add_field(
            name=messages.t(job.locale, "pending.notes"),
            value=truncate("\n".join(notes), 1024),
            inline=False,
        )


def result_embed(messages: Messages, catalog: Catalog, job: Job) -> discord.Embed:
    loc = job.locale
    title_key = "result.title_edit" if job.kind in ("edit", "edit_result") else "result.title"
    embed = discord.Embed(
        title=messages.t(loc, title_key),
        description=user_text(job.prompt, PROMPT_SHOWN),
        color=COLOR_DONE,
    )
    embed.add_field(name=messages.t(loc, "result.model"), value=model_label(catalog, job.model))
    if job.seed is not None:
        embed.add_field(name=messages.t(loc, "result.seed"), value=str(job.seed))
    seconds = job.provider_seconds
    if seconds is None and job.finished_at and job.created_at:
        seconds = job.finished_at - job.created_at
    if seconds is not None:
        embed.add_field(
            name=messages.t(loc, "result.time_label"),
            value=messages.t(loc, "result.time", seconds=f"{seconds:.1f}"),
        )
    embed.add_field(name=messages.t(loc, "result.requested_by"), value=f"<@{job.user_id}>")
    if job.style:
        embed.add_field(name=messages.t(loc, "result.style"), value=truncate(job.style, 100))
    # Kept on the result too: a pending message of a few seconds is easily missed.
    _add_notes(embed, messages, catalog, job)
    if job.parent_id:
        lineage = lineage_text(messages, loc, job) or f"#{job.parent_id}"
        embed.add_field(name=messages.t(loc, "result.parent"), value=lineage)
    embed.set_footer(text=messages.t(loc, "common.job", job_id=job.id))
    return embed


def failure_text(messages: Messages, catalog: Catalog, job: Job) -> str:
    loc = job.locale
    if job.status is JobStatus.TIMED_OUT:
        start = job.submitted_at or job.created_at
        minutes = max(1, round((job.deadline_at - start) / 60)) if job.deadline_at else 10
        return messages.t(loc, "error.timed_out", minutes=minutes)
    if job.status is JobStatus.CANCELED:
        if job.error_kind == "canceled_provider_may_finish":
            return messages.t(loc, "error.canceled_provider_may_finish")
        return messages.t(loc, "error.canceled")
    if job.status is JobStatus.EXPIRED:
        return messages.t(loc, "error.expired")
    key = ERROR_KEYS.get(job.error_kind or "", "error.provider")
    return messages.t(
        loc,
        key,
        reason=user_text(job.error_message or "", 300),
        model=model_label(catalog, job.model),
        minutes=0,
    )


def failure_embed(messages: Messages, catalog: Catalog, job: Job) -> discord.Embed:
    loc = job.locale
    embed = discord.Embed(
        title=messages.t(loc, "error.title"),
        description=failure_text(messages, catalog, job),
        color=COLOR_FAILED,
    )
    embed.add_field(
        name=messages.t(loc, "result.prompt"), value=user_text(job.prompt, 1024, empty="—")
    )
    embed.add_field(name=messages.t(loc, "result.model"), value=model_label(catalog, job.model))
    embed.set_footer(text=messages.t(loc, "common.job", job_id=job.id))
    return embed


def info_embed(
    messages: Messages, catalog: Catalog, job: Job, locale: str, *, parent: Job | None = None
) -> discord.Embed:
    """Everything about a job, for the Info button and /show (in the viewer's locale); a job
    made from another one says how, linking the `parent`'s message when it still exists."""
    description = (
        messages.t(locale, "info.erased", date=f"<t:{int(job.erased_at)}:D>")
        if job.erased_at is not None
        else user_text(job.prompt, 4000)
    )
    embed = discord.Embed(
        title=messages.t(locale, "info.title", job_id=job.id),
        description=description,
        color=COLOR_PENDING,
    )
    embed.add_field(
        name=messages.t(locale, "result.model"), value=code_span(job.model, 1024), inline=False
    )
    embed.add_field(name=messages.t(locale, "info.status"), value=job.status.value)
    if job.style:
        # The description is the final prompt: the style's template and any suffix applied.
        embed.add_field(name=messages.t(locale, "info.style"), value=truncate(job.style, 100))
    notes = note_lines(messages, catalog, job, locale)
    if notes:
        embed.add_field(
            name=messages.t(locale, "info.notes"),
            value=truncate("\n".join(notes), 1024),
            inline=False,
        )
    parent_link = (
        message_link(
            parent.guild_id, parent.channel_id, parent.result_message_id or parent.message_id
        )
        if parent is not None
        else None
    )
    lineage = lineage_text(messages, locale, job, parent_link)
    if lineage:
        embed.add_field(name=messages.t(locale, "info.parent"), value=lineage, inline=False)
    if job.seed is not None:
        embed.add_field(name=messages.t(locale, "result.seed"), value=str(job.seed))
    fields = "\n".join(
        f"{code_span(k, 40)} = {code_span(str(v), 90)}"
        for k, v in sorted(job.input.items())
        if k != "prompt"
    )
    embed.add_field(
        name=messages.t(locale, "info.inputs"), value=_cut_lines(fields, 1024), inline=False
    )
    timings = []
    for label, at in (
        ("info.created", job.created_at),
        ("info.started", job.started_at),
        ("info.finished", job.finished_at),
        ("info.delivered", job.delivered_at),
    ):
        if at:
            timings.append(f"{messages.t(locale, label)}: <t:{int(at)}:T>")
    if job.provider_seconds is not None:
        timings.append(
            f"{messages.t(locale, 'info.provider_time')}: "
            + messages.t(locale, "common.seconds", seconds=f"{job.provider_seconds:.1f}")
        )
    if timings:
        embed.add_field(
            name=messages.t(locale, "info.timings"), value="\n".join(timings), inline=False
        )
    if job.prediction_id:
        embed.add_field(
            name=messages.t(locale, "info.prediction_id"), value=code_span(job.prediction_id, 256)
        )
    if job.error_kind:
        embed.add_field(
            name=messages.t(locale, "info.error"),
            value=user_text(f"{job.error_kind}: {job.error_message or ''}", 1024),
            inline=False,
        )
    return fit_total(embed)


def _cut_lines(text: str, limit: int) -> str:
    """Whole lines up to `limit` characters (a line of code spans cut in half would open a
    span it never closes), then "…"."""
    if not text:
        return "—"
    if len(text) <= limit:
        return text
    kept: list[str] = []
    size = 0
    for line in text.splitlines():
        if size + len(line) + 1 > limit - 2:
            break
        kept.append(line)
        size += len(line) + 1
    return "\n".join([*kept, "…"])


def message_link(
    guild_id: int | None, channel_id: int | None, message_id: int | None
) -> str | None:
    if not (channel_id and message_id):
        return None
    return f"https://discord.com/channels/{guild_id or '@me'}/{channel_id}/{message_id}"
