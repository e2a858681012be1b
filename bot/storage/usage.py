"""UsageStore: the SQL behind quotas, /usage, the CSV export and /forget-me.

The jobs table is the usage log. What counts against a quota is decided in one place,
`COUNTED`: accepted jobs that are still going, that succeeded, or that reached the provider
(they have a prediction id). Refused requests, and jobs that ended before the provider ran them
(failed, canceled or expired while queued), cost nothing and count for nothing.

/forget-me deletes a user's rows; what must survive for quotas and server totals is folded
into `anonymous_usage` first (see migration 020 and ADR 007).
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from bot.clock import Clock, SystemClock
from bot.jobs.model import ACTIVE_STATUSES, JobStatus
from bot.storage.base import Database

DAY = 86_400
_ACTIVE = tuple(sorted(s.value for s in ACTIVE_STATUSES))
_ACTIVE_SQL = ", ".join(f"'{s}'" for s in _ACTIVE)
# The one definition of "this job's images count against quotas and totals".
COUNTED = (
    f"(status IN ({_ACTIVE_SQL}, 'succeeded')"
    " OR (status <> 'refused' AND prediction_id IS NOT NULL))"
)
ACCEPTED = "status <> 'refused'"
# guild_id 0 stands for direct messages in anonymous_usage (it is part of the primary key).
DM_GUILD = 0


def day_start(now: float) -> float:
    """Epoch seconds of the UTC midnight at or before `now`."""
    return float(int(now // DAY) * DAY)


def day_key(ts: float) -> str:
    """The UTC date of `ts` as YYYY-MM-DD (anonymous_usage.day)."""
    return time.strftime("%Y-%m-%d", time.gmtime(ts))


def _guild_filter(guild_id: int | None) -> tuple[str, tuple[Any, ...]]:
    # `guild_id IS ?` is SQLite-only; two spellings keep the SQL portable.
    if guild_id is None:
        return "guild_id IS NULL", ()
    return "guild_id = ?", (guild_id,)


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


@dataclass(frozen=True)
class AdmissionSnapshot:
    """One member's standing in one place, read in a single statement (see UsageStore)."""

    settings: dict[str, Any]  # the guild_settings columns; all None when the server has none
    blocked: bool
    role_limit_count: int
    last_request: float | None  # latest accepted request here since `recent_since`
    active: int  # active jobs in every server
    user_images: int  # counted images here today
    anon_images: int  # today's images kept for this user after /forget-me
    anon_last: float | None  # their latest request kept after /forget-me
    anon_guild_images: int  # today's images kept for the server after /forget-me
    guild_images: int  # counted images in the server today (0 when no daily cap applies)


@dataclass(frozen=True)
class ForgetReport:
    """What /forget-me removed, and what it kept on purpose."""

    jobs_deleted: int
    events_deleted: int
    active_jobs_kept: int
    images_kept_anonymously: int
    moderation_refs_cleared: int


