"""The command line: missing settings stop at once with one sentence and exit code 2;
`check --online` tries the token and the key against the fakes."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

from tests.fakes.cometapi import FakeCometAPI
from tests.fakes.discord import FakeDiscord

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.Gabcde.abcdefghijklmnopqrstuvwxyz012345"


def run_cli(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "COMETAPI_"))}
    clean.update(env)
    clean["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_run_without_token_names_discord_token_and_exits_2(tmp_path: Path) -> None:
    """`python -m bot` with no DISCORD_TOKEN prints one sentence naming it and exits 2 fast."""
    started = time.monotonic()
    result = run_cli([], {"COMETAPI_KEY": "sk-test-key"}, tmp_path)
    elapsed = time.monotonic() - started
    assert result.returncode == 2
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "DISCORD_TOKEN" in lines[0]
    assert "Traceback" not in result.stderr + result.stdout
    assert elapsed < 5  # a generous bound for a cold interpreter on a busy CI machine


def test_check_shows_settings_masked_and_exits_0(tmp_path: Path) -> None:
    """`check` with a valid .env exits 0 and masks both secrets."""
    (tmp_path / ".env").write_text(
        f"DISCORD_TOKEN={TOKEN}\nCOMETAPI_KEY=sk-secret-abcdef123456\nMAX_CONCURRENT_JOBS=4\n"
    )
    result = run_cli(["check"], {}, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "MAX_CONCURRENT_JOBS" in result.stdout and " 4" in result.stdout
    assert "BOT_DAILY_LIMIT" in result.stdout and "ALLOW_DMS" in result.stdout
    assert TOKEN not in result.stdout and "sk-secret-abcdef123456" not in result.stdout
    assert "***3456" in result.stdout and "Configuration OK." in result.stdout


def test_check_masks_the_database_password(tmp_path: Path) -> None:
    """`check` shows DATABASE_URL with its password as ***, never the password itself."""
    (tmp_path / ".env").write_text(
        f"DISCORD_TOKEN={TOKEN}\nCOMETAPI_KEY=sk-secret-abcdef123456\n"
        "DATABASE_URL=postgresql://imagebot:hunter2-secret@db.example:5432/imagebot\n"
    )
    result = run_cli(["check"], {}, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "hunter2-secret" not in result.stdout + result.stderr
    assert "postgresql://imagebot:***@db.example:5432/imagebot" in result.stdout


def test_check_names_the_models_a_budget_would_refuse(tmp_path: Path) -> None:
    """With BOT_MONTHLY_BUDGET set, `check` warns (exit 0) about every model without a price,
    the default one first among them, and says where a price goes."""
    (tmp_path / ".env").write_text(
        f"DISCORD_TOKEN={TOKEN}\nCOMETAPI_KEY=sk-secret-abcdef123456\nBOT_MONTHLY_BUDGET=25\n"
    )
    result = run_cli(["check"], {}, tmp_path)
    assert result.returncode == 0, result.stderr
    [warning] = [ln for ln in result.stdout.splitlines() if ln.startswith("Warning:")]
    assert "(DEFAULT_MODEL among them)" in warning and "MODELS_FILE" in warning
    assert "black-forest-labs/flux-schnell" in warning and "flux-2-flex" not in warning
    (tmp_path / ".env").write_text(f"DISCORD_TOKEN={TOKEN}\nCOMETAPI_KEY=sk-secret-abcdef123456\n")
    assert "Warning:" not in run_cli(["check"], {}, tmp_path).stdout


def test_check_with_a_bad_value_exits_2(tmp_path: Path) -> None:
    """`check` reports a malformed setting in one sentence and exits 2."""
    (tmp_path / ".env").write_text(f"DISCORD_TOKEN={TOKEN}\nCOMETAPI_KEY=sk-x\nLOG_LEVEL=LOUD\n")
    result = run_cli(["check"], {}, tmp_path)
    assert result.returncode == 2
    assert "LOG_LEVEL" in result.stderr and "Traceback" not in result.stderr


def test_check_with_unknown_default_model_exits_2(tmp_path: Path) -> None:
    """`check` refuses a DEFAULT_MODEL the catalog does not know."""
    (tmp_path / ".env").write_text(
        f"DISCORD_TOKEN={TOKEN}\nCOMETAPI_KEY=sk-x\nDEFAULT_MODEL=nobody/nothing\n"
    )
    result = run_cli(["check"], {}, tmp_path)
    assert result.returncode == 2
    assert "DEFAULT_MODEL" in result.stderr and "Traceback" not in result.stderr


def test_an_unreachable_database_is_one_sentence_and_exit_2(tmp_path: Path) -> None:
    """`python -m bot` with a PostgreSQL nobody answers on ends in one sentence, exit 2."""
    url = "postgresql://imagebot:hunter2-secret@127.0.0.1:1/imagebot"
    env = {"DISCORD_TOKEN": TOKEN, "COMETAPI_KEY": "sk-test-key", "DATABASE_URL": url}
    result = run_cli([], env, tmp_path)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "DATABASE_URL" in lines[0], result.stderr
    assert "hunter2-secret" not in result.stderr + result.stdout


async def _check_online(env: dict[str, str], cwd: Path) -> tuple[int, str]:
    """`python -m bot check --online` as a process, while this loop serves the fakes."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "COMETAPI_"))}
    clean.update(env, PYTHONPATH=str(ROOT))
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "check",
        "--online",
        cwd=cwd,
        env=clean,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, output.decode()


async def test_check_online_passes_against_a_working_token_and_key(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    """Token and key both work: every line ✓, the invite URL shown, exit 0, no secret printed."""
    async with FakeCometAPI() as api:
        env = {
            **fake_discord.env(),
            "COMETAPI_KEY": api.api_key,
            "COMETAPI_BASE_URL": api.base_url,
            "DEV_GUILD_ID": str(fake_discord.guild.id),
        }
        code, output = await _check_online(env, tmp_path)
    assert code == 0, output
    assert "✗" not in output and "Online checks passed." in output
    assert f"client_id={fake_discord.application_id}" in output and "permissions=117760" in output
    assert "balance $25.00" in output
    assert fake_discord.token not in output and f"={api.api_key}" not in output


async def test_check_online_fails_with_a_wrong_key_and_names_the_fix(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    """A key CometAPI refuses: ✗ COMETAPI_KEY with where to get one, exit 1."""
    async with FakeCometAPI() as api:
        env = {
            **fake_discord.env(),
            "COMETAPI_KEY": "sk-not-the-right-key-000",
            "COMETAPI_BASE_URL": api.base_url,
            "DEV_GUILD_ID": str(fake_discord.guild.id),
        }
        code, output = await _check_online(env, tmp_path)
    assert code == 1, output
    assert "✗ COMETAPI_KEY" in output and "Fix: create a key in the CometAPI console" in output
    assert "✓ DISCORD_TOKEN" in output and "sk-not-the-right-key-000" not in output


async def test_sync_to_a_server_the_bot_is_not_in_says_how_to_fix_it(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    """`sync --guild` on a server without the bot: one sentence (Missing Access), exit 2."""
    env = {
        **fake_discord.env(),
        "COMETAPI_KEY": "sk-test-key",
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
    }
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "COMETAPI_"))}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "sync",
        "--guild",
        "123456789012345678",
        cwd=tmp_path,
        env={**clean, **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 2, out.decode() + err.decode()
    assert "Missing Access" in err.decode() and "check --online" in err.decode()
    assert "Traceback" not in err.decode() + out.decode()
