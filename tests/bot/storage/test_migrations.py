"""Storage foundation: the SQLite file is created with WAL, and migrations run once."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bot.storage import StorageError, apply_migrations, open_database
from bot.storage.migrations import Migration, bundled_migrations


async def test_open_creates_folder_and_applies_every_migration(tmp_path: Path) -> None:
    """A fresh sqlite URL creates its folder, enables WAL and foreign keys, and migrates."""
    path = tmp_path / "nested" / "dir" / "bot.db"
    db = await open_database(f"sqlite:///{path}")
    try:
        assert path.exists()
        assert await db.fetchval("PRAGMA journal_mode") == "wal"
        assert await db.fetchval("PRAGMA foreign_keys") == 1
        versions = [
            r["version"] for r in await db.fetchall("SELECT version FROM schema_migrations")
        ]
        assert versions == [m.version for m in bundled_migrations()]
        assert await db.fetchval("SELECT COUNT(*) FROM jobs") == 0
    finally:
        await db.close()


async def test_rerunning_migrations_is_a_no_op(tmp_path: Path) -> None:
    """Opening the same file again applies nothing and keeps the data."""
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    db = await open_database(url)
    await db.execute(
        "INSERT INTO jobs (status, kind, user_id, model, created_at, updated_at)"
        " VALUES ('queued', 'imagine', 1, 'a/b', 0, 0)"
    )
    await db.close()
    db = await open_database(url)
    try:
        assert await apply_migrations(db) == []
        assert await db.fetchval("SELECT COUNT(*) FROM jobs") == 1
    finally:
        await db.close()


async def test_a_new_migration_applies_once_and_a_broken_one_rolls_back(tmp_path: Path) -> None:
    """A later migration is applied once; a failing one leaves no half-made schema."""
    db = await open_database(f"sqlite:///{tmp_path / 'bot.db'}")
    try:
        extra = [
            *bundled_migrations(),
            Migration(900, "900_extra.sql", "CREATE TABLE extra (id {{id}});"),
        ]
        assert await apply_migrations(db, extra) == [900]
        assert await apply_migrations(db, extra) == []
        broken = [
            *extra,
            Migration(901, "901_broken.sql", "CREATE TABLE half (id INTEGER);\nNOT SQL AT ALL;"),
        ]
        with pytest.raises(sqlite3.OperationalError):
            await apply_migrations(db, broken)
        tables = {r["name"] for r in await db.fetchall("SELECT name FROM sqlite_master")}
        assert "extra" in tables and "half" not in tables
    finally:
        await db.close()


async def test_unwritable_path_is_one_sentence(tmp_path: Path) -> None:
    """A database path whose folder cannot be made gives a StorageError sentence, not a trace."""
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StorageError) as caught:
        await open_database(f"sqlite:///{blocker / 'sub' / 'bot.db'}")
    assert "DATABASE_URL" in str(caught.value)


async def test_transactions_roll_back_on_error(tmp_path: Path) -> None:
    """An exception inside a transaction leaves nothing written."""
    db = await open_database(f"sqlite:///{tmp_path / 'bot.db'}")
    try:
        with pytest.raises(RuntimeError):
            async with db.transaction() as tx:
                await tx.execute(
                    "INSERT INTO jobs (status, kind, user_id, model, created_at, updated_at)"
                    " VALUES ('queued', 'imagine', 1, 'a/b', 0, 0)"
                )
                raise RuntimeError("boom")
        assert await db.fetchval("SELECT COUNT(*) FROM jobs") == 0
    finally:
        await db.close()
