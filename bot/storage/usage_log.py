"""The usage log is the jobs table: what counts, what a day is, and how DMs are keyed.

What counts against a quota is decided in one place, `COUNTED`: accepted jobs that are still
going, that succeeded, or that reached the provider (they have a prediction id). Refused
requests, and jobs that ended before the provider ran them (failed, canceled or expired while
queued), cost nothing and count for nothing. Every query of the log (`UsageStore` for
admission, `ReportQueries` for /usage, `AnonymousUsage` for /forget-me) builds on these.
"""

from __future__ import annotations

import time
from typing import Any

from bot.jobs.model import ACTIVE_STATUSES

DAY = 86_400
ACTIVE_SQL = ", ".join(f"'{s}'" for s in sorted(s.value for s in ACTIVE_STATUSES))
# The one definition of "this job's images count against quotas and totals".
COUNTED = (
    f"(status IN ({ACTIVE_SQL}, 'succeeded')"
    " OR (status <> 'refused' AND prediction_id IS NOT NULL))"
)
ACCEPTED = "status <> 'refused'"
# guild_id 0 stands for direct messages in anonymous_usage (it is part of the primary key).
DM_GUILD = 0


def day_start(now: float) -> float:
    """Epoch seconds of the UTC midnight at or before `now`."""
    return float(int(now // DAY) * DAY)


def day_key(ts: float) -> str:
    """The UTC date of `ts` as YYYY-MM-DD (anonymous_usage.day)."""
    return time.strftime("%Y-%m-%d", time.gmtime(ts))


def guild_filter(guild_id: int | None) -> tuple[str, tuple[Any, ...]]:
    """A WHERE clause and its parameters for one server, or for direct messages (None)."""
    # `guild_id IS ?` is SQLite-only; two spellings keep the SQL portable.
    if guild_id is None:
        return "guild_id IS NULL", ()
    return "guild_id = ?", (guild_id,)


__all__ = [
    "ACCEPTED",
    "ACTIVE_SQL",
    "COUNTED",
    "DAY",
    "DM_GUILD",
    "day_key",
    "day_start",
    "guild_filter",
]
