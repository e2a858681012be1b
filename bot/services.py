"""The core's objects, built once by the runner and handed to the Discord edge, fully built.

Discord-free: a test, the benchmark or a CLI command can build the same container without a
bot. The scheduler is not here: it needs the Discord presenter, so the bot builds it from these
(`bot.edge.app.ImageBot`) and owns it.
"""

from __future__ import annotations

from dataclasses import dataclass

import aiohttp

from bot.catalog import Catalog
from bot.clock import Clock, SystemClock
from bot.cometapi import ClientTuning, PredictionClient
from bot.i18n import Messages
from bot.policy import Admission, UsageReport
from bot.settings import Settings
from bot.storage.base import Database
from bot.storage.guild_config import GuildConfigStore
from bot.storage.jobs import JobStore
from bot.storage.preferences import PreferenceStore
from bot.storage.styles import StyleStore
from bot.storage.usage import UsageStore


@dataclass(frozen=True)
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
    preferences: PreferenceStore  # /prefs: each member's defaults, in every server
    styles: StyleStore  # /settings style: each server's styles


def build_services(
    settings: Settings,
    db: Database,
    session: aiohttp.ClientSession,
    catalog: Catalog,
    *,
    clock: Clock | None = None,
) -> Services:
    clock = clock or SystemClock()
    jobs = JobStore(db, clock)
    # The environment's limits are the ceilings a server's /settings stay within.
    guild_config = GuildConfigStore(db, clock, operator=settings)
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
            tuning=ClientTuning(prefer_wait=settings.cometapi_prefer_wait or None),
        ),
        guild_config=guild_config,
        admission=admission,
        usage=usage,
        usage_report=UsageReport(usage=usage, admission=admission, clock=clock),
        preferences=PreferenceStore(db, clock),
        styles=StyleStore(db, clock),
    )
