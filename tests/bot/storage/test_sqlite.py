"""SQLite backend: transactions run inline (no thread hops), yet never block the event loop."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

import bot.storage.sqlite as sqlite_backend
from bot.storage.sqlite import SQLiteDatabase


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[SQLiteDatabase]:
    database = await SQLiteDatabase.open(str(tmp_path / "bot.db"))
    await database.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)")
    try:
        yield database
    finally:
        await database.close()


def _record_hops(db: SQLiteDatabase) -> list[str]:
    """The SQL of every call queued on aiosqlite's worker thread from now on."""
    hops: list[str] = []
    original = db._conn._execute

    async def recording(fn: Any, *args: Any, **kwargs: Any) -> Any:
        hops.append(str(args[0]) if args else getattr(fn, "__name__", "?"))
        return await original(fn, *args, **kwargs)

    db._conn._execute = recording  # type: ignore[method-assign]
    return hops


async def test_a_transaction_takes_no_thread_hop(db: SQLiteDatabase) -> None:
    """BEGIN, the body and COMMIT run inline: a transaction costs no worker round trip."""
    hops = _record_hops(db)
    async with db.transaction(lock="t") as tx:
        for i in range(20):
            await tx.execute("INSERT INTO t (v) VALUES (?)", str(i))
        assert await tx.fetchval("SELECT COUNT(*) FROM t") == 20
        assert (await tx.fetchone("SELECT v FROM t WHERE id = ?", 3)) == {"v": "2"}
        assert len(await tx.fetchall("SELECT * FROM t")) == 20
    assert hops == []
    assert await db.fetchval("SELECT COUNT(*) FROM t") == 20


async def test_an_error_in_the_body_rolls_everything_back(db: SQLiteDatabase) -> None:
    """A failing body leaves no row behind, and the database is usable at once."""
    with pytest.raises(RuntimeError):
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO t (v) VALUES (?)", "kept?")
            raise RuntimeError("boom")
    assert await db.fetchval("SELECT COUNT(*) FROM t") == 0
    async with db.transaction() as tx:
        assert await tx.execute("INSERT INTO t (v) VALUES (?)", "after") == 1
    assert await db.fetchval("SELECT v FROM t") == "after"


async def test_a_writer_in_another_process_is_waited_for_off_the_loop(
    db: SQLiteDatabase, tmp_path: Path
) -> None:
    """While another connection holds the write lock, the loop keeps running; then it commits."""
    other = sqlite3.connect(tmp_path / "bot.db", isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")

        async def write() -> None:
            async with db.transaction() as tx:
                await tx.execute("INSERT INTO t (v) VALUES (?)", "waited")

        task = asyncio.create_task(write())
        ticks = 0
        for _ in range(5):  # each tick needs the loop: a BEGIN blocking it would stop them
            await asyncio.sleep(0.02)
            ticks += 1
        assert ticks == 5 and not task.done()
        other.execute("COMMIT")
        await asyncio.wait_for(task, 5)
    finally:
        other.close()
    assert await db.fetchval("SELECT v FROM t") == "waited"


async def test_the_wal_is_checkpointed_beside_the_writer(
    db: SQLiteDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every CHECKPOINT_EVERY writes, one checkpoint runs on its own connection, lock-free."""
    monkeypatch.setattr(sqlite_backend, "CHECKPOINT_EVERY", 3)
    seen: list[tuple[object, bool]] = []
    original = sqlite_backend._execute

    async def recording(conn: Any, sql: str, params: tuple[Any, ...]) -> int:
        if "wal_checkpoint" in sql:
            seen.append((conn, db._lock.locked()))
        return await original(conn, sql, params)

    monkeypatch.setattr(sqlite_backend, "_execute", recording)
    for round_ in range(2):
        for i in range(3):
            async with db.transaction() as tx:
                await tx.execute("INSERT INTO t (v) VALUES (?)", f"{round_}-{i}")
        assert db._checkpointer is not None
        await db._checkpointer
    async with db.transaction() as tx:
        await tx.execute("INSERT INTO t (v) VALUES (?)", "one more")
    assert db._checkpointer.done()
    assert len(seen) == 2
    for conn, locked in seen:
        assert conn is not db._conn and conn is not db._reader and not locked
    assert await db.fetchval("PRAGMA wal_autocheckpoint") == 0
    assert await db.fetchval("SELECT COUNT(*) FROM t") == 7


async def test_reads_do_not_wait_for_the_writer(db: SQLiteDatabase) -> None:
    """A SELECT outside a transaction is answered while the writer's lock is held."""
    await db.execute("INSERT INTO t (v) VALUES (?)", "committed")
    async with db._lock:  # a long write on the worker thread holds the writer
        row = await asyncio.wait_for(db.fetchone("SELECT v FROM t WHERE id = 1"), 5)
        rows = await asyncio.wait_for(db.fetchall("SELECT * FROM t"), 5)
        returning = asyncio.create_task(
            db.fetchone("INSERT INTO t (v) VALUES (?) RETURNING id", "written")
        )
        await asyncio.sleep(0.05)
        assert not returning.done()  # a write waits for the writer, whatever method it uses
    assert row == {"v": "committed"} and len(rows) == 1
    assert await returning == {"id": 2}


async def test_a_read_sees_what_was_just_committed(db: SQLiteDatabase) -> None:
    """The read connection sees every write that returned before it, at once."""
    for i in range(20):
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO t (v) VALUES (?)", str(i))
        assert await db.fetchval("SELECT COUNT(*) FROM t") == i + 1
        await db.execute("UPDATE t SET v = ? WHERE id = ?", f"u{i}", i + 1)
        assert await db.fetchval("SELECT v FROM t WHERE id = ?", i + 1) == f"u{i}"
