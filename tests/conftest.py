"""Shared fixtures: `database` runs a test once per storage backend."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.storage import Database
from tests.backends import BACKENDS, make_database, pg_available, pg_skip_reason

# The fake Discord's fixtures (`fake_discord`, `fake_discord_factory`) for every suite.
pytest_plugins = ["tests.fakes.discord.fixtures", "tests.stack"]


@pytest.fixture(params=BACKENDS)
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """A migrated, empty database on each backend; closed (a PostgreSQL one dropped) after."""
    if request.param == "postgresql" and not pg_available():
        pytest.skip(pg_skip_reason())
    db = await make_database(request.param, tmp_path)
    try:
        yield db
    finally:
        await db.close()
