"""Vary (Subtle) and Vary (Strong): the chosen image of a result, read fresh from Discord, sent
to the catalog's variation model with the same prompt and a new seed, as a new request judged
where the button is pressed; persistent, the requester's only, and recorded as lineage."""

from __future__ import annotations

from typing import Any

from tests.cogs.conftest import Stack, text

DEV = "black-forest-labs/flux-dev"


async def _result(stack: Stack, **options: Any) -> Any:
    """Job 1's delivered result message, made by the member."""
    fake = stack.discord
    interaction = await fake.slash(
        "imagine", prompt=options.pop("prompt", "a kite"), user=fake.users.member, **options
    )
    await interaction.wait_callback()
    await stack.wait_job(1, "succeeded")
    return interaction.original_message


def _rows(message: Any) -> list[list[str]]:
    return [[c["custom_id"] for c in row["components"]] for row in message.components]


async def test_subtle_variation_of_a_single_image(stack: Stack) -> None:
    """Vary (Subtle) runs flux-dev on the result's image at strength 0.35, same prompt, new
    seed, and records "variation of job 1, image 1"; Info says so with a link back."""
    message = await _result(stack)
    fake = stack.discord
    assert _rows(message)[0] == [
        "imagebot:reroll:1",
        "imagebot:vary:1:1:subtle",
        "imagebot:vary:1:1:strong",
        "imagebot:remix:1",
        "imagebot:edit:1",
    ]
    click = await fake.click(message, "imagebot:vary:1:1:subtle", user=fake.users.member)
    await click.wait_callback()
    child = await stack.wait_job(2, "succeeded")
    parent = await stack.services.jobs.get(1)
    assert parent is not None
    assert (child.kind, child.parent_id, child.parent_image, child.model) == (
        "vary_subtle",
        1,
        1,
        DEV,
    )
    assert child.input["prompt"] == "a kite" and child.input["prompt_strength"] == 0.35
    assert child.input["seed"] != parent.input["seed"]
    # Discord's signed URL of the result's own file, read from the message when clicked.
    assert child.input["image"].split("?")[0] == message.attachments[0].url.split("?")[0]
    create = stack.api.requests_for("create")[1]
    assert create.path.endswith(f"/models/{DEV}/predictions")
    assert len(click.original_message.attachments) == 1

    info = await fake.click(click.original_message, "imagebot:info:2", user=fake.users.member)
    await info.wait_callback()
    fields = {f["name"]: f["value"] for f in info.original_message.embeds[0]["fields"]}
    lineage = text(stack, "lineage.vary_subtle", job_id=1, image=1)
    assert fields[text(stack, "info.parent")].startswith(lineage)
    assert f"/{message.channel_id}/{message.id}" in fields[text(stack, "info.parent")]


async def test_a_four_image_result_lets_the_member_pick_one(stack: Stack) -> None:
    """Four images: a row of Subtle 1–4 and one of Strong 1–4 under the usual buttons; Strong 3
    varies the third file into four new images at strength 0.75."""
    message = await _result(stack, count=4)
    fake = stack.discord
    rows = _rows(message)
    assert rows == [
        [f"imagebot:{action}:1" for action in ("reroll", "remix", "edit", "info", "delete")],
        [f"imagebot:vary:1:{n}:subtle" for n in range(1, 5)],
        [f"imagebot:vary:1:{n}:strong" for n in range(1, 5)],
    ]
    labels = [c["label"] for c in message.components[2]["components"]]
    assert labels == [text(stack, "button.vary_strong_n", image=n) for n in range(1, 5)]
    click = await fake.click(message, "imagebot:vary:1:3:strong", user=fake.users.member)
    await click.wait_callback()
    child = await stack.wait_job(2, "succeeded")
    third = next(a for a in message.attachments if a.filename.startswith("job-1-3."))
    assert child.input["image"].split("?")[0] == third.url.split("?")[0]
    assert (child.kind, child.parent_image) == ("vary_strong", 3)
    assert child.input["prompt_strength"] == 0.75 and child.input["num_outputs"] == 4
    assert len(click.original_message.attachments) == 4


