"""JobStore records each job's cost: its estimate when admitted, settled in the same write as
its end, on both backends; jobs from before costs were recorded count as unknown unless they
never reached the provider."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.jobs.model import JobStatus
from bot.storage import Database, apply_migrations
from bot.storage.jobs import JobStore
from bot.storage.migrations import bundled_migrations
from tests.backends import BACKENDS, make_database, pg_available, pg_skip_reason
from tests.bot.storage.usage_helpers import Clock, make, new

SCHNELL = 3_000  # a price per image in micro-dollars ($0.003)
FLEX = 192_000  # a price per request ($0.192)


async def test_an_admitted_job_counts_its_estimate_and_a_refused_one_nothing(
    database: Database,
) -> None:
    """Queued: price, estimate and cost recorded (4 × $0.003); refused: the estimate, cost 0."""
    jobs = JobStore(database, Clock())
    queued = await jobs.insert(new(count=4, price=SCHNELL))
    assert (queued.price_micros, queued.price_unit) == (SCHNELL, "image")
    assert (queued.cost_estimated_micros, queued.cost_micros) == (12_000, 12_000)
    refused = await make(jobs, JobStatus.REFUSED, count=4, price=SCHNELL)
    assert (refused.cost_estimated_micros, refused.cost_micros) == (12_000, 0)
    unknown = await jobs.insert(new(count=2))
    assert (unknown.cost_estimated_micros, unknown.cost_micros) == (None, None)


async def test_a_job_that_ends_with_fewer_images_than_asked_pays_for_those_made(
    database: Database,
) -> None:
    """Asked for 4, the provider made 3: settled at 3 × the price, in the ending write."""
    jobs = JobStore(database, Clock())
    job = await make(jobs, JobStatus.RUNNING, prediction="p1", count=4, price=SCHNELL)
    assert job.cost_micros == 12_000  # still the estimate while it runs
    delivering = await jobs.transition(
        job.id, JobStatus.DELIVERING, provider_images=3, output_count=3
    )
    assert delivering is not None and delivering.cost_micros == 12_000
    done = await jobs.transition(job.id, JobStatus.SUCCEEDED, expected=[JobStatus.DELIVERING])
    assert done is not None and done.cost_micros == 9_000
    stored = await database.fetchone("SELECT cost_micros FROM jobs WHERE id = ?", job.id)
    assert stored == {"cost_micros": 9_000}


@pytest.mark.parametrize(
    ("status", "prediction", "made", "price", "unit", "cost"),
    [
        # Never reached the provider: nothing, whatever the price.
        (JobStatus.CANCELED, None, None, SCHNELL, "image", 0),
        (JobStatus.FAILED, None, None, FLEX, "request", 0),
        (JobStatus.EXPIRED, None, None, None, "image", 0),
        # The provider ran it and said how it ended.
        (JobStatus.FAILED, "p", 0, SCHNELL, "image", 0),
        (JobStatus.FAILED, "p", 0, FLEX, "request", FLEX),
        (JobStatus.CANCELED, "p", 0, FLEX, "request", FLEX),
        (JobStatus.EXPIRED, "p", 2, SCHNELL, "image", 6_000),
        # We stopped before it said (timed out, canceled while running): the estimate.
        (JobStatus.TIMED_OUT, "p", None, SCHNELL, "image", 6_000),
        (JobStatus.CANCELED, "p", None, SCHNELL, "image", 6_000),
        # No price: unknown, never 0.
        (JobStatus.SUCCEEDED, "p", 2, None, "image", None),
    ],
)
async def test_each_end_settles_as_the_provider_can_have_billed(
    database: Database,
    status: JobStatus,
    prediction: str | None,
    made: int | None,
    price: int | None,
    unit: str,
    cost: int | None,
) -> None:
    """Billed failures count (a request that ran); ends before the provider cost nothing."""
    jobs = JobStore(database, Clock())
    job = await make(
        jobs, status, prediction=prediction, count=2, price=price, unit=unit, made=made
    )
    assert job.cost_micros == cost


@pytest.mark.parametrize("backend", BACKENDS)
async def test_jobs_from_before_costs_are_unknown_unless_they_never_ran(
    backend: str, tmp_path: Path
) -> None:
    """Migration 080: refused and never-submitted jobs cost 0; the others have no recorded
    price, so they count as unknown rather than free."""
    if backend == "postgresql" and not pg_available():
        pytest.skip(pg_skip_reason())
    db = await make_database(backend, tmp_path, migrate=False)
    try:
        before = [m for m in bundled_migrations() if m.version < 80]
        await apply_migrations(db, before)
        for status, prediction in (
            ("refused", None),
            ("canceled", None),
            ("failed", "p1"),
            ("succeeded", "p2"),
            ("queued", None),
        ):
            await db.execute(
                "INSERT INTO jobs (status, kind, user_id, model, created_at, updated_at,"
                " prediction_id) VALUES (?, 'imagine', 1, 'a/b', 0, 0, ?)",
                status,
                prediction,
            )
        assert 80 in await apply_migrations(db)
        rows = await db.fetchall("SELECT status, cost_micros FROM jobs ORDER BY id")
        assert [(r["status"], r["cost_micros"]) for r in rows] == [
            ("refused", 0),
            ("canceled", 0),
            ("failed", None),
            ("succeeded", None),
            ("queued", None),
        ]
    finally:
        await db.close()
