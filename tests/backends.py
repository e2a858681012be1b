"""Test databases on both backends: a SQLite file in tmp_path, or a throwaway PostgreSQL database.

Each PostgreSQL test gets its own freshly created database (`imagebot_test_<random>`), so tests
are isolated and can run in parallel; closing it drops it. TEST_POSTGRES_URL names the
maintenance connection that creates and drops them.
"""

from __future__ import annotations

import functools
import os
import secrets
import socket
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from bot.storage import Database, apply_migrations, open_database
from bot.storage.postgres import PostgresDatabase
from bot.storage.sqlite import SQLiteDatabase

BACKENDS = ("sqlite", "postgresql")
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def maintenance_url() -> str:
    return os.environ.get("TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)


def _host_port() -> tuple[str, int]:
    parts = urlsplit(maintenance_url())
    return parts.hostname or "127.0.0.1", parts.port or 5432


def pg_skip_reason() -> str:
    host, port = _host_port()
    return f"PostgreSQL is not running on {host}:{port}; .ci/run starts it"


@functools.cache
def pg_available() -> bool:
    """Whether something accepts connections where TEST_POSTGRES_URL points (asked once)."""
    try:
        with socket.create_connection(_host_port(), timeout=1.0):
            return True
    except OSError:
        return False


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


class ThrowawayPostgres(PostgresDatabase):
    """A PostgresDatabase on a database made for one test; close() also drops the database."""

    url: str
    name: str
    _dropped: bool = False

    async def close(self) -> None:
        await super().close()
        if not self._dropped:
            self._dropped = True
            await drop_postgres_database(self.name)


async def create_postgres_database() -> tuple[str, str]:
    """Create an empty uniquely named database; return (its URL, its name)."""
    name = f"imagebot_test_{secrets.token_hex(6)}"
    conn = await asyncpg.connect(maintenance_url())
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return _with_database(maintenance_url(), name), name


async def drop_postgres_database(name: str) -> None:
    conn = await asyncpg.connect(maintenance_url())
    try:
        # FORCE: a pool a failed test left open must not keep the database alive.
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def make_database(kind: str, tmp_path: Path, *, migrate: bool = True) -> Database:
    """An empty database of `kind` ("sqlite" or "postgresql"), migrated unless told otherwise.

    The caller closes it; for PostgreSQL, closing also drops the database.
    """
    if kind == "sqlite":
        return await open_database(f"sqlite:///{tmp_path / 'bot.db'}", migrate=migrate)
    if kind != "postgresql":
        raise ValueError(f"unknown backend {kind!r}")
    url, name = await create_postgres_database()
    try:
        db = await ThrowawayPostgres.open(url)
    except BaseException:
        await drop_postgres_database(name)
        raise
    db.url, db.name = url, name
    if migrate:
        try:
            await apply_migrations(db)
        except BaseException:
            await db.close()
            raise
    return db


def url_of(db: Database) -> str:
    """The DATABASE_URL that opens the same database again (a second process, a restart)."""
    if isinstance(db, SQLiteDatabase):
        return f"sqlite:///{db.path}"
    if isinstance(db, ThrowawayPostgres):
        return db.url
    raise TypeError(f"no URL known for {type(db).__name__}")
