"""UsageStore: what admission reads from the usage log, in as few statements as it can.

The log's definitions (what counts, what a day is) are in `bot.storage.usage_log`; the
/usage reports' SQL in `bot.storage.usage_reports`; /forget-me and its anonymous counters in
`bot.storage.anonymous_usage`, which this store holds (`anonymous`) so that the hashing salt is
read once per process. The log's names stay importable from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.clock import Clock, SystemClock
from bot.storage.anonymous_usage import AnonymousUsage, ForgetReport
from bot.storage.base import Database
from bot.storage.usage_log import (
    ACCEPTED,
    ACTIVE_SQL,
    COUNTED,
    DAY,
    DM_GUILD,
    SPEND_SQL,
    day_key,
    day_start,
    guild_filter,
    month_key,
    month_start,
)


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


@dataclass(frozen=True)
class AdmissionSnapshot:
    """One member's standing in one place, read in a single statement (see UsageStore)."""

    settings: dict[str, Any]  # the guild_settings columns; all None when the server has none
    blocked: bool
    operator_blocked: bool  # on the operator's block list (every server and DM)
    role_limit_count: int
    last_request: float | None  # latest accepted request here since `recent_since`
    active: int  # active jobs in every server
    user_images: int  # counted images here today
    anon_images: int  # today's images kept for this user after /forget-me
    anon_last: float | None  # their latest request kept after /forget-me
    anon_guild_images: int  # today's images kept for the server after /forget-me
    guild_images: int  # counted images in the server today (0 when no daily cap applies)
    # The user's counted images today in every server and DM, /forget-me's counters included
    # (0 when the operator set no USER_DAILY_LIMIT).
    all_images: int = 0
    guild_active: int = 0  # the server's active jobs (0 when no server cap applies)
    # Known micro-dollars spent this month (UTC) in the server, and by the member in it, with
    # /forget-me's counters; each 0 unless the server set that budget (docs/decisions/024).
    guild_spend: int = 0
    member_spend: int = 0


@dataclass(frozen=True)
class BotStanding:
    """The whole bot's counted images today and known spend this month (what was asked for)."""

    images: int = 0
    spend: int = 0


