"""docs/benchmarks.png, drawn with Pillow (already a dependency): no plotting library needed.

Three panels, every N side by side (1 to 1000): acknowledgement latency and delivery overhead
(bars: the median, lines: the 99th percentile, log scale) and API requests per prediction, the
naive bot against the bot and the bot with `Prefer: wait`. Each panel says that lower is
better; the header says when and on what machine the figures were measured. The colours are
Okabe and Ito's, told apart with every common kind of colour blindness.

The chart shows the plain (warm, single-model) rows only: the cold and mix rows are in the
table, beside their own naive rows. Mixed into these bars they would be read as the same
workload, and a cold or mix-only N (such as N=20) would leave a group of empty bars.

It draws from the figures alone (a `Row` after a run, or a `RecordedRow` read back from
docs/benchmarks.md), so `python -m bench.chart` redraws the chart from the recorded table
without running the benchmark again.
"""

from __future__ import annotations

import math
import os
import platform
import sys
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from PIL import Image, ImageDraw, ImageFont

from bench.report import Keyed, parse_markdown

WIDTH, HEIGHT = 1500, 640
HEADER = 86
PANEL_W = WIDTH // 3
MARGIN = (72, 112, 24, 58)  # left, top, right, bottom inside a panel (below the header)
# Okabe & Ito (2008): vermillion, blue, bluish green.
COLOURS = {"naive": (213, 94, 0), "bot": (0, 114, 178), "wait": (0, 158, 115)}
GRID = (228, 228, 228)
AXIS = (50, 50, 50)
MUTED = (110, 110, 110)
SERIES = (("naive bot", "naive", False), ("bot", "bot", False), ("bot, Prefer: wait", "wait", True))

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont
RGB = tuple[int, int, int]


class FigureRow(Keyed, Protocol):
    """What the chart reads from a row (its kind, and its figures): `bench.report.Row` and
    `RecordedRow` both fit."""

    @property
    def figures(self) -> Mapping[str, float | None]: ...


def plain_rows(rows: Sequence[FigureRow]) -> list[FigureRow]:
    """The rows the chart draws: warm runs of one model (no cold, no mix)."""
    return [r for r in rows if not r.cold and not r.mix]


def _font(size: int, *, bold: bool = False) -> Font:
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    try:
        return ImageFont.truetype(name, size)
    except OSError:
        try:
            return ImageFont.load_default(size=size)
        except (TypeError, OSError):  # Pillow without FreeType: the fixed bitmap font
            return ImageFont.load_default()


def _text_width(draw: ImageDraw.ImageDraw, text: str, font: Font) -> float:
    return draw.textlength(text, font=font)


class _Panel:
    def __init__(self, draw: ImageDraw.ImageDraw, index: int, title: str, unit: str) -> None:
        self.draw = draw
        left, top, right, bottom = MARGIN
        x0 = index * PANEL_W
        self.x0, self.y0 = x0 + left, HEADER + top
        self.x1, self.y1 = x0 + PANEL_W - right, HEIGHT - bottom
        draw.text((x0 + left - 52, HEADER + 10), title, fill=AXIS, font=_font(17, bold=True))
        draw.text(
            (x0 + left - 52, HEADER + 34), f"{unit} · lower is better", fill=MUTED, font=_font(14)
        )
        self.scale: tuple[str, float, float] = ("linear", 0.0, 1.0)

    def y(self, value: float) -> float:
        kind, lo, hi = self.scale
        if kind == "log":
            value = max(value, lo)
            fraction = (math.log10(value) - math.log10(lo)) / (math.log10(hi) - math.log10(lo))
        else:
            fraction = (value - lo) / (hi - lo) if hi > lo else 0.0
        return self.y1 - min(1.0, max(0.0, fraction)) * (self.y1 - self.y0)

    def axes(self, ticks: Sequence[float], label: str, minor: Sequence[float] = ()) -> None:
        d, small = self.draw, _font(13)
        for value in minor:
            y = self.y(value)
            d.line([(self.x0, y), (self.x1, y)], fill=(242, 242, 242))
        for value in ticks:
            y = self.y(value)
            d.line([(self.x0, y), (self.x1, y)], fill=GRID)
            text = _number(value)
            d.text((self.x0 - 8 - _text_width(d, text, small), y - 8), text, fill=AXIS, font=small)
        d.line([(self.x0, self.y1), (self.x1, self.y1)], fill=AXIS, width=2)
        d.line([(self.x0, self.y0), (self.x0, self.y1)], fill=AXIS, width=2)
        d.text(
            ((self.x0 + self.x1) / 2 - _text_width(d, label, small) / 2, self.y1 + 30),
            label,
            fill=AXIS,
            font=small,
        )

    def legend(self, note: str | None) -> None:
        d, small = self.draw, _font(13)
        x: float = self.x0 - 52
        y = HEADER + 58
        for label, key, _ in SERIES:
            d.rectangle([x, y + 3, x + 12, y + 15], fill=COLOURS[key])
            d.text((x + 17, y), label, fill=AXIS, font=small)
            x += 17 + _text_width(d, label, small) + 16
        if note:
            d.text((self.x0 - 52, HEADER + 78), note, fill=MUTED, font=small)


