"""Usage reports: figures that match the log, a CSV that parses back, and /forget-me."""

from __future__ import annotations

import calendar
import csv
import io
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.catalog import InputPolicy
from bot.jobs.model import Job, JobStatus
from bot.money import usd_text
from bot.policy import (
    CSV_COLUMNS,
    Admission,
    Refusal,
    RequestContext,
    UsageReport,
    input_policy_for,
    unescape_cell,
)
from bot.storage import Database
from bot.storage.guild_config import GuildConfig, GuildConfigStore
from bot.storage.jobs import JobStore
from bot.storage.usage import UsageStore
from tests.bot.policy.helpers import (
    CHANNEL,
    GUILD,
    MIDNIGHT,
    NOON,
    OTHER_GUILD,
    FakeClock,
    make_admission,
    new_job,
)

SCHNELL = "black-forest-labs/flux-schnell"
DEV = "black-forest-labs/flux-dev"
COUNTED_ACTIVE = {"queued", "submitting", "running", "delivering", "succeeded"}


def report_for(adm: Admission, db: Database, clock: FakeClock) -> UsageReport:
    return UsageReport(usage=UsageStore(db, clock), admission=adm, clock=clock)


async def accept(
    adm: Admission,
    *,
    user: int = 1,
    guild: int | None = GUILD,
    count: int = 1,
    model: str = SCHNELL,
    prompt: str = "a lighthouse",
) -> Job:
    result = await adm.admit(
        new_job(user=user, guild=guild, count=count, model=model, prompt=prompt),
        RequestContext(user_id=user, guild_id=guild, channel_id=CHANNEL),
    )
    assert isinstance(result, Job), result
    return result


async def finish(
    jobs: JobStore, job: Job, status: JobStatus, *, prediction: str | None = None, **fields: Any
) -> None:
    if prediction is not None:
        await jobs.transition(job.id, JobStatus.RUNNING, prediction_id=prediction)
    await jobs.transition(job.id, status, **fields)


async def build_log(adm: Admission, jobs: JobStore, config: GuildConfigStore, clock: FakeClock):
    """A week of mixed activity in GUILD, plus one older job and one in another server."""
    clock.set(NOON - 8 * 86_400)
    old = await accept(adm, user=1)
    await finish(jobs, old, JobStatus.SUCCEEDED, prediction="p-old", output_count=1)
    clock.set(NOON - 2 * 86_400)
    a = await accept(adm, user=1, count=2)
    await finish(
        jobs, a, JobStatus.SUCCEEDED, prediction="pa", provider_seconds=3.5, output_count=2
    )
    clock.set(NOON)
    b = await accept(adm, user=1, model=DEV)
    await finish(
        jobs, b, JobStatus.FAILED, prediction="pb", provider_seconds=1.0, error_kind="provider"
    )
    c = await accept(adm, user=1, count=4)
    await finish(jobs, c, JobStatus.FAILED, error_kind="invalid_input")
    await adm.record_refusal(new_job(user=1, count=5), "validation", "count: 1-4")
    await config.add_blocked_term(GUILD, "storm")
    refused = await adm.admit(
        new_job(user=1, prompt="a storm"),
        RequestContext(user_id=1, guild_id=GUILD, channel_id=CHANNEL),
    )
    assert isinstance(refused, Refusal)
    d = await accept(adm, user=2, count=3, model=DEV)
    await finish(
        jobs, d, JobStatus.SUCCEEDED, prediction="pd", provider_seconds=7.25, output_count=3
    )
    await accept(adm, user=2)  # still queued: counted
    h = await accept(adm, user=2, count=2)
    await finish(jobs, h, JobStatus.CANCELED)  # canceled while queued: free
    f = await accept(adm, user=1, guild=OTHER_GUILD)
    await finish(jobs, f, JobStatus.SUCCEEDED, prediction="pf", output_count=1)


