"""Admission: every limit refuses at its boundary, resets when it should, and logs the refusal."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from pathlib import Path

from bot.jobs.model import Job, JobStatus
from bot.policy import Admission, EffectiveLimits, Refusal, RequestContext
from bot.storage import Database, open_database
from bot.storage.guild_config import GuildConfig, GuildConfigStore, RoleLimit
from bot.storage.jobs import JobStore
from bot.storage.operator_blocks import OperatorBlockStore
from tests.bot.policy.helpers import (
    CHANNEL,
    GUILD,
    MIDNIGHT,
    NOON,
    OTHER_GUILD,
    FakeClock,
    make_admission,
    new_job,
)

PATRON = 900
VIP = 901


def ctx(
    user: int = 1,
    guild: int | None = GUILD,
    channel: int | None = CHANNEL,
    roles: frozenset[int] = frozenset(),
    moderator: bool = False,
    parent: int | None = None,
) -> RequestContext:
    return RequestContext(
        user_id=user,
        guild_id=guild,
        channel_id=channel,
        role_ids=roles,
        is_moderator=moderator,
        channel_age_restricted=False,
        parent_channel_id=parent,
    )


async def admit(
    adm: Admission,
    user: int = 1,
    count: int = 1,
    guild: int | None = GUILD,
    channel: int | None = CHANNEL,
    prompt: str = "a lighthouse at dusk",
    **kw: object,
) -> Job | Refusal:
    return await adm.admit(
        new_job(user=user, guild=guild, channel=channel, count=count, prompt=prompt),
        ctx(user=user, guild=guild, channel=channel, **kw),  # type: ignore[arg-type]
    )


async def stored_before_ceilings(
    config: GuildConfigStore, guild: int, role: int | None = None, **columns: int | None
) -> None:
    """Write limit values as an earlier version could (0 meant "no limit"), past the checks."""
    table, keys = (
        ("guild_settings", {"guild_id": guild})
        if role is None
        else ("guild_role_limits", {"guild_id": guild, "role_id": role})
    )
    for column, value in columns.items():
        names = [*keys, column, "updated_at"]
        await config.db.execute(
            f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
            f" ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {column} = excluded.{column}",
            *keys.values(),
            value,
            0.0,
        )


async def assert_accepted(result: Job | Refusal, jobs: JobStore) -> Job:
    assert isinstance(result, Job), result
    stored = await jobs.get(result.id)
    assert stored is not None and stored.status is JobStatus.QUEUED
    return stored


async def assert_refused(result: Job | Refusal, reason: str, jobs: JobStore) -> Refusal:
    """The refusal names its reason, and its row is in the log with status refused."""
    assert isinstance(result, Refusal), result
    assert result.reason == reason
    stored = await jobs.get(result.job.id)
    assert stored is not None
    assert stored.status is JobStatus.REFUSED
    assert stored.refusal_reason == reason
    assert stored.finished_at is not None
    events = await jobs.events(stored.id)
    assert [e["status"] for e in events] == ["refused"]
    return result


async def test_user_daily_limit_refuses_at_the_boundary_and_resets_at_utc_midnight(
    jobs: JobStore, config: GuildConfigStore, clock: FakeClock
) -> None:
    """A request for k images is refused when used + k passes the limit; midnight UTC resets."""
    adm = make_admission(jobs, config, clock, user_daily_limit=3)
    await assert_accepted(await admit(adm, count=2), jobs)
    refusal = await assert_refused(await admit(adm, count=2), "user_daily_limit", jobs)
    assert refusal.params == {"limit": 3, "used": 2, "requested": 2, "reset": MIDNIGHT}
    await assert_accepted(await admit(adm, count=1), jobs)  # exactly the limit
    await assert_refused(await admit(adm, count=1), "user_daily_limit", jobs)
    # Another user has their own count; another server shares the operator's.
    await assert_accepted(await admit(adm, user=2, count=3), jobs)
    elsewhere = await assert_refused(await admit(adm, guild=OTHER_GUILD), "user_daily_total", jobs)
    assert elsewhere.params == {"limit": 3, "used": 3, "requested": 1, "reset": MIDNIGHT}
    clock.set(MIDNIGHT - 0.001)
    await assert_refused(await admit(adm, count=1), "user_daily_limit", jobs)
    clock.set(MIDNIGHT)
    await assert_accepted(await admit(adm, count=3), jobs)


async def test_guild_daily_limit_counts_every_member_and_resets_at_midnight(
    jobs: JobStore, config: GuildConfigStore, clock: FakeClock
) -> None:
    """The server's images today, from all members, are capped; the cap resets at midnight."""
    adm = make_admission(jobs, config, clock, guild_daily_limit=4)
    await assert_accepted(await admit(adm, user=1, count=2), jobs)
    await assert_accepted(await admit(adm, user=2, count=1), jobs)
    refusal = await assert_refused(await admit(adm, user=3, count=2), "guild_daily_limit", jobs)
    assert refusal.params == {"limit": 4, "used": 3, "requested": 2, "reset": MIDNIGHT}
    await assert_accepted(await admit(adm, user=3, count=1), jobs)
    await assert_refused(await admit(adm, user=4, count=1), "guild_daily_limit", jobs)
    await assert_accepted(await admit(adm, user=4, guild=OTHER_GUILD), jobs)
    clock.set(MIDNIGHT)
    await assert_accepted(await admit(adm, user=4, count=4), jobs)


