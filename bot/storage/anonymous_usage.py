"""AnonymousUsage: /forget-me, and the counters it leaves so quotas and totals stay true.

/forget-me deletes a user's rows; what must survive for quotas and server totals is folded
into `anonymous_usage` first (see migration 020 and ADR 007). Today's and yesterday's rows keep
a salted hash of the user (a daily quota, and a cooldown of at most a day begun before
midnight, must still hold); older days keep only the server's totals, spend included (issue
#21). A member's spend in each server this month is kept under the same hash until the month
ends (`anonymous_member_spend`), so forgetting does not reset a per-member budget either. The
salt is made on the first /forget-me and cached here; admission reads it through
`UsageStore.anonymous`.
"""

from __future__ import annotations

import hashlib
import secrets
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from bot.clock import Clock, SystemClock
from bot.jobs.model import JobStatus
from bot.storage.base import Database
from bot.storage.preferences import PreferenceStore
from bot.storage.styles import StyleStore
from bot.storage.usage_log import (
    ACTIVE_SQL,
    COUNTED,
    DAY,
    DM_GUILD,
    SPEND_SQL,
    day_key,
    day_start,
    month_key,
)


@dataclass(frozen=True)
class ForgetReport:
    """What /forget-me removed, and what it kept on purpose."""

    jobs_deleted: int
    events_deleted: int
    active_jobs_kept: int
    images_kept_anonymously: int
    moderation_refs_cleared: int
    preferences_deleted: int = 0  # the member's /prefs (0 or 1 row)


