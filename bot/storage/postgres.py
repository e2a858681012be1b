"""PostgreSQL backend (asyncpg): for several processes sharing one database.

Same `Database` interface as SQLite, so repositories stay written once in portable SQL. Three
differences are absorbed here rather than in the repositories:

- placeholders: `?` becomes `$1, $2, ...` (outside string literals, identifiers and comments);
- values: asyncpg refuses a Python int for a TEXT parameter and returns NUMERIC as Decimal,
  where SQLite converts silently and has no Decimal; two small codecs restore SQLite's
  behaviour, so code that passes its tests on SQLite does not break here;
- critical sections: `transaction(lock=...)` also takes a transaction-scoped advisory lock,
  which serializes across processes what SQLite serializes with its single writer.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Self
from urllib.parse import urlsplit

import asyncpg

from bot.redact import MASK, mask_urls_in, password_forms
from bot.storage.base import StorageError

# Opening a pool blocks startup; a server that does not answer in this long is not coming.
_CONNECT_TIMEOUT = 10.0
# close() waits for borrowed connections; past this it terminates them (asyncpg does so
# when close() is cancelled) so shutdown never hangs on a stuck query.
_CLOSE_TIMEOUT = 10.0


@functools.lru_cache(maxsize=2048)
def to_dollar_params(sql: str) -> str:
    """Rewrite `?` placeholders to PostgreSQL's `$1, $2, ...`.

    A `?` inside a '...' literal, a "..." identifier, a -- comment or a /* */ comment is left
    alone. A doubled quote ('it''s') needs no special case: the scan leaves the literal at the
    first quote and re-enters it at the second. Cached: repositories send the same few
    statements over and over.
    """
    out: list[str] = []
    number = 0
    i = 0
    end = len(sql)
    while i < end:
        ch = sql[i]
        if ch in "'\"":
            close = sql.find(ch, i + 1)
            stop = end if close == -1 else close + 1
        elif sql.startswith("--", i):
            newline = sql.find("\n", i)
            stop = end if newline == -1 else newline
        elif sql.startswith("/*", i):
            close = sql.find("*/", i + 2)
            stop = end if close == -1 else close + 2
        elif ch == "?":
            number += 1
            out.append(f"${number}")
            i += 1
            continue
        else:
            stop = i + 1
        out.append(sql[i:stop])
        i = stop
    return "".join(out)


def advisory_key(name: str) -> int:
    """A stable signed 64-bit key for `pg_advisory_xact_lock`.

    Every process must compute the same key for the same name, so never Python's `hash()`
    (salted per process): the first 8 bytes of SHA-256, read as a signed int64.
    """
    return int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:8], "big", signed=True)


def rows_affected(status: str) -> int:
    """The row count in a command tag: "UPDATE 3" -> 3, "INSERT 0 1" -> 1, "CREATE TABLE" -> 0."""
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else 0


class _Executor:
    """The four query methods, over a pool (autocommit) or one connection (in a transaction)."""

    dialect = "postgresql"

    def __init__(self, target: Any) -> None:
        # asyncpg.Pool and asyncpg.Connection share execute/fetch/fetchrow/fetchval.
        self._target = target

    async def execute(self, sql: str, *params: Any) -> int:
        return rows_affected(await self._target.execute(to_dollar_params(sql), *params))

    async def fetchone(self, sql: str, *params: Any) -> dict[str, Any] | None:
        row = await self._target.fetchrow(to_dollar_params(sql), *params)
        return None if row is None else dict(row)

    async def fetchall(self, sql: str, *params: Any) -> list[dict[str, Any]]:
        rows = await self._target.fetch(to_dollar_params(sql), *params)
        return [dict(r) for r in rows]

    async def fetchval(self, sql: str, *params: Any) -> Any:
        return await self._target.fetchval(to_dollar_params(sql), *params)


class PostgresDatabase(_Executor):
    def __init__(self, pool: Any) -> None:
        super().__init__(pool)
        self._pool = pool

    @classmethod
    async def open(cls, url: str, *, min_size: int = 1, max_size: int = 10) -> Self:
        """Connect a small pool; any failure is one StorageError sentence without the password."""
        try:
            pool = await asyncpg.create_pool(
                url,
                min_size=min_size,
                max_size=max_size,
                timeout=_CONNECT_TIMEOUT,
                init=_prepare_connection,
            )
        except Exception as exc:
            raise StorageError(_open_error(url, exc)) from None
        return cls(pool)

    @asynccontextmanager
    async def transaction(self, *, lock: str | None = None) -> AsyncIterator[_PostgresTx]:
        # READ COMMITTED (the server default) matters with `lock`: every statement after the
        # lock is granted sees what the previous holder committed. Under REPEATABLE READ the
        # snapshot could predate the wait and a quota check would read stale counts.
        async with self._pool.acquire() as conn, conn.transaction():
            tx = _PostgresTx(conn)
            if lock is not None:
                await tx.take_lock(lock)
            yield tx

    async def close(self) -> None:
        try:
            async with asyncio.timeout(_CLOSE_TIMEOUT):
                await self._pool.close()
        except TimeoutError:
            pass  # the cancelled close() has already terminated the connections


class _PostgresTx(_Executor):
    """The handle inside a transaction: same methods, bound to the transaction's connection."""

    async def take_lock(self, lock: str) -> None:
        # Transaction-scoped: released by COMMIT or ROLLBACK, never leaked by a crash, and
        # re-entrant for the same session.
        await self._target.execute("SELECT pg_advisory_xact_lock($1)", advisory_key(lock))

    @asynccontextmanager
    async def transaction(self, *, lock: str | None = None) -> AsyncIterator[_PostgresTx]:
        # Nested blocks join the outer transaction (as on SQLite). A lock named here is still
        # taken: it is held until the outer transaction ends, so the section stays serialized.
        if lock is not None:
            await self.take_lock(lock)
        yield self

    async def close(self) -> None:  # pragma: no cover - a transaction handle owns nothing
        return None


