"""UsageReport: /usage me, /usage server, /usage export and /forget-me, over the usage log.

The figures come straight from the jobs table (`bot.storage.usage_reports` holds the SQL);
what forgotten users left behind is reported apart, as anonymous totals, so server totals stay
honest without naming anyone. Spend (docs/decisions/024) is the known dollars beside the jobs
of unknown price (`bot.money.Spend`); a month's spend counts as its budget does.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bot.catalog import InputPolicy
from bot.clock import Clock
from bot.money import Spend, usd_text
from bot.policy.admission import Admission
from bot.storage.anonymous_usage import ForgetReport
from bot.storage.guild_budgets import effective_guild_budget, effective_member_budget
from bot.storage.guild_config import GuildConfig
from bot.storage.usage import UsageStore
from bot.storage.usage_log import DAY, day_key, day_start, month_start, next_month_start
from bot.storage.usage_reports import ReportQueries

CSV_COLUMNS = (
    "id",
    "created_at",
    "user_id",
    "channel_id",
    "model",
    "status",
    "image_count",
    "output_count",
    "prediction_id",
    "provider_seconds",
    "error_kind",
    "refusal_reason",
    "refusal_detail",
    "prompt",
    "input",
    # What the job costs (issue #21): amounts in US dollars as plain decimals; blank when
    # unknown (no price) or, for settled_usd, while the job is still running.
    "currency",
    "price_usd",
    "price_unit",
    "estimated_usd",
    "settled_usd",
    "cost_status",  # settled | running (the estimate counts) | unknown (no price)
)
# A cell starting with one of these is run as a formula by spreadsheet programs (CSV
# injection); the export prefixes such text with an apostrophe, the usual neutralizer. The
# apostrophe itself is in the set, so the escaping can be undone exactly: strip one leading "'".
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "'")
MAX_DAYS = 366


def _spend(row: dict[str, Any]) -> Spend:
    return Spend(int(row.get("spend_micros") or 0), int(row.get("unknown_jobs") or 0))


@dataclass(frozen=True)
class ModelUsage:
    model: str
    requests: int
    images: int
    provider_seconds: float
    spend: Spend = field(default_factory=Spend)


@dataclass(frozen=True)
class UserTotal:
    user_id: int
    requests: int
    images: int
    spend: Spend = field(default_factory=Spend)


@dataclass(frozen=True)
class MonthSpend:
    """Spend today and this calendar month (UTC), beside the budget that applies (0: none)."""

    today: Spend
    month: Spend
    budget: int = 0  # micro-dollars
    reset: float = 0.0  # the next month's first second, UTC

    @property
    def left(self) -> int:
        return max(0, self.budget - self.month.micros)


@dataclass(frozen=True)
class UserUsage:
    """/usage me: today, the last `days` days (today included), per model, and what is left."""

    user_id: int
    guild_id: int | None
    days: int
    since: float
    until: float
    today_requests: int
    today_images: int
    requests: int
    accepted: int
    refused: int
    images: int
    provider_seconds: float
    per_model: tuple[ModelUsage, ...]
    remaining: dict[str, Any]
    spend: MonthSpend = field(
        default_factory=lambda: MonthSpend(Spend(), Spend())
    )  # here, with the member's budget


@dataclass(frozen=True)
class AnonymousTotals:
    """What users who ran /forget-me left in the period: counts only, no names."""

    requests: int = 0
    refused: int = 0
    images: int = 0
    provider_seconds: float = 0.0
    spend_micros: int = 0
    unknown_jobs: int = 0

    @property
    def spend(self) -> Spend:
        return Spend(self.spend_micros, self.unknown_jobs)


@dataclass(frozen=True)
class GuildUsage:
    """/usage server over the last `days` days (today included)."""

    guild_id: int
    days: int
    since: float
    until: float
    requests: int
    accepted: int
    refused: int
    images: int
    outputs: int
    provider_seconds: float
    refused_by_reason: dict[str, int]
    failures_by_kind: dict[str, int]
    top_users: tuple[UserTotal, ...]
    per_model: tuple[ModelUsage, ...]
    forgotten: AnonymousTotals
    spend: MonthSpend = field(
        default_factory=lambda: MonthSpend(Spend(), Spend())
    )  # forgotten members included

    @property
    def total_images(self) -> int:
        """Images including those of users who have since been forgotten."""
        return self.images + self.forgotten.images


@dataclass(frozen=True)
class UsageExport:
    """/usage export: a server's log over the last `days` days (today included), as CSV."""

    guild_id: int
    since: float
    until: float
    text: str
    rows: int  # requests in the file (the header is not one)
    made_on: str  # the UTC date it was made, YYYY-MM-DD

    @property
    def data(self) -> bytes:
        return self.text.encode("utf-8")

    @property
    def filename(self) -> str:
        return f"usage-{self.guild_id}-{self.made_on}.csv"


