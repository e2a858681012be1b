"""`python -m bot` as a real process: it connects, serves, and stops cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import signal
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.backends import (
    create_postgres_database,
    drop_postgres_database,
    pg_available,
    pg_skip_reason,
)
from tests.fakes.cometapi import FakeCometAPI
from tests.fakes.discord import FakeDiscord

ROOT = Path(__file__).resolve().parents[2]


def _env(fake: FakeDiscord, api: FakeCometAPI, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "COMETAPI_"))}
    env.update(fake.env())
    env.update(
        {
            "COMETAPI_KEY": api.api_key,
            "COMETAPI_BASE_URL": api.base_url,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'data' / 'bot.db'}",
            "DEV_GUILD_ID": str(fake.guild.id),
            "PYTHONPATH": str(ROOT),
            "BOT_ENV_FILE": str(tmp_path / "missing.env"),
            "HEALTH_FILE": str(tmp_path / "heartbeat"),
        }
    )
    return env


async def _start_bot(
    fake: FakeDiscord,
    api: FakeCometAPI,
    tmp_path: Path,
    *args: str,
    extra_env: dict[str, str] | None = None,
) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        cwd=tmp_path,
        env={**_env(fake, api, tmp_path), **(extra_env or {})},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )


async def test_sigterm_stops_the_bot_cleanly_with_exit_0(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    """The process syncs to the dev guild, serves a command, then exits 0 on SIGTERM."""
    async with FakeCometAPI(duration=0.2) as api:
        process = await _start_bot(fake_discord, api, tmp_path)
        try:
            await fake_discord.wait_for(
                lambda r: r.method == "PUT" and "/commands" in r.path, timeout=30
            )
            await fake_discord.wait_for_gateway(lambda e: e.kind == "READY", timeout=30)
            interaction = await fake_discord.slash(
                "imagine", prompt="a moth", user=fake_discord.users.member
            )
            await interaction.wait_callback()
            await fake_discord.wait_for(
                lambda r: r.method == "PATCH" and interaction.token in r.path and bool(r.files),
                timeout=20,
            )
            process.send_signal(signal.SIGTERM)
            code = await asyncio.wait_for(process.wait(), timeout=20)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
        output = (await process.stdout.read()).decode() if process.stdout else ""
    assert code == 0, output
    assert "stopped cleanly" in output
    assert "Traceback" not in output
    assert fake_discord.env()["DISCORD_TOKEN"] not in output and api.api_key not in output
    assert (tmp_path / "data" / "bot.db").exists()


async def test_the_running_bot_beats_and_health_says_healthy(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    """With HEALTH_FILE set the connected bot touches it, and `python -m bot health` exits 0."""
    async with FakeCometAPI(duration=0.2) as api:
        assert await (await _start_bot(fake_discord, api, tmp_path, "health")).wait() == 1
        process = await _start_bot(fake_discord, api, tmp_path)
        try:
            await fake_discord.wait_for_gateway(lambda e: e.kind == "READY", timeout=30)
            for _ in range(100):
                if (tmp_path / "heartbeat").exists():
                    break
                await asyncio.sleep(0.1)
            check = await _start_bot(fake_discord, api, tmp_path, "health")
            out, _ = await asyncio.wait_for(check.communicate(), 30)
            process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(process.wait(), timeout=20)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    assert check.returncode == 0, out.decode()
    assert out.decode().startswith("healthy: last heartbeat")


async def _drain(stream: asyncio.StreamReader | None, into: bytearray) -> None:
    """Read a process's output as it comes: at DEBUG it outgrows the pipe's buffer."""
    if stream is None:
        return
    while chunk := await stream.read(65536):
        into += chunk


def _with_password(url: str, password: str) -> str:
    parts = urlsplit(url)
    user = parts.username or "postgres"
    netloc = f"{user}:{password}@{parts.hostname}:{parts.port or 5432}"
    return urlunsplit(parts._replace(netloc=netloc))


async def test_nothing_the_bot_prints_carries_a_secret(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    """A real run at DEBUG on PostgreSQL: no token, key or database password in its output."""
    if not pg_available():
        pytest.skip(pg_skip_reason())
    url, name = await create_postgres_database()
    # The test server trusts local connections, so the password is never checked; it is in the
    # URL the bot reads, which is all this test needs.
    password = f"pw-{secrets.token_hex(8)}"
    output = bytearray()
    try:
        async with FakeCometAPI(duration=0.2) as api:
            process = await _start_bot(
                fake_discord,
                api,
                tmp_path,
                extra_env={"DATABASE_URL": _with_password(url, password), "LOG_LEVEL": "DEBUG"},
            )
            reader = asyncio.create_task(_drain(process.stdout, output))
            try:
                await fake_discord.wait_for_gateway(lambda e: e.kind == "READY", timeout=30)
                interaction = await fake_discord.slash(
                    "imagine", prompt="a heron", user=fake_discord.users.member
                )
                await interaction.wait_callback()
                await fake_discord.wait_for(
                    lambda r: r.method == "PATCH" and interaction.token in r.path and bool(r.files),
                    timeout=20,
                )
                process.send_signal(signal.SIGTERM)
                code = await asyncio.wait_for(process.wait(), timeout=20)
            finally:
                if process.returncode is None:
                    process.kill()
                    await process.wait()
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(reader, 10)
            key = api.api_key
    finally:
        await drop_postgres_database(name)
    text = output.decode(errors="replace")
    assert code == 0, text[-4000:]
    assert " DEBUG " in text and "stopped cleanly" in text  # it did talk, at length
    for secret in (fake_discord.env()["DISCORD_TOKEN"], key, password):
        assert secret not in text
