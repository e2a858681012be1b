"""Admission: the one fast, local, atomic decision made before a command is acknowledged.

Every request ends here as exactly one jobs row: an accepted job (status queued) or a refused
request (status refused, with its reason). The checks and the insert share one transaction
under the locks `admit:<guild id>` and `admit-user:<user id>` (and `admit-bot` when the
operator caps the whole bot's day), so two commands racing for the last image of a quota, or
for a user's last active job in two servers, are admitted once
(docs/decisions/007-quotas-in-one-transaction.md).

The environment's limits are the operator's ceilings (docs/decisions/015): a server's and a
role's values are read within them (`LimitKind.effective`), USER_DAILY_LIMIT counts a user's
images in every server and DM, and BOT_DAILY_LIMIT every image of the bot.

The one check that reads the prompt, blocked terms, runs before that transaction, with the
server's terms read outside any lock: however a server's terms are written, matching them can
never hold the database's write lock while other servers wait (issue #15). Its result is
applied at its place in the order below; a term added while the request was being checked
applies from the next request.

Order of checks, first refusal wins:

1. the user is on the operator's block list (every server and DM);
2. a direct message, when the operator has not opened DMs (ALLOW_DMS);
3. the user is blocked in this server;
4. the channel is not in the server's allowed channels (a thread counts as its parent);
5. the member holds none of the allowed roles;
6. the prompt contains a blocked term (the user gets a neutral sentence; the term is kept in
   refusal_detail for moderators and never shown to the user);
7. the cooldown since the user's last accepted request here has not passed;
8. the user already has the maximum of active jobs (queued, submitting, running, delivering,
   counted across every server because they share the scheduler);
9. the server already has GUILD_MAX_ACTIVE_JOBS active jobs (the operator's cap on one
   server's share of the queue; counted under the server's lock, so it is exact);
10. the user's images today (UTC) here, plus this request's, would pass the daily limit here;
11. the user's images today in every server and DM would pass the operator's USER_DAILY_LIMIT;
12. the server's images today, plus this request's, would pass the server's daily limit;
13. the bot's images today would pass BOT_DAILY_LIMIT.

Moderators (Manage Server) skip 4 and 5, so they can test anywhere, but nothing else: a blocked
term is blocked for everyone, and quotas protect the API key whoever asks.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from bot.clock import Clock
from bot.jobs.model import Job, JobStatus, NewJob
from bot.policy.moderation import TermCache, compile_terms
from bot.storage.base import Database
from bot.storage.guild_config import (
    LIMIT_KINDS,
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
from bot.terms import prepare as prepare_terms

REFUSAL_REASONS = (
    "bot_blocked",
    "dms_closed",
    "user_blocked",
    "channel_not_allowed",
    "role_not_allowed",
    "blocked_term",
    "cooldown",
    "active_jobs",
    "guild_active_jobs",
    "user_daily_limit",
    "user_daily_total",
    "guild_daily_limit",
    "bot_daily_limit",
    "validation",
)


class LimitDefaults(Protocol):
    """The environment's limits, the operator's ceilings (`bot.settings.Settings` is one)."""

    @property
    def user_daily_limit(self) -> int: ...
    @property
    def guild_daily_limit(self) -> int: ...
    @property
    def user_cooldown_seconds(self) -> int: ...
    @property
    def user_max_active_jobs(self) -> int: ...
    @property
    def bot_daily_limit(self) -> int: ...
    @property
    def allow_dms(self) -> bool: ...
    @property
    def guild_max_active_jobs(self) -> int: ...


@dataclass(frozen=True)
class DefaultLimits:
    """LimitDefaults without a whole Settings object (tests, the benchmark, the CLI)."""

    user_daily_limit: int = 50
    guild_daily_limit: int = 0
    user_cooldown_seconds: int = 0
    user_max_active_jobs: int = 2
    bot_daily_limit: int = 0
    allow_dms: bool = False
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

    params by reason — user_daily_limit / user_daily_total / guild_daily_limit: limit, used,
    requested, reset (epoch of the next UTC midnight); bot_daily_limit: reset only (the user
    is not told the bot's figures; refusal_detail keeps them); cooldown: retry (epoch when it
    ends), seconds; active_jobs, guild_active_jobs: limit, active; channel_not_allowed: channels;
    role_not_allowed: roles; blocked_term, user_blocked, bot_blocked, dms_closed: nothing (the
    term is never shown to the user).
    """

    reason: str
    params: dict[str, Any]
    job: Job