async def test_server_values_apply_within_the_operators_ceiling(
    jobs: JobStore, config: GuildConfigStore, clock: FakeClock
) -> None:
    """A lower server value applies; a higher one, or a 0 stored before the ceilings, reads as
    the operator's; a server cap where the operator set none applies as set."""
    adm = make_admission(jobs, config, clock, user_daily_limit=3)
    await config.set_user_daily_limit(GUILD, 1)
    await assert_accepted(await admit(adm, user=1), jobs)
    refusal = await assert_refused(await admit(adm, user=1), "user_daily_limit", jobs)
    assert refusal.params["limit"] == 1
    for stored in (5, 0, None):
        await stored_before_ceilings(config, GUILD, user_daily_limit=stored)
        assert adm.limits_for(await config.get(GUILD), ()).user_daily == 3
    await assert_accepted(await admit(adm, user=2, count=3), jobs)
    refusal = await assert_refused(await admit(adm, user=2), "user_daily_limit", jobs)
    assert refusal.params["limit"] == 3
    # A server's daily cap stored as 0 ("no limit") before the ceilings is the operator's.
    capped = make_admission(jobs, config, clock, guild_daily_limit=2)
    await stored_before_ceilings(config, OTHER_GUILD, guild_daily_limit=0)
    await assert_accepted(await admit(capped, user=7, guild=OTHER_GUILD, count=2), jobs)
    await assert_refused(await admit(capped, user=8, guild=OTHER_GUILD), "guild_daily_limit", jobs)
    await config.set_guild_daily_limit(OTHER_GUILD, None)
    await jobs.db.execute("DELETE FROM jobs WHERE guild_id = ?", OTHER_GUILD)
    # A server cap set only in /settings (the environment has none) applies too.
    await config.set_guild_daily_limit(OTHER_GUILD, 2)
    await assert_accepted(await admit(adm, user=5, guild=OTHER_GUILD, count=2), jobs)
    refusal = await assert_refused(
        await admit(adm, user=6, guild=OTHER_GUILD), "guild_daily_limit", jobs
    )
    assert refusal.params["used"] == 2


async def test_cooldown_boundary(
    jobs: JobStore, config: GuildConfigStore, clock: FakeClock
) -> None:
    """Within the cooldown a request is refused with the retry time; at its end it passes."""
    adm = make_admission(jobs, config, clock, user_cooldown_seconds=30)
    await assert_accepted(await admit(adm), jobs)
    clock.advance(29.999)
    refusal = await assert_refused(await admit(adm), "cooldown", jobs)
    assert refusal.params == {"retry": NOON + 30, "seconds": 30}
    # A refused request does not restart the cooldown.
    clock.set(NOON + 30)
    await assert_accepted(await admit(adm), jobs)
    # Other users, and the same user elsewhere, are not held back.
    await assert_accepted(await admit(adm, user=2), jobs)
    await assert_accepted(await admit(adm, guild=OTHER_GUILD), jobs)


