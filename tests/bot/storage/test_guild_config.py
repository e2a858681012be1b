"""GuildConfigStore: per-server settings, role limits, blocked terms and users, on real SQLite
(and on PostgreSQL too where a test takes the `database` fixture)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.storage import Database, open_database
from bot.storage.guild_config import (
    MAX_TERMS_PER_GUILD,
    BlockedTermError,
    GuildConfig,
    GuildConfigError,
    GuildConfigStore,
    RoleLimit,
)
from bot.terms import MAX_PATTERNS_COST
from bot.terms.syntax import compile_pattern

GUILD = 111_111_111_111_111_111
OTHER = 222_222_222_222_222_222


class StepClock:
    def __init__(self) -> None:
        self.t = 1_700_000_000.0

    def now(self) -> float:
        self.t += 1
        return self.t

    def monotonic(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.t += seconds


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await open_database(f"sqlite:///{tmp_path / 'bot.db'}")
    try:
        yield database
    finally:
        await database.close()


@pytest.fixture
def store(db: Database) -> GuildConfigStore:
    return GuildConfigStore(db, StepClock())


async def test_a_server_without_settings_gets_the_defaults(store: GuildConfigStore) -> None:
    """No row means everyone allowed, environment limits, no NSFW, no log channel."""
    assert await store.get(GUILD) == GuildConfig(guild_id=GUILD)


async def test_each_setter_round_trips_and_none_restores_the_default(
    store: GuildConfigStore,
) -> None:
    """Every /settings field is stored, read back, and can be reset to the environment's."""
    await store.set_user_daily_limit(GUILD, 20)
    await store.set_guild_daily_limit(GUILD, 400)
    await store.set_user_cooldown_seconds(GUILD, 45)
    await store.set_user_max_active_jobs(GUILD, 3)
    await store.set_allow_nsfw(GUILD, True)
    await store.set_log_channel(GUILD, 555)
    await store.set_default_model(GUILD, " black-forest-labs/flux-dev ")
    cfg = await store.get(GUILD)
    assert (
        cfg.user_daily_limit,
        cfg.guild_daily_limit,
        cfg.user_cooldown_seconds,
        cfg.user_max_active_jobs,
        cfg.allow_nsfw,
        cfg.log_channel_id,
        cfg.default_model,
    ) == (20, 400, 45, 3, True, 555, "black-forest-labs/flux-dev")
    await store.set_user_daily_limit(GUILD, None)
    await store.set_log_channel(GUILD, None)
    await store.set_default_model(GUILD, "")
    await store.set_allow_nsfw(GUILD, False)
    cfg = await store.get(GUILD)
    assert cfg.user_daily_limit is None and cfg.log_channel_id is None
    assert cfg.default_model is None and cfg.allow_nsfw is False
    assert await store.get(OTHER) == GuildConfig(guild_id=OTHER)


@pytest.mark.parametrize(
    ("setter", "value"),
    [
        ("set_user_daily_limit", -1),
        ("set_guild_daily_limit", 10_000_001),
        ("set_user_cooldown_seconds", 86_401),
        ("set_user_max_active_jobs", -5),
    ],
)
async def test_out_of_range_limits_are_refused(
    store: GuildConfigStore, setter: str, value: int
) -> None:
    """A negative or absurd limit is refused with a sentence and nothing is stored."""
    with pytest.raises(GuildConfigError) as caught:
        await getattr(store, setter)(GUILD, value)
    assert caught.value.code == "limit_out_of_range"
    assert "whole number from 1 to" in str(caught.value)
    assert await store.get(GUILD) == GuildConfig(guild_id=GUILD)


async def test_allowed_channels_and_roles_set_add_and_remove(store: GuildConfigStore) -> None:
    """Allow lists can be replaced or edited one id at a time; empty means everyone."""
    await store.set_allowed_channels(GUILD, [3, 1, 3])
    await store.add_allowed_channel(GUILD, 2)
    cfg = await store.remove_allowed_channel(GUILD, 1)
    assert cfg.allowed_channel_ids == frozenset({2, 3})
    await store.add_allowed_role(GUILD, 10)
    cfg = await store.add_allowed_role(GUILD, 10)
    assert cfg.allowed_role_ids == frozenset({10})
    await store.remove_allowed_role(GUILD, 10)
    cfg = await store.set_allowed_channels(GUILD, [])
    assert cfg.allowed_channel_ids == frozenset() and cfg.allowed_role_ids == frozenset()


