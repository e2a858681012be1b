"""The moderators' log channel: every generation mirrored with Delete / Block, a rejected API
key told to admins, and a broken log channel never touching the user's delivery."""

from __future__ import annotations

from typing import Any

from tests.cogs.conftest import Stack, text
from tests.fakes.discord import assert_pinged_nobody
from tests.fakes.discord.models import FakeMessage


async def _set_log_channel(stack: Stack) -> None:
    interaction = await stack.discord.slash(
        "settings",
        group="log-channel",
        subcommand="set",
        values={"channel": stack.discord.channels.log},  # `channel=` is where it is run
        user=stack.discord.users.moderator,
    )
    await interaction.wait_callback()
    assert interaction.original_message.content == text(
        stack, "settings.log_channel.set", channel=f"<#{stack.discord.channels.log.id}>"
    )


async def _settled(stack: Stack) -> None:
    """Every scheduler event handed to the mirror, and every mirror post done."""
    await stack.bot.scheduler.wait_idle()
    await stack.bot.log_mirror.idle()


def _log_posts(stack: Stack) -> list[FakeMessage]:
    return [m for m in stack.discord.channel_messages(stack.discord.channels.log)]


async def _generate(stack: Stack, user: Any, prompt: str, job_id: int) -> Any:
    interaction = await stack.discord.slash("imagine", prompt=prompt, user=user)
    await interaction.wait_callback()
    job = await stack.wait_job(job_id, "succeeded")
    await _settled(stack)
    return job


async def test_generation_is_mirrored_and_block_stops_the_requester(stack: Stack) -> None:
    """The log gets who, where, the prompt, the model, a link and Delete/Block buttons; a
    moderator's Block refuses the requester's next /imagine."""
    await _set_log_channel(stack)
    fake = stack.discord
    member = fake.users.member
    job = await _generate(stack, member, "@everyone a lantern festival", 1)

    (post,) = _log_posts(stack)
    assert_pinged_nobody(post)
    embed = post.embeds[0]
    assert embed["description"] == text(
        stack, "log.generation", user=f"<@{member.id}>", channel=f"<#{fake.channels.normal.id}>"
    )
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    assert fields[text(stack, "log.prompt")] == "@everyone a lantern festival"
    assert fields[text(stack, "log.model")] == "FLUX schnell"
    link = f"https://discord.com/channels/{fake.guild.id}/{fake.channels.normal.id}/{job.result_message_id}"
    assert fields[text(stack, "log.result")] == link
    assert embed["footer"]["text"] == text(stack, "common.job", job_id=1)
    assert post.custom_ids == ["imagebot:delete:1", "imagebot:block:1"]
    urls = [c.get("url") for row in post.components for c in row["components"]]
    assert link in urls
    request = next(
        r
        for r in fake.requests
        if r.method == "POST" and r.path == f"/channels/{fake.channels.log.id}/messages"
    )
    assert request.allowed_mentions == {"parse": []}

    click = await fake.click(post, "imagebot:block:1", user=fake.users.moderator)
    await click.wait_callback()
    assert click.original_message.content == text(
        stack, "settings.block.done", user=f"<@{member.id}>"
    )
    again = await fake.slash("imagine", prompt="another", user=member)
    await again.wait_callback()
    assert again.original_message.ephemeral
    assert again.original_message.content == text(stack, "refusal.user_blocked")


async def test_moderator_delete_in_the_log_removes_the_result(stack: Stack) -> None:
    """Delete on the log post deletes the result message in the member's channel."""
    await _set_log_channel(stack)
    fake = stack.discord
    job = await _generate(stack, fake.users.member, "a paper boat", 1)
    (post,) = _log_posts(stack)
    click = await fake.click(post, "imagebot:delete:1", user=fake.users.moderator)
    await click.wait_callback()
    await fake.wait_for(lambda r: r.method == "DELETE" and str(job.result_message_id) in r.path)
    assert job.result_message_id not in fake.messages
    assert post.id in fake.messages  # the log entry stays


async def test_no_log_channel_no_post(stack: Stack) -> None:
    """A server without a log channel gets nothing mirrored."""
    await _generate(stack, stack.discord.users.member, "a kite", 1)
    assert _log_posts(stack) == []