async def test_active_job_cap_counts_queued_to_delivering(
    jobs: JobStore, config: GuildConfigStore, clock: FakeClock
) -> None:
    """A user with the maximum of active jobs is refused until one of them finishes."""
    adm = make_admission(jobs, config, clock, user_max_active_jobs=2)
    first = await assert_accepted(await admit(adm), jobs)
    second = await assert_accepted(await admit(adm, guild=OTHER_GUILD), jobs)
    await jobs.transition(first.id, JobStatus.RUNNING, prediction_id="p1")
    await jobs.transition(second.id, JobStatus.DELIVERING, prediction_id="p2")
    refusal = await assert_refused(await admit(adm), "active_jobs", jobs)
    assert refusal.params == {"limit": 2, "active": 2}
    await assert_accepted(await admit(adm, user=2), jobs)
    await jobs.transition(second.id, JobStatus.SUCCEEDED)
    await assert_accepted(await admit(adm), jobs)


async def test_server_active_job_cap_refuses_at_the_boundary_and_frees_on_finish(
    jobs: JobStore, config: GuildConfigStore, clock: FakeClock
) -> None:
    """GUILD_MAX_ACTIVE_JOBS caps one server's queued plus running jobs; others and DMs go on."""
    adm = make_admission(jobs, config, clock, guild_max_active_jobs=2, allow_dms=True)
    first = await assert_accepted(await admit(adm, user=1), jobs)
    await assert_accepted(await admit(adm, user=2), jobs)
    await jobs.transition(first.id, JobStatus.RUNNING, prediction_id="p1")
    refusal = await assert_refused(await admit(adm, user=3), "guild_active_jobs", jobs)
    assert refusal.params == {"limit": 2, "active": 2}
    assert json.loads(refusal.job.refusal_detail or "{}") == {"active": 2, "limit": 2}
    await assert_accepted(await admit(adm, user=3, guild=OTHER_GUILD), jobs)
    await assert_accepted(await admit(adm, user=3, guild=None, channel=None), jobs)
    await jobs.transition(first.id, JobStatus.SUCCEEDED)
    await assert_accepted(await admit(adm, user=3), jobs)


async def test_no_server_cap_by_default(
    jobs: JobStore, config: GuildConfigStore, clock: FakeClock
) -> None:
    """GUILD_MAX_ACTIVE_JOBS=0 (the default) never refuses, however busy the server is."""
    adm = make_admission(jobs, config, clock)
    for user in range(1, 13):
        await assert_accepted(await admit(adm, user=user), jobs)


async def test_two_concurrent_admits_at_the_boundary_are_admitted_once(
    jobs: JobStore, config: GuildConfigStore, clock: FakeClock
) -> None:
    """Two commands racing for the last image: one job, one refusal, never two jobs."""
    adm = make_admission(jobs, config, clock, user_daily_limit=3)
    await assert_accepted(await admit(adm, count=2), jobs)
    results = await asyncio.gather(admit(adm), admit(adm))
    assert sorted(type(r).__name__ for r in results) == ["Job", "Refusal"]
    count = await jobs.db.fetchval(
        "SELECT SUM(image_count) FROM jobs WHERE status = 'queued' AND user_id = 1"
    )
    assert count == 3


async def test_concurrent_admits_on_two_connections_respect_the_guild_limit(
    tmp_path: Path, clock: FakeClock
) -> None:
    """Two handles on one file (like two processes) still admit the last image once."""
    path = tmp_path / "shared.db"
    first = await open_database(f"sqlite:///{path}")
    second = await open_database(f"sqlite:///{path}")
    try:
        adms = [
            make_admission(
                JobStore(d, clock), GuildConfigStore(d, clock), clock, guild_daily_limit=5
            )
            for d in (first, second)
        ]
        await assert_accepted(await admit(adms[0], count=4), JobStore(first, clock))
        results = await asyncio.gather(*(admit(a, user=10 + i) for i in range(3) for a in adms))
        assert sum(isinstance(r, Job) for r in results) == 1
        assert (
            await first.fetchval("SELECT SUM(image_count) FROM jobs WHERE status <> 'refused'") == 5
        )
    finally:
        await first.close()
        await second.close()


