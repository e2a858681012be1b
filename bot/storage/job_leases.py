"""JobLeases: which process owns a job, for several processes sharing one database.

Leases (who works on a job, until when), the global slots under MAX_CONCURRENT_JOBS, takeovers
of lapsed leases and cancels requested from another process; docs/decisions/011-work-sharing.md.
Portable SQL over the jobs table that `JobStore` writes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from bot.jobs.model import ACTIVE_STATUSES, Job, JobStatus
from bot.storage.jobs import JobStore, placeholders, row_to_job

_IN_FLIGHT = (JobStatus.SUBMITTING.value, JobStatus.RUNNING.value)
_CANCELABLE = (JobStatus.QUEUED.value, JobStatus.SUBMITTING.value, JobStatus.RUNNING.value)
# Finished jobs whose user was never told. The same text as the partial index `jobs_untold`
# (migration 030): SQLite uses a partial index only when the query repeats its condition.
_UNTOLD = "notified = 0 AND status IN ('failed', 'canceled', 'timed_out', 'expired')"
# A lease nobody holds any more: expired, or taken without expiry (a single process's claim).
_LAPSED = "lease_owner IS NOT NULL AND (lease_expires_at IS NULL OR lease_expires_at <= ?)"
_BATCH = 500  # ids per IN (...) list, well under both databases' parameter limits


@dataclass(frozen=True)
class SlotClaim:
    """The answer to `JobLeases.claim_slot`.

    granted: the job is now `submitting`, leased to the caller (`job` is the new row);
    full: every slot is taken, or another process's job has waited longer (asked again later);
    gone: the job is no longer queued, or another process holds it;
    canceled: a cancel was requested for it, so it was canceled instead (`job`, to announce).
    """

    outcome: Literal["granted", "full", "gone", "canceled"]
    job: Job | None = None


class JobLeases:
    """The lease columns of the jobs table; `records` writes the status changes they imply."""

    def __init__(self, records: JobStore) -> None:
        self._records = records
        self._db = records.db
        self._clock = records.clock

    # -- leases: which process owns a job (for several processes; issue 11) ----------------
    #
    # A single process claims with `until=None`: a lease without expiry that any other owner
    # may take over at once, so a restart under a new owner id never strands a job.

    async def claim(
        self, job_id: int, owner: str, until: float | None, *, message_id: int | None = None
    ) -> bool:
        """Take the job for `owner` until `until` (epoch); False when another owner holds it.

        `message_id`, when given, is recorded in the same statement (the pending message of a
        job just admitted: one write instead of two).
        """
        changed = await self._db.execute(
            """
            UPDATE jobs SET lease_owner = ?, lease_expires_at = ?,
                message_id = COALESCE(?, message_id)
            WHERE id = ? AND (lease_owner IS NULL OR lease_owner = ?
                OR lease_expires_at IS NULL OR lease_expires_at <= ?)
            """,
            owner,
            until,
            message_id,
            job_id,
            owner,
            self._clock.now(),
        )
        return changed == 1

    async def renew(self, owner: str, until: float | None) -> int:
        """Extend every active job's lease held by `owner`; returns how many."""
        statuses = [s.value for s in ACTIVE_STATUSES]
        return await self._db.execute(
            f"UPDATE jobs SET lease_expires_at = ? WHERE lease_owner = ? AND status IN "
            f"({', '.join('?' for _ in statuses)})",
            until,
            owner,
            *statuses,
        )

    async def release(self, owner: str, job_id: int | None = None) -> int:
        """Give up `owner`'s leases (one job, or all of them, e.g. on a clean shutdown)."""
        if job_id is None:
            return await self._db.execute(
                "UPDATE jobs SET lease_owner = NULL, lease_expires_at = NULL WHERE lease_owner = ?",
                owner,
            )
        return await self._db.execute(
            "UPDATE jobs SET lease_owner = NULL, lease_expires_at = NULL "
            "WHERE lease_owner = ? AND id = ?",
            owner,
            job_id,
        )

    # -- several processes: the work shared through the database (docs/decisions/011) -----

    async def expire_leases(self, owner: str) -> int:
        """End `owner`'s leases now but keep its name on them: others take the jobs at once.

        A clean shutdown does this rather than `release`: a job nobody ever claimed (owner
        NULL) is left to the process that admitted it for a lease period, an expired one is not.
        """
        return await self._db.execute(
            "UPDATE jobs SET lease_expires_at = ? WHERE lease_owner = ?",
            self._clock.now(),
            owner,
        )

    async def renew_held(
        self, owner: str, job_ids: Iterable[int], until: float
    ) -> dict[int, JobStatus]:
        """Extend `owner`'s lease on each of `job_ids`; return the ones still held, by status.

        An id missing from the answer was taken over by another process (or never held): the
        caller must stop working on it.
        """
        ids = sorted(set(job_ids))
        held: dict[int, JobStatus] = {}
        for start in range(0, len(ids), _BATCH):
            batch = ids[start : start + _BATCH]
            async with self._db.transaction() as tx:
                rows = await tx.fetchall(
                    f"UPDATE jobs SET lease_expires_at = ? "
                    f"WHERE lease_owner = ? AND id IN ({placeholders(batch)}) RETURNING id, status",
                    until,
                    owner,
                    *batch,
                )
            held.update({int(r["id"]): JobStatus(r["status"]) for r in rows})
        return held

    async def takeover_candidates(
        self, *, unclaimed_before: float, include_released_untold: bool = False, limit: int = 200
    ) -> list[Job]:
        """Jobs no live process works on, oldest first: the takeover scan's list.

        - unfinished jobs whose lease lapsed (the owner stopped renewing it, or shut down);
        - unfinished jobs nobody ever claimed, last changed before `unclaimed_before` (a
          process that admits a job claims it a moment later: it gets a lease period to do so);
        - finished jobs whose user was not told, under a lapsed lease (the owner died between
          the two) or, with `include_released_untold`, under none (an owner that gave up
          telling; retried when a process starts, as a single process does after a restart).
        """
        now = self._clock.now()
        active = [s.value for s in ACTIVE_STATUSES]
        rows = await self._db.fetchall(
            f"""
            SELECT * FROM jobs
            WHERE status IN ({placeholders(active)})
              AND (({_LAPSED}) OR (lease_owner IS NULL AND updated_at < ?))
            ORDER BY id LIMIT ?
            """,
            *active,
            now,
            unclaimed_before,
            limit,
        )
        released = " OR lease_owner IS NULL" if include_released_untold else ""
        rows += await self._db.fetchall(
            f"SELECT * FROM jobs WHERE {_UNTOLD} AND (({_LAPSED}){released}) ORDER BY id LIMIT ?",
            now,
            limit,
        )
        return [row_to_job(r) for r in rows]

    async def take_over(
        self, job_id: int, owner: str, until: float | None, *, force: bool = False
    ) -> Job | None:
        """Lease a job nobody live holds to `owner` (compare-and-set); the fresh row, or None.

        `force` takes it whatever its lease: for the only process of a SQLite database, whose
        previous run's leases have not expired yet but whose owner is certainly gone.
        """
        free = (
            ""
            if force
            else " AND (lease_owner IS NULL OR lease_owner = ? "
            "OR lease_expires_at IS NULL OR lease_expires_at <= ?)"
        )
        params: list[Any] = [owner, until, job_id]
        if not force:
            params += [owner, self._clock.now()]
        async with self._db.transaction() as tx:
            # slot_requested_at is cleared: the new owner queues the job afresh, so its old
            # place must not hold back other processes (see claim_slot).
            changed = await tx.execute(
                "UPDATE jobs SET lease_owner = ?, lease_expires_at = ?, slot_requested_at = NULL "
                f"WHERE id = ?{free}",
                *params,
            )
            if changed == 0:
                return None
            row = await tx.fetchone("SELECT * FROM jobs WHERE id = ?", job_id)
        return None if row is None else row_to_job(row)

    async def claim_slot(
        self,
        job_id: int,
        owner: str,
        *,
        limit: int,
        local_in_flight: int,
        until: float | None,
        timeout: float,
        sole_owner: bool = False,
    ) -> SlotClaim:
        """Start a queued job if the global cap allows: `queued` → `submitting`, atomically.

        The cap counts the caller's own predictions as it knows them (`local_in_flight`: a
        job whose task died no longer holds a slot) plus every other `submitting`/`running`
        row, whoever owns it and whether or not its lease is live: a dead process's
        predictions still run at the provider until someone takes them over and finishes
        them. One lock (`job-slots`) serializes every process's claims.

        Fairness across processes: a refused claim records when the job began to wait
        (`slot_requested_at`); free slots go first to the jobs that have waited longer, among
        those whose owner is alive, so one process's queue cannot take every freed slot.

        `sole_owner` (SQLite: no other process can share the database): every slot is the
        caller's to count, so the two counts over the other processes' rows are skipped; they
        walk every prediction in flight, which made a burst of N starts cost N² row reads.
        """
        now = self._clock.now()
        async with self._db.transaction(lock="job-slots") as tx:
            row = await tx.fetchone(
                "SELECT status, lease_owner, lease_expires_at, slot_requested_at, "
                "cancel_requested_at, cancel_requested_by FROM jobs WHERE id = ?",
                job_id,
            )
            if row is None or row["status"] != JobStatus.QUEUED.value:
                return SlotClaim("gone")
            holder, expires = row["lease_owner"], row["lease_expires_at"]
            if holder not in (None, owner) and expires is not None and expires > now:
                return SlotClaim("gone")
            if row["cancel_requested_at"] is not None:
                detail = f"canceled by user {row['cancel_requested_by']}"
                canceled = await self._records.transition(
                    job_id,
                    JobStatus.CANCELED,
                    expected=[JobStatus.QUEUED],
                    detail=detail,
                    conn=tx,
                    error_kind="canceled",
                    error_message=detail,
                    finished_at=now,
                    lease_owner=owner,
                    lease_expires_at=until,
                )
                return SlotClaim("canceled", canceled) if canceled else SlotClaim("gone")
            others = 0
            if not sole_owner:
                others = await tx.fetchval(
                    "SELECT COUNT(*) FROM jobs WHERE status IN (?, ?) "
                    "AND (lease_owner IS NULL OR lease_owner <> ?)",
                    *_IN_FLIGHT,
                    owner,
                )
            free = limit - local_in_flight - int(others or 0)
            if free > 0 and not sole_owner:
                # The free slots go first to jobs of live processes that have waited longer.
                since = row["slot_requested_at"] if row["slot_requested_at"] is not None else now
                ahead = await tx.fetchval(
                    """
                    SELECT COUNT(*) FROM jobs
                    WHERE status = ? AND slot_requested_at IS NOT NULL AND lease_owner <> ?
                      AND lease_expires_at > ?
                      AND (slot_requested_at < ? OR (slot_requested_at = ? AND id < ?))
                    """,
                    JobStatus.QUEUED.value,
                    owner,
                    now,
                    since,
                    since,
                    job_id,
                )
                free -= int(ahead or 0)
            if free <= 0:
                if row["slot_requested_at"] is None:
                    await tx.execute(
                        "UPDATE jobs SET slot_requested_at = ? WHERE id = ?", now, job_id
                    )
                return SlotClaim("full")
            started = await tx.fetchone(
                """
                UPDATE jobs SET status = ?, attempts = attempts + 1, submitted_at = ?,
                    deadline_at = ?, updated_at = ?, lease_owner = ?, lease_expires_at = ?,
                    slot_requested_at = NULL
                WHERE id = ? AND status = ?
                RETURNING *
                """,
                JobStatus.SUBMITTING.value,
                now,
                now + timeout,
                now,
                owner,
                until,
                job_id,
                JobStatus.QUEUED.value,
            )
            await tx.execute(
                "INSERT INTO job_events (job_id, status, at, detail) VALUES (?, ?, ?, ?)",
                job_id,
                JobStatus.SUBMITTING.value,
                now,
                None,
            )
        assert started is not None
        return SlotClaim("granted", row_to_job(started))

    async def in_flight_count(self) -> int:
        """`submitting` + `running` jobs of every process (what MAX_CONCURRENT_JOBS caps)."""
        return int(
            await self._db.fetchval("SELECT COUNT(*) FROM jobs WHERE status IN (?, ?)", *_IN_FLIGHT)
            or 0
        )

    async def request_cancel(self, job_id: int, by_user_id: int) -> bool:
        """Record a cancel for the job's owner to carry out; False when it is past canceling."""
        changed = await self._db.execute(
            f"""
            UPDATE jobs SET cancel_requested_at = COALESCE(cancel_requested_at, ?),
                cancel_requested_by = COALESCE(cancel_requested_by, ?)
            WHERE id = ? AND status IN ({placeholders(_CANCELABLE)})
            """,
            self._clock.now(),
            by_user_id,
            job_id,
            *_CANCELABLE,
        )
        return changed == 1

    async def cancel_requests(self, owner: str) -> list[tuple[int, int | None]]:
        """(job id, requested by) for `owner`'s jobs with a cancel request not yet carried out."""
        rows = await self._db.fetchall(
            f"""
            SELECT id, cancel_requested_by FROM jobs
            WHERE lease_owner = ? AND cancel_requested_at IS NOT NULL
              AND status IN ({placeholders(_CANCELABLE)})
            ORDER BY id
            """,
            owner,
            *_CANCELABLE,
        )
        return [
            (
                int(r["id"]),
                None if r["cancel_requested_by"] is None else int(r["cancel_requested_by"]),
            )
            for r in rows
        ]
