"""The composition root: open the HTTP session and the database once, build everything, then
run the bot until asked to stop, or only register the slash commands.

One owner per resource: `opened()` opens the session and the database and closes them in
reverse order; the bot owns the scheduler and stops it before the gateway closes. A setting
that cannot be used (an unreachable database, a refused token) becomes a `StartupError`: one
sentence for the operator, exit code 2.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import aiohttp
import discord
import yarl

from bot import heartbeat, retention
from bot.catalog import Catalog
from bot.edge.app import ImageBot
from bot.errors import StartupError
from bot.eventloop import freeze_startup_heap
from bot.services import Services, build_services
from bot.settings import Settings
from bot.storage import StorageError, open_database
from bot.storage.retention import JobRetention

log = logging.getLogger(__name__)

TOKEN_REFUSED = (
    "DISCORD_TOKEN was refused by Discord: reset the token in the Developer Portal "
    "(Bot → Reset Token) and update .env."
)


MISSING_ACCESS = (
    "Discord answered Missing Access for server {guild}: the bot is not in that server, or was "
    "invited without the applications.commands scope; open the invite URL that "
    "`python -m bot check --online` prints, authorize the bot on that server, and sync again."
)


def http_connection_limit(settings: Settings) -> int:
    """Connections to CometAPI at once (aiohttp's default is 100).

    With `COMETAPI_PREFER_WAIT` every running prediction holds one for its whole duration, so
    the pool grows with the concurrency cap: at 100 the benchmark's predictions beyond the
    100th waited seconds for a connection, their downloads too. Twice the cap leaves room for
    polls and downloads beside the held creates.
    """
    return max(100, 2 * settings.max_concurrent_jobs)


def point_discord_at(api_base: str | None, gateway: str | None) -> None:
    """Send discord.py's REST and gateway traffic elsewhere (tests, benchmarks)."""
    if api_base:
        discord.http.Route.BASE = api_base
    if gateway:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway)


@contextlib.asynccontextmanager
async def opened(settings: Settings, catalog: Catalog) -> AsyncIterator[Services]:
    """The session and the database, opened once, and the core built on them."""
    point_discord_at(settings.discord_api_base_url, settings.discord_gateway_url)
    connector = aiohttp.TCPConnector(limit=http_connection_limit(settings))
    async with aiohttp.ClientSession(connector=connector) as session:
        try:
            db = await open_database(settings.database_url)
        except StorageError as exc:
            raise StartupError(str(exc)) from None
        try:
            yield build_services(settings, db, session, catalog)
        finally:
            await db.close()


def _token(settings: Settings) -> str:
    if settings.discord_token is None:  # load_settings requires it for these commands
        raise StartupError("DISCORD_TOKEN is not set: put the bot token in .env.")
    return str(settings.discord_token)


async def run(settings: Settings, catalog: Catalog, stop: asyncio.Event) -> int:
    """Run the bot until `stop` is set; exit code 0 after a clean shutdown."""
    token = _token(settings)
    async with opened(settings, catalog) as services:
        bot = ImageBot(services)
        async with bot, _heartbeat(settings, bot), _retention(services):
            runner = asyncio.create_task(bot.start(token))
            waiter = asyncio.create_task(stop.wait())
            freezer = asyncio.create_task(_freeze_when_ready(bot))
            done, _ = await asyncio.wait({runner, waiter}, return_when=asyncio.FIRST_COMPLETED)
            freezer.cancel()
            if runner in done:
                waiter.cancel()
                failure = runner.exception()
                if isinstance(failure, discord.LoginFailure):
                    raise StartupError(TOKEN_REFUSED)
                if failure is not None:
                    raise failure
                return 0
            log.info("shutting down")
            await bot.close()
            runner.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await runner
    log.info("stopped cleanly")
    return 0


async def _freeze_when_ready(bot: ImageBot) -> None:
    """Once the bot is connected, exempt what start-up built from garbage collection."""
    await bot.wait_until_ready()
    freeze_startup_heap()


@contextlib.asynccontextmanager
async def _heartbeat(settings: Settings, bot: ImageBot) -> AsyncIterator[None]:
    """With HEALTH_FILE set, touch it while the bot is connected (`python -m bot health`)."""
    if settings.health_file is None:
        yield
        return
    task = asyncio.create_task(
        heartbeat.beat(settings.health_file, lambda: bot.is_ready() and not bot.is_closed()),
        name="heartbeat",
    )
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@contextlib.asynccontextmanager
async def _retention(services: Services) -> AsyncIterator[None]:
    """With RETENTION_DAYS above 0, erase old prompts and inputs once a day while running."""
    days = services.settings.retention_days
    if days <= 0:
        yield
        return
    task = asyncio.create_task(
        retention.keep_erasing(JobRetention(services.db, services.clock), days, services.clock),
        name="retention",
    )
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def sync(settings: Settings, catalog: Catalog, guild_id: int | None) -> int:
    """Log in over HTTP only, register the commands (on one guild or globally), and leave."""
    token = _token(settings)
    async with opened(settings, catalog) as services:
        bot = ImageBot(services, start_scheduler=False, sync_dev_guild=False)
        async with bot:
            try:
                await bot.login(token)
            except discord.LoginFailure:
                raise StartupError(TOKEN_REFUSED) from None
            if guild_id is not None:
                guild = discord.Object(id=guild_id)
                bot.tree.copy_global_to(guild=guild)
                try:
                    synced = await bot.tree.sync(guild=guild)
                except discord.Forbidden:
                    raise StartupError(MISSING_ACCESS.format(guild=guild_id)) from None
                print(f"Synced {len(synced)} commands to server {guild_id}.")
            else:
                synced = await bot.tree.sync()
                print(
                    f"Synced {len(synced)} commands globally "
                    "(Discord may take up to an hour to show them everywhere)."
                )
    return 0