async def test_roles_raise_the_servers_daily_limit_up_to_the_operators_ceiling(
    jobs: JobStore, config: GuildConfigStore, clock: FakeClock
) -> None:
    """A role may give more than the server's value but never more than the operator's; a role
    stored as unlimited (0) before the ceilings gets the operator's value."""
    adm = make_admission(jobs, config, clock, user_daily_limit=5)
    await config.set_user_daily_limit(GUILD, 1)
    await config.set_role_limit(GUILD, PATRON, user_daily_limit=3)
    await stored_before_ceilings(config, GUILD, role=VIP, user_daily_limit=0)
    patron = frozenset({PATRON})
    await assert_accepted(await admit(adm, user=1, count=3, roles=patron), jobs)
    await assert_refused(await admit(adm, user=1, roles=patron), "user_daily_limit", jobs)
    vip = frozenset({VIP, PATRON})
    await assert_accepted(await admit(adm, user=2, count=4, roles=vip), jobs)
    await assert_accepted(await admit(adm, user=2, count=1, roles=vip), jobs)
    refusal = await assert_refused(await admit(adm, user=2, roles=vip), "user_daily_limit", jobs)
    assert refusal.params["limit"] == 5
    await assert_accepted(await admit(adm, user=3), jobs)
    await assert_refused(await admit(adm, user=3), "user_daily_limit", jobs)


async def test_limits_for_reads_server_and_roles_within_the_operators_ceilings(
    jobs: JobStore, config: GuildConfigStore, clock: FakeClock
) -> None:
    """Operator → server → best role, each read within the operator's values: counts never
    above them, a cooldown never shorter; the operator's own values ride along."""
    adm = make_admission(
        jobs,
        config,
        clock,
        user_daily_limit=50,
        guild_daily_limit=0,
        user_cooldown_seconds=60,
        user_max_active_jobs=3,
        bot_daily_limit=900,
    )
    cfg = GuildConfig(
        guild_id=GUILD,
        user_daily_limit=10,
        guild_daily_limit=100,
        user_cooldown_seconds=120,
        user_max_active_jobs=1,
        role_limits=(
            RoleLimit(GUILD, 1, user_daily_limit=20, user_cooldown_seconds=90),
            RoleLimit(GUILD, 2, user_daily_limit=5, user_max_active_jobs=2),
            RoleLimit(GUILD, 3, user_cooldown_seconds=30, user_max_active_jobs=9),
            RoleLimit(GUILD, 4, user_daily_limit=0, user_max_active_jobs=0),
            RoleLimit(GUILD, 5, user_daily_limit=80),
        ),
    )

    def limits(daily: int, cooldown: int, active: int) -> EffectiveLimits:
        return EffectiveLimits(daily, 100, cooldown, active, user_daily_total=50, bot_daily=900)

    assert adm.limits_for(cfg, []) == limits(10, 120, 1)
    assert adm.limits_for(cfg, [1]) == limits(20, 90, 1)
    assert adm.limits_for(cfg, [2]) == limits(10, 120, 2)
    assert adm.limits_for(cfg, [3]) == limits(10, 60, 3)  # never below 60, never above 3
    assert adm.limits_for(cfg, [4]) == limits(50, 120, 3)  # "unlimited" stored earlier
    assert adm.limits_for(cfg, [5]) == limits(50, 120, 1)
    assert adm.limits_for(cfg, [1, 2, 3]) == limits(20, 60, 3)
    plain = adm.limits_for(GuildConfig(guild_id=GUILD), [1])
    assert plain == EffectiveLimits(50, 0, 60, 3, user_daily_total=50, bot_daily=900)
    # Where the operator set no limit, a server's value is its own, and 0 is still none.
    open_bot = make_admission(jobs, config, clock)
    assert open_bot.limits_for(cfg, [1]) == EffectiveLimits(20, 100, 90, 1)
    assert open_bot.limits_for(cfg, [4]).user_daily == 0


async def test_role_cooldown_and_active_overrides_apply(
    jobs: JobStore, config: GuildConfigStore, clock: FakeClock
) -> None:
    """A role's shorter cooldown and larger active-job cap (within the operator's) are what
    admission enforces."""
    adm = make_admission(jobs, config, clock, user_cooldown_seconds=5, user_max_active_jobs=2)
    await config.set_user_cooldown_seconds(GUILD, 60)
    await config.set_user_max_active_jobs(GUILD, 1)
    await config.set_role_limit(GUILD, PATRON, user_cooldown_seconds=5, user_max_active_jobs=2)
    roles = frozenset({PATRON})
    await assert_accepted(await admit(adm, roles=roles), jobs)
    clock.advance(5)
    await assert_accepted(await admit(adm, roles=roles), jobs)
    clock.advance(5)
    await assert_refused(await admit(adm, roles=roles), "active_jobs", jobs)
    await assert_accepted(await admit(adm, user=2), jobs)
    clock.advance(5)
    await assert_refused(await admit(adm, user=2), "cooldown", jobs)