class UsageStore:
    def __init__(self, db: Database, clock: Clock | None = None) -> None:
        self.db = db
        self.clock = clock or SystemClock()
        # /forget-me's counters and salt; admission adds a forgotten user's images to theirs.
        self.anonymous = AnonymousUsage(db, self.clock)

    # ----- what admission reads (each from a covering index: migrations 020 and 041) ---------

    async def admission_snapshot(
        self,
        conn: Database,
        *,
        user_id: int,
        guild_id: int | None,
        now: float,
        recent_since: float,
        guild_daily_default: int = 0,
        user_daily_everywhere: int = 0,
        guild_active_cap: int = 0,
    ) -> AdmissionSnapshot:
        """Everything admission reads about a member and a server, in one statement.

        One round trip matters: admission runs before Discord's acknowledgement, and each
        statement is a thread hop in aiosqlite. The server's images today are summed only when
        a daily cap may apply (the server's own, or the operator's `guild_daily_default`, which
        also applies when the server stored 0 before the ceilings), the user's images in every
        server only when the operator caps them (`user_daily_everywhere`), and the server's
        active jobs only under `guild_active_cap` (GUILD_MAX_ACTIVE_JOBS); CASE evaluates the
        subqueries lazily. Each scalar subquery uses its own index; on
        PostgreSQL the single statement also sees one consistent snapshot, so a concurrent
        /forget-me is counted exactly once (either as rows or as counters).
        """
        today = day_start(now)
        month = month_start(now)
        where, params = guild_filter(guild_id)
        anon_guild = DM_GUILD if guild_id is None else guild_id
        # NULL never equals anything: before any /forget-me there is no hash to look for.
        salt = self.anonymous.known_salt
        hashed = self.anonymous.user_hash(salt, user_id) if salt is not None else None
        row = await conn.fetchone(
            f"""
            SELECT s.*,
              (SELECT COUNT(*) FROM guild_blocked_users
                 WHERE guild_id = ? AND user_id = ?) AS x_blocked,
              (SELECT COUNT(*) FROM operator_blocked_users WHERE user_id = ?)
                 AS x_operator_blocked,
              (SELECT COUNT(*) FROM guild_role_limits WHERE guild_id = ?) AS x_role_limits,
              (SELECT salt FROM anonymous_salt WHERE id = 1) AS x_salt,
              (SELECT MAX(created_at) FROM jobs
                 WHERE user_id = ? AND created_at >= ? AND {where} AND {ACCEPTED})
                 AS x_last_request,
              (SELECT COUNT(*) FROM jobs
                 WHERE user_id = ? AND status IN ({ACTIVE_SQL})) AS x_active,
              (SELECT SUM(image_count) FROM jobs
                 WHERE user_id = ? AND created_at >= ? AND {where} AND {COUNTED})
                 AS x_user_images,
              (SELECT SUM(images) FROM anonymous_usage
                 WHERE guild_id = ? AND user_hash = ? AND day = ?) AS x_anon_images,
              (SELECT MAX(last_request_at) FROM anonymous_usage
                 WHERE guild_id = ? AND user_hash = ? AND day >= ?) AS x_anon_last,
              (SELECT SUM(images) FROM anonymous_usage
                 WHERE guild_id = ? AND day = ?) AS x_anon_guild_images,
              CASE WHEN COALESCE(s.guild_daily_limit, 0) > 0 OR ? > 0 THEN
                (SELECT SUM(image_count) FROM jobs
                   WHERE guild_id = ? AND created_at >= ? AND {COUNTED})
              END AS x_guild_images,
              CASE WHEN ? > 0 THEN
                (SELECT SUM(image_count) FROM jobs
                   WHERE user_id = ? AND created_at >= ? AND {COUNTED})
              END AS x_all_images,
              CASE WHEN ? > 0 THEN
                (SELECT SUM(images) FROM anonymous_usage WHERE user_hash = ? AND day = ?)
              END AS x_anon_all_images,
              CASE WHEN ? > 0 THEN
                (SELECT COUNT(*) FROM jobs WHERE guild_id = ? AND status IN ({ACTIVE_SQL}))
              END AS x_guild_active,
              CASE WHEN s.monthly_budget_micros IS NOT NULL THEN
                (SELECT {SPEND_SQL} FROM jobs WHERE guild_id = ? AND created_at >= ?)
              END AS x_guild_spend,
              CASE WHEN s.monthly_budget_micros IS NOT NULL THEN
                (SELECT {SPEND_SQL} FROM anonymous_usage WHERE guild_id = ? AND day >= ?)
              END AS x_anon_guild_spend,
              CASE WHEN s.member_budget_micros IS NOT NULL THEN
                (SELECT {SPEND_SQL} FROM jobs
                   WHERE user_id = ? AND guild_id = ? AND created_at >= ?)
              END AS x_member_spend,
              CASE WHEN s.member_budget_micros IS NOT NULL THEN
                (SELECT {SPEND_SQL} FROM anonymous_member_spend
                   WHERE guild_id = ? AND user_hash = ? AND month = ?)
              END AS x_anon_member_spend
            FROM (SELECT 1 AS one) AS x LEFT JOIN guild_settings s ON s.guild_id = ?
            """,
            guild_id,
            user_id,
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
            user_daily_everywhere,
            user_id,
            today,
            user_daily_everywhere,
            hashed,
            day_key(now),
            guild_active_cap if guild_id is not None else 0,
            guild_id,
            guild_id,
            month,
            guild_id,
            day_key(month),
            user_id,
            guild_id,
            month,
            guild_id,
            hashed,
            month_key(now),
            guild_id,
        )
        assert row is not None  # the LEFT JOIN always yields one row
        anon_images = int(row["x_anon_images"] or 0)
        anon_last = row["x_anon_last"]
        anon_all = int(row["x_anon_all_images"] or 0)
        anon_member_spend = int(row["x_anon_member_spend"] or 0)
        if hashed is None and row["x_salt"] is not None:
            # First sight of the salt in this process: look the user up once the slow way.
            self.anonymous.remember_salt(str(row["x_salt"]))
            anon_images, anon_last = await self.anonymous.user_today(
                conn, user_id, guild_id, now, recent_since
            )
            if user_daily_everywhere > 0:
                anon_all = await self.anonymous.user_images_everywhere(conn, user_id, now)
            if row["x_member_spend"] is not None and guild_id is not None:
                anon_member_spend = await self.anonymous.member_spend(conn, user_id, guild_id, now)
        return AdmissionSnapshot(
            settings={k: v for k, v in row.items() if not k.startswith("x_") and k != "one"},
            blocked=bool(row["x_blocked"]),
            operator_blocked=bool(row["x_operator_blocked"]),
            role_limit_count=int(row["x_role_limits"] or 0),
            last_request=_float(row["x_last_request"]),
            active=int(row["x_active"] or 0),
            user_images=int(row["x_user_images"] or 0),
            anon_images=anon_images,
            anon_last=_float(anon_last),
            anon_guild_images=int(row["x_anon_guild_images"] or 0),
            guild_images=int(row["x_guild_images"] or 0),
            all_images=int(row["x_all_images"] or 0) + anon_all,
            guild_active=int(row["x_guild_active"] or 0),
            guild_spend=int(row["x_guild_spend"] or 0) + int(row["x_anon_guild_spend"] or 0),
            member_spend=int(row["x_member_spend"] or 0) + anon_member_spend,
        )

    async def bot_standing(
        self, conn: Database, now: float, *, images: bool, spend: bool
    ) -> BotStanding:
        """The bot's counted images today (`images`) and known spend this month (`spend`), in
        every server and DM, /forget-me's counters included: one statement, one snapshot."""
        month = month_start(now)
        row = await conn.fetchone(
            f"""
            SELECT
              CASE WHEN ? > 0 THEN
                (SELECT SUM(image_count) FROM jobs WHERE created_at >= ? AND {COUNTED})
              END AS jobs,
              CASE WHEN ? > 0 THEN
                (SELECT SUM(images) FROM anonymous_usage WHERE day = ?)
              END AS forgotten,
              CASE WHEN ? > 0 THEN
                (SELECT {SPEND_SQL} FROM jobs WHERE created_at >= ?)
              END AS spend,
              CASE WHEN ? > 0 THEN
                (SELECT {SPEND_SQL} FROM anonymous_usage WHERE day >= ?)
              END AS forgotten_spend
            """,
            int(images),
            day_start(now),
            int(images),
            day_key(now),
            int(spend),
            month,
            int(spend),
            day_key(month),
        )
        assert row is not None
        return BotStanding(
            images=int(row["jobs"] or 0) + int(row["forgotten"] or 0),
            spend=int(row["spend"] or 0) + int(row["forgotten_spend"] or 0),
        )

    async def bot_images_today(self, conn: Database, now: float) -> int:
        """Every counted image today, in every server and DM, /forget-me's counters included.

        One statement, so on PostgreSQL it sees one snapshot: a concurrent /forget-me is
        counted once, as rows or as counters (as in `admission_snapshot`).
        """
        row = await conn.fetchone(
            f"""
            SELECT
              (SELECT SUM(image_count) FROM jobs WHERE created_at >= ? AND {COUNTED}) AS jobs,
              (SELECT SUM(images) FROM anonymous_usage WHERE day = ?) AS forgotten
            """,
            day_start(now),
            day_key(now),
        )
        assert row is not None
        return int(row["jobs"] or 0) + int(row["forgotten"] or 0)

    async def user_images_everywhere(self, conn: Database, user_id: int, since: float) -> int:
        """The user's counted images since `since` in every server and DM (jobs only)."""
        value = await conn.fetchval(
            f"SELECT SUM(image_count) FROM jobs WHERE user_id = ? AND created_at >= ?"
            f" AND {COUNTED}",
            user_id,
            since,
        )
        return int(value or 0)

    async def user_images_since(
        self, conn: Database, user_id: int, guild_id: int | None, since: float
    ) -> int:
        where, params = guild_filter(guild_id)
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
        where, params = guild_filter(guild_id)
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
            f"SELECT COUNT(*) FROM jobs WHERE user_id = ? AND status IN ({ACTIVE_SQL})",
            user_id,
        )
        return int(value or 0)


__all__ = [
    "COUNTED",
    "DAY",
    "DM_GUILD",
    "AdmissionSnapshot",
    "BotStanding",
    "ForgetReport",
    "UsageStore",
    "day_key",
    "day_start",
]
