"""JobLeases for several processes: global slots, takeovers, lease renewal and cancel requests,
on both backends (two owners stand for two processes; two handles for two connections)."""

from __future__ import annotations

import asyncio

from bot.jobs.model import JobStatus, NewJob
from bot.storage import Database, open_database
from bot.storage.job_leases import JobLeases
from bot.storage.jobs import JobStore
from tests.backends import url_of


class FixedClock:
    def __init__(self, now: float) -> None:
        self.value = now

    def now(self) -> float:
        return self.value

    def monotonic(self) -> float:
        return self.value

    async def sleep(self, seconds: float) -> None:
        self.value += seconds


def new_job(user_id: int = 1) -> NewJob:
    return NewJob("imagine", user_id, 42, 7, "black-forest-labs/flux-schnell", "p", {}, 1)


async def queued(
    store: JobStore, owner: str | None, n: int = 1, until: float = 2000.0
) -> list[int]:
    ids = []
    for _ in range(n):
        job = await store.insert(new_job())
        if owner is not None:
            assert await JobLeases(store).claim(job.id, owner, until)
        ids.append(job.id)
    return ids


async def claim(store: JobStore, job_id: int, owner: str, local: int = 0, limit: int = 2) -> str:
    result = await JobLeases(store).claim_slot(
        job_id, owner, limit=limit, local_in_flight=local, until=2000.0, timeout=600
    )
    return result.outcome


async def test_a_granted_slot_starts_the_job_for_its_owner(database: Database) -> None:
    """A granted claim makes the job submitting, leased, with its attempt, times and event."""
    store = JobStore(database, FixedClock(1000.0))
    (job_id,) = await queued(store, "a")
    result = await JobLeases(store).claim_slot(
        job_id, "a", limit=1, local_in_flight=0, until=1030.0, timeout=600
    )
    assert result.outcome == "granted" and result.job is not None
    job = result.job
    assert job.status is JobStatus.SUBMITTING and job.attempts == 1
    assert (job.submitted_at, job.deadline_at) == (1000.0, 1600.0)
    assert (job.lease_owner, job.lease_expires_at) == ("a", 1030.0)
    assert [e["status"] for e in await store.events(job_id)] == ["queued", "submitting"]
    assert await JobLeases(store).in_flight_count() == 1


async def test_a_sole_owner_counts_only_its_own_flights(database: Database) -> None:
    """With no other process possible (SQLite), the caller's own count is the whole cap: a
    row an earlier run left in flight holds no slot (another process's would)."""
    store = JobStore(database, FixedClock(1000.0))
    leases = JobLeases(store)
    (earlier,) = await queued(store, "earlier-run")
    assert await claim(store, earlier, "earlier-run", limit=5) == "granted"
    (job_id,) = await queued(store, "a")
    shared = await leases.claim_slot(
        job_id, "a", limit=2, local_in_flight=1, until=2000.0, timeout=600
    )
    assert shared.outcome == "full"  # several processes: the earlier run's row counts
    alone = await leases.claim_slot(
        job_id, "a", limit=2, local_in_flight=1, until=2000.0, timeout=600, sole_owner=True
    )
    assert alone.outcome == "granted"


async def test_the_cap_counts_other_owners_rows_and_the_callers_own_count(
    database: Database,
) -> None:
    """Others' submitting/running rows count (live lease or not); the caller's own rows count
    as the caller says, so a job whose task died no longer holds a slot."""
    clock = FixedClock(1000.0)
    store = JobStore(database, clock)
    theirs = await queued(store, "b", 1)
    mine = await queued(store, "a", 3)
    assert await claim(store, theirs[0], "b") == "granted"
    assert await claim(store, mine[0], "a") == "granted"
    assert await claim(store, mine[1], "a", local=1) == "full"  # b's one + a's one
    assert await claim(store, mine[1], "a", local=0) == "granted"  # a says its own one is gone
    clock.value = 5000.0  # b's lease lapsed: its prediction still runs at the provider
    assert await claim(store, mine[2], "a", local=2, limit=3) == "full"
    assert await claim(store, mine[2], "a", local=1, limit=3) == "granted"


async def test_a_freed_slot_goes_to_the_job_that_waited_longest(database: Database) -> None:
    """Fair between processes: a refused claim marks when its job began to wait, and a later
    claim by another owner yields to it while its owner's lease is live."""
    clock = FixedClock(1000.0)
    store = JobStore(database, clock)
    running = await queued(store, "a", 1)
    a_next = await queued(store, "a", 1)
    b_next = await queued(store, "b", 1)
    assert await claim(store, running[0], "a", limit=1) == "granted"
    clock.value += 1
    assert await claim(store, b_next[0], "b", limit=1) == "full"  # b waits from 1001
    await store.transition(running[0], JobStatus.SUCCEEDED, notified=True)
    clock.value += 1
    assert await claim(store, a_next[0], "a", limit=1) == "full"  # b has waited longer
    assert await claim(store, b_next[0], "b", limit=1) == "granted"
    await store.transition(b_next[0], JobStatus.SUCCEEDED, notified=True)
    assert await claim(store, a_next[0], "a", limit=1) == "granted"