async def test_allowed_channels_refuse_elsewhere_allow_threads_and_moderators(
    jobs: JobStore, config: GuildConfigStore, clock: FakeClock
) -> None:
    """Outside the allowed channels a member is refused with the list; threads and mods pass."""
    adm = make_admission(jobs, config, clock)
    await config.set_allowed_channels(GUILD, [CHANNEL, 7])
    await assert_accepted(await admit(adm, channel=CHANNEL), jobs)
    refusal = await assert_refused(await admit(adm, channel=8), "channel_not_allowed", jobs)
    assert refusal.params == {"channels": [7, CHANNEL]}
    await assert_accepted(await admit(adm, channel=8, parent=7), jobs)
    await assert_accepted(await admit(adm, channel=8, moderator=True), jobs)
    await assert_accepted(await admit(adm, channel=8, guild=OTHER_GUILD), jobs)
    await config.set_allowed_channels(GUILD, [])
    await assert_accepted(await admit(adm, channel=8), jobs)


async def test_allowed_roles_refuse_members_without_them(
    jobs: JobStore, config: GuildConfigStore, clock: FakeClock
) -> None:
    """With allowed roles set, a member needs one of them; moderators need none."""
    adm = make_admission(jobs, config, clock)
    await config.add_allowed_role(GUILD, PATRON)
    refusal = await assert_refused(await admit(adm), "role_not_allowed", jobs)
    assert refusal.params == {"roles": [PATRON]}
    await assert_accepted(await admit(adm, roles=frozenset({PATRON, 5})), jobs)
    await assert_accepted(await admit(adm, moderator=True), jobs)


async def test_blocked_users_are_refused_in_that_server_only(
    jobs: JobStore, config: GuildConfigStore, clock: FakeClock
) -> None:
    """A blocked member is refused first, even as a moderator; other servers are unaffected."""
    adm = make_admission(jobs, config, clock)
    await config.set_allowed_channels(GUILD, [999])  # would refuse too; blocked comes first
    await config.block_user(GUILD, 1, blocked_by=42)
    refusal = await assert_refused(await admit(adm, moderator=True), "user_blocked", jobs)
    assert refusal.params == {}
    await assert_accepted(await admit(adm, guild=OTHER_GUILD), jobs)
    await config.unblock_user(GUILD, 1)
    await config.set_allowed_channels(GUILD, [])
    await assert_accepted(await admit(adm), jobs)


async def test_blocked_terms_refuse_neutrally_and_log_the_term(
    jobs: JobStore, config: GuildConfigStore, clock: FakeClock
) -> None:
    """A blocked term refuses everyone, moderators too; the term is logged, never in params."""
    adm = make_admission(jobs, config, clock)
    await config.add_blocked_term(GUILD, "Café", added_by=42)
    refusal = await assert_refused(
        await admit(adm, prompt="a CAFE at night", moderator=True), "blocked_term", jobs
    )
    assert refusal.params == {}
    assert refusal.job.refusal_detail == "Café"
    assert refusal.job.prompt == "a CAFE at night"
    await assert_accepted(await admit(adm, prompt="a cafeteria at night"), jobs)
    await assert_accepted(await admit(adm, prompt="a CAFE at night", guild=OTHER_GUILD), jobs)


async def test_blocked_term_changes_reach_a_cached_admission(
    tmp_path: Path, clock: FakeClock
) -> None:
    """A term added or removed through another handle applies on the very next request."""
    path = tmp_path / "shared.db"
    a_db = await open_database(f"sqlite:///{path}")
    b_db = await open_database(f"sqlite:///{path}")
    try:
        a_jobs = JobStore(a_db, clock)
        adm = make_admission(a_jobs, GuildConfigStore(a_db, clock), clock)
        other = GuildConfigStore(b_db, clock)
        await assert_accepted(await admit(adm, prompt="red dragon"), a_jobs)
        await other.add_blocked_term(GUILD, "dragon")
        await assert_refused(await admit(adm, prompt="red dragon"), "blocked_term", a_jobs)
        await other.add_blocked_term(GUILD, "/r[e3]d/")
        await other.remove_blocked_term(GUILD, "dragon")
        refusal = await assert_refused(
            await admit(adm, prompt="R3D dragon"), "blocked_term", a_jobs
        )
        assert refusal.job.refusal_detail == "/r[e3]d/"
        await other.remove_blocked_term(GUILD, "/r[e3]d/")
        await assert_accepted(await admit(adm, prompt="red dragon"), a_jobs)
    finally:
        await a_db.close()
        await b_db.close()