def input_policy_for(
    config: GuildConfig, channel_age_restricted: bool, *, max_prompt_length: int | None = None
) -> InputPolicy:
    """The catalog's InputPolicy for a request in this server and channel.

    Relaxed safety needs both: the server allows it (/settings NSFW) and the channel is marked
    age-restricted; `InputPolicy.relaxed_safety` combines the two.
    """
    if max_prompt_length is None:
        return InputPolicy(
            age_restricted_channel=channel_age_restricted, allow_nsfw=config.allow_nsfw
        )
    return InputPolicy(
        age_restricted_channel=channel_age_restricted,
        allow_nsfw=config.allow_nsfw,
        max_prompt_length=max_prompt_length,
    )


def _iso(ts: float) -> str:
    return (
        datetime.fromtimestamp(ts, tz=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    )


def _cell(value: Any, *, safe: bool) -> str:
    if value is None:
        return ""
    text = str(value)
    if safe and isinstance(value, str) and text.startswith(_FORMULA_START):
        return "'" + text
    return text


def unescape_cell(text: str) -> str:
    """Undo the export's spreadsheet escaping of one cell."""
    return text[1:] if text.startswith("'") else text


def _money(micros: Any) -> str | None:
    return None if micros is None else usd_text(int(micros))


def _cost_status(row: dict[str, Any]) -> str:
    if row["cost_micros"] is None:
        return "unknown"
    return "settled" if row["status"] in _ENDED else "running"


_ENDED = frozenset({"succeeded", "failed", "canceled", "timed_out", "expired", "refused"})


def _csv(rows: list[dict[str, Any]], *, spreadsheet_safe: bool) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for r in rows:
        values = {
            "id": r["id"],
            "created_at": _iso(r["created_at"]),
            "user_id": r["user_id"],
            "channel_id": r["channel_id"],
            "model": r["model"],
            "status": r["status"],
            "image_count": r["image_count"],
            "output_count": r["output_count"],
            "prediction_id": r["prediction_id"],
            "provider_seconds": r["provider_seconds"],
            "error_kind": r["error_kind"],
            "refusal_reason": r["refusal_reason"],
            "refusal_detail": r["refusal_detail"],
            "prompt": r["prompt"],
            "input": r["input_json"],
            "currency": "USD",
            "price_usd": _money(r["price_micros"]),
            "price_unit": r["price_unit"],
            "estimated_usd": _money(r["cost_estimated_micros"]),
            "settled_usd": _money(r["cost_micros"]) if r["status"] in _ENDED else None,
            "cost_status": _cost_status(r),
        }
        writer.writerow([_cell(values[c], safe=spreadsheet_safe) for c in CSV_COLUMNS])
    return out.getvalue()


class UsageReport:
    def __init__(self, *, usage: UsageStore, admission: Admission, clock: Clock) -> None:
        self.queries = ReportQueries(usage.db)
        # The store's own counters: a salt made by /forget-me is then known to admission.
        self.anonymous = usage.anonymous
        self.admission = admission
        self.clock = clock

    def _period(self, days: int, *, today: float | None = None) -> tuple[float, float, float]:
        """(today, since, until): the last `days` UTC days, today included, until exclusive."""
        if not 1 <= days <= MAX_DAYS:
            raise ValueError(f"days must be from 1 to {MAX_DAYS}")
        if today is None:
            today = day_start(self.clock.now())
        return today, today - (days - 1) * DAY, today + DAY

    async def user_summary(
        self,
        user_id: int,
        guild_id: int | None,
        days: int = 7,
        role_ids: frozenset[int] = frozenset(),
    ) -> UserUsage:
        today, since, until = self._period(days)
        now_totals = await self.queries.totals(
            guild_id=guild_id, user_id=user_id, since=today, until=until
        )
        period = await self.queries.totals(
            guild_id=guild_id, user_id=user_id, since=since, until=until
        )
        models = await self.queries.per_model(
            guild_id=guild_id, user_id=user_id, since=since, until=until
        )
        month = await self._month(guild_id, user_id, today)
        budget = 0
        if guild_id is not None:
            config = await self.admission.config.get(guild_id)
            budget = effective_member_budget(config, self.admission.budgets.bot_budget)
        return UserUsage(
            user_id=user_id,
            guild_id=guild_id,
            days=days,
            since=since,
            until=until,
            today_requests=now_totals["accepted"],
            today_images=now_totals["images"],
            requests=period["requests"],
            accepted=period["accepted"],
            refused=period["refused"],
            images=period["images"],
            provider_seconds=period["provider_seconds"],
            per_model=tuple(_model(m) for m in models),
            remaining=await self.admission.remaining(user_id, guild_id, role_ids),
            spend=MonthSpend(_spend(now_totals), month, budget, next_month_start(self.clock.now())),
        )

    async def _month(self, guild_id: int | None, user_id: int | None, today: float) -> Spend:
        """Spend this calendar month (UTC) so far, in this scope (forgotten users not included)."""
        start = month_start(today)
        totals = await self.queries.totals(
            guild_id=guild_id, user_id=user_id, since=start, until=today + DAY
        )
        return _spend(totals)

    async def guild_summary(self, guild_id: int, days: int = 7) -> GuildUsage:
        _, since, until = self._period(days)
        totals = await self.queries.totals(
            guild_id=guild_id, user_id=None, since=since, until=until
        )
        models = await self.queries.per_model(
            guild_id=guild_id, user_id=None, since=since, until=until
        )
        top = await self.queries.top_users(guild_id, since, until)
        anonymous = await self.anonymous.totals(guild_id, since, until)
        spend = await self.guild_spend(guild_id)
        return GuildUsage(
            guild_id=guild_id,
            days=days,
            since=since,
            until=until,
            requests=totals["requests"],
            accepted=totals["accepted"],
            refused=totals["refused"],
            images=totals["images"],
            outputs=totals["outputs"],
            provider_seconds=totals["provider_seconds"],
            refused_by_reason=await self.queries.refused_by_reason(guild_id, since, until),
            failures_by_kind=await self.queries.failures_by_kind(guild_id, since, until),
            top_users=tuple(
                UserTotal(u["user_id"], u["requests"], u["images"], _spend(u)) for u in top
            ),
            per_model=tuple(_model(m) for m in models),
            forgotten=AnonymousTotals(**anonymous),
            spend=spend,
        )

    async def guild_spend(self, guild_id: int) -> MonthSpend:
        """The server's spend today and this month, forgotten members included (as its budget
        counts it), beside its monthly budget as it applies."""
        today = day_start(self.clock.now())
        day = await self.queries.totals(
            guild_id=guild_id, user_id=None, since=today, until=today + DAY
        )
        forgotten_day = await self.anonymous.totals(guild_id, today, today + DAY)
        forgotten_month = await self.anonymous.totals(guild_id, month_start(today), today + DAY)
        config = await self.admission.config.get(guild_id)
        return MonthSpend(
            _spend(day) + _spend(forgotten_day),
            await self._month(guild_id, None, today) + _spend(forgotten_month),
            effective_guild_budget(config, self.admission.budgets.bot_budget),
            next_month_start(self.clock.now()),
        )

    async def export(self, guild_id: int, days: int) -> UsageExport:
        """/usage export: the same period as /usage server, spreadsheet-safe."""
        now = self.clock.now()
        today = day_start(now)
        _, since, until = self._period(days, today=today)
        rows = await self.queries.export_rows(guild_id, since, until)
        text = _csv(rows, spreadsheet_safe=True)
        return UsageExport(guild_id, since, until, text, len(rows), day_key(now))

    async def export_csv(
        self, guild_id: int, since: float, until: float, *, spreadsheet_safe: bool = True
    ) -> str:
        """The server's log over [since, until) as CSV, one row per request, oldest first.

        With `spreadsheet_safe`, text cells that a spreadsheet would run as a formula get a
        leading apostrophe (`unescape_cell` undoes it); the raw values otherwise.
        """
        rows = await self.queries.export_rows(guild_id, since, until)
        return _csv(rows, spreadsheet_safe=spreadsheet_safe)

    async def forget_user(self, user_id: int) -> ForgetReport:
        """/forget-me: delete the caller's prompts and usage rows in every server.

        Today's counted images stay behind as an anonymous counter, so forgetting does not
        reset a quota or a cooldown; jobs still running are kept (see ForgetReport).
        """
        return await self.anonymous.forget_user(user_id)


def _model(row: dict[str, Any]) -> ModelUsage:
    return ModelUsage(
        row["model"], row["requests"], row["images"], row["provider_seconds"], _spend(row)
    )


__all__ = [
    "CSV_COLUMNS",
    "AnonymousTotals",
    "GuildUsage",
    "ModelUsage",
    "MonthSpend",
    "UsageExport",
    "UsageReport",
    "UserTotal",
    "UserUsage",
    "input_policy_for",
    "unescape_cell",
]
