"""Both storage backends keep the same promises: migrations, JobStore, transactions, locks."""

from __future__ import annotations

import asyncio

import pytest

from bot.jobs.model import JobStatus, NewJob
from bot.storage import Database, apply_migrations, open_database
from bot.storage.jobs import JobStore
from bot.storage.migrations import Migration, bundled_migrations
from tests.backends import url_of

SNOWFLAKE = 1_234_567_890_123_456_789  # Discord ids need all 64 bits


class FixedClock:
    """A wall clock that says what the test sets (an int on purpose: stored as DOUBLE)."""

    def __init__(self, now: float) -> None:
        self.value = now

    def now(self) -> float:
        return self.value

    def monotonic(self) -> float:
        return self.value

    async def sleep(self, seconds: float) -> None:
        self.value += seconds


def new_job(**overrides: object) -> NewJob:
    fields: dict[str, object] = {
        "kind": "imagine",
        "user_id": SNOWFLAKE,
        "guild_id": None,
        "channel_id": SNOWFLAKE + 1,
        "model": "black-forest-labs/flux-schnell",
        "prompt": "a lighthouse, 夜",
        "input": {"prompt": "a lighthouse, 夜", "seed": 42},
        "image_count": 1,
        "token_expires_at": 1_700_000_900.5,
        "upload_limit": 25 * 1024 * 1024,
    }
    fields.update(overrides)
    return NewJob(**fields)  # type: ignore[arg-type]


# -- migrations --------------------------------------------------------------------------------


async def test_migrations_applied_once_and_rerun_is_a_no_op(database: Database) -> None:
    """The fixture's database has every migration; running them again (or reopening) adds none."""
    versions = [
        r["version"]
        for r in await database.fetchall("SELECT version FROM schema_migrations ORDER BY version")
    ]
    assert versions == [m.version for m in bundled_migrations()]
    await database.execute(
        "INSERT INTO jobs (status, kind, user_id, model, created_at, updated_at)"
        " VALUES ('queued', 'imagine', 1, 'a/b', 0, 0)"
    )
    assert await apply_migrations(database) == []
    again = await open_database(url_of(database))
    try:
        assert await apply_migrations(again) == []
        assert await again.fetchval("SELECT COUNT(*) FROM jobs") == 1
    finally:
        await again.close()


async def test_new_migration_applies_once_and_a_broken_one_leaves_nothing(
    database: Database,
) -> None:
    """A later migration applies once; a failing one rolls back its earlier statements too."""
    extra = [
        *bundled_migrations(),
        Migration(900, "900_extra.sql", "CREATE TABLE extra (id {{id}}, note TEXT);"),
    ]
    assert await apply_migrations(database, extra) == [900]
    assert await apply_migrations(database, extra) == []
    assert await database.fetchval("INSERT INTO extra (note) VALUES (?) RETURNING id", "a") == 1
    broken = [
        *extra,
        Migration(901, "901_broken.sql", "CREATE TABLE half (id INTEGER);\nNOT SQL AT ALL;"),
    ]
    with pytest.raises(Exception, match="syntax error"):
        await apply_migrations(database, broken)
    assert await database.fetchval("SELECT MAX(version) FROM schema_migrations") == 900
    with pytest.raises(Exception, match="half"):
        await database.fetchval("SELECT COUNT(*) FROM half")


# -- JobStore ----------------------------------------------------------------------------------


async def test_jobstore_insert_and_get_round_trip(database: Database) -> None:
    """A stored job reads back with the same values and Python types on both backends."""
    store = JobStore(database, FixedClock(1_700_000_000))
    job = await store.insert(new_job())
    assert job.status is JobStatus.QUEUED and job.id >= 1
    got = await store.get(job.id)
    assert got == job
    assert got.user_id == SNOWFLAKE and got.guild_id is None
    assert got.input == {"prompt": "a lighthouse, 夜", "seed": 42}
    assert got.created_at == 1_700_000_000.0 and isinstance(got.created_at, float)
    assert got.token_expires_at == 1_700_000_900.5
    assert got.upload_limit == 25 * 1024 * 1024
    assert got.notified is False
    assert await store.get(job.id + 1000) is None
    assert [e["status"] for e in await store.events(job.id)] == ["queued"]


