"""Two `python -m bot` processes on two shards share one PostgreSQL database: one is killed in
the middle of running jobs, and the survivor delivers every job exactly once, with the global
concurrency cap held across both (issue 11)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from tests.backends import (
    create_postgres_database,
    drop_postgres_database,
    pg_available,
    pg_skip_reason,
)
from tests.fakes.cometapi import FakeCometAPI
from tests.fakes.discord import FakeDiscord
from tests.fakes.discord.fixtures import FakeDiscordFactory
from tests.fakes.discord.records import FakeInteraction, RecordedRequest

ROOT = Path(__file__).resolve().parents[2]
LEASE = 5  # JOB_LEASE_SECONDS: the settings' minimum, so the takeover comes quickly
CAP = 3  # MAX_CONCURRENT_JOBS, for both processes together

pytestmark = pytest.mark.skipif(not pg_available(), reason=pg_skip_reason())


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    """An empty throwaway PostgreSQL database (the bots migrate it together at start)."""
    url, name = await create_postgres_database()
    try:
        yield url
    finally:
        await drop_postgres_database(name)


async def start_bot(
    fake: FakeDiscord, api: FakeCometAPI, url: str, shard: int, dev_guild: int, tmp_path: Path
) -> tuple[asyncio.subprocess.Process, Path]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "COMETAPI_"))}
    env.update(fake.env())
    env.update(
        {
            "COMETAPI_KEY": api.api_key,
            "COMETAPI_BASE_URL": api.base_url,
            "DATABASE_URL": url,
            "SHARD_COUNT": "2",
            "SHARD_IDS": str(shard),
            "JOB_LEASE_SECONDS": str(LEASE),
            "MAX_CONCURRENT_JOBS": str(CAP),
            "DEV_GUILD_ID": str(dev_guild),
            "PYTHONPATH": str(ROOT),
            "BOT_ENV_FILE": str(tmp_path / "missing.env"),
        }
    )
    log = tmp_path / f"shard{shard}.log"
    with log.open("wb") as out:  # a file, not a pipe: nobody has to drain it
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", cwd=tmp_path, env=env, stdout=out, stderr=out
        )
    return process, log


async def rows(conn: Any, owner_pid: int | None = None) -> list[dict[str, Any]]:
    sql = "SELECT id, status, notified, lease_owner FROM jobs WHERE status <> 'refused'"
    found = [dict(r) for r in await conn.fetch(sql + " ORDER BY id")]
    if owner_pid is None:
        return found
    return [r for r in found if f"-{owner_pid}-" in (r["lease_owner"] or "")]


async def stop_when_no_create_or_delivery_is_under_way(
    process: asyncio.subprocess.Process, conn: Any
) -> None:
    """Freeze the process at a moment when it has a prediction running and no create or
    delivery in flight, so the kill tests the takeover, not the two documented crash windows
    (a create cut short ends "interrupted"; a delivery cut short may be repeated)."""
    async with asyncio.timeout(20):
        while True:
            mine = await rows(conn, process.pid)
            if any(r["status"] == "running" for r in mine):
                process.send_signal(signal.SIGSTOP)
                mine = await rows(conn, process.pid)  # what it had written when it froze
                if not any(r["status"] in ("submitting", "delivering") for r in mine):
                    return
                process.send_signal(signal.SIGCONT)
            await asyncio.sleep(0.02)


def uploads(fake: FakeDiscord) -> list[RecordedRequest]:
    return [r for r in fake.requests if r.files and r.status is not None and r.status < 300]


def peak_running(api: FakeCometAPI) -> int:
    points = []
    for pred in api.predictions.values():
        points += [(pred.created, 1), (pred.finished_at, -1)]
    running = peak = 0
    for _, delta in sorted(points):
        running += delta
        peak = max(peak, running)
    return peak


async def test_two_processes_share_the_work_and_the_survivor_delivers_everything(
    fake_discord_factory: FakeDiscordFactory, postgres_url: str, tmp_path: Path
) -> None:
    """Kill one of two bot processes mid-run: every job is delivered once, by the survivor
    where needed; no prediction is made twice; never more than CAP run; one process syncs."""
    fake = await fake_discord_factory()
    guilds = [fake.add_guild(f"shard {i}", on_shard=(i, 2)) for i in (0, 1)]
    members = [
        [fake.add_user(f"member{g}{n}", guild=guild) for n in range(4)]
        for g, guild in enumerate(guilds)
    ]
    conn = await asyncpg.connect(postgres_url)
    processes: list[asyncio.subprocess.Process] = []
    async with FakeCometAPI(duration=1.5) as api:
        try:
            # Both start at once on the empty database: the migrations serialize.
            started = await asyncio.gather(
                *(start_bot(fake, api, postgres_url, s, guilds[0].id, tmp_path) for s in (0, 1))
            )
            processes = [p for p, _ in started]
            logs = [log for _, log in started]
            for shard in (0, 1):
                await fake.wait_for_gateway(
                    lambda e, s=shard: e.kind == "READY" and e.shard == (s, 2), timeout=30
                )
            await fake.wait_for(lambda r: r.method == "PUT" and "/commands" in r.path, timeout=30)
            fake.preload_commands(fake.commands_synced[guilds[0].id], guild_id=guilds[1].id)

            interactions: dict[int, FakeInteraction] = {}  # by guild index * 10 + n
            for n in range(4):
                for g, guild in enumerate(guilds):
                    channel = next(iter(guild.channels.values()))
                    interactions[g * 10 + n] = await fake.slash(
                        "imagine", prompt=f"job {g}.{n}", user=members[g][n], channel=channel
                    )
            for interaction in interactions.values():
                await interaction.wait_callback()

            victim = processes[1]  # runs shard 1, so it owns the jobs admitted in guild 1
            await stop_when_no_create_or_delivery_is_under_way(victim, conn)
            victim.send_signal(signal.SIGKILL)
            await victim.wait()
            killed_at = fake.clock()
            orphaned = [r["id"] for r in await rows(conn, victim.pid) if r["status"] != "succeeded"]
            assert orphaned, "the killed process held no unfinished job"

            async with asyncio.timeout(30):
                while not all(
                    r["status"] == "succeeded" and r["notified"] for r in await rows(conn)
                ):
                    await asyncio.sleep(0.1)
            final = await rows(conn)
        finally:
            for process in processes:
                if process.returncode is None:
                    process.send_signal(signal.SIGCONT)
                    process.send_signal(signal.SIGTERM)
            for process in processes:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(process.wait(), 20)
                if process.returncode is None:
                    process.kill()
                    await process.wait()
            await conn.close()

    assert len(final) == 8
    # Every job's original message got exactly one result upload, and nothing else got one.
    per_token = Counter(r.token for r in uploads(fake))
    assert per_token == Counter({i.token: 1 for i in interactions.values()})
    # The jobs the dead process left were delivered after it died, by the survivor.
    late = {r.token for r in uploads(fake) if r.time > killed_at}
    assert len(late) >= len(orphaned)
    # No prediction was made twice, and the cap held across both processes.
    prompts = Counter(r.json["input"]["prompt"] for r in api.requests_for("create"))
    assert prompts == Counter({f"job {g}.{n}": 1 for g in (0, 1) for n in range(4)})
    assert peak_running(api) <= CAP
    # One process (the one running shard 0) synced the commands; the other never did.
    assert len([r for r in fake.requests if r.method == "PUT" and "/commands" in r.path]) == 1
    survivor_log = logs[0].read_text()
    assert "taken over from" in survivor_log
    assert "Traceback" not in survivor_log, survivor_log
    assert processes[0].returncode == 0
