"""/settings end to end: Manage Server only, every subcommand visible in /settings show and in
what /imagine accepts or refuses."""

from __future__ import annotations

from typing import Any

from tests.cogs.conftest import Stack, text
from tests.fakes.discord.records import FakeInteraction

FLUX_PRO = "black-forest-labs/flux-1.1-pro"
DAY = 86_400


async def settings(
    stack: Stack, *path: str, by: Any = None, locale: str = "en-US", **options: Any
) -> FakeInteraction:
    """`by` (the moderator by default) runs `/settings <path> option:value ...`; waits for
    the answer."""
    fake = stack.discord
    group, subcommand = (None, path[0]) if len(path) == 1 else path
    interaction = await fake.slash(
        "settings",
        group=group,
        subcommand=subcommand,
        user=by or fake.users.moderator,
        locale=locale,
        values=options,
    )
    await interaction.wait_callback()
    return interaction


def reply(interaction: FakeInteraction) -> str:
    message = interaction.original_message
    assert message is not None and message.ephemeral
    return str(message.content)


async def show(stack: Stack) -> dict[str, str]:
    """/settings show as {field name: value}."""
    interaction = await settings(stack, "show")
    message = interaction.original_message
    assert message is not None and message.ephemeral
    return {f["name"]: f["value"] for f in message.embeds[0]["fields"]}


def role(stack: Stack, name: str) -> Any:
    return next(r for r in stack.discord.guild.roles.values() if r.name == name)


async def imagine(
    stack: Stack, user: Any, prompt: str = "a cat", **options: Any
) -> FakeInteraction:
    interaction = await stack.discord.slash("imagine", prompt=prompt, user=user, **options)
    await interaction.wait_callback()
    return interaction


def refused(interaction: FakeInteraction) -> str | None:
    """The ephemeral refusal text, or None when the request was accepted (public message)."""
    message = interaction.original_message
    assert message is not None
    return str(message.content) if message.ephemeral else None


async def test_members_without_manage_server_are_refused_and_nothing_changes(
    stack: Stack,
) -> None:
    """Every kind of /settings subcommand answers a member with one sentence and changes nothing."""
    fake = stack.discord
    attempts: list[tuple[tuple[str, ...], dict[str, Any]]] = [
        (("show",), {}),
        (("channels", "add"), {"channel": fake.channels.normal}),
        (("roles", "clear"), {}),
        (("limit",), {"kind": "user_daily", "value": 99}),
        (("blocked-terms", "add"), {"term": "dragon"}),
        (("blocked-terms", "list"), {}),
        (("nsfw",), {"policy": "allow"}),
        (("log-channel", "set"), {"channel": fake.channels.normal}),
        (("default-model",), {"model": FLUX_PRO}),
        (("block",), {"user": fake.users.other_member}),
        (("style", "add"), {"name": "noir", "template": "{prompt}, noir"}),
        (("style", "list"), {}),
        (("spoiler", "on"), {}),
    ]
    for path, options in attempts:
        interaction = await settings(stack, *path, by=fake.users.member, **options)
        assert reply(interaction) == text(stack, "refusal.manage_server_required"), path
    db = stack.services.db
    for table in (
        "guild_settings",
        "guild_role_limits",
        "guild_blocked_terms",
        "guild_blocked_users",
        "guild_styles",
    ):
        assert await db.fetchval(f"SELECT COUNT(*) FROM {table}") == 0, table
    # Discord hides the command from members by default too.
    synced = {c["name"]: c for c in fake.commands_synced[fake.guild.id]}
    assert int(synced["settings"]["default_member_permissions"]) == 1 << 5  # MANAGE_GUILD


