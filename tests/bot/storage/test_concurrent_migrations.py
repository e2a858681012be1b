"""Several processes starting together on an empty database: migrations are serialized (an
advisory lock on PostgreSQL, the writer lock on SQLite), so every process starts and each
migration is applied exactly once."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.storage import Database
from bot.storage.migrations import bundled_migrations
from tests.backends import BACKENDS, make_database, pg_available, pg_skip_reason, url_of

ROOT = Path(__file__).resolve().parents[3]

# One process: wait for the common start time, migrate, print the versions it applied.
_CHILD = """
import asyncio, json, sys, time
from bot.storage import apply_migrations, open_database

async def main(url, start_at):
    db = await open_database(url, migrate=False)
    try:
        time.sleep(max(0.0, start_at - time.time()))
        print(json.dumps(await apply_migrations(db)))
    finally:
        await db.close()

asyncio.run(main(sys.argv[1], float(sys.argv[2])))
"""


@pytest.fixture(params=BACKENDS)
async def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """A database with no tables yet, on each backend."""
    if request.param == "postgresql" and not pg_available():
        pytest.skip(pg_skip_reason())
    db = await make_database(request.param, tmp_path, migrate=False)
    try:
        yield db
    finally:
        await db.close()


async def test_processes_migrating_an_empty_database_at_once_all_start(
    empty_database: Database,
) -> None:
    """Three processes migrate one empty database at the same instant: all succeed, one applies."""
    url = url_of(empty_database)
    start_at = time.time() + 1.5  # after every interpreter has imported and connected
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            _CHILD,
            url,
            str(start_at),
            cwd=ROOT,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        for _ in range(3)
    ]
    outputs = [await asyncio.wait_for(p.communicate(), 60) for p in processes]
    for process, (_, err) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, err.decode()
    applied = sorted((json.loads(out) for out, _ in outputs), key=len)
    versions = [m.version for m in bundled_migrations()]
    assert applied == [[], [], versions]
    rows = await empty_database.fetchall("SELECT version FROM schema_migrations ORDER BY version")
    assert [r["version"] for r in rows] == versions