def _number(value: float) -> str:
    if value >= 1000:
        return f"{value / 1000:g} s" if value % 1000 == 0 else f"{value:,.0f}"
    return f"{value:g}"


def _value(rows: Sequence[FigureRow], key: str, n: int, figure: str) -> float | None:
    for row in rows:
        wait = bool(row.prefer_wait)
        kind = "wait" if wait else row.bot
        if kind == key and row.n == n:
            return row.figures.get(figure)
    return None


def _groups(panel: _Panel, ns: Sequence[int]) -> list[tuple[int, float, float]]:
    """(N, left x, bar width) per group of bars."""
    slot = (panel.x1 - panel.x0) / max(1, len(ns))
    width = slot * 0.8 / len(SERIES)
    small = _font(13)
    out = []
    for i, n in enumerate(ns):
        left = panel.x0 + i * slot + slot * 0.1
        text = f"N={n}"
        centre = left + slot * 0.4
        panel.draw.text(
            (centre - _text_width(panel.draw, text, small) / 2, panel.y1 + 8),
            text,
            fill=AXIS,
            font=small,
        )
        out.append((n, left, width))
    return out


def _latency(panel: _Panel, rows: Sequence[FigureRow], ns: Sequence[int], stem: str) -> None:
    """Median bars with a 99th-percentile line, log scale from 1 ms."""
    p99s = [v for n in ns for _, key, _ in SERIES if (v := _value(rows, key, n, f"{stem}_p99_ms"))]
    top = 10 ** math.ceil(math.log10(max(p99s, default=10) * 1.3))
    panel.scale = ("log", 1.0, float(top))
    decades = [10.0**k for k in range(int(math.log10(top)) + 1)]
    panel.axes(decades, "commands at once", [d * m for d in decades[:-1] for m in (2, 5)])
    tiny = _font(12)
    for n, left, width in _groups(panel, ns):
        for j, (_, key, _) in enumerate(SERIES):
            p50 = _value(rows, key, n, f"{stem}_p50_ms")
            p99 = _value(rows, key, n, f"{stem}_p99_ms")
            if p50 is None:
                continue
            x = left + j * width
            panel.draw.rectangle([x, panel.y(p50), x + width - 3, panel.y1], fill=COLOURS[key])
            top_y = panel.y(p50)
            if p99 is not None and p99 > p50:
                mid = x + (width - 3) / 2
                top_y = panel.y(p99)
                panel.draw.line([(mid, panel.y(p50)), (mid, top_y)], fill=AXIS, width=2)
                panel.draw.line([(mid - 5, top_y), (mid + 5, top_y)], fill=AXIS, width=2)
            text = f"{p50 / 1000:.1f}s" if p50 >= 1000 else f"{p50:.0f}"
            panel.draw.text(
                (x + (width - 3) / 2 - _text_width(panel.draw, text, tiny) / 2, top_y - 16),
                text,
                fill=AXIS,
                font=tiny,
            )
    panel.legend("bar and number: median; line: 99th percentile")


