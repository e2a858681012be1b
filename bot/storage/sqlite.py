"""SQLite backend (aiosqlite): the embedded default.

One connection, guarded by an asyncio lock: SQLite has one writer anyway, and a shared
connection must never interleave two coroutines' transactions. WAL lets readers of other
processes (the CLI, a backup) proceed while the bot writes.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite

from bot.storage.base import StorageError


class SQLiteDatabase:
    dialect = "sqlite"

    def __init__(self, conn: aiosqlite.Connection, path: str) -> None:
        self._conn = conn
        self._lock = asyncio.Lock()
        self.path = path

    @classmethod
    async def open(cls, path: str) -> SQLiteDatabase:
        if path != ":memory:":
            try:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StorageError(
                    f"DATABASE_URL points at {path!r}, whose folder cannot be created "
                    f"({exc.strerror}): choose a writable path."
                ) from None
        try:
            conn = await aiosqlite.connect(path, isolation_level=None)
        except Exception as exc:
            raise StorageError(
                f"DATABASE_URL points at {path!r}, which cannot be opened ({exc}): "
                "choose a writable path."
            ) from None
        conn.row_factory = aiosqlite.Row
        await conn.execute("PRAGMA journal_mode=WAL")
        await conn.execute("PRAGMA foreign_keys=ON")
        await conn.execute("PRAGMA busy_timeout=5000")
        await conn.execute("PRAGMA synchronous=NORMAL")
        return cls(conn, path)

    # Statements outside a transaction take the lock so they never land inside someone
    # else's open transaction on the shared connection.
    async def execute(self, sql: str, *params: Any) -> int:
        async with self._lock:
            return await _execute(self._conn, sql, params)

    async def fetchone(self, sql: str, *params: Any) -> dict[str, Any] | None:
        async with self._lock:
            return await _fetchone(self._conn, sql, params)

    async def fetchall(self, sql: str, *params: Any) -> list[dict[str, Any]]:
        async with self._lock:
            return await _fetchall(self._conn, sql, params)

    async def fetchval(self, sql: str, *params: Any) -> Any:
        row = await self.fetchone(sql, *params)
        return None if row is None else next(iter(row.values()))

    @asynccontextmanager
    async def transaction(self, *, lock: str | None = None) -> AsyncIterator[_SQLiteTx]:
        async with self._lock:
            await self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield _SQLiteTx(self._conn)
            except BaseException:
                await self._conn.execute("ROLLBACK")
                raise
            else:
                await self._conn.execute("COMMIT")

    async def close(self) -> None:
        async with self._lock:
            await self._conn.close()


class _SQLiteTx:
    """The handle inside a transaction: same methods, no locking (the lock is held)."""

    dialect = "sqlite"

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def execute(self, sql: str, *params: Any) -> int:
        return await _execute(self._conn, sql, params)

    async def fetchone(self, sql: str, *params: Any) -> dict[str, Any] | None:
        return await _fetchone(self._conn, sql, params)

    async def fetchall(self, sql: str, *params: Any) -> list[dict[str, Any]]:
        return await _fetchall(self._conn, sql, params)

    async def fetchval(self, sql: str, *params: Any) -> Any:
        row = await _fetchone(self._conn, sql, params)
        return None if row is None else next(iter(row.values()))

    @asynccontextmanager
    async def transaction(self, *, lock: str | None = None) -> AsyncIterator[_SQLiteTx]:
        # Already atomic: nested blocks join the outer transaction.
        yield self

    async def close(self) -> None:  # pragma: no cover - a transaction handle owns nothing
        return None


async def _execute(conn: aiosqlite.Connection, sql: str, params: tuple[Any, ...]) -> int:
    cursor = await conn.execute(sql, params)
    try:
        return cursor.rowcount
    finally:
        await cursor.close()


async def _fetchone(
    conn: aiosqlite.Connection, sql: str, params: tuple[Any, ...]
) -> dict[str, Any] | None:
    # One hop to the database thread instead of three (execute, fetch, close): admission runs
    # before the Discord acknowledgement, so every hop counts.
    rows = list(await conn.execute_fetchall(sql, params))
    return dict(rows[0]) if rows else None


async def _fetchall(
    conn: aiosqlite.Connection, sql: str, params: tuple[Any, ...]
) -> list[dict[str, Any]]:
    rows = await conn.execute_fetchall(sql, params)
    return [dict(r) for r in rows]
