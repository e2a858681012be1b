"""PreferenceStore: a member's /prefs, on both backends (`database` fixture)."""

from __future__ import annotations

import pytest

from bot.clock import SystemClock
from bot.jobs.model import NewJob
from bot.storage import Database
from bot.storage.anonymous_usage import AnonymousUsage
from bot.storage.jobs import JobStore
from bot.storage.preferences import (
    MAX_SUFFIX_LENGTH,
    PreferenceError,
    Preferences,
    PreferenceStore,
)

USER = 123_456_789_012_345_678


async def test_a_member_without_preferences_gets_an_empty_set(database: Database) -> None:
    """No row reads as no preference at all."""
    prefs = await PreferenceStore(database).get(USER)
    assert prefs == Preferences(USER)
    assert prefs.is_empty and prefs.values() == {}


async def test_set_changes_only_the_given_settings(database: Database) -> None:
    """A second /prefs set keeps what the first one stored unless it names it again."""
    store = PreferenceStore(database)
    await store.set(USER, model="black-forest-labs/flux-dev", count=3, suffix="  soft   light ")
    prefs = await store.set(USER, format="png", count=2)
    assert prefs.values() == {
        "model": "black-forest-labs/flux-dev",
        "format": "png",
        "count": 2,
        "suffix": "soft light",
    }
    assert await store.get(USER) == prefs


async def test_reset_forgets_one_setting_or_all_and_the_row_goes_with_the_last(
    database: Database,
) -> None:
    """Resetting a setting clears it; with nothing left the row is deleted; a second reset is a no-op."""
    store = PreferenceStore(database)
    await store.set(USER, quality=90, aspect_ratio="16:9")
    assert await store.reset(USER, ["quality"]) is True
    assert (await store.get(USER)).values() == {"aspect_ratio": "16:9"}
    assert await store.reset(USER, ["quality"]) is False
    assert await store.reset(USER) is True
    count = await database.fetchval("SELECT COUNT(*) FROM member_preferences")
    assert int(count) == 0
    assert await store.reset(USER) is False


async def test_a_suffix_is_one_bounded_line(database: Database) -> None:
    """Line breaks fold into spaces; an empty or overlong suffix is refused with its code."""
    store = PreferenceStore(database)
    assert (await store.set(USER, suffix="a\nb")).suffix == "a b"
    with pytest.raises(PreferenceError) as empty:
        await store.set(USER, suffix="  \n ")
    assert empty.value.code == "suffix_empty"
    with pytest.raises(PreferenceError) as long:
        await store.set(USER, suffix="x" * (MAX_SUFFIX_LENGTH + 1))
    assert long.value.code == "suffix_too_long"


async def test_forget_me_deletes_the_preferences(database: Database) -> None:
    """/forget-me's one transaction removes the member's preferences, and only theirs."""
    store = PreferenceStore(database)
    await store.set(USER, count=2)
    await store.set(USER + 1, count=3)
    await JobStore(database).insert(
        NewJob(
            kind="imagine",
            user_id=USER,
            guild_id=1,
            channel_id=2,
            model="m",
            prompt="p",
            input={},
            image_count=1,
        )
    )
    report = await AnonymousUsage(database, SystemClock()).forget_user(USER)
    assert report.preferences_deleted == 1
    assert (await store.get(USER)).is_empty
    assert (await store.get(USER + 1)).count == 3
