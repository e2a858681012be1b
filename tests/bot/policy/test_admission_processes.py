"""Admission across processes: limits counted over every server (and the whole bot) hold when
two processes (two connections) admit at the same instant, on both backends."""

from __future__ import annotations

import asyncio

from bot.jobs.model import Job
from bot.policy import RequestContext
from bot.storage import Database, open_database
from bot.storage.guild_config import GuildConfigStore
from bot.storage.jobs import JobStore
from bot.storage.operator_blocks import OperatorBlockStore
from tests.backends import url_of
from tests.bot.policy.helpers import (
    CHANNEL,
    GUILD,
    NOON,
    OTHER_GUILD,
    FakeClock,
    make_admission,
    new_job,
)


async def test_active_jobs_cap_holds_across_servers_and_processes(
    database: Database,
) -> None:
    """One user, two servers, two connections, many rounds: never more active jobs than allowed."""
    clock = FakeClock()
    second = await open_database(url_of(database))
    try:
        adms = [
            make_admission(
                JobStore(d, clock), GuildConfigStore(d, clock), clock, user_max_active_jobs=1
            )
            for d in (database, second)
        ]
        for user in range(1, 21):
            results = await asyncio.gather(
                *(
                    adm.admit(
                        new_job(user=user, guild=guild),
                        RequestContext(user_id=user, guild_id=guild, channel_id=CHANNEL),
                    )
                    for adm, guild in ((adms[0], GUILD), (adms[1], OTHER_GUILD))
                )
            )
            assert sum(isinstance(r, Job) for r in results) == 1, (user, results)
        active = await database.fetchval("SELECT COUNT(*) FROM jobs WHERE status = 'queued'")
        assert active == 20
    finally:
        await second.close()


async def test_the_operators_daily_limit_holds_across_servers_and_processes(
    database: Database,
) -> None:
    """One user asks for their last image of the day in two servers through two connections
    at the same instant, round after round: one is admitted, the other refused."""
    clock = FakeClock()
    second = await open_database(url_of(database))
    try:
        adms = [
            make_admission(
                JobStore(d, clock), GuildConfigStore(d, clock), clock, user_daily_limit=1
            )
            for d in (database, second)
        ]
        for user in range(1, 16):
            results = await asyncio.gather(
                *(
                    adm.admit(
                        new_job(user=user, guild=guild),
                        RequestContext(user_id=user, guild_id=guild, channel_id=CHANNEL),
                    )
                    for adm, guild in ((adms[0], GUILD), (adms[1], OTHER_GUILD))
                )
            )
            assert sorted(getattr(r, "reason", "admitted") for r in results) == [
                "admitted",
                "user_daily_total",
            ], user
    finally:
        await second.close()


async def test_the_bot_daily_limit_holds_across_servers_and_processes(database: Database) -> None:
    """Different users in different servers (no server or user lock in common) race through
    two connections for the bot's last images: exactly the limit is admitted, every time."""
    clock = FakeClock()
    second = await open_database(url_of(database))
    try:
        adms = [
            make_admission(JobStore(d, clock), GuildConfigStore(d, clock), clock, bot_daily_limit=5)
            for d in (database, second)
        ]
        for day in range(3):
            clock.set(NOON + day * 86_400)
            results = await asyncio.gather(
                *(
                    adms[i % 2].admit(
                        new_job(user=100 * day + i, guild=GUILD + i),
                        RequestContext(
                            user_id=100 * day + i, guild_id=GUILD + i, channel_id=CHANNEL
                        ),
                    )
                    for i in range(8)
                )
            )
            assert sum(isinstance(r, Job) for r in results) == 5, day
            assert {getattr(r, "reason", None) for r in results} == {None, "bot_daily_limit"}
    finally:
        await second.close()


