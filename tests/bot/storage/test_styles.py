"""StyleStore: a server's styles, on both backends (`database` fixture)."""

from __future__ import annotations

import pytest

from bot.clock import SystemClock
from bot.storage import Database
from bot.storage.anonymous_usage import AnonymousUsage
from bot.storage.styles import (
    MAX_STYLES_PER_GUILD,
    MAX_TEMPLATE_LENGTH,
    Style,
    StyleError,
    StyleStore,
)

GUILD, OTHER = 111, 222


async def test_a_style_is_stored_and_found_whatever_the_case(database: Database) -> None:
    """add, get (case-insensitive), list and names agree; the template applies to a prompt."""
    store = StyleStore(database)
    added = await store.add(
        GUILD,
        " Water  colour ",
        "{prompt}, watercolor, soft light",
        model="black-forest-labs/flux-dev",
        aspect_ratio="3:2",
        added_by=7,
    )
    assert added.name == "Water colour"
    found = await store.get(GUILD, "WATER COLOUR")
    assert found == added
    assert await store.list_styles(GUILD) == [added]
    assert await store.names(GUILD) == ["Water colour"]
    assert await store.get(OTHER, "water colour") is None
    assert found.apply("a fox") == "a fox, watercolor, soft light"


@pytest.mark.parametrize("template", ["watercolor", "{prompt} and {prompt}"])
async def test_a_template_needs_exactly_one_prompt_slot(database: Database, template: str) -> None:
    """No `{prompt}`, or two, is refused with the count found."""
    with pytest.raises(StyleError) as refused:
        await StyleStore(database).add(GUILD, "x", template)
    assert refused.value.code == "template_slot"
    assert refused.value.params["count"] == template.count("{prompt}")


async def test_names_are_unique_per_server_and_templates_bounded(database: Database) -> None:
    """A taken name (any case) and an overlong template are refused; another server may reuse it."""
    store = StyleStore(database)
    await store.add(GUILD, "Noir", "{prompt}, film noir")
    with pytest.raises(StyleError) as taken:
        await store.add(GUILD, "noir", "{prompt}")
    assert taken.value.code == "name_taken" and taken.value.params["name"] == "Noir"
    await store.add(OTHER, "noir", "{prompt}")
    with pytest.raises(StyleError) as long:
        await store.add(GUILD, "long", "{prompt}" + "x" * MAX_TEMPLATE_LENGTH)
    assert long.value.code == "template_too_long"


async def test_a_server_holds_at_most_25_styles(database: Database) -> None:
    """The 26th style is refused until one is removed."""
    store = StyleStore(database)
    for n in range(MAX_STYLES_PER_GUILD):
        await store.add(GUILD, f"s{n}", "{prompt}")
    with pytest.raises(StyleError) as full:
        await store.add(GUILD, "one more", "{prompt}")
    assert full.value.code == "too_many"
    assert await store.remove(GUILD, "S3") is True
    assert await store.remove(GUILD, "s3") is False
    assert isinstance(await store.add(GUILD, "one more", "{prompt}"), Style)


async def test_forget_me_keeps_a_style_but_not_its_author(database: Database) -> None:
    """A style a forgotten member added stays the server's, without their id."""
    store = StyleStore(database)
    await store.add(GUILD, "Noir", "{prompt}, noir", added_by=99)
    report = await AnonymousUsage(database, SystemClock()).forget_user(99)
    assert report.moderation_refs_cleared == 1
    style = await store.get(GUILD, "noir")
    assert style is not None and style.added_by is None
