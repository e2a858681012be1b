"""Persistent buttons: who may press them, what they do, and that they survive a restart."""

from __future__ import annotations

from tests.cogs.conftest import Stack, text


async def _result(stack: Stack, prompt: str = "a kite"):  # type: ignore[no-untyped-def]
    fake = stack.discord
    interaction = await fake.slash("imagine", prompt=prompt, user=fake.users.member)
    await interaction.wait_callback()
    await stack.wait_job(1, "succeeded")
    return interaction.original_message


async def test_info_shows_every_input_field_ephemerally(stack: Stack) -> None:
    """Info answers anyone with an ephemeral embed listing model, prompt, seed and inputs."""
    message = await _result(stack)
    fake = stack.discord
    click = await fake.click(message, "imagebot:info:1", user=fake.users.other_member)
    await click.wait_callback()
    reply = click.original_message
    assert reply.ephemeral
    embed = reply.embeds[0]
    assert embed["description"] == "a kite"
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    inputs = fields[text(stack, "info.inputs")]
    for name in ("num_outputs", "output_format", "aspect_ratio", "seed"):
        assert f"`{name}`" in inputs


async def test_reroll_by_requester_makes_a_child_job_with_a_new_seed(stack: Stack) -> None:
    """Re-roll posts a new pending message; the child keeps the input but not the seed."""
    message = await _result(stack)
    fake = stack.discord
    click = await fake.click(message, "imagebot:reroll:1", user=fake.users.member)
    await click.wait_callback()
    child = await stack.wait_job(2, "succeeded")
    parent = await stack.services.jobs.get(1)
    assert parent is not None and child.parent_id == 1 and child.kind == "reroll"
    assert child.input["seed"] != parent.input["seed"]
    assert {k: v for k, v in child.input.items() if k != "seed"} == {
        k: v for k, v in parent.input.items() if k != "seed"
    }
    assert len(click.original_message.attachments) == 1


async def test_buttons_that_change_things_refuse_other_users(stack: Stack) -> None:
    """Re-roll, Edit and Delete by someone else get an ephemeral explanation and do nothing."""
    message = await _result(stack)
    fake = stack.discord
    for action, key in (
        ("reroll", "refusal.not_requester"),
        ("edit", "refusal.not_requester"),
        ("delete", "refusal.not_moderator"),
    ):
        click = await fake.click(message, f"imagebot:{action}:1", user=fake.users.other_member)
        await click.wait_callback()
        assert click.original_message.ephemeral
        assert click.original_message.content == text(stack, key)
    rows = await stack.services.db.fetchval("SELECT COUNT(*) FROM jobs")
    assert rows == 1 and message.id in fake.messages


async def test_moderator_may_delete_someone_elses_result(stack: Stack) -> None:
    """Delete by a moderator removes the result message."""
    message = await _result(stack)
    fake = stack.discord
    click = await fake.click(message, "imagebot:delete:1", user=fake.users.moderator)
    await click.wait_callback()
    await fake.wait_for(lambda r: r.method == "DELETE" and str(message.id) in r.path)
    assert message.id not in fake.messages


async def test_buttons_work_after_a_restart(stack: Stack) -> None:
    """A fresh bot on the same database answers the old message's buttons."""
    message = await _result(stack)
    await stack.restart()
    fake = stack.discord
    click = await fake.click(message, "imagebot:info:1", user=fake.users.member)
    await click.wait_callback()
    assert click.original_message.embeds[0]["description"] == "a kite"
    reroll = await fake.click(message, "imagebot:reroll:1", user=fake.users.member)
    await reroll.wait_callback()
    await stack.wait_job(2, "succeeded")


async def test_edit_button_opens_a_form_and_edits_the_result(stack: Stack) -> None:
    """Edit asks for a prompt, then runs an image-edit model on the result's image."""
    message = await _result(stack)
    fake = stack.discord
    click = await fake.click(message, "imagebot:edit:1", user=fake.users.member)
    await click.wait_callback()
    assert click.modal is not None
    submit = await fake.submit_modal(
        click.modal["custom_id"],
        {"prompt": "make it night"},
        user=fake.users.member,
        message=message,
    )
    await submit.wait_callback()
    child = await stack.wait_job(2, "succeeded")
    assert child.kind == "edit_result" and child.parent_id == 1
    assert child.model == "black-forest-labs/flux-kontext-pro"
    assert child.input["prompt"] == "make it night"
    # The URL is Discord's signed CDN link to the result; the signature is fresh each time.
    assert child.input["input_image"].split("?")[0] == message.attachments[0].url.split("?")[0]


async def test_cancel_a_running_job(stack_factory) -> None:  # type: ignore[no-untyped-def]
    """Cancel by the requester stops the prediction and ends the message with 'canceled'."""
    stack: Stack = await stack_factory(api_kwargs={"duration": 30})
    fake = stack.discord
    interaction = await fake.slash("imagine", prompt="slow", user=fake.users.member)
    await interaction.wait_callback()
    await stack.wait_job(1, "running")
    other = await fake.click(
        interaction.original_message, "imagebot:cancel:1", user=fake.users.other_member
    )
    await other.wait_callback()
    assert other.original_message.content == text(stack, "refusal.not_requester")
    click = await fake.click(
        interaction.original_message, "imagebot:cancel:1", user=fake.users.member
    )
    await click.wait_callback()
    await stack.wait_job(1, "canceled")
    assert stack.api.requests_for("cancel")
    await stack.wait_notified(1)
    job = await stack.services.jobs.get(1)
    embed = interaction.original_message.embeds[0]
    assert embed["description"] == text(stack, "error.canceled")
    assert interaction.original_message.custom_ids == []
    assert job is not None and job.notified


async def test_an_erased_result_says_so_in_info_and_cannot_be_rerolled(stack: Stack) -> None:
    """After RETENTION_DAYS the prompt is gone: Info says when it was erased, Re-roll refuses
    without calling the API."""
    from bot.storage.retention import JobRetention

    message = await _result(stack)
    fake = stack.discord
    erased = await JobRetention(stack.services.db, stack.clock).erase_ended_before(
        stack.clock.now() + 1
    )
    assert erased == 1
    info = await fake.click(message, "imagebot:info:1", user=fake.users.member)
    await info.wait_callback()
    job = await stack.services.jobs.get(1)
    assert job is not None and job.erased_at is not None
    assert info.original_message.embeds[0]["description"] == text(
        stack, "info.erased", date=f"<t:{int(job.erased_at)}:D>"
    )
    reroll = await fake.click(message, "imagebot:reroll:1", user=fake.users.member)
    await reroll.wait_callback()
    assert reroll.original_message.content == text(stack, "refusal.job_erased")
    assert len(stack.api.requests_for("create")) == 1
