"""JobRetention: what members wrote is erased from jobs that ended before the cutoff, what
/usage counts is kept exactly, and sweeps are idempotent and safe side by side, on both
backends."""

from __future__ import annotations

import asyncio

from bot.jobs.model import JobStatus, NewJob
from bot.storage import Database, open_database
from bot.storage.jobs import JobStore
from bot.storage.retention import JobRetention
from bot.storage.usage_log import DAY
from bot.storage.usage_reports import ReportQueries
from tests.backends import url_of
from tests.bot.storage.usage_helpers import GUILD, NOON, Clock

SECRET = "a portrait of my neighbour's house at 12 Elm Street"


async def _job(jobs: JobStore, status: JobStatus, *, user: int = 1, count: int = 2) -> int:
    new = NewJob(
        kind="imagine",
        user_id=user,
        guild_id=GUILD,
        channel_id=5,
        model="a/b",
        prompt=SECRET,
        input={"prompt": SECRET, "image": "https://cdn.example/me.png", "num_outputs": count},
        image_count=count,
        interaction_token="tok-" + "x" * 40,
    )
    if status is JobStatus.REFUSED:
        job = await jobs.insert(
            new, status=status, refusal_reason="blocked_term", refusal_detail="Elm Street"
        )
        return job.id
    job = await jobs.insert(new)
    if status is not JobStatus.QUEUED:
        fields = {"prediction_id": f"p{job.id}", "provider_seconds": 1.5, "output_count": count}
        if status is not JobStatus.RUNNING:
            fields["finished_at"] = jobs.clock.now()
        if status is JobStatus.FAILED:
            fields |= {"error_kind": "invalid_input", "error_message": f"bad prompt: {SECRET}"}
        moved = await jobs.transition(job.id, status, **fields)
        assert moved is not None
    return job.id


async def _history(database: Database, clock: Clock) -> tuple[JobStore, dict[str, list[int]]]:
    """100 days ago: a success, a failure and a refusal; 10 days ago the same; a job still
    running since 100 days ago (it has not ended) and one queued now."""
    jobs = JobStore(database, clock)
    ids: dict[str, list[int]] = {"old": [], "recent": [], "active": []}
    clock.t = NOON - 100 * DAY
    for status in (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.REFUSED):
        ids["old"].append(await _job(jobs, status))
    ids["active"].append(await _job(jobs, JobStatus.RUNNING, user=2))
    clock.t = NOON - 10 * DAY
    for status in (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.REFUSED):
        ids["recent"].append(await _job(jobs, status))
    clock.t = NOON
    ids["active"].append(await _job(jobs, JobStatus.QUEUED, user=3))
    return jobs, ids


async def _figures(database: Database) -> list[object]:
    queries = ReportQueries(database)
    period = {"since": NOON - 200 * DAY, "until": NOON + DAY}
    return [
        await queries.totals(guild_id=GUILD, user_id=None, **period),
        await queries.totals(guild_id=GUILD, user_id=1, **period),
        await queries.per_model(guild_id=GUILD, user_id=None, **period),
        await queries.refused_by_reason(GUILD, **period),
        await queries.failures_by_kind(GUILD, **period),
        await queries.top_users(GUILD, **period),
    ]


async def test_old_prompts_are_erased_and_every_usage_figure_stays(database: Database) -> None:
    """Jobs ended 100 days ago lose prompt, input, details and token; the rest is untouched,
    and /usage's totals, models, refusals, failures and members are exactly the same."""
    clock = Clock()
    jobs, ids = await _history(database, clock)
    before = await _figures(database)
    erased = await JobRetention(database, clock).erase_ended_before(NOON - 90 * DAY)
    assert erased == 3
    for job_id in ids["old"]:
        job = await jobs.get(job_id)
        assert job is not None and job.erased_at == NOON
        assert (job.prompt, job.input, job.refusal_detail, job.error_message) == (
            "",
            {},
            None,
            None,
        )
        assert job.interaction_token is None
        assert job.image_count == 2 and job.model == "a/b"
    for job_id in ids["recent"] + ids["active"]:
        job = await jobs.get(job_id)
        assert job is not None and job.erased_at is None and job.prompt == SECRET
    assert await _figures(database) == before
    rows = await database.fetchall(
        "SELECT prompt, input_json FROM jobs WHERE erased_at IS NOT NULL"
    )
    assert all(SECRET not in str(row) for row in rows)


async def test_a_second_sweep_erases_nothing_and_batches_cover_everything(
    database: Database,
) -> None:
    """Idempotent: what was erased is not touched again; small batches still reach every row."""
    clock = Clock(NOON - 100 * DAY)
    jobs = JobStore(database, clock)
    for _ in range(7):
        await _job(jobs, JobStatus.SUCCEEDED)
    clock.t = NOON
    retention = JobRetention(database, clock)
    assert await retention.erase_ended_before(NOON - 90 * DAY, batch=3) == 7
    assert await retention.erase_ended_before(NOON - 90 * DAY, batch=3) == 0


async def test_two_processes_sweeping_at_once_erase_each_row_once(database: Database) -> None:
    """Several processes may sweep together: no error, every old row erased exactly once."""
    clock = Clock(NOON - 100 * DAY)
    jobs = JobStore(database, clock)
    for _ in range(40):
        await _job(jobs, JobStatus.SUCCEEDED)
    clock.t = NOON
    second = await open_database(url_of(database))
    try:
        counts = await asyncio.gather(
            JobRetention(database, clock).erase_ended_before(NOON - 90 * DAY, batch=5),
            JobRetention(second, clock).erase_ended_before(NOON - 90 * DAY, batch=5),
        )
    finally:
        await second.close()
    assert sum(counts) == 40
    assert await database.fetchval("SELECT COUNT(*) FROM jobs WHERE erased_at IS NULL") == 0
