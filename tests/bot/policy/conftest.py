"""Shared fixtures for the policy tests: a real SQLite file and a clock the test moves."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.storage import Database, open_database
from bot.storage.guild_config import GuildConfigStore
from bot.storage.jobs import JobStore
from tests.bot.policy.helpers import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await open_database(f"sqlite:///{tmp_path / 'bot.db'}")
    try:
        yield database
    finally:
        await database.close()


@pytest.fixture
def jobs(db: Database, clock: FakeClock) -> JobStore:
    return JobStore(db, clock)


@pytest.fixture
def config(db: Database, clock: FakeClock) -> GuildConfigStore:
    return GuildConfigStore(db, clock)
