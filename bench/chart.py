"""docs/benchmarks.png, drawn with Pillow (already a dependency): no plotting library needed.

Three panels: the distribution (CDF) of acknowledgement latency and of delivery overhead at
the reference N, bot against naive bot, and API requests per prediction for every N.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from bench.report import Row, find

WIDTH, HEIGHT = 1500, 520
PANEL_W = WIDTH // 3
MARGIN = (70, 60, 25, 70)  # left, top, right, bottom inside a panel
COLOURS = {"naive": (200, 80, 60), "bot": (40, 110, 200), "wait": (60, 160, 90)}
GRID = (225, 225, 225)
AXIS = (60, 60, 60)

Series = tuple[str, tuple[int, int, int], Sequence[float]]


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError):  # Pillow without FreeType: the fixed bitmap font
        return ImageFont.load_default()


def _nice_step(span: float, ticks: int = 5) -> float:
    raw = span / ticks if span > 0 else 1.0
    power = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        if raw <= m * power:
            return m * power
    return 10 * power


class _Panel:
    def __init__(self, draw: ImageDraw.ImageDraw, index: int, title: str) -> None:
        self.draw = draw
        left, top, right, bottom = MARGIN
        x0 = index * PANEL_W
        self.x0, self.y0 = x0 + left, top
        self.x1, self.y1 = x0 + PANEL_W - right, HEIGHT - bottom
        draw.text((x0 + left, 18), title, fill=AXIS, font=_font(17))

    def axes(
        self, x_max: float, y_max: float, x_label: str, y_label: str, *, x_ticks: bool = True
    ) -> None:
        d, small = self.draw, _font(13)
        self.x_max, self.y_max = x_max, y_max
        for value in _ticks(x_max) if x_ticks else []:
            x = self.px(value, 0)[0]
            d.line([(x, self.y0), (x, self.y1)], fill=GRID)
            d.text((x - 12, self.y1 + 6), _label(value), fill=AXIS, font=small)
        for value in _ticks(y_max):
            y = self.px(0, value)[1]
            d.line([(self.x0, y), (self.x1, y)], fill=GRID)
            d.text((self.x0 - 45, y - 7), _label(value), fill=AXIS, font=small)
        d.line([(self.x0, self.y1), (self.x1, self.y1)], fill=AXIS, width=2)
        d.line([(self.x0, self.y0), (self.x0, self.y1)], fill=AXIS, width=2)
        d.text(((self.x0 + self.x1) // 2 - 60, self.y1 + 28), x_label, fill=AXIS, font=small)
        d.text((self.x0 - 60, self.y0 - 22), y_label, fill=AXIS, font=small)

    def px(self, x: float, y: float) -> tuple[float, float]:
        fx = min(1.0, x / self.x_max) if self.x_max else 0.0
        fy = min(1.0, y / self.y_max) if self.y_max else 0.0
        return self.x0 + fx * (self.x1 - self.x0), self.y1 - fy * (self.y1 - self.y0)

    def legend(
        self, items: Sequence[tuple[str, tuple[int, int, int]]], *, bottom: bool = False
    ) -> None:
        y = self.y1 - 12 - 20 * len(items) if bottom else self.y0 + 8
        box = [self.x1 - 196, y - 4, self.x1 - 4, y + 20 * len(items)]
        self.draw.rectangle(box, fill="white", outline=GRID)
        for label, colour in items:
            self.draw.rectangle([self.x1 - 190, y + 3, self.x1 - 176, y + 13], fill=colour)
            self.draw.text((self.x1 - 170, y), label, fill=AXIS, font=_font(13))
            y += 20


def _ticks(limit: float) -> list[float]:
    step = _nice_step(limit)
    return [i * step for i in range(int(limit / step) + 1)]


def _label(value: float) -> str:
    return f"{value:.0f}" if value >= 10 or value == int(value) else f"{value:.1f}"


def _cdf(panel: _Panel, series: Sequence[Series], x_label: str) -> None:
    values = [v for _, _, vs in series for v in vs]
    if not values:
        panel.axes(1, 100, x_label, "% of jobs")
        return
    ordered = sorted(values)
    x_max = ordered[min(len(ordered) - 1, math.ceil(0.995 * len(ordered)) - 1)] * 1.05 or 1.0
    panel.axes(x_max, 100, x_label, "% of jobs")
    for _, colour, vs in series:
        data = sorted(vs)
        if not data:
            continue
        points = [panel.px(0, 0)]
        for i, v in enumerate(data, start=1):
            points.append(panel.px(v, 100 * (i - 1) / len(data)))
            points.append(panel.px(v, 100 * i / len(data)))
        panel.draw.line(points, fill=colour, width=3)
    panel.legend([(label, colour) for label, colour, vs in series if vs], bottom=True)


def _bars(panel: _Panel, ns: Sequence[int], series: Sequence[Series]) -> None:
    top = max((v for _, _, vs in series for v in vs if v == v), default=1.0)
    panel.axes(1.0, top * 1.2, "commands at once (N)", "requests", x_ticks=False)
    panel.x_max = 1.0
    slot = (panel.x1 - panel.x0) / max(1, len(ns))
    width = slot * 0.8 / max(1, len(series))
    small = _font(13)
    for i, n in enumerate(ns):
        left = panel.x0 + i * slot + slot * 0.1
        for j, (_, colour, vs) in enumerate(series):
            value = vs[i]
            if value != value:  # NaN: not measured
                continue
            _, y = panel.px(0, value)
            x = left + j * width
            panel.draw.rectangle([x, y, x + width - 3, panel.y1], fill=colour)
            panel.draw.text((x, y - 16), f"{value:.1f}", fill=AXIS, font=small)
        panel.draw.text((left + slot * 0.3, panel.y1 + 6), f"N={n}", fill=AXIS, font=small)
    panel.legend([(label, colour) for label, colour, _ in series])


def reference_n(rows: Sequence[Row]) -> int | None:
    """200 when it was run with both bots, else the largest N that was."""
    both = sorted({r.n for r in rows if r.bot == "bot"} & {r.n for r in rows if r.bot == "naive"})
    if not both:
        return None
    return 200 if 200 in both else both[-1]


def draw_chart(rows: Sequence[Row], path: Path) -> Path:
    image = Image.new("RGB", (WIDTH, HEIGHT), "white")
    draw = ImageDraw.Draw(image)
    n = reference_n(rows)
    naive = find(rows, "naive", n) if n is not None else None
    bot = find(rows, "bot", n) if n is not None else None
    wait = next((r for r in rows if r.bot == "bot" and r.n == n and r.prefer_wait), None)
    ms = lambda values: [v * 1000 for v in values]  # noqa: E731
    _cdf(
        _Panel(draw, 0, f"Acknowledgement latency, N={n}"),
        [
            ("naive bot", COLOURS["naive"], ms(naive.acks) if naive else []),
            ("bot", COLOURS["bot"], ms(bot.acks) if bot else []),
        ],
        "ms from command to first callback",
    )
    _cdf(
        _Panel(draw, 1, f"Delivery overhead, N={n}"),
        [
            ("naive bot", COLOURS["naive"], ms(naive.overheads) if naive else []),
            ("bot", COLOURS["bot"], ms(bot.overheads) if bot else []),
            ("bot, Prefer: wait", COLOURS["wait"], ms(wait.overheads) if wait else []),
        ],
        "ms from prediction done to result in Discord",
    )
    ns = sorted({r.n for r in rows})

    def per_n(bot_kind: str, prefer_wait: bool) -> list[float]:
        out = []
        for each in ns:
            row = next(
                (
                    r
                    for r in rows
                    if r.bot == bot_kind and r.n == each and bool(r.prefer_wait) == prefer_wait
                ),
                None,
            )
            value = row.figures["api_requests_per_prediction"] if row else None
            out.append(float("nan") if value is None else value)
        return out

    _bars(
        _Panel(draw, 2, "API requests per prediction (creates + polls)"),
        ns,
        [
            ("naive bot", COLOURS["naive"], per_n("naive", False)),
            ("bot", COLOURS["bot"], per_n("bot", False)),
            ("bot, Prefer: wait", COLOURS["wait"], per_n("bot", True)),
        ],
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, "PNG", optimize=True)
    return path


__all__ = ["draw_chart", "reference_n"]
