"""`python -m bot block USER_ID [--reason TEXT]`, `unblock USER_ID`, `blocked`: the operator's
block list, for every server and DM, from the terminal (no Discord connection needed).

The list lives in the database (`operator_blocked_users`); admission reads it inside its
transaction, so a change applies from the user's next request, in every running process,
without a restart. Every outcome is one sentence; exit code 0 when the list now says what was
asked (also when it already did), 2 for a bad command line or an unusable database.
"""

from __future__ import annotations

import time
from typing import TextIO

from bot.storage import StorageError, open_database
from bot.storage.operator_blocks import OperatorBlockStore

MAX_REASON_LENGTH = 300


class UsageError(ValueError):
    """A bad argument; `str()` is the sentence for the operator."""


def parse_user_id(raw: str) -> int:
    """A Discord user id (a snowflake), or UsageError saying where to find one."""
    text = raw.strip()
    if not text.isdigit() or not 15 <= len(text) <= 21:
        raise UsageError(
            f"USER_ID must be a Discord user id, a number of 17 to 20 digits (got {raw!r}): "
            "right-click the user with Developer Mode on and choose Copy User ID."
        )
    return int(text)


def _when(epoch: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(epoch))


async def run_blocks(
    database_url: str,
    command: str,
    *,
    user_id: str | None,
    reason: str | None,
    out: TextIO,
    err: TextIO,
) -> int:
    """Run `block`, `unblock` or `blocked`; returns the exit code."""
    try:
        target = parse_user_id(user_id or "") if command != "blocked" else None
        if reason is not None and not 1 <= len(reason.strip()) <= MAX_REASON_LENGTH:
            raise UsageError(
                f"--reason must be 1 to {MAX_REASON_LENGTH} characters (got {len(reason)})."
            )
    except UsageError as exc:
        print(str(exc), file=err)
        return 2
    try:
        db = await open_database(database_url)
    except StorageError as exc:
        print(str(exc), file=err)
        return 2
    try:
        store = OperatorBlockStore(db)
        if command == "blocked":
            blocks = await store.list()
            if not blocks:
                print("No user is blocked.", file=out)
            for block in blocks:
                why = f"  {block.reason}" if block.reason else ""
                print(f"{block.user_id}  since {_when(block.blocked_at)}{why}", file=out)
            return 0
        assert target is not None
        if command == "block":
            if await store.block(target, reason=reason.strip() if reason else None):
                print(
                    f"Blocked user {target} in every server and DM, from their next request.",
                    file=out,
                )
            else:
                existing = await store.get(target)
                since = f" since {_when(existing.blocked_at)}" if existing else ""
                print(f"User {target} was already blocked{since}; nothing changed.", file=out)
            return 0
        if await store.unblock(target):
            print(f"Unblocked user {target}: they may use the bot again.", file=out)
        else:
            print(f"User {target} was not blocked; nothing changed.", file=out)
        return 0
    finally:
        await db.close()


__all__ = ["MAX_REASON_LENGTH", "UsageError", "parse_user_id", "run_blocks"]