async def _prepare_connection(conn: Any) -> None:
    """Per-connection codecs that give PostgreSQL SQLite's leniency about Python values."""
    await conn.set_type_codec(
        "text", schema="pg_catalog", encoder=_encode_text, decoder=_decode_text, format="text"
    )
    await conn.set_type_codec(
        "numeric", schema="pg_catalog", encoder=_encode_numeric, decoder=float, format="text"
    )


def _encode_text(value: Any) -> str:
    # SQLite stores 5 in a TEXT column as '5' and True as '1'; an untyped `SELECT ?` is TEXT
    # here too. str.__str__ keeps a StrEnum's value rather than its name.
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def _decode_text(value: str) -> str:
    return value


def _encode_numeric(value: Any) -> str:
    # NUMERIC parameters come from literals such as COALESCE(?, 0.0); SQLite has no Decimal,
    # and results decode to float so both backends return the same Python types.
    return str(int(value)) if isinstance(value, bool) else str(value)


def _open_error(url: str, exc: BaseException) -> str:
    """One sentence naming DATABASE_URL, the target without credentials, and the cause."""
    try:
        parts = urlsplit(url)
        where = f"{parts.hostname or 'localhost'}:{parts.port or 5432}/{parts.path.lstrip('/')}"
        user = parts.username
    except ValueError:
        return "DATABASE_URL is not a valid postgresql:// URL: check its host, port and quoting."
    if isinstance(exc, ConnectionRefusedError):
        reason = "connection refused"
    elif isinstance(exc, socket.gaierror):
        reason = "the host name does not resolve"
    elif isinstance(exc, TimeoutError):
        reason = f"no answer within {_CONNECT_TIMEOUT:g} seconds"
    elif isinstance(exc, asyncpg.InvalidPasswordError):
        reason = "the password was refused"
    elif isinstance(exc, OSError):
        reason = exc.strerror or type(exc).__name__
    else:
        # Server messages ("database "x" does not exist") never echo the password, but a
        # client-side parse error may quote part of the URL: scrub it anyway.
        reason = str(exc).strip() or type(exc).__name__
    for password in password_forms(url):
        reason = reason.replace(password, MASK)
    reason = mask_urls_in(reason).rstrip(".")
    as_user = f" as {user}" if user else ""
    return (
        f"DATABASE_URL points at PostgreSQL {where}{as_user}, which cannot be used ({reason}): "
        "check the host, port, database name and credentials."
    )
