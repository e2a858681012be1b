"""JobStore additions for the scheduler: leases (claim, renew, release) and the recent
deliveries it learns durations from, on both backends."""

from __future__ import annotations

from bot.jobs.model import JobStatus, NewJob
from bot.storage import Database
from bot.storage.job_leases import JobLeases
from bot.storage.jobs import JobStore


class FixedClock:
    def __init__(self, now: float) -> None:
        self.value = now

    def now(self) -> float:
        return self.value

    def monotonic(self) -> float:
        return self.value

    async def sleep(self, seconds: float) -> None:
        self.value += seconds


def new_job(model: str = "black-forest-labs/flux-schnell") -> NewJob:
    return NewJob("imagine", 1, None, None, model, "p", {"prompt": "p"}, 1)


async def test_claim_is_exclusive_until_the_lease_expires(database: Database) -> None:
    """Another owner cannot claim a job under a live lease; it can once the lease expired."""
    clock = FixedClock(1000.0)
    store = JobStore(database, clock)
    job = await store.insert(new_job())
    assert await JobLeases(store).claim(job.id, "a", 1030.0)
    assert await JobLeases(store).claim(job.id, "a", 1040.0)  # the owner may re-claim (extend)
    assert not await JobLeases(store).claim(job.id, "b", 1050.0)
    clock.value = 1041.0
    assert await JobLeases(store).claim(job.id, "b", 1071.0)
    stored = await store.get(job.id)
    assert stored is not None
    assert (stored.lease_owner, stored.lease_expires_at) == ("b", 1071.0)
    assert not await JobLeases(store).claim(9999, "a", 2000.0)  # no such job


async def test_a_claim_without_expiry_never_locks_anyone_out(database: Database) -> None:
    """Single-process claims (until=None) can be taken over at once, e.g. by a new owner id."""
    store = JobStore(database, FixedClock(1000.0))
    job = await store.insert(new_job())
    assert await JobLeases(store).claim(job.id, "local", None)
    assert await JobLeases(store).claim(job.id, "renamed-host", None)


async def test_renew_extends_only_the_owners_active_jobs(database: Database) -> None:
    """renew() moves the expiry of the owner's active jobs, not finished ones or others'."""
    store = JobStore(database, FixedClock(1000.0))
    mine, done, theirs = [await store.insert(new_job()) for _ in range(3)]
    for job, owner in ((mine, "a"), (done, "a"), (theirs, "b")):
        assert await JobLeases(store).claim(job.id, owner, 1030.0)
    await store.transition(done.id, JobStatus.SUCCEEDED, notified=True)
    assert await JobLeases(store).renew("a", 1060.0) == 1
    got = {j.id: (await store.get(j.id)) for j in (mine, done, theirs)}
    assert got[mine.id].lease_expires_at == 1060.0  # type: ignore[union-attr]
    assert got[done.id].lease_expires_at == 1030.0  # type: ignore[union-attr]
    assert got[theirs.id].lease_expires_at == 1030.0  # type: ignore[union-attr]


async def test_release_one_or_all(database: Database) -> None:
    """release() clears one job's lease or all of an owner's, never another owner's."""
    store = JobStore(database, FixedClock(1000.0))
    a1, a2, b1 = [await store.insert(new_job()) for _ in range(3)]
    for job, owner in ((a1, "a"), (a2, "a"), (b1, "b")):
        await JobLeases(store).claim(job.id, owner, 1030.0)
    assert await JobLeases(store).release("a", a1.id) == 1
    assert (await store.get(a1.id)).lease_owner is None  # type: ignore[union-attr]
    assert await JobLeases(store).release("a") == 1
    assert (await store.get(a2.id)).lease_owner is None  # type: ignore[union-attr]
    assert (await store.get(b1.id)).lease_owner == "b"  # type: ignore[union-attr]


async def test_recent_succeeded_is_oldest_first_and_limited(database: Database) -> None:
    """The last N delivered jobs with both timestamps, oldest first; others are skipped."""
    store = JobStore(database, FixedClock(1000.0))
    ids = []
    for n in range(4):
        job = await store.insert(new_job())
        await store.transition(
            job.id,
            JobStatus.SUCCEEDED,
            started_at=1000.0 + n,
            finished_at=1002.5 + n,
            notified=True,
        )
        ids.append(job.id)
    failed = await store.insert(new_job())
    await store.transition(failed.id, JobStatus.FAILED, started_at=1.0, finished_at=2.0)
    no_times = await store.insert(new_job())
    await store.transition(no_times.id, JobStatus.SUCCEEDED, notified=True)
    recent = await store.recent_succeeded(limit=3)
    assert [j.id for j in recent] == ids[1:]
    assert [j.finished_at - j.started_at for j in recent] == [2.5, 2.5, 2.5]  # type: ignore[operator]


async def test_a_child_job_keeps_its_lineage(database: Database) -> None:
    """A variation records its parent, how it was made (kind) and which image it started from."""
    store = JobStore(database)
    parent = await store.insert(new_job())
    child = await store.insert(
        NewJob(
            "vary_strong",
            1,
            None,
            None,
            "black-forest-labs/flux-dev",
            "p",
            {"prompt": "p"},
            1,
            parent_id=parent.id,
            parent_image=3,
        )
    )
    again = await store.get(child.id)
    assert again is not None
    assert (again.kind, again.parent_id, again.parent_image) == ("vary_strong", parent.id, 3)
    assert parent.parent_image is None


async def test_a_job_keeps_its_style_spoiler_and_notes(database: Database) -> None:
    """Migration 072's columns round-trip: the style's name, the spoiler mark, the notes."""
    from dataclasses import replace

    store = JobStore(database, FixedClock(1000.0))
    notes = ({"setting": "model", "reason": "unknown_model", "value": "gone/model"},)
    job = await store.insert(replace(new_job(), style="Noir", spoiler=True, notes=notes))
    stored = await store.get(job.id)
    assert stored is not None
    assert (stored.style, stored.spoiler, stored.notes) == ("Noir", True, notes)
    plain = await store.get((await store.insert(new_job())).id)
    assert plain is not None
    assert (plain.style, plain.spoiler, plain.notes) == (None, False, ())