async def test_role_limits_set_replace_list_and_remove(store: GuildConfigStore) -> None:
    """A role's overrides are upserted, listed with the config, and removable."""
    await store.set_role_limit(GUILD, 7, user_daily_limit=100)
    await store.set_role_limit(GUILD, 5, user_daily_limit=1, user_cooldown_seconds=2)
    await store.set_role_limit(GUILD, 7, user_max_active_jobs=4)  # replaces role 7's row
    expected = [
        RoleLimit(GUILD, 5, user_daily_limit=1, user_cooldown_seconds=2),
        RoleLimit(GUILD, 7, user_max_active_jobs=4),
    ]
    assert await store.list_role_limits(GUILD) == expected
    assert (await store.get(GUILD)).role_limits == tuple(expected)
    assert await store.remove_role_limit(GUILD, 5)
    assert not await store.remove_role_limit(GUILD, 5)
    assert await store.list_role_limits(GUILD) == expected[1:]
    assert await store.list_role_limits(OTHER) == []
    with pytest.raises(GuildConfigError) as caught:
        await store.set_role_limit(GUILD, 8)
    assert caught.value.code == "role_limit_empty"


async def test_set_limit_for_a_role_keeps_its_other_limits(database: Database) -> None:
    """A role limit changes one value, keeps the role's others, and the row goes with the last."""
    store = GuildConfigStore(database, StepClock())
    await store.set_limit(GUILD, "user_daily", 5, role_id=7)
    config = await store.set_limit(GUILD, "cooldown", 30, role_id=7)
    assert config.role_limits == (RoleLimit(GUILD, 7, 5, 30, None),)
    config = await store.set_limit(GUILD, "user_daily", None, role_id=7)
    assert config.role_limits == (RoleLimit(GUILD, 7, None, 30, None),)
    config = await store.set_limit(GUILD, "cooldown", None, role_id=7)
    assert config.role_limits == ()
    assert await database.fetchval("SELECT COUNT(*) FROM guild_role_limits") == 0
    # Clearing a role that never had a limit is harmless and leaves no row behind.
    assert (await store.set_limit(GUILD, "active_jobs", None, role_id=8)).role_limits == ()
    assert await database.fetchval("SELECT COUNT(*) FROM guild_role_limits") == 0
    config = await store.set_limit(GUILD, "guild_daily", 40)
    assert config.guild_daily_limit == 40 and config.role_limits == ()


async def test_concurrent_role_limit_changes_of_different_kinds_all_survive(
    database: Database,
) -> None:
    """Moderators changing different limits of one role at the same moment lose none of them."""
    store = GuildConfigStore(database, StepClock())
    roles = range(1, 6)  # several rounds: a single lost update fails the test
    for role in roles:
        await asyncio.gather(
            store.set_limit(GUILD, "user_daily", 5, role_id=role),
            store.set_limit(GUILD, "cooldown", 30, role_id=role),
            store.set_limit(GUILD, "active_jobs", 4, role_id=role),
        )
    assert await store.list_role_limits(GUILD) == [RoleLimit(GUILD, r, 5, 30, 4) for r in roles]


async def test_set_limit_refuses_bad_values_and_server_wide_kinds_per_role(
    store: GuildConfigStore,
) -> None:
    """Out of range, or a server-wide limit given a role: refused with a code, nothing stored."""
    with pytest.raises(GuildConfigError) as caught:
        await store.set_limit(GUILD, "cooldown", 86_401, role_id=7)
    assert (caught.value.code, caught.value.params["maximum"]) == ("limit_out_of_range", 86_400)
    with pytest.raises(GuildConfigError) as caught:
        await store.set_limit(GUILD, "guild_daily", 5, role_id=7)
    assert caught.value.code == "limit_not_per_role"
    with pytest.raises(ValueError, match="unknown limit kind"):
        await store.set_limit(GUILD, "weekly", 5)
    assert await store.get(GUILD) == GuildConfig(guild_id=GUILD)


@dataclass(frozen=True)
class Operator:
    """The environment's limits, as Settings holds them."""

    user_daily_limit: int = 50
    guild_daily_limit: int = 0
    user_cooldown_seconds: int = 10
    user_max_active_jobs: int = 2


