"""Monthly budgets in admission: the member's, the server's and the bot's each refuse at their
boundary with the day they reset, count running jobs' estimates and finished jobs' settled
costs, survive /forget-me, refuse unpriced models while they apply, and tell the log channel
once at 80 % and once at 100 %."""

from __future__ import annotations

import asyncio
import calendar
import json

from bot.jobs.model import Job, JobStatus
from bot.policy import Admission, Refusal, RequestContext
from bot.policy.budgets import BudgetNotice
from bot.storage.guild_config import GuildConfigStore
from bot.storage.jobs import JobStore
from tests.bot.policy.helpers import (
    CHANNEL,
    GUILD,
    OTHER_GUILD,
    FakeClock,
    make_admission,
    new_job,
)

PRICE = 3_000  # $0.003 per image, in micro-dollars: four images cost $0.012
APRIL = float(calendar.timegm((2025, 4, 1, 0, 0, 0)))  # the month after the helpers' NOON


async def admit(
    adm: Admission,
    user: int = 1,
    count: int = 4,
    guild: int | None = GUILD,
    price: int | None = PRICE,
    unit: str = "image",
) -> Job | Refusal:
    return await adm.admit(
        new_job(user=user, guild=guild, count=count, price=price, unit=unit),
        RequestContext(user_id=user, guild_id=guild, channel_id=CHANNEL),
    )


def reason(result: Job | Refusal) -> str | None:
    return result.reason if isinstance(result, Refusal) else None


def listen(adm: Admission) -> list[BudgetNotice]:
    heard: list[BudgetNotice] = []
    adm.budgets.subscribe(heard.append)
    return heard


async def test_a_members_budget_refuses_at_its_boundary_and_resets_next_month(
    jobs: JobStore, config: GuildConfigStore, clock: FakeClock
) -> None:
    """$0.03 a member: 12k + 12k µ$ admitted, 12k more refused with the figures and the first
    of next month; exactly the budget is admitted; another member is not affected."""
    adm = make_admission(jobs, config, clock)
    await config.set_budget(GUILD, "member", 30_000)
    assert isinstance(await admit(adm), Job)
    assert isinstance(await admit(adm), Job)
    refused = await admit(adm)
    assert isinstance(refused, Refusal) and refused.reason == "member_monthly_budget"
    assert refused.params == {"budget": 30_000, "spent": 24_000, "cost": 12_000, "reset_day": APRIL}
    assert json.loads(refused.job.refusal_detail or "") == {
        "budget": 30_000,
        "spent": 24_000,
        "cost": 12_000,
    }
    assert refused.job.cost_micros == 0  # a refusal costs nothing
    assert isinstance(await admit(adm, count=2), Job)  # 30,000 of 30,000: exactly the budget
    assert reason(await admit(adm, count=1)) == "member_monthly_budget"
    assert isinstance(await admit(adm, user=2), Job)
    assert isinstance(await admit(adm, guild=OTHER_GUILD), Job)  # the budget is this server's
    clock.set(APRIL)
    assert isinstance(await admit(adm), Job)


async def test_the_servers_budget_counts_estimates_then_settled_costs(
    jobs: JobStore, config: GuildConfigStore, clock: FakeClock
) -> None:
    """A running job holds its estimate; once it settles lower (3 of 4 images made), or ends
    before the provider ran it (0), the difference can be spent again."""
    adm = make_admission(jobs, config, clock)
    await config.set_budget(GUILD, "monthly", 24_000)
    first = await admit(adm, user=1)
    second = await admit(adm, user=2)
    assert isinstance(first, Job) and isinstance(second, Job)
    refused = await admit(adm, user=3, count=1)
    assert reason(refused) == "guild_monthly_budget"
    assert isinstance(refused, Refusal) and refused.params["spent"] == 24_000
    await jobs.transition(first.id, JobStatus.RUNNING, prediction_id="p1")
    await jobs.transition(first.id, JobStatus.DELIVERING, provider_images=3)
    await jobs.transition(first.id, JobStatus.SUCCEEDED)  # settled at 9,000: 3,000 freed
    assert isinstance(await admit(adm, user=3, count=1), Job)
    assert reason(await admit(adm, user=3, count=1)) == "guild_monthly_budget"
    await jobs.transition(second.id, JobStatus.CANCELED)  # never reached the provider: 0
    assert isinstance(await admit(adm, user=4), Job)


