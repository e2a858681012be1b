"""The shape of the code: the core imports no discord, no import circles, modules stay small.

Dependencies flow cogs/ → bot/edge/ → the core (the rest of bot/). The graph is read from the
source (every import, also those inside functions), so a circle hidden behind a lazy import
fails here too. The one lazy import allowed to point back is the backend selection in
`bot.storage.open_database` (the optional PostgreSQL driver is imported only when asked for).
"""

from __future__ import annotations

import ast
import subprocess
import sys

from tools.imports import ROOT, circles, import_graph, source_files

EDGE = "bot.edge"
MODULE_LINES, COG_LINES, CLASS_LINES, INIT_PARAMETERS = 500, 250, 400, 8


def core_modules() -> list[str]:
    return sorted(
        name
        for name in source_files()
        if name.startswith("bot") and not (name == EDGE or name.startswith(EDGE + "."))
    )


def test_core_modules_import_without_discord() -> None:
    """Importing every module of bot/ outside bot/edge/ in a fresh interpreter leaves discord unloaded."""
    modules = core_modules()
    assert "bot.settings" in modules and "bot.storage.jobs" in modules
    assert not any(name.startswith(EDGE) for name in modules)
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


def test_only_the_edge_and_the_cogs_name_discord_in_their_source() -> None:
    """No core file imports discord, not even inside a function."""
    offenders = []
    for name, path in source_files().items():
        if name.startswith(("cogs", EDGE)):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                names = [node.module or ""]
            if any(n == "discord" or n.startswith("discord.") for n in names):
                offenders.append(name)
    assert offenders == []


def test_no_import_circles() -> None:
    """The import graph of bot/ and cogs/ (imports inside functions included) has no cycle."""
    assert circles(import_graph()) == []


def test_the_core_never_imports_the_edge_or_the_cogs() -> None:
    """Dependencies flow cogs/ → bot/edge/ → core, never back (bot/__main__ dispatches to both)."""
    graph = import_graph()
    back = sorted(
        f"{name} → {target}"
        for name in core_modules()
        if name != "bot.__main__"
        for target in graph[name]
        if target.startswith(("cogs", EDGE))
    )
    assert back == []


def test_the_circle_finder_finds_a_circle() -> None:
    """The check above could fail: a three-module loop is reported as one circle."""
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert circles(graph) == [["a", "b", "c"]]


def test_modules_classes_and_constructors_stay_small() -> None:
    """No module over 500 lines (a cog over 250), no class over 400, no __init__ over 8 parameters."""
    problems = []
    for name, path in source_files().items():
        text = path.read_text(encoding="utf-8")
        lines = text.count("\n") + 1
        limit = COG_LINES if name.startswith("cogs") else MODULE_LINES
        if lines > limit:
            problems.append(f"{path.relative_to(ROOT)}: {lines} lines (limit {limit})")
        for node in ast.walk(ast.parse(text)):
            if not isinstance(node, ast.ClassDef):
                continue
            size = (node.end_lineno or node.lineno) - node.lineno + 1
            if size > CLASS_LINES:
                problems.append(f"{name}.{node.name}: {size} lines (limit {CLASS_LINES})")
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and item.name == "__init__":
                    a = item.args
                    count = len(a.posonlyargs) + len(a.args) + len(a.kwonlyargs) - 1
                    count += bool(a.vararg) + bool(a.kwarg)
                    if count > INIT_PARAMETERS:
                        problems.append(f"{name}.{node.name}.__init__: {count} parameters")
    assert problems == []
