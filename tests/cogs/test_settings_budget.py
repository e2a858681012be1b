"""Budgets end to end: `/settings budget` within the operator's, a request past the server's
budget refused before any API call with the day it resets (in the member's language), the log
channel told at 100 % and about a model without a price, and the spend in /usage and /settings
show."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bot.storage.usage_log import next_month_start
from tests.cogs.conftest import Stack, text
from tests.cogs.test_settings import imagine, refused, reply, settings, show

SCHNELL = "black-forest-labs/flux-schnell"
DEV = "black-forest-labs/flux-dev"


async def priced_stack(stack_factory: Any, tmp_path: Path, **env: str) -> Stack:
    """The stack with FLUX schnell at $0.25 an image (MODELS_FILE), the others unpriced, and
    a log channel."""
    path = tmp_path / "prices.json"
    price = {"usd": "0.25", "unit": "image", "as_of": "2026-12-07"}
    path.write_text(json.dumps({"models": [{"id": SCHNELL, "price": price}]}), encoding="utf-8")
    stack: Stack = await stack_factory(MODELS_FILE=str(path), **env)
    fake = stack.discord
    await stack.services.guild_config.set_log_channel(fake.guild.id, fake.channels.log.id)
    return stack


async def log_posts(stack: Stack) -> list[str]:
    """What the log channel was told besides the generations it mirrors (those have buttons)."""
    await stack.bot.log_mirror.idle()
    posts = stack.discord.channel_messages(stack.discord.channels.log)
    return [str(m.embeds[0]["description"]) for m in posts if m.embeds and not m.components]


async def test_a_server_budget_refuses_past_it_with_the_reset_day(
    stack_factory: Any, tmp_path: Path
) -> None:
    """$1.00 a month: four images ($1.00) pass and the log channel hears 100 %; the next
    request is refused before any API call, naming the figures and the first of next month."""
    stack = await priced_stack(stack_factory, tmp_path, BOT_MONTHLY_BUDGET="5")
    fake = stack.discord
    answer = reply(await settings(stack, "budget", "monthly", amount=1.0))
    unpriced = ", ".join(m.label for m in stack.services.catalog if m.price is None)
    assert answer.splitlines() == [
        text(stack, "settings.budget.monthly_set", amount="$1.00", spent="$0.00"),
        text(stack, "settings.budget.unpriced", models=unpriced),
    ]
    assert refused(await imagine(stack, fake.users.member, count=4)) is None
    job = await stack.wait_job(1, "succeeded")
    assert (job.cost_estimated_micros, job.cost_micros) == (1_000_000, 1_000_000)
    reset = int(next_month_start(stack.services.clock.now()))
    assert await log_posts(stack) == [
        text(stack, "log.budget_100", spent="$1.00", budget="$1.00", reset=f"<t:{reset}:D>")
    ]
    creates = len(stack.api.requests_for("create"))
    assert refused(await imagine(stack, fake.users.other_member)) == text(
        stack,
        "refusal.guild_monthly_budget",
        budget="$1.00",
        spent="$1.00",
        cost="$0.25",
        reset_day=f"<t:{reset}:D>",
    )
    # In the member's language, and still nothing sent to CometAPI.
    zh = await fake.slash("imagine", prompt="a cat", user=fake.users.member, locale="zh-TW")
    await zh.wait_callback()
    assert refused(zh) == text(
        stack,
        "refusal.guild_monthly_budget",
        "zh-TW",
        budget="$1.00",
        spent="$1.00",
        cost="$0.25",
        reset_day=f"<t:{reset}:D>",
    )
    assert len(stack.api.requests_for("create")) == creates
    assert len(await log_posts(stack)) == 1  # 100 % is told once


async def test_under_a_budget_a_model_without_a_price_is_refused_and_the_admins_told(
    stack_factory: Any, tmp_path: Path
) -> None:
    """BOT_MONTHLY_BUDGET alone: FLUX dev (no price) is refused with the sentence that names
    it; the log channel hears it once this month; a priced model still works."""
    stack = await priced_stack(stack_factory, tmp_path, BOT_MONTHLY_BUDGET="10")
    fake = stack.discord
    for _ in range(2):
        assert refused(await imagine(stack, fake.users.member, model=DEV)) == text(
            stack, "refusal.budget_unpriced", model="FLUX dev"
        )
    assert await log_posts(stack) == [text(stack, "log.budget_unpriced", model="FLUX dev")]
    assert refused(await imagine(stack, fake.users.member)) is None
    await stack.wait_job(3, "succeeded")  # jobs 1 and 2 are the refusals' rows
    assert stack.api.requests_for("create")[0].path.endswith("flux-schnell/predictions")


async def test_budgets_stay_within_the_operators_and_are_shown(
    stack_factory: Any, tmp_path: Path
) -> None:
    """Above BOT_MONTHLY_BUDGET or the server's, or finer than a cent: one sentence each;
    /settings show and /usage server show what applies and what was spent."""
    stack = await priced_stack(stack_factory, tmp_path, BOT_MONTHLY_BUDGET="20")
    fake = stack.discord
    assert reply(await settings(stack, "budget", "monthly", amount=25.0)) == text(
        stack, "settings.budget.above_operator", max="$20.00"
    )
    assert reply(await settings(stack, "budget", "monthly", amount=0.125)) == text(
        stack, "settings.budget.invalid"
    )
    await settings(stack, "budget", "monthly", amount=10.0)
    assert reply(await settings(stack, "budget", "member", amount=12.0)) == text(
        stack, "settings.budget.above_server", max="$10.00"
    )
    assert reply(await settings(stack, "budget", "member", amount=2.5)).startswith(
        text(stack, "settings.budget.member_set", amount="$2.50")
    )
    budgets = (await show(stack))[text(stack, "settings.budgets")].splitlines()
    assert budgets[:3] == [
        text(stack, "settings.budget.monthly_line", value="$10.00"),
        text(stack, "settings.budget.member_line", value="$2.50"),
        text(stack, "settings.budget.bot_line", value="$20.00"),
    ]
    assert refused(await imagine(stack, fake.users.member, count=2)) is None
    await stack.wait_job(1, "succeeded")
    usage = await fake.slash("usage", subcommand="server", user=fake.users.moderator)
    await usage.wait_callback()
    fields = {f["name"]: f["value"] for f in usage.original_message.embeds[0]["fields"]}
    reset = int(next_month_start(stack.services.clock.now()))
    assert fields[text(stack, "usage.spend")].splitlines() == [
        text(stack, "usage.spend_today", amount="$0.50"),
        text(stack, "usage.spend_month", amount="$0.50"),
        text(stack, "usage.spend_budget", spent="$0.50", budget="$10.00", reset=f"<t:{reset}:D>"),
    ]
    assert reply(await settings(stack, "budget", "member", amount=0.0)) == text(
        stack, "settings.budget.member_cleared"
    )
