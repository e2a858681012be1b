"""Fixtures: a fake CometAPI on 127.0.0.1, one aiohttp session, and a client with a recording sleep."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest

from bot.cometapi import ClientTuning, PredictionClient
from tests.fakes.cometapi import FakeCometAPI, ManualClock

TUNING_FIELDS = {f.name for f in dataclasses.fields(ClientTuning)}


class RecordingSleep:
    """Stands in for asyncio.sleep: records the delays and returns at once."""

    def __init__(self) -> None:
        self.calls: list[float] = []
        self.hooks: list[Callable[[float], Any]] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        for hook in self.hooks:
            result = hook(seconds)
            if asyncio.iscoroutine(result):
                await result
        await asyncio.sleep(0)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def fake(clock: ManualClock) -> AsyncIterator[FakeCometAPI]:
    """A fake whose predictions move only when the test advances `clock`."""
    server = FakeCometAPI(duration=2.0, start_delay=0.5, clock=clock)
    await server.start()
    try:
        yield server
    finally:
        await server.close()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as http:
        yield http


@pytest.fixture
def sleeps() -> RecordingSleep:
    return RecordingSleep()


MakeClient = Callable[..., PredictionClient]


@pytest.fixture
def make_client(
    session: aiohttp.ClientSession, fake: FakeCometAPI, sleeps: RecordingSleep
) -> MakeClient:
    """A client on the fake; random()=0.5 makes the jitter factor exactly 1."""

    def make(**overrides: Any) -> PredictionClient:
        options: dict[str, Any] = {
            "base_url": fake.base_url,
            "api_key": fake.api_key,
            "sleep": sleeps,
            "random": lambda: 0.5,
        }
        tuning = {k: overrides.pop(k) for k in list(overrides) if k in TUNING_FIELDS}
        options.update(overrides)
        return PredictionClient(session, tuning=ClientTuning(**tuning), **options)

    return make
