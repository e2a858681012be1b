"""Run a real discord.py client against a FakeDiscord, and restart it like a redeploy would."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Generic, TypeVar

import discord
import discord.gateway
import discord.http
import yarl

from .harness import FakeDiscord

ClientT = TypeVar("ClientT", bound=discord.Client)


@contextlib.contextmanager
def pointed_at(fake: FakeDiscord) -> Iterator[None]:
    """Point discord.py's REST base and default gateway at the fake; restore them afterwards."""
    old_base = discord.http.Route.BASE
    old_gateway = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    discord.http.Route.BASE = fake.api_base
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(fake.gateway_url)
    try:
        yield
    finally:
        discord.http.Route.BASE = old_base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = old_gateway


class RunningClient(Generic[ClientT]):
    """A started client; `restart()` stops it and starts a fresh one from the same factory."""

    def __init__(
        self,
        fake: FakeDiscord,
        factory: Callable[[], ClientT],
        *,
        token: str | None = None,
        ready_timeout: float = 10,
        guild_ready_timeout: float | None = 0.05,
    ) -> None:
        self.fake = fake
        self.factory = factory
        self.token = token or fake.token
        self.ready_timeout = ready_timeout
        self.guild_ready_timeout = guild_ready_timeout
        self._client: ClientT | None = None
        self.starts = 0
        self._task: asyncio.Task[None] | None = None

    @property
    def client(self) -> ClientT:
        """The running client (a new object after each restart)."""
        if self._client is None:
            raise RuntimeError("the client is not running")
        return self._client

    async def start(self) -> ClientT:
        client = self.factory()
        if self.guild_ready_timeout is not None:
            # discord.py waits this long after the last GUILD_CREATE before `ready` (2 s by
            # default); the fake sends every guild at once, so a short wait is enough.
            client._connection.guild_ready_timeout = self.guild_ready_timeout
        self._client = client
        try:
            await client.login(self.token)  # REST login, then setup_hook (where bots sync)
            self._task = asyncio.create_task(
                client.connect(reconnect=True), name="fake-discord-client"
            )
            ready = asyncio.create_task(client.wait_until_ready())
            done, _ = await asyncio.wait(
                {self._task, ready}, timeout=self.ready_timeout, return_when=asyncio.FIRST_COMPLETED
            )
            if ready not in done:
                ready.cancel()
                if self._task in done:
                    # Raises what stopped the client (bad token, gateway closed...).
                    await self._task
                raise TimeoutError(f"client not ready after {self.ready_timeout}s")
        except BaseException:
            await self.stop()
            raise
        self.starts += 1
        return client

    async def stop(self) -> None:
        client, task = self._client, self._task
        self._client, self._task = None, None
        if client is not None:
            await client.close()
        if task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def restart(self) -> ClientT:
        """Stop the client (its gateway session ends) and start a new one from the factory."""
        await self.stop()
        return await self.start()


@contextlib.asynccontextmanager
async def running_client(
    fake: FakeDiscord,
    client_factory: Callable[[], ClientT],
    *,
    token: str | None = None,
    ready_timeout: float = 10,
    guild_ready_timeout: float | None = 0.05,
) -> AsyncIterator[RunningClient[ClientT]]:
    """Start `client_factory()` against `fake`, wait for `ready`, and stop it on exit."""
    with pointed_at(fake):
        runner = RunningClient(
            fake,
            client_factory,
            token=token,
            ready_timeout=ready_timeout,
            guild_ready_timeout=guild_ready_timeout,
        )
        await runner.start()
        try:
            yield runner
        finally:
            await runner.stop()


__all__ = ["RunningClient", "pointed_at", "running_client"]
