"""JobStore: the jobs table and its transition log, in portable SQL.

Which process owns a job (leases, slots, takeovers, cancel requests) is `JobLeases`, in
`bot/storage/job_leases.py`, over the same table.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable
from typing import Any

from bot.clock import Clock, SystemClock
from bot.jobs.costs import settle_micros
from bot.jobs.model import ACTIVE_STATUSES, TERMINAL_STATUSES, Job, JobStatus, NewJob
from bot.storage.base import Database

# Columns of `jobs` that become a Job; newer columns (cancel requests, slot requests) are read
# by their own queries, so a column added by a migration never breaks `Job.from_row`.
_JOB_COLUMNS = frozenset(
    {f.name for f in dataclasses.fields(Job)}
    | {"input_json", "result_attachments_json", "notes_json"}
)


def row_to_job(row: dict[str, Any]) -> Job:
    """A jobs row as a Job (columns added by later migrations are left out)."""
    return Job.from_row({k: v for k, v in row.items() if k in _JOB_COLUMNS})


def placeholders(values: Iterable[Any]) -> str:
    return ", ".join("?" for _ in values)


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
        "provider_images",
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
        """Write a new job (or a refused request) and its first event; return the stored job.

        Its cost is its estimate from here until it ends (a refused request costs nothing).
        """
        db = conn or self.db
        now = self.clock.now()
        estimate = new.cost_estimate
        async with db.transaction() as tx:
            job_id = await tx.fetchval(
                """
                INSERT INTO jobs (status, kind, user_id, guild_id, channel_id, locale,
                    application_id, interaction_id, interaction_token, token_expires_at,
                    parent_id, model, prompt, input_json, image_count, created_at, updated_at,
                    refusal_reason, refusal_detail, finished_at, upload_limit, parent_image,
                    price_micros, price_unit, cost_estimated_micros, cost_micros,
                    style, spoiler, notes_json)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,
                    ?, ?, ?, ?, ?, ?, ?)
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
                new.parent_image,
                new.price_micros,
                new.price_unit,
                estimate,
                0 if status is JobStatus.REFUSED else estimate,
                new.style,
                int(new.spoiler),
                json.dumps(list(new.notes), ensure_ascii=False) if new.notes else None,
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
        return row_to_job(row)

    async def get(self, job_id: int, *, conn: Database | None = None) -> Job | None:
        row = await (conn or self.db).fetchone("SELECT * FROM jobs WHERE id = ?", job_id)
        return None if row is None else row_to_job(row)

    async def update(self, job_id: int, **fields: Any) -> Job | None:
        """Set fields without a status change (e.g. the pending message id once known)."""
        values = _column_values(fields)
        values["updated_at"] = self.clock.now()
        assignments = ", ".join(f"{name} = ?" for name in values)
        async with self.db.transaction() as tx:
            row = await tx.fetchone(
                f"UPDATE jobs SET {assignments} WHERE id = ? RETURNING *", *values.values(), job_id
            )
        return None if row is None else row_to_job(row)

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
            # RETURNING: the compare-and-set and the fresh row in one statement.
            row = await tx.fetchone(
                f"UPDATE jobs SET {assignments} WHERE {where} RETURNING *", *params
            )
            if row is None:
                return None
            await tx.execute(
                "INSERT INTO job_events (job_id, status, at, detail) VALUES (?, ?, ?, ?)",
                job_id,
                to.value,
                now,
                detail,
            )
            if to in TERMINAL_STATUSES:
                # The job's end settles its cost, in the same transaction as the end itself
                # (after the compare-and-set, which holds the row on PostgreSQL).
                row = await self._settle(tx, row)
        return None if row is None else row_to_job(row)

    @staticmethod
    async def _settle(tx: Database, row: dict[str, Any]) -> dict[str, Any]:
        settled = settle_micros(
            price_micros=row["price_micros"],
            unit=row["price_unit"],
            estimated=row["cost_estimated_micros"],
            reached_provider=row["prediction_id"] is not None
            and row["status"] != JobStatus.REFUSED.value,
            provider_images=row["provider_images"],
        )
        if settled != row["cost_micros"]:
            await tx.execute("UPDATE jobs SET cost_micros = ? WHERE id = ?", settled, row["id"])
            row = {**row, "cost_micros": settled}
        return row

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
        return [row_to_job(r) for r in rows]

    async def unnotified_terminal(self) -> list[Job]:
        """Finished jobs whose user was not told yet (the process died in between)."""
        rows = await self.db.fetchall(
            "SELECT * FROM jobs WHERE notified = 0 AND status IN (?, ?, ?, ?) ORDER BY id",
            JobStatus.FAILED.value,
            JobStatus.CANCELED.value,
            JobStatus.TIMED_OUT.value,
            JobStatus.EXPIRED.value,
        )
        return [row_to_job(r) for r in rows]

    async def active_for_user(self, user_id: int, *, conn: Database | None = None) -> list[Job]:
        statuses = [s.value for s in ACTIVE_STATUSES]
        rows = await (conn or self.db).fetchall(
            f"SELECT * FROM jobs WHERE user_id = ? AND status IN "
            f"({', '.join('?' for _ in statuses)}) ORDER BY id",
            user_id,
            *statuses,
        )
        return [row_to_job(r) for r in rows]

    async def recent_succeeded(self, limit: int = 200) -> list[Job]:
        """The last `limit` delivered jobs, oldest first (the scheduler learns durations)."""
        rows = await self.db.fetchall(
            "SELECT * FROM jobs WHERE status = ? AND started_at IS NOT NULL "
            "AND finished_at IS NOT NULL ORDER BY id DESC LIMIT ?",
            JobStatus.SUCCEEDED.value,
            limit,
        )
        return [row_to_job(r) for r in reversed(rows)]