class AnonymousUsage:
    def __init__(self, db: Database, clock: Clock | None = None) -> None:
        self.db = db
        self.clock = clock or SystemClock()
        self._salt: str | None = None

    # ----- the salt -------------------------------------------------------------------------

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

    @property
    def known_salt(self) -> str | None:
        """The salt if this process has seen it, without asking the database."""
        return self._salt

    def remember_salt(self, salt: str) -> None:
        """Keep a salt read elsewhere (admission's snapshot reads it in its one statement)."""
        self._salt = salt

    # ----- what admission and /usage read ---------------------------------------------------

    async def user_today(
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

    async def user_images_everywhere(self, conn: Database, user_id: int, now: float) -> int:
        """Today's images kept for a forgotten user, in every server and DM together."""
        salt = await self.salt(conn)
        if salt is None:
            return 0
        value = await conn.fetchval(
            "SELECT SUM(images) FROM anonymous_usage WHERE user_hash = ? AND day = ?",
            self.user_hash(salt, user_id),
            day_key(now),
        )
        return int(value or 0)

    async def member_spend(self, conn: Database, user_id: int, guild_id: int, now: float) -> int:
        """What a forgotten member spent in this server this month (known micro-dollars)."""
        salt = await self.salt(conn)
        if salt is None:
            return 0
        value = await conn.fetchval(
            f"SELECT {SPEND_SQL} FROM anonymous_member_spend"
            " WHERE guild_id = ? AND user_hash = ? AND month = ?",
            guild_id,
            self.user_hash(salt, user_id),
            month_key(now),
        )
        return int(value or 0)

    async def guild_images(self, conn: Database, guild_id: int, now: float) -> int:
        value = await conn.fetchval(
            "SELECT SUM(images) FROM anonymous_usage WHERE guild_id = ? AND day = ?",
            guild_id,
            day_key(now),
        )
        return int(value or 0)

    async def totals(self, guild_id: int | None, since: float, until: float) -> dict[str, Any]:
        """What forgotten users left behind in this server (every server and DM when None)
        over the period (names nobody)."""
        scope, params = ("guild_id = ? AND ", [guild_id]) if guild_id is not None else ("", [])
        row = await self.db.fetchone(
            "SELECT SUM(requests) AS requests, SUM(refused) AS refused, SUM(images) AS images,"
            f" SUM(provider_seconds) AS provider_seconds, {SPEND_SQL} AS spend,"
            " SUM(unknown_jobs) AS unknown_jobs FROM anonymous_usage"
            f" WHERE {scope}day >= ? AND day <= ?",
            *params,
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
            "spend_micros": int(row.get("spend") or 0),
            "unknown_jobs": int(row.get("unknown_jobs") or 0),
        }

    async def totals_by_guild(self, since: float, until: float) -> dict[int, dict[str, Any]]:
        """`totals` for every server (DMs under 0) at once: the operator's report."""
        rows = await self.db.fetchall(
            "SELECT guild_id, SUM(requests) AS requests, SUM(images) AS images,"
            f" {SPEND_SQL} AS spend, SUM(unknown_jobs) AS unknown_jobs FROM anonymous_usage"
            " WHERE day >= ? AND day <= ? GROUP BY guild_id",
            day_key(since),
            day_key(until - 0.001),
        )
        return {
            int(r["guild_id"]): {
                "requests": int(r["requests"] or 0),
                "images": int(r["images"] or 0),
                "spend_micros": int(r["spend"] or 0),
                "unknown_jobs": int(r["unknown_jobs"] or 0),
            }
            for r in rows
        }

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
                f" provider_seconds, cost_micros FROM jobs"
                f" WHERE user_id = ? AND status NOT IN ({ACTIVE_SQL})",
                user_id,
            )
            active = int(
                await tx.fetchval(
                    f"SELECT COUNT(*) FROM jobs WHERE user_id = ? AND status IN ({ACTIVE_SQL})",
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
                        "cost": 0,
                        "unknown": 0,
                    }
                )
                # The member's spend per server this month, for a per-member budget.
                month_spend: dict[int, int] = defaultdict(int)
                this_month = month_key(now)
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
                    if r["cost_micros"] is None:
                        b["unknown"] += 1
                    else:
                        b["cost"] += int(r["cost_micros"])
                        if day_key(r["created_at"]).startswith(this_month):
                            month_spend[guild] += int(r["cost_micros"])
                    if keep_hash:
                        b["last"] = max(b["last"] or 0.0, float(r["created_at"]))
                    if r["created_at"] >= today:
                        images_today += int(r["counted"] or 0)
                for (day, guild, user_key), b in sorted(buckets.items()):
                    await self._add(tx, day, guild, user_key, b)
                for guild, cost in sorted(month_spend.items()):
                    if cost:
                        await tx.execute(
                            "INSERT INTO anonymous_member_spend (month, guild_id, user_hash,"
                            " cost_micros) VALUES (?, ?, ?, ?) ON CONFLICT"
                            " (guild_id, user_hash, month) DO UPDATE SET"
                            " cost_micros = anonymous_member_spend.cost_micros"
                            " + excluded.cost_micros",
                            this_month,
                            guild,
                            hashed,
                            cost,
                        )
            events = await tx.execute(
                f"DELETE FROM job_events WHERE job_id IN (SELECT id FROM jobs"
                f" WHERE user_id = ? AND status NOT IN ({ACTIVE_SQL}))",
                user_id,
            )
            jobs = await tx.execute(
                f"DELETE FROM jobs WHERE user_id = ? AND status NOT IN ({ACTIVE_SQL})", user_id
            )
            refs = await tx.execute(
                "UPDATE guild_blocked_terms SET added_by = NULL WHERE added_by = ?", user_id
            )
            refs += await tx.execute(
                "UPDATE guild_blocked_users SET blocked_by = NULL WHERE blocked_by = ?", user_id
            )
            refs += await StyleStore.forget_author(tx, user_id)
            # Preferences are the member's alone: nothing of them is kept.
            preferences = await PreferenceStore.forget(tx, user_id)
            await self._prune(tx, hashed_from)
        return ForgetReport(
            jobs_deleted=jobs,
            events_deleted=events,
            active_jobs_kept=active,
            images_kept_anonymously=images_today,
            moderation_refs_cleared=refs,
            preferences_deleted=preferences,
        )

    async def prune(self) -> int:
        """Fold hashed counters older than yesterday into the per-server totals."""
        keep_from = day_key(day_start(self.clock.now()) - DAY)
        async with self.db.transaction(lock="anonymous-usage") as tx:
            return await self._prune(tx, keep_from)

    async def _prune(self, tx: Database, keep_from: str) -> int:
        # A member's monthly spend is kept for the current month only (a per-member budget).
        await tx.execute(
            "DELETE FROM anonymous_member_spend WHERE month < ?", month_key(self.clock.now())
        )
        rows = await tx.fetchall(
            "SELECT * FROM anonymous_usage WHERE user_hash <> '' AND day < ?", keep_from
        )
        for r in rows:
            await self._add(
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
                    "cost": r["cost_micros"],
                    "unknown": r["unknown_jobs"],
                },
            )
        if rows:
            await tx.execute(
                "DELETE FROM anonymous_usage WHERE user_hash <> '' AND day < ?", keep_from
            )
        return len(rows)

    @staticmethod
    async def _add(tx: Database, day: str, guild_id: int, user_key: str, b: dict[str, Any]) -> None:
        await tx.execute(
            "INSERT INTO anonymous_usage (day, guild_id, user_hash, requests, refused, images,"
            " provider_seconds, last_request_at, cost_micros, unknown_jobs)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (guild_id, user_hash, day) DO UPDATE SET"
            " requests = anonymous_usage.requests + excluded.requests,"
            " refused = anonymous_usage.refused + excluded.refused,"
            " images = anonymous_usage.images + excluded.images,"
            " provider_seconds = anonymous_usage.provider_seconds + excluded.provider_seconds,"
            " cost_micros = anonymous_usage.cost_micros + excluded.cost_micros,"
            " unknown_jobs = anonymous_usage.unknown_jobs + excluded.unknown_jobs,"
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
            int(b.get("cost") or 0),
            int(b.get("unknown") or 0),
        )


__all__ = ["AnonymousUsage", "ForgetReport"]