async def test_blocked_terms_are_found_in_other_text_fields_but_not_urls(
    jobs: JobStore, config: GuildConfigStore, clock: FakeClock
) -> None:
    """Free text given through `extra` is checked; an image URL that contains a word is not."""
    adm = make_admission(jobs, config, clock)
    await config.add_blocked_term(GUILD, "cat")
    base = new_job(prompt="a garden")
    smuggled = replace(base, input={"prompt": "a garden", "style": "cat"})
    await assert_refused(await adm.admit(smuggled, ctx()), "blocked_term", jobs)
    with_url = replace(
        base,
        kind="edit",
        input={"prompt": "a garden", "input_image": "https://cdn.example/cat.png"},
    )
    await assert_accepted(await adm.admit(with_url, ctx()), jobs)


async def test_checks_run_in_the_documented_order(
    jobs: JobStore, config: GuildConfigStore, clock: FakeClock
) -> None:
    """With every rule broken at once, each fix reveals the next reason in order."""
    adm = make_admission(
        jobs,
        config,
        clock,
        user_daily_limit=1,
        guild_daily_limit=1,
        user_cooldown_seconds=10,
        user_max_active_jobs=1,
    )
    await assert_accepted(await admit(adm, user=1), jobs)  # uses the day, the cooldown, a slot
    await config.block_user(GUILD, 1)
    await config.set_allowed_channels(GUILD, [5])
    await config.set_allowed_roles(GUILD, [6])
    await config.add_blocked_term(GUILD, "storm")
    seen = []
    fixes = [
        lambda: config.unblock_user(GUILD, 1),
        lambda: config.set_allowed_channels(GUILD, []),
        lambda: config.set_allowed_roles(GUILD, []),
        lambda: config.remove_blocked_term(GUILD, "storm"),
    ]
    for fix in [*fixes, None]:
        result = await admit(adm, user=1, prompt="storm")
        assert isinstance(result, Refusal)
        seen.append(result.reason)
        if fix is not None:
            await fix()
    clock.advance(10)
    seen.append(getattr(await admit(adm, user=1), "reason", None))
    first = (await jobs.active_for_user(1))[0]
    await jobs.transition(first.id, JobStatus.SUCCEEDED, prediction_id="p")
    seen.append(getattr(await admit(adm, user=1), "reason", None))
    seen.append(getattr(await admit(adm, user=2), "reason", None))
    assert seen == [
        "user_blocked",
        "channel_not_allowed",
        "role_not_allowed",
        "blocked_term",
        "cooldown",
        "active_jobs",
        "user_daily_limit",
        "guild_daily_limit",
    ]


async def test_jobs_that_failed_before_the_provider_ran_them_do_not_count(
    jobs: JobStore, config: GuildConfigStore, clock: FakeClock
) -> None:
    """Refused requests and jobs ended without a prediction are free; ones the provider ran count."""
    adm = make_admission(jobs, config, clock, user_daily_limit=2)
    a = await assert_accepted(await admit(adm), jobs)
    b = await assert_accepted(await admit(adm), jobs)
    await assert_refused(await admit(adm), "user_daily_limit", jobs)
    await jobs.transition(a.id, JobStatus.FAILED, error_kind="invalid_input")
    await jobs.transition(b.id, JobStatus.CANCELED)
    c = await assert_accepted(await admit(adm), jobs)
    d = await assert_accepted(await admit(adm), jobs)
    await jobs.transition(c.id, JobStatus.FAILED, prediction_id="pc", error_kind="provider")
    await jobs.transition(d.id, JobStatus.TIMED_OUT, prediction_id="pd")
    await assert_refused(await admit(adm), "user_daily_limit", jobs)


