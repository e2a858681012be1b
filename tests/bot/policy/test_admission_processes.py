"""Admission across processes: limits counted over every server hold when two processes (two
connections) admit one user's requests in two servers at the same instant, on both backends."""

from __future__ import annotations

import asyncio

from bot.jobs.model import Job
from bot.policy import RequestContext
from bot.storage import Database, open_database
from bot.storage.guild_config import GuildConfigStore
from bot.storage.jobs import JobStore
from tests.backends import url_of
from tests.bot.policy.helpers import CHANNEL, GUILD, OTHER_GUILD, FakeClock, make_admission, new_job


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
