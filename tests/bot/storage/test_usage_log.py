"""The usage log's definitions: UTC days."""

from __future__ import annotations

from bot.storage.usage_log import day_key, day_start
from tests.bot.storage.usage_helpers import NOON, TODAY


def test_day_helpers_use_utc() -> None:
    """Days start at UTC midnight whatever the local time zone."""
    assert day_start(NOON) == TODAY
    assert day_start(TODAY) == TODAY
    assert day_key(TODAY - 0.5) == "2025-03-09" and day_key(TODAY) == "2025-03-10"