async def test_vary_works_after_a_restart(stack: Stack) -> None:
    """A fresh bot on the same database answers the old result's Vary, with a fresh image URL."""
    message = await _result(stack, count=2)
    await stack.restart()
    fake = stack.discord
    click = await fake.click(message, "imagebot:vary:1:2:subtle", user=fake.users.member)
    await click.wait_callback()
    child = await stack.wait_job(2, "succeeded")
    assert child.parent_image == 2 and "job-1-2." in child.input["image"]


async def test_vary_from_show_reads_the_result_message(stack: Stack) -> None:
    """The buttons /show posts have no image under them: Vary fetches the result message."""
    await _result(stack)
    fake = stack.discord
    shown = await fake.slash("show", job=1, user=fake.users.member)
    await shown.wait_callback()
    click = await fake.click(
        shown.original_message, "imagebot:vary:1:1:strong", user=fake.users.member
    )
    await click.wait_callback()
    child = await stack.wait_job(2, "succeeded")
    assert "job-1-1." in child.input["image"]


async def test_only_the_requester_may_vary(stack: Stack) -> None:
    """Someone else's click is refused in one sentence and starts nothing."""
    message = await _result(stack)
    fake = stack.discord
    for custom_id in ("imagebot:vary:1:1:subtle", "imagebot:remix:1"):
        click = await fake.click(message, custom_id, user=fake.users.other_member)
        await click.wait_callback()
        assert click.original_message.ephemeral
        assert click.original_message.content == text(stack, "refusal.not_requester")
        assert click.modal is None
    assert await stack.services.db.fetchval("SELECT COUNT(*) FROM jobs") == 1


async def test_vary_is_judged_by_the_rules_that_hold_now(stack: Stack) -> None:
    """A term blocked after the result, or a channel no longer allowed, refuses Vary as it
    would refuse the command: nothing reaches CometAPI, the refusal is recorded."""
    message = await _result(stack, prompt="a red kite")
    fake = stack.discord
    guild = fake.guild.id
    await stack.services.guild_config.add_blocked_term(guild, "kite")
    blocked = await fake.click(message, "imagebot:vary:1:1:subtle", user=fake.users.member)
    await blocked.wait_callback()
    assert blocked.original_message.content == text(stack, "refusal.blocked_term")

    await stack.services.guild_config.remove_blocked_term(guild, "kite")
    await stack.services.guild_config.set_allowed_channels(guild, [fake.channels.nsfw.id])
    elsewhere = await fake.click(message, "imagebot:vary:1:1:strong", user=fake.users.member)
    await elsewhere.wait_callback()
    assert elsewhere.original_message.content == text(
        stack, "refusal.channel_not_allowed", channels=f"<#{fake.channels.nsfw.id}>"
    )
    assert len(stack.api.requests_for("create")) == 1
    rows = await stack.services.db.fetchall(
        "SELECT kind, status, refusal_reason, parent_image FROM jobs WHERE id > 1 ORDER BY id"
    )
    assert rows == [
        {"kind": "vary_subtle", "status": "refused", "refusal_reason": "blocked_term"}
        | {"parent_image": 1},
        {"kind": "vary_strong", "status": "refused", "refusal_reason": "channel_not_allowed"}
        | {"parent_image": 1},
    ]


async def test_a_deleted_result_cannot_be_varied(stack: Stack) -> None:
    """After Delete, Vary from /show finds no image and says so."""
    message = await _result(stack)
    fake = stack.discord
    shown = await fake.slash("show", job=1, user=fake.users.member)
    await shown.wait_callback()
    deleted = await fake.click(message, "imagebot:delete:1", user=fake.users.member)
    await deleted.wait_callback()
    click = await fake.click(
        shown.original_message, "imagebot:vary:1:1:subtle", user=fake.users.member
    )
    await click.wait_callback()
    assert click.original_message.content == text(stack, "refusal.no_image_in_message")
    assert await stack.services.db.fetchval("SELECT COUNT(*) FROM jobs") == 1
