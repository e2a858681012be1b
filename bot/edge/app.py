"""The discord.py bot: extensions, buttons, the command tree's error handler, and the scheduler.

The bot owns what needs a live Discord connection: the presenter (the scheduler's window onto
Discord), the scheduler, and the log channel mirror. They are built with the bot from the
core's services, started in `setup_hook`, and stopped in `close()` before the gateway goes
away. The runner (`bot.edge.runner`) owns the HTTP session and the database underneath.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import pkgutil
import secrets
import socket
from collections.abc import Iterable

import discord
from discord.ext import commands

from bot.edge.buttons import DYNAMIC_ITEMS
from bot.edge.errors import install_error_handler
from bot.edge.logchannel import LogChannelMirror
from bot.edge.presenter import DiscordPresenter
from bot.edge.translator import CatalogTranslator
from bot.loop_monitor import LoopMonitor
from bot.scheduler import JobScheduler, SchedulerConfig
from bot.services import Services

log = logging.getLogger(__name__)


def discover_extensions() -> list[str]:
    """Every module in cogs/ not starting with `_` is an extension.

    Found by location, without importing the package: the cogs import the edge, never the
    other way round.
    """
    spec = importlib.util.find_spec("cogs")
    locations = list(spec.submodule_search_locations or []) if spec else []
    return sorted(
        f"cogs.{m.name}" for m in pkgutil.iter_modules(locations) if not m.name.startswith("_")
    )


def process_owner_id() -> str:
    """Who holds a job's lease: this host, this process, this start (a restart is a new owner)."""
    return f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"


def build_scheduler(services: Services, presenter: DiscordPresenter) -> JobScheduler:
    settings = services.settings
    config = SchedulerConfig(
        max_concurrent=settings.max_concurrent_jobs,
        job_timeout=settings.job_timeout_seconds,
        # Several processes may share a PostgreSQL database (docs/decisions/011): each start
        # is a new owner, so a job leased to a crashed run is never mistaken for ours.
        owner_id=process_owner_id(),
        lease_seconds=settings.job_lease_seconds,
        # SQLite has one process by definition: at start it takes every unfinished job at
        # once instead of waiting for its previous run's leases to lapse.
        sole_owner=services.db.dialect == "sqlite",
    )
    return JobScheduler(
        store=services.jobs,
        client=services.client,
        presenter=presenter,
        config=config,
        clock=services.clock,
    )


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
        self.presenter = DiscordPresenter(self, services)
        self.scheduler = build_scheduler(services, self.presenter)
        self.log_mirror = LogChannelMirror(self, services)
        self.loop_monitor = LoopMonitor()  # event-loop lag, summarized on close
        self._start_scheduler = start_scheduler
        self._sync_dev_guild = sync_dev_guild
        self._extensions = list(extensions) if extensions is not None else discover_extensions()
        self.failed_extensions: dict[str, str] = {}

    @property
    def runs_shard_zero(self) -> bool:
        ids = self.services.settings.shard_ids
        return ids is None or 0 in ids

    async def setup_hook(self) -> None:
        await self.tree.set_translator(CatalogTranslator(self.services.messages))
        install_error_handler(self.tree, self.services.messages)
        # Buttons are matched by custom_id from here on, whichever message carries them.
        self.add_dynamic_items(*DYNAMIC_ITEMS)
        for name in self._extensions:
            # One broken cog must never stop the bot: log it and go on with the rest.
            try:
                await self.load_extension(name)
            except Exception as exc:
                self.failed_extensions[name] = repr(exc)
                log.exception("extension %s failed to load", name)
        if self._start_scheduler:
            # Attached before start so jobs recovered at start are mirrored too.
            self.log_mirror.attach(self.scheduler)
            await self.scheduler.start()
        guild_id = self.services.settings.dev_guild_id
        if self._sync_dev_guild and guild_id and self.runs_shard_zero:
            guild = discord.Object(id=guild_id)
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
            log.info("synced %d commands to development guild %s", len(synced), guild_id)
        self.loop_monitor.start()

    async def close(self) -> None:
        # The scheduler stops first so no job is half-way through a Discord call when the
        # gateway and HTTP client go away.
        if self._start_scheduler:
            try:
                await self.scheduler.stop()
            except Exception:
                log.exception("scheduler did not stop cleanly")
        await self.log_mirror.close()
        await super().close()
        await self.loop_monitor.stop()  # logs `loop-lag max=XXms` once