async def test_every_settings_command_runs_the_manage_server_check(stack: Stack) -> None:
    """Each /settings command's check (the cog's, or its subgroup's: discord.py runs that one
    instead) refuses a member without Manage Server, and any use outside a server."""
    from types import SimpleNamespace

    import discord
    import pytest
    from discord import app_commands

    cog = stack.bot.get_cog("Settings")
    assert cog is not None
    commands = [c for c in cog.walk_app_commands() if isinstance(c, app_commands.Command)]
    assert len(commands) == 25  # 17, the budget's 2 (#21), the styles' 3 and spoiler's 3 (#20)
    member = SimpleNamespace(guild_id=stack.discord.guild.id, permissions=discord.Permissions())
    in_dm = SimpleNamespace(guild_id=None, permissions=discord.Permissions.all())
    for command in commands:
        check = command.binding.interaction_check  # type: ignore[union-attr]
        with pytest.raises(app_commands.MissingPermissions):
            await check(member)
        with pytest.raises(app_commands.NoPrivateMessage):
            await check(in_dm)


async def test_each_subcommand_changes_what_show_reports(stack: Stack) -> None:
    """Channels, roles, limits (server and role), terms, NSFW, log channel, default model and
    the block list each show up in /settings show, and clearing them brings the defaults back."""
    fake = stack.discord
    t = stack.services.messages.t
    before = await show(stack)
    assert before[text(stack, "settings.channels")] == text(stack, "settings.all_channels")
    assert before[text(stack, "settings.roles")] == text(stack, "settings.everyone")
    assert before[text(stack, "settings.nsfw")] == text(stack, "settings.nsfw_deny")
    assert before[text(stack, "settings.log_channel")] == text(stack, "settings.not_set")
    daily = t("en-US", "choice.settings.limit.kind.user_daily")
    # USER_DAILY_LIMIT=0 in the test environment: the default is "no limit", marked as default.
    default_line = text(
        stack,
        "settings.limit_line",
        limit=daily,
        value=text(stack, "settings.bot_default", value=text(stack, "settings.no_limit")),
    )
    assert default_line in before[text(stack, "settings.limits")]
    assert "FLUX schnell" in before[text(stack, "settings.default_model")]

    artist = role(stack, "Artist")
    normal, log = fake.channels.normal, fake.channels.log
    steps = [
        (
            ("channels", "add"),
            {"channel": normal},
            "settings.channels.added",
            {"channel": f"<#{normal.id}>"},
        ),
        (("roles", "add"), {"role": artist}, "settings.roles.added", {"role": f"<@&{artist.id}>"}),
        (
            ("limit",),
            {"kind": "user_daily", "value": 7},
            "settings.limit.updated",
            {"limit": daily, "value": "7"},
        ),
        (
            ("limit",),
            {"kind": "cooldown", "value": 30, "role": artist},
            "settings.limit.updated_role",
            {
                "role": f"<@&{artist.id}>",
                "limit": t("en-US", "choice.settings.limit.kind.cooldown"),
                "value": text(stack, "common.seconds", seconds=30),
            },
        ),
        (
            ("blocked-terms", "add"),
            {"term": "dragon"},
            "settings.blocked_terms.added",
            {"term": "`dragon`"},
        ),
        (("nsfw",), {"policy": "allow"}, "settings.nsfw.allowed", {}),
        (
            ("log-channel", "set"),
            {"channel": log},
            "settings.log_channel.set",
            {"channel": f"<#{log.id}>"},
        ),
        (
            ("default-model",),
            {"model": FLUX_PRO},
            "settings.default_model.set",
            {"model": "FLUX 1.1 Pro"},
        ),
        (
            ("block",),
            {"user": fake.users.other_member, "reason": "spam"},
            "settings.block.done",
            {"user": f"<@{fake.users.other_member.id}>"},
        ),
    ]
    for path, options, key, params in steps:
        assert reply(await settings(stack, *path, **options)) == text(stack, key, **params), path

    after = await show(stack)
    assert after[text(stack, "settings.channels")] == f"<#{normal.id}>"
    assert after[text(stack, "settings.roles")] == f"<@&{artist.id}>"
    limits = after[text(stack, "settings.limits")]
    assert text(stack, "settings.limit_line", limit=daily, value="7") in limits
    assert (
        text(
            stack,
            "settings.role_limit_line",
            role=f"<@&{artist.id}>",
            limit=t("en-US", "choice.settings.limit.kind.cooldown"),
            value=text(stack, "common.seconds", seconds=30),
        )
        in limits
    )
    assert after[text(stack, "settings.blocked_terms")] == text(
        stack, "settings.blocked_terms_count", count=1
    )
    assert after[text(stack, "settings.nsfw")] == text(stack, "settings.nsfw_allow")
    assert after[text(stack, "settings.log_channel")] == f"<#{log.id}>"
    assert after[text(stack, "settings.default_model")] == "FLUX 1.1 Pro"
    blocked_field = next(k for k in after if k.startswith(text(stack, "settings.blocked_users")))
    assert blocked_field.endswith("· 1")
    assert after[blocked_field] == f"<@{fake.users.other_member.id}>"

    undo = [
        (("channels", "clear"), {}, "settings.channels.cleared", {}),
        (
            ("roles", "remove"),
            {"role": artist},
            "settings.roles.removed",
            {"role": f"<@&{artist.id}>"},
        ),
        (
            ("limit",),
            {"kind": "user_daily"},
            "settings.limit.reset",
            {
                "limit": daily,
                "value": text(
                    stack, "settings.bot_default", value=text(stack, "settings.no_limit")
                ),
            },
        ),
        (
            ("limit",),
            {"kind": "cooldown", "role": artist},
            "settings.limit.reset_role",
            {
                "role": f"<@&{artist.id}>",
                "limit": t("en-US", "choice.settings.limit.kind.cooldown"),
            },
        ),
        (
            ("blocked-terms", "remove"),
            {"term": "dragon"},
            "settings.blocked_terms.removed",
            {"term": "`dragon`"},
        ),
        (("nsfw",), {"policy": "deny"}, "settings.nsfw.denied", {}),
        (("log-channel", "clear"), {}, "settings.log_channel.cleared", {}),
        (
            ("unblock",),
            {"user": fake.users.other_member},
            "settings.unblock.done",
            {"user": f"<@{fake.users.other_member.id}>"},
        ),
    ]
    for path, options, key, params in undo:
        assert reply(await settings(stack, *path, **options)) == text(stack, key, **params), path
    again = await show(stack)
    for name in ("settings.channels", "settings.roles", "settings.nsfw", "settings.log_channel"):
        assert again[text(stack, name)] == before[text(stack, name)], name
    assert again[text(stack, "settings.limits")] == before[text(stack, "settings.limits")]
    assert again[text(stack, "settings.blocked_terms")] == text(
        stack, "settings.blocked_terms_count", count=0
    )
    assert await stack.services.db.fetchval("SELECT COUNT(*) FROM guild_role_limits") == 0


