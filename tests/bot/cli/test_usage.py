"""`python -m bot usage [--month YYYY-MM]`: the operator's spend and image totals per server
for one month, from the database alone, on both backends; one sentence and exit 2 otherwise."""

from __future__ import annotations

import asyncio
import calendar
import io
from pathlib import Path

import pytest

from bot.cli.usage import parse_month, run_usage
from bot.jobs.model import JobStatus
from bot.storage import Database, open_database
from bot.storage.anonymous_usage import AnonymousUsage
from bot.storage.jobs import JobStore
from tests.backends import url_of
from tests.bot.storage.usage_helpers import GUILD, NOON, OTHER, Clock, make
from tests.bot.test_main import run_cli

MARCH = "2025-03"  # the helpers' NOON is 2025-03-10


async def report(
    url: str, month: str | None, budget: int = 0, now: float = NOON
) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = await run_usage(url, month=month, bot_budget_micros=budget, now=now, out=out, err=err)
    return code, out.getvalue(), err.getvalue()


async def _month(database: Database) -> None:
    """March: GUILD spends $0.201 (+1 unknown), OTHER $0.192, DMs $0.003; February: $1."""
    clock = Clock(NOON)
    jobs = JobStore(database, clock)
    await make(jobs, JobStatus.SUCCEEDED, prediction="a", count=4, price=3_000, made=3)
    await make(jobs, JobStatus.SUCCEEDED, prediction="b", user=2, count=2)  # unknown price
    await make(jobs, JobStatus.REFUSED, count=4, price=3_000)
    await make(
        jobs, JobStatus.SUCCEEDED, prediction="c", guild=OTHER, price=192_000, unit="request"
    )
    await make(jobs, JobStatus.SUCCEEDED, prediction="d", guild=None, price=3_000)
    await make(jobs, JobStatus.SUCCEEDED, prediction="e", user=3, count=4, price=48_000, made=4)
    await AnonymousUsage(database, clock).forget_user(3)  # its $0.192 stays, with nobody's name
    clock.t = NOON - 20 * 86_400
    await make(jobs, JobStatus.SUCCEEDED, prediction="f", price=1_000_000, unit="request")


async def test_a_month_per_server_biggest_spender_first_then_the_total(database: Database) -> None:
    """Each server's jobs, images and spend (forgotten members included), the DMs, the total,
    and how much of BOT_MONTHLY_BUDGET is spent; another month is its own."""
    await _month(database)
    code, out, err = await report(url_of(database), MARCH, budget=25_000_000)
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == f"Usage in {MARCH} (UTC), so far: jobs accepted, images made, spend in USD."
    rows = [line.split(None, 3) for line in lines[2:6]]
    assert rows == [
        [str(GUILD), "3", "10", "$0.201 + 1 job of unknown price"],
        [str(OTHER), "1", "1", "$0.192"],
        ["DMs", "1", "1", "$0.003"],
        ["total", "5", "12", "$0.396 + 1 job of unknown price"],
    ]
    assert lines[6] == "BOT_MONTHLY_BUDGET $25.00: $0.396 spent (1 %)."
    assert lines[7].startswith("Jobs of models without a price: 1;")
    code, out, _ = await report(url_of(database), "2025-02")
    assert code == 0 and "complete" in out.splitlines()[0]
    assert out.splitlines()[-1].split(None, 3) == ["total", "1", "1", "$1.00"]


async def test_an_empty_month_says_so(database: Database) -> None:
    """No jobs: one line after the heading, exit 0."""
    code, out, _ = await report(url_of(database), "2031-01")
    assert code == 0 and out.splitlines()[-1] == "No jobs in this month."


def test_the_default_month_is_the_current_one_in_utc() -> None:
    """No --month: the calendar month of `now` (UTC), from its first second to the next's."""
    since, until, label = parse_month(None, NOON)
    assert label == MARCH
    assert (since, until) == (
        calendar.timegm((2025, 3, 1, 0, 0, 0)),
        calendar.timegm((2025, 4, 1, 0, 0, 0)),
    )
    assert parse_month("2025-12", NOON)[1] == calendar.timegm((2026, 1, 1, 0, 0, 0))


@pytest.mark.parametrize("month", ["2025-13", "March", "2025-3", "25-03", "2025-03-01"])
async def test_a_bad_month_is_one_sentence_and_exit_2(month: str, tmp_path: Path) -> None:
    """Refused before the database is opened (the folder is never created)."""
    url = f"sqlite:///{tmp_path / 'never' / 'bot.db'}"
    code, out, err = await report(url, month)
    assert (code, out) == (2, "")
    assert len(err.strip().splitlines()) == 1 and "YYYY-MM" in err
    assert not (tmp_path / "never").exists()


def test_the_command_runs_without_a_discord_token(tmp_path: Path) -> None:
    """As the operator types it: no DISCORD_TOKEN, BOT_MONTHLY_BUDGET read from the env."""
    url = f"sqlite:///{tmp_path / 'bot.db'}"

    async def fill() -> None:
        db = await open_database(url)
        try:
            await make(JobStore(db, Clock()), JobStatus.SUCCEEDED, prediction="a", price=3_000)
        finally:
            await db.close()

    asyncio.run(fill())
    env = {"COMETAPI_KEY": "sk-test-key", "DATABASE_URL": url, "BOT_MONTHLY_BUDGET": "10"}
    done = run_cli(["usage", "--month", MARCH], env, tmp_path)
    assert done.returncode == 0, done.stderr
    assert (
        f"{GUILD}" in done.stdout
        and "BOT_MONTHLY_BUDGET $10.00: $0.003 spent (0 %)." in done.stdout
    )
    bad = run_cli(["usage", "--month", "soon"], env, tmp_path)
    assert bad.returncode == 2 and bad.stdout == "" and len(bad.stderr.strip().splitlines()) == 1
