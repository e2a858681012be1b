"""/blend: 2–4 attachments, each checked like /edit's, sent as a FLUX.2 model's input_images;
an optional prompt, model (those that take several images), aspect ratio and seed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.cogs.conftest import Stack, png_bytes, text

FLUX2_PRO = "black-forest-labs/flux-2-pro"
FLUX2_FLEX = "black-forest-labs/flux-2-flex"


def _images(*names: str, content_type: str = "image/png") -> dict[str, Any]:
    return {f"image{n}": (name, png_bytes(), content_type) for n, name in enumerate(names, start=1)}


async def test_blend_sends_every_attachment_in_order(stack: Stack) -> None:
    """Three attachments become flux-2-pro's input_images (Discord's URLs, in order); with no
    prompt the member's language asks the model to combine them; the result has Vary."""
    fake = stack.discord
    interaction = await fake.slash(
        "blend", user=fake.users.member, attachments=_images("cat.png", "hat.png", "sea.png")
    )
    await interaction.wait_callback()
    job = await stack.wait_job(1, "succeeded")
    create = stack.api.requests_for("create")[0]
    assert create.path.endswith(f"/models/{FLUX2_PRO}/predictions")
    sent = create.json["input"]["input_images"]
    assert [url.split("?")[0].rsplit("/", 1)[1] for url in sent] == [
        "cat.png",
        "hat.png",
        "sea.png",
    ]
    assert job.kind == "blend" and job.prompt == text(stack, "blend.default_prompt")
    result = interaction.original_message
    assert len(result.attachments) == 1
    assert "imagebot:vary:1:1:subtle" in result.custom_ids


async def test_blend_takes_a_prompt_model_ratio_and_seed(stack: Stack) -> None:
    """The options reach FLUX.2 Flex's fields; a zh-TW member's default prompt is in zh-TW."""
    fake = stack.discord
    interaction = await fake.slash(
        "blend",
        user=fake.users.member,
        attachments=_images("a.png", "b.png", "c.png", "d.png"),
        model=FLUX2_FLEX,
        aspect_ratio="match_input_image",
        seed=42,
        locale="zh-TW",
    )
    await interaction.wait_callback()
    job = await stack.wait_job(1, "succeeded")
    assert job.model == FLUX2_FLEX and len(job.input["input_images"]) == 4
    assert (job.input["aspect_ratio"], job.input["seed"]) == ("match_input_image", 42)
    assert job.prompt == text(stack, "blend.default_prompt", "zh-TW")


async def test_blend_refuses_a_file_that_is_not_an_image(stack: Stack) -> None:
    """A text file among the images is refused like /edit's, logged, and nothing is sent."""
    fake = stack.discord
    files = _images("cat.png")
    files["image2"] = ("notes.txt", b"hello", "text/plain")
    interaction = await fake.slash("blend", prompt="mix", user=fake.users.member, attachments=files)
    await interaction.wait_callback()
    assert interaction.original_message.content == text(stack, "refusal.attachment_not_image")
    assert stack.api.requests_for("create") == []
    row = await stack.services.db.fetchone("SELECT kind, status, refusal_reason, model FROM jobs")
    assert row == {
        "kind": "blend",
        "status": "refused",
        "refusal_reason": "validation",
        "model": FLUX2_PRO,
    }


async def test_blend_with_a_model_that_takes_one_image_is_refused(stack: Stack) -> None:
    """A model without a list of images cannot blend: the sentence names the option."""
    fake = stack.discord
    interaction = await fake.slash(
        "blend",
        user=fake.users.member,
        attachments=_images("a.png", "b.png"),
        model="black-forest-labs/flux-kontext-pro",
    )
    await interaction.wait_callback()
    assert interaction.original_message.content == text(
        stack, "validation.option_not_accepted", option="images", model="FLUX Kontext Pro"
    )
    assert stack.api.requests_for("create") == []


async def test_blend_offers_the_models_that_take_several_images(stack: Stack) -> None:
    """The model option's autocomplete lists the FLUX.2 models only."""
    fake = stack.discord
    typed = await fake.autocomplete("blend", "model", "", user=fake.users.member)
    await typed.wait_callback()
    assert [c["value"] for c in typed.autocomplete_choices] == [
        FLUX2_PRO,
        "black-forest-labs/flux-2-dev",
        FLUX2_FLEX,
    ]


async def test_an_operators_model_counts_its_images(stack_factory: Any, tmp_path: Path) -> None:
    """A MODELS_FILE model that takes 2 images refuses 3 with the bounds, before any request."""
    path = tmp_path / "extra-models.json"
    two = {"id": FLUX2_PRO, "fields": {"input_images": {"max_items": 2}}}
    path.write_text(json.dumps({"models": [two]}), encoding="utf-8")
    stack: Stack = await stack_factory(MODELS_FILE=str(path))
    fake = stack.discord
    interaction = await fake.slash(
        "blend", user=fake.users.member, attachments=_images("a.png", "b.png", "c.png")
    )
    await interaction.wait_callback()
    assert interaction.original_message.content == "• " + text(
        stack, "validation.image_count", field="images", min=1, max=2, count=3
    )
    assert stack.api.requests_for("create") == []


async def test_blend_is_judged_by_the_channels_rules(stack: Stack) -> None:
    """Outside the allowed channels /blend is refused like /imagine, naming where it works."""
    fake = stack.discord
    await stack.services.guild_config.set_allowed_channels(fake.guild.id, [fake.channels.nsfw.id])
    interaction = await fake.slash(
        "blend", user=fake.users.member, attachments=_images("a.png", "b.png")
    )
    await interaction.wait_callback()
    assert interaction.original_message.content == text(
        stack, "refusal.channel_not_allowed", channels=f"<#{fake.channels.nsfw.id}>"
    )


async def test_blend_has_its_own_localized_names(stack: Stack) -> None:
    """The synced /blend carries zh-TW, zh-CN and ja names for itself and its options."""
    commands = {c["name"]: c for c in stack.discord.commands_synced[stack.discord.guild.id]}
    blend = commands["blend"]
    messages = stack.services.messages
    for locale in ("zh-TW", "zh-CN", "ja"):
        assert blend["name_localizations"][locale] == messages.t(locale, "command.blend.name")
        image1 = next(o for o in blend["options"] if o["name"] == "image1")
        assert image1["name_localizations"][locale] == messages.t(
            locale, "option.blend.image1.name"
        )
    required = [o["name"] for o in blend["options"] if o.get("required")]
    assert required == ["image1", "image2"]
    assert "Edit image" in commands
