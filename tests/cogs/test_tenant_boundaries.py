"""Issue 15 end to end: what a hostile server owner or member tried, refused on the fake Discord.

One test per problem of the issue (2-7; the blocked-term freeze, 1, has its own tests), each
doing what the report did and checking that it no longer gets through.
"""

from __future__ import annotations

from typing import Any

from tests.cogs.conftest import Stack, png_bytes, text
from tests.fakes.discord import FakeDiscord
from tests.fakes.discord.models import MANAGE_MESSAGES, VIEW_CHANNEL, FakeGuild, Overwrite
from tests.fakes.discord.records import FakeInteraction

FLUX_PRO = "black-forest-labs/flux-1.1-pro"
FLUX_DEV = "black-forest-labs/flux-dev"
KONTEXT = "black-forest-labs/flux-kontext-pro"


async def settled(interaction: FakeInteraction) -> FakeInteraction:
    """Wait for the bot's answer: the first callback, and after a defer the follow-up too."""
    await interaction.wait_callback()
    if interaction.callback_type == 5:  # deferred ("thinking"): the answer comes after
        await interaction.wait_for(lambda r: "/webhooks/" in r.path and r.method != "GET")
    return interaction


def refusal(interaction: FakeInteraction) -> str:
    """The ephemeral sentence the bot answered with (fails if it answered publicly)."""
    message = interaction.original_message
    assert message is not None and message.ephemeral, "expected an ephemeral refusal"
    return str(message.content)


async def job_rows(stack: Stack) -> list[dict[str, Any]]:
    return await stack.services.db.fetchall(
        "SELECT id, status, refusal_reason, guild_id FROM jobs ORDER BY id"
    )


def role_named(fake: FakeDiscord, name: str) -> Any:
    return next(r for r in fake.guild.roles.values() if r.name == name)


def second_guild(fake: FakeDiscord) -> FakeGuild:
    return next(g for g in fake.guilds.values() if g.id != fake.guild.id)


def register_everywhere(fake: FakeDiscord) -> None:
    """The commands as registered globally by an earlier version (they stay until a sync)."""
    fake.preload_commands(fake.commands_synced[fake.guild.id], guild_id=None)


async def test_problem_2_reroll_elsewhere_is_judged_by_the_channel_where_it_is_pressed(
    stack: Stack,
) -> None:
    """A relaxed safety setting allowed in an age-restricted channel is refused in one sentence
    when the job is re-rolled from a /show copy in #general, never carried; in its own channel
    the re-roll still runs with it."""
    fake, services = stack.discord, stack.services
    await services.guild_config.set_allow_nsfw(fake.guild.id, True)
    made = await settled(
        await fake.slash(
            "imagine",
            prompt="a storm over the sea",
            model=FLUX_PRO,
            extra="safety_tolerance=6",
            channel=fake.channels.nsfw,
            user=fake.users.member,
        )
    )
    parent = await stack.wait_job(1, "succeeded")
    assert parent.input["safety_tolerance"] == 6

    shown = await fake.slash("show", job=1, user=fake.users.member)  # in #general
    await shown.wait_callback()
    click = await settled(
        await fake.click(shown.original_message, "imagebot:reroll:1", user=fake.users.member)
    )
    assert len(stack.api.requests_for("create")) == 1, "the re-roll reached the API"
    rows = await job_rows(stack)
    assert [(r["status"], r["refusal_reason"]) for r in rows[1:]] == [("refused", "validation")]
    sentence = refusal(click)
    assert sentence == "• " + text(stack, "validation.not_allowed_here", field="safety_tolerance")

    # Pressed where the setting is allowed, the same re-roll runs with it.
    await settled(
        await fake.click(made.original_message, "imagebot:reroll:1", user=fake.users.member)
    )
    child = await stack.wait_job(3, "succeeded")
    assert child.input["safety_tolerance"] == 6 and child.input["seed"] != parent.input["seed"]