async def test_a_broken_log_channel_never_affects_delivery(stack: Stack) -> None:
    """When the bot may not post in the log channel, the result is still delivered, and the
    mirror works again once the permission is back."""
    await _set_log_channel(stack)
    fake = stack.discord
    fake.deny_permission(fake.channels.log)
    interaction = await fake.slash("imagine", prompt="a comet", user=fake.users.member)
    await interaction.wait_callback()
    job = await stack.wait_job(1, "succeeded")
    await _settled(stack)
    assert len(interaction.original_message.attachments) == 1
    assert job.result_message_id == interaction.original_message.id
    assert _log_posts(stack) == []
    assert any(
        r.status == 403 and r.path == f"/channels/{fake.channels.log.id}/messages"
        for r in fake.requests
    )
    fake.restore_permission(fake.channels.log)
    await _generate(stack, fake.users.member, "a second comet", 2)
    assert len(_log_posts(stack)) == 1


async def test_a_rejected_api_key_is_told_to_admins_once(stack: Stack) -> None:
    """Jobs failing with auth put error.auth_admin in the log channel, once for a burst."""
    await _set_log_channel(stack)
    fake = stack.discord
    stack.api.fail_next(2, 401, None, route="create")
    for job_id in (1, 2):
        interaction = await fake.slash("imagine", prompt="a tree", user=fake.users.member)
        await interaction.wait_callback()
        job = await stack.wait_job(job_id, "failed")
        assert job.error_kind == "auth"
    await _settled(stack)
    (post,) = _log_posts(stack)
    assert post.embeds[0]["description"] == text(stack, "error.auth_admin")
    assert stack.api.api_key not in str(post.embeds)


async def test_stored_terms_the_engine_refuses_are_posted_once_in_the_servers_language(
    stack_factory: Any,
) -> None:
    """Patterns saved before RE2 that it cannot run are skipped, not silently dropped: the
    first check after start posts them with the reason, in the server's language, once;
    the server's other terms keep working."""
    stack: Stack = await stack_factory(discord_kwargs={"preferred_locale": "ja"})
    await _set_log_channel(stack)
    fake = stack.discord
    gid = fake.guild.id
    async with stack.services.db.transaction() as tx:  # as an older version stored them
        for term, is_pattern in (("/(ab)\\1/", 1), ("/(?<!x)yz/", 1), ("storm", 0)):
            await tx.execute(
                "INSERT INTO guild_blocked_terms (guild_id, term, is_pattern, added_at)"
                " VALUES (?, ?, ?, 0)",
                gid,
                term,
                is_pattern,
            )
        await tx.execute(
            "UPDATE guild_settings SET terms_version = terms_version + 1 WHERE guild_id = ?", gid
        )
    await _generate(stack, fake.users.member, "abab yz", 1)
    storm = await fake.slash("imagine", prompt="a storm", user=fake.users.member)
    await storm.wait_callback()
    # The member reads their own language; the log channel speaks the server's.
    assert storm.original_message.content == text(stack, "refusal.blocked_term")
    await _generate(stack, fake.users.member, "abab again", 3)

    heading = text(stack, "log.terms_skipped", "ja", count=2)
    notices = [p for p in _log_posts(stack) if p.embeds[0]["description"].startswith(heading)]
    assert len(notices) == 1
    assert_pinged_nobody(notices[0])
    lines = notices[0].embeds[0]["description"].splitlines()[2:]
    unsupported = text(stack, "settings.blocked_terms.pattern_unsupported", "ja")
    assert lines == [f"• `/(ab)\\1/` — {unsupported}", f"• `/(?<!x)yz/` — {unsupported}"]


async def test_a_prompt_with_markdown_reaches_moderators_as_text(stack: Stack) -> None:
    """The log channel shows a spoiler or masked-link prompt escaped, so nothing is hidden."""
    from tests.fakes.discord.markdown import rendered_markdown

    await _set_log_channel(stack)
    prompt = "||[claim](https://example.invalid)|| # loud"
    await _generate(stack, stack.discord.users.member, prompt, 1)
    (post,) = _log_posts(stack)
    fields = {f["name"]: f["value"] for f in post.embeds[0]["fields"]}
    shown = fields[text(stack, "log.prompt")]
    assert rendered_markdown(shown) == [] and shown.replace("\\", "") == prompt
