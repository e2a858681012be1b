"""Storage: the narrow `Database` interface, its backends, migrations and repositories."""

from __future__ import annotations

from bot.storage.base import Database, StorageError
from bot.storage.migrations import apply_migrations


async def open_database(url: str, *, migrate: bool = True) -> Database:
    """Open the database named by DATABASE_URL and bring its schema up to date."""
    db: Database
    if url.startswith("sqlite:///"):
        from bot.storage.sqlite import SQLiteDatabase

        path = url[len("sqlite:///") :]
        db = await SQLiteDatabase.open(path or "data/bot.db")
    elif url.startswith(("postgresql://", "postgres://")):
        try:
            from bot.storage.postgres import PostgresDatabase
        except ImportError:
            raise StorageError(
                "DATABASE_URL names PostgreSQL, but this install has no PostgreSQL support: "
                "install the postgres extra (pip install -e '.[postgres]')."
            ) from None
        db = await PostgresDatabase.open(url)
    else:
        raise StorageError("DATABASE_URL must start with sqlite:/// or postgresql://.")
    if migrate:
        try:
            await apply_migrations(db)
        except Exception:
            await db.close()
            raise
    return db


__all__ = ["Database", "StorageError", "apply_migrations", "open_database"]
