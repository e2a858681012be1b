"""GuildConfigStore: each server's /settings, its role limits, blocked terms and blocked users.

Portable SQL only. A server that never ran /settings has no row and gets `GuildConfig`'s
defaults, which mean "use the environment's values". A blocked term is checked when it is
added, by `bot.terms` (the engine that will run it), so a broken pattern never reaches the
database; matching lives in `bot.policy.moderation`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from bot.clock import Clock, SystemClock
from bot.storage.base import Database
from bot.terms import (
    MAX_PATTERN_LENGTH,
    MAX_TERM_LENGTH,
    TermRejected,
    check_pattern_budget,
    check_term,
    is_pattern_term,
)

MAX_TERMS_PER_GUILD = 500
# A cooldown longer than a day makes no sense next to a daily quota; the anonymous counters
# kept after /forget-me also only remember two days.
MAX_COOLDOWN_SECONDS = 86_400
MAX_LIMIT = 1_000_000

_LIMIT_COLUMNS = (
    "user_daily_limit",
    "guild_daily_limit",
    "user_cooldown_seconds",
    "user_max_active_jobs",
)


class GuildConfigError(ValueError):
    """A /settings value was refused. `code` picks the localized sentence; `str()` is English."""

    def __init__(self, code: str, message: str, **params: Any) -> None:
        super().__init__(message)
        self.code = code
        self.params = params


class BlockedTermError(GuildConfigError):
    """A blocked term cannot be added (empty, too long, broken or too slow a pattern, ...)."""


@dataclass(frozen=True)
class BlockedTerm:
    """One blocked word, phrase or pattern (`term` is exactly what the moderator typed)."""

    term: str
    is_pattern: bool = False
    guild_id: int = 0
    id: int | None = None
    added_by: int | None = None
    added_at: float | None = None

    @property
    def pattern(self) -> str:
        """The regular expression of a `/pattern/` term (the text between the slashes)."""
        return self.term[1:-1] if self.is_pattern else ""


@dataclass(frozen=True)
class RoleLimit:
    """A role's overrides in one server: None leaves that limit alone, 0 means no limit."""

    guild_id: int
    role_id: int
    user_daily_limit: int | None = None
    user_cooldown_seconds: int | None = None
    user_max_active_jobs: int | None = None


@dataclass(frozen=True)
class BlockedUser:
    guild_id: int
    user_id: int
    blocked_by: int | None
    blocked_at: float
    reason: str | None = None


@dataclass(frozen=True)
class GuildConfig:
    """A server's policy. None in a limit means "the environment's default"; 0 means no limit."""

    guild_id: int
    allowed_channel_ids: frozenset[int] = frozenset()
    allowed_role_ids: frozenset[int] = frozenset()
    user_daily_limit: int | None = None
    guild_daily_limit: int | None = None
    user_cooldown_seconds: int | None = None
    user_max_active_jobs: int | None = None
    allow_nsfw: bool = False
    log_channel_id: int | None = None
    default_model: str | None = None
    role_limits: tuple[RoleLimit, ...] = ()
    terms_version: int = 0


def validate_term(text: str) -> BlockedTerm:
    """Check a term a moderator typed; return it (stripped), or raise BlockedTermError."""
    try:
        checked = check_term(text)
    except TermRejected as exc:
        raise BlockedTermError(exc.code, str(exc), **exc.params) from None
    return BlockedTerm(term=checked.term, is_pattern=checked.is_pattern)


def _limit(name: str, value: int | None, *, maximum: int = MAX_LIMIT) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0 or value > maximum:
        raise GuildConfigError(
            "limit_out_of_range",
            f"{name} must be a whole number from 0 to {maximum} (0 means no limit).",
            setting=name,
            maximum=maximum,
        )
    return value


def _ids(raw: str | None) -> frozenset[int]:
    return frozenset(int(v) for v in json.loads(raw or "[]"))


def _ids_json(ids: Iterable[int]) -> str:
    return json.dumps(sorted({int(i) for i in ids}))


def config_from_row(
    guild_id: int, row: dict[str, Any] | None, role_limits: tuple[RoleLimit, ...] = ()
) -> GuildConfig:
    """A GuildConfig from a guild_settings row; None (or a row of NULLs) gives the defaults."""
    if row is None or row.get("updated_at") is None:
        return GuildConfig(guild_id=guild_id, role_limits=role_limits)
    return GuildConfig(
        guild_id=guild_id,
        allowed_channel_ids=_ids(row["allowed_channel_ids"]),
        allowed_role_ids=_ids(row["allowed_role_ids"]),
        user_daily_limit=row["user_daily_limit"],
        guild_daily_limit=row["guild_daily_limit"],
        user_cooldown_seconds=row["user_cooldown_seconds"],
        user_max_active_jobs=row["user_max_active_jobs"],
        allow_nsfw=bool(row["allow_nsfw"]),
        log_channel_id=row["log_channel_id"],
        default_model=row["default_model"],
        role_limits=role_limits,
        terms_version=int(row["terms_version"]),
    )


