"""GuildConfigStore: each server's /settings, its role limits, blocked terms and blocked users.

Portable SQL only. Every change that depends on what is stored (an allow list, a role's
limits, the term count and version) runs in one transaction under the server's lock
(`guild-config:<guild id>`), so two moderators changing one server never lose each other's
change; the other changes are single statements.

What the values are lives beside this module: `guild_model` (the config and its rows),
`guild_limits` (each limit declared once, with its bounds) and `blocked_terms` (what a term may
be). Their public names are importable from here too, as they always were.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from bot.clock import Clock, SystemClock
from bot.money import usd_to_micros
from bot.storage.base import Database
from bot.storage.blocked_terms import (
    MAX_PATTERN_LENGTH,
    MAX_TERM_LENGTH,
    MAX_TERMS_PER_GUILD,
    BlockedTerm,
    BlockedTermError,
    blocked_term_from_row,
    is_pattern_term,
    validate_term,
)
from bot.storage.guild_budgets import BUDGET_KINDS, check_budget
from bot.storage.guild_limits import (
    LIMIT_KINDS,
    MAX_ACTIVE_JOBS,
    MAX_COOLDOWN_SECONDS,
    MAX_LIMIT,
    ROLE_FIELDS,
    LimitKind,
    limit_kind,
)
from bot.storage.guild_model import (
    SPOILER_MODES,
    BlockedUser,
    GuildConfig,
    GuildConfigError,
    RoleLimit,
    blocked_user_from_row,
    config_from_row,
    ids_from_json,
    ids_to_json,
    role_limit_from_row,
)
from bot.terms import TermRejected, check_pattern_budget, check_term


class GuildConfigStore:
    def __init__(self, db: Database, clock: Clock | None = None, *, operator: Any = None) -> None:
        self.db = db
        self.clock = clock or SystemClock()
        # The environment's limits (`Settings`), the ceilings a server's limits stay within;
        # None: no ceilings (a store used outside the bot, e.g. by a test).
        self.operator = operator

    def _ceiling(self, spec: LimitKind) -> int:
        return spec.operator_value(self.operator)

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
        return tuple(role_limit_from_row(r) for r in rows)

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
        return await self.set_limit(guild_id, "user_daily", value)

    async def set_guild_daily_limit(self, guild_id: int, value: int | None) -> GuildConfig:
        return await self.set_limit(guild_id, "guild_daily", value)

    async def set_user_cooldown_seconds(self, guild_id: int, value: int | None) -> GuildConfig:
        return await self.set_limit(guild_id, "cooldown", value)

    async def set_user_max_active_jobs(self, guild_id: int, value: int | None) -> GuildConfig:
        return await self.set_limit(guild_id, "active_jobs", value)

    async def set_allow_nsfw(self, guild_id: int, allow: bool) -> GuildConfig:
        """Allow relaxed safety settings in age-restricted channels (never elsewhere)."""
        return await self._set(guild_id, "allow_nsfw", int(bool(allow)))

    async def set_log_channel(self, guild_id: int, channel_id: int | None) -> GuildConfig:
        return await self._set(guild_id, "log_channel_id", channel_id)

    async def set_spoiler_mode(self, guild_id: int, mode: str) -> GuildConfig:
        """Spoil every result ("on"), none ("off"), or those in age-restricted channels."""
        if mode not in SPOILER_MODES:
            raise ValueError(f"spoiler mode must be one of {SPOILER_MODES}")
        return await self._set(guild_id, "spoiler_mode", mode)

    async def set_default_model(self, guild_id: int, model: str | None) -> GuildConfig:
        """The server's default model (the caller checks it against the catalog); None = env."""
        value = model.strip() if model else None
        return await self._set(guild_id, "default_model", value or None)

    async def set_allowed_channels(self, guild_id: int, ids: Iterable[int]) -> GuildConfig:
        """Replace the allowed channels; an empty list means every channel."""
        return await self._set(guild_id, "allowed_channel_ids", ids_to_json(ids))

    async def set_allowed_roles(self, guild_id: int, ids: Iterable[int]) -> GuildConfig:
        """Replace the allowed roles; an empty list means every member."""
        return await self._set(guild_id, "allowed_role_ids", ids_to_json(ids))

    async def _change_ids(
        self, guild_id: int, column: str, add: int | None, remove: int | None
    ) -> GuildConfig:
        async with self.db.transaction(lock=f"guild-config:{guild_id}") as tx:
            await self._ensure_row(tx, guild_id)
            raw = await tx.fetchval(
                f"SELECT {column} FROM guild_settings WHERE guild_id = ?", guild_id
            )
            ids = set(ids_from_json(raw))
            if add is not None:
                ids.add(add)
            if remove is not None:
                ids.discard(remove)
            await tx.execute(
                f"UPDATE guild_settings SET {column} = ?, updated_at = ? WHERE guild_id = ?",
                ids_to_json(ids),
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

    # ----- limits ----------------------------------------------------------------------------

    async def set_limit(
        self, guild_id: int, kind: str, value: int | None, *, role_id: int | None = None
    ) -> GuildConfig:
        """Set one limit (a `LIMIT_KINDS` code) for the whole server, or for one role.

        A value may only be stricter than the operator's (`LimitKind.check`). None goes back to
        the environment's value for the server, and removes the role's own value for a role.
        Raises GuildConfigError when the value is out of bounds, or when the kind is server-wide
        only and a role is given.
        """
        spec = limit_kind(kind)
        checked = spec.check(value, self._ceiling(spec))
        if role_id is None:
            return await self._set(guild_id, spec.column, checked)
        if spec.role_field is None:
            raise GuildConfigError(
                "limit_not_per_role",
                f"{spec.column} applies to the whole server and cannot be set per role.",
                setting=spec.column,
            )
        # One statement writes only this kind's column, and the row goes once every column is
        # NULL; under the server's lock, so two changes to one role cannot overwrite each other.
        column = spec.role_field  # from the declaration, never from a caller
        async with self.db.transaction(lock=f"guild-config:{guild_id}") as tx:
            await tx.execute(
                f"INSERT INTO guild_role_limits (guild_id, role_id, {column}, updated_at)"
                f" VALUES (?, ?, ?, ?) ON CONFLICT (guild_id, role_id) DO UPDATE SET"
                f" {column} = excluded.{column}, updated_at = excluded.updated_at",
                guild_id,
                role_id,
                checked,
                self.clock.now(),
            )
            await tx.execute(
                "DELETE FROM guild_role_limits WHERE guild_id = ? AND role_id = ? AND "
                + " AND ".join(f"{field} IS NULL" for field in ROLE_FIELDS),
                guild_id,
                role_id,
            )
            return await self.get(guild_id, conn=tx)

    # ----- budgets -------------------------------------------------------------------------

    async def set_budget(self, guild_id: int, kind: str, micros: int | None) -> GuildConfig:
        """A monthly budget (`guild_budgets.BUDGET_KINDS` code) in micro-dollars; None or 0
        removes it. Checked against the operator's and (for a member's) the server's budget,
        read in the same transaction, so two moderators cannot leave them out of order."""
        spec = BUDGET_KINDS[kind]
        budget = getattr(self.operator, "bot_monthly_budget", None)  # None: no operator
        operator = usd_to_micros(Decimal(budget)) if budget else 0
        async with self.db.transaction(lock=f"guild-config:{guild_id}") as tx:
            checked = check_budget(spec, micros, await self.get(guild_id, conn=tx), operator)
            await self._ensure_row(tx, guild_id)
            await tx.execute(
                f"UPDATE guild_settings SET {spec.column} = ?, updated_at = ? WHERE guild_id = ?",
                checked,
                self.clock.now(),
                guild_id,
            )
            return await self.get(guild_id, conn=tx)

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

        Each within the operator's, as for the server; None means the role does not change it.
        """
        kinds = [LIMIT_KINDS[code] for code in ("user_daily", "cooldown", "active_jobs")]
        daily, cooldown, active = (
            kind.check(value, self._ceiling(kind))
            for kind, value in zip(
                kinds, (user_daily_limit, user_cooldown_seconds, user_max_active_jobs), strict=True
            )
        )
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
        return [role_limit_from_row(r) for r in rows]

    # ----- blocked terms -------------------------------------------------------------------

    async def add_blocked_term(
        self, guild_id: int, text: str, *, added_by: int | None = None
    ) -> BlockedTerm:
        """Validate and store a term; adding one that exists returns it unchanged."""
        checked = validate_term(text)
        async with self.db.transaction(lock=f"guild-config:{guild_id}") as tx:
            existing = await tx.fetchone(
                "SELECT * FROM guild_blocked_terms WHERE guild_id = ? AND term = ?",
                guild_id,
                checked.term,
            )
            if existing is not None:
                return blocked_term_from_row(existing)
            count = await tx.fetchval(
                "SELECT COUNT(*) FROM guild_blocked_terms WHERE guild_id = ?", guild_id
            )
            if int(count) >= MAX_TERMS_PER_GUILD:
                raise BlockedTermError(
                    "too_many_terms",
                    f"A server can block at most {MAX_TERMS_PER_GUILD} terms; remove some first.",
                    limit=MAX_TERMS_PER_GUILD,
                )
            if checked.is_pattern:  # the server's patterns together must stay quick to check
                stored = await self.list_blocked_terms(guild_id, conn=tx)
                try:
                    patterns = [t.term for t in stored if t.is_pattern]
                    check_pattern_budget(patterns, check_term(checked.term))
                except TermRejected as exc:
                    raise BlockedTermError(exc.code, str(exc), **exc.params) from None
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

    async def list_blocked_terms(
        self, guild_id: int, *, conn: Database | None = None
    ) -> list[BlockedTerm]:
        rows = await (conn or self.db).fetchall(
            "SELECT * FROM guild_blocked_terms WHERE guild_id = ? ORDER BY id", guild_id
        )
        return [blocked_term_from_row(r) for r in rows]

    async def terms_version(self, guild_id: int) -> int:
        """The number every term change moves (0: never had a term), in one cheap read."""
        sql = "SELECT terms_version FROM guild_settings WHERE guild_id = ?"
        return int(await self.db.fetchval(sql, guild_id) or 0)

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
        return [blocked_user_from_row(r) for r in rows]


__all__ = [
    "LIMIT_KINDS",
    "MAX_ACTIVE_JOBS",
    "MAX_COOLDOWN_SECONDS",
    "MAX_LIMIT",
    "MAX_PATTERN_LENGTH",
    "MAX_TERMS_PER_GUILD",
    "MAX_TERM_LENGTH",
    "SPOILER_MODES",
    "BlockedTerm",
    "BlockedTermError",
    "BlockedUser",
    "GuildConfig",
    "GuildConfigError",
    "GuildConfigStore",
    "LimitKind",
    "RoleLimit",
    "config_from_row",
    "is_pattern_term",
    "validate_term",
]
