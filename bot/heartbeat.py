"""A heartbeat file for container health checks: touched while the bot is connected.

With `HEALTH_FILE` set, the running bot touches that file every `INTERVAL` seconds, but only
while it is connected to Discord; `python -m bot health` exits 0 when the file was touched
within `MAX_AGE` seconds. A bot whose event loop is stuck, or that has lost Discord for good,
stops touching it and its container turns "unhealthy". No file, no heartbeat: `health` fails.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

log = logging.getLogger(__name__)

INTERVAL = 30.0
MAX_AGE = 3 * INTERVAL  # two missed beats are tolerated (a reconnect, a slow disk)


async def beat(
    path: Path,
    connected: Callable[[], bool],
    *,
    interval: float = INTERVAL,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> None:
    """Touch `path` every `interval` seconds while `connected()`; runs until cancelled."""
    warned = False
    while True:
        up = connected()
        if up:
            try:
                await asyncio.to_thread(_touch, path)
                warned = False
            except OSError as exc:
                if not warned:  # once per outage, not every beat
                    log.warning("cannot write the health file %s: %s", path, exc)
                    warned = True
        # Not connected (starting, reconnecting): look again soon, so the first beat after a
        # (re)connect is not a whole interval late.
        await sleep(interval if up else min(interval, 1.0))


def _touch(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch()


def age(path: Path, now: float | None = None) -> float | None:
    """Seconds since the last beat, or None when there was none."""
    try:
        touched = path.stat().st_mtime
    except OSError:
        return None
    return max(0.0, (time.time() if now is None else now) - touched)


def health(path: Path | None, now: float | None = None) -> tuple[int, str]:
    """(exit code, one line) for `python -m bot health`."""
    if path is None:
        return 1, "unhealthy: HEALTH_FILE is not set, so the bot writes no heartbeat."
    seconds = age(path, now)
    if seconds is None:
        return 1, f"unhealthy: no heartbeat yet in {path} (starting, or never connected)."
    if seconds > MAX_AGE:
        return 1, f"unhealthy: last heartbeat {seconds:.0f} s ago (more than {MAX_AGE:.0f} s)."
    return 0, f"healthy: last heartbeat {seconds:.0f} s ago."


__all__ = ["INTERVAL", "MAX_AGE", "age", "beat", "health"]