async def test_repeated_and_missing_entries_get_their_own_sentences(stack: Stack) -> None:
    """Adding twice, removing what is not listed and unblocking a member who is not blocked say so."""
    fake = stack.discord
    normal = fake.channels.normal
    await settings(stack, "channels", "add", channel=normal)
    assert reply(await settings(stack, "channels", "add", channel=normal)) == text(
        stack, "settings.channels.already", channel=f"<#{normal.id}>"
    )
    nsfw = fake.channels.nsfw
    assert reply(await settings(stack, "channels", "remove", channel=nsfw)) == text(
        stack, "settings.channels.not_listed", channel=f"<#{nsfw.id}>"
    )
    await settings(stack, "blocked-terms", "add", term="dragon")
    assert reply(await settings(stack, "blocked-terms", "add", term=" dragon ")) == text(
        stack, "settings.blocked_terms.already"
    )
    assert reply(await settings(stack, "blocked-terms", "remove", term="wyvern")) == text(
        stack, "settings.blocked_terms.not_found"
    )
    member = fake.users.member
    assert reply(await settings(stack, "unblock", user=member)) == text(
        stack, "settings.unblock.not_blocked", user=f"<@{member.id}>"
    )
    await settings(stack, "block", user=member)
    assert reply(await settings(stack, "block", user=member)) == text(
        stack, "settings.block.already", user=f"<@{member.id}>"
    )