async def test_direct_messages_are_refused_unless_the_operator_opens_them(
    jobs: JobStore, config: GuildConfigStore, clock: FakeClock
) -> None:
    """Without ALLOW_DMS a DM request is refused whatever it is; with it, the operator's limits
    apply, and a DM image counts against the same daily limit as the servers'."""
    closed = make_admission(jobs, config, clock, user_daily_limit=2)
    refusal = await assert_refused(await admit(closed, guild=None, channel=77), "dms_closed", jobs)
    assert refusal.params == {}
    adm = make_admission(jobs, config, clock, allow_dms=True, user_daily_limit=2)
    await assert_accepted(await admit(adm, guild=None, channel=77), jobs)
    await assert_accepted(await admit(adm, guild=GUILD), jobs)
    await assert_refused(await admit(adm, guild=None, channel=77), "user_daily_total", jobs)


async def test_record_refusal_logs_a_validation_refusal(
    jobs: JobStore, config: GuildConfigStore, clock: FakeClock
) -> None:
    """A refusal decided elsewhere is logged with its reason and detail, and costs nothing."""
    adm = make_admission(jobs, config, clock, user_daily_limit=1)
    job = await adm.record_refusal(new_job(count=4), "validation", "count: 1-4")
    stored = await jobs.get(job.id)
    assert stored is not None and stored.status is JobStatus.REFUSED
    assert (stored.refusal_reason, stored.refusal_detail) == ("validation", "count: 1-4")
    await assert_accepted(await admit(adm), jobs)


async def test_refusal_details_keep_the_numbers_for_moderators(
    jobs: JobStore, config: GuildConfigStore, clock: FakeClock
) -> None:
    """A quota refusal's row carries its figures as JSON in refusal_detail."""
    adm = make_admission(jobs, config, clock, user_daily_limit=1)
    await admit(adm)
    refusal = await assert_refused(await admit(adm, count=2), "user_daily_limit", jobs)
    assert json.loads(refusal.job.refusal_detail or "") == refusal.params


async def test_remaining_reports_today_and_the_reset(
    jobs: JobStore, config: GuildConfigStore, clock: FakeClock
) -> None:
    """/usage me's allowance: images left today for the user and server, and when it resets."""
    adm = make_admission(
        jobs, config, clock, user_daily_limit=5, guild_daily_limit=8, user_cooldown_seconds=20
    )
    await admit(adm, user=1, count=2)
    await admit(adm, user=2, count=3)
    clock.advance(5)
    left = await adm.remaining(1, GUILD, frozenset())
    assert left["used"] == 2 and left["remaining"] == 3
    assert left["guild_used"] == 5 and left["guild_remaining"] == 3
    assert left["reset"] == MIDNIGHT
    assert left["cooldown_until"] == NOON + 20
    assert left["active_jobs"] == 1
    await stored_before_ceilings(config, GUILD, role=PATRON, user_daily_limit=0)
    ceiling = await adm.remaining(1, GUILD, frozenset({PATRON}))
    assert ceiling["user_daily_limit"] == 5 and ceiling["remaining"] == 3
    # Images elsewhere count against the operator's limit, which then shows.
    await admit(adm, user=1, guild=OTHER_GUILD, count=2)
    left = await adm.remaining(1, GUILD, frozenset())
    assert (left["user_daily_limit"], left["used"], left["remaining"]) == (5, 4, 1)
    unlimited = await make_admission(jobs, config, clock).remaining(1, GUILD, frozenset())
    assert unlimited["user_daily_limit"] == 0 and unlimited["remaining"] is None


async def test_a_mismatched_context_is_a_programming_error(
    jobs: JobStore, config: GuildConfigStore, clock: FakeClock, db: Database
) -> None:
    """admit() refuses to judge a job with someone else's context, and writes nothing."""
    adm = make_admission(jobs, config, clock)
    try:
        await adm.admit(new_job(user=1), ctx(user=2))
    except ValueError:
        pass
    else:
        raise AssertionError("expected ValueError")
    assert await db.fetchval("SELECT COUNT(*) FROM jobs") == 0


