"""OperatorBlockStore: the operator's block list, for every server and DM (migration 040).

Written by `python -m bot block|unblock` (no Discord needed) and read by admission inside its
transaction, one indexed lookup in its snapshot, so a change applies from the next request in
every process, without a restart. A server's own block list is `GuildConfigStore`'s.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.clock import Clock, SystemClock
from bot.storage.base import Database


@dataclass(frozen=True)
class OperatorBlock:
    user_id: int
    blocked_at: float
    reason: str | None = None


def _block_from_row(row: dict[str, Any]) -> OperatorBlock:
    return OperatorBlock(int(row["user_id"]), float(row["blocked_at"]), row["reason"])


class OperatorBlockStore:
    def __init__(self, db: Database, clock: Clock | None = None) -> None:
        self.db = db
        self.clock = clock or SystemClock()

    async def block(self, user_id: int, *, reason: str | None = None) -> bool:
        """Block a user everywhere; False (and the first reason kept) if already blocked."""
        changed = await self.db.execute(
            "INSERT INTO operator_blocked_users (user_id, blocked_at, reason) VALUES (?, ?, ?)"
            " ON CONFLICT (user_id) DO NOTHING",
            user_id,
            self.clock.now(),
            reason,
        )
        return changed > 0

    async def unblock(self, user_id: int) -> bool:
        """Lift the block; False when the user was not blocked."""
        changed = await self.db.execute(
            "DELETE FROM operator_blocked_users WHERE user_id = ?", user_id
        )
        return changed > 0

    async def get(self, user_id: int) -> OperatorBlock | None:
        row = await self.db.fetchone(
            "SELECT * FROM operator_blocked_users WHERE user_id = ?", user_id
        )
        return None if row is None else _block_from_row(row)

    async def list(self) -> list[OperatorBlock]:
        """Every block, oldest first."""
        rows = await self.db.fetchall(
            "SELECT * FROM operator_blocked_users ORDER BY blocked_at, user_id"
        )
        return [_block_from_row(r) for r in rows]


__all__ = ["OperatorBlock", "OperatorBlockStore"]
