"""UsageReport: /usage me, /usage server, /usage export and /forget-me, over the usage log.

The figures come straight from the jobs table (`bot.storage.usage_reports` holds the SQL);
what forgotten users left behind is reported apart, as anonymous totals, so server totals stay
honest without naming anyone.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot.catalog import InputPolicy
from bot.clock import Clock
from bot.policy.admission import Admission
from bot.storage.anonymous_usage import ForgetReport
from bot.storage.guild_config import GuildConfig
from bot.storage.usage import UsageStore
from bot.storage.usage_log import DAY, day_key, day_start
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
)
# A cell starting with one of these is run as a formula by spreadsheet programs (CSV
# injection); the export prefixes such text with an apostrophe, the usual neutralizer. The
# apostrophe itself is in the set, so the escaping can be undone exactly: strip one leading "'".
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "'")
MAX_DAYS = 366


@dataclass(frozen=True)
class ModelUsage:
    model: str
    requests: int
    images: int
    provider_seconds: float


@dataclass(frozen=True)
class UserTotal:
    user_id: int
    requests: int
    images: int


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


@dataclass(frozen=True)
class AnonymousTotals:
    """What users who ran /forget-me left in the period: counts only, no names."""

    requests: int = 0
    refused: int = 0
    images: int = 0
    provider_seconds: float = 0.0


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
            per_model=tuple(ModelUsage(**m) for m in models),
            remaining=await self.admission.remaining(user_id, guild_id, role_ids),
        )

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
            top_users=tuple(UserTotal(**u) for u in top),
            per_model=tuple(ModelUsage(**m) for m in models),
            forgotten=AnonymousTotals(**anonymous),
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


__all__ = [
    "CSV_COLUMNS",
    "AnonymousTotals",
    "GuildUsage",
    "ModelUsage",
    "UsageExport",
    "UsageReport",
    "UserTotal",
    "UserUsage",
    "input_policy_for",
    "unescape_cell",
]
