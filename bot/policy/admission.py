"""Admission: the one fast, local, atomic decision made before a command is acknowledged.

Every request ends here as exactly one jobs row: an accepted job (status queued) or a refused
request (status refused, with its reason). The checks and the insert share one transaction
under the locks `admit:<guild id>` and `admit-user:<user id>`, so two commands racing for the
last image of a quota, or for a user's last active job in two servers, are admitted once
(docs/decisions/007-quotas-in-one-transaction.md).

Order of checks, first refusal wins:

1. the user is blocked in this server;
2. the channel is not in the server's allowed channels (a thread counts as its parent);
3. the member holds none of the allowed roles;
4. the prompt contains a blocked term (the user gets a neutral sentence; the term is kept in
   refusal_detail for moderators and never shown to the user);
5. the cooldown since the user's last accepted request here has not passed;
6. the user already has the maximum of active jobs (queued, submitting, running, delivering,
   counted across every server because they share the scheduler);
6b. the server already has GUILD_MAX_ACTIVE_JOBS active jobs (the operator's cap on one
   server's share of the queue; counted under the server's lock, so it is exact);
7. the user's images today (UTC) here, plus this request's, would pass the daily limit;
8. the server's images today, plus this request's, would pass the server's daily limit.

Moderators (Manage Server) skip 2 and 3, so they can test anywhere, but nothing else: a blocked
term is blocked for everyone, and quotas protect the API key whoever asks.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from bot.clock import Clock
from bot.jobs.model import Job, JobStatus, NewJob
from bot.policy.moderation import CompiledTerms, TermCache, compile_terms
from bot.storage.base import Database
from bot.storage.guild_config import (
    MAX_COOLDOWN_SECONDS,
    BlockedTerm,
    GuildConfig,
    GuildConfigStore,
    RoleLimit,
    config_from_row,
)
from bot.storage.jobs import JobStore
from bot.storage.usage import UsageStore
from bot.storage.usage_log import DAY, day_start

REFUSAL_REASONS = (
    "user_blocked",
    "channel_not_allowed",
    "role_not_allowed",
    "blocked_term",
    "cooldown",
    "active_jobs",
    "guild_active_jobs",
    "user_daily_limit",
    "guild_daily_limit",
    "validation",
)


class LimitDefaults(Protocol):
    """The environment's limits (`bot.settings.Settings` is one)."""

    @property
    def user_daily_limit(self) -> int: ...
    @property
    def guild_daily_limit(self) -> int: ...
    @property
    def user_cooldown_seconds(self) -> int: ...
    @property
    def user_max_active_jobs(self) -> int: ...
    @property
    def guild_max_active_jobs(self) -> int: ...


@dataclass(frozen=True)
class DefaultLimits:
    """LimitDefaults without a whole Settings object (tests, the benchmark, the CLI)."""

    user_daily_limit: int = 50
    guild_daily_limit: int = 0
    user_cooldown_seconds: int = 0
    user_max_active_jobs: int = 2
    guild_max_active_jobs: int = 0


@dataclass(frozen=True)
class RequestContext:
    """Who asks, and where, as the Discord layer saw it."""

    user_id: int
    guild_id: int | None
    channel_id: int | None
    role_ids: frozenset[int] = frozenset()
    is_moderator: bool = False  # has Manage Server here
    channel_age_restricted: bool = False
    # A thread's parent channel: a thread of an allowed channel is allowed.
    parent_channel_id: int | None = None


@dataclass(frozen=True)
class Refusal:
    """A refused request: why, the data the user's sentence needs, and its logged row.

    params by reason — user_daily_limit / guild_daily_limit: limit, used, requested, reset
    (epoch of the next UTC midnight); cooldown: retry (epoch when it ends), seconds;
    active_jobs, guild_active_jobs: limit, active; channel_not_allowed: channels; role_not_allowed: roles;
    blocked_term, user_blocked: nothing (the term is never shown to the user).
    """

    reason: str
    params: dict[str, Any]
    job: Job


@dataclass(frozen=True)
class EffectiveLimits:
    """The limits that apply to one member in one place. 0 means no limit (no cooldown)."""

    user_daily: int
    guild_daily: int
    cooldown_seconds: int
    active_jobs: int


def _best_cap(current: int, offered: int) -> int:
    # Caps where 0 means unlimited: unlimited wins, otherwise the larger.
    if current == 0 or offered == 0:
        return 0
    return max(current, offered)


@dataclass
class _Verdict:
    reason: str
    params: dict[str, Any] = field(default_factory=dict)
    detail: str | None = None


