"""Spoilers end to end: the per-command option, the server's rule (on, off, nsfw-only), file
names `SPOILER_job-<id>-<n>.<ext>`, a delivery after a restart, what follows a spoiled result
(Re-roll, Vary), and the log channel."""

from __future__ import annotations

from typing import Any

from tests.cogs.conftest import Stack, text
from tests.cogs.test_prefs import imagine, run


def names(interaction: Any) -> list[str]:
    return [a.filename for a in interaction.original_message.attachments]


async def spoiler_rule(stack: Stack, mode: str) -> None:
    done = await run(stack, "settings", "spoiler", mode, by=stack.discord.users.moderator)
    key = "settings.spoiler." + mode.replace("-", "_")
    assert done.original_message.content == text(stack, key)


async def test_the_spoiler_option_uploads_spoiler_files(stack: Stack) -> None:
    """spoiler:True names every file SPOILER_job-<id>-<n>.<ext>; without it, job-<id>-<n>."""
    spoiled = await imagine(stack, count=2, spoiler=True)
    job = await stack.wait_job(1, "succeeded")
    assert job.spoiler
    assert names(spoiled) == ["SPOILER_job-1-1.webp", "SPOILER_job-1-2.webp"]
    assert [a["filename"] for a in job.result_attachments] == names(spoiled)
    plain = await imagine(stack)
    await stack.wait_job(2, "succeeded")
    assert names(plain) == ["job-2-1.webp"]


async def test_the_servers_rule_on_off_and_nsfw_only(stack: Stack) -> None:
    """on spoils everything (a member's spoiler:False cannot undo it); nsfw-only spoils in the
    age-restricted channel only; off leaves it to the member."""
    fake = stack.discord
    await spoiler_rule(stack, "on")
    forced = await imagine(stack, spoiler=False)
    await stack.wait_job(1, "succeeded")
    assert names(forced) == ["SPOILER_job-1-1.webp"]
    await spoiler_rule(stack, "nsfw-only")
    general = await imagine(stack)
    await stack.wait_job(2, "succeeded")
    adult = await imagine(stack, channel=fake.channels.nsfw)
    await stack.wait_job(3, "succeeded")
    assert names(general) == ["job-2-1.webp"] and names(adult) == ["SPOILER_job-3-1.webp"]
    await spoiler_rule(stack, "off")
    await imagine(stack, channel=fake.channels.nsfw)
    assert not (await stack.wait_job(4, "succeeded")).spoiler
    settings_shown = await run(stack, "settings", "show", by=fake.users.moderator)
    shown = {f["name"]: f["value"] for f in settings_shown.original_message.embeds[0]["fields"]}
    assert shown[text(stack, "settings.spoiler")] == text(stack, "settings.spoiler_off")


async def test_a_delivery_after_a_restart_still_spoils(stack_factory: Any) -> None:
    """The decision is stored with the job: the next process uploads SPOILER_ files."""
    stack: Stack = await stack_factory(api_kwargs={"duration": 1.0})
    spoiled = await imagine(stack, spoiler=True)
    await stack.wait_job(1, "running")
    await stack.restart()
    await stack.wait_job(1, "succeeded")
    assert names(spoiled) == ["SPOILER_job-1-1.webp"]


async def test_reroll_and_vary_of_a_spoiled_result_stay_spoiled(stack: Stack) -> None:
    """A Re-roll keeps the spoiler; Vary finds the chosen image under its SPOILER_ name."""
    fake = stack.discord
    spoiled = await imagine(stack, spoiler=True)
    await stack.wait_job(1, "succeeded")
    message = spoiled.original_message
    reroll = await fake.click(message, "imagebot:reroll:1", user=fake.users.member)
    await reroll.wait_callback()
    assert (await stack.wait_job(2, "succeeded")).spoiler
    assert names(reroll) == ["SPOILER_job-2-1.webp"]
    vary = await fake.click(message, "imagebot:vary:1:1:subtle", user=fake.users.member)
    await vary.wait_callback()
    child = await stack.wait_job(3, "succeeded")
    assert child.spoiler
    assert child.input["image"].split("?")[0] == message.attachments[0].url.split("?")[0]


async def test_the_log_channel_hides_a_spoiled_prompt(stack: Stack) -> None:
    """The log has no image; for a spoiled job it puts the prompt behind a spoiler too."""
    fake, services = stack.discord, stack.services
    await services.guild_config.set_log_channel(fake.guild.id, fake.channels.log.id)
    await imagine(stack, prompt="a grim | scene", spoiler=True)
    await stack.wait_job(1, "succeeded")
    await imagine(stack, prompt="a sunny meadow")
    await stack.wait_job(2, "succeeded")
    await stack.bot.log_mirror.idle()
    posts = [m for m in fake.channel_messages(fake.channels.log) if m.embeds]
    prompts = [
        next(f["value"] for f in post.embeds[0]["fields"] if f["name"] == text(stack, "log.prompt"))
        for post in posts
    ]
    assert sorted(prompts) == sorted(["||a grim \\| scene||", "a sunny meadow"])
