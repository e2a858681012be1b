"""The usage log is the jobs table: what counts, what a day is, and how DMs are keyed.

What counts against a quota is decided in one place, `COUNTED`: accepted jobs that are still
going, that succeeded, or that reached the provider (they have a prediction id). Refused
requests, and jobs that ended before the provider ran them (failed, canceled or expired while
queued), cost nothing and count for nothing. Every query of the log (`UsageStore` for
admission, `ReportQueries` for /usage, `AnonymousUsage` for /forget-me) builds on these.

What a job costs is its `cost_micros` (issue #21; `bot.jobs.costs`): the estimate while it runs,
the settled figure once it ends, 0 for exactly the jobs `COUNTED` leaves out, NULL when the
model's price is unknown. Spend is therefore a plain `SUM(cost_micros)` over the same rows,
and "jobs of unknown price" are `COUNT(*) - COUNT(cost_micros)`. A job's cost, like its
images, belongs to the day (and month) it was requested.
"""

from __future__ import annotations

import calendar
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
# Spend over a set of rows: the known micro-dollars, and how many rows have no known price.
# CAST: PostgreSQL sums a BIGINT as NUMERIC, which the driver reads as a float; money stays
# an integer on both backends.
SPEND_SQL = "CAST(SUM(cost_micros) AS BIGINT)"
UNKNOWN_SQL = "COUNT(*) - COUNT(cost_micros)"
# guild_id 0 stands for direct messages in anonymous_usage (it is part of the primary key).
DM_GUILD = 0


def day_start(now: float) -> float:
    """Epoch seconds of the UTC midnight at or before `now`."""
    return float(int(now // DAY) * DAY)


def day_key(ts: float) -> str:
    """The UTC date of `ts` as YYYY-MM-DD (anonymous_usage.day)."""
    return time.strftime("%Y-%m-%d", time.gmtime(ts))


def month_start(now: float) -> float:
    """Epoch seconds of the first day of `now`'s calendar month, 00:00 UTC."""
    t = time.gmtime(now)
    return float(calendar.timegm((t.tm_year, t.tm_mon, 1, 0, 0, 0)))


def next_month_start(now: float) -> float:
    """Epoch seconds of the first day of the next calendar month, 00:00 UTC (a budget's reset)."""
    t = time.gmtime(now)
    year, month = (t.tm_year + 1, 1) if t.tm_mon == 12 else (t.tm_year, t.tm_mon + 1)
    return float(calendar.timegm((year, month, 1, 0, 0, 0)))


def month_key(ts: float) -> str:
    """The UTC month of `ts` as YYYY-MM (budget notices, /forget-me's monthly spend)."""
    return time.strftime("%Y-%m", time.gmtime(ts))


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
    "SPEND_SQL",
    "UNKNOWN_SQL",
    "day_key",
    "day_start",
    "guild_filter",
    "month_key",
    "month_start",
    "next_month_start",
]
