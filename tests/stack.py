"""The whole bot on a real stack (fixtures `stack`, `stack_factory`).

Real discord.py on the fake Discord, the fake CometAPI, a real SQLite file.
`stack.restart()` replaces the bot with a fresh one on the same database, as a restart would.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.catalog import load_catalog
from bot.edge.app import ImageBot
from bot.services import Services, build_services
from bot.settings import load_settings
from bot.storage import open_database
from tests.fakes.cometapi import FakeCometAPI
from tests.fakes.discord import FakeDiscord, running_client


class ShiftedClock:
    """The system clock, shifted by `offset` seconds that a test may move forward."""

    def __init__(self) -> None:
        self.offset = 0.0

    def advance(self, seconds: float) -> None:
        self.offset += seconds

    def now(self) -> float:
        return time.time() + self.offset

    def monotonic(self) -> float:
        return time.monotonic() + self.offset

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


@dataclass
class Stack:
    discord: FakeDiscord
    api: FakeCometAPI
    db_url: str
    env: dict[str, str]
    session: aiohttp.ClientSession
    running: Any = None
    opened: list[Any] = field(default_factory=list)
    settings_overrides: dict[str, Any] = field(default_factory=dict)
    clock: ShiftedClock = field(default_factory=ShiftedClock)  # the bot's, on every restart

    @property
    def bot(self) -> ImageBot:
        return self.running.client

    @property
    def services(self) -> Services:
        return self.bot.services

    async def build_bot(self) -> ImageBot:
        settings = load_settings(self.env)
        if self.settings_overrides:
            # Values the environment cannot express (a sub-second timeout) for fast tests.
            settings = dataclasses.replace(settings, **self.settings_overrides)
        db = await open_database(self.db_url)
        self.opened.append(db)
        catalog = load_catalog(settings.models_file)
        services = build_services(settings, db, self.session, catalog, clock=self.clock)
        bot = ImageBot(services)
        # discord.py waits 5 s before a non-initial IDENTIFY; a test restart need not.
        bot.before_identify_hook = _no_wait  # type: ignore[method-assign]
        return bot

    async def restart(self) -> None:
        """Stop the bot (scheduler, gateway) and start a fresh one on the same database."""
        await self.running.stop()
        for db in self.opened:
            await db.close()
        self.opened.clear()
        bot = await self.build_bot()
        self.running.factory = lambda: bot
        await self.running.start()

    async def wait_job(self, job_id: int, *statuses: str, timeout: float = 10) -> Any:
        """Wait until the job reaches one of `statuses`."""
        return await self._wait(
            job_id, lambda job: job.status.value in statuses, f"in {statuses}", timeout
        )

    async def wait_notified(self, job_id: int, *, timeout: float = 10) -> Any:
        """Wait until the job's user has been told its outcome (the `notified` mark)."""
        return await self._wait(job_id, lambda job: job.notified, "reported to its user", timeout)

    async def _wait(self, job_id: int, done: Any, what: str, timeout: float) -> Any:
        # The job row is the source of truth; polling it every 20 ms is cheap and the
        # scheduler offers no cross-bot event a restarted test bot could await.
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            job = await self.services.jobs.get(job_id)
            if job is not None and done(job):
                return job
            if loop.time() > deadline:
                state = job.status.value if job else "missing"
                raise AssertionError(f"job {job_id} not {what} after {timeout}s ({state})")
            await asyncio.sleep(0.02)


def png_bytes(width: int = 64, height: int = 64) -> bytes:
    """A real PNG, for attachments users upload."""
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 80, 40)).save(out, "PNG")
    return out.getvalue()


def text(stack: Stack, key: str, locale: str = "en-US", **params: Any) -> str:
    """The sentence the bot should have used."""
    return stack.services.messages.t(locale, key, **params)


async def _no_wait(shard_id: int | None, *, initial: bool = False) -> None:
    return None


def stack_env(
    api: FakeCometAPI, fake: FakeDiscord, tmp_path: Path, **overrides: str
) -> dict[str, str]:
    env = {
        "DISCORD_TOKEN": fake.env()["DISCORD_TOKEN"],
        "COMETAPI_KEY": api.api_key,
        "COMETAPI_BASE_URL": api.base_url,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
        "DEV_GUILD_ID": str(fake.guild.id),
        "USER_DAILY_LIMIT": "0",
        "USER_MAX_ACTIVE_JOBS": "4",
    }
    env.update(overrides)
    return env


@pytest.fixture
async def stack_factory(tmp_path: Path, fake_discord_factory: Any) -> AsyncIterator[Any]:
    """`await make(**env_overrides, api_kwargs=..., world=...)` -> a running Stack.

    `world(fake)` runs before the bot connects: what it adds (a guild, a role, a channel
    overwrite) is in the bot's cache from the first GUILD_CREATE, as on Discord.
    """
    stacks: list[Stack] = []
    apis: list[FakeCometAPI] = []
    exits: list[Any] = []
    session = aiohttp.ClientSession()

    async def make(
        api_kwargs: dict[str, Any] | None = None,
        discord_kwargs: dict[str, Any] | None = None,
        settings_overrides: dict[str, Any] | None = None,
        world: Callable[[FakeDiscord], None] | None = None,
        **overrides: str,
    ) -> Stack:
        api = FakeCometAPI(**{"duration": 0.3, "start_delay": 0.05, **(api_kwargs or {})})
        await api.start()
        apis.append(api)
        fake = await fake_discord_factory(**(discord_kwargs or {}))
        if world is not None:
            # Channels, roles and overwrites set up here reach the bot in GUILD_CREATE.
            world(fake)
        stack = Stack(
            discord=fake,
            api=api,
            db_url=f"sqlite:///{tmp_path / 'bot.db'}",
            env=stack_env(api, fake, tmp_path, **overrides),
            session=session,
            settings_overrides=dict(settings_overrides or {}),
        )
        bot = await stack.build_bot()
        cm = running_client(fake, lambda: bot)
        stack.running = await cm.__aenter__()
        exits.append(cm)
        stacks.append(stack)
        return stack

    try:
        yield make
    finally:
        for cm in reversed(exits):
            with contextlib.suppress(Exception):
                await cm.__aexit__(None, None, None)
        for stack in stacks:
            for db in stack.opened:
                await db.close()
        for api in apis:
            await api.close()
        await session.close()


@pytest.fixture
async def stack(stack_factory: Any) -> Stack:
    """The default stack: predictions take 0.3 s, one guild, commands synced to it."""
    return await stack_factory()
