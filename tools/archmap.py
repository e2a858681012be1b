"""`python -m tools.archmap`: the package map of bot/ and cogs/, drawn from the imports.

Prints a Mermaid flowchart (GitHub renders it) with one box per package and one arrow per
"imports from" between packages, read from the source with the same graph the layering test
checks (imports inside functions included; `if TYPE_CHECKING:` imports left out).
`docs/architecture.md` carries its output between two marker lines, and a test fails when
the code and the page disagree; `--write` refreshes the page.
"""

from __future__ import annotations

import sys
from pathlib import Path

from tools.imports import import_graph

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "architecture.md"
BEGIN = "<!-- archmap:begin (python -m tools.archmap --write) -->"
END = "<!-- archmap:end -->"
# The single modules at the top of bot/ form one box, the core's shared basics; the two that
# assemble the others (the CLI entry and the container of core objects) get boxes of their own.
BASICS = "bot (settings, clock, errors, ...)"
ASSEMBLERS = ("bot.__main__", "bot.services")


def group(module: str) -> str:
    """The box a module belongs to: its package under bot/ (or cogs), else the basics box."""
    parts = module.split(".")
    if parts[0] == "cogs":
        return "cogs"
    if module in ASSEMBLERS:
        return module
    if len(parts) >= 2 and (ROOT / "bot" / parts[1]).is_dir():
        return f"bot.{parts[1]}"
    return BASICS


def package_edges() -> set[tuple[str, str]]:
    edges = set()
    for module, targets in import_graph().items():
        for target in targets:
            a, b = group(module), group(target)
            if a != b:
                edges.add((a, b))
    return edges


def mermaid() -> str:
    edges = sorted(package_edges())
    names = sorted({n for edge in edges for n in edge})
    ids = {name: f"n{i}" for i, name in enumerate(names)}
    lines = ["```mermaid", "flowchart TD"]
    lines += [f'    {ids[n]}["{n}"]' for n in names]
    lines += [f"    {ids[a]} --> {ids[b]}" for a, b in edges]
    lines.append("```")
    return "\n".join(lines)


def page_block(text: str) -> str | None:
    """The diagram currently on the page, or None when the markers are missing."""
    if BEGIN not in text or END not in text:
        return None
    return text.split(BEGIN, 1)[1].split(END, 1)[0].strip()


def write() -> None:
    text = PAGE.read_text(encoding="utf-8")
    before, rest = text.split(BEGIN, 1)
    after = rest.split(END, 1)[1]
    PAGE.write_text(f"{before}{BEGIN}\n{mermaid()}\n{END}{after}", encoding="utf-8")


if __name__ == "__main__":
    if "--write" in sys.argv[1:]:
        write()
    else:
        print(mermaid())
