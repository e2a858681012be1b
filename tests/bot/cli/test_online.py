"""`check --online`'s report: one line per finding, a fix for each ✗, exit 0 only when none."""

from __future__ import annotations

import io

from bot.cli.online import CheckLine, cometapi_lines, key_lines, print_report, run_online_checks
from bot.cometapi.account import KeyReport
from bot.settings import Settings, load_settings
from tests.fakes.cometapi import FakeCometAPI

BASE = "https://api.cometapi.com"


def _settings(api: FakeCometAPI, key: str | None = None) -> Settings:
    return load_settings(
        {
            "DISCORD_TOKEN": "x" * 30,
            "COMETAPI_KEY": key or api.api_key,
            "COMETAPI_BASE_URL": api.base_url,
        }
    )


def test_every_failed_line_carries_one_fix() -> None:
    """Each state a key can be in renders as ✓/✗/– with a fix on every ✗."""
    states = [
        KeyReport("ok", "ok", models=6, balance=12.5),
        KeyReport("ok", "none", models=6, balance=0.0),
        KeyReport("ok", "unknown", models=6),
        KeyReport("refused", detail="the API key was refused (HTTP 401): Invalid token"),
        KeyReport("forbidden"),
        KeyReport("no_credit", "none"),
        KeyReport("wrong_url"),
        KeyReport("unreachable", detail="ClientConnectorError"),
        KeyReport("error", detail="provider error (HTTP 503)"),
    ]
    for report in states:
        for line in key_lines(report, BASE):
            assert line.render().startswith(("✓ ", "✗ ", "– "))
            assert bool(line.fix) == line.failed, (report, line)
    ok = key_lines(states[0], BASE)
    assert [line.mark for line in ok] == ["ok", "ok"] and "$12.50" in ok[1].found
    assert [line.mark for line in key_lines(states[1], BASE)] == ["ok", "fail"]
    assert [line.mark for line in key_lines(states[2], BASE)] == ["ok", "skip"]
    refused = key_lines(states[3], BASE)
    assert refused[0].failed and "console" in refused[0].fix and "Invalid token" in refused[0].found


def test_the_report_exits_1_on_any_failure_and_0_otherwise() -> None:
    """A ✗ anywhere gives exit 1 and a count; skips alone do not fail."""
    out = io.StringIO()
    good = [CheckLine("ok", "A", "fine."), CheckLine("skip", "B", "not checked.")]
    assert print_report([("Discord", good)], out) == 0
    assert "Online checks passed." in out.getvalue()
    out = io.StringIO()
    bad = [*good, CheckLine("fail", "C", "broken.", "mend it.")]
    assert print_report([("Discord", bad), ("CometAPI", bad)], out) == 1
    assert "✗ C: broken.\n      Fix: mend it." in out.getvalue()
    assert "2 problems" in out.getvalue()


async def test_the_cometapi_side_against_the_fake() -> None:
    """A working key with credit: two ✓; the key never appears in the lines."""
    async with FakeCometAPI(api_key="sk-fake-key-abcdef0123") as api:
        lines = await cometapi_lines(_settings(api))
        assert [line.mark for line in lines] == ["ok", "ok"]
        assert all(api.api_key not in line.render() for line in lines)
        api.no_credit()
        lines = await cometapi_lines(_settings(api))
        assert [line.mark for line in lines] == ["ok", "fail"]


async def test_both_sides_run_and_a_failure_on_one_fails_the_whole() -> None:
    """The Discord half (handed in) and the CometAPI half print in order; exit 1 on a ✗."""

    async def discord_ok(settings: Settings) -> list[CheckLine]:
        return [CheckLine("ok", "DISCORD_TOKEN", "logged in as Bot.")]

    async with FakeCometAPI() as api:
        out = io.StringIO()
        assert await run_online_checks(_settings(api), out, discord_ok) == 0
        text = out.getvalue()
        assert text.index("Discord") < text.index("CometAPI")
        out = io.StringIO()
        assert await run_online_checks(_settings(api, "sk-wrong-000000"), out, discord_ok) == 1
        assert "✗ COMETAPI_KEY" in out.getvalue()


async def test_a_password_in_the_api_root_is_never_printed() -> None:
    """COMETAPI_BASE_URL with user:password@ (a proxy): every line shows it masked."""
    async with FakeCometAPI() as api:
        host = api.base_url.removeprefix("http://")
        settings = load_settings(
            {
                "DISCORD_TOKEN": "x" * 30,
                "COMETAPI_KEY": api.api_key,
                "COMETAPI_BASE_URL": f"http://proxy:proxy-pass-42@{host}",
            }
        )
        lines = await cometapi_lines(settings)
    text = "\n".join(line.render() for line in lines)
    assert "proxy-pass-42" not in text and f"http://proxy:***@{host}" in text