async def test_problem_3_the_operator_daily_limit_holds_across_servers_and_settings(
    stack_factory: Any,
) -> None:
    """USER_DAILY_LIMIT counts a member's images in every server; no server can remove or
    raise it, and a 0 stored earlier is read as the operator's limit."""
    stack: Stack = await stack_factory(
        world=lambda fake: fake.add_guild("Throwaway"), USER_DAILY_LIMIT="2"
    )
    fake = stack.discord
    other = second_guild(fake)
    fake.preload_commands(fake.commands_synced[fake.guild.id], guild_id=other.id)
    other_channel = next(iter(other.channels.values()))

    first = await settled(
        await fake.slash("imagine", prompt="a fox", count=2, user=fake.users.member)
    )
    assert not first.original_message.ephemeral
    elsewhere = await settled(
        await fake.slash("imagine", prompt="a fox", user=fake.users.member, channel=other_channel)
    )
    assert [r["status"] for r in await job_rows(stack)][1] == "refused", "admitted elsewhere"
    reset = f"<t:{(int(stack.clock.now()) // 86_400 + 1) * 86_400}:R>"
    assert refusal(elsewhere) == text(
        stack, "refusal.user_daily_total", used=2, limit=2, requested=1, reset=reset
    )

    # The throwaway server's owner tries to lift the limit: 0 and values above 2 are refused.
    for kind, value in (("user_daily", 0), ("user_daily", 2000), ("active_jobs", 1000)):
        attempt = await settled(
            await fake.slash(
                "settings",
                subcommand="limit",
                user=fake.users.owner,
                channel=other_channel,
                values={"kind": kind, "value": value},
            )
        )
        operator = 2 if kind == "user_daily" else 4  # USER_MAX_ACTIVE_JOBS in the stack
        assert refusal(attempt) == text(
            stack, "settings.limit.above_operator", operator=operator
        ), (kind, value)
    config = await stack.services.guild_config.get(other.id)
    assert config.user_daily_limit is None and config.user_max_active_jobs is None

    # A 0 ("no limit") stored before this change is read as the operator's limit.
    await stack.services.db.execute(
        "INSERT INTO guild_settings (guild_id, user_daily_limit, updated_at) VALUES (?, 0, 0)",
        other.id,
    )
    again = await settled(
        await fake.slash(
            "imagine", prompt="a fox", user=fake.users.other_member, channel=other_channel, count=3
        )
    )
    assert refusal(again) == text(
        stack, "refusal.user_daily_limit", used=0, limit=2, requested=3, reset=reset
    )
    assert len(stack.api.requests_for("create")) == 1