async def test_limit_values_are_checked_with_a_sentence(stack: Stack) -> None:
    """Out-of-range values, "no limit", a value above the operator's (USER_MAX_ACTIVE_JOBS=4
    in the stack) and a per-role server cap are refused in words; nothing is stored."""
    artist = role(stack, "Artist")
    too_long = await settings(stack, "limit", kind="cooldown", value=100_000)
    assert reply(too_long) == text(stack, "settings.limit.out_of_range", min=1, max=86_400)
    negative = await settings(stack, "limit", kind="user_daily", value=-1)
    assert reply(negative) == text(stack, "settings.limit.out_of_range", min=1, max=1_000_000)
    unlimited = await settings(stack, "limit", kind="user_daily", value=0)
    assert reply(unlimited) == text(stack, "settings.limit.not_unlimited", min=1, max=1_000_000)
    above = await settings(stack, "limit", kind="active_jobs", value=5, role=artist)
    assert reply(above) == text(stack, "settings.limit.above_operator", operator=4)
    per_role = await settings(stack, "limit", kind="guild_daily", value=5, role=artist)
    assert reply(per_role) == text(stack, "settings.limit.role_not_supported")
    config = await stack.services.guild_config.get(stack.discord.guild.id)
    assert config.user_cooldown_seconds is None and config.user_daily_limit is None
    assert config.guild_daily_limit is None and config.role_limits == ()
    assert config.user_max_active_jobs is None


async def test_blocked_term_refuses_before_any_api_call_without_echoing_it(stack: Stack) -> None:
    """A blocked word (accents and case ignored) refuses /imagine with the neutral sentence,
    logs the refusal with the term for moderators, and never reaches CometAPI."""
    fake = stack.discord
    added = await settings(stack, "blocked-terms", "add", term="Café")
    assert reply(added) == text(stack, "settings.blocked_terms.added", term="`Café`")
    listed = await settings(stack, "blocked-terms", "list")
    assert listed.original_message.ephemeral
    assert "`Café`" in listed.original_message.embeds[0]["description"]

    interaction = await imagine(stack, fake.users.member, prompt="a CAFE at night")
    sentence = refused(interaction)
    assert sentence == text(stack, "refusal.blocked_term")
    assert "caf" not in sentence.lower()
    assert stack.api.requests_for("create") == []
    row = await stack.services.db.fetchone("SELECT * FROM jobs WHERE id = 1")
    assert row is not None
    assert (row["status"], row["refusal_reason"], row["refusal_detail"]) == (
        "refused",
        "blocked_term",
        "Café",
    )
    # Moderators are not exempt from blocked terms.
    moderator = await imagine(stack, fake.users.moderator, prompt="café au lait")
    assert refused(moderator) == text(stack, "refusal.blocked_term")


async def test_bad_blocked_terms_are_explained(stack: Stack) -> None:
    """A broken, unsupported (RE2) or too large pattern and punctuation-only words get their
    own sentence."""
    from bot.terms import TermRejected, check_term

    try:
        check_term("/(unclosed/")
    except TermRejected as exc:
        why = exc.params["error"]  # RE2's own words
    broken = await settings(stack, "blocked-terms", "add", term="/(unclosed/")
    assert reply(broken) == text(stack, "settings.blocked_terms.invalid_regex", error=why)
    backreference = await settings(stack, "blocked-terms", "add", term="/(ab)\\1/")
    assert reply(backreference) == text(stack, "settings.blocked_terms.pattern_unsupported")
    large = await settings(stack, "blocked-terms", "add", term="/a{1000}/")
    assert reply(large) == text(stack, "settings.blocked_terms.pattern_too_complex", limit=300)
    symbols = await settings(stack, "blocked-terms", "add", term="!!!")
    assert reply(symbols) == text(stack, "settings.blocked_terms.term_no_letters")
    assert await stack.services.guild_config.list_blocked_terms(stack.discord.guild.id) == []


