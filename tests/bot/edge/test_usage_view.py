"""What /usage shows: today's allowance, the period's figures, refusals and failures in words
(or as their code when no catalog has words yet), and what forgotten members left."""

from __future__ import annotations

from typing import Any

import discord
import pytest

from bot.catalog import load_catalog
from bot.edge.usage_view import amount, failure_label, me_embed, reason_label, server_embed
from bot.i18n import Messages
from bot.money import Spend
from bot.policy import AnonymousTotals, GuildUsage, UserUsage
from bot.policy.usage import ModelUsage, MonthSpend, UserTotal

EN = "en-US"
SCHNELL = "black-forest-labs/flux-schnell"


@pytest.fixture(scope="module")
def messages() -> Messages:
    return Messages.load()


def fields(embed: discord.Embed) -> dict[str, str]:
    return {str(f.name): str(f.value) for f in embed.fields}


def user_usage(requests: int, **remaining: Any) -> UserUsage:
    left = {"user_daily_limit": 0, "used": 2, "remaining": None, "reset": 200.0} | remaining
    return UserUsage(
        user_id=1,
        guild_id=5,
        days=7,
        since=100.0,
        until=200.0,
        today_requests=1,
        today_images=2,
        requests=requests,
        accepted=requests,
        refused=0,
        images=2 * requests,
        provider_seconds=3.25,
        per_model=(ModelUsage(SCHNELL, requests, 2 * requests, 3.25),) if requests else (),
        remaining=left,
    )


def test_me_shows_the_allowance_then_the_period(messages: Messages) -> None:
    """A daily limit shows used of limit and when it resets; a cooldown and active jobs too."""
    t = messages.t
    summary = user_usage(
        2,
        user_daily_limit=10,
        remaining=8,
        cooldown_until=150.0,
        active_jobs=1,
        active_jobs_limit=2,
    )
    got = fields(me_embed(messages, load_catalog(), EN, summary))
    assert got[t(EN, "usage.today")].splitlines() == [
        t(EN, "usage.today_value", used=2, limit=10),
        t(EN, "usage.remaining", remaining=8, reset="<t:200:R>"),
        t(EN, "usage.cooldown", retry="<t:150:R>"),
        t(EN, "usage.active_jobs", active=1, limit=2),
    ]
    assert got[t(EN, "usage.images")] == "4"
    assert got[t(EN, "usage.provider_time")] == t(EN, "common.seconds", seconds="3.2")
    assert got[t(EN, "usage.top_models")] == t(
        EN, "usage.model_spend_line", model="FLUX schnell", amount="$0.00", images=4
    )


def test_me_without_requests_says_so_and_shows_no_figures(messages: Messages) -> None:
    """No limit: images today without a limit; no requests: one "none" line, nothing else."""
    t = messages.t
    got = fields(me_embed(messages, load_catalog(), EN, user_usage(0)))
    assert got == {
        t(EN, "usage.today"): t(EN, "usage.today_unlimited", used=2),
        t(EN, "usage.spend"): "\n".join(
            [t(EN, "usage.spend_today", amount="$0.00"), t(EN, "usage.spend_month", amount="$0.00")]
        ),
        t(EN, "usage.requests"): t(EN, "usage.none"),
    }