async def test_the_bot_budget_counts_every_server_and_dm_and_tells_only_the_reset(
    jobs: JobStore, config: GuildConfigStore, clock: FakeClock
) -> None:
    """BOT_MONTHLY_BUDGET: the member learns when it resets; the row keeps the figures."""
    adm = make_admission(jobs, config, clock, allow_dms=True, bot_monthly_budget="0.03")
    assert isinstance(await admit(adm, user=1), Job)
    assert isinstance(await admit(adm, user=2, guild=OTHER_GUILD), Job)
    refused = await admit(adm, user=3, guild=None)
    assert isinstance(refused, Refusal) and refused.reason == "bot_monthly_budget"
    assert refused.params == {"reset_day": APRIL}
    assert json.loads(refused.job.refusal_detail or "") == {
        "budget": 30_000,
        "spent": 24_000,
        "cost": 12_000,
    }
    assert isinstance(await admit(adm, user=3, guild=None, count=2), Job)  # exactly $0.03
    assert reason(await admit(adm, user=4, count=1)) == "bot_monthly_budget"
    clock.set(APRIL)
    assert isinstance(await admit(adm, user=4), Job)


async def test_under_any_budget_a_model_without_a_price_is_refused(
    jobs: JobStore, config: GuildConfigStore, clock: FakeClock
) -> None:
    """No budget: admitted, its cost unknown. A member's, the server's or the bot's budget:
    refused before any spend is read, told once a month per model."""
    adm = make_admission(jobs, config, clock, allow_dms=True)
    heard = listen(adm)
    free = await admit(adm, price=None)
    assert isinstance(free, Job) and free.cost_micros is None
    await config.set_budget(GUILD, "member", 1_000_000)
    refused = await admit(adm, price=None)
    assert isinstance(refused, Refusal) and refused.reason == "budget_unpriced"
    assert refused.params == {"model": "black-forest-labs/flux-schnell"}
    assert reason(await admit(adm, user=2, price=None)) == "budget_unpriced"
    assert [(n.guild_id, n.kind, n.model) for n in heard] == [
        (GUILD, "unpriced", "black-forest-labs/flux-schnell")
    ]
    assert isinstance(await admit(adm, price=None, guild=None), Job)  # no budget in DMs
    bot = make_admission(jobs, config, clock, allow_dms=True, bot_monthly_budget="5")
    assert reason(await admit(bot, price=None, guild=None)) == "budget_unpriced"
    assert isinstance(await admit(bot, user=3), Job)  # a priced model is fine


async def test_the_server_is_told_once_at_80_percent_and_once_at_100(
    jobs: JobStore, config: GuildConfigStore, clock: FakeClock
) -> None:
    """Each notice is recorded with the admission that earned it and heard after its commit;
    later requests past the same mark say nothing; a new month starts over."""
    adm = make_admission(jobs, config, clock)
    heard = listen(adm)
    await config.set_budget(GUILD, "monthly", 30_000)
    await admit(adm, user=1)  # 40 %
    assert heard == []
    await admit(adm, user=2)  # 80 %
    assert [(n.kind, n.spent, n.budget, n.reset) for n in heard] == [("80", 24_000, 30_000, APRIL)]
    await admit(adm, user=3, count=1)  # 90 %: nothing new
    assert reason(await admit(adm, user=4)) == "guild_monthly_budget"  # refused: 100 %
    assert [n.kind for n in heard] == ["80", "100"]
    await admit(adm, user=5)
    await admit(adm, user=6, count=1)
    assert [n.kind for n in heard] == ["80", "100"]
    rows = await jobs.db.fetchall("SELECT scope, month, kind FROM budget_notices ORDER BY kind")
    assert rows == [
        {"scope": str(GUILD), "month": "2025-03", "kind": "100"},
        {"scope": str(GUILD), "month": "2025-03", "kind": "80"},
    ]
    clock.set(APRIL)
    await admit(adm, user=1, count=4)
    await admit(adm, user=2, count=4)  # 80 % of April
    await admit(adm, user=3, count=2)  # exactly 100 %
    assert [n.kind for n in heard] == ["80", "100", "80", "100"]


