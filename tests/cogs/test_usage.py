"""/usage me, /usage server and /usage export end to end: the figures are the jobs that ran."""

from __future__ import annotations

import csv
import io
from typing import Any

from bot.policy import unescape_cell
from tests.cogs.conftest import Stack, text
from tests.fakes.discord.records import FakeInteraction

SCHNELL = "black-forest-labs/flux-schnell"
DAY = 86_400


async def usage(stack: Stack, sub: str, user: Any, **options: Any) -> FakeInteraction:
    interaction = await stack.discord.slash("usage", subcommand=sub, user=user, **options)
    await interaction.wait_callback()
    return interaction


def fields(interaction: FakeInteraction) -> dict[str, str]:
    message = interaction.original_message
    assert message is not None and message.ephemeral
    return {f["name"]: f["value"] for f in message.embeds[0]["fields"]}


async def _history(stack: Stack) -> None:
    """member: 2 + 1 images and one refused request; other_member: 1 image, 1 safety failure."""
    fake = stack.discord
    member, other = fake.users.member, fake.users.other_member
    for user, options in (
        (member, {"prompt": "=1+1 two foxes", "count": 2}),
        (member, {"prompt": "a fox"}),
        (other, {"prompt": "an owl"}),
        # flux-1.1-pro makes one image per request: count is refused before admission.
        (member, {"prompt": "three foxes", "count": 3, "model": "black-forest-labs/flux-1.1-pro"}),
    ):
        interaction = await fake.slash("imagine", user=user, **options)
        await interaction.wait_callback()
    for job_id in (1, 2, 3):
        await stack.wait_job(job_id, "succeeded")
    stack.api.set_model_behaviour(SCHNELL, fail_with="NSFW content detected.", duration=0.05)
    failing = await fake.slash("imagine", prompt="a storm", user=other)
    await failing.wait_callback()
    await stack.wait_job(5, "failed")


async def test_usage_me_matches_the_callers_jobs_and_quota(stack_factory: Any) -> None:
    """/usage me counts the caller's accepted, refused and images, per model, and what is
    left today with the reset time."""
    stack: Stack = await stack_factory(USER_DAILY_LIMIT="10")
    await _history(stack)
    fake = stack.discord
    me = fields(await usage(stack, "me", fake.users.member, days=7))
    midnight = (int(stack.services.clock.now()) // DAY + 1) * DAY
    today = me[text(stack, "usage.today")]
    assert text(stack, "usage.today_value", used=3, limit=10) in today
    assert text(stack, "usage.remaining", remaining=7, reset=f"<t:{midnight}:R>") in today
    assert me[text(stack, "usage.requests")] == "2"
    assert me[text(stack, "usage.images")] == "3"
    assert me[text(stack, "usage.refused")] == "1"
    # No price in the built-in catalog for schnell: its jobs are of unknown price, not free.
    unknown = text(stack, "usage.amount_all_unknown", count=2)
    assert me[text(stack, "usage.top_models")] == text(
        stack, "usage.model_spend_line", model="FLUX schnell", amount=unknown, images=3
    )
    assert me[text(stack, "usage.spend")].splitlines() == [
        text(stack, "usage.spend_today", amount=unknown),
        text(stack, "usage.spend_month", amount=unknown),
    ]

    nothing = fields(await usage(stack, "me", fake.users.moderator))
    assert nothing[text(stack, "usage.requests")] == text(stack, "usage.none")
    assert text(stack, "usage.today_value", used=0, limit=10) in nothing[text(stack, "usage.today")]


async def test_usage_server_totals_refusals_failures_and_top_users(stack: Stack) -> None:
    """/usage server adds up the whole server; members without Manage Server are refused."""
    await _history(stack)
    fake = stack.discord
    denied = await usage(stack, "server", fake.users.member)
    assert denied.original_message.content == text(stack, "refusal.manage_server_required")

    interaction = await usage(stack, "server", fake.users.moderator, days=30)
    got = fields(interaction)
    assert got[text(stack, "usage.requests")] == "4"
    # The failed job reached the provider, so its image counts (as the quota counts it).
    assert got[text(stack, "usage.images")] == "5"
    assert got[f"{text(stack, 'usage.refused')} · 1"] == text(
        stack, "usage.count_line", label=text(stack, "usage.reason.validation"), count=1
    )
    assert got[f"{text(stack, 'usage.failed')} · 1"] == text(
        stack, "usage.count_line", label="`safety`", count=1
    )
    member, other = fake.users.member, fake.users.other_member

    def unknown(count: int) -> str:
        return text(stack, "usage.amount_all_unknown", count=count)

    assert got[text(stack, "usage.top_spenders")].splitlines() == [
        text(
            stack,
            "usage.user_spend_line",
            user=f"<@{member.id}>",
            amount=unknown(2),
            images=3,
            requests=2,
        ),
        text(
            stack,
            "usage.user_spend_line",
            user=f"<@{other.id}>",
            amount=unknown(2),
            images=2,
            requests=2,
        ),
    ]
    assert got[text(stack, "usage.top_models")] == text(
        stack, "usage.model_spend_line", model="FLUX schnell", amount=unknown(4), images=5
    )
    # Top users are mentions, and nobody is pinged.
    reply = next(r for r in fake.requests if r.token == interaction.token)
    assert reply.allowed_mentions == {"parse": []}


async def test_usage_export_is_a_csv_of_the_same_rows(stack: Stack) -> None:
    """The CSV attachment parses back to exactly the server's job rows, formulas neutralized."""
    await _history(stack)
    fake = stack.discord
    denied = await usage(stack, "export", fake.users.member)
    assert denied.original_message.content == text(stack, "refusal.manage_server_required")

    interaction = await usage(stack, "export", fake.users.moderator, days=7)
    await interaction.wait_for(lambda r: r.method == "POST" and bool(r.files))
    message = interaction.original_message  # the follow-up replaces the "thinking" message
    assert message is not None and message.ephemeral
    since = (int(stack.services.clock.now()) // DAY - 6) * DAY
    assert message.content == text(stack, "usage.export.done", since=f"<t:{since}:D>", rows=5)
    (attachment,) = message.attachments
    assert attachment.filename.endswith(".csv")
    rows = list(csv.DictReader(io.StringIO(attachment.data.decode("utf-8"))))
    db_rows = await stack.services.db.fetchall("SELECT * FROM jobs ORDER BY id")
    assert [int(r["id"]) for r in rows] == [r["id"] for r in db_rows] == [1, 2, 3, 4, 5]
    for exported, stored in zip(rows, db_rows, strict=True):
        assert int(exported["user_id"]) == stored["user_id"]
        assert exported["status"] == stored["status"]
        assert unescape_cell(exported["prompt"]) == stored["prompt"]
        assert int(exported["image_count"]) == stored["image_count"]
    # A prompt that a spreadsheet would run as a formula is escaped in the file.
    assert rows[0]["prompt"] == "'=1+1 two foxes"
    assert rows[3]["refusal_reason"] == "validation"
    assert rows[4]["error_kind"] == "safety"


async def test_usage_export_of_an_empty_period_says_so(stack: Stack) -> None:
    """Nothing to export: one sentence, no file."""
    interaction = await usage(stack, "export", stack.discord.users.moderator)
    await interaction.wait_for(lambda r: r.method == "POST" and "/webhooks/" in r.path)
    message = interaction.original_message
    assert message is not None and message.ephemeral
    assert message.content == text(stack, "usage.export.empty")
    assert message.attachments == []
