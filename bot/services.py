"""The core's objects, built once by the composition root and handed to the Discord layer.

Discord-free: a test can build the same container without a bot.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.clock import Clock, SystemClock
from bot.settings import Settings
from bot.storage.base import Database
from bot.storage.jobs import JobStore

if TYPE_CHECKING:
    import aiohttp

    from bot.catalog import Catalog
    from bot.cometapi import PredictionClient
    from bot.i18n import Messages
    from bot.policy import Admission, UsageReport
    from bot.storage.guild_config import GuildConfigStore
    from bot.storage.usage import UsageStore


@dataclass
class Services:
    settings: Settings
    db: Database
    session: aiohttp.ClientSession
    clock: Clock
    jobs: JobStore
    catalog: Catalog
    messages: Messages
    client: PredictionClient
    guild_config: GuildConfigStore
    admission: Admission
    usage: UsageStore  # the SQL behind quotas and reports
    usage_report: UsageReport  # /usage, the CSV export and /forget-me
    scheduler: Any = None  # set by the bot once its presenter exists


def build_services(
    settings: Settings,
    db: Database,
    session: aiohttp.ClientSession,
    catalog: Catalog,
    *,
    clock: Clock | None = None,
) -> Services:
    from bot.cometapi import PredictionClient
    from bot.i18n import Messages
    from bot.policy import Admission, UsageReport
    from bot.storage.guild_config import GuildConfigStore

    clock = clock or SystemClock()
    jobs = JobStore(db, clock)
    guild_config = GuildConfigStore(db, clock)
    admission = Admission(store=jobs, config=guild_config, defaults=settings, clock=clock)
    # One UsageStore: it caches the /forget-me salt that admission's quota checks read.
    usage = admission.usage
    return Services(
        settings=settings,
        db=db,
        session=session,
        clock=clock,
        jobs=jobs,
        catalog=catalog,
        messages=Messages.load(),
        client=PredictionClient(
            session,
            base_url=settings.cometapi_base_url,
            api_key=settings.cometapi_key,
            prefer_wait=settings.cometapi_prefer_wait or None,
        ),
        guild_config=guild_config,
        admission=admission,
        usage=usage,
        usage_report=UsageReport(usage=usage, admission=admission, clock=clock),
    )
