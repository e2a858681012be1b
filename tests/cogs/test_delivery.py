"""Delivery survives what Discord throws at it: expired tokens, deleted messages, big files."""

from __future__ import annotations

from tests.cogs.conftest import Stack


async def _start(stack: Stack, prompt: str = "a harbour at dawn"):  # type: ignore[no-untyped-def]
    fake = stack.discord
    interaction = await fake.slash("imagine", prompt=prompt, user=fake.users.member)
    await interaction.wait_callback()
    return interaction


async def test_result_after_token_expiry_is_edited_through_the_channel(stack_factory) -> None:  # type: ignore[no-untyped-def]
    """When Discord says the token is dead, the bot edits the same message with its own token."""
    stack: Stack = await stack_factory(api_kwargs={"duration": 0.6})
    interaction = await _start(stack)
    stack.discord.expire_token(interaction)
    job = await stack.wait_job(1, "succeeded")
    assert job.delivery_method == "channel"
    message = interaction.original_message
    assert len(message.attachments) == 1 and job.result_message_id == message.id
    assert job.interaction_token is None  # a dead token is forgotten


async def test_result_after_message_deleted_posts_new_message_mentioning_requester(
    stack_factory,
) -> None:  # type: ignore[no-untyped-def]
    """A deleted pending message gets a new message that pings the requester and no one else."""
    from tests.fakes.discord import assert_pinged

    stack: Stack = await stack_factory(api_kwargs={"duration": 0.6})
    fake = stack.discord
    interaction = await _start(stack, "@everyone a boat")
    fake.delete_message(interaction.original_message)
    job = await stack.wait_job(1, "succeeded")
    assert job.delivery_method == "new_message"
    posted = fake.messages[job.result_message_id]
    assert f"<@{fake.users.member.id}>" in posted.content
    assert_pinged(posted, users=[fake.users.member.id], roles=[], everyone=False)
    assert len(posted.attachments) == 1


async def test_deleted_message_and_no_permission_falls_back_to_dm(stack_factory) -> None:  # type: ignore[no-untyped-def]
    """No message and no right to post: the result goes to the requester's DMs."""
    stack: Stack = await stack_factory(api_kwargs={"duration": 0.6})
    fake = stack.discord
    interaction = await _start(stack)
    fake.delete_message(interaction.original_message)
    fake.deny_permission(fake.channels.normal)
    job = await stack.wait_job(1, "succeeded")
    assert job.delivery_method == "dm"
    dms = fake.dm_messages(fake.users.member)
    assert dms and len(dms[-1].attachments) == 1


async def test_oversized_output_is_fitted_under_the_interaction_limit(stack_factory) -> None:  # type: ignore[no-untyped-def]
    """An output over the reported upload limit arrives re-encoded under it."""
    stack: Stack = await stack_factory()
    stack.api.set_model_behaviour(
        "black-forest-labs/flux-schnell", output_kind="huge", duration=0.2
    )
    fake = stack.discord
    interaction = await fake.slash(
        "imagine",
        prompt="static",
        format="png",
        user=fake.users.member,
        attachment_size_limit=400_000,
    )
    await interaction.wait_callback()
    job = await stack.wait_job(1, "succeeded", "failed", timeout=20)
    assert job.status.value == "succeeded", job.error_message
    attachment = interaction.original_message.attachments[0]
    assert len(attachment.data) <= 400_000


async def test_every_message_sent_parses_no_mentions_by_default(stack: Stack) -> None:
    """Every message the bot sent or edited tells Discord to parse no mention at all."""
    from tests.fakes.discord import assert_allows_no_mentions, assert_pinged_nobody
    from tests.fakes.discord.assertions import message_requests

    interaction = await _start(stack, "<@&123> @here hi")
    await stack.wait_job(1, "succeeded")
    sent = message_requests(stack.discord)
    assert len(sent) >= 2  # the pending message and the result
    for request in sent:
        assert_allows_no_mentions(request)
    assert_pinged_nobody(interaction.original_message)