async def test_limits_stay_within_the_operators_ceilings(db: Database) -> None:
    """Counts from 1 to the operator's value (to the maximum where none is set), cooldowns from
    the operator's up; 0 ("no limit") is refused; the same for a role; nothing is stored."""
    store = GuildConfigStore(db, StepClock(), operator=Operator())
    for kind, value, role in (("user_daily", 50, None), ("guild_daily", 1_000_000, None)):
        await store.set_limit(GUILD, kind, value, role_id=role)
    await store.set_limit(GUILD, "cooldown", 10, role_id=3)
    await store.set_limit(GUILD, "active_jobs", 1)
    cases = [
        ("user_daily", 51, None, "limit_above_operator", {"operator": 50, "maximum": 50}),
        ("user_daily", 0, 3, "limit_above_operator", {"operator": 50, "minimum": 1}),
        ("active_jobs", 1000, None, "limit_above_operator", {"operator": 2}),
        ("cooldown", 9, None, "limit_below_operator", {"operator": 10, "minimum": 10}),
        ("cooldown", 0, 3, "limit_below_operator", {"operator": 10}),
        ("guild_daily", 0, None, "limit_not_unlimited", {"minimum": 1, "maximum": 1_000_000}),
        ("guild_daily", 1_000_001, None, "limit_out_of_range", {"maximum": 1_000_000}),
        ("cooldown", 86_401, None, "limit_out_of_range", {"minimum": 10, "maximum": 86_400}),
    ]
    before = await store.get(GUILD)
    for kind, value, role, code, params in cases:
        with pytest.raises(GuildConfigError) as caught:
            await store.set_limit(GUILD, kind, value, role_id=role)
        assert caught.value.code == code, (kind, value)
        assert params.items() <= caught.value.params.items(), (kind, value)
        assert str(caught.value).endswith(".") and "\n" not in str(caught.value)
    assert await store.get(GUILD) == before
    with pytest.raises(GuildConfigError) as caught:
        await store.set_role_limit(GUILD, 4, user_daily_limit=0)
    assert caught.value.code == "limit_above_operator"


async def test_blocked_terms_add_list_remove_and_bump_the_version(
    store: GuildConfigStore,
) -> None:
    """Terms are stored as typed, adding twice is harmless, and each change bumps the version."""
    first = await store.add_blocked_term(GUILD, "  Café ", added_by=42)
    assert (first.term, first.is_pattern, first.added_by) == ("Café", False, 42)
    v1 = (await store.get(GUILD)).terms_version
    again = await store.add_blocked_term(GUILD, "Café", added_by=43)
    assert again.id == first.id and again.added_by == 42
    assert (await store.get(GUILD)).terms_version == v1
    pattern = await store.add_blocked_term(GUILD, "/c[a@]t/")
    assert pattern.is_pattern
    v2 = (await store.get(GUILD)).terms_version
    assert v2 > v1
    assert [t.term for t in await store.list_blocked_terms(GUILD)] == ["Café", "/c[a@]t/"]
    assert await store.list_blocked_terms(OTHER) == []
    assert await store.remove_blocked_term(GUILD, "Café")
    assert not await store.remove_blocked_term(GUILD, "Café")
    assert (await store.get(GUILD)).terms_version > v2
    assert [t.term for t in await store.list_blocked_terms(GUILD)] == ["/c[a@]t/"]


async def test_an_invalid_pattern_is_refused_and_not_stored(store: GuildConfigStore) -> None:
    """A broken regular expression is refused with a sentence saying how to fix it."""
    with pytest.raises(BlockedTermError) as caught:
        await store.add_blocked_term(GUILD, "/ca(t/")
    assert caught.value.code == "pattern_invalid"
    assert "regular expression" in str(caught.value)
    assert await store.list_blocked_terms(GUILD) == []


async def test_a_pattern_re2_cannot_run_is_refused_and_not_stored(store: GuildConfigStore) -> None:
    """A backreference is valid for Python's re but not for RE2: refused with why, not stored."""
    with pytest.raises(BlockedTermError) as caught:
        await store.add_blocked_term(GUILD, "/(ab)\\1/")
    assert caught.value.code == "pattern_unsupported"
    assert "RE2" in str(caught.value)
    assert await store.list_blocked_terms(GUILD) == []


