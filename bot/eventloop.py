"""The event loop the bot runs on: uvloop when the optional `speed` extra installed it.

uvloop (libuv under asyncio's interface) spends less CPU per socket event and per callback
than asyncio's own loop; in the end-to-end benchmark it cut the bot's CPU per job by about 6 %
at N=200 (docs/decisions/025-optional-speed-extra.md). It is optional: without it, or where it
does not build (Windows), the bot runs on asyncio's loop with the same behaviour. The `speed`
extra also installs orjson, which discord.py picks up by itself for the gateway's JSON.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's loop factory when uvloop is importable, else None (asyncio's default loop)."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def run(main: Coroutine[Any, Any, T]) -> T:
    """asyncio.run(main) on the fastest loop installed."""
    factory = loop_factory()
    log.info("event loop: %s", "uvloop" if factory is not None else "asyncio")
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(main)


def freeze_startup_heap() -> None:
    """Exempt everything start-up built from garbage collection (gc.freeze).

    Modules, discord.py's command tree, the catalog, the message catalogs: hundreds of
    thousands of objects that live as long as the process. Every full collection walked them
    all, and in a burst of a thousand jobs full collections come often: they were the worst
    event-loop stalls. Frozen, a collection walks only what jobs made. Call once, when
    start-up is done.
    """
    gc.collect()
    gc.freeze()
    log.debug("froze %d start-up objects out of garbage collection", gc.get_freeze_count())