async def test_passing_80_and_100_at_once_is_told_as_100(
    jobs: JobStore, config: GuildConfigStore, clock: FakeClock
) -> None:
    """One request that takes the month from 0 to the whole budget: one notice, 100 %."""
    adm = make_admission(jobs, config, clock, bot_monthly_budget="0.012")
    heard = listen(adm)
    assert isinstance(await admit(adm), Job)
    assert [(n.guild_id, n.kind, n.spent) for n in heard] == [(None, "100", 12_000)]


async def test_forgetting_does_not_reset_a_members_or_a_servers_budget(
    jobs: JobStore, config: GuildConfigStore, clock: FakeClock
) -> None:
    """/forget-me deletes the rows; their spend stays in the counters the budgets read."""
    adm = make_admission(jobs, config, clock)
    await config.set_budget(GUILD, "member", 24_000)
    for _ in range(2):
        job = await admit(adm)
        assert isinstance(job, Job)
        await jobs.transition(
            job.id, JobStatus.SUCCEEDED, prediction_id=f"p{job.id}", provider_images=4
        )
    clock.advance(3 * 86_400)  # past the two days the hashed daily counters are kept
    await adm.usage.anonymous.prune()
    await adm.usage.anonymous.forget_user(1)
    assert await jobs.db.fetchval("SELECT COUNT(*) FROM jobs WHERE user_id = 1") == 0
    assert reason(await admit(adm, count=1)) == "member_monthly_budget"
    await config.set_budget(GUILD, "member", None)
    await config.set_budget(GUILD, "monthly", 30_000)
    refused = await admit(adm, user=2)
    assert isinstance(refused, Refusal) and refused.reason == "guild_monthly_budget"
    assert refused.params["spent"] == 24_000


async def test_two_concurrent_requests_for_the_last_dollars_are_admitted_once(
    jobs: JobStore, config: GuildConfigStore, clock: FakeClock
) -> None:
    """Two members racing for the server budget's last $0.012: one job, one refusal."""
    adm = make_admission(jobs, config, clock)
    await config.set_budget(GUILD, "monthly", 24_000)
    assert isinstance(await admit(adm, user=1), Job)
    results = await asyncio.gather(admit(adm, user=2), admit(adm, user=3))
    assert sorted(reason(r) or "admitted" for r in results) == ["admitted", "guild_monthly_budget"]


async def test_budgets_come_after_the_daily_limits_and_the_bots_last(
    jobs: JobStore, config: GuildConfigStore, clock: FakeClock
) -> None:
    """A request past a daily limit and a budget is told about the daily limit; among the
    budgets the price, then the member's, then the server's, then the bot's."""
    adm = make_admission(jobs, config, clock, guild_daily_limit=4, bot_monthly_budget="0.012")
    await config.set_budget(GUILD, "monthly", 12_000)
    await config.set_budget(GUILD, "member", 12_000)
    assert isinstance(await admit(adm), Job)
    assert reason(await admit(adm, user=2)) == "guild_daily_limit"
    budgets_only = make_admission(jobs, config, clock, bot_monthly_budget="0.012")
    seen = [
        reason(await admit(budgets_only, user=user, count=1, guild=guild, price=price))
        for user, price, guild in (
            (3, None, OTHER_GUILD),
            (1, PRICE, GUILD),
            (3, PRICE, OTHER_GUILD),
        )
    ]
    assert seen == ["budget_unpriced", "member_monthly_budget", "bot_monthly_budget"]
    await config.set_budget(GUILD, "member", None)
    assert reason(await admit(make_admission(jobs, config, clock), user=2, count=1)) == (
        "guild_monthly_budget"
    )