async def test_a_servers_patterns_share_one_size_budget(store: GuildConfigStore) -> None:
    """Patterns are refused once the server's patterns together would pass MAX_PATTERNS_COST;
    words are not counted, and removing a pattern makes room again."""
    body = "[ab]*a[ab]{20}"  # a program of a few dozen instructions
    cost = compile_pattern(f"{body}x00")[1]
    fits = MAX_PATTERNS_COST // cost
    for i in range(fits):
        await store.add_blocked_term(GUILD, f"/{body}x{i:02d}/")  # each the same size
    await store.add_blocked_term(GUILD, "a plain word")
    with pytest.raises(BlockedTermError) as caught:
        await store.add_blocked_term(GUILD, f"/{body}y/")
    assert caught.value.code == "patterns_too_complex"
    assert caught.value.params["limit"] == MAX_PATTERNS_COST
    again = await store.add_blocked_term(GUILD, f"/{body}x00/")  # already there: unchanged
    assert again.term == f"/{body}x00/"
    assert await store.remove_blocked_term(GUILD, f"/{body}x00/")
    await store.add_blocked_term(GUILD, f"/{body}y/")
    assert await store.add_blocked_term(OTHER, f"/{body}y/")  # each server has its own budget


async def test_terms_version_is_one_cheap_read(store: GuildConfigStore) -> None:
    """0 for a server that never had a term; it moves with every change."""
    assert await store.terms_version(GUILD) == 0
    await store.add_blocked_term(GUILD, "storm")
    first = await store.terms_version(GUILD)
    assert first > 0
    await store.remove_blocked_term(GUILD, "storm")
    assert await store.terms_version(GUILD) > first
    assert await store.terms_version(OTHER) == 0


async def test_a_server_can_hold_a_bounded_number_of_terms(db: Database) -> None:
    """Past the per-server cap, adding a term is refused."""
    store = GuildConfigStore(db, StepClock())
    for i in range(MAX_TERMS_PER_GUILD):
        await db.execute(
            "INSERT INTO guild_blocked_terms (guild_id, term, is_pattern, added_at)"
            " VALUES (?, ?, 0, 0)",
            GUILD,
            f"word{i}",
        )
    with pytest.raises(BlockedTermError) as caught:
        await store.add_blocked_term(GUILD, "one more")
    assert caught.value.code == "too_many_terms"


async def test_block_unblock_and_is_blocked_per_server(store: GuildConfigStore) -> None:
    """Blocking is per server, idempotent, and listed with who blocked and why."""
    assert await store.block_user(GUILD, 9, blocked_by=1, reason="spam")
    assert not await store.block_user(GUILD, 9, blocked_by=2)
    assert await store.is_blocked(GUILD, 9)
    assert not await store.is_blocked(OTHER, 9)
    [entry] = await store.list_blocked_users(GUILD)
    assert (entry.user_id, entry.blocked_by, entry.reason) == (9, 1, "spam")
    assert await store.unblock_user(GUILD, 9)
    assert not await store.unblock_user(GUILD, 9)
    assert not await store.is_blocked(GUILD, 9)


async def test_settings_survive_reopening_the_file(tmp_path: Path) -> None:
    """Everything is in the database file, not in memory."""
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    db = await open_database(url)
    store = GuildConfigStore(db, StepClock())
    await store.set_allowed_roles(GUILD, [4])
    await store.set_role_limit(GUILD, 4, user_daily_limit=9)
    await store.add_blocked_term(GUILD, "storm")
    await store.block_user(GUILD, 9)
    before = await store.get(GUILD)
    await db.close()
    db = await open_database(url)
    try:
        store = GuildConfigStore(db, StepClock())
        assert await store.get(GUILD) == before
        assert [t.term for t in await store.list_blocked_terms(GUILD)] == ["storm"]
        assert await store.is_blocked(GUILD, 9)
    finally:
        await db.close()


async def test_the_spoiler_mode_is_stored_and_read(database: Database) -> None:
    """off by default; on spoils everywhere; nsfw-only only in age-restricted channels."""
    config_store = GuildConfigStore(database, StepClock())
    assert (await config_store.get(GUILD)).spoiler_mode == "off"
    assert not (await config_store.get(GUILD)).spoils(age_restricted_channel=True)
    nsfw_only = await config_store.set_spoiler_mode(GUILD, "nsfw-only")
    assert nsfw_only.spoils(age_restricted_channel=True)
    assert not nsfw_only.spoils(age_restricted_channel=False)
    on = await config_store.set_spoiler_mode(GUILD, "on")
    assert on.spoils(age_restricted_channel=False)
    with pytest.raises(ValueError):
        await config_store.set_spoiler_mode(GUILD, "sometimes")
