"""docs/benchmarks.png: every N, the date and machine, colour-blind-safe colours, redrawn from
the recorded figures without running the benchmark."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from PIL import Image

from bench.chart import COLOURS, HEADER, PANEL_W, WIDTH, draw_chart, main
from bench.e2e import kind_suffix
from bench.report import parse_markdown

ROOT = Path(__file__).resolve().parents[2]
OKABE_ITO = {
    (230, 159, 0),
    (86, 180, 233),
    (0, 158, 115),
    (240, 228, 66),
    (0, 114, 178),
    (213, 94, 0),
    (204, 121, 167),
    (0, 0, 0),
}


def test_the_palette_is_okabe_ito() -> None:
    """The three series use colours from Okabe and Ito's colour-blind-safe set."""
    assert set(COLOURS.values()) <= OKABE_ITO


def test_the_chart_draws_every_series_in_every_panel(tmp_path: Path) -> None:
    """From docs/benchmarks.md: each panel shows all three bots, N=1000 included."""
    rows, meta = parse_markdown((ROOT / "docs" / "benchmarks.md").read_text(encoding="utf-8"))
    path = draw_chart(rows, tmp_path / "chart.png", meta)
    with Image.open(path) as image:
        rgb = image.convert("RGB")
        assert rgb.width == WIDTH
        for panel in range(3):
            # the right-most group of bars is N=1000
            box = (
                panel * PANEL_W + PANEL_W * 3 // 4,
                HEADER + 120,
                (panel + 1) * PANEL_W,
                rgb.height - 60,
            )
            colours = {c for _, c in rgb.crop(box).getcolors(1_000_000) or []}
            assert set(COLOURS.values()) <= colours, panel
        header = rgb.crop((0, 0, WIDTH, HEADER - 8))
        assert len(header.getcolors(1_000_000) or []) > 2  # the title and the run's facts


def test_python_m_bench_chart_redraws_from_the_document(tmp_path: Path) -> None:
    """`python -m bench.chart MD PNG` needs no benchmark run."""
    out = tmp_path / "again.png"
    assert main([str(ROOT / "docs" / "benchmarks.md"), str(out)]) == 0
    assert out.stat().st_size > 10_000


def test_cold_and_mix_rows_leave_the_chart_as_the_plain_rows_draw_it(tmp_path: Path) -> None:
    """The chart draws the warm one-model rows only: cold and mix figures change no pixel."""
    rows, meta = parse_markdown((ROOT / "docs" / "benchmarks.md").read_text(encoding="utf-8"))
    plain = [r for r in rows if not r.cold and not r.mix]
    extra = [
        replace(
            r,
            label=r.label + kind_suffix(cold, not cold),
            n=n,
            figures=dict.fromkeys(r.figures, 50_000.0),
            cold=cold,
            mix=not cold,
        )
        for r in plain
        if r.prefer_wait == 0
        for n, cold in ((20, True), (1000, True), (200, False))
    ]
    alone = draw_chart(plain, tmp_path / "plain.png", meta)
    mixed = draw_chart([*plain, *extra], tmp_path / "mixed.png", meta)
    with Image.open(alone) as a, Image.open(mixed) as b:
        assert a.convert("RGB").tobytes() == b.convert("RGB").tobytes()
