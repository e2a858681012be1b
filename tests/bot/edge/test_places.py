"""Where commands work: declared in the synced payload, held to at run time, opened to DMs only
by the operator (ALLOW_DMS), and then under the operator's limits and block list."""

from __future__ import annotations

from typing import Any

from bot.storage.operator_blocks import OperatorBlockStore
from tests.cogs.conftest import Stack, text

# /prefs makes no image: a member may set or clear their own defaults from a DM (issue 20).
EVERYWHERE = {"help", "models", "forget-me", "prefs"}


def synced(stack: Stack) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in stack.discord.commands_synced[stack.discord.guild.id]}


async def test_every_command_declares_where_it_works(stack: Stack) -> None:
    """Each command is installed to servers only; only /help, /models, /forget-me and /prefs
    are offered in DMs by default."""
    commands = synced(stack)
    assert all(c["integration_types"] == [0] for c in commands.values())
    in_dms = {name for name, c in commands.items() if 1 in (c["contexts"] or [0, 1, 2])}
    assert in_dms == EVERYWHERE
    assert all(2 not in (c["contexts"] or [2]) for c in commands.values())


async def test_a_command_declared_for_dms_runs_there(stack: Stack) -> None:
    """/help answers in a DM with the bot; the run-time check refuses only undeclared ones."""
    fake = stack.discord
    fake.preload_commands(fake.commands_synced[fake.guild.id], guild_id=None)
    dm = fake.dm_channel(fake.users.member)
    helped = await fake.slash("help", user=fake.users.member, channel=dm)
    await helped.wait_callback()
    assert helped.original_message.embeds[0]["title"] == text(stack, "help.title")
    jobs = await fake.slash("jobs", user=fake.users.member, channel=dm)
    await jobs.wait_callback()
    assert jobs.original_message.content == text(stack, "refusal.guild_only")


async def test_allow_dms_opens_the_image_commands_under_the_operators_rules(
    stack_factory: Any,
) -> None:
    """With ALLOW_DMS=1 the image commands, /jobs and /show are offered in DMs and work there,
    counted against USER_DAILY_LIMIT with the servers, and the operator's block list applies."""
    stack: Stack = await stack_factory(ALLOW_DMS="1", USER_DAILY_LIMIT="2")
    fake = stack.discord
    commands = synced(stack)
    for name in ("imagine", "edit", "Edit image", "jobs", "show"):
        assert commands[name]["contexts"] == [0, 1], name
    assert commands["settings"]["contexts"] == [0]

    fake.preload_commands(fake.commands_synced[fake.guild.id], guild_id=None)
    dm = fake.dm_channel(fake.users.member)
    made = await fake.slash("imagine", prompt="a quiet harbour", user=fake.users.member, channel=dm)
    await made.wait_callback()
    job = await stack.wait_job(1, "succeeded")
    assert job.guild_id is None and len(made.original_message.attachments) == 1

    here = await fake.slash("imagine", prompt="a fox", user=fake.users.member)  # in #general
    await here.wait_callback()
    again = await fake.slash("imagine", prompt="a fox", user=fake.users.member, channel=dm)
    await again.wait_callback()
    reset = f"<t:{(int(stack.clock.now()) // 86_400 + 1) * 86_400}:R>"
    assert again.original_message.content == text(
        stack, "refusal.user_daily_total", used=2, limit=2, requested=1, reset=reset
    )

    await OperatorBlockStore(stack.services.db).block(fake.users.other_member.id)
    other_dm = fake.dm_channel(fake.users.other_member)
    blocked = await fake.slash(
        "imagine", prompt="a fox", user=fake.users.other_member, channel=other_dm
    )
    await blocked.wait_callback()
    assert blocked.original_message.content == text(stack, "refusal.bot_blocked")
    assert len(stack.api.requests_for("create")) == 2
