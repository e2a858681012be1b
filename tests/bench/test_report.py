"""The benchmark's figures can be read back from docs/benchmarks.md, exactly as written."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from bench.report import FIGURES, markdown, parse_markdown

ROOT = Path(__file__).resolve().parents[2]


def test_the_recorded_document_reads_back_every_row_and_the_machine() -> None:
    """docs/benchmarks.md: three bots at N = 1, 50, 200 and 1000, with the date and machine."""
    rows, meta = parse_markdown((ROOT / "docs" / "benchmarks.md").read_text(encoding="utf-8"))
    assert {(r.bot, r.prefer_wait > 0) for r in rows} == {
        ("naive", False),
        ("bot", False),
        ("bot", True),
    }
    assert sorted({r.n for r in rows}) == [1, 50, 200, 1000]
    assert meta["when"].endswith("UTC") and "cores" in meta["machine"]
    assert all(r.errors == 0 for r in rows)


def test_what_markdown_writes_parse_markdown_reads() -> None:
    """Every figure of the table survives the round trip (to the table's precision)."""
    figures = {name: 1.0 + i for i, name in enumerate(FIGURES)}
    figures["ack_p99_ms"] = None
    rows = [
        SimpleNamespace(label="naive bot", n=10, figures=figures, errors=[]),
        SimpleNamespace(label="bot, Prefer: wait=6", n=10, figures=figures, errors=["x"]),
    ]
    meta = {"when": "2026-01-02 03:04 UTC", "cpus": "2", "cpu": "Test CPU"}
    text = markdown(rows, [], meta, None)  # type: ignore[arg-type]
    parsed, read_meta = parse_markdown(text)
    assert [(r.label, r.bot, r.n, r.prefer_wait, r.errors) for r in parsed] == [
        ("naive bot", "naive", 10, 0, 0),
        ("bot, Prefer: wait=6", "bot", 10, 6, 1),
    ]
    assert parsed[0].figures["ack_p99_ms"] is None
    assert (
        parsed[0].figures["api_requests_per_prediction"] == figures["api_requests_per_prediction"]
    )
    assert read_meta["when"] == "2026-01-02 03:04 UTC" and "Test CPU" in read_meta["machine"]
