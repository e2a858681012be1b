"""SQLite backend (aiosqlite): the embedded default.

One connection, guarded by an asyncio lock: SQLite has one writer anyway, and a shared
connection must never interleave two coroutines' transactions. WAL lets readers of other
processes (the CLI, a backup) proceed while the bot writes.

A transaction runs inline: BEGIN, its statements and COMMIT go to the sqlite3 connection
directly, in the event loop's thread, with no thread hop through aiosqlite. Why: under load a
hop costs 0.1-1 ms (two thread wake-ups, each waiting for a busy loop) while the small indexed
statements of a transaction take microseconds, and the lock serializes every transaction, so
hops inside it capped the whole bot at a few thousand statements a second: in the end-to-end
benchmark a burst of 200 commands spent most of its acknowledgement time, and 1000 jobs most
of their delivery time, queued for this lock. It is safe because the lock keeps the two
threads apart: nothing else touches the connection, on either thread, while a transaction
holds it. What could block the loop stays off it:

- BEGIN IMMEDIATE is tried with SQLite's busy handler off; if another process holds the
  write lock it is retried on the worker thread, which waits up to busy_timeout;
- the WAL is not checkpointed by COMMIT (wal_autocheckpoint=0: a checkpoint copies pages
  and syncs the file, up to a second and more on a slow disk) but every CHECKPOINT_EVERY
  writes, on a third connection of its own: in WAL mode a checkpoint runs beside the writer,
  so it holds neither the writer's lock nor the readers' thread.

Statements outside a transaction still take the hop: they include the long ones (exports,
lease renewal) and their suspension paces a burst of commands across loop iterations. A
SELECT outside a transaction goes to a second, read-only connection with its own worker
thread and no lock: in WAL mode it reads the last committed state without waiting for the
writer, and reads from many coroutines queue back to back on that thread instead of one hop
each under the writer's lock (a burst of commands reads the server's settings first).
Transactions must stay short: their body holds the loop while it runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite

from bot.storage.base import StorageError

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 5000
CHECKPOINT_EVERY = 200  # writes between WAL checkpoints (~1000 pages, SQLite's default)


class SQLiteDatabase:
    dialect = "sqlite"

    def __init__(
        self, conn: aiosqlite.Connection, path: str, reader: aiosqlite.Connection | None = None
    ) -> None:
        self._conn = conn
        self._reader = reader  # None for ":memory:", whose second connection is another database
        # aiosqlite has no public name for the connection it wraps.
        self._raw: sqlite3.Connection = conn._conn
        self._lock = asyncio.Lock()
        self.path = path
        self._writes = 0  # since the last checkpoint
        self._checkpointer: asyncio.Task[None] | None = None
        self._maintenance: aiosqlite.Connection | None = None  # opened by the first checkpoint

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
            # check_same_thread=False: transaction bodies use the connection from the loop's
            # thread (see the module docstring); the lock keeps the two threads apart.
            conn = await aiosqlite.connect(path, isolation_level=None, check_same_thread=False)
        except Exception as exc:
            raise StorageError(
                f"DATABASE_URL points at {path!r}, which cannot be opened ({exc}): "
                "choose a writable path."
            ) from None
        conn.row_factory = aiosqlite.Row
        await conn.execute("PRAGMA journal_mode=WAL")
        await conn.execute("PRAGMA foreign_keys=ON")
        await conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        await conn.execute("PRAGMA synchronous=NORMAL")
        await conn.execute("PRAGMA wal_autocheckpoint=0")  # checkpoints run off the loop
        reader = None
        if path != ":memory:":
            reader = await aiosqlite.connect(path, isolation_level=None)
            reader.row_factory = aiosqlite.Row
            await reader.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            await reader.execute("PRAGMA query_only=ON")
        return cls(conn, path, reader)

    # Statements outside a transaction take the lock so they never land inside someone
    # else's open transaction on the shared connection.
    async def execute(self, sql: str, *params: Any) -> int:
        async with self._lock:
            changed = await _execute(self._conn, sql, params)
        self._written()
        return changed

    async def fetchone(self, sql: str, *params: Any) -> dict[str, Any] | None:
        if self._reader is not None and _is_select(sql):
            return await _fetchone(self._reader, sql, params)
        async with self._lock:
            return await _fetchone(self._conn, sql, params)

    async def fetchall(self, sql: str, *params: Any) -> list[dict[str, Any]]:
        if self._reader is not None and _is_select(sql):
            return await _fetchall(self._reader, sql, params)
        async with self._lock:
            return await _fetchall(self._conn, sql, params)

    async def fetchval(self, sql: str, *params: Any) -> Any:
        row = await self.fetchone(sql, *params)
        return None if row is None else next(iter(row.values()))

    @asynccontextmanager
    async def transaction(self, *, lock: str | None = None) -> AsyncIterator[_SQLiteTx]:
        async with self._lock:
            await self._begin()
            try:
                yield _SQLiteTx(self._raw)
            except BaseException:
                self._raw.execute("ROLLBACK")
                raise
            try:
                self._raw.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    self._raw.execute("ROLLBACK")
                raise
        self._written()

    async def _begin(self) -> None:
        """BEGIN IMMEDIATE inline; on the worker thread when another process holds the lock."""
        raw = self._raw
        raw.execute("PRAGMA busy_timeout=0")
        try:
            raw.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as exc:
            if getattr(exc, "sqlite_errorcode", None) != sqlite3.SQLITE_BUSY:
                raise
        finally:
            raw.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        begin = asyncio.ensure_future(_execute(self._conn, "BEGIN IMMEDIATE", ()))
        try:
            await asyncio.shield(begin)
        except asyncio.CancelledError:
            # The BEGIN may still happen on the worker: never leave it open behind the lock.
            with contextlib.suppress(Exception):
                await begin
                raw.execute("ROLLBACK")
            raise

    def _written(self) -> None:
        if self._reader is None:
            return  # ":memory:" has no WAL
        self._writes += 1
        if self._writes >= CHECKPOINT_EVERY and (
            self._checkpointer is None or self._checkpointer.done()
        ):
            self._writes = 0
            self._checkpointer = asyncio.get_running_loop().create_task(
                self._checkpoint(), name="sqlite-checkpoint"
            )

    async def _checkpoint(self) -> None:
        """Copy the WAL into the database file, beside the writer (see the module docstring)."""
        try:
            if self._maintenance is None:
                self._maintenance = await aiosqlite.connect(self.path, isolation_level=None)
            await _execute(self._maintenance, "PRAGMA wal_checkpoint(PASSIVE)", ())
        except Exception as exc:  # the next one catches up; the WAL is still durable
            log.warning("WAL checkpoint failed: %r", exc)

    async def close(self) -> None:
        if self._checkpointer is not None:
            await self._checkpointer
        if self._maintenance is not None:
            await self._maintenance.close()
        if self._reader is not None:
            await self._reader.close()
        async with self._lock:
            await self._conn.close()


class _SQLiteTx:
    """The handle inside a transaction: same methods, no locking (the lock is held).

    Statements run on the sqlite3 connection directly, inline (see the module docstring).
    """

    dialect = "sqlite"

    def __init__(self, raw: sqlite3.Connection) -> None:
        self._raw = raw

    async def execute(self, sql: str, *params: Any) -> int:
        cursor = self._raw.execute(sql, params)
        try:
            return cursor.rowcount
        finally:
            cursor.close()

    async def fetchone(self, sql: str, *params: Any) -> dict[str, Any] | None:
        rows = self._raw.execute(sql, params).fetchall()
        return dict(rows[0]) if rows else None

    async def fetchall(self, sql: str, *params: Any) -> list[dict[str, Any]]:
        return [dict(r) for r in self._raw.execute(sql, params).fetchall()]

    async def fetchval(self, sql: str, *params: Any) -> Any:
        row = await self.fetchone(sql, *params)
        return None if row is None else next(iter(row.values()))

    @asynccontextmanager
    async def transaction(self, *, lock: str | None = None) -> AsyncIterator[_SQLiteTx]:
        # Already atomic: nested blocks join the outer transaction.
        yield self

    async def close(self) -> None:  # pragma: no cover - a transaction handle owns nothing
        return None


def _is_select(sql: str) -> bool:
    """A plain read (INSERT ... RETURNING and the like go to the writer)."""
    return sql.lstrip()[:6].upper() == "SELECT"


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