def _term_from_row(row: dict[str, Any]) -> BlockedTerm:
    return BlockedTerm(
        term=row["term"],
        is_pattern=bool(row["is_pattern"]),
        guild_id=int(row["guild_id"]),
        id=int(row["id"]),
        added_by=row["added_by"],
        added_at=row["added_at"],
    )


def _role_from_row(row: dict[str, Any]) -> RoleLimit:
    return RoleLimit(
        guild_id=int(row["guild_id"]),
        role_id=int(row["role_id"]),
        user_daily_limit=row["user_daily_limit"],
        user_cooldown_seconds=row["user_cooldown_seconds"],
        user_max_active_jobs=row["user_max_active_jobs"],
    )


class GuildConfigStore:
    def __init__(self, db: Database, clock: Clock | None = None) -> None:
        self.db = db
        self.clock = clock or SystemClock()

    # ----- reading -------------------------------------------------------------------------

    async def get(self, guild_id: int, *, conn: Database | None = None) -> GuildConfig:
        """The server's policy; a server that never changed anything gets the defaults."""
        db = conn or self.db
        row = await db.fetchone("SELECT * FROM guild_settings WHERE guild_id = ?", guild_id)
        return config_from_row(guild_id, row, await self.role_limits(guild_id, conn=db))

    async def role_limits(
        self, guild_id: int, *, conn: Database | None = None
    ) -> tuple[RoleLimit, ...]:
        rows = await (conn or self.db).fetchall(
            "SELECT * FROM guild_role_limits WHERE guild_id = ? ORDER BY role_id", guild_id
        )
        return tuple(_role_from_row(r) for r in rows)

    # ----- the settings row ----------------------------------------------------------------

    async def _ensure_row(self, tx: Database, guild_id: int) -> None:
        await tx.execute(
            "INSERT INTO guild_settings (guild_id, updated_at) VALUES (?, ?)"
            " ON CONFLICT (guild_id) DO NOTHING",
            guild_id,
            self.clock.now(),
        )

    async def _set(self, guild_id: int, column: str, value: Any) -> GuildConfig:
        # `column` always comes from this module, never from a caller.
        async with self.db.transaction(lock=f"guild-config:{guild_id}") as tx:
            await self._ensure_row(tx, guild_id)
            await tx.execute(
                f"UPDATE guild_settings SET {column} = ?, updated_at = ? WHERE guild_id = ?",
                value,
                self.clock.now(),
                guild_id,
            )
            return await self.get(guild_id, conn=tx)

    async def set_user_daily_limit(self, guild_id: int, value: int | None) -> GuildConfig:
        """Images a member may request per UTC day here; None = the environment default."""
        return await self._set(guild_id, "user_daily_limit", _limit("user_daily_limit", value))

    async def set_guild_daily_limit(self, guild_id: int, value: int | None) -> GuildConfig:
        return await self._set(guild_id, "guild_daily_limit", _limit("guild_daily_limit", value))

    async def set_user_cooldown_seconds(self, guild_id: int, value: int | None) -> GuildConfig:
        checked = _limit("user_cooldown_seconds", value, maximum=MAX_COOLDOWN_SECONDS)
        return await self._set(guild_id, "user_cooldown_seconds", checked)

    async def set_user_max_active_jobs(self, guild_id: int, value: int | None) -> GuildConfig:
        checked = _limit("user_max_active_jobs", value, maximum=1000)
        return await self._set(guild_id, "user_max_active_jobs", checked)

    async def set_allow_nsfw(self, guild_id: int, allow: bool) -> GuildConfig:
        """Allow relaxed safety settings in age-restricted channels (never elsewhere)."""
        return await self._set(guild_id, "allow_nsfw", int(bool(allow)))

    async def set_log_channel(self, guild_id: int, channel_id: int | None) -> GuildConfig:
        return await self._set(guild_id, "log_channel_id", channel_id)

    async def set_default_model(self, guild_id: int, model: str | None) -> GuildConfig:
        """The server's default model (the caller checks it against the catalog); None = env."""
        value = model.strip() if model else None
        return await self._set(guild_id, "default_model", value or None)

    async def set_allowed_channels(self, guild_id: int, ids: Iterable[int]) -> GuildConfig:
        """Replace the allowed channels; an empty list means every channel."""
        return await self._set(guild_id, "allowed_channel_ids", _ids_json(ids))

    async def set_allowed_roles(self, guild_id: int, ids: Iterable[int]) -> GuildConfig:
        """Replace the allowed roles; an empty list means every member."""
        return await self._set(guild_id, "allowed_role_ids", _ids_json(ids))

    async def _change_ids(
        self, guild_id: int, column: str, add: int | None, remove: int | None
    ) -> GuildConfig:
        async with self.db.transaction(lock=f"guild-config:{guild_id}") as tx:
            await self._ensure_row(tx, guild_id)
            raw = await tx.fetchval(
                f"SELECT {column} FROM guild_settings WHERE guild_id = ?", guild_id
            )
            ids = set(_ids(raw))
            if add is not None:
                ids.add(add)
            if remove is not None:
                ids.discard(remove)
            await tx.execute(
                f"UPDATE guild_settings SET {column} = ?, updated_at = ? WHERE guild_id = ?",
                _ids_json(ids),
                self.clock.now(),
                guild_id,
            )
            return await self.get(guild_id, conn=tx)

    async def add_allowed_channel(self, guild_id: int, channel_id: int) -> GuildConfig:
        return await self._change_ids(guild_id, "allowed_channel_ids", channel_id, None)

    async def remove_allowed_channel(self, guild_id: int, channel_id: int) -> GuildConfig:
        return await self._change_ids(guild_id, "allowed_channel_ids", None, channel_id)

    async def add_allowed_role(self, guild_id: int, role_id: int) -> GuildConfig:
        return await self._change_ids(guild_id, "allowed_role_ids", role_id, None)

    async def remove_allowed_role(self, guild_id: int, role_id: int) -> GuildConfig:
        return await self._change_ids(guild_id, "allowed_role_ids", None, role_id)

    # ----- role limits ---------------------------------------------------------------------

    async def set_role_limit(
        self,
        guild_id: int,
        role_id: int,
        *,
        user_daily_limit: int | None = None,
        user_cooldown_seconds: int | None = None,
        user_max_active_jobs: int | None = None,
    ) -> RoleLimit:
        """Give a role its own limits, replacing any it had.

        0 means no limit; None means the role does not change that limit.
        """
        daily = _limit("user_daily_limit", user_daily_limit)
        cooldown = _limit(
            "user_cooldown_seconds", user_cooldown_seconds, maximum=MAX_COOLDOWN_SECONDS
        )
        active = _limit("user_max_active_jobs", user_max_active_jobs, maximum=1000)
        if daily is None and cooldown is None and active is None:
            raise GuildConfigError(
                "role_limit_empty",
                "Give the role at least one limit (daily images, cooldown or active jobs).",
            )
        async with self.db.transaction(lock=f"guild-config:{guild_id}") as tx:
            await tx.execute(
                "INSERT INTO guild_role_limits (guild_id, role_id, user_daily_limit,"
                " user_cooldown_seconds, user_max_active_jobs, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (guild_id, role_id) DO UPDATE SET"
                " user_daily_limit = excluded.user_daily_limit,"
                " user_cooldown_seconds = excluded.user_cooldown_seconds,"
                " user_max_active_jobs = excluded.user_max_active_jobs,"
                " updated_at = excluded.updated_at",
                guild_id,
                role_id,
                daily,
                cooldown,
                active,
                self.clock.now(),
            )
        return RoleLimit(guild_id, role_id, daily, cooldown, active)

    async def remove_role_limit(self, guild_id: int, role_id: int) -> bool:
        changed = await self.db.execute(
            "DELETE FROM guild_role_limits WHERE guild_id = ? AND role_id = ?", guild_id, role_id
        )
        return changed > 0

    async def list_role_limits(self, guild_id: int) -> list[RoleLimit]:
        rows = await self.db.fetchall(
            "SELECT * FROM guild_role_limits WHERE guild_id = ? ORDER BY role_id", guild_id
        )
        return [_role_from_row(r) for r in rows]

    # ----- blocked terms -------------------------------------------------------------------

    async def add_blocked_term(
        self, guild_id: int, text: str, *, added_by: int | None = None
    ) -> BlockedTerm:
        """Validate and store a term; adding one that exists returns it unchanged."""
        checked = validate_term(text)
        async with self.db.transaction(lock=f"guild-config:{guild_id}") as tx:
            if checked.is_pattern:  # the server's patterns together must stay quick to check
                stored = await self.list_blocked_terms(guild_id, conn=tx)
                try:
                    patterns = [t.term for t in stored if t.is_pattern]
                    check_pattern_budget(patterns, check_term(checked.term))
                except TermRejected as exc:
                    raise BlockedTermError(exc.code, str(exc), **exc.params) from None
            existing = await tx.fetchone(
                "SELECT * FROM guild_blocked_terms WHERE guild_id = ? AND term = ?",
                guild_id,
                checked.term,
            )
            if existing is not None:
                return _term_from_row(existing)
            count = await tx.fetchval(
                "SELECT COUNT(*) FROM guild_blocked_terms WHERE guild_id = ?", guild_id
            )
            if int(count) >= MAX_TERMS_PER_GUILD:
                raise BlockedTermError(
                    "too_many_terms",
                    f"A server can block at most {MAX_TERMS_PER_GUILD} terms; remove some first.",
                    limit=MAX_TERMS_PER_GUILD,
                )
            now = self.clock.now()
            term_id = await tx.fetchval(
                "INSERT INTO guild_blocked_terms (guild_id, term, is_pattern, added_by, added_at)"
                " VALUES (?, ?, ?, ?, ?) RETURNING id",
                guild_id,
                checked.term,
                int(checked.is_pattern),
                added_by,
                now,
            )
            await self._bump_terms(tx, guild_id)
        return BlockedTerm(checked.term, checked.is_pattern, guild_id, int(term_id), added_by, now)

    async def remove_blocked_term(self, guild_id: int, text: str) -> bool:
        """Remove a term, written exactly as listed; False when there was none."""
        async with self.db.transaction(lock=f"guild-config:{guild_id}") as tx:
            changed = await tx.execute(
                "DELETE FROM guild_blocked_terms WHERE guild_id = ? AND term = ?",
                guild_id,
                text.strip(),
            )
            if changed:
                await self._bump_terms(tx, guild_id)
        return changed > 0

    async def terms_version(self, guild_id: int) -> int:
        """The number every term change moves (0: never had a term), in one cheap read."""
        sql = "SELECT terms_version FROM guild_settings WHERE guild_id = ?"
        return int(await self.db.fetchval(sql, guild_id) or 0)

    async def list_blocked_terms(
        self, guild_id: int, *, conn: Database | None = None
    ) -> list[BlockedTerm]:
        rows = await (conn or self.db).fetchall(
            "SELECT * FROM guild_blocked_terms WHERE guild_id = ? ORDER BY id", guild_id
        )
        return [_term_from_row(r) for r in rows]

    async def _bump_terms(self, tx: Database, guild_id: int) -> None:
        # Every process compares this number with the one its compiled terms were built from.
        await self._ensure_row(tx, guild_id)
        await tx.execute(
            "UPDATE guild_settings SET terms_version = terms_version + 1, updated_at = ?"
            " WHERE guild_id = ?",
            self.clock.now(),
            guild_id,
        )

    # ----- blocked users -------------------------------------------------------------------

    async def block_user(
        self,
        guild_id: int,
        user_id: int,
        *,
        blocked_by: int | None = None,
        reason: str | None = None,
    ) -> bool:
        """Block a member from using the bot in this server; False if already blocked."""
        changed = await self.db.execute(
            "INSERT INTO guild_blocked_users (guild_id, user_id, blocked_by, blocked_at, reason)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (guild_id, user_id) DO NOTHING",
            guild_id,
            user_id,
            blocked_by,
            self.clock.now(),
            reason,
        )
        return changed > 0

    async def unblock_user(self, guild_id: int, user_id: int) -> bool:
        changed = await self.db.execute(
            "DELETE FROM guild_blocked_users WHERE guild_id = ? AND user_id = ?", guild_id, user_id
        )
        return changed > 0

    async def is_blocked(
        self, guild_id: int, user_id: int, *, conn: Database | None = None
    ) -> bool:
        found = await (conn or self.db).fetchval(
            "SELECT 1 FROM guild_blocked_users WHERE guild_id = ? AND user_id = ?",
            guild_id,
            user_id,
        )
        return found is not None

    async def list_blocked_users(self, guild_id: int) -> list[BlockedUser]:
        rows = await self.db.fetchall(
            "SELECT * FROM guild_blocked_users WHERE guild_id = ? ORDER BY blocked_at, user_id",
            guild_id,
        )
        return [
            BlockedUser(
                guild_id=int(r["guild_id"]),
                user_id=int(r["user_id"]),
                blocked_by=r["blocked_by"],
                blocked_at=r["blocked_at"],
                reason=r["reason"],
            )
            for r in rows
        ]


__all__ = [
    "MAX_COOLDOWN_SECONDS",
    "MAX_PATTERN_LENGTH",
    "MAX_TERMS_PER_GUILD",
    "MAX_TERM_LENGTH",
    "BlockedTerm",
    "BlockedTermError",
    "BlockedUser",
    "GuildConfig",
    "GuildConfigError",
    "GuildConfigStore",
    "RoleLimit",
    "config_from_row",
    "is_pattern_term",
    "validate_term",
]