async def test_allowed_channels_and_roles_refuse_with_what_would_work(stack: Stack) -> None:
    """Outside the allowed channels and roles a member is told where and who may; moderators
    may test anywhere."""
    fake = stack.discord
    nsfw = fake.channels.nsfw
    await settings(stack, "channels", "add", channel=nsfw)
    outside = await imagine(stack, fake.users.member)
    assert refused(outside) == text(stack, "refusal.channel_not_allowed", channels=f"<#{nsfw.id}>")
    assert refused(await imagine(stack, fake.users.moderator)) is None

    await settings(stack, "channels", "clear")
    artist = role(stack, "Artist")
    await settings(stack, "roles", "add", role=artist)
    no_role = await imagine(stack, fake.users.other_member)
    assert refused(no_role) == text(stack, "refusal.role_not_allowed", roles=f"<@&{artist.id}>")
    assert refused(await imagine(stack, fake.users.member)) is None  # holds Artist
    reasons = await stack.services.db.fetchall(
        "SELECT refusal_reason FROM jobs WHERE status = 'refused' ORDER BY id"
    )
    assert [r["refusal_reason"] for r in reasons] == ["channel_not_allowed", "role_not_allowed"]
    assert len(stack.api.requests_for("create")) <= 2  # only the two accepted jobs