@dataclass(frozen=True)
class EffectiveLimits:
    """The limits that apply to one member in one place. 0 means no limit (no cooldown).

    `user_daily` counts the member's images here; `user_daily_total` (USER_DAILY_LIMIT) their
    images in every server and DM; `bot_daily` (BOT_DAILY_LIMIT) every image of the bot.
    """

    user_daily: int
    guild_daily: int
    cooldown_seconds: int
    active_jobs: int
    user_daily_total: int = 0
    bot_daily: int = 0


# Taken after the server's and the user's locks, always last, so no two admissions wait on
# each other in a cycle.
BOT_LOCK = "admit-bot"


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
        prepare_terms()  # the normalization tables, built here rather than on a request

    # ----- limits ----------------------------------------------------------------------------

    def limits_for(self, config: GuildConfig, role_ids: Iterable[int]) -> EffectiveLimits:
        """The operator's ceilings, the server's values within them, then the member's roles.

        A server's value is read within the operator's (`LimitKind.effective`: not set, or a 0
        stored before the ceilings, is the operator's value). A role may give its members more
        than the server's value (higher counts, a shorter cooldown; the best role wins) but
        never more than the operator's ceiling, since its value is read the same way.
        """
        d = self.defaults

        def read(code: str, stored: int | None) -> int:
            kind = LIMIT_KINDS[code]
            return kind.effective(stored, kind.operator_value(d))

        daily = read("user_daily", config.user_daily_limit)
        cooldown = read("cooldown", config.user_cooldown_seconds)
        active = read("active_jobs", config.user_max_active_jobs)
        held = frozenset(role_ids)
        for role in config.role_limits:
            if role.role_id not in held:
                continue
            if role.user_daily_limit is not None:
                daily = _best_cap(daily, read("user_daily", role.user_daily_limit))
            if role.user_max_active_jobs is not None:
                active = _best_cap(active, read("active_jobs", role.user_max_active_jobs))
            if role.user_cooldown_seconds is not None:
                cooldown = min(cooldown, read("cooldown", role.user_cooldown_seconds))
        return EffectiveLimits(
            user_daily=daily,
            guild_daily=read("guild_daily", config.guild_daily_limit),
            cooldown_seconds=cooldown,
            active_jobs=active,
            user_daily_total=d.user_daily_limit,
            bot_daily=d.bot_daily_limit,
        )

    # ----- the decision ----------------------------------------------------------------------

    async def admit(
        self, new: NewJob, ctx: RequestContext, *, terms_version: int | None = None
    ) -> Job | Refusal:
        """Record the request and return the queued Job, or record and return a Refusal.

        Nothing that starts a job skips this: commands, forms and buttons that reuse a stored
        input all come here with the place and the member as they are now. `terms_version`:
        the server's, from settings the caller read for this request (the Discord edge does);
        it saves admission that read.
        """
        if new.user_id != ctx.user_id or new.guild_id != ctx.guild_id:
            raise ValueError("NewJob and RequestContext describe different users or servers")
        # Before any lock (see the module doc): reads, and matching bounded by bot.terms.
        term = None
        if ctx.guild_id is not None:
            term = await self.blocked_term(ctx.guild_id, _text_of(new), version=terms_version)
        lock = "admit:dm" if ctx.guild_id is None else f"admit:{ctx.guild_id}"
        async with (
            self.store.db.transaction(lock=lock) as outer,
            # Active jobs are counted across every server, so two servers' admissions for one
            # user must not interleave either (processes on PostgreSQL; on SQLite the writer
            # lock already serializes everything). Always server first, then user: no cycle.
            outer.transaction(lock=f"admit-user:{ctx.user_id}") as tx,
        ):
            # The time is read inside the lock: a request that waited is judged when it runs.
            verdict = await self._check(tx, new, ctx, self.clock.now(), term)
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

    async def blocked_term(
        self, guild_id: int, text: str, *, version: int | None = None
    ) -> BlockedTerm | None:
        """The server's blocked term in `text`, if any. Takes no lock: plain reads only."""
        if version is None:
            version = await self.config.terms_version(guild_id)
        if not version:  # this server never had a blocked term
            return None
        compiled = self.terms.get(guild_id, version)
        if compiled is None:
            terms = await self.config.list_blocked_terms(guild_id)
            compiled = compile_terms(tuple(terms))
            self.terms.put(guild_id, version, compiled)
        found: BlockedTerm | None = compiled.match(text)
        return found

    async def _check(
        self,
        tx: Database,
        new: NewJob,
        ctx: RequestContext,
        now: float,
        term: BlockedTerm | None = None,
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
            user_daily_everywhere=self.defaults.user_daily_limit,
            guild_active_cap=self.defaults.guild_max_active_jobs,
        )
        roles: tuple[RoleLimit, ...] = ()
        if gid is not None and snap.role_limit_count and ctx.role_ids:
            roles = await self.config.role_limits(gid, conn=tx)
        config = config_from_row(0 if gid is None else gid, snap.settings, roles)

        if snap.operator_blocked:
            return _Verdict("bot_blocked")
        if gid is None and not self.defaults.allow_dms:
            # Commands are declared for servers only, but one registered globally before (or
            # a button on a result delivered by DM) may still arrive here.
            return _Verdict("dms_closed")
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
            if term is not None:  # matched before the transaction
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
        if limits.user_daily_total and snap.all_images + wanted > limits.user_daily_total:
            params = {
                "limit": limits.user_daily_total,
                "used": snap.all_images,
                "requested": wanted,
                "reset": reset,
            }
            return _Verdict("user_daily_total", params, _detail(params))
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
        if limits.bot_daily:
            # Last, and only when set: from here to the commit every admission in every process
            # waits for this lock, so the whole bot's count is exact but held as briefly as can be.
            async with tx.transaction(lock=BOT_LOCK) as locked:
                bot_used = await self.usage.bot_images_today(locked, now)
            if bot_used + wanted > limits.bot_daily:
                detail = {"limit": limits.bot_daily, "used": bot_used, "requested": wanted}
                return _Verdict("bot_daily_limit", {"reset": reset}, _detail(detail))
        return None

    # ----- /usage me -------------------------------------------------------------------------

    async def remaining(
        self, user_id: int, guild_id: int | None, role_ids: Iterable[int] = ()
    ) -> dict[str, Any]:
        """Today's allowance for /usage me. `*_remaining` is None when there is no limit.

        The daily figures are those of the limit that leaves the fewest images: this server's,
        or the operator's across every server and DM.
        """
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
        daily_limit = limits.user_daily
        if limits.user_daily_total:
            # Every server and DM together: shown instead when it leaves fewer images.
            everywhere = await self.usage.user_images_everywhere(db, user_id, today)
            everywhere += await self.usage.anonymous.user_images_everywhere(db, user_id, now)
            if not daily_limit or limits.user_daily_total - everywhere < daily_limit - used:
                daily_limit, used = limits.user_daily_total, everywhere
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
            "user_daily_limit": daily_limit,
            "used": used,
            "remaining": max(0, daily_limit - used) if daily_limit else None,
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
