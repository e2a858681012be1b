"""JobStore: the jobs table and its transition log, in portable SQL."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from bot.clock import Clock, SystemClock
from bot.jobs.model import ACTIVE_STATUSES, Job, JobStatus, NewJob
from bot.storage.base import Database

# Columns of `jobs` that become a Job; newer columns (cancel requests, slot requests) are read
# by their own queries, so a column added by a migration never breaks `Job.from_row`.
_JOB_COLUMNS = frozenset(
    {f.name for f in dataclasses.fields(Job)} | {"input_json", "result_attachments_json"}
)
_IN_FLIGHT = (JobStatus.SUBMITTING.value, JobStatus.RUNNING.value)
_CANCELABLE = (JobStatus.QUEUED.value, JobStatus.SUBMITTING.value, JobStatus.RUNNING.value)
# Finished jobs whose user was never told. The same text as the partial index `jobs_untold`
# (migration 030): SQLite uses a partial index only when the query repeats its condition.
_UNTOLD = "notified = 0 AND status IN ('failed', 'canceled', 'timed_out', 'expired')"
# A lease nobody holds any more: expired, or taken without expiry (a single process's claim).
_LAPSED = "lease_owner IS NOT NULL AND (lease_expires_at IS NULL OR lease_expires_at <= ?)"
_BATCH = 500  # ids per IN (...) list, well under both databases' parameter limits


def _job(row: dict[str, Any]) -> Job:
    return Job.from_row({k: v for k, v in row.items() if k in _JOB_COLUMNS})


def _placeholders(values: Iterable[Any]) -> str:
    return ", ".join("?" for _ in values)


@dataclass(frozen=True)
class SlotClaim:
    """The answer to `JobStore.claim_slot`.

    granted: the job is now `submitting`, leased to the caller (`job` is the new row);
    full: every slot is taken, or another process's job has waited longer (asked again later);
    gone: the job is no longer queued, or another process holds it;
    canceled: a cancel was requested for it, so it was canceled instead (`job`, to announce).
    """

    outcome: Literal["granted", "full", "gone", "canceled"]
    job: Job | None = None


# Columns a caller may set through `update` / `transition`; everything else is managed here.
UPDATABLE = frozenset(
    {
        "interaction_token",
        "token_expires_at",
        "message_id",
        "prediction_id",
        "attempts",
        "submitted_at",
        "started_at",
        "finished_at",
        "delivered_at",
        "deadline_at",
        "provider_seconds",
        "output_count",
        "error_kind",
        "error_message",
        "refusal_reason",
        "refusal_detail",
        "result_message_id",
        "result_attachments",
        "delivery_method",
        "notified",
        "lease_owner",
        "lease_expires_at",
        "cancel_requested_at",
        "cancel_requested_by",
        "locale",
        "input",
        "image_count",
        "model",
    }
)


def _column_values(fields: dict[str, Any]) -> dict[str, Any]:
    unknown = set(fields) - UPDATABLE
    if unknown:
        raise ValueError(f"not updatable job fields: {sorted(unknown)}")
    out: dict[str, Any] = {}
    for name, value in fields.items():
        if name == "result_attachments":
            out["result_attachments_json"] = json.dumps(value)
        elif name == "input":
            out["input_json"] = json.dumps(value, ensure_ascii=False, sort_keys=True)
        elif name == "notified":
            out["notified"] = int(bool(value))
        else:
            out[name] = value
    return out


class JobStore:
    def __init__(self, db: Database, clock: Clock | None = None) -> None:
        self.db = db
        self.clock = clock or SystemClock()

    async def insert(
        self,
        new: NewJob,
        *,
        status: JobStatus = JobStatus.QUEUED,
        refusal_reason: str | None = None,
        refusal_detail: str | None = None,
        conn: Database | None = None,
    ) -> Job:
        """Write a new job (or a refused request) and its first event; return the stored job."""
        db = conn or self.db
        now = self.clock.now()
        async with db.transaction() as tx:
            job_id = await tx.fetchval(
                """
                INSERT INTO jobs (status, kind, user_id, guild_id, channel_id, locale,
                    application_id, interaction_id, interaction_token, token_expires_at,
                    parent_id, model, prompt, input_json, image_count, created_at, updated_at,
                    refusal_reason, refusal_detail, finished_at, upload_limit)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                RETURNING id
                """,
                status.value,
                new.kind,
                new.user_id,
                new.guild_id,
                new.channel_id,
                new.locale,
                new.application_id,
                new.interaction_id,
                new.interaction_token,
                new.token_expires_at,
                new.parent_id,
                new.model,
                new.prompt,
                json.dumps(new.input, ensure_ascii=False, sort_keys=True),
                new.image_count,
                now,
                now,
                refusal_reason,
                refusal_detail,
                now if status is JobStatus.REFUSED else None,
                new.upload_limit,
            )
            await tx.execute(
                "INSERT INTO job_events (job_id, status, at, detail) VALUES (?, ?, ?, ?)",
                job_id,
                status.value,
                now,
                refusal_reason,
            )
            row = await tx.fetchone("SELECT * FROM jobs WHERE id = ?", job_id)
        assert row is not None
        return _job(row)

    async def get(self, job_id: int, *, conn: Database | None = None) -> Job | None:
        row = await (conn or self.db).fetchone("SELECT * FROM jobs WHERE id = ?", job_id)
        return None if row is None else _job(row)

    async def update(self, job_id: int, **fields: Any) -> Job | None:
        """Set fields without a status change (e.g. the pending message id once known)."""
        values = _column_values(fields)
        values["updated_at"] = self.clock.now()
        assignments = ", ".join(f"{name} = ?" for name in values)
        async with self.db.transaction() as tx:
            await tx.execute(
                f"UPDATE jobs SET {assignments} WHERE id = ?", *values.values(), job_id
            )
            row = await tx.fetchone("SELECT * FROM jobs WHERE id = ?", job_id)
        return None if row is None else _job(row)

    async def transition(
        self,
        job_id: int,
        to: JobStatus,
        *,
        expected: Iterable[JobStatus] | None = None,
        detail: str | None = None,
        conn: Database | None = None,
        **fields: Any,
    ) -> Job | None:
        """Change status (and fields) atomically with its event row.

        With `expected`, the change happens only if the job is currently in one of those
        statuses (compare-and-set); returns None when it was not, so two actors (a cancel and
        a poll) can never both win.
        """
        values = _column_values(fields)
        now = self.clock.now()
        values["status"] = to.value
        values["updated_at"] = now
        assignments = ", ".join(f"{name} = ?" for name in values)
        params: list[Any] = [*values.values(), job_id]
        where = "id = ?"
        if expected is not None:
            statuses = [s.value for s in expected]
            where += f" AND status IN ({', '.join('?' for _ in statuses)})"
            params.extend(statuses)
        async with (conn or self.db).transaction() as tx:
            changed = await tx.execute(f"UPDATE jobs SET {assignments} WHERE {where}", *params)
            if changed == 0:
                return None
            await tx.execute(
                "INSERT INTO job_events (job_id, status, at, detail) VALUES (?, ?, ?, ?)",
                job_id,
                to.value,
                now,
                detail,
            )
            row = await tx.fetchone("SELECT * FROM jobs WHERE id = ?", job_id)
        return None if row is None else _job(row)

    async def events(self, job_id: int) -> list[dict[str, Any]]:
        return await self.db.fetchall(
            "SELECT status, at, detail FROM job_events WHERE job_id = ? ORDER BY id", job_id
        )

    async def unfinished(self) -> list[Job]:
        """Every job a restarted process must pick up, oldest first (their original order)."""
        statuses = [s.value for s in ACTIVE_STATUSES]
        rows = await self.db.fetchall(
            f"SELECT * FROM jobs WHERE status IN ({', '.join('?' for _ in statuses)}) ORDER BY id",
            *statuses,
        )
        return [_job(r) for r in rows]

    async def unnotified_terminal(self) -> list[Job]:
        """Finished jobs whose user was not told yet (the process died in between)."""
        rows = await self.db.fetchall(
            "SELECT * FROM jobs WHERE notified = 0 AND status IN (?, ?, ?, ?) ORDER BY id",
            JobStatus.FAILED.value,
            JobStatus.CANCELED.value,
            JobStatus.TIMED_OUT.value,
            JobStatus.EXPIRED.value,
        )
        return [_job(r) for r in rows]

    async def active_for_user(self, user_id: int, *, conn: Database | None = None) -> list[Job]:
        statuses = [s.value for s in ACTIVE_STATUSES]
        rows = await (conn or self.db).fetchall(
            f"SELECT * FROM jobs WHERE user_id = ? AND status IN "
            f"({', '.join('?' for _ in statuses)}) ORDER BY id",
            user_id,
            *statuses,
        )
        return [_job(r) for r in rows]

    # -- leases: which process owns a job (for several processes; issue 11) ----------------
    #
    # A single process claims with `until=None`: a lease without expiry that any other owner
    # may take over at once, so a restart under a new owner id never strands a job.

    async def claim(self, job_id: int, owner: str, until: float | None) -> bool:
        """Take the job for `owner` until `until` (epoch); False when another owner holds it."""
        changed = await self.db.execute(
            """
            UPDATE jobs SET lease_owner = ?, lease_expires_at = ?
            WHERE id = ? AND (lease_owner IS NULL OR lease_owner = ?
                OR lease_expires_at IS NULL OR lease_expires_at <= ?)
            """,
            owner,
            until,
            job_id,
            owner,
            self.clock.now(),
        )
        return changed == 1

    async def renew(self, owner: str, until: float | None) -> int:
        """Extend every active job's lease held by `owner`; returns how many."""
        statuses = [s.value for s in ACTIVE_STATUSES]
        return await self.db.execute(
            f"UPDATE jobs SET lease_expires_at = ? WHERE lease_owner = ? AND status IN "
            f"({', '.join('?' for _ in statuses)})",
            until,
            owner,
            *statuses,
        )

    async def release(self, owner: str, job_id: int | None = None) -> int:
        """Give up `owner`'s leases (one job, or all of them, e.g. on a clean shutdown)."""
        if job_id is None:
            return await self.db.execute(
                "UPDATE jobs SET lease_owner = NULL, lease_expires_at = NULL WHERE lease_owner = ?",
                owner,
            )
        return await self.db.execute(
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
        return await self.db.execute(
            "UPDATE jobs SET lease_expires_at = ? WHERE lease_owner = ?",
            self.clock.now(),
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
            async with self.db.transaction() as tx:
                rows = await tx.fetchall(
                    f"UPDATE jobs SET lease_expires_at = ? "
                    f"WHERE lease_owner = ? AND id IN ({_placeholders(batch)}) RETURNING id, status",
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
        now = self.clock.now()
        active = [s.value for s in ACTIVE_STATUSES]
        rows = await self.db.fetchall(
            f"""
            SELECT * FROM jobs
            WHERE status IN ({_placeholders(active)})
              AND (({_LAPSED}) OR (lease_owner IS NULL AND updated_at < ?))
            ORDER BY id LIMIT ?
            """,
            *active,
            now,
            unclaimed_before,
            limit,
        )
        released = " OR lease_owner IS NULL" if include_released_untold else ""
        rows += await self.db.fetchall(
            f"SELECT * FROM jobs WHERE {_UNTOLD} AND (({_LAPSED}){released}) ORDER BY id LIMIT ?",
            now,
            limit,
        )
        return [_job(r) for r in rows]

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
            params += [owner, self.clock.now()]
        async with self.db.transaction() as tx:
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
        return None if row is None else _job(row)

    async def claim_slot(
        self,
        job_id: int,
        owner: str,
        *,
        limit: int,
        local_in_flight: int,
        until: float | None,
        timeout: float,
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
        """
        now = self.clock.now()
        async with self.db.transaction(lock="job-slots") as tx:
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
                canceled = await self.transition(
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
            others = await tx.fetchval(
                "SELECT COUNT(*) FROM jobs WHERE status IN (?, ?) "
                "AND (lease_owner IS NULL OR lease_owner <> ?)",
                *_IN_FLIGHT,
                owner,
            )
            free = limit - local_in_flight - int(others or 0)
            if free > 0:
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
            await tx.execute(
                """
                UPDATE jobs SET status = ?, attempts = attempts + 1, submitted_at = ?,
                    deadline_at = ?, updated_at = ?, lease_owner = ?, lease_expires_at = ?,
                    slot_requested_at = NULL
                WHERE id = ? AND status = ?
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
            started = await tx.fetchone("SELECT * FROM jobs WHERE id = ?", job_id)
        assert started is not None
        return SlotClaim("granted", _job(started))

    async def in_flight_count(self) -> int:
        """`submitting` + `running` jobs of every process (what MAX_CONCURRENT_JOBS caps)."""
        return int(
            await self.db.fetchval("SELECT COUNT(*) FROM jobs WHERE status IN (?, ?)", *_IN_FLIGHT)
            or 0
        )

    async def request_cancel(self, job_id: int, by_user_id: int) -> bool:
        """Record a cancel for the job's owner to carry out; False when it is past canceling."""
        changed = await self.db.execute(
            f"""
            UPDATE jobs SET cancel_requested_at = COALESCE(cancel_requested_at, ?),
                cancel_requested_by = COALESCE(cancel_requested_by, ?)
            WHERE id = ? AND status IN ({_placeholders(_CANCELABLE)})
            """,
            self.clock.now(),
            by_user_id,
            job_id,
            *_CANCELABLE,
        )
        return changed == 1

    async def cancel_requests(self, owner: str) -> list[tuple[int, int | None]]:
        """(job id, requested by) for `owner`'s jobs with a cancel request not yet carried out."""
        rows = await self.db.fetchall(
            f"""
            SELECT id, cancel_requested_by FROM jobs
            WHERE lease_owner = ? AND cancel_requested_at IS NOT NULL
              AND status IN ({_placeholders(_CANCELABLE)})
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

    async def recent_succeeded(self, limit: int = 200) -> list[Job]:
        """The last `limit` delivered jobs, oldest first (the scheduler learns durations)."""
        rows = await self.db.fetchall(
            "SELECT * FROM jobs WHERE status = ? AND started_at IS NOT NULL "
            "AND finished_at IS NOT NULL ORDER BY id DESC LIMIT ?",
            JobStatus.SUCCEEDED.value,
            limit,
        )
        return [_job(r) for r in reversed(rows)]