async def test_the_operators_block_list_refuses_everywhere_from_the_next_request(
    jobs: JobStore, config: GuildConfigStore, clock: FakeClock, db: Database
) -> None:
    """A user on the operator's list is refused in every server and in DMs, moderators too,
    before any server rule; lifting it applies to the next request."""
    adm = make_admission(jobs, config, clock, allow_dms=True)
    blocks = OperatorBlockStore(db, clock)
    await assert_accepted(await admit(adm), jobs)
    assert await blocks.block(1, reason="abuse")
    await config.block_user(GUILD, 1)  # the server's own block comes after the operator's
    for guild in (GUILD, OTHER_GUILD, None):
        refusal = await assert_refused(
            await admit(adm, guild=guild, moderator=True), "bot_blocked", jobs
        )
        assert refusal.params == {}
    await assert_accepted(await admit(adm, user=2), jobs)
    assert await blocks.unblock(1)
    await assert_accepted(await admit(adm, guild=OTHER_GUILD), jobs)


async def test_the_operators_daily_limit_counts_images_kept_after_forget_me(
    jobs: JobStore, config: GuildConfigStore, clock: FakeClock
) -> None:
    """Forgetting one's records in every server does not reset the count across servers."""
    adm = make_admission(jobs, config, clock, user_daily_limit=3)
    for guild in (GUILD, OTHER_GUILD):
        job = await assert_accepted(await admit(adm, guild=guild), jobs)
        await jobs.transition(job.id, JobStatus.SUCCEEDED, prediction_id=f"p{job.id}")
    await adm.usage.anonymous.forget_user(1)
    assert await jobs.db.fetchval("SELECT COUNT(*) FROM jobs WHERE user_id = 1") == 0
    third = 333_333_333_333_333_000
    refusal = await assert_refused(await admit(adm, guild=third, count=2), "user_daily_total", jobs)
    assert refusal.params["used"] == 2
    await assert_accepted(await admit(adm, guild=third), jobs)


async def test_bot_daily_limit_counts_everyone_and_tells_only_when_it_resets(
    jobs: JobStore, config: GuildConfigStore, clock: FakeClock
) -> None:
    """BOT_DAILY_LIMIT caps every image of the bot today; the user sees only the reset, the
    row keeps the figures; midnight UTC resets it."""
    adm = make_admission(jobs, config, clock, allow_dms=True, bot_daily_limit=4)
    await assert_accepted(await admit(adm, user=1, count=2), jobs)
    await assert_accepted(await admit(adm, user=2, guild=OTHER_GUILD), jobs)
    refusal = await assert_refused(
        await admit(adm, user=3, guild=None, count=2), "bot_daily_limit", jobs
    )
    assert refusal.params == {"reset": MIDNIGHT}
    assert json.loads(refusal.job.refusal_detail or "") == {"limit": 4, "used": 3, "requested": 2}
    await assert_accepted(await admit(adm, user=3, guild=None), jobs)  # exactly the limit
    await assert_refused(await admit(adm, user=4), "bot_daily_limit", jobs)
    clock.set(MIDNIGHT)
    await assert_accepted(await admit(adm, user=4, count=4), jobs)


async def test_the_operators_checks_come_first_and_the_bot_wide_one_last(
    jobs: JobStore, config: GuildConfigStore, clock: FakeClock
) -> None:
    """Operator block before the server's block and the DM rule; among the daily limits the
    server's own, then the user's across servers, then the server's total, then the bot's."""
    closed = make_admission(jobs, config, clock)
    await OperatorBlockStore(jobs.db, clock).block(9)
    await config.block_user(GUILD, 9)
    assert getattr(await admit(closed, user=9, guild=None), "reason", None) == "bot_blocked"
    assert getattr(await admit(closed, user=8, guild=None), "reason", None) == "dms_closed"

    adm = make_admission(
        jobs, config, clock, user_daily_limit=2, guild_daily_limit=2, bot_daily_limit=2
    )
    await config.set_user_daily_limit(GUILD, 1)
    third = 333_333_333_333_333_000
    await assert_accepted(await admit(adm, user=1, guild=OTHER_GUILD), jobs)
    await assert_accepted(await admit(adm, user=1, guild=GUILD), jobs)
    seen = [
        getattr(await admit(adm, user=user, guild=guild, count=count), "reason", None)
        for user, guild, count in ((1, GUILD, 1), (1, third, 1), (2, OTHER_GUILD, 2), (3, third, 1))
    ]
    assert seen == ["user_daily_limit", "user_daily_total", "guild_daily_limit", "bot_daily_limit"]
