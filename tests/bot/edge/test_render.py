"""Rendering: what members, servers and the API wrote is shown as text, never as markdown, and
every embed stays within Discord's limits after escaping."""

from __future__ import annotations

import dataclasses
from typing import Any

import discord
import pytest

from bot.catalog import load_catalog
from bot.edge.render import (
    code_span,
    escape_text,
    failure_embed,
    info_embed,
    model_label,
    pending_embed,
    result_embed,
    user_text,
)
from bot.i18n import Messages
from bot.jobs.model import Job, JobStatus
from tests.fakes.discord.markdown import rendered_markdown, unescaped

HOSTILE = [
    "[claim your reward](https://example.invalid)",
    "[a](https://a.invalid) and [b](<https://b.invalid>)",
    "||hidden from moderators||",
    "# SHOUTING\n## louder\n-# whispered",
    "> quoted\n>>> block",
    "**bold** *it* __under__ ~~gone~~ `code` ```block```",
    "1. first\n- second\n* third",
    "<@123> <#456> <:emoji:789> <t:0:R> </imagine:1>",
    "back\\slash \\*not escaped by me\\*",
]
LIMITS = {"title": 256, "description": 4096, "name": 256, "value": 1024, "footer": 2048}


def job(prompt: str, **fields: Any) -> Job:
    base = Job(
        id=7,
        status=JobStatus.SUCCEEDED,
        kind="imagine",
        user_id=1,
        guild_id=2,
        channel_id=3,
        locale="en-US",
        model="black-forest-labs/flux-schnell",
        prompt=prompt,
        input={"prompt": prompt, "num_outputs": 1},
        image_count=1,
        created_at=1_700_000_000.0,
        updated_at=1_700_000_000.0,
    )
    return dataclasses.replace(base, **fields)


def texts_of(embed: discord.Embed) -> list[tuple[str, str]]:
    data = embed.to_dict()
    out = [(key, data[key]) for key in ("title", "description") if key in data]
    out += [("footer", data["footer"]["text"])] if "footer" in data else []
    for field in data.get("fields", []):
        out += [("name", field["name"]), ("value", field["value"])]
    return out


def assert_within_limits(embed: discord.Embed) -> None:
    for kind, value in texts_of(embed):
        assert len(value) <= LIMITS[kind], (kind, len(value))
    assert len(embed) <= 6000


@pytest.mark.parametrize("hostile", HOSTILE)
def test_markdown_in_user_text_is_shown_as_text(hostile: str) -> None:
    """Masked links, spoilers, headings, quotes, emphasis, lists, mentions: none renders."""
    shown = escape_text(hostile)
    assert rendered_markdown(shown) == []
    # Nothing is lost: with the escapes applied, the text is the member's own.
    assert unescaped(shown).count("\x00") == shown.count("\\") - hostile.count("\\")


def test_a_long_prompt_of_markdown_fits_every_field_after_escaping() -> None:
    """A 4,000-character prompt of `*` and `[` fits each embed, and is still all escaped."""
    messages, catalog = Messages.load(), load_catalog()
    prompt = ("*[" * 2000)[:4000]
    failed = job(prompt, status=JobStatus.FAILED, error_kind="invalid_input", error_message=prompt)
    embeds = [
        pending_embed(messages, catalog, job(prompt, status=JobStatus.QUEUED), position=3),
        result_embed(messages, catalog, job(prompt)),
        failure_embed(messages, catalog, failed),
        info_embed(messages, catalog, failed, "en-US"),
    ]
    prompt_fields = {messages.t("en-US", k) for k in ("result.prompt", "info.error")}
    for embed in embeds:
        assert_within_limits(embed)
        shown = [embed.description or ""]
        shown += [str(f.value) for f in embed.fields if f.name in prompt_fields]
        for value in shown:
            assert rendered_markdown(value) == [], value[:80]
    assert embeds[3].description and embeds[3].description.endswith("…")


def test_a_cut_never_leaves_a_backslash_escaping_the_ellipsis() -> None:
    """Cutting between a backslash and its character drops the backslash, not the escape."""
    for limit in range(2, 12):
        shown = user_text("*" * 50, limit)
        assert len(shown) <= limit and shown.endswith("…")
        assert not shown[:-1].endswith("\\") or shown[:-1].endswith("\\\\")
        assert rendered_markdown(shown) == []


def test_info_inputs_are_code_whatever_backticks_they_hold() -> None:
    """Input values with backticks or markdown stay inside their code spans."""
    hostile = job(
        "p",
        input={"prompt": "p", "style": "``x`` [l](https://e.invalid) ||s||", "seed": 3},
        prediction_id="id`with`ticks",
    )
    messages = Messages.load()
    embed = info_embed(messages, load_catalog(), hostile, "en-US")
    fields = {f.name: str(f.value) for f in embed.fields}
    assert fields[messages.t("en-US", "info.inputs")] == (
        "`seed` = `3`\n`style` = ``` ``x`` [l](https://e.invalid) ||s|| ```"
    )
    assert fields[messages.t("en-US", "info.prediction_id")] == "``id`with`ticks``"


def test_code_span_is_one_span_however_many_backticks() -> None:
    """The fence outgrows any run of backticks inside; empty text is a dash."""
    assert code_span("plain") == "`plain`"
    assert code_span("a``b") == "```a``b```"
    assert code_span("`edge`") == "`` `edge` ``"
    assert code_span("") == "—"
    assert len(code_span("x" * 5000, 100)) <= 100


def test_model_labels_from_models_file_are_escaped(tmp_path: Any) -> None:
    """A label an operator wrote in MODELS_FILE shows as text in every list that names it."""
    catalog = load_catalog()
    spec = catalog.models()[0]
    hostile = dataclasses.replace(spec, label="[Free credits](https://evil.invalid) ||x||")
    catalog_like = type("C", (), {"get": lambda self, _id: hostile})()
    shown = model_label(catalog_like, spec.id)  # type: ignore[arg-type]
    assert rendered_markdown(shown) == []
    assert "Free credits" in shown