def test_server_lists_counts_most_frequent_first_and_the_forgotten_in_the_footer(
    messages: Messages,
) -> None:
    """Refusals and failures are sorted by count; a code without words is shown as code."""
    t = messages.t
    summary = GuildUsage(
        guild_id=5,
        days=7,
        since=100.0,
        until=200.0,
        requests=6,
        accepted=5,
        refused=3,
        images=9,
        outputs=9,
        provider_seconds=1.0,
        refused_by_reason={"cooldown": 1, "validation": 2},
        failures_by_kind={"safety": 1, "expired": 1},
        top_users=(UserTotal(7, 5, 9, Spend(384_000)),),
        per_model=(),
        forgotten=AnonymousTotals(requests=2, images=3),
    )
    embed = server_embed(messages, load_catalog(), EN, summary)
    got = fields(embed)
    assert got[f"{t(EN, 'usage.refused')} · 3"].splitlines() == [
        t(EN, "usage.count_line", label=reason_label(messages, EN, "validation"), count=2),
        t(EN, "usage.count_line", label=reason_label(messages, EN, "cooldown"), count=1),
    ]
    assert got[f"{t(EN, 'usage.failed')} · 2"].splitlines() == [
        t(EN, "usage.count_line", label=t(EN, "status.expired"), count=1),
        t(EN, "usage.count_line", label="`safety`", count=1),
    ]
    assert got[t(EN, "usage.top_spenders")] == t(
        EN, "usage.user_spend_line", user="<@7>", amount="$0.384", images=9, requests=5
    )
    assert got[t(EN, "usage.top_models")] == "—"
    assert embed.footer.text == t(EN, "usage.forgotten", images=3, requests=2)
    assert failure_label(messages, EN, "safety") == "`safety`"


def test_model_names_and_unknown_codes_show_as_text(messages: Messages) -> None:
    """A model name or a code with markdown in it is listed as text, not rendered."""
    from tests.fakes.discord.markdown import rendered_markdown

    hostile = "[free](https://evil.invalid)||x||"
    summary = user_usage(1)
    summary = UserUsage(**{**summary.__dict__, "per_model": (ModelUsage(hostile, 1, 2, 1.0),)})
    embed = me_embed(messages, load_catalog(), EN, summary)
    models = fields(embed)[messages.t(EN, "usage.top_models")]
    assert "free" in models and rendered_markdown(models) == []
    assert reason_label(messages, EN, "brand_new_[x](https://e.invalid)").startswith("`")


def test_amounts_name_the_jobs_of_unknown_price_and_never_show_them_as_free(
    messages: Messages,
) -> None:
    """Known dollars alone; known plus unknown; only unknown (no "$0.00" for unpriced jobs)."""
    t = messages.t
    assert amount(messages, EN, Spend(1_230_000)) == "$1.23"
    assert amount(messages, EN, Spend(1_230_000, 4)) == t(
        EN, "usage.amount_unknown", amount="$1.23", count=4
    )
    assert amount(messages, EN, Spend(0, 3)) == t(EN, "usage.amount_all_unknown", count=3)


def test_spend_shows_today_this_month_and_the_budget_with_its_reset_date(
    messages: Messages,
) -> None:
    """/usage me and /usage server show spend today and this month, and the budget's state."""
    t = messages.t
    summary = GuildUsage(
        guild_id=5,
        days=7,
        since=100.0,
        until=200.0,
        requests=2,
        accepted=2,
        refused=0,
        images=2,
        outputs=2,
        provider_seconds=1.0,
        refused_by_reason={},
        failures_by_kind={},
        top_users=(),
        per_model=(ModelUsage(SCHNELL, 2, 2, 1.0, Spend(0, 2)),),
        forgotten=AnonymousTotals(),
        spend=MonthSpend(Spend(192_000), Spend(8_000_000, 1), 10_000_000, 1_000_000.0),
    )
    got = fields(server_embed(messages, load_catalog(), EN, summary))
    assert got[t(EN, "usage.spend")].splitlines() == [
        t(EN, "usage.spend_today", amount="$0.192"),
        t(EN, "usage.spend_month", amount=amount(messages, EN, Spend(8_000_000, 1))),
        t(EN, "usage.spend_budget", spent="$8.00", budget="$10.00", reset="<t:1000000:D>"),
    ]
    assert got[t(EN, "usage.top_models")] == t(
        EN,
        "usage.model_spend_line",
        model="FLUX schnell",
        amount=t(EN, "usage.amount_all_unknown", count=2),
        images=2,
    )
