"""The architecture page's package map is the one the code draws."""

from __future__ import annotations

from tools.archmap import PAGE, mermaid, package_edges, page_block


def test_the_architecture_page_shows_the_packages_as_the_code_imports_them() -> None:
    """docs/architecture.md carries `python -m tools.archmap`'s current output."""
    assert page_block(PAGE.read_text(encoding="utf-8")) == mermaid()


def test_no_arrow_of_the_map_runs_from_the_core_to_the_edge() -> None:
    """Only the CLI entry and the cogs point at bot.edge; nothing of the core does."""
    edges = package_edges()
    into_edge = {a for a, b in edges if b in ("bot.edge", "cogs")}
    assert ("bot.edge", "bot.scheduler") in edges  # the map is not empty
    assert into_edge <= {"bot.__main__", "cogs", "bot.edge"}
