"""/imagine end to end: real discord.py on the fake Discord, the fake CometAPI, real SQLite."""

from __future__ import annotations

from tests.cogs.conftest import Stack


async def test_imagine_acknowledges_first_then_delivers_files_and_buttons(stack: Stack) -> None:
    """The pending message comes before any API call; the result has the images and buttons."""
    fake, api = stack.discord, stack.api
    interaction = await fake.slash("imagine", prompt="a red fox", count=2, user=fake.users.member)
    await interaction.wait_callback()
    first_callback_at = interaction.acknowledged_at
    assert interaction.callback_latency < 3
    message = interaction.original_message
    assert message is not None and not message.ephemeral
    assert any(cid.startswith("imagebot:cancel:") for cid in message.custom_ids)

    job = await stack.wait_job(1, "succeeded")
    creates = api.requests_for("create")
    assert len(creates) == 1
    assert first_callback_at is not None and creates[0].time >= first_callback_at
    assert creates[0].json["input"]["num_outputs"] == 2
    assert creates[0].json["input"]["prompt"] == "a red fox"

    message = interaction.original_message
    assert len(message.attachments) == 2
    assert all(a.filename.startswith("job-1-") for a in message.attachments)
    ids = message.custom_ids
    for action in ("reroll", "edit", "info", "delete"):
        assert f"imagebot:{action}:1" in ids
    assert not any(cid.startswith("imagebot:cancel:") for cid in ids)
    assert job.result_message_id == message.id and len(job.result_attachments) == 2
    assert job.delivery_method == "token"
    assert job.interaction_token is None  # not kept once the result is delivered


async def test_no_api_call_happens_before_the_acknowledgement(stack: Stack) -> None:
    """The first callback reaches Discord before the create reaches CometAPI."""
    fake, api = stack.discord, stack.api
    interaction = await fake.slash("imagine", prompt="a lighthouse", user=fake.users.member)
    await interaction.wait_callback()
    await stack.wait_job(1, "succeeded")
    callback = next(r for r in fake.requests if r.path.endswith("/callback"))
    create = api.requests_for("create")[0]
    # Both fakes stamp requests with time.monotonic() in this process.
    assert callback.time <= create.time


async def test_four_outputs_become_four_attachments(stack: Stack) -> None:
    """count=4 on flux-schnell gives one message with four image files."""
    fake = stack.discord
    interaction = await fake.slash("imagine", prompt="four cats", count=4, user=fake.users.member)
    await interaction.wait_callback()
    await stack.wait_job(1, "succeeded")
    attachments = interaction.original_message.attachments
    assert len(attachments) == 4
    assert all(a.data[:4] == b"RIFF" and a.data[8:12] == b"WEBP" for a in attachments)


async def test_everyone_in_the_prompt_pings_nobody(stack: Stack) -> None:
    """A prompt with @everyone and a role mention is shown, but allowed_mentions parses nothing."""
    from tests.fakes.discord import assert_no_mass_mentions, assert_pinged_nobody

    fake = stack.discord
    role = next(r for r in fake.guild.roles.values() if r.name == "Moderator")
    prompt = f"@everyone @here <@&{role.id}> a parade"
    interaction = await fake.slash("imagine", prompt=prompt, user=fake.users.member)
    await interaction.wait_callback()
    await stack.wait_job(1, "succeeded")
    message = interaction.original_message
    assert "@everyone" in message.embeds[0]["description"]
    assert_pinged_nobody(message)
    assert_no_mass_mentions(fake)


async def test_validation_refusal_is_ephemeral_and_recorded(stack: Stack) -> None:
    """A value the model refuses gets one ephemeral sentence, is logged, and never reaches the API."""
    fake, api = stack.discord, stack.api
    interaction = await fake.slash(
        "imagine",
        prompt="x",
        model="black-forest-labs/flux-1.1-pro",
        count=3,
        user=fake.users.member,
    )
    await interaction.wait_callback()
    reply = interaction.original_message
    assert reply.ephemeral
    assert "one image" in reply.content.lower() or "1" in reply.content
    assert api.requests_for("create") == []
    rows = await stack.services.db.fetchall("SELECT status, refusal_reason FROM jobs")
    assert rows == [{"status": "refused", "refusal_reason": "validation"}]


async def test_pending_message_shows_queue_position_while_waiting(stack_factory) -> None:  # type: ignore[no-untyped-def]
    """With every slot busy, a new request's pending message says where it stands in the queue."""
    stack = await stack_factory(api_kwargs={"duration": 1.0}, MAX_CONCURRENT_JOBS="1")
    fake = stack.discord
    first = await fake.slash("imagine", prompt="first", user=fake.users.member)
    await first.wait_callback()
    await stack.wait_job(1, "running")
    second = await fake.slash("imagine", prompt="second", user=fake.users.other_member)
    await second.wait_callback()
    status = second.original_message.embeds[0]["fields"][1]["value"]
    assert status == stack.services.messages.t("en-US", "status.queued", position=1)
    await stack.wait_job(2, "succeeded", timeout=15)
    assert len(second.original_message.attachments) == 1


async def test_a_masked_link_prompt_is_shown_as_text_not_as_a_link(stack: Stack) -> None:
    """A prompt written as a masked link reaches Discord escaped: no clickable masked link."""
    from tests.fakes.discord.markdown import rendered_markdown, unescaped

    fake = stack.discord
    prompt = "[claim your reward](https://example.invalid) ||hidden||"
    interaction = await fake.slash("imagine", prompt=prompt, user=fake.users.member)
    await interaction.wait_callback()
    await stack.wait_job(1, "succeeded")
    description = interaction.original_message.embeds[0]["description"]
    assert rendered_markdown(description) == []
    # Every character is still there for a moderator to read.
    assert description.replace("\\", "") == prompt
    assert "\x00" in unescaped(description)
