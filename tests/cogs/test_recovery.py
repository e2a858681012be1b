"""A restart in the middle of jobs: every result still lands in its original message, once."""

from __future__ import annotations

from tests.cogs.conftest import Stack


async def test_running_and_queued_jobs_survive_a_restart(stack_factory) -> None:  # type: ignore[no-untyped-def]
    """Jobs running or queued when the bot stops are finished by the next bot, each once."""
    stack: Stack = await stack_factory(
        api_kwargs={"duration": 1.0}, MAX_CONCURRENT_JOBS="1", USER_MAX_ACTIVE_JOBS="4"
    )
    fake = stack.discord
    first = await fake.slash("imagine", prompt="first", user=fake.users.member)
    await first.wait_callback()
    second = await fake.slash("imagine", prompt="second", user=fake.users.other_member)
    await second.wait_callback()
    await stack.wait_job(1, "running")
    queued = await stack.services.jobs.get(2)
    assert queued is not None and queued.status.value == "queued"

    await stack.restart()

    one = await stack.wait_job(1, "succeeded")
    two = await stack.wait_job(2, "succeeded", timeout=15)
    assert len(stack.api.requests_for("create")) == 2  # nothing created twice
    for interaction, job in ((first, one), (second, two)):
        message = interaction.original_message
        assert job.result_message_id == message.id
        assert len(message.attachments) == 1
    result_edits = [
        r for r in fake.requests if r.method == "PATCH" and r.files and "/messages/" in r.path
    ]
    assert len(result_edits) == 2  # each result uploaded exactly once


async def test_a_job_whose_message_id_was_never_written_still_lands_in_its_message(
    stack_factory,  # type: ignore[no-untyped-def]
) -> None:
    """A process that died between answering the command and writing the pending message's id
    leaves a job without one: the next bot still edits that message (through the token's
    original response), records its id, and posts nothing new."""
    stack: Stack = await stack_factory(api_kwargs={"duration": 1.5})
    fake = stack.discord
    asked = await fake.slash("imagine", prompt="a lost id", user=fake.users.member)
    await asked.wait_callback()
    await stack.wait_job(1, "running")
    async with stack.services.db.transaction() as tx:  # as if the write never happened
        await tx.execute("UPDATE jobs SET message_id = NULL WHERE id = 1")

    await stack.restart()

    job = await stack.wait_job(1, "succeeded")
    message = asked.original_message
    assert len(message.attachments) == 1
    assert job.result_message_id == message.id and job.delivery_method == "token"
    assert job.message_id == message.id
    posted = [r for r in fake.requests if r.method == "POST" and r.path.endswith("/messages")]
    assert posted == []  # no new message in the channel
