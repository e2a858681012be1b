"""Pytest fixtures others can import: `from tests.fakes.discord.fixtures import fake_discord`.

Each fake is started on 127.0.0.1 (port 0) and closed at teardown; teardown then fails the
test if the bot sent anything Discord would reject (a spec violation, an unknown route, a
route the fake does not implement). A test that provokes a violation on purpose takes it with
`fake.take_violations()`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from .harness import FakeDiscord

FakeDiscordFactory = Callable[..., Awaitable[FakeDiscord]]


@pytest.fixture
async def fake_discord_factory() -> AsyncIterator[FakeDiscordFactory]:
    """`await factory(**FakeDiscord kwargs)` -> a started fake; all are checked and closed after."""
    started: list[FakeDiscord] = []

    async def make(**kwargs: Any) -> FakeDiscord:
        fake = FakeDiscord(**kwargs)
        await fake.start()
        started.append(fake)
        return fake

    try:
        yield make
    finally:
        for fake in started:
            await fake.close()
    for fake in started:
        fake.assert_clean()


@pytest.fixture
async def fake_discord(fake_discord_factory: FakeDiscordFactory) -> FakeDiscord:
    """A started FakeDiscord with the default world (one guild, four users, three channels)."""
    return await fake_discord_factory()


__all__ = ["FakeDiscordFactory", "fake_discord", "fake_discord_factory"]