async def test_jobstore_refused_insert_is_finished(database: Database) -> None:
    """A refused request is stored terminal, with its reason and a finish time."""
    store = JobStore(database, FixedClock(1_700_000_000))
    job = await store.insert(new_job(), status=JobStatus.REFUSED, refusal_reason="cooldown")
    assert job.status is JobStatus.REFUSED and job.refusal_reason == "cooldown"
    assert job.finished_at == 1_700_000_000.0
    assert await store.unfinished() == []


async def test_jobstore_transition_is_compare_and_set(database: Database) -> None:
    """A transition happens only from an expected status and logs one event per change."""
    clock = FixedClock(1_700_000_000)
    store = JobStore(database, clock)
    job = await store.insert(new_job())
    clock.value += 5
    running = await store.transition(
        job.id,
        JobStatus.RUNNING,
        expected={JobStatus.QUEUED},
        prediction_id="p-1",
        started_at=clock.now(),
        notified=True,
    )
    assert running is not None and running.status is JobStatus.RUNNING
    assert running.prediction_id == "p-1" and running.notified is True
    assert running.updated_at == 1_700_000_005.0
    again = await store.transition(job.id, JobStatus.RUNNING, expected={JobStatus.QUEUED})
    assert again is None
    events = await store.events(job.id)
    assert [e["status"] for e in events] == ["queued", "running"]
    assert [e["at"] for e in events] == [1_700_000_000.0, 1_700_000_005.0]


async def test_jobstore_concurrent_compare_and_set_has_one_winner(database: Database) -> None:
    """A cancel and a poll racing on the same queued job: exactly one transition wins."""
    store = JobStore(database, FixedClock(1_700_000_000))
    job = await store.insert(new_job())
    results = await asyncio.gather(
        store.transition(job.id, JobStatus.CANCELED, expected={JobStatus.QUEUED}),
        store.transition(job.id, JobStatus.SUBMITTING, expected={JobStatus.QUEUED}),
    )
    winners = [r for r in results if r is not None]
    assert len(winners) == 1
    final = await store.get(job.id)
    assert final is not None and final.status is winners[0].status
    assert len(await store.events(job.id)) == 2


async def test_jobstore_unfinished_lists_active_jobs_oldest_first(database: Database) -> None:
    """After a restart, every active job comes back in creation order; finished ones do not."""
    store = JobStore(database, FixedClock(1_700_000_000))
    jobs = [await store.insert(new_job(prompt=f"p{i}")) for i in range(4)]
    await store.transition(jobs[0].id, JobStatus.SUCCEEDED)
    await store.transition(jobs[2].id, JobStatus.RUNNING)
    unfinished = await store.unfinished()
    assert [j.id for j in unfinished] == [jobs[1].id, jobs[2].id, jobs[3].id]
    assert [j.status for j in unfinished] == [
        JobStatus.QUEUED,
        JobStatus.RUNNING,
        JobStatus.QUEUED,
    ]


# -- transactions ------------------------------------------------------------------------------


async def test_transaction_rolls_back_and_nested_blocks_join(database: Database) -> None:
    """A failure anywhere inside an outer transaction undoes the nested block's writes."""
    with pytest.raises(RuntimeError):
        async with database.transaction() as tx:
            async with tx.transaction(lock="inner") as inner:
                await inner.execute(
                    "INSERT INTO jobs (status, kind, user_id, model, created_at, updated_at)"
                    " VALUES ('queued', 'imagine', 1, 'a/b', 0, 0)"
                )
            raise RuntimeError("boom")
    assert await database.fetchval("SELECT COUNT(*) FROM jobs") == 0


async def test_locked_transactions_never_lose_an_update(database: Database) -> None:
    """Concurrent read-modify-write sections under one lock name run one after another."""
    await database.execute("CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)")
    await database.execute("INSERT INTO counter (id, n) VALUES (1, 0)")
    seen: list[int] = []

    async def increment() -> None:
        async with database.transaction(lock="counter") as tx:
            n = await tx.fetchval("SELECT n FROM counter WHERE id = 1")
            # Let every other task run here: without the lock they would read the same n.
            for _ in range(3):
                await asyncio.sleep(0)
            await tx.execute("UPDATE counter SET n = ? WHERE id = 1", n + 1)
            seen.append(n)

    await asyncio.wait_for(asyncio.gather(*(increment() for _ in range(8))), 15)
    assert sorted(seen) == list(range(8))
    assert await database.fetchval("SELECT n FROM counter WHERE id = 1") == 8
