"""/prefs end to end: a member's defaults, the precedence ladder (option > style > preference >
server default > bot default) as /imagine applies it, preferences ignored with a note (never a
refusal), across servers and DMs, and /forget-me."""

from __future__ import annotations

from typing import Any

from tests.cogs.conftest import Stack, text
from tests.fakes.discord.records import FakeInteraction

SCHNELL = "black-forest-labs/flux-schnell"
DEV = "black-forest-labs/flux-dev"
PRO = "black-forest-labs/flux-1.1-pro"
ULTRA = "black-forest-labs/flux-1.1-pro-ultra"


async def run(stack: Stack, command: str, /, *path: str, by: Any = None, **options: Any) -> Any:
    """`by` (the member by default) runs `/command [group] [sub] option:value ...`; waits."""
    fake = stack.discord
    group, sub = (None, path[0]) if len(path) == 1 else (path or (None, None))
    channel = options.pop("channel", None)
    interaction = await fake.slash(
        command,
        group=group,
        subcommand=sub,
        user=by or fake.users.member,
        channel=channel,
        values=options,
    )
    await interaction.wait_callback()
    return interaction


async def imagine(stack: Stack, **options: Any) -> FakeInteraction:
    fake = stack.discord
    options.setdefault("prompt", "a fox")
    channel = options.pop("channel", None)
    interaction = await fake.slash("imagine", user=fake.users.member, channel=channel, **options)
    await interaction.wait_callback()
    return interaction


def fields(interaction: FakeInteraction) -> dict[str, str]:
    embed = interaction.original_message.embeds[0]
    return {f["name"]: f["value"] for f in embed.get("fields", [])}


async def test_set_show_and_reset_preferences(stack: Stack) -> None:
    """/prefs set stores what is given, /prefs show lists every setting, reset forgets."""
    t = stack.services.messages.t
    saved = await run(stack, "prefs", "set", model=DEV, count=2, suffix="soft light")
    assert saved.original_message.ephemeral
    assert saved.original_message.content == text(stack, "prefs.saved")
    shown = fields(await run(stack, "prefs", "show"))
    assert shown[t("en-US", "prefs.setting.model")] == stack.services.catalog.get(DEV).label
    assert shown[t("en-US", "prefs.setting.count")] == "`2`"
    assert shown[t("en-US", "prefs.setting.format")] == text(stack, "prefs.not_set")
    one = await run(stack, "prefs", "reset", setting="count")
    label = t("en-US", "prefs.setting.count")
    assert one.original_message.content == text(stack, "prefs.reset_one", setting=label)
    assert (await stack.services.preferences.get(stack.discord.users.member.id)).values() == {
        "model": DEV,
        "suffix": "soft light",
    }
    every = await run(stack, "prefs", "reset")
    assert every.original_message.content == text(stack, "prefs.reset_all")
    again = await run(stack, "prefs", "reset")
    assert again.original_message.content == text(stack, "prefs.reset_nothing")


async def test_a_wrong_preference_is_refused_when_it_is_set(stack: Stack) -> None:
    """An unknown model, an image-edit model, or nothing at all: one sentence, nothing stored."""
    unknown = await run(stack, "prefs", "set", model="nobody/none")
    assert unknown.original_message.content == text(
        stack, "validation.unknown_model", model="nobody/none"
    )
    edit_only = await run(stack, "prefs", "set", model="black-forest-labs/flux-kontext-pro")
    assert edit_only.original_message.ephemeral
    nothing = await run(stack, "prefs", "set")
    assert nothing.original_message.content == text(stack, "prefs.nothing_to_set")
    assert (await stack.services.preferences.get(stack.discord.users.member.id)).is_empty


async def test_each_step_of_the_ladder_on_discord(stack: Stack) -> None:
    """Bot default, then the server's default, then the member's preference, then the style
    the member picks, then the option typed: each step wins over the one before."""
    fake = stack.discord

    async def made(job_id: int, **options: Any) -> Any:
        await imagine(stack, **options)
        job = await stack.wait_job(job_id, "succeeded")
        assert job.notes == ()
        return job

    assert (await made(1)).model == SCHNELL
    await run(stack, "settings", "default-model", by=fake.users.moderator, model=DEV)
    assert (await made(2)).model == DEV
    await run(stack, "prefs", "set", model=PRO, aspect_ratio="4:3")
    job = await made(3)
    assert (job.model, job.input["aspect_ratio"]) == (PRO, "4:3")
    await run(
        stack,
        "settings",
        "style",
        "add",
        by=fake.users.moderator,
        name="Wide",
        template="{prompt}, cinematic",
        model=ULTRA,
        aspect_ratio="16:9",
    )
    job = await made(4, style="Wide")
    assert (job.model, job.input["aspect_ratio"], job.prompt) == (ULTRA, "16:9", "a fox, cinematic")
    job = await made(5, style="Wide", model=SCHNELL, aspect_ratio="1:1")
    assert (job.model, job.input["aspect_ratio"]) == (SCHNELL, "1:1")