async def test_jobs_that_waited_longer_take_only_as_many_slots_as_they_need(
    database: Database,
) -> None:
    """Two free slots and one longer-waiting job elsewhere: the second slot is not held back."""
    clock = FixedClock(1000.0)
    store = JobStore(database, clock)
    a_jobs = await queued(store, "a", 3)
    (b_job,) = await queued(store, "b", 1)
    assert await claim(store, a_jobs[0], "a", limit=2) == "granted"
    assert await claim(store, a_jobs[1], "a", local=1, limit=2) == "granted"
    clock.value += 1
    assert await claim(store, b_job, "b", limit=2) == "full"  # b waits from 1001
    for job_id in a_jobs[:2]:
        await store.transition(job_id, JobStatus.SUCCEEDED, notified=True)
    clock.value += 1
    assert await claim(store, a_jobs[2], "a", local=0, limit=2) == "granted"  # one left for b
    assert await claim(store, b_job, "b", limit=2) == "granted"


async def test_a_dead_owners_waiting_job_does_not_hold_back_the_others(database: Database) -> None:
    """A waiting job whose owner's lease lapsed yields its turn (its owner is gone)."""
    clock = FixedClock(1000.0)
    store = JobStore(database, clock)
    (b_job,) = await queued(store, "b", 1, until=1010.0)
    (a_job,) = await queued(store, "a", 1)
    (blocker,) = await queued(store, "a", 1)
    assert await claim(store, blocker, "a", limit=1) == "granted"
    assert await claim(store, b_job, "b", limit=1) == "full"
    await store.transition(blocker, JobStatus.SUCCEEDED, notified=True)
    assert await claim(store, a_job, "a", limit=1) == "full"
    clock.value = 1011.0  # b stopped renewing
    assert await claim(store, a_job, "a", limit=1) == "granted"


async def test_claims_on_jobs_gone_elsewhere_or_canceled(database: Database) -> None:
    """Not queued, or leased to another live owner: gone. A cancel requested: canceled."""
    clock = FixedClock(1000.0)
    store = JobStore(database, clock)
    held_by_b, done, requested = await queued(store, "b", 1) + await queued(store, "a", 2)
    assert await claim(store, held_by_b, "a") == "gone"
    await store.transition(done, JobStatus.CANCELED, notified=True)
    assert await claim(store, done, "a") == "gone"
    assert await JobLeases(store).request_cancel(requested, 77)
    result = await JobLeases(store).claim_slot(
        requested, "a", limit=2, local_in_flight=0, until=1030.0, timeout=600
    )
    assert result.outcome == "canceled" and result.job is not None
    assert result.job.status is JobStatus.CANCELED and result.job.error_kind == "canceled"
    assert result.job.error_message == "canceled by user 77"
    assert await claim(store, 9999, "a") == "gone"


async def test_concurrent_claims_from_two_processes_never_pass_the_cap(
    database: Database,
) -> None:
    """Two owners on two connections claiming at once: never more in flight than the cap."""
    second = await open_database(url_of(database))
    try:
        clock = FixedClock(1000.0)
        stores = {"a": JobStore(database, clock), "b": JobStore(second, clock)}
        ids = {o: await queued(stores[o], o, 6) for o in stores}

        async def owner_loop(owner: str) -> int:
            mine = 0
            for job_id in ids[owner]:
                outcome = await claim(stores[owner], job_id, owner, local=mine, limit=5)
                mine += outcome == "granted"
                await asyncio.sleep(0)
            return mine

        granted = await asyncio.gather(owner_loop("a"), owner_loop("b"))
        assert sum(granted) == 5
        assert await JobLeases(stores["a"]).in_flight_count() == 5
    finally:
        await second.close()


