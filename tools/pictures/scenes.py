"""Record what members see: run the README's scenes on the end-to-end test stack and keep the
message payloads the fake Discord received.

The stack is the test suite's (tests/stack.py): the real bot and real discord.py, the fake
Discord (every request checked against Discord's OpenAPI description), the fake CometAPI and a
SQLite file. Each scene is one message as Discord would show it after the bot's requests (the
message object, attachments with their bytes) plus those requests themselves, written as JSON
under docs/pictures/payloads/<locale>/ with the image files beside it. The renderer reads only
these files, so regenerating the pictures needs no stack.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from tests.fakes.cometapi import FakeCometAPI
from tests.fakes.discord import FakeDiscord, running_client
from tests.fakes.discord.models import FakeMessage
from tests.fakes.discord.records import FakeInteraction
from tests.stack import Stack, stack_env
from tools.pictures.artwork import lighthouse

SLOW_MODEL = "black-forest-labs/flux-dev"
PROMPTS = {
    "en-US": "a lighthouse on a cliff at sunset, watercolor",
    "zh-TW": "夕陽下懸崖上的燈塔，水彩風格",
}
SCENES = ("pending", "result", "info", "refusal", "usage")


@dataclass
class Scene:
    name: str
    locale: str
    message: dict[str, Any]  # the message object, as Discord would send it to a client
    requests: list[dict[str, Any]]  # what the bot sent that built it
    files: dict[str, bytes]  # attachment id -> bytes
    users: dict[str, str]  # user id -> display name, to render mentions
    channel: str


@contextlib.asynccontextmanager
async def running_stack(workdir: Path) -> AsyncIterator[Stack]:
    """The end-to-end stack outside pytest: one slot, a daily limit, the painting API."""
    api = FakeCometAPI(duration=1.0, start_delay=0.05, image_base=384, artwork=lighthouse)
    await api.start()
    fake = FakeDiscord()
    await fake.start()
    api.set_model_behaviour(SLOW_MODEL, duration=120)
    session = aiohttp.ClientSession()
    env = stack_env(api, fake, workdir, MAX_CONCURRENT_JOBS="1", USER_DAILY_LIMIT="6")
    stack = Stack(fake, api, env["DATABASE_URL"], env, session)
    try:
        bot = await stack.build_bot()
        async with running_client(fake, lambda: bot) as running:
            stack.running = running
            yield stack
    finally:
        for db in stack.opened:
            await db.close()
        await session.close()
        await fake.close()
        await api.close()
        problems = fake.violations()
        if problems:
            raise RuntimeError(f"the fake Discord refused some of the bot's requests: {problems}")


def _capture(
    name: str, locale: str, fake: FakeDiscord, interaction: FakeInteraction, message: FakeMessage
) -> Scene:
    """The message as users see it now, and every request the bot made for it so far."""
    payload = copy.deepcopy(fake.message_payload(message))
    files = {str(a.id): a.data for a in message.attachments}
    requests = [
        {
            "method": r.method,
            "route": r.route,
            "status": r.status,
            "json": r.json,
            "files": [f.filename for f in r.files],
        }
        for r in interaction.responses()
    ]
    users = {str(user_id): (u.global_name or u.username) for user_id, u in fake._users.items()}
    channel = fake.channel(message.channel_id)
    return Scene(name, locale, payload, requests, files, users, channel.name if channel else "")


async def record(locale: str) -> list[Scene]:
    """Play the scenes in one server, in `locale`, and capture each message."""
    scenes: list[Scene] = []
    with tempfile.TemporaryDirectory(prefix="pictures-") as tmp:
        async with running_stack(Path(tmp)) as stack:
            fake, api = stack.discord, stack.api
            artist = fake.guild.role_named("Artist")
            mei = fake.add_user("mei", roles=[artist])
            kai = fake.add_user("kai", roles=[artist])
            # Kai's slow job holds the one slot, so Mei's request waits in the queue.
            busy = await fake.slash(
                "imagine", prompt="a map of the harbour", model=SLOW_MODEL, user=kai, locale=locale
            )
            await busy.wait_callback()
            await stack.wait_job(1, "running")
            mine = await fake.slash(
                "imagine", prompt=PROMPTS[locale], count=4, seed=1234, user=mei, locale=locale
            )
            await mine.wait_callback()
            await stack.wait_job(2, "queued")
            assert mine.original_message is not None
            scenes.append(_capture("pending", locale, fake, mine, mine.original_message))

            for prediction_id in list(api.predictions):  # Kai's map is done: Mei's job runs
                api.finish_now(prediction_id)
            await stack.wait_notified(2, timeout=30)
            await asyncio.sleep(0.3)  # let the last edit land
            result = mine.original_message
            assert result is not None
            scenes.append(_capture("result", locale, fake, mine, result))

            info = await fake.click(result, "imagebot:info:2", user=mei, locale=locale)
            scenes.append(_capture("info", locale, fake, info, await _shown(info)))

            refused = await fake.slash(
                "imagine", prompt=PROMPTS[locale], count=4, user=mei, locale=locale
            )
            scenes.append(_capture("refusal", locale, fake, refused, await _shown(refused)))

            usage = await fake.slash(
                "usage", subcommand="server", user=fake.users.moderator, locale=locale
            )
            scenes.append(_capture("usage", locale, fake, usage, await _shown(usage)))
    return scenes


async def _shown(interaction: FakeInteraction, timeout: float = 10) -> FakeMessage:
    """The interaction's response once it shows something (a deferred one, once edited)."""
    await interaction.wait_callback()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        message = interaction.original_message
        if message is not None and not message.loading:
            await asyncio.sleep(0.2)  # an edit right behind it lands too
            return message
        await asyncio.sleep(0.05)
    raise TimeoutError(f"interaction {interaction.id} showed nothing within {timeout} s")


def save(scene: Scene, folder: Path) -> Path:
    """Write the scene's JSON and its image files; attachment URLs point at those files."""
    folder.mkdir(parents=True, exist_ok=True)
    files = folder / "files"
    message = scene.message
    for index, attachment in enumerate(message.get("attachments", []), start=1):
        suffix = Path(attachment["filename"]).suffix or ".bin"
        local = files / f"{scene.name}-{index}{suffix}"
        local.parent.mkdir(parents=True, exist_ok=True)
        local.write_bytes(scene.files[attachment["id"]])
        relative = local.relative_to(folder).as_posix()
        attachment["url"] = attachment["proxy_url"] = relative
    document = {
        "scene": scene.name,
        "locale": scene.locale,
        "recorded_by": "python -m tools.pictures (tools/pictures/scenes.py)",
        "note": "message: the message object as Discord sends it to clients after the bot's "
        "requests (attachment URLs replaced by the files beside this one); requests: what the "
        "bot sent for it, as the fake Discord received it",
        "channel": scene.channel,
        "users": scene.users,
        "message": message,
        "requests": scene.requests,
    }
    path = folder / f"{scene.name}.json"
    path.write_text(json.dumps(document, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return path


__all__ = ["PROMPTS", "SCENES", "Scene", "record", "running_stack", "save"]
