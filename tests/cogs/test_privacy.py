"""/forget-me end to end: a confirmation first, then exactly the caller's records go."""

from __future__ import annotations

from typing import Any

from tests.cogs.conftest import Stack, text
from tests.fakes.discord.records import FakeInteraction


async def _jobs(stack: Stack) -> None:
    """member: one result and one refused request; other_member: one result."""
    fake = stack.discord
    for user, options in (
        (fake.users.member, {"prompt": "a heron"}),
        (fake.users.other_member, {"prompt": "a crane"}),
        (fake.users.member, {"prompt": "x", "count": 2, "model": "black-forest-labs/flux-1.1-pro"}),
    ):
        interaction = await fake.slash("imagine", user=user, **options)
        await interaction.wait_callback()
    await stack.wait_job(1, "succeeded")
    await stack.wait_job(2, "succeeded")


async def _ask(stack: Stack, user: Any) -> FakeInteraction:
    interaction = await stack.discord.slash("forget-me", user=user)
    await interaction.wait_callback()
    return interaction


async def _click(stack: Stack, asked: FakeInteraction, action: str, user: Any) -> FakeInteraction:
    message = asked.original_message
    assert message is not None
    custom_id = next(c for c in message.custom_ids if f":{action}:" in c)
    click = await stack.discord.click(message, custom_id, user=user)
    await click.wait_callback()
    return click


async def _rows(stack: Stack, user: Any) -> list[int]:
    rows = await stack.services.db.fetchall(
        "SELECT id FROM jobs WHERE user_id = ? ORDER BY id", user.id
    )
    return [r["id"] for r in rows]


async def test_confirm_deletes_exactly_the_callers_rows(stack: Stack) -> None:
    """After Confirm, the caller's jobs and events are gone and another member's stay."""
    await _jobs(stack)
    fake = stack.discord
    member, other = fake.users.member, fake.users.other_member
    assert await _rows(stack, member) == [1, 3] and await _rows(stack, other) == [2]
    asked = await _ask(stack, member)
    message = asked.original_message
    assert message is not None and message.ephemeral
    assert message.content == text(stack, "forget_me.confirm")
    labels = [c["label"] for row in message.components for c in row["components"]]
    assert labels == [text(stack, "button.confirm"), text(stack, "button.keep")]

    click = await _click(stack, asked, "confirm", member)
    await click.wait_for(lambda r: r.method == "PATCH" and r.status == 200)
    assert asked.original_message.content == text(stack, "forget_me.done", jobs=2)
    assert asked.original_message.custom_ids == []
    assert await _rows(stack, member) == []
    assert await _rows(stack, other) == [2]
    events = await stack.services.db.fetchall("SELECT DISTINCT job_id FROM job_events")
    assert {e["job_id"] for e in events} == {2}

    # The server's totals stay honest without naming the forgotten member.
    server = await fake.slash("usage", subcommand="server", user=fake.users.moderator)
    await server.wait_callback()
    embed = server.original_message.embeds[0]
    assert str(member.id) not in str(embed)
    assert embed["footer"]["text"] == text(stack, "usage.forgotten", images=1, requests=1)


async def test_keep_deletes_nothing(stack: Stack) -> None:
    """Keep my data ends the confirmation and leaves every row."""
    await _jobs(stack)
    member = stack.discord.users.member
    asked = await _ask(stack, member)
    click = await _click(stack, asked, "keep", member)
    assert click.original_message.content == text(stack, "forget_me.kept")
    assert click.original_message.custom_ids == []
    assert await _rows(stack, member) == [1, 3]


async def test_active_jobs_are_never_deleted(stack_factory: Any) -> None:
    """With a job still running, /forget-me says so and deletes nothing."""
    stack: Stack = await stack_factory(api_kwargs={"duration": 30})
    fake = stack.discord
    member = fake.users.member
    running = await fake.slash("imagine", prompt="slow", user=member)
    await running.wait_callback()
    await stack.wait_job(1, "running")
    asked = await _ask(stack, member)
    assert asked.original_message.content == text(stack, "forget_me.active_jobs")
    assert asked.original_message.custom_ids == []
    assert await _rows(stack, member) == [1]


async def test_an_expired_confirmation_deletes_nothing(stack: Stack) -> None:
    """Confirm pressed after the deadline says the confirmation expired."""
    await _jobs(stack)
    member = stack.discord.users.member
    asked = await _ask(stack, member)
    stack.clock.advance(121)  # past the confirmation's deadline
    click = await _click(stack, asked, "confirm", member)
    assert click.original_message.content == text(stack, "forget_me.expired")
    assert await _rows(stack, member) == [1, 3]


async def test_the_confirmation_survives_a_restart(stack: Stack) -> None:
    """The buttons still answer after the bot restarted (the deadline is in the custom_id)."""
    await _jobs(stack)
    member = stack.discord.users.member
    asked = await _ask(stack, member)
    await stack.restart()
    click = await _click(stack, asked, "confirm", member)
    await click.wait_for(lambda r: r.method == "PATCH" and r.status == 200)
    assert asked.original_message.content == text(stack, "forget_me.done", jobs=2)
    assert await _rows(stack, member) == []
