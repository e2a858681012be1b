"""A server's monthly budgets: within the operator's BOT_MONTHLY_BUDGET, a member's within the
server's, 0 or None removes one, and a value stored above a ceiling lowered later reads at the
ceiling; stored on both backends."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.money import MAX_BUDGET_MICROS
from bot.policy import DefaultLimits
from bot.storage import Database
from bot.storage.guild_budgets import effective_guild_budget, effective_member_budget
from bot.storage.guild_config import GuildConfig, GuildConfigError, GuildConfigStore

GUILD = 111_111_111_111_111_111


def store(db: Database, operator_usd: str | None) -> GuildConfigStore:
    operator = (
        None if operator_usd is None else DefaultLimits(bot_monthly_budget=Decimal(operator_usd))
    )
    return GuildConfigStore(db, operator=operator)


async def test_budgets_are_stored_read_back_and_removed(database: Database) -> None:
    """Set, read in the config, and removed by 0 or None; other settings stay."""
    config = store(database, "100")
    await config.set_limit(GUILD, "user_daily", 5)
    got = await config.set_budget(GUILD, "monthly", 25_000_000)
    assert (got.monthly_budget_micros, got.member_budget_micros) == (25_000_000, None)
    got = await config.set_budget(GUILD, "member", 2_500_000)
    assert (got.monthly_budget_micros, got.member_budget_micros) == (25_000_000, 2_500_000)
    assert (await config.get(GUILD)).user_daily_limit == 5
    assert (await config.set_budget(GUILD, "member", 0)).member_budget_micros is None
    assert (await config.set_budget(GUILD, "monthly", None)).monthly_budget_micros is None


async def test_a_server_budget_is_at_most_the_operators(database: Database) -> None:
    """Above BOT_MONTHLY_BUDGET is refused naming it; without one, up to $1,000,000."""
    with pytest.raises(GuildConfigError) as above:
        await store(database, "100").set_budget(GUILD, "monthly", 100_000_001)
    assert (above.value.code, above.value.params["maximum"]) == (
        "budget_above_operator",
        100_000_000,
    )
    assert (
        await store(database, "100").set_budget(GUILD, "monthly", 100_000_000)
    ).monthly_budget_micros
    unbounded = store(database, None)
    assert (await unbounded.set_budget(GUILD, "monthly", MAX_BUDGET_MICROS)).monthly_budget_micros
    with pytest.raises(GuildConfigError) as too_much:
        await unbounded.set_budget(GUILD, "monthly", MAX_BUDGET_MICROS + 1)
    assert too_much.value.code == "budget_out_of_range"


async def test_a_member_budget_is_at_most_the_servers_then_the_operators(
    database: Database,
) -> None:
    """With a server budget the member's may not pass it; without one, the operator's caps it."""
    config = store(database, "50")
    with pytest.raises(GuildConfigError) as operator:
        await config.set_budget(GUILD, "member", 60_000_000)
    assert operator.value.code == "budget_above_operator"
    await config.set_budget(GUILD, "monthly", 10_000_000)
    with pytest.raises(GuildConfigError) as server:
        await config.set_budget(GUILD, "member", 10_000_001)
    assert (server.value.code, server.value.params["maximum"]) == (
        "budget_above_server",
        10_000_000,
    )
    assert (await config.set_budget(GUILD, "member", 10_000_000)).member_budget_micros == 10_000_000


def test_stored_budgets_read_within_ceilings_lowered_later() -> None:
    """Nothing is rewritten: a server's $80 under an operator's later $50 reads as $50, and a
    member's $40 under a server's $30 as $30."""
    config = GuildConfig(GUILD, monthly_budget_micros=80_000_000, member_budget_micros=40_000_000)
    assert effective_guild_budget(config, 50_000_000) == 50_000_000
    assert effective_guild_budget(config, 0) == 80_000_000
    assert effective_member_budget(config, 0) == 40_000_000
    lowered = GuildConfig(GUILD, monthly_budget_micros=30_000_000, member_budget_micros=40_000_000)
    assert effective_member_budget(lowered, 0) == 30_000_000
    assert effective_member_budget(GuildConfig(GUILD), 50_000_000) == 0  # none of its own
