"""Remix: a form filled in with the job's prompt and options; what the member changes runs with
the rest of the stored settings, as a new request judged where the form is submitted."""

from __future__ import annotations

from typing import Any

from tests.cogs.conftest import Stack, png_bytes, text

PRO = "black-forest-labs/flux-1.1-pro"


async def _result(stack: Stack, **options: Any) -> Any:
    fake = stack.discord
    channel = options.pop("channel", None)
    interaction = await fake.slash(
        "imagine",
        prompt=options.pop("prompt", "a kite"),
        user=fake.users.member,
        channel=channel,
        **options,
    )
    await interaction.wait_callback()
    await stack.wait_job(1, "succeeded")
    return interaction.original_message


def _fields(modal: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found = {}
    for row in modal["components"]:
        for component in row.get("components", [row.get("component", {})]):
            found[component["custom_id"]] = component
    return found


async def _open(stack: Stack, message: Any) -> Any:
    click = await stack.discord.click(message, "imagebot:remix:1", user=stack.discord.users.member)
    await click.wait_callback()
    assert click.modal is not None
    return click


async def test_the_form_is_filled_in_with_the_jobs_settings(stack: Stack) -> None:
    """Prompt, aspect ratio, seed and count (schnell takes all four) hold the job's values."""
    message = await _result(stack, aspect_ratio="3:2", count=2)
    job = await stack.services.jobs.get(1)
    assert job is not None
    click = await _open(stack, message)
    assert click.modal["title"] == text(stack, "modal.remix.title")
    fields = _fields(click.modal)
    assert list(fields) == ["prompt", "aspect_ratio", "seed", "count"]
    assert fields["prompt"]["value"] == "a kite" and fields["prompt"]["required"]
    assert fields["aspect_ratio"]["value"] == "3:2"
    assert fields["seed"]["value"] == str(job.input["seed"])
    assert fields["count"]["value"] == "2"


async def test_remix_runs_the_same_settings_with_what_changed(stack: Stack) -> None:
    """A new prompt and ratio; the seed and everything else stay as they were."""
    message = await _result(stack)
    await _open(stack, message)
    submit = await stack.discord.submit_modal(
        "imagebot:remixmodal:1",
        {"prompt": "a kite at night", "aspect_ratio": "16:9"},
        user=stack.discord.users.member,
        message=message,
    )
    await submit.wait_callback()
    child = await stack.wait_job(2, "succeeded")
    parent = await stack.services.jobs.get(1)
    assert parent is not None
    assert (child.kind, child.parent_id, child.prompt) == ("remix", 1, "a kite at night")
    changed = {k for k in child.input if child.input[k] != parent.input.get(k)}
    assert changed == {"prompt", "aspect_ratio"}
    assert child.input["seed"] == parent.input["seed"]

    shown = await stack.discord.slash("show", job=2, user=stack.discord.users.member)
    await shown.wait_callback()
    lines = shown.original_message.content.splitlines()
    assert lines[1].startswith(text(stack, "lineage.remix", job_id=1))
    assert f"/{message.channel_id}/{message.id}" in lines[1]


async def test_an_emptied_seed_means_a_new_one(stack: Stack) -> None:
    """Clearing the seed draws another; the count can change too."""
    message = await _result(stack)
    await _open(stack, message)
    submit = await stack.discord.submit_modal(
        "imagebot:remixmodal:1", {"seed": "", "count": "3"}, user=stack.discord.users.member
    )
    await submit.wait_callback()
    child = await stack.wait_job(2, "succeeded")
    parent = await stack.services.jobs.get(1)
    assert parent is not None
    assert child.input["seed"] != parent.input["seed"] and child.input["num_outputs"] == 3
    assert child.input["prompt"] == "a kite"


async def test_what_the_member_typed_is_checked_like_a_command(stack: Stack) -> None:
    """A ratio the model lacks and a seed that is no number are refused with what would work;
    a blocked word in the new prompt is refused without echoing it."""
    message = await _result(stack)
    fake = stack.discord
    await _open(stack, message)
    bad = await fake.submit_modal(
        "imagebot:remixmodal:1", {"aspect_ratio": "7:3", "seed": "x"}, user=fake.users.member
    )
    await bad.wait_callback()
    reply = bad.original_message
    allowed = "1:1, 16:9, 21:9, 3:2, 2:3, 4:5, 5:4, 3:4, 4:3, 9:16, 9:21"
    expected = text(stack, "type.integer")
    assert reply.ephemeral and reply.content.splitlines() == [
        "• " + text(stack, "validation.not_in_choices", field="aspect_ratio", allowed=allowed),
        "• " + text(stack, "validation.wrong_type", field="seed", expected=expected),
    ]

    await stack.services.guild_config.add_blocked_term(fake.guild.id, "dragon")
    await _open(stack, message)
    blocked = await fake.submit_modal(
        "imagebot:remixmodal:1", {"prompt": "a dragon kite"}, user=fake.users.member
    )
    await blocked.wait_callback()
    assert blocked.original_message.content == text(stack, "refusal.blocked_term")
    assert len(stack.api.requests_for("create")) == 1


async def test_a_relaxed_setting_is_refused_where_the_channel_does_not_allow_it(
    stack: Stack,
) -> None:
    """A result made with safety_tolerance 5 in an age-restricted channel cannot be remixed
    from /show in a normal channel: the channel where the form is submitted decides."""
    fake = stack.discord
    await stack.services.guild_config.set_allow_nsfw(fake.guild.id, True)
    await _result(
        stack, model=PRO, extra="safety_tolerance=5", channel=fake.channels.nsfw, prompt="art"
    )
    shown = await fake.slash("show", job=1, user=fake.users.member, channel=fake.channels.normal)
    await shown.wait_callback()
    await _open(stack, shown.original_message)
    submit = await fake.submit_modal(
        "imagebot:remixmodal:1",
        {"prompt": "more art"},
        user=fake.users.member,
        channel=fake.channels.normal,
    )
    await submit.wait_callback()
    refusal = text(stack, "validation.not_allowed_here", field="safety_tolerance")
    assert submit.original_message.content == "• " + refusal
    assert len(stack.api.requests_for("create")) == 1


async def test_remix_of_a_blend_keeps_its_images(stack: Stack) -> None:
    """A /blend result's remix sends the same reference images (they came from Discord)."""
    fake = stack.discord
    blend = await fake.slash(
        "blend",
        user=fake.users.member,
        attachments={
            "image1": ("a.png", png_bytes(), "image/png"),
            "image2": ("b.png", png_bytes(), "image/png"),
        },
    )
    await blend.wait_callback()
    await stack.wait_job(1, "succeeded")
    await _open(stack, blend.original_message)
    submit = await fake.submit_modal(
        "imagebot:remixmodal:1",
        {"prompt": "the two together, at the beach"},
        user=fake.users.member,
    )
    await submit.wait_callback()
    child = await stack.wait_job(2, "succeeded")
    parent = await stack.services.jobs.get(1)
    assert parent is not None
    assert child.input["input_images"] == parent.input["input_images"]
    assert child.model == "black-forest-labs/flux-2-pro"


async def test_a_form_opened_before_a_restart_still_works(stack: Stack) -> None:
    """Remix's button and form are routed by custom_id: a restart in between changes nothing."""
    message = await _result(stack)
    await _open(stack, message)
    await stack.restart()
    submit = await stack.discord.submit_modal(
        "imagebot:remixmodal:1", {"prompt": "a kite, remixed"}, user=stack.discord.users.member
    )
    await submit.wait_callback()
    child = await stack.wait_job(2, "succeeded")
    assert (child.kind, child.prompt) == ("remix", "a kite, remixed")
    again = await stack.discord.click(message, "imagebot:remix:1", user=stack.discord.users.member)
    await again.wait_callback()
    assert again.modal is not None
