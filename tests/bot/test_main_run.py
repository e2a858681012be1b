"""`python -m bot` as a real process: it connects, serves, and stops cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

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
    fake: FakeDiscord, api: FakeCometAPI, tmp_path: Path, *args: str
) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        cwd=tmp_path,
        env=_env(fake, api, tmp_path),
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