async def test_role_override_raises_the_daily_limit_up_to_the_operators(
    stack_factory: Any,
) -> None:
    """With USER_DAILY_LIMIT=3 and the server's 1, the second image is refused with its reset
    time; a role override of 3 lets members holding that role go on, and nobody else; a role
    override above the operator's 3 is refused, naming it."""
    stack: Stack = await stack_factory(USER_DAILY_LIMIT="3")
    fake = stack.discord
    await settings(stack, "limit", kind="user_daily", value=1)
    assert refused(await imagine(stack, fake.users.member)) is None
    second = await imagine(stack, fake.users.member)
    midnight = (int(stack.services.clock.now()) // DAY + 1) * DAY
    assert refused(second) == text(
        stack, "refusal.user_daily_limit", limit=1, used=1, requested=1, reset=f"<t:{midnight}:R>"
    )
    artist = role(stack, "Artist")
    too_many = await settings(stack, "limit", kind="user_daily", value=4, role=artist)
    assert reply(too_many) == text(stack, "settings.limit.above_operator", operator=3)
    await settings(stack, "limit", kind="user_daily", value=3, role=artist)
    assert refused(await imagine(stack, fake.users.member)) is None
    assert refused(await imagine(stack, fake.users.other_member)) is None
    again = await imagine(stack, fake.users.other_member)
    assert refused(again) is not None and "<t:" in str(refused(again))


async def test_nsfw_needs_an_age_restricted_channel_and_the_server_allowing_it(
    stack: Stack,
) -> None:
    """safety_tolerance is refused in a normal channel always, and in an age-restricted one
    until the server allows NSFW; then it reaches the provider as given."""
    fake = stack.discord
    member = fake.users.member
    options = {"model": FLUX_PRO, "extra": "safety_tolerance=5"}
    assert refused(await imagine(stack, member, **options)) is not None
    nsfw_denied = await stack.discord.slash(
        "imagine", prompt="a cat", user=member, channel=fake.channels.nsfw, **options
    )
    await nsfw_denied.wait_callback()
    assert refused(nsfw_denied) is not None
    assert stack.api.requests_for("create") == []

    await settings(stack, "nsfw", policy="allow")
    assert refused(await imagine(stack, member, **options)) is not None
    allowed = await stack.discord.slash(
        "imagine", prompt="a cat", user=member, channel=fake.channels.nsfw, **options
    )
    await allowed.wait_callback()
    assert refused(allowed) is None
    job_id = await stack.services.db.fetchval("SELECT MAX(id) FROM jobs")
    job = await stack.wait_job(job_id, "succeeded")
    assert job.input["safety_tolerance"] == 5
    assert stack.api.requests_for("create")[0].json["input"]["safety_tolerance"] == 5


async def test_default_model_is_offered_checked_and_used(stack: Stack) -> None:
    """default-model autocompletes from the catalog, refuses unknown and image-edit models,
    and /imagine without a model then uses it."""
    fake = stack.discord
    typing = await fake.autocomplete(
        "settings", "model", "1.1", subcommand="default-model", user=fake.users.moderator
    )
    await typing.wait_callback()
    assert typing.autocomplete_choices is not None
    values = [c["value"] for c in typing.autocomplete_choices]
    assert FLUX_PRO in values and all("kontext" not in v for v in values)

    unknown = await settings(stack, "default-model", model="acme/painter")
    assert reply(unknown) == text(stack, "validation.unknown_model", model="acme/painter")
    edit_model = await settings(stack, "default-model", model="black-forest-labs/flux-kontext-pro")
    assert reply(edit_model) == text(
        stack, "validation.model_needs_image", model="FLUX Kontext Pro"
    )
    await settings(stack, "default-model", model=FLUX_PRO)
    accepted = await imagine(stack, fake.users.member)
    assert refused(accepted) is None
    job = await stack.services.jobs.get(1)
    assert job is not None and job.model == FLUX_PRO


async def test_block_and_unblock(stack: Stack) -> None:
    """A blocked member is refused in this server; unblocked, they may ask again."""
    fake = stack.discord
    await settings(stack, "block", user=fake.users.member, reason="spam")
    assert refused(await imagine(stack, fake.users.member)) == text(stack, "refusal.user_blocked")
    blocked = await stack.services.guild_config.list_blocked_users(fake.guild.id)
    assert [(b.user_id, b.blocked_by, b.reason) for b in blocked] == [
        (fake.users.member.id, fake.users.moderator.id, "spam")
    ]
    await settings(stack, "unblock", user=fake.users.member)
    assert refused(await imagine(stack, fake.users.member)) is None


async def test_log_channel_must_be_one_the_bot_can_post_in(stack: Stack) -> None:
    """A channel where the bot cannot send is refused with a sentence naming it."""
    from tests.fakes.discord.models import FakeChannel, Overwrite

    fake = stack.discord
    guild = fake.guild
    hidden = FakeChannel(fake.ids.next(), "staff-only", guild_id=guild.id, position=9)
    hidden.overwrites = [Overwrite(fake.bot_user.id, 1, deny=1 << 10)]  # VIEW_CHANNEL
    guild.channels[hidden.id] = hidden
    await fake.gateway.dispatch(guild.id, "CHANNEL_CREATE", hidden.payload())
    for _ in range(100):
        if stack.bot.get_channel(hidden.id) is not None:
            break
        import asyncio

        await asyncio.sleep(0.01)
    interaction = await settings(stack, "log-channel", "set", channel=hidden)
    assert reply(interaction) == text(
        stack, "settings.log_channel.no_permission", channel=f"<#{hidden.id}>"
    )
    config = await stack.services.guild_config.get(guild.id)
    assert config.log_channel_id is None


async def test_settings_reply_in_the_users_language(stack: Stack) -> None:
    """A Japanese moderator gets the Japanese sentence."""
    interaction = await settings(stack, "nsfw", locale="ja", policy="allow")
    assert reply(interaction) == text(stack, "settings.nsfw.allowed", "ja")


async def test_synced_english_text_is_the_catalogs(stack: Stack) -> None:
    """/settings, /usage and /forget-me, with every subcommand and option, register the en-US
    catalog's names and descriptions, and a name in zh-TW, zh-CN and ja for each."""
    messages = stack.services.messages
    synced = {c["name"]: c for c in stack.discord.commands_synced[stack.discord.guild.id]}
    problems: list[str] = []

    def check(item: dict[str, Any], key: str) -> None:
        for part in ("name", "description"):
            if item[part] != messages.t("en-US", f"{key}.{part}"):
                problems.append(f"{key}.{part}: {item[part]!r}")
        names = item.get("name_localizations") or {}
        problems.extend(
            f"{key}: no {loc} name" for loc in ("zh-TW", "zh-CN", "ja") if loc not in names
        )

    def walk(options: list[dict[str, Any]] | None, path: list[str]) -> None:
        for option in options or []:
            if option["type"] in (1, 2):  # a subcommand or a group
                sub = [*path, option["name"].replace("-", "_")]
                check(option, "command." + ".".join(sub))
                walk(option.get("options"), sub)
            else:
                check(option, "option." + ".".join(path) + "." + option["name"])

    for name in ("settings", "usage", "forget-me", "prefs"):
        path = [name.replace("-", "_")]
        check(synced[name], "command." + path[0])
        walk(synced[name].get("options"), path)
    assert problems == []