class UsageStore:
    def __init__(self, db: Database, clock: Clock | None = None) -> None:
        self.db = db
        self.clock = clock or SystemClock()
        self._salt: str | None = None

    # ----- the anonymous counters ---------------------------------------------------------

    async def salt(self, conn: Database | None = None, *, create: bool = False) -> str | None:
        """The installation's hashing salt; made on first /forget-me, None until then."""
        if self._salt is not None:
            return self._salt
        db = conn or self.db
        value = await db.fetchval("SELECT salt FROM anonymous_salt WHERE id = 1")
        if value is None and create:
            await db.execute(
                "INSERT INTO anonymous_salt (id, salt, created_at) VALUES (1, ?, ?)"
                " ON CONFLICT (id) DO NOTHING",
                secrets.token_hex(16),
                self.clock.now(),
            )
            value = await db.fetchval("SELECT salt FROM anonymous_salt WHERE id = 1")
        if value is not None:
            self._salt = str(value)
        return self._salt

    @staticmethod
    def user_hash(salt: str, user_id: int) -> str:
        return hashlib.sha256(f"{salt}:{user_id}".encode()).hexdigest()[:32]

    async def anonymous_user_today(
        self, conn: Database, user_id: int, guild_id: int | None, now: float, since: float
    ) -> tuple[int, float | None]:
        """(images today, latest request at or after `since`) kept for a forgotten user."""
        salt = await self.salt(conn)
        if salt is None:
            return 0, None
        row = await conn.fetchone(
            "SELECT SUM(CASE WHEN day = ? THEN images ELSE 0 END) AS images,"
            " MAX(last_request_at) AS last FROM anonymous_usage"
            " WHERE guild_id = ? AND user_hash = ? AND day >= ?",
            day_key(now),
            DM_GUILD if guild_id is None else guild_id,
            self.user_hash(salt, user_id),
            day_key(min(since, day_start(now))),
        )
        if row is None:
            return 0, None
        last = row["last"]
        return int(row["images"] or 0), (
            float(last) if last is not None and last >= since else None
        )

    async def anonymous_guild_images(self, conn: Database, guild_id: int, now: float) -> int:
        value = await conn.fetchval(
            "SELECT SUM(images) FROM anonymous_usage WHERE guild_id = ? AND day = ?",
            guild_id,
            day_key(now),
        )
        return int(value or 0)

    # ----- what admission reads (indexed: jobs_user_created, jobs_guild_created, ...) --------

    async def admission_snapshot(
        self,
        conn: Database,
        *,
        user_id: int,
        guild_id: int | None,
        now: float,
        recent_since: float,
        guild_daily_default: int = 0,
    ) -> AdmissionSnapshot:
        """Everything admission reads about a member and a server, in one statement.

        One round trip matters: admission runs before Discord's acknowledgement, and each
        statement is a thread hop in aiosqlite. The server's images today are summed only when
        a daily cap applies (the server's, else `guild_daily_default`); CASE evaluates the
        subquery lazily. Each scalar subquery uses its own index; on
        PostgreSQL the single statement also sees one consistent snapshot, so a concurrent
        /forget-me is counted exactly once (either as rows or as counters).
        """
        today = day_start(now)
        where, params = _guild_filter(guild_id)
        anon_guild = DM_GUILD if guild_id is None else guild_id
        # NULL never equals anything: before any /forget-me there is no hash to look for.
        hashed = self.user_hash(self._salt, user_id) if self._salt is not None else None
        row = await conn.fetchone(
            f"""
            SELECT s.*,
              (SELECT COUNT(*) FROM guild_blocked_users
                 WHERE guild_id = ? AND user_id = ?) AS x_blocked,
              (SELECT COUNT(*) FROM guild_role_limits WHERE guild_id = ?) AS x_role_limits,
              (SELECT salt FROM anonymous_salt WHERE id = 1) AS x_salt,
              (SELECT MAX(created_at) FROM jobs
                 WHERE user_id = ? AND created_at >= ? AND {where} AND {ACCEPTED})
                 AS x_last_request,
              (SELECT COUNT(*) FROM jobs
                 WHERE user_id = ? AND status IN ({_ACTIVE_SQL})) AS x_active,
              (SELECT SUM(image_count) FROM jobs
                 WHERE user_id = ? AND created_at >= ? AND {where} AND {COUNTED})
                 AS x_user_images,
              (SELECT SUM(images) FROM anonymous_usage
                 WHERE guild_id = ? AND user_hash = ? AND day = ?) AS x_anon_images,
              (SELECT MAX(last_request_at) FROM anonymous_usage
                 WHERE guild_id = ? AND user_hash = ? AND day >= ?) AS x_anon_last,
              (SELECT SUM(images) FROM anonymous_usage
                 WHERE guild_id = ? AND day = ?) AS x_anon_guild_images,
              CASE WHEN COALESCE(s.guild_daily_limit, ?) > 0 THEN
                (SELECT SUM(image_count) FROM jobs
                   WHERE guild_id = ? AND created_at >= ? AND {COUNTED})
              END AS x_guild_images
            FROM (SELECT 1 AS one) AS x LEFT JOIN guild_settings s ON s.guild_id = ?
            """,
            guild_id,
            user_id,
            guild_id,
            user_id,
            recent_since,
            *params,
            user_id,
            user_id,
            today,
            *params,
            anon_guild,
            hashed,
            day_key(now),
            anon_guild,
            hashed,
            day_key(min(recent_since, today)),
            anon_guild,
            day_key(now),
            guild_daily_default,
            guild_id,
            today,
            guild_id,
        )
        assert row is not None  # the LEFT JOIN always yields one row
        anon_images = int(row["x_anon_images"] or 0)
        anon_last = row["x_anon_last"]
        if hashed is None and row["x_salt"] is not None:
            # First sight of the salt in this process: look the user up once the slow way.
            self._salt = str(row["x_salt"])
            anon_images, anon_last = await self.anonymous_user_today(
                conn, user_id, guild_id, now, recent_since
            )
        return AdmissionSnapshot(
            settings={k: v for k, v in row.items() if not k.startswith("x_") and k != "one"},
            blocked=bool(row["x_blocked"]),
            role_limit_count=int(row["x_role_limits"] or 0),
            last_request=_float(row["x_last_request"]),
            active=int(row["x_active"] or 0),
            user_images=int(row["x_user_images"] or 0),
            anon_images=anon_images,
            anon_last=_float(anon_last),
            anon_guild_images=int(row["x_anon_guild_images"] or 0),
            guild_images=int(row["x_guild_images"] or 0),
        )

    async def user_images_since(
        self, conn: Database, user_id: int, guild_id: int | None, since: float
    ) -> int:
        where, params = _guild_filter(guild_id)
        value = await conn.fetchval(
            f"SELECT SUM(image_count) FROM jobs WHERE user_id = ? AND created_at >= ?"
            f" AND {where} AND {COUNTED}",
            user_id,
            since,
            *params,
        )
        return int(value or 0)

    async def guild_images_since(self, conn: Database, guild_id: int, since: float) -> int:
        value = await conn.fetchval(
            f"SELECT SUM(image_count) FROM jobs WHERE guild_id = ? AND created_at >= ?"
            f" AND {COUNTED}",
            guild_id,
            since,
        )
        return int(value or 0)

    async def last_request_at(
        self, conn: Database, user_id: int, guild_id: int | None, since: float
    ) -> float | None:
        """The user's latest accepted request here at or after `since` (for the cooldown)."""
        where, params = _guild_filter(guild_id)
        value = await conn.fetchval(
            f"SELECT MAX(created_at) FROM jobs WHERE user_id = ? AND created_at >= ?"
            f" AND {where} AND {ACCEPTED}",
            user_id,
            since,
            *params,
        )
        return None if value is None else float(value)

    async def active_jobs(self, conn: Database, user_id: int) -> int:
        """The user's queued + submitting + running + delivering jobs, in every server."""
        value = await conn.fetchval(
            f"SELECT COUNT(*) FROM jobs WHERE user_id = ? AND status IN ({_ACTIVE_SQL})",
            user_id,
        )
        return int(value or 0)

    # ----- /usage ---------------------------------------------------------------------------

    async def totals(
        self, *, guild_id: int | None, user_id: int | None, since: float, until: float
    ) -> dict[str, Any]:
        """Requests, accepted, refused, images and provider seconds over [since, until)."""
        where, params = self._scope(guild_id, user_id, since, until)
        row = await self.db.fetchone(
            f"SELECT COUNT(*) AS requests,"
            f" SUM(CASE WHEN {ACCEPTED} THEN 1 ELSE 0 END) AS accepted,"
            f" SUM(CASE WHEN status = 'refused' THEN 1 ELSE 0 END) AS refused,"
            f" SUM(CASE WHEN {COUNTED} THEN image_count ELSE 0 END) AS images,"
            f" SUM(output_count) AS outputs,"
            f" SUM(provider_seconds) AS provider_seconds"
            f" FROM jobs WHERE {where}",
            *params,
        )
        row = row or {}
        return {
            "requests": int(row.get("requests") or 0),
            "accepted": int(row.get("accepted") or 0),
            "refused": int(row.get("refused") or 0),
            "images": int(row.get("images") or 0),
            "outputs": int(row.get("outputs") or 0),
            "provider_seconds": float(row.get("provider_seconds") or 0.0),
        }

    async def per_model(
        self, *, guild_id: int | None, user_id: int | None, since: float, until: float
    ) -> list[dict[str, Any]]:
        where, params = self._scope(guild_id, user_id, since, until)
        rows = await self.db.fetchall(
            f"SELECT model, COUNT(*) AS requests,"
            f" SUM(CASE WHEN {COUNTED} THEN image_count ELSE 0 END) AS images,"
            f" SUM(provider_seconds) AS provider_seconds"
            f" FROM jobs WHERE {where} AND {ACCEPTED}"
            f" GROUP BY model ORDER BY images DESC, requests DESC, model",
            *params,
        )
        return [
            {
                "model": r["model"],
                "requests": int(r["requests"] or 0),
                "images": int(r["images"] or 0),
                "provider_seconds": float(r["provider_seconds"] or 0.0),
            }
            for r in rows
        ]

    async def refused_by_reason(self, guild_id: int, since: float, until: float) -> dict[str, int]:
        rows = await self.db.fetchall(
            "SELECT refusal_reason, COUNT(*) AS n FROM jobs WHERE guild_id = ?"
            " AND created_at >= ? AND created_at < ? AND status = 'refused'"
            " GROUP BY refusal_reason",
            guild_id,
            since,
            until,
        )
        return {str(r["refusal_reason"] or "unknown"): int(r["n"]) for r in rows}

    async def failures_by_kind(self, guild_id: int, since: float, until: float) -> dict[str, int]:
        """Jobs that ended without a result, by error kind (or by status when it has none)."""
        rows = await self.db.fetchall(
            "SELECT COALESCE(error_kind, status) AS kind, COUNT(*) AS n FROM jobs"
            " WHERE guild_id = ? AND created_at >= ? AND created_at < ?"
            " AND status IN ('failed', 'canceled', 'timed_out', 'expired')"
            " GROUP BY COALESCE(error_kind, status)",
            guild_id,
            since,
            until,
        )
        return {str(r["kind"]): int(r["n"]) for r in rows}

    async def top_users(
        self, guild_id: int, since: float, until: float, limit: int = 10
    ) -> list[dict[str, Any]]:
        rows = await self.db.fetchall(
            f"SELECT user_id, COUNT(*) AS requests,"
            f" SUM(CASE WHEN {COUNTED} THEN image_count ELSE 0 END) AS images"
            f" FROM jobs WHERE guild_id = ? AND created_at >= ? AND created_at < ?"
            f" AND {ACCEPTED} GROUP BY user_id ORDER BY images DESC, requests DESC, user_id"
            f" LIMIT ?",
            guild_id,
            since,
            until,
            limit,
        )
        return [
            {
                "user_id": int(r["user_id"]),
                "requests": int(r["requests"]),
                "images": int(r["images"] or 0),
            }
            for r in rows
        ]

    async def anonymous_totals(self, guild_id: int, since: float, until: float) -> dict[str, Any]:
        """What forgotten users left behind in this server over the period (names nobody)."""
        row = await self.db.fetchone(
            "SELECT SUM(requests) AS requests, SUM(refused) AS refused, SUM(images) AS images,"
            " SUM(provider_seconds) AS provider_seconds FROM anonymous_usage"
            " WHERE guild_id = ? AND day >= ? AND day <= ?",
            guild_id,
            day_key(since),
            # `until` is exclusive: a period ending exactly at midnight excludes that day.
            day_key(until - 0.001),
        )
        row = row or {}
        return {
            "requests": int(row.get("requests") or 0),
            "refused": int(row.get("refused") or 0),
            "images": int(row.get("images") or 0),
            "provider_seconds": float(row.get("provider_seconds") or 0.0),
        }

    async def export_rows(self, guild_id: int, since: float, until: float) -> list[dict[str, Any]]:
        return await self.db.fetchall(
            "SELECT id, created_at, user_id, channel_id, model, status, image_count,"
            " output_count, prediction_id, provider_seconds, error_kind, refusal_reason,"
            " refusal_detail, prompt, input_json FROM jobs"
            " WHERE guild_id = ? AND created_at >= ? AND created_at < ? ORDER BY id",
            guild_id,
            since,
            until,
        )

    @staticmethod
    def _scope(
        guild_id: int | None, user_id: int | None, since: float, until: float
    ) -> tuple[str, list[Any]]:
        clauses = ["created_at >= ?", "created_at < ?"]
        params: list[Any] = [since, until]
        if guild_id is not None:
            clauses.append("guild_id = ?")
            params.append(guild_id)
        if user_id is not None:
            clauses.append("user_id = ?")
            params.append(user_id)
        return " AND ".join(clauses), params

    # ----- /forget-me -----------------------------------------------------------------------

    async def forget_user(self, user_id: int) -> ForgetReport:
        """Delete the user's finished jobs and events everywhere, keeping quotas and totals.

        Jobs still in flight are kept (deleting them would strand the scheduler); the caller
        says so and the user can forget again once they finish. The user's id is cleared from
        the moderation tables they wrote to (added_by, blocked_by), but a block placed ON the
        user stays: forgetting must not be a way out of a ban.
        """
        now = self.clock.now()
        today = day_start(now)
        # Hashed rows are kept for today and yesterday: the daily quota plus a cooldown
        # (at most a day) that began before midnight.
        hashed_from = day_key(today - DAY)
        async with self.db.transaction(lock=f"forget:{user_id}") as tx:
            rows = await tx.fetchall(
                f"SELECT guild_id, created_at, status,"
                f" CASE WHEN {COUNTED} THEN image_count ELSE 0 END AS counted,"
                f" provider_seconds FROM jobs"
                f" WHERE user_id = ? AND status NOT IN ({_ACTIVE_SQL})",
                user_id,
            )
            active = int(
                await tx.fetchval(
                    f"SELECT COUNT(*) FROM jobs WHERE user_id = ? AND status IN ({_ACTIVE_SQL})",
                    user_id,
                )
                or 0
            )
            images_today = 0
            if rows:
                salt = await self.salt(tx, create=True)
                assert salt is not None
                hashed = self.user_hash(salt, user_id)
                buckets: dict[tuple[str, int, str], dict[str, Any]] = defaultdict(
                    lambda: {
                        "requests": 0,
                        "refused": 0,
                        "images": 0,
                        "provider_seconds": 0.0,
                        "last": None,
                    }
                )
                for r in rows:
                    day = day_key(r["created_at"])
                    guild = DM_GUILD if r["guild_id"] is None else int(r["guild_id"])
                    keep_hash = day >= hashed_from
                    b = buckets[(day, guild, hashed if keep_hash else "")]
                    if r["status"] == JobStatus.REFUSED.value:
                        b["refused"] += 1
                        continue
                    b["requests"] += 1
                    b["images"] += int(r["counted"] or 0)
                    b["provider_seconds"] += float(r["provider_seconds"] or 0.0)
                    if keep_hash:
                        b["last"] = max(b["last"] or 0.0, float(r["created_at"]))
                    if r["created_at"] >= today:
                        images_today += int(r["counted"] or 0)
                for (day, guild, user_key), b in sorted(buckets.items()):
                    await self._add_anonymous(tx, day, guild, user_key, b)
            events = await tx.execute(
                f"DELETE FROM job_events WHERE job_id IN (SELECT id FROM jobs"
                f" WHERE user_id = ? AND status NOT IN ({_ACTIVE_SQL}))",
                user_id,
            )
            jobs = await tx.execute(
                f"DELETE FROM jobs WHERE user_id = ? AND status NOT IN ({_ACTIVE_SQL})", user_id
            )
            refs = await tx.execute(
                "UPDATE guild_blocked_terms SET added_by = NULL WHERE added_by = ?", user_id
            )
            refs += await tx.execute(
                "UPDATE guild_blocked_users SET blocked_by = NULL WHERE blocked_by = ?", user_id
            )
            await self._prune_anonymous(tx, hashed_from)
        return ForgetReport(
            jobs_deleted=jobs,
            events_deleted=events,
            active_jobs_kept=active,
            images_kept_anonymously=images_today,
            moderation_refs_cleared=refs,
        )

    async def prune_anonymous(self) -> int:
        """Fold hashed counters older than yesterday into the per-server totals."""
        keep_from = day_key(day_start(self.clock.now()) - DAY)
        async with self.db.transaction(lock="anonymous-usage") as tx:
            return await self._prune_anonymous(tx, keep_from)

    async def _prune_anonymous(self, tx: Database, keep_from: str) -> int:
        rows = await tx.fetchall(
            "SELECT * FROM anonymous_usage WHERE user_hash <> '' AND day < ?", keep_from
        )
        for r in rows:
            await self._add_anonymous(
                tx,
                r["day"],
                int(r["guild_id"]),
                "",
                {
                    "requests": r["requests"],
                    "refused": r["refused"],
                    "images": r["images"],
                    "provider_seconds": r["provider_seconds"],
                    "last": None,
                },
            )
        if rows:
            await tx.execute(
                "DELETE FROM anonymous_usage WHERE user_hash <> '' AND day < ?", keep_from
            )
        return len(rows)

    @staticmethod
    async def _add_anonymous(
        tx: Database, day: str, guild_id: int, user_key: str, b: dict[str, Any]
    ) -> None:
        await tx.execute(
            "INSERT INTO anonymous_usage (day, guild_id, user_hash, requests, refused, images,"
            " provider_seconds, last_request_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (guild_id, user_hash, day) DO UPDATE SET"
            " requests = anonymous_usage.requests + excluded.requests,"
            " refused = anonymous_usage.refused + excluded.refused,"
            " images = anonymous_usage.images + excluded.images,"
            " provider_seconds = anonymous_usage.provider_seconds + excluded.provider_seconds,"
            " last_request_at = CASE"
            "  WHEN anonymous_usage.last_request_at IS NULL THEN excluded.last_request_at"
            "  WHEN excluded.last_request_at IS NULL THEN anonymous_usage.last_request_at"
            "  WHEN excluded.last_request_at > anonymous_usage.last_request_at"
            "  THEN excluded.last_request_at ELSE anonymous_usage.last_request_at END",
            day,
            guild_id,
            user_key,
            int(b["requests"]),
            int(b["refused"]),
            int(b["images"]),
            float(b["provider_seconds"]),
            b["last"],
        )


__all__ = [
    "COUNTED",
    "DAY",
    "DM_GUILD",
    "AdmissionSnapshot",
    "ForgetReport",
    "UsageStore",
    "day_key",
    "day_start",
]
