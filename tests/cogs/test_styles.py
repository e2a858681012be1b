"""Server styles end to end: /settings style add|remove|list, /imagine style: with autocomplete
of this server's styles, blocked terms on the final prompt, and Info showing both."""

from __future__ import annotations

from typing import Any

from tests.cogs.conftest import Stack, text
from tests.cogs.test_prefs import fields, imagine, run
from tests.fakes.discord.records import FakeInteraction

ULTRA = "black-forest-labs/flux-1.1-pro-ultra"
PRO = "black-forest-labs/flux-1.1-pro"


async def style(stack: Stack, *path: str, **options: Any) -> FakeInteraction:
    """The moderator runs `/settings style <path> ...`."""
    return await run(stack, "settings", "style", *path, by=stack.discord.users.moderator, **options)


def said(interaction: FakeInteraction) -> str:
    message = interaction.original_message
    assert message is not None and message.ephemeral
    return str(message.content)


async def test_add_list_and_remove_a_style(stack: Stack) -> None:
    """A style is added with its defaults, listed with them, and removed by name."""
    added = await style(
        stack, "add", name="Water", template="{prompt}, watercolor", aspect_ratio="3:2"
    )
    assert said(added) == text(stack, "settings.style.added", name="Water")
    listed = await style(stack, "list")
    embed = listed.original_message.embeds[0]
    assert embed["title"] == text(stack, "settings.style.title", count=1)
    assert "**Water** — `{prompt}, watercolor` (3:2)" in embed["description"]
    removed = await style(stack, "remove", name="water")
    assert said(removed) == text(stack, "settings.style.removed", name="water")
    assert said(await style(stack, "list")) == text(stack, "settings.style.empty")
    gone = await style(stack, "remove", name="water")
    assert said(gone) == text(stack, "settings.style.not_found", name="water")


async def test_a_bad_style_is_refused_with_a_sentence(stack: Stack) -> None:
    """No {prompt}, a taken name, a ratio the model lacks, an unknown model, a blocked term in
    the template, a 26th style: each refused in one sentence, nothing stored."""
    slot = await style(stack, "add", name="x", template="watercolor")
    assert said(slot) == text(stack, "settings.style.template_slot", slot="{prompt}", count=0)
    await style(stack, "add", name="Noir", template="{prompt}, noir")
    taken = await style(stack, "add", name="NOIR", template="{prompt}")
    assert said(taken) == text(stack, "settings.style.name_taken", name="Noir")
    ratio = await style(
        stack, "add", name="Tall", template="{prompt}", model=PRO, aspect_ratio="21:9"
    )
    assert said(ratio).startswith(stack.services.catalog.get(PRO).label)
    unknown = await style(stack, "add", name="Odd", template="{prompt}", model="nobody/none")
    assert said(unknown) == text(stack, "validation.unknown_model", model="nobody/none")
    await run(
        stack, "settings", "blocked-terms", "add", by=stack.discord.users.moderator, term="gore"
    )
    blocked = await style(stack, "add", name="Grim", template="{prompt}, lots of gore")
    assert said(blocked) == text(stack, "settings.style.blocked_term")
    for n in range(24):
        await stack.services.styles.add(stack.discord.guild.id, f"s{n}", "{prompt}")
    full = await style(stack, "add", name="one more", template="{prompt}")
    assert said(full) == text(stack, "settings.style.too_many", max=25)
    assert len(await stack.services.styles.names(stack.discord.guild.id)) == 25


async def test_imagine_with_a_style_sends_the_final_prompt_and_info_shows_it(
    stack: Stack,
) -> None:
    """The template wraps the prompt, the member's suffix ends it; the style's model and ratio
    apply; the pending message names the style; Info shows the style and the final prompt."""
    await style(
        stack,
        "add",
        name="Noir",
        template="film noir still of {prompt}",
        model=ULTRA,
        aspect_ratio="21:9",
    )
    member = stack.discord.users.member
    await stack.services.preferences.set(member.id, suffix="grainy")
    pending = await imagine(stack, prompt="a detective", style="noir")
    assert fields(pending)[text(stack, "pending.style")] == "Noir"
    job = await stack.wait_job(1, "succeeded")
    final = "film noir still of a detective, grainy"
    assert (job.prompt, job.style, job.model, job.input["aspect_ratio"]) == (
        final,
        "Noir",
        ULTRA,
        "21:9",
    )
    assert stack.api.requests_for("create")[0].json["input"]["prompt"] == final
    info = await stack.discord.click(pending.original_message, "imagebot:info:1", user=member)
    await info.wait_callback()
    embed = info.original_message.embeds[0]
    assert embed["description"] == final
    assert fields(info)[text(stack, "info.style")] == "Noir"


async def test_blocked_terms_apply_to_the_final_prompt(stack: Stack) -> None:
    """A term the style brings in (blocked after the style was added) refuses the request,
    though the member's own words are clean; the refusal never names the term."""
    await style(stack, "add", name="Night", template="{prompt} at midnight")
    await run(
        stack, "settings", "blocked-terms", "add", by=stack.discord.users.moderator, term="midnight"
    )
    refused = await imagine(stack, prompt="a lighthouse", style="Night")
    assert said(refused) == text(stack, "refusal.blocked_term")
    assert stack.api.requests_for("create") == []
    row = await stack.services.db.fetchone("SELECT prompt, refusal_reason FROM jobs")
    assert row == {"prompt": "a lighthouse at midnight", "refusal_reason": "blocked_term"}


async def test_an_unknown_style_is_refused_with_the_servers_styles(stack: Stack) -> None:
    """A name the server has no style for says so, and lists the ones it has."""
    await style(stack, "add", name="Noir", template="{prompt}, noir")
    refused = await imagine(stack, style="Pastel")
    assert said(refused) == text(stack, "refusal.unknown_style", style="Pastel", styles="Noir")


async def test_autocomplete_lists_this_servers_styles_only(stack_factory: Any) -> None:
    """Typing in style: offers this server's matching styles, never another server's."""
    stack: Stack = await stack_factory(world=lambda fake: fake.add_guild("Neighbours"))
    fake = stack.discord
    other = next(g for g in fake.guilds.values() if g.id != fake.guild.id)
    await stack.services.styles.add(other.id, "Noir Elsewhere", "{prompt}")
    for name in ("Noir", "Pastel", "Neon"):
        await style(stack, "add", name=name, template="{prompt}, " + name.lower())
    typed = await fake.autocomplete("imagine", "style", "n", prompt="a cat", user=fake.users.member)
    await typed.wait_callback()
    assert [c["value"] for c in typed.autocomplete_choices] == ["Neon", "Noir"]