def _requests(panel: _Panel, rows: Sequence[FigureRow], ns: Sequence[int]) -> None:
    values = [
        v
        for n in ns
        for _, key, _ in SERIES
        if (v := _value(rows, key, n, "api_requests_per_prediction"))
    ]
    top = max(values, default=1.0) * 1.25
    panel.scale = ("linear", 0.0, top)
    step = 1.0 if top <= 8 else 2.0
    panel.axes([i * step for i in range(int(top / step) + 1)], "commands at once")
    tiny = _font(12)
    for n, left, width in _groups(panel, ns):
        for j, (_, key, _) in enumerate(SERIES):
            value = _value(rows, key, n, "api_requests_per_prediction")
            if value is None:
                continue
            x = left + j * width
            y = panel.y(value)
            panel.draw.rectangle([x, y, x + width - 3, panel.y1], fill=COLOURS[key])
            text = f"{value:.1f}"
            panel.draw.text(
                (x + (width - 3) / 2 - _text_width(panel.draw, text, tiny) / 2, y - 16),
                text,
                fill=AXIS,
                font=tiny,
            )
    panel.legend("creates + status queries")


def machine_meta() -> dict[str, str]:
    """This machine and this moment, for a chart drawn right after a run."""
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            cpu = next(
                (ln.split(":", 1)[1].strip() for ln in handle if ln.startswith("model name")), cpu
            )
    except OSError:
        pass
    return {
        "when": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}",
    }


def _header(draw: ImageDraw.ImageDraw, meta: Mapping[str, str]) -> None:
    draw.text(
        (20, 14),
        "The bot against a naive bot: N members run /imagine at the same moment",
        fill=AXIS,
        font=_font(20, bold=True),
    )
    facts = [f"measured {meta.get('when', 'at an unknown date')}", meta.get("machine", "")]
    if meta.get("predictions"):
        facts.append(f"predictions take {meta['predictions']}")
    if meta.get("repeats"):
        facts.append(meta["repeats"])
    draw.text((20, 46), " · ".join(f for f in facts if f), fill=MUTED, font=_font(14))
    draw.line([(20, HEADER - 6), (WIDTH - 20, HEADER - 6)], fill=GRID, width=1)


def draw_chart(
    rows: Sequence[FigureRow], path: Path, meta: Mapping[str, str] | None = None
) -> Path:
    """Draw the chart of `rows` into `path`; `meta` (date, machine) defaults to now, here.

    Only the plain rows are drawn (`plain_rows`); the cold and mix rows stay in the table.
    """
    rows = plain_rows(rows)
    image = Image.new("RGB", (WIDTH, HEIGHT), "white")
    draw = ImageDraw.Draw(image)
    _header(draw, meta if meta is not None else machine_meta())
    ns = sorted({r.n for r in rows})
    _latency(
        _Panel(draw, 0, "Acknowledgement", "ms from command to first answer, log scale"),
        rows,
        ns,
        "ack",
    )
    _latency(
        _Panel(draw, 1, "Delivery overhead", "ms from image ready to result in Discord, log scale"),
        rows,
        ns,
        "delivery",
    )
    _requests(_Panel(draw, 2, "API requests per prediction", "requests"), rows, ns)
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, "PNG", optimize=True)
    return path


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m bench.chart [docs/benchmarks.md [docs/benchmarks.png]]`: redraw from the doc."""
    args = list(sys.argv[1:] if argv is None else argv)
    root = Path(__file__).resolve().parents[1]
    md = Path(args[0]) if args else root / "docs" / "benchmarks.md"
    png = Path(args[1]) if len(args) > 1 else md.with_suffix(".png")
    rows, meta = parse_markdown(md.read_text(encoding="utf-8"))
    draw_chart(rows, png, meta)
    print(f"wrote {png} from the figures recorded in {md}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())


__all__ = ["COLOURS", "draw_chart", "machine_meta", "main", "plain_rows"]