async def test_an_operator_block_applies_to_the_next_request_in_another_process(
    database: Database,
) -> None:
    """`python -m bot block` writes through its own connection; a running admission on another
    connection refuses the very next request, with no restart, and admits after unblock."""
    clock = FakeClock()
    cli = await open_database(url_of(database))
    try:
        adm = make_admission(JobStore(database, clock), GuildConfigStore(database, clock), clock)
        ctx = RequestContext(user_id=1, guild_id=GUILD, channel_id=CHANNEL)
        assert isinstance(await adm.admit(new_job(user=1), ctx), Job)
        await OperatorBlockStore(cli, clock).block(1)
        assert getattr(await adm.admit(new_job(user=1), ctx), "reason", None) == "bot_blocked"
        await OperatorBlockStore(cli, clock).unblock(1)
        assert isinstance(await adm.admit(new_job(user=1), ctx), Job)
    finally:
        await cli.close()


async def test_server_active_jobs_cap_holds_across_processes(database: Database) -> None:
    """GUILD_MAX_ACTIVE_JOBS: members racing on two connections never pass the server's cap."""
    clock = FakeClock()
    second = await open_database(url_of(database))
    try:
        adms = [
            make_admission(
                JobStore(d, clock), GuildConfigStore(d, clock), clock, guild_max_active_jobs=3
            )
            for d in (database, second)
        ]
        results = await asyncio.gather(
            *(
                adms[user % 2].admit(
                    new_job(user=user, guild=GUILD),
                    RequestContext(user_id=user, guild_id=GUILD, channel_id=CHANNEL),
                )
                for user in range(1, 11)
            )
        )
        assert sum(isinstance(r, Job) for r in results) == 3
        refused = [r for r in results if not isinstance(r, Job)]
        assert {r.reason for r in refused} == {"guild_active_jobs"}
        assert {r.params["limit"] for r in refused} == {3}
    finally:
        await second.close()


async def test_a_servers_budget_holds_across_processes(database: Database) -> None:
    """Two members of one server, two connections, the last dollars of its monthly budget at
    the same instant, month after month: one admitted, one refused, every time."""
    clock = FakeClock()
    second = await open_database(url_of(database))
    try:
        adms = [
            make_admission(JobStore(d, clock), GuildConfigStore(d, clock), clock)
            for d in (database, second)
        ]
        await GuildConfigStore(database, clock).set_budget(GUILD, "monthly", 36_000)
        for month in range(3):
            clock.set(NOON + month * 31 * 86_400)
            first = await adms[0].admit(
                new_job(user=1, count=4, price=6_000),
                RequestContext(user_id=1, guild_id=GUILD, channel_id=CHANNEL),
            )
            assert isinstance(first, Job)  # 24,000 of 36,000: 12,000 left, one request's worth
            results = await asyncio.gather(
                *(
                    adm.admit(
                        new_job(user=user, count=2, price=6_000),
                        RequestContext(user_id=user, guild_id=GUILD, channel_id=CHANNEL),
                    )
                    for adm, user in ((adms[0], 2), (adms[1], 3))
                )
            )
            assert sorted(getattr(r, "reason", "admitted") for r in results) == [
                "admitted",
                "guild_monthly_budget",
            ], month
    finally:
        await second.close()


async def test_the_bot_budget_holds_across_servers_and_processes(database: Database) -> None:
    """Different users in different servers (no server or user lock in common) race through
    two connections for the bot's last dollars: exactly the budget is admitted, and the 100 %
    notice is recorded once."""
    clock = FakeClock()
    second = await open_database(url_of(database))
    try:
        adms = [
            make_admission(
                JobStore(d, clock), GuildConfigStore(d, clock), clock, bot_monthly_budget="0.05"
            )
            for d in (database, second)
        ]
        results = await asyncio.gather(
            *(
                adms[i % 2].admit(
                    new_job(user=i, guild=GUILD + i, count=1, price=10_000),
                    RequestContext(user_id=i, guild_id=GUILD + i, channel_id=CHANNEL),
                )
                for i in range(8)
            )
        )
        assert sum(isinstance(r, Job) for r in results) == 5
        assert {getattr(r, "reason", None) for r in results} == {None, "bot_monthly_budget"}
        spent = await database.fetchval("SELECT SUM(cost_micros) FROM jobs")
        assert int(spent) == 50_000
        notices = await database.fetchall("SELECT scope, kind FROM budget_notices ORDER BY kind")
        assert notices == [{"scope": "bot", "kind": "100"}, {"scope": "bot", "kind": "80"}]
    finally:
        await second.close()
