"""Who sees a job and who may moderate it, judged in the job's own channel: a job of another
server, or of a DM, is its requester's alone."""

from __future__ import annotations

from typing import Any

from tests.cogs.conftest import Stack, text
from tests.fakes.discord import FakeDiscord
from tests.fakes.discord.models import MANAGE_GUILD, MANAGE_MESSAGES, FakeRole


def _a_second_server_with_a_moderator(fake: FakeDiscord) -> None:
    """The member moderates a second server (Manage Server and Manage Messages there)."""
    other = fake.add_guild("Elsewhere")
    role = FakeRole(fake.ids.next(), "Mods", MANAGE_GUILD | MANAGE_MESSAGES, position=2)
    other.roles[role.id] = role
    other.members[fake.users.member.id].roles.append(role.id)


async def test_jobs_of_another_server_are_neither_shown_nor_deleted_there(
    stack_factory: Any,
) -> None:
    """A moderator of server B cannot /show, Info or Delete a job made in server A."""
    stack: Stack = await stack_factory(world=_a_second_server_with_a_moderator)
    fake = stack.discord
    other = next(g for g in fake.guilds.values() if g.id != fake.guild.id)
    fake.preload_commands(fake.commands_synced[fake.guild.id], guild_id=other.id)
    elsewhere = next(iter(other.channels.values()))
    made = await fake.slash("imagine", prompt="a lighthouse", user=fake.users.other_member)
    await made.wait_callback()
    await stack.wait_job(1, "succeeded")

    peek = await fake.slash("show", job=1, user=fake.users.member, channel=elsewhere)
    await peek.wait_callback()
    assert peek.original_message.content == text(stack, "refusal.job_not_found")
    # Shown by its requester in server B, the copy's buttons still answer by server A's rules.
    copy = await fake.slash("show", job=1, user=fake.users.other_member, channel=elsewhere)
    await copy.wait_callback()
    for action, key in (("info", "refusal.job_not_found"), ("delete", "refusal.not_moderator")):
        click = await fake.click(
            copy.original_message, f"imagebot:{action}:1", user=fake.users.member
        )
        await click.wait_callback()
        assert click.original_message.content == text(stack, key), action
    assert made.original_message.id in fake.messages


async def test_a_dm_job_is_its_requesters_alone(stack_factory: Any) -> None:
    """With DMs open, a job made in a DM is shown to its requester and to nobody else."""
    stack: Stack = await stack_factory(ALLOW_DMS="1")
    fake = stack.discord
    fake.preload_commands(fake.commands_synced[fake.guild.id], guild_id=None)
    made = await fake.slash(
        "imagine",
        prompt="a private sketch",
        user=fake.users.member,
        channel=fake.dm_channel(fake.users.member),
    )
    await made.wait_callback()
    await stack.wait_job(1, "succeeded")
    for user, visible in ((fake.users.owner, False), (fake.users.member, True)):
        shown = await fake.slash("show", job=1, user=user)
        await shown.wait_callback()
        message = shown.original_message
        assert (message.content == text(stack, "refusal.job_not_found")) is not visible
        assert ("a private sketch" in str(message.embeds)) is visible