class Admission:
    def __init__(
        self,
        *,
        store: JobStore,
        config: GuildConfigStore,
        defaults: LimitDefaults,
        clock: Clock,
    ) -> None:
        self.store = store
        self.config = config
        self.defaults = defaults
        self.clock = clock
        self.usage = UsageStore(store.db, clock)
        self.terms = TermCache()

    # ----- limits ----------------------------------------------------------------------------

    def limits_for(self, config: GuildConfig, role_ids: Iterable[int]) -> EffectiveLimits:
        """Environment defaults, then the server's overrides, then the member's best role.

        Roles only ever raise a member's allowance (higher daily images and active jobs, a
        shorter cooldown; 0 = unlimited wins); a role never lowers the server's values.
        """
        d = self.defaults

        def pick(override: int | None, default: int) -> int:
            return default if override is None else override

        daily = pick(config.user_daily_limit, d.user_daily_limit)
        cooldown = pick(config.user_cooldown_seconds, d.user_cooldown_seconds)
        active = pick(config.user_max_active_jobs, d.user_max_active_jobs)
        held = frozenset(role_ids)
        for role in config.role_limits:
            if role.role_id not in held:
                continue
            if role.user_daily_limit is not None:
                daily = _best_cap(daily, role.user_daily_limit)
            if role.user_max_active_jobs is not None:
                active = _best_cap(active, role.user_max_active_jobs)
            if role.user_cooldown_seconds is not None:
                cooldown = min(cooldown, role.user_cooldown_seconds)
        return EffectiveLimits(
            user_daily=daily,
            guild_daily=pick(config.guild_daily_limit, d.guild_daily_limit),
            cooldown_seconds=cooldown,
            active_jobs=active,
        )

    # ----- the decision ----------------------------------------------------------------------

    async def admit(self, new: NewJob, ctx: RequestContext) -> Job | Refusal:
        """Record the request and return the queued Job, or record and return a Refusal."""
        if new.user_id != ctx.user_id or new.guild_id != ctx.guild_id:
            raise ValueError("NewJob and RequestContext describe different users or servers")
        lock = "admit:dm" if ctx.guild_id is None else f"admit:{ctx.guild_id}"
        async with (
            self.store.db.transaction(lock=lock) as outer,
            # Active jobs are counted across every server, so two servers' admissions for one
            # user must not interleave either (processes on PostgreSQL; on SQLite the writer
            # lock already serializes everything). Always server first, then user: no cycle.
            outer.transaction(lock=f"admit-user:{ctx.user_id}") as tx,
        ):
            # The time is read inside the lock: a request that waited is judged when it runs.
            verdict = await self._check(tx, new, ctx, self.clock.now())
            if verdict is None:
                return await self.store.insert(new, conn=tx)
            job = await self.store.insert(
                new,
                status=JobStatus.REFUSED,
                refusal_reason=verdict.reason,
                refusal_detail=verdict.detail,
                conn=tx,
            )
        return Refusal(verdict.reason, verdict.params, job)

    async def record_refusal(self, new: NewJob, reason: str, detail: str | None = None) -> Job:
        """Log a request refused elsewhere (option validation, attachment checks)."""
        return await self.store.insert(
            new, status=JobStatus.REFUSED, refusal_reason=reason, refusal_detail=detail
        )

    async def _config(self, guild_id: int | None, conn: Database) -> GuildConfig:
        if guild_id is None:
            return GuildConfig(guild_id=0)
        return await self.config.get(guild_id, conn=conn)

    async def _compiled_terms(self, config: GuildConfig, conn: Database) -> CompiledTerms:
        compiled = self.terms.get(config.guild_id, config.terms_version)
        if compiled is None:
            terms = await self.config.list_blocked_terms(config.guild_id, conn=conn)
            compiled = compile_terms(tuple(terms))
            self.terms.put(config.guild_id, config.terms_version, compiled)
        return compiled

    async def blocked_term(self, guild_id: int, text: str) -> BlockedTerm | None:
        """The server's blocked term in `text`, if any (for checks outside admission)."""
        config = await self.config.get(guild_id)
        return (await self._compiled_terms(config, self.store.db)).match(text)

    async def _check(
        self, tx: Database, new: NewJob, ctx: RequestContext, now: float
    ) -> _Verdict | None:
        gid = ctx.guild_id
        today = day_start(now)
        # One statement reads the server's settings and the member's standing; the window for
        # the last request covers the longest cooldown any setting can ask for.
        longest = max(MAX_COOLDOWN_SECONDS, self.defaults.user_cooldown_seconds)
        snap = await self.usage.admission_snapshot(
            tx,
            user_id=ctx.user_id,
            guild_id=gid,
            now=now,
            recent_since=now - longest,
            guild_daily_default=self.defaults.guild_daily_limit,
            guild_active_cap=self.defaults.guild_max_active_jobs,
        )
        roles: tuple[RoleLimit, ...] = ()
        if gid is not None and snap.role_limit_count and ctx.role_ids:
            roles = await self.config.role_limits(gid, conn=tx)
        config = config_from_row(0 if gid is None else gid, snap.settings, roles)

        if gid is not None:
            if snap.blocked:
                return _Verdict("user_blocked")
            if not ctx.is_moderator:
                allowed = config.allowed_channel_ids
                if allowed and not (ctx.channel_id in allowed or ctx.parent_channel_id in allowed):
                    return _Verdict("channel_not_allowed", {"channels": sorted(allowed)})
                allowed_roles = config.allowed_role_ids
                if allowed_roles and not (allowed_roles & ctx.role_ids):
                    return _Verdict("role_not_allowed", {"roles": sorted(allowed_roles)})
            if config.terms_version:  # 0: this server never had a blocked term
                compiled = await self._compiled_terms(config, tx)
                term = compiled.match(_text_of(new))
                if term is not None:
                    return _Verdict("blocked_term", {}, term.term)

        limits = self.limits_for(config, ctx.role_ids)
        if limits.cooldown_seconds:
            latest = max(
                (t for t in (snap.last_request, snap.anon_last) if t is not None), default=None
            )
            if latest is not None and now < latest + limits.cooldown_seconds:
                params: dict[str, Any] = {
                    "retry": latest + limits.cooldown_seconds,
                    "seconds": limits.cooldown_seconds,
                }
                return _Verdict("cooldown", params, _detail(params))
        if limits.active_jobs and snap.active >= limits.active_jobs:
            params = {"limit": limits.active_jobs, "active": snap.active}
            return _Verdict("active_jobs", params, _detail(params))
        server_cap = self.defaults.guild_max_active_jobs
        if gid is not None and server_cap and snap.guild_active >= server_cap:
            params = {"limit": server_cap, "active": snap.guild_active}
            return _Verdict("guild_active_jobs", params, _detail(params))
        wanted = new.image_count
        reset = today + DAY
        if limits.user_daily:
            used = snap.user_images + snap.anon_images
            if used + wanted > limits.user_daily:
                params = {
                    "limit": limits.user_daily,
                    "used": used,
                    "requested": wanted,
                    "reset": reset,
                }
                return _Verdict("user_daily_limit", params, _detail(params))
        if gid is not None and limits.guild_daily:
            guild_used = snap.guild_images + snap.anon_guild_images
            if guild_used + wanted > limits.guild_daily:
                params = {
                    "limit": limits.guild_daily,
                    "used": guild_used,
                    "requested": wanted,
                    "reset": reset,
                }
                return _Verdict("guild_daily_limit", params, _detail(params))
        return None

    # ----- /usage me -------------------------------------------------------------------------

    async def remaining(
        self, user_id: int, guild_id: int | None, role_ids: Iterable[int] = ()
    ) -> dict[str, Any]:
        """Today's allowance for /usage me. `*_remaining` is None when there is no limit."""
        db = self.store.db
        now = self.clock.now()
        today = day_start(now)
        config = await self._config(guild_id, db)
        limits = self.limits_for(config, role_ids)
        used = await self.usage.user_images_since(db, user_id, guild_id, today)
        since = now - limits.cooldown_seconds
        last = await self.usage.last_request_at(db, user_id, guild_id, since)
        anon_images, anon_last = await self.usage.anonymous.user_today(
            db, user_id, guild_id, now, since
        )
        used += anon_images
        guild_used = 0
        if guild_id is not None:
            guild_used = await self.usage.guild_images_since(db, guild_id, today)
            guild_used += await self.usage.anonymous.guild_images(db, guild_id, now)
        latest = max((t for t in (last, anon_last) if t is not None), default=None)
        cooldown_until = (
            latest + limits.cooldown_seconds
            if limits.cooldown_seconds and latest is not None
            else None
        )
        return {
            "user_daily_limit": limits.user_daily,
            "used": used,
            "remaining": max(0, limits.user_daily - used) if limits.user_daily else None,
            "guild_daily_limit": limits.guild_daily if guild_id is not None else 0,
            "guild_used": guild_used,
            "guild_remaining": (
                max(0, limits.guild_daily - guild_used)
                if guild_id is not None and limits.guild_daily
                else None
            ),
            "reset": today + DAY,
            "cooldown_seconds": limits.cooldown_seconds,
            "cooldown_until": cooldown_until if cooldown_until and cooldown_until > now else None,
            "active_jobs": await self.usage.active_jobs(db, user_id),
            "active_jobs_limit": limits.active_jobs,
        }


def _text_of(new: NewJob) -> str:
    """The prompt plus any other free text in the input (but not image URLs)."""
    parts = [new.prompt]
    for key, value in sorted(new.input.items()):
        if (
            isinstance(value, str)
            and value != new.prompt
            and "://" not in value
            and not key.endswith("image")
        ):
            parts.append(value)
    return "\n".join(parts)


def _detail(params: dict[str, Any]) -> str:
    return json.dumps(params, sort_keys=True)


__all__ = [
    "REFUSAL_REASONS",
    "Admission",
    "DefaultLimits",
    "EffectiveLimits",
    "LimitDefaults",
    "Refusal",
    "RequestContext",
]
