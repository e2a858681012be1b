"""The bot runs on uvloop when it is installed and on asyncio's loop when it is not."""

from __future__ import annotations

import asyncio
import sys

import pytest

from bot import eventloop


async def _loop_module() -> str:
    return type(asyncio.get_running_loop()).__module__


def test_without_uvloop_the_bot_runs_on_asyncios_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    """With the speed extra absent, the same coroutine runs to completion on asyncio's loop."""
    monkeypatch.setitem(sys.modules, "uvloop", None)  # import uvloop -> ImportError
    assert eventloop.loop_factory() is None
    assert eventloop.run(_loop_module()).startswith("asyncio")


def test_with_uvloop_the_bot_runs_on_it() -> None:
    """With the speed extra installed, the coroutine runs on uvloop's loop."""
    pytest.importorskip("uvloop", reason="uvloop is the optional speed extra; not installed")
    assert eventloop.run(_loop_module()).startswith("uvloop")