async def test_takeover_candidates_are_jobs_no_live_process_holds(database: Database) -> None:
    """Lapsed leases and long-unclaimed jobs are candidates; live leases, fresh admissions and
    finished-and-told jobs are not; finished-untold under no lease only when asked."""
    clock = FixedClock(1000.0)
    store = JobStore(database, clock)
    live = (await queued(store, "a", 1, until=1100.0))[0]
    lapsed = (await queued(store, "b", 1, until=999.0))[0]
    fresh = (await store.insert(new_job())).id  # admitted just now, not claimed yet
    clock.value = 900.0
    old = (await store.insert(new_job())).id  # admitted long ago, never claimed
    clock.value = 1000.0
    untold_lapsed = (await queued(store, "b", 1, until=999.0))[0]
    await store.transition(untold_lapsed, JobStatus.FAILED, error_kind="no_credit")
    untold_released = (await store.insert(new_job())).id
    await store.transition(untold_released, JobStatus.TIMED_OUT, error_kind="timed_out")
    told = (await queued(store, "b", 1, until=999.0))[0]
    await store.transition(told, JobStatus.FAILED, error_kind="x", notified=True)

    found = await JobLeases(store).takeover_candidates(unclaimed_before=970.0)
    assert sorted(j.id for j in found) == sorted([lapsed, old, untold_lapsed])
    found = await JobLeases(store).takeover_candidates(
        unclaimed_before=970.0, include_released_untold=True
    )
    assert sorted(j.id for j in found) == sorted([lapsed, old, untold_lapsed, untold_released])
    assert live not in {j.id for j in found} and fresh not in {j.id for j in found}


async def test_take_over_has_one_winner_and_force_takes_a_live_lease(database: Database) -> None:
    """Two owners taking one lapsed job: one wins. force ignores a live lease (sole owner)."""
    second = await open_database(url_of(database))
    try:
        clock = FixedClock(1000.0)
        store = JobStore(database, clock)
        (job_id,) = await queued(store, "dead", 1, until=999.0)
        results = await asyncio.gather(
            JobLeases(store).take_over(job_id, "a", 1030.0),
            JobLeases(JobStore(second, clock)).take_over(job_id, "b", 1030.0),
        )
        winners = [r for r in results if r is not None]
        assert len(winners) == 1 and winners[0].lease_owner in ("a", "b")
        assert await JobLeases(store).take_over(job_id, "c", 1030.0) is None  # a live lease
        forced = await JobLeases(store).take_over(job_id, "c", 1030.0, force=True)
        assert forced is not None and forced.lease_owner == "c"
    finally:
        await second.close()


async def test_renew_held_reports_what_is_still_ours(database: Database) -> None:
    """renew_held extends the owner's leases and leaves out jobs another owner took."""
    clock = FixedClock(1000.0)
    store = JobStore(database, clock)
    kept, lost = await queued(store, "a", 2, until=1010.0)
    clock.value = 1011.0
    assert await JobLeases(store).take_over(lost, "b", 1041.0) is not None
    held = await JobLeases(store).renew_held("a", [kept, lost, 9999], 1041.0)
    assert held == {kept: JobStatus.QUEUED}
    assert (await store.get(kept)).lease_expires_at == 1041.0  # type: ignore[union-attr]
    many = await queued(store, "a", 3, until=1100.0)
    assert set(await JobLeases(store).renew_held("a", many * 400, 1200.0)) == set(many)  # batched


async def test_expired_leases_are_taken_at_once(database: Database) -> None:
    """A clean shutdown expires its leases (keeping its name): another owner takes them now."""
    clock = FixedClock(1000.0)
    store = JobStore(database, clock)
    (job_id,) = await queued(store, "a", 1, until=1030.0)
    assert await JobLeases(store).take_over(job_id, "b", 1060.0) is None
    assert await JobLeases(store).expire_leases("a") == 1
    assert [j.id for j in await JobLeases(store).takeover_candidates(unclaimed_before=0.0)] == [
        job_id
    ]
    taken = await JobLeases(store).take_over(job_id, "b", 1060.0)
    assert taken is not None and taken.lease_owner == "b"


async def test_cancel_requests_reach_the_owner_until_the_job_ends(database: Database) -> None:
    """A cancel request is listed for the job's owner only, and only while it can be canceled."""
    clock = FixedClock(1000.0)
    store = JobStore(database, clock)
    mine, theirs = await queued(store, "a", 1) + await queued(store, "b", 1)
    assert await JobLeases(store).request_cancel(mine, 5)
    assert await JobLeases(store).request_cancel(
        mine, 6
    )  # a second click keeps the first requester
    assert await JobLeases(store).request_cancel(theirs, 7)
    assert await JobLeases(store).cancel_requests("a") == [(mine, 5)]
    await store.transition(mine, JobStatus.CANCELED, notified=True)
    assert await JobLeases(store).cancel_requests("a") == []
    assert not await JobLeases(store).request_cancel(mine, 5)
    row = await database.fetchone(
        "SELECT cancel_requested_at, cancel_requested_by FROM jobs WHERE id = ?", mine
    )
    assert row == {"cancel_requested_at": 1000.0, "cancel_requested_by": 5}
    job = await store.get(mine)  # the new columns never break reading a Job
    assert job is not None and job.status is JobStatus.CANCELED
