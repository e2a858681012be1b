"""`python -m bot usage [--month YYYY-MM]`: the operator's spend and image totals per server for
one calendar month (UTC), from the database alone (no Discord connection needed).

One line per server (and one for direct messages), biggest spender first, then the bot's total
and, when BOT_MONTHLY_BUDGET is set, how much of it is spent. What members who ran /forget-me
left behind is counted in their server's line (it names nobody). Spend is the known dollars;
jobs of models without a price are counted beside it, never as free. Every problem is one
sentence; exit code 0, or 2 for a bad month or an unusable database.
"""

from __future__ import annotations

import calendar
import re
import time
from dataclasses import dataclass
from typing import TextIO

from bot.money import Spend, format_usd
from bot.storage import StorageError, open_database
from bot.storage.anonymous_usage import AnonymousUsage
from bot.storage.usage_log import DM_GUILD
from bot.storage.usage_reports import ReportQueries

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


class UsageError(ValueError):
    """A bad argument; `str()` is the sentence for the operator."""


def parse_month(raw: str | None, now: float) -> tuple[float, float, str]:
    """(first second, first second of the next month, "YYYY-MM"); the current month if None."""
    if raw is None:
        t = time.gmtime(now)
        year, month = t.tm_year, t.tm_mon
    else:
        match = _MONTH.match(raw.strip())
        if not match or not 1 <= int(match.group(2)) <= 12:
            raise UsageError(
                f"--month must be a month written YYYY-MM, such as 2026-12 (got {raw!r})."
            )
        year, month = int(match.group(1)), int(match.group(2))
    start = calendar.timegm((year, month, 1, 0, 0, 0))
    after = (year + 1, 1) if month == 12 else (year, month + 1)
    end = calendar.timegm((*after, 1, 0, 0, 0))
    return float(start), float(end), f"{year:04d}-{month:02d}"


@dataclass
class ServerLine:
    """One server's month (None: direct messages)."""

    guild_id: int | None
    jobs: int = 0
    images: int = 0
    spend: Spend = Spend()  # noqa: RUF009 - Spend is frozen: one shared default is safe

    @property
    def name(self) -> str:
        return "DMs" if self.guild_id is None else str(self.guild_id)


async def month_lines(url: str, since: float, until: float) -> list[ServerLine]:
    """Every server's jobs, images and spend in [since, until), forgotten members included."""
    db = await open_database(url)
    try:
        lines: dict[int | None, ServerLine] = {}
        for row in await ReportQueries(db).by_guild(since, until):
            gid = row["guild_id"]
            lines[gid] = ServerLine(
                gid, row["accepted"], row["images"], Spend(row["spend_micros"], row["unknown_jobs"])
            )
        for guild, row in (await AnonymousUsage(db).totals_by_guild(since, until)).items():
            gid = None if guild == DM_GUILD else guild
            line = lines.setdefault(gid, ServerLine(gid))
            line.jobs += row["requests"]
            line.images += row["images"]
            line.spend = line.spend + Spend(row["spend_micros"], row["unknown_jobs"])
    finally:
        await db.close()
    return sorted(lines.values(), key=lambda x: (-x.spend.micros, -x.images, x.name))


def _table(lines: list[ServerLine], out: TextIO) -> ServerLine:
    total = ServerLine(None)
    width = max([len("server"), *(len(line.name) for line in lines)])
    print(f"{'server'.ljust(width)}  {'jobs':>7}  {'images':>7}  spend", file=out)
    for line in lines:
        print(
            f"{line.name.ljust(width)}  {line.jobs:>7}  {line.images:>7}  {line.spend.text}",
            file=out,
        )
        total.jobs += line.jobs
        total.images += line.images
        total.spend = total.spend + line.spend
    print(
        f"{'total'.ljust(width)}  {total.jobs:>7}  {total.images:>7}  {total.spend.text}", file=out
    )
    return total


async def run_usage(
    database_url: str,
    *,
    month: str | None,
    bot_budget_micros: int,
    now: float,
    out: TextIO,
    err: TextIO,
) -> int:
    """Print one month's totals per server; returns the exit code."""
    try:
        since, until, label = parse_month(month, now)
    except UsageError as exc:
        print(str(exc), file=err)
        return 2
    try:
        lines = await month_lines(database_url, since, until)
    except StorageError as exc:
        print(str(exc), file=err)
        return 2
    state = "so far" if since <= now < until else ("to come" if now < since else "complete")
    print(f"Usage in {label} (UTC), {state}: jobs accepted, images made, spend in USD.", file=out)
    if not lines:
        print("No jobs in this month.", file=out)
        return 0
    total = _table(lines, out)
    if bot_budget_micros:
        percent = total.spend.micros * 100 // bot_budget_micros
        print(
            f"BOT_MONTHLY_BUDGET {format_usd(bot_budget_micros)}: {format_usd(total.spend.micros)}"
            f" spent ({percent} %).",
            file=out,
        )
    if total.spend.unknown_jobs:
        print(
            f"Jobs of models without a price: {total.spend.unknown_jobs}; add those models'"
            " prices to MODELS_FILE to count them.",
            file=out,
        )
    return 0


__all__ = ["ServerLine", "UsageError", "month_lines", "parse_month", "run_usage"]
