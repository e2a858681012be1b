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
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("bot", "cogs")
EDGE = "bot.edge"
# (importing module, imported module) pairs allowed inside functions even where they close a
# circle: open_database picks the backend module by DATABASE_URL.
LAZY_ALLOWED = {("bot.storage", "bot.storage.sqlite"), ("bot.storage", "bot.storage.postgres")}
MODULE_LINES, COG_LINES, CLASS_LINES, INIT_PARAMETERS = 500, 250, 400, 8


def source_files() -> dict[str, Path]:
    """Module name → file, for every module of bot/ and cogs/."""
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _owner(name: str, modules: dict[str, Path]) -> str | None:
    """The project module an imported name lives in (`bot.jobs.model.Job` → bot.jobs.model)."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def imports_of(module: str, path: Path, modules: dict[str, Path]) -> Iterator[tuple[str, bool]]:
    """(imported project module, whether the import is inside a function) for one module.

    Imports under `if TYPE_CHECKING:` are for the type checker only and are skipped.
    """
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]

    def walk(node: ast.AST, in_function: bool) -> Iterator[tuple[str, bool]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue
            inside = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            if isinstance(child, ast.Import):
                for alias in child.names:
                    target = _owner(alias.name, modules)
                    if target:
                        yield target, inside
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    parts = package.split(".")[: len(package.split(".")) - (child.level - 1)]
                    base = ".".join([*parts, *([child.module] if child.module else [])])
                for alias in child.names:
                    target = _owner(f"{base}.{alias.name}", modules) or _owner(base, modules)
                    if target:
                        yield target, inside
            yield from walk(child, inside)

    yield from walk(ast.parse(path.read_text(encoding="utf-8")), False)


def import_graph() -> dict[str, set[str]]:
    modules = source_files()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for target, in_function in imports_of(name, path, modules):
            if target == name or (in_function and (name, target) in LAZY_ALLOWED):
                continue
            graph[name].add(target)
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, edges = work[-1]
            for target in edges:
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(sorted(graph[target]))))
                    break
                if target in on_stack:
                    low[node] = min(low[node], index[target])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


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