async def test_preferences_fill_format_quality_count_and_suffix(stack: Stack) -> None:
    """What the command leaves out comes from the preference; the suffix ends the prompt."""
    await run(stack, "prefs", "set", format="png", quality=90, count=2, suffix="35mm film")
    pending = await imagine(stack, prompt="a harbour")
    job = await stack.wait_job(1, "succeeded")
    assert job.input["output_format"] == "png" and job.input["output_quality"] == 90
    assert job.input["num_outputs"] == 2 and job.image_count == 2
    assert job.prompt == "a harbour, 35mm film"
    assert stack.api.requests_for("create")[0].json["input"]["prompt"] == "a harbour, 35mm film"
    assert pending.original_message.embeds[0]["description"] == "a harbour, 35mm film"
    typed = await imagine(stack, count=1, format="jpg")
    await typed.wait_callback()
    second = await stack.wait_job(2, "succeeded")
    assert (second.input["num_outputs"], second.input["output_format"]) == (1, "jpg")


async def test_a_preference_the_request_cannot_use_is_noted_not_refused(stack: Stack) -> None:
    """Preferred webp and quality with a typed Ultra, and a preferred model gone from the
    catalog: the job runs, and the pending message and Info say what was not used and why."""
    member = stack.discord.users.member
    await stack.services.preferences.set(member.id, format="webp", quality=80)
    pending = await imagine(stack, model=ULTRA)
    assert not pending.original_message.ephemeral
    notes = fields(pending)[text(stack, "pending.notes")]
    label = stack.services.catalog.get(ULTRA).label
    assert (
        text(
            stack,
            "note.preference.not_accepted",
            setting=text(stack, "prefs.setting.format"),
            value="`webp`",
            model=label,
        )
        in notes
    )
    job = await stack.wait_job(1, "succeeded")
    assert job.input["output_format"] == "jpg" and "output_quality" not in job.input
    assert {(n["setting"], n["reason"]) for n in job.notes} == {
        ("format", "not_accepted"),
        ("quality", "not_accepted"),
    }
    info = await stack.discord.click(pending.original_message, "imagebot:info:1", user=member)
    await info.wait_callback()
    assert text(stack, "info.notes") in fields(info)

    # A model the operator has since removed (stored before the catalog changed).
    await stack.services.db.execute(
        "UPDATE member_preferences SET model = ? WHERE user_id = ?", "someone/retired", member.id
    )
    gone = await imagine(stack)
    assert "someone/retired" in fields(gone)[text(stack, "pending.notes")]
    assert (await stack.wait_job(2, "succeeded")).model == SCHNELL


async def test_what_the_server_forbids_drops_the_preference_with_a_note(stack: Stack) -> None:
    """The server's own daily limit leaves 2 images and blocks "gore": a preferred count of 4
    and the suffix "gore" are left out with their notes; the request itself is accepted."""
    fake = stack.discord
    await run(stack, "settings", "limit", by=fake.users.moderator, kind="user_daily", value=2)
    await run(stack, "settings", "blocked-terms", "add", by=fake.users.moderator, term="gore")
    await stack.services.preferences.set(fake.users.member.id, count=4, suffix="gore")
    pending = await imagine(stack, prompt="a quiet pond")
    assert not pending.original_message.ephemeral
    job = await stack.wait_job(1, "succeeded")
    assert job.image_count == 1 and job.prompt == "a quiet pond"
    assert [(n["setting"], n["reason"]) for n in job.notes] == [
        ("suffix", "blocked_term"),
        ("count", "over_allowance"),
    ]
    notes = fields(pending)[text(stack, "pending.notes")]
    assert text(stack, "note.preference.blocked_term") in notes
    assert "gore" not in notes  # a blocked term is never echoed


async def test_preferences_follow_the_member_into_another_server_and_dms(
    stack_factory: Any,
) -> None:
    """Set in a DM (where /prefs works without ALLOW_DMS), used in two servers."""
    stack: Stack = await stack_factory(world=lambda fake: fake.add_guild("Neighbours"))
    fake = stack.discord
    other = next(g for g in fake.guilds.values() if g.id != fake.guild.id)
    fake.preload_commands(fake.commands_synced[fake.guild.id], guild_id=other.id)
    # As `python -m bot sync` registers them globally for DMs.
    fake.preload_commands(fake.commands_synced[fake.guild.id], guild_id=None)
    dm = fake.dm_channel(fake.users.member)
    saved = await run(stack, "prefs", "set", channel=dm, aspect_ratio="3:2")
    assert saved.original_message.content == text(stack, "prefs.saved")
    await imagine(stack)
    await imagine(stack, channel=next(iter(other.channels.values())))
    for job_id in (1, 2):
        assert (await stack.wait_job(job_id, "succeeded")).input["aspect_ratio"] == "3:2"


async def test_forget_me_deletes_the_preferences(stack: Stack) -> None:
    """After /forget-me's confirmation the member has no preferences left."""
    fake = stack.discord
    await run(stack, "prefs", "set", count=3)
    asked = await run(stack, "forget-me")
    confirm = next(c for c in asked.original_message.custom_ids if ":confirm:" in c)
    click = await fake.click(asked.original_message, confirm, user=fake.users.member)
    await click.wait_callback()
    await fake.wait_for(lambda r: r.method == "PATCH" and "messages/@original" in r.path)
    assert (await stack.services.preferences.get(fake.users.member.id)).is_empty