async def test_problem_3_bot_daily_limit_caps_the_whole_bot(stack_factory: Any) -> None:
    """BOT_DAILY_LIMIT counts every member's images together; the refusal is neutral and says
    when it resets."""
    stack: Stack = await stack_factory(BOT_DAILY_LIMIT="3")
    fake = stack.discord
    await settled(await fake.slash("imagine", prompt="a fox", count=2, user=fake.users.member))
    second = await settled(
        await fake.slash("imagine", prompt="a fox", count=2, user=fake.users.other_member)
    )
    rows = await job_rows(stack)
    assert [r["refusal_reason"] for r in rows] == [None, "bot_daily_limit"]
    midnight = (int(stack.clock.now()) // 86_400 + 1) * 86_400
    assert refusal(second) == text(stack, "refusal.bot_daily_limit", reset=f"<t:{midnight}:R>")
    last = await settled(await fake.slash("imagine", prompt="a fox", user=fake.users.other_member))
    assert not last.original_message.ephemeral


async def test_problem_4_show_and_info_hide_jobs_of_channels_the_member_cannot_see(
    stack: Stack,
) -> None:
    """A job made in a channel the member cannot view is 'no such job' for them, exactly like
    an unknown id; the requester and those who can view the channel still see it."""
    fake = stack.discord
    await settled(
        await fake.slash(
            "imagine",
            prompt="the secret plan",
            user=fake.users.moderator,
            channel=fake.channels.log,
        )
    )
    await stack.wait_job(1, "succeeded")

    peek = await settled(await fake.slash("show", job=1, user=fake.users.member))
    assert "the secret plan" not in str(peek.original_message.embeds)
    assert refusal(peek) == text(stack, "refusal.job_not_found")
    unknown = await settled(await fake.slash("show", job=999, user=fake.users.member))
    assert refusal(unknown) == refusal(peek)

    own = await settled(await fake.slash("show", job=1, user=fake.users.moderator))
    assert own.original_message.embeds[0]["description"] == "the secret plan"

    # Info on a copy shown in #general answers by the same rule.
    public = await settled(
        await fake.slash("imagine", prompt="a public kite", user=fake.users.member)
    )
    await stack.wait_job(2, "succeeded")
    info = await settled(
        await fake.click(public.original_message, "imagebot:info:2", user=fake.users.owner)
    )
    assert info.original_message.embeds[0]["description"] == "a public kite"


def _artists_moderate_elsewhere(fake: FakeDiscord) -> None:
    """Artists get Manage Messages in #nsfw-art, and may read #bot-log, but nothing more."""
    artist = role_named(fake, "Artist")
    fake.channels.nsfw.overwrites.append(Overwrite(artist.id, 0, allow=MANAGE_MESSAGES))
    fake.channels.log.overwrites.append(
        Overwrite(artist.id, 0, allow=VIEW_CHANNEL | MANAGE_MESSAGES)
    )


async def test_problem_5_delete_and_block_are_authorized_in_the_job_s_channel(
    stack_factory: Any,
) -> None:
    """Manage Messages where a /show copy is pressed does not delete a result elsewhere; the
    log channel's Block needs Manage Server, like /settings block."""
    stack: Stack = await stack_factory(world=_artists_moderate_elsewhere)
    fake, services = stack.discord, stack.services
    await services.guild_config.set_log_channel(fake.guild.id, fake.channels.log.id)
    made = await settled(
        await fake.slash("imagine", prompt="a lantern", user=fake.users.other_member)
    )
    await stack.wait_job(1, "succeeded")
    result = made.original_message

    shown = await settled(
        await fake.slash("show", job=1, user=fake.users.member, channel=fake.channels.nsfw)
    )
    delete = await settled(
        await fake.click(shown.original_message, "imagebot:delete:1", user=fake.users.member)
    )
    assert result.id in fake.messages, "the result in #general was deleted"
    assert refusal(delete) == text(stack, "refusal.not_moderator")

    await stack.bot.log_mirror.idle()
    [post] = [m for m in fake.channel_messages(fake.channels.log) if m.embeds]
    block = await settled(await fake.click(post, "imagebot:block:1", user=fake.users.member))
    assert await services.guild_config.list_blocked_users(fake.guild.id) == []
    assert refusal(block) == text(stack, "refusal.manage_server_required")
    # The log channel's Delete: Manage Messages in #bot-log is not enough either.
    await settled(await fake.click(post, "imagebot:delete:1", user=fake.users.member))
    assert result.id in fake.messages

    # Those who hold the right permission still can.
    await settled(await fake.click(post, "imagebot:block:1", user=fake.users.moderator))
    assert [b.user_id for b in await services.guild_config.list_blocked_users(fake.guild.id)] == [
        fake.users.other_member.id
    ]
    await settled(await fake.click(post, "imagebot:delete:1", user=fake.users.moderator))
    await fake.wait_for(lambda r: r.method == "DELETE" and str(result.id) in r.path)


async def test_problem_6_dms_are_closed_unless_the_operator_opens_them(stack: Stack) -> None:
    """The image commands, /jobs and /show are declared for servers only; one that arrives in a
    DM anyway (registered globally earlier) is refused before any API call."""
    fake = stack.discord
    synced = {c["name"]: c for c in fake.commands_synced[fake.guild.id]}
    for name in ("imagine", "edit", "Edit image", "jobs", "show"):
        assert synced[name]["contexts"] == [0], name
        assert synced[name]["integration_types"] == [0], name

    register_everywhere(fake)
    dm = fake.dm_channel(fake.users.member)
    attempts = [
        await fake.slash("imagine", prompt="a cat", user=fake.users.member, channel=dm),
        await fake.slash(
            "edit",
            prompt="add a hat",
            user=fake.users.member,
            channel=dm,
            attachments={"image": ("cat.png", png_bytes(), "image/png")},
        ),
    ]
    posted = await fake.post_user_message(
        dm, user=fake.users.member, attachments=[("dog.png", png_bytes(), "image/png")]
    )
    attempts.append(await fake.context_menu("Edit image", posted, user=fake.users.member))
    for attempt in attempts:
        await settled(attempt)
        assert attempt.modal is None
        assert refusal(attempt) == text(stack, "refusal.guild_only")
    assert stack.api.requests_for("create") == []
    assert all(r["status"] == "refused" for r in await job_rows(stack))


async def test_problem_7_extra_sets_only_extra_fields_and_imagine_refuses_edit_models(
    stack: Stack,
) -> None:
    """`extra` cannot fill an image (or any field an option owns), and /imagine refuses a
    model that needs an input image, pointing to /edit."""
    fake = stack.discord
    smuggled = await settled(
        await fake.slash(
            "imagine",
            prompt="a cat",
            model=FLUX_DEV,
            extra="image=https://attacker.example/x.png",
            user=fake.users.member,
        )
    )
    counted = await settled(
        await fake.slash("imagine", prompt="a cat", extra="num_outputs=4", user=fake.users.member)
    )
    editor = await settled(
        await fake.slash("imagine", prompt="a cat", model=KONTEXT, user=fake.users.member)
    )
    assert stack.api.requests_for("create") == [], "a request reached the API"
    assert refusal(smuggled) == "• " + text(
        stack,
        "validation.extra_image_field",
        field="image",
        allowed="prompt_strength, num_inference_steps, guidance, go_fast, megapixels",
    )
    assert "count" in refusal(counted)
    assert refusal(editor) == text(stack, "validation.model_needs_image", model="FLUX Kontext Pro")
