"""The naive reference bot: `/imagine` the way the public bots and Replicate's tutorial do it.

    python -m bench.naive_bot     (reads the same environment variables as the real bot)

Defer, create the prediction with aiohttp (the `model` option as typed, flux-schnell by
default), sleep one second and ask again until it is done, download the image, edit the
original response with the file. No database, no queue, no policy, no progress edits: the
least work a bot can do, so the real bot's figures are read as ratios against it. The only
addition is measurement (the same LoopMonitor as the bot, so both print `loop-lag max=XXms`
when they stop); it is not a feature of the naive bot.
"""

from __future__ import annotations

import asyncio
import io
import logging
import os
import signal
import sys

import aiohttp
import discord
import yarl
from discord import app_commands

from bot.loop_monitor import LoopMonitor

log = logging.getLogger("naive_bot")

MODEL = "black-forest-labs/flux-schnell"
POLL_SECONDS = 1.0
TERMINAL = ("succeeded", "failed", "canceled")


class NaiveBot(discord.Client):
    def __init__(self, *, api_base: str, api_key: str, guild_id: int) -> None:
        super().__init__(intents=discord.Intents.none())
        self.tree = app_commands.CommandTree(self)
        self.api_base = api_base.rstrip("/")
        self.api_key = api_key
        self.guild = discord.Object(id=guild_id)
        self.session: aiohttp.ClientSession | None = None
        self.monitor = LoopMonitor()
        self.failures = 0

        @self.tree.command(name="imagine", description="Create an image from a text description")
        @app_commands.describe(prompt="What to draw", model="Which model (owner/name)")
        async def imagine(
            interaction: discord.Interaction, prompt: str, model: str | None = None
        ) -> None:
            await self.imagine(interaction, prompt, model or MODEL)

    async def setup_hook(self) -> None:
        self.session = aiohttp.ClientSession(headers={"Authorization": f"Bearer {self.api_key}"})
        self.tree.copy_global_to(guild=self.guild)
        await self.tree.sync(guild=self.guild)
        self.monitor.start()

    async def close(self) -> None:
        await self.monitor.stop()
        if self.session is not None:
            await self.session.close()
        await super().close()

    async def imagine(
        self, interaction: discord.Interaction, prompt: str, model: str = MODEL
    ) -> None:
        await interaction.response.defer()
        assert self.session is not None
        try:
            url = f"{self.api_base}/replicate/v1/models/{model}/predictions"
            async with self.session.post(url, json={"input": {"prompt": prompt}}) as response:
                prediction = await response.json()
            while prediction["status"] not in TERMINAL:
                await asyncio.sleep(POLL_SECONDS)
                get = f"{self.api_base}/replicate/v1/predictions/{prediction['id']}"
                async with self.session.get(get) as response:
                    prediction = await response.json()
            if prediction["status"] != "succeeded":
                raise RuntimeError(prediction.get("error") or prediction["status"])
            output = prediction["output"]
            image_url = output[0] if isinstance(output, list) else output
            async with self.session.get(image_url) as response:
                data = await response.read()
            await interaction.edit_original_response(
                attachments=[discord.File(io.BytesIO(data), filename="image.webp")]
            )
        except Exception as exc:
            self.failures += 1
            log.error("imagine failed: %r", exc)
            await interaction.edit_original_response(content=f"Failed: {exc}")


async def main() -> int:
    env = os.environ
    logging.basicConfig(
        stream=sys.stdout,
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("discord.gateway").setLevel(logging.WARNING)
    if env.get("DISCORD_API_BASE_URL"):
        discord.http.Route.BASE = env["DISCORD_API_BASE_URL"]
    if env.get("DISCORD_GATEWAY_URL"):
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(env["DISCORD_GATEWAY_URL"])
    bot = NaiveBot(
        api_base=env.get("COMETAPI_BASE_URL", "https://api.cometapi.com"),
        api_key=env["COMETAPI_KEY"],
        guild_id=int(env["DEV_GUILD_ID"]),
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with bot:
        runner = asyncio.create_task(bot.start(env["DISCORD_TOKEN"]))
        waiter = asyncio.create_task(stop.wait())
        await asyncio.wait({runner, waiter}, return_when=asyncio.FIRST_COMPLETED)
        await bot.close()
        runner.cancel()
        waiter.cancel()
        await asyncio.gather(runner, waiter, return_exceptions=True)
    log.info("stopped cleanly (%d failed)", bot.failures)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
