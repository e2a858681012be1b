"""The command line: missing settings stop at once with one sentence and exit code 2."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

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
