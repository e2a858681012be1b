"""A server's configuration from its rows: defaults without a row, every column read back."""

from __future__ import annotations

from bot.storage.guild_model import (
    GuildConfig,
    RoleLimit,
    config_from_row,
    ids_from_json,
    ids_to_json,
    role_limit_from_row,
)

GUILD = 111_111_111_111_111_111


def test_no_row_or_a_row_never_written_gives_the_defaults() -> None:
    """No row, or one without updated_at, means "the environment's values" (and keeps roles)."""
    roles = (RoleLimit(GUILD, 7, user_daily_limit=3),)
    assert config_from_row(GUILD, None) == GuildConfig(guild_id=GUILD)
    assert config_from_row(GUILD, {"updated_at": None}, roles) == GuildConfig(
        guild_id=GUILD, role_limits=roles
    )


def test_a_row_is_read_column_by_column() -> None:
    """Allow lists from JSON, booleans from 0/1, NULL limits stay None."""
    row = {
        "updated_at": 1.0,
        "allowed_channel_ids": "[3, 1]",
        "allowed_role_ids": None,
        "user_daily_limit": 20,
        "guild_daily_limit": None,
        "user_cooldown_seconds": 0,
        "user_max_active_jobs": 4,
        "allow_nsfw": 1,
        "log_channel_id": 9,
        "default_model": "a/b",
        "terms_version": 2,
    }
    assert config_from_row(GUILD, row) == GuildConfig(
        guild_id=GUILD,
        allowed_channel_ids=frozenset({1, 3}),
        user_daily_limit=20,
        user_cooldown_seconds=0,
        user_max_active_jobs=4,
        allow_nsfw=True,
        log_channel_id=9,
        default_model="a/b",
        terms_version=2,
    )
    role = {"guild_id": GUILD, "role_id": 7, "user_daily_limit": None}
    role |= {"user_cooldown_seconds": 5, "user_max_active_jobs": None}
    assert role_limit_from_row(role) == RoleLimit(GUILD, 7, user_cooldown_seconds=5)


def test_allow_lists_are_stored_sorted_without_duplicates() -> None:
    """The JSON is canonical, so equal lists are equal text."""
    assert ids_to_json([3, 1, 3]) == "[1, 3]"
    assert ids_from_json(ids_to_json([3, 1])) == frozenset({1, 3})
    assert ids_from_json(None) == frozenset()
