"""ReportQueries: the SQL behind /usage me, /usage server and /usage export.

Figures come straight from the jobs table over a period [since, until); what counts is the
usage log's one definition (`bot.storage.usage_log.COUNTED`). What forgotten users left behind
is read apart (`AnonymousUsage.totals`), so no query here can name them.
"""

from __future__ import annotations

from typing import Any

from bot.storage.base import Database
from bot.storage.usage_log import ACCEPTED, COUNTED, SPEND_SQL, UNKNOWN_SQL


def _spend(row: dict[str, Any]) -> dict[str, int]:
    return {
        "spend_micros": int(row.get("spend") or 0),
        "unknown_jobs": int(row.get("unknown_jobs") or 0),
    }


class ReportQueries:
    def __init__(self, db: Database) -> None:
        self.db = db

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
            f" SUM(provider_seconds) AS provider_seconds,"
            f" {SPEND_SQL} AS spend, {UNKNOWN_SQL} AS unknown_jobs"
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
            **_spend(row),
        }

    async def by_guild(self, since: float, until: float) -> list[dict[str, Any]]:
        """Per server (None for direct messages) over [since, until): requests, jobs accepted,
        images and spend, biggest spender first (the operator's `python -m bot usage`)."""
        rows = await self.db.fetchall(
            f"SELECT guild_id, COUNT(*) AS requests,"
            f" SUM(CASE WHEN {ACCEPTED} THEN 1 ELSE 0 END) AS accepted,"
            f" SUM(CASE WHEN {COUNTED} THEN image_count ELSE 0 END) AS images,"
            f" {SPEND_SQL} AS spend, {UNKNOWN_SQL} AS unknown_jobs"
            f" FROM jobs WHERE created_at >= ? AND created_at < ? GROUP BY guild_id",
            since,
            until,
        )
        return [
            {
                "guild_id": None if r["guild_id"] is None else int(r["guild_id"]),
                "requests": int(r["requests"] or 0),
                "accepted": int(r["accepted"] or 0),
                "images": int(r["images"] or 0),
                **_spend(r),
            }
            for r in rows
        ]

    async def per_model(
        self, *, guild_id: int | None, user_id: int | None, since: float, until: float
    ) -> list[dict[str, Any]]:
        where, params = self._scope(guild_id, user_id, since, until)
        rows = await self.db.fetchall(
            f"SELECT model, COUNT(*) AS requests,"
            f" SUM(CASE WHEN {COUNTED} THEN image_count ELSE 0 END) AS images,"
            f" SUM(provider_seconds) AS provider_seconds,"
            f" {SPEND_SQL} AS spend, {UNKNOWN_SQL} AS unknown_jobs"
            f" FROM jobs WHERE {where} AND {ACCEPTED}"
            f" GROUP BY model"
            # COALESCE: NULL sorts last in SQLite's DESC but first in PostgreSQL's.
            f" ORDER BY COALESCE({SPEND_SQL}, 0) DESC, images DESC, requests DESC, model",
            *params,
        )
        return [
            {
                "model": r["model"],
                "requests": int(r["requests"] or 0),
                "images": int(r["images"] or 0),
                "provider_seconds": float(r["provider_seconds"] or 0.0),
                **_spend(r),
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
        """The members who spent most (then made most images) over the period."""
        rows = await self.db.fetchall(
            f"SELECT user_id, COUNT(*) AS requests,"
            f" SUM(CASE WHEN {COUNTED} THEN image_count ELSE 0 END) AS images,"
            f" {SPEND_SQL} AS spend, {UNKNOWN_SQL} AS unknown_jobs"
            f" FROM jobs WHERE guild_id = ? AND created_at >= ? AND created_at < ?"
            f" AND {ACCEPTED} GROUP BY user_id"
            f" ORDER BY COALESCE({SPEND_SQL}, 0) DESC, images DESC, requests DESC, user_id"
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
                **_spend(r),
            }
            for r in rows
        ]

    async def export_rows(self, guild_id: int, since: float, until: float) -> list[dict[str, Any]]:
        return await self.db.fetchall(
            "SELECT id, created_at, user_id, channel_id, model, status, image_count,"
            " output_count, prediction_id, provider_seconds, error_kind, refusal_reason,"
            " refusal_detail, prompt, input_json, price_micros, price_unit,"
            " cost_estimated_micros, cost_micros FROM jobs"
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


__all__ = ["ReportQueries"]