def expected_from_log(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The figures recomputed in Python from raw log rows."""

    def counted(r: dict[str, Any]) -> bool:
        return r["status"] in COUNTED_ACTIVE or (
            r["status"] != "refused" and r["prediction_id"] is not None
        )

    accepted = [r for r in rows if r["status"] != "refused"]
    refused: dict[str, int] = {}
    for r in rows:
        if r["status"] == "refused":
            refused[r["refusal_reason"]] = refused.get(r["refusal_reason"], 0) + 1
    failures: dict[str, int] = {}
    for r in rows:
        if r["status"] in ("failed", "canceled", "timed_out", "expired"):
            key = r["error_kind"] or r["status"]
            failures[key] = failures.get(key, 0) + 1
    return {
        "requests": len(rows),
        "accepted": len(accepted),
        "refused": len(rows) - len(accepted),
        "images": sum(r["image_count"] for r in rows if counted(r)),
        "provider_seconds": sum(r["provider_seconds"] or 0 for r in rows),
        "refused_by_reason": refused,
        "failures_by_kind": failures,
    }


async def test_guild_summary_matches_the_log(
    db: Database, jobs: JobStore, config: GuildConfigStore, clock: FakeClock
) -> None:
    """/usage server's totals, refusals, failures, users and models agree with the raw rows."""
    adm = make_admission(jobs, config, clock)
    await build_log(adm, jobs, config, clock)
    report = report_for(adm, db, clock)
    summary = await report.guild_summary(GUILD, days=7)
    rows = await db.fetchall(
        "SELECT * FROM jobs WHERE guild_id = ? AND created_at >= ?", GUILD, NOON - 6.5 * 86_400
    )
    expected = expected_from_log(rows)
    assert summary.requests == expected["requests"] == 8
    assert summary.accepted == expected["accepted"] == 6
    assert summary.refused == expected["refused"] == 2
    assert summary.images == expected["images"] == 2 + 1 + 3 + 1
    assert summary.provider_seconds == pytest.approx(expected["provider_seconds"]) == 11.75
    assert summary.refused_by_reason == expected["refused_by_reason"]
    assert summary.refused_by_reason == {"validation": 1, "blocked_term": 1}
    assert summary.failures_by_kind == expected["failures_by_kind"]
    assert summary.failures_by_kind == {"provider": 1, "invalid_input": 1, "canceled": 1}
    assert [(u.user_id, u.images) for u in summary.top_users] == [(2, 4), (1, 3)]
    by_model = {m.model: (m.requests, m.images) for m in summary.per_model}
    assert by_model == {SCHNELL: (4, 3), DEV: (2, 4)}
    assert summary.outputs == 5
    longer = await report.guild_summary(GUILD, days=9)
    assert longer.images == summary.images + 1
    with pytest.raises(ValueError):
        await report.guild_summary(GUILD, days=0)


async def test_user_summary_reports_today_the_period_and_what_is_left(
    db: Database, jobs: JobStore, config: GuildConfigStore, clock: FakeClock
) -> None:
    """/usage me: today's and the week's figures for this server, per model, and what is left
    of the tighter daily limit (here the operator's, counted in every server)."""
    adm = make_admission(jobs, config, clock, user_daily_limit=10)
    await build_log(adm, jobs, config, clock)
    mine = await report_for(adm, db, clock).user_summary(1, GUILD, days=7)
    assert (mine.today_requests, mine.today_images) == (2, 1)
    assert (mine.requests, mine.accepted, mine.refused, mine.images) == (5, 3, 2, 3)
    assert {m.model: m.images for m in mine.per_model} == {SCHNELL: 2, DEV: 1}
    # One image here and one in the other server: the operator's limit counts both.
    assert mine.remaining["remaining"] == 8
    assert mine.remaining["reset"] == MIDNIGHT
    elsewhere = await report_for(adm, db, clock).user_summary(1, OTHER_GUILD, days=1)
    assert (elsewhere.requests, elsewhere.images) == (1, 1)


def _expected_csv_row(r: dict[str, Any]) -> dict[str, str]:
    def s(v: Any) -> str:
        return "" if v is None else str(v)

    created = datetime.fromtimestamp(r["created_at"], tz=UTC)
    return {
        "id": s(r["id"]),
        "created_at": created.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "user_id": s(r["user_id"]),
        "channel_id": s(r["channel_id"]),
        "model": r["model"],
        "status": r["status"],
        "image_count": s(r["image_count"]),
        "output_count": s(r["output_count"]),
        "prediction_id": s(r["prediction_id"]),
        "provider_seconds": s(r["provider_seconds"]),
        "error_kind": s(r["error_kind"]),
        "refusal_reason": s(r["refusal_reason"]),
        "refusal_detail": s(r["refusal_detail"]),
        "prompt": r["prompt"],
        "input": r["input_json"],
        "currency": "USD",
        "price_usd": "" if r["price_micros"] is None else usd_text(r["price_micros"]),
        "price_unit": s(r["price_unit"]),
        "estimated_usd": s(r["cost_estimated_micros"] and usd_text(r["cost_estimated_micros"])),
        "settled_usd": "" if r["cost_micros"] is None else usd_text(r["cost_micros"]),
        "cost_status": "unknown" if r["cost_micros"] is None else "settled",
    }


TRICKY_PROMPTS = [
    'He said "hi", then left',
    "two\nlines, and a comma",
    '=HYPERLINK("http://evil")',
    "'already quoted",
    "-10 degrees",
    "日本語のプロンプト ✓",
    "",
]


async def test_csv_export_parses_back_to_the_same_rows(
    db: Database, jobs: JobStore, config: GuildConfigStore, clock: FakeClock
) -> None:
    """Every job of the period is one CSV row whose cells equal the stored values."""
    adm = make_admission(jobs, config, clock)
    await build_log(adm, jobs, config, clock)
    for prompt in TRICKY_PROMPTS:
        job = await accept(adm, user=3, prompt=prompt)
        await finish(
            jobs, job, JobStatus.SUCCEEDED, prediction=f"p{job.id}", provider_seconds=0.125
        )
    report = report_for(adm, db, clock)
    since, until = NOON - 3 * 86_400, MIDNIGHT
    rows = await db.fetchall(
        "SELECT * FROM jobs WHERE guild_id = ? AND created_at >= ? AND created_at < ? ORDER BY id",
        GUILD,
        since,
        until,
    )
    expected = [_expected_csv_row(r) for r in rows]
    assert len(expected) == 8 + len(TRICKY_PROMPTS)  # the 8-day-old job is outside

    raw = await report.export_csv(GUILD, since, until, spreadsheet_safe=False)
    parsed = list(csv.DictReader(io.StringIO(raw, newline="")))
    assert tuple(parsed[0].keys()) == CSV_COLUMNS
    assert parsed == expected

    safe = await report.export_csv(GUILD, since, until)
    safe_rows = list(csv.DictReader(io.StringIO(safe, newline="")))
    formula = next(r for r in safe_rows if "HYPERLINK" in r["prompt"])
    assert formula["prompt"].startswith("'=")
    assert [{k: unescape_cell(v) for k, v in r.items()} for r in safe_rows] == expected


async def test_export_covers_the_last_days_and_counts_its_rows(
    db: Database, jobs: JobStore, config: GuildConfigStore, clock: FakeClock
) -> None:
    """/usage export's period is /usage server's (today included); rows count requests, the
    file is named for the server and today's UTC date, and the cells are spreadsheet-safe."""
    adm = make_admission(jobs, config, clock)
    await build_log(adm, jobs, config, clock)
    await accept(adm, user=3, prompt="=HYPERLINK(1)")
    report = report_for(adm, db, clock)
    export = await report.export(GUILD, 3)
    today = MIDNIGHT - 86_400
    assert (export.since, export.until) == (today - 2 * 86_400, MIDNIGHT)
    assert export.since == (await report.guild_summary(GUILD, 3)).since
    assert export.text == await report.export_csv(GUILD, export.since, export.until)
    assert export.rows == len(list(csv.DictReader(io.StringIO(export.text, newline=""))))
    assert export.rows > 0 and "'=HYPERLINK" in export.text
    assert export.data == export.text.encode("utf-8")
    assert export.filename == f"usage-{GUILD}-2025-03-10.csv"
    empty = await report.export(OTHER_GUILD + 1, 3)
    assert (empty.rows, empty.text.count("\n")) == (0, 1)  # the header alone


async def test_forget_user_removes_exactly_the_callers_rows(
    db: Database, jobs: JobStore, config: GuildConfigStore, clock: FakeClock
) -> None:
    """/forget-me deletes the caller's finished rows and events everywhere, nobody else's."""
    adm = make_admission(jobs, config, clock)
    await build_log(adm, jobs, config, clock)
    running = await accept(adm, user=1)
    await jobs.transition(running.id, JobStatus.RUNNING, prediction_id="p-run")
    await config.block_user(GUILD, 1, blocked_by=2)
    await config.block_user(GUILD, 3, blocked_by=1)
    others_before = await db.fetchall("SELECT * FROM jobs WHERE user_id <> 1 ORDER BY id")
    other_events_before = await db.fetchall(
        "SELECT e.* FROM job_events e JOIN jobs j ON j.id = e.job_id WHERE j.user_id <> 1"
        " ORDER BY e.id"
    )
    mine = await db.fetchall("SELECT id FROM jobs WHERE user_id = 1 AND id <> ?", running.id)
    my_events = await db.fetchval(
        "SELECT COUNT(*) FROM job_events WHERE job_id IN"
        " (SELECT id FROM jobs WHERE user_id = 1 AND id <> ?)",
        running.id,
    )

    result = await report_for(adm, db, clock).forget_user(1)

    assert result.jobs_deleted == len(mine) == 7
    assert result.events_deleted == my_events
    assert result.active_jobs_kept == 1
    assert result.images_kept_anonymously == 2  # b and f ran at the provider today; c did not
    assert result.moderation_refs_cleared == 1
    remaining = await db.fetchall("SELECT id, prompt FROM jobs WHERE user_id = 1")
    assert [r["id"] for r in remaining] == [running.id]
    assert await db.fetchall("SELECT * FROM jobs WHERE user_id <> 1 ORDER BY id") == others_before
    assert (
        await db.fetchall(
            "SELECT e.* FROM job_events e JOIN jobs j ON j.id = e.job_id WHERE j.user_id <> 1"
            " ORDER BY e.id"
        )
        == other_events_before
    )
    # The ban on the user stays; the user's name on someone else's ban is cleared.
    assert await config.is_blocked(GUILD, 1)
    blocked = {u.user_id: u.blocked_by for u in await config.list_blocked_users(GUILD)}
    assert blocked == {1: 2, 3: None}
    # Server totals still include what the forgotten user did, without naming them.
    summary = await report_for(adm, db, clock).guild_summary(GUILD, days=7)
    assert summary.forgotten.images == 2 + 1
    assert summary.total_images == 2 + 1 + 3 + 1 + 1  # plus the kept running job
    assert all(u.user_id != 1 or u.images == 1 for u in summary.top_users)


async def test_quotas_still_hold_after_forgetting(
    db: Database, jobs: JobStore, config: GuildConfigStore, clock: FakeClock
) -> None:
    """Forgetting does not reset the user's daily images, the server's, or the cooldown."""
    adm = make_admission(
        jobs, config, clock, user_daily_limit=3, guild_daily_limit=5, user_cooldown_seconds=60
    )
    first = await accept(adm, user=1, count=3)
    await finish(jobs, first, JobStatus.SUCCEEDED, prediction="p1", output_count=3)
    clock.advance(60)
    other = await accept(adm, user=2, count=1)
    await finish(jobs, other, JobStatus.SUCCEEDED, prediction="p2")
    clock.advance(1)
    ctx1 = RequestContext(user_id=1, guild_id=GUILD, channel_id=CHANNEL)
    assert isinstance(await adm.admit(new_job(user=1), ctx1), Refusal)

    report = await report_for(adm, db, clock).forget_user(1)
    assert report.images_kept_anonymously == 3
    assert await db.fetchval("SELECT COUNT(*) FROM jobs WHERE user_id = 1") == 0

    refusal = await adm.admit(new_job(user=1), ctx1)
    assert isinstance(refusal, Refusal) and refusal.reason == "user_daily_limit"
    assert refusal.params["used"] == 3
    # The server's count keeps the forgotten images: 3 + 1 used, so 2 more would pass 5.
    third = await adm.admit(
        new_job(user=3, count=2), RequestContext(user_id=3, guild_id=GUILD, channel_id=CHANNEL)
    )
    assert isinstance(third, Refusal) and third.reason == "guild_daily_limit"
    assert third.params["used"] == 4
    left = await adm.remaining(1, GUILD)
    assert (left["used"], left["remaining"]) == (3, 0)
    # Tomorrow the user starts afresh, like everyone else.
    clock.set(MIDNIGHT)
    await report_for(adm, db, clock).forget_user(1)
    assert isinstance(await adm.admit(new_job(user=1, count=3), ctx1), Job)


async def test_cooldown_survives_forgetting(
    db: Database, jobs: JobStore, config: GuildConfigStore, clock: FakeClock
) -> None:
    """A user who forgets right after a request still waits out the cooldown."""
    adm = make_admission(jobs, config, clock, user_cooldown_seconds=120)
    job = await accept(adm, user=1)
    await finish(jobs, job, JobStatus.SUCCEEDED, prediction="p1")
    clock.advance(10)
    await report_for(adm, db, clock).forget_user(1)
    ctx1 = RequestContext(user_id=1, guild_id=GUILD, channel_id=CHANNEL)
    refusal = await adm.admit(new_job(user=1), ctx1)
    assert isinstance(refusal, Refusal) and refusal.reason == "cooldown"
    assert refusal.params["retry"] == NOON + 120
    clock.set(NOON + 120)
    assert isinstance(await adm.admit(new_job(user=1), ctx1), Job)


def test_input_policy_follows_the_server_and_the_channel() -> None:
    """Relaxed safety needs both the server's NSFW permission and an age-restricted channel."""
    allowed = GuildConfig(guild_id=GUILD, allow_nsfw=True)
    strict = GuildConfig(guild_id=GUILD)
    assert input_policy_for(allowed, True).relaxed_safety
    assert not input_policy_for(allowed, False).relaxed_safety
    assert not input_policy_for(strict, True).relaxed_safety
    policy = input_policy_for(allowed, True, max_prompt_length=500)
    assert policy == InputPolicy(
        age_restricted_channel=True, allow_nsfw=True, max_prompt_length=500
    )


async def test_the_csv_has_each_jobs_cost_columns(
    db: Database, jobs: JobStore, config: GuildConfigStore, clock: FakeClock
) -> None:
    """Currency, price, estimate and settled cost per row: settled once it ended (fewer images
    made, fewer dollars), blank while it runs or when its price is unknown."""
    adm = make_admission(jobs, config, clock)

    async def priced(count: int, price: int | None, unit: str = "image") -> Job:
        result = await adm.admit(
            new_job(user=1, count=count, price=price, unit=unit),
            RequestContext(user_id=1, guild_id=GUILD, channel_id=CHANNEL),
        )
        assert isinstance(result, Job)
        return result

    fewer = await priced(4, 3_000)
    await finish(jobs, fewer, JobStatus.DELIVERING, prediction="p1", provider_images=3)
    await jobs.transition(fewer.id, JobStatus.SUCCEEDED)
    await priced(2, 3_000)  # still queued
    flex = await priced(1, 192_000, "request")
    await finish(jobs, flex, JobStatus.FAILED, prediction="p3", provider_images=0)
    unknown = await priced(1, None)
    await finish(jobs, unknown, JobStatus.SUCCEEDED, prediction="p4", provider_images=1)
    raw = await report_for(adm, db, clock).export_csv(GUILD, NOON - 86_400, MIDNIGHT)
    rows = list(csv.DictReader(io.StringIO(raw, newline="")))
    cost = [
        (
            r["currency"],
            r["price_usd"],
            r["price_unit"],
            r["estimated_usd"],
            r["settled_usd"],
            r["cost_status"],
        )
        for r in rows
    ]
    assert cost == [
        ("USD", "0.003", "image", "0.012", "0.009", "settled"),
        ("USD", "0.003", "image", "0.006", "", "running"),
        ("USD", "0.192", "request", "0.192", "0.192", "settled"),
        ("USD", "", "", "", "", "unknown"),
    ]


async def test_summaries_show_spend_today_and_this_month_with_the_budget(
    db: Database, jobs: JobStore, config: GuildConfigStore, clock: FakeClock
) -> None:
    """/usage me: the member's spend here and their budget; /usage server: the server's,
    forgotten members included, with its budget and the first of next month."""
    adm = make_admission(jobs, config, clock)
    await config.set_budget(GUILD, "monthly", 1_000_000)
    await config.set_budget(GUILD, "member", 100_000)
    clock.set(NOON - 5 * 86_400)  # earlier this month (March 5th)
    for user in (1, 2):
        result = await adm.admit(
            new_job(user=user, count=2, price=3_000),
            RequestContext(user_id=user, guild_id=GUILD, channel_id=CHANNEL),
        )
        assert isinstance(result, Job)
        await finish(jobs, result, JobStatus.SUCCEEDED, prediction=f"p{user}", provider_images=2)
    clock.set(NOON)
    result = await adm.admit(
        new_job(user=1, count=1, price=3_000),
        RequestContext(user_id=1, guild_id=GUILD, channel_id=CHANNEL),
    )
    assert isinstance(result, Job)
    await adm.usage.anonymous.forget_user(2)  # their $0.006 stays in the server's month
    report = report_for(adm, db, clock)
    mine = await report.user_summary(1, GUILD, days=1)
    assert (mine.spend.today.micros, mine.spend.month.micros) == (3_000, 9_000)
    assert (mine.spend.budget, mine.spend.left) == (100_000, 91_000)
    assert mine.spend.reset == float(calendar.timegm((2025, 4, 1, 0, 0, 0)))
    server = await report.guild_summary(GUILD, days=1)
    assert (server.spend.today.micros, server.spend.month.micros) == (3_000, 15_000)
    assert server.spend.budget == 1_000_000
