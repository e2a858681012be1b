"""The discord.py bot class and the start-up/shutdown sequence around it.

One owner per resource: `build_and_run` opens the HTTP session and the database, the bot
owns the scheduler; they close in reverse order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import pkgutil
import secrets
import socket
from collections.abc import Iterable
from typing import Any

import aiohttp
import discord
import yarl
from discord.ext import commands

import cogs
from bot.loop_monitor import LoopMonitor
from bot.services import Services, build_services
from bot.settings import Settings
from bot.storage import StorageError, open_database

log = logging.getLogger(__name__)


def discover_extensions() -> list[str]:
    """Every module in cogs/ not starting with `_` is an extension."""
    return sorted(
        f"cogs.{m.name}" for m in pkgutil.iter_modules(cogs.__path__) if not m.name.startswith("_")
    )


def process_owner_id() -> str:
    """Who holds a job's lease: this host, this process, this start (a restart is a new owner)."""
    return f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"


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


class ImageBot(commands.AutoShardedBot):
    def __init__(
        self,
        services: Services,
        *,
        start_scheduler: bool = True,
        sync_dev_guild: bool = True,
        extensions: Iterable[str] | None = None,
    ) -> None:
        settings = services.settings
        intents = discord.Intents.none()
        intents.guilds = True  # channel nsfw flags, roles and permissions for the policy checks
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents,
            # Nothing the bot sends pings anyone unless a message opts in explicitly.
            allowed_mentions=discord.AllowedMentions.none(),
            help_command=None,
            shard_count=settings.shard_count,
            shard_ids=list(settings.shard_ids) if settings.shard_ids is not None else None,  # type: ignore[arg-type]
        )
        self.services = services
        self._start_scheduler = start_scheduler
        self._sync_dev_guild = sync_dev_guild
        self._extensions = list(extensions) if extensions is not None else discover_extensions()
        self.failed_extensions: dict[str, str] = {}
        self.log_mirror: Any = None  # bot.discord_logchannel.LogChannelMirror, once started
        self.loop_monitor = LoopMonitor()  # event-loop lag, summarized on close

    @property
    def runs_shard_zero(self) -> bool:
        ids = self.services.settings.shard_ids
        return ids is None or 0 in ids

    async def setup_hook(self) -> None:
        from bot.discord_errors import install_error_handler
        from bot.discord_translator import CatalogTranslator

        await self.tree.set_translator(CatalogTranslator(self.services.messages))
        install_error_handler(self)
        for name in self._extensions:
            # One broken cog must never stop the bot: log it and go on with the rest.
            try:
                await self.load_extension(name)
            except Exception as exc:
                self.failed_extensions[name] = repr(exc)
                log.exception("extension %s failed to load", name)
        if self._start_scheduler:
            await self._start_job_scheduler()
        guild_id = self.services.settings.dev_guild_id
        if self._sync_dev_guild and guild_id and self.runs_shard_zero:
            guild = discord.Object(id=guild_id)
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
            log.info("synced %d commands to development guild %s", len(synced), guild_id)
        self.loop_monitor.start()

    async def _start_job_scheduler(self) -> None:
        from bot.discord_logchannel import LogChannelMirror
        from bot.discord_presenter import DiscordPresenter
        from bot.scheduler import JobScheduler, SchedulerConfig

        s = self.services
        s.scheduler = JobScheduler(
            store=s.jobs,
            client=s.client,
            presenter=DiscordPresenter(self),
            config=SchedulerConfig(
                max_concurrent=s.settings.max_concurrent_jobs,
                job_timeout=s.settings.job_timeout_seconds,
                # Several processes may share a PostgreSQL database (docs/decisions/011): each
                # start is a new owner, so a job leased to a crashed run is never mistaken for
                # ours.
                owner_id=process_owner_id(),
                lease_seconds=s.settings.job_lease_seconds,
                # SQLite has one process by definition: at start it takes every unfinished job
                # at once instead of waiting for its previous run's leases to lapse.
                sole_owner=s.db.dialect == "sqlite",
            ),
            clock=s.clock,
        )
        # Attached before start so jobs recovered at start are mirrored too.
        self.log_mirror = LogChannelMirror(self)
        self.log_mirror.attach(s.scheduler)
        await s.scheduler.start()

    async def close(self) -> None:
        # The scheduler stops first so no job is half-way through a Discord call when the
        # gateway and HTTP client go away.
        scheduler = self.services.scheduler
        if scheduler is not None:
            try:
                await scheduler.stop()
            except Exception:
                log.exception("scheduler did not stop cleanly")
            self.services.scheduler = None
        if self.log_mirror is not None:
            await self.log_mirror.close()
            self.log_mirror = None
        await super().close()
        await self.loop_monitor.stop()  # logs `loop-lag max=XXms` once


async def build_and_run(settings: Settings, catalog: object, stop: asyncio.Event) -> int:
    """Open the session and the database, run the bot until `stop` is set, close in reverse."""
    from bot.__main__ import StartupError

    point_discord_at(settings.discord_api_base_url, settings.discord_gateway_url)
    connector = aiohttp.TCPConnector(limit=http_connection_limit(settings))
    async with aiohttp.ClientSession(connector=connector) as session:
        try:
            db = await open_database(settings.database_url)
        except StorageError as exc:
            raise StartupError(str(exc)) from None
        try:
            services = build_services(settings, db, session, catalog)  # type: ignore[arg-type]
            bot = ImageBot(services)
            assert settings.discord_token is not None
            async with bot:
                runner = asyncio.create_task(bot.start(str(settings.discord_token)))
                waiter = asyncio.create_task(stop.wait())
                done, _ = await asyncio.wait({runner, waiter}, return_when=asyncio.FIRST_COMPLETED)
                if runner in done:
                    waiter.cancel()
                    failure = runner.exception()
                    if isinstance(failure, discord.LoginFailure):
                        raise StartupError(
                            "DISCORD_TOKEN was refused by Discord: reset the token in the "
                            "Developer Portal (Bot → Reset Token) and update .env."
                        )
                    if failure is not None:
                        raise failure
                    return 0
                log.info("shutting down")
                await bot.close()
                runner.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await runner
        finally:
            await db.close()
    log.info("stopped cleanly")
    return 0


async def sync_only(settings: Settings, catalog: object, guild_id: int | None) -> int:
    """Log in over HTTP only, register the commands (on one guild or globally), and leave."""
    from bot.__main__ import StartupError

    point_discord_at(settings.discord_api_base_url, settings.discord_gateway_url)
    async with aiohttp.ClientSession() as session:
        try:
            db = await open_database(settings.database_url)
        except StorageError as exc:
            raise StartupError(str(exc)) from None
        try:
            services = build_services(settings, db, session, catalog)  # type: ignore[arg-type]
            bot = ImageBot(services, start_scheduler=False, sync_dev_guild=False)
            assert settings.discord_token is not None
            async with bot:
                try:
                    await bot.login(str(settings.discord_token))
                except discord.LoginFailure:
                    raise StartupError(
                        "DISCORD_TOKEN was refused by Discord: reset the token in the "
                        "Developer Portal (Bot → Reset Token) and update .env."
                    ) from None
                if guild_id is not None:
                    guild = discord.Object(id=guild_id)
                    bot.tree.copy_global_to(guild=guild)
                    synced = await bot.tree.sync(guild=guild)
                    print(f"Synced {len(synced)} commands to server {guild_id}.")
                else:
                    synced = await bot.tree.sync()
                    print(
                        f"Synced {len(synced)} commands globally "
                        "(Discord may take up to an hour to show them everywhere)."
                    )
        finally:
            await db.close()
    return 0
