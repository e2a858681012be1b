"""Admission: the one fast, local, atomic decision made before a command is acknowledged.

Every request ends here as exactly one jobs row: an accepted job (status queued) or a refused
request (status refused, with its reason). The checks and the insert share one transaction
under the locks `admit:<guild id>` and `admit-user:<user id>` (and `admit-bot` when the
operator caps the whole bot's day or month), so two commands racing for the last image of a
quota, the last dollars of a budget, or a user's last active job in two servers, are admitted
once (docs/decisions/007-quotas-in-one-transaction.md, 024-costs-and-budgets.md).

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
13. a budget applies and the model has no known price (`bot.policy.budgets`);
14. the member's spend here this month, plus this request's estimate, would pass their budget;
15. the server's spend this month, plus this request's estimate, would pass its budget;
16. the bot's images today would pass BOT_DAILY_LIMIT;
17. the bot's spend this month, plus this request's estimate, would pass BOT_MONTHLY_BUDGET.

Moderators (Manage Server) skip 4 and 5, so they can test anywhere, but nothing else: a blocked
term is blocked for everyone, and quotas protect the API key whoever asks.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from bot.clock import Clock
from bot.jobs.model import Job, JobStatus, NewJob
from bot.policy.budgets import BudgetNotice, Budgets
from bot.policy.limits import (
    DefaultLimits,
    EffectiveLimits,
    LimitDefaults,
    Verdict,
    limits_for,
)
from bot.policy.moderation import TermCache, compile_terms
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
    "budget_unpriced",
    "member_monthly_budget",
    "guild_monthly_budget",
    "bot_monthly_budget",
    "validation",
)


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
    term is never shown to the user); member_monthly_budget / guild_monthly_budget: budget,
    spent, cost (micro-dollars), reset_day (epoch of the next month's first day, UTC);
    bot_monthly_budget: reset_day only; budget_unpriced: model (its id).
    """

    reason: str
    params: dict[str, Any]
    job: Job


# Taken after the server's and the user's locks, always last, so no two admissions wait on
# each other in a cycle.
BOT_LOCK = "admit-bot"


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
        self.budgets = Budgets(defaults)
        prepare_terms()  # the normalization tables, built here rather than on a request

    # ----- limits ----------------------------------------------------------------------------

    def limits_for(self, config: GuildConfig, role_ids: Iterable[int]) -> EffectiveLimits:
        """The limits for a member with these roles here (`bot.policy.limits.limits_for`)."""
        return limits_for(self.defaults, config, role_ids)

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
            now = self.clock.now()
            notices: list[BudgetNotice] = []
            verdict = await self._check(tx, new, ctx, now, term, notices)
            if verdict is None:
                job = await self.store.insert(new, conn=tx)
            else:
                job = await self.store.insert(
                    new,
                    status=JobStatus.REFUSED,
                    refusal_reason=verdict.reason,
                    refusal_detail=verdict.detail,
                    conn=tx,
                )
            if notices:  # recorded with the job, so given once across processes
                notices = await self.budgets.record(tx, notices, now)
        self.budgets.announce(notices)  # after the commit: nothing announced is rolled back
        if verdict is None:
            return job
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
        notices: list[BudgetNotice] | None = None,
    ) -> Verdict | None:
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
            return Verdict("bot_blocked")
        if gid is None and not self.defaults.allow_dms:
            # Commands are declared for servers only, but one registered globally before (or
            # a button on a result delivered by DM) may still arrive here.
            return Verdict("dms_closed")
        if gid is not None:
            if snap.blocked:
                return Verdict("user_blocked")
            if not ctx.is_moderator:
                allowed = config.allowed_channel_ids
                if allowed and not (ctx.channel_id in allowed or ctx.parent_channel_id in allowed):
                    return Verdict("channel_not_allowed", {"channels": sorted(allowed)})
                allowed_roles = config.allowed_role_ids
                if allowed_roles and not (allowed_roles & ctx.role_ids):
                    return Verdict("role_not_allowed", {"roles": sorted(allowed_roles)})
            if term is not None:  # matched before the transaction
                return Verdict("blocked_term", {}, term.term)

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
                return Verdict("cooldown", params, _detail(params))
        if limits.active_jobs and snap.active >= limits.active_jobs:
            params = {"limit": limits.active_jobs, "active": snap.active}
            return Verdict("active_jobs", params, _detail(params))
        server_cap = self.defaults.guild_max_active_jobs
        if gid is not None and server_cap and snap.guild_active >= server_cap:
            params = {"limit": server_cap, "active": snap.guild_active}
            return Verdict("guild_active_jobs", params, _detail(params))
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
                return Verdict("user_daily_limit", params, _detail(params))
        if limits.user_daily_total and snap.all_images + wanted > limits.user_daily_total:
            params = {
                "limit": limits.user_daily_total,
                "used": snap.all_images,
                "requested": wanted,
                "reset": reset,
            }
            return Verdict("user_daily_total", params, _detail(params))
        if gid is not None and limits.guild_daily:
            guild_used = snap.guild_images + snap.anon_guild_images
            if guild_used + wanted > limits.guild_daily:
                params = {
                    "limit": limits.guild_daily,
                    "used": guild_used,
                    "requested": wanted,
                    "reset": reset,
                }
                return Verdict("guild_daily_limit", params, _detail(params))
        notices = [] if notices is None else notices
        place = config if gid is not None else None
        verdict = self.budgets.check_place(new, place, snap, now, notices)
        if verdict is not None:
            return verdict
        bot_budget = self.budgets.bot_budget
        if limits.bot_daily or bot_budget:
            # Last, and only when set: from here to the commit every admission in every process
            # waits for this lock, so the whole bot's count is exact but held as briefly as can be.
            async with tx.transaction(lock=BOT_LOCK) as locked:
                bot = await self.usage.bot_standing(
                    locked, now, images=bool(limits.bot_daily), spend=bool(bot_budget)
                )
            if limits.bot_daily and bot.images + wanted > limits.bot_daily:
                detail = {"limit": limits.bot_daily, "used": bot.images, "requested": wanted}
                return Verdict("bot_daily_limit", {"reset": reset}, _detail(detail))
            return self.budgets.check_bot(new, bot.spend, now, notices)
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
