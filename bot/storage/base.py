"""The narrow storage interface: a small SQL executor that two backends implement.

Repositories (`JobStore`, ...) are written once in portable SQL against this protocol, so a
PostgreSQL backend is one file and neither the cogs nor the scheduler know which one runs.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol


class StorageError(Exception):
    """The database could not be opened or migrated; `str()` is one sentence for the operator."""


class Database(Protocol):
    dialect: str

    async def execute(self, sql: str, *params: Any) -> int:
        """Run one statement; return the number of rows it changed."""
        ...

    async def fetchone(self, sql: str, *params: Any) -> dict[str, Any] | None: ...

    async def fetchall(self, sql: str, *params: Any) -> list[dict[str, Any]]: ...

    async def fetchval(self, sql: str, *params: Any) -> Any:
        """The first column of the first row, or None."""
        ...

    def transaction(self, *, lock: str | None = None) -> AbstractAsyncContextManager[Database]:
        """Run the block atomically; `lock` names a critical section across processes."""
        ...

    async def close(self) -> None: ...
