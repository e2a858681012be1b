"""The core in bot/ imports without discord: dependencies flow cogs/ → bot/ only."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import bot

ROOT = Path(__file__).resolve().parents[2]
# The Discord edge inside bot/: the bot class, the CLI/composition root, and discord_* helpers.
EDGE = {"bot.app", "bot.__main__"}


def core_modules() -> list[str]:
    names = []
    for info in pkgutil.walk_packages(bot.__path__, "bot."):
        leaf = info.name.rsplit(".", 1)[-1]
        if info.name in EDGE or leaf.startswith("discord_"):
            continue
        names.append(info.name)
    return sorted(names)


def test_core_modules_import_without_discord() -> None:
    """Importing every core module in a fresh interpreter leaves `discord` unloaded."""
    modules = core_modules()
    assert "bot.settings" in modules and "bot.storage.jobs" in modules
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "bad = sorted(m for m in sys.modules if m == 'discord' or m.startswith('discord.'))\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", f"core imported discord: {result.stdout.strip()}"
