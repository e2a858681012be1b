"""The bot's HTTP pool to CometAPI is sized from the concurrency cap."""

from __future__ import annotations

from bot.edge.runner import http_connection_limit
from bot.settings import load_settings


def _settings(**env: str):  # type: ignore[no-untyped-def]
    return load_settings({"DISCORD_TOKEN": "x" * 30, "COMETAPI_KEY": "k" * 20, **env})


def test_the_pool_keeps_aiohttp_default_for_small_caps() -> None:
    """Up to 50 concurrent jobs, 100 connections (aiohttp's default) are plenty."""
    assert http_connection_limit(_settings()) == 100
    assert http_connection_limit(_settings(MAX_CONCURRENT_JOBS="50")) == 100


def test_the_pool_grows_with_the_cap_so_held_creates_never_starve() -> None:
    """With Prefer: wait each running job holds a connection: twice the cap leaves room."""
    assert http_connection_limit(_settings(MAX_CONCURRENT_JOBS="200")) == 400
    assert http_connection_limit(_settings(MAX_CONCURRENT_JOBS="1000")) == 2000
