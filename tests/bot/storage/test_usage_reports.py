"""ReportQueries: /usage figures over a period, scoped to a server or a member, on both backends."""

from __future__ import annotations

from bot.jobs.model import JobStatus
from bot.storage import Database
from bot.storage.jobs import JobStore
from bot.storage.usage_log import DAY
from bot.storage.usage_reports import ReportQueries
from tests.bot.storage.usage_helpers import GUILD, NOON, OTHER, TODAY, Clock, make

PERIOD = {"since": TODAY, "until": TODAY + DAY}


async def _log(database: Database) -> JobStore:
    """Today in GUILD: user 1 has 3 counted images and a refusal, user 2 one image and a
    failure before the provider; plus a job yesterday and one in another server."""
    clock = Clock(NOON - DAY)
    jobs = JobStore(database, clock)
    await make(jobs, JobStatus.SUCCEEDED, prediction="old", count=4)
    clock.t = NOON
    await make(jobs, JobStatus.SUCCEEDED, prediction="a", count=2)
    await make(jobs, JobStatus.QUEUED, count=1)
    await make(jobs, JobStatus.REFUSED)
    await make(jobs, JobStatus.SUCCEEDED, prediction="b", user=2)
    await make(jobs, JobStatus.FAILED, user=2, count=3)
    await make(jobs, JobStatus.SUCCEEDED, prediction="c", guild=OTHER, count=5)
    return jobs


async def test_totals_and_models_count_what_the_quota_counts(database: Database) -> None:
    """Requests include refusals; images only counted jobs; the period and the scope hold."""
    await _log(database)
    queries = ReportQueries(database)
    server = await queries.totals(guild_id=GUILD, user_id=None, **PERIOD)
    assert (server["requests"], server["accepted"], server["refused"], server["images"]) == (
        5,
        4,
        1,
        4,
    )
    member = await queries.totals(guild_id=GUILD, user_id=1, **PERIOD)
    assert (member["requests"], member["images"]) == (3, 3)
    everywhere = await queries.totals(
        guild_id=None, user_id=1, since=TODAY - DAY, until=TODAY + DAY
    )
    assert everywhere["images"] == 12
    models = await queries.per_model(guild_id=GUILD, user_id=None, **PERIOD)
    assert [(m["model"], m["requests"], m["images"]) for m in models] == [("a/b", 4, 4)]


async def test_refusals_failures_top_users_and_export_rows(database: Database) -> None:
    """Refusals by reason, failures by status when no error kind, members by images, and the
    export's rows oldest first, all inside [since, until) and this server."""
    await _log(database)
    queries = ReportQueries(database)
    assert await queries.refused_by_reason(GUILD, **PERIOD) == {"cooldown": 1}
    assert await queries.failures_by_kind(GUILD, **PERIOD) == {"failed": 1}
    top = await queries.top_users(GUILD, **PERIOD)
    assert [(u["user_id"], u["requests"], u["images"]) for u in top] == [(1, 2, 3), (2, 2, 1)]
    assert len(await queries.top_users(GUILD, **PERIOD, limit=1)) == 1
    rows = await queries.export_rows(GUILD, **PERIOD)
    assert [r["status"] for r in rows] == ["succeeded", "queued", "refused", "succeeded", "failed"]
    assert [r["id"] for r in rows] == sorted(r["id"] for r in rows)


async def test_spend_sums_known_costs_and_counts_unknown_ones_apart(database: Database) -> None:
    """Spend is exact micro-dollars over the rows; jobs of unknown price are counted beside
    it; refusals and jobs that never ran add nothing; members are ranked by spend."""
    clock = Clock(NOON)
    jobs = JobStore(database, clock)
    await make(jobs, JobStatus.SUCCEEDED, prediction="a", count=4, price=3_000, made=3)  # 9,000
    await make(jobs, JobStatus.QUEUED, count=2, price=3_000)  # its estimate: 6,000
    await make(jobs, JobStatus.REFUSED, count=4, price=3_000)  # 0
    await make(jobs, JobStatus.CANCELED, count=4, price=3_000)  # never ran: 0
    await make(jobs, JobStatus.SUCCEEDED, prediction="b", user=2, price=192_000, unit="request")
    await make(jobs, JobStatus.SUCCEEDED, prediction="c", user=3, count=2)  # unknown price
    await make(jobs, JobStatus.SUCCEEDED, prediction="d", guild=None, price=3_000, made=1)
    queries = ReportQueries(database)
    server = await queries.totals(guild_id=GUILD, user_id=None, **PERIOD)
    assert (server["spend_micros"], server["unknown_jobs"]) == (9_000 + 6_000 + 192_000, 1)
    member = await queries.totals(guild_id=GUILD, user_id=1, **PERIOD)
    assert (member["spend_micros"], member["unknown_jobs"]) == (15_000, 0)
    top = await queries.top_users(GUILD, **PERIOD)
    assert [(u["user_id"], u["spend_micros"], u["unknown_jobs"]) for u in top] == [
        (2, 192_000, 0),
        (1, 15_000, 0),
        (3, 0, 1),
    ]
    [model] = await queries.per_model(guild_id=GUILD, user_id=None, **PERIOD)
    assert (model["spend_micros"], model["unknown_jobs"]) == (207_000, 1)
    by_guild = {r["guild_id"]: r for r in await queries.by_guild(**PERIOD)}
    assert set(by_guild) == {GUILD, None}
    assert (by_guild[GUILD]["accepted"], by_guild[GUILD]["images"]) == (5, 4 + 2 + 1 + 2)
    assert (by_guild[None]["spend_micros"], by_guild[None]["unknown_jobs"]) == (3_000, 0)
    rows = await queries.export_rows(GUILD, **PERIOD)
    assert [
        (r["price_micros"], r["cost_estimated_micros"], r["cost_micros"]) for r in rows[:3]
    ] == [
        (3_000, 12_000, 9_000),
        (3_000, 6_000, 6_000),
        (3_000, 12_000, 0),
    ]
