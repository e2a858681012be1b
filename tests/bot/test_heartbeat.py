"""The heartbeat behind the container's health check: touched only while connected, read back
by `python -m bot health`."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from bot.heartbeat import MAX_AGE, beat, health


async def test_the_file_is_touched_only_while_connected(tmp_path: Path) -> None:
    """No beat while disconnected (polled every second), then one per interval."""
    path = tmp_path / "state" / "heartbeat"
    states = iter([False, False, True, True])
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        if len(sleeps) == 2:
            assert not path.exists()  # two disconnected looks, no file yet
        if len(sleeps) == 4:
            raise asyncio.CancelledError

    with pytest.raises(asyncio.CancelledError):
        await beat(path, lambda: next(states), interval=30, sleep=sleep)
    assert path.exists()
    assert sleeps == [1.0, 1.0, 30, 30]


async def test_an_unwritable_file_is_logged_once_and_the_beat_goes_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A health file the bot cannot write never stops the bot; one warning, not one per beat."""
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    count = 0

    async def sleep(seconds: float) -> None:
        nonlocal count
        count += 1
        if count == 3:
            raise asyncio.CancelledError

    with pytest.raises(asyncio.CancelledError):
        await beat(blocker / "heartbeat", lambda: True, sleep=sleep)
    assert sum("cannot write the health file" in r.message for r in caplog.records) == 1


def test_health_reads_the_age_of_the_last_beat(tmp_path: Path) -> None:
    """Fresh: exit 0; older than MAX_AGE, missing, or unset: exit 1 with the reason."""
    path = tmp_path / "heartbeat"
    assert health(None)[0] == 1 and "HEALTH_FILE" in health(None)[1]
    assert health(path)[0] == 1 and "no heartbeat" in health(path)[1]
    path.touch()
    stamp = path.stat().st_mtime
    assert health(path, now=stamp + 5) == (0, "healthy: last heartbeat 5 s ago.")
    code, line = health(path, now=stamp + MAX_AGE + 1)
    assert code == 1 and "unhealthy" in line
    os.utime(path, (stamp - 1000, stamp - 1000))
    assert health(path)[0] == 1
