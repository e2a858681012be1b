"""Pictures for the fake CometAPI to serve while the README's scenes are recorded.

The test stand-in for the API normally serves plain squares; for the README it paints what the
demo prompt asks for (a lighthouse on a cliff at sunset), one palette per output, with Pillow.
These are drawings by the test stand-in, not FLUX output: the README says so.
"""

from __future__ import annotations

import math
import random

from PIL import Image, ImageDraw, ImageFilter

RGB = tuple[int, int, int]

# sky top, sky horizon, sun, sea, land, light
PALETTES: tuple[tuple[RGB, RGB, RGB, RGB, RGB, RGB], ...] = (
    ((38, 42, 92), (244, 146, 84), (255, 214, 140), (52, 70, 112), (36, 32, 44), (255, 236, 170)),
    ((22, 28, 60), (168, 96, 150), (255, 190, 170), (34, 46, 84), (24, 22, 36), (255, 244, 200)),
    (
        (90, 140, 200),
        (250, 200, 150),
        (255, 246, 210),
        (70, 120, 160),
        (58, 54, 52),
        (255, 250, 220),
    ),
    ((10, 14, 34), (46, 64, 110), (230, 236, 255), (18, 30, 58), (10, 12, 20), (255, 230, 140)),
)


def _mix(a: RGB, b: RGB, t: float) -> RGB:
    return (
        round(a[0] + (b[0] - a[0]) * t),
        round(a[1] + (b[1] - a[1]) * t),
        round(a[2] + (b[2] - a[2]) * t),
    )


def lighthouse(seed: int, index: int, size: tuple[int, int]) -> Image.Image:
    """A lighthouse on a cliff over the sea at sunset, varied by `seed` and `index`."""
    width, height = size
    rng = random.Random(seed * 7919 + index)
    top, horizon, sun, sea, land, light = PALETTES[index % len(PALETTES)]
    image = Image.new("RGB", size, top)
    draw = ImageDraw.Draw(image)
    sea_level = int(height * rng.uniform(0.58, 0.66))
    for y in range(sea_level):  # sky: a gradient down to the horizon
        draw.line([(0, y), (width, y)], fill=_mix(top, horizon, (y / sea_level) ** 1.6))
    sun_x = width * rng.uniform(0.15, 0.45)
    sun_r = width * rng.uniform(0.06, 0.1)
    glow = Image.new("RGB", size, (0, 0, 0))
    ImageDraw.Draw(glow).ellipse(
        [sun_x - 3 * sun_r, sea_level - 4 * sun_r, sun_x + 3 * sun_r, sea_level + 2 * sun_r],
        fill=_mix(horizon, sun, 0.5),
    )
    glow = glow.filter(ImageFilter.GaussianBlur(width / 14))
    image = Image.blend(image, Image.composite(glow, image, glow.convert("L")), 0.55)
    draw = ImageDraw.Draw(image)
    draw.ellipse(
        [sun_x - sun_r, sea_level - 1.6 * sun_r, sun_x + sun_r, sea_level + 0.4 * sun_r], fill=sun
    )
    for y in range(sea_level, height):  # the sea, darker towards the viewer
        draw.line([(0, y), (width, y)], fill=_mix(sea, (8, 10, 20), (y - sea_level) / height))
    for _ in range(int(height / 6)):  # the sun's path on the water
        wave = rng.uniform(sea_level + 2, height)
        spread = (wave - sea_level) * 0.35 + sun_r * 0.5
        x = sun_x + rng.uniform(-spread, spread)
        length = rng.uniform(4, 16) * width / 384
        draw.line(
            [(x, wave), (x + length, wave)], fill=_mix(sun, sea, rng.uniform(0, 0.5)), width=2
        )
    # the cliff, on the right
    cliff_left = width * rng.uniform(0.55, 0.68)
    cliff_top = sea_level - height * rng.uniform(0.12, 0.2)
    points = [(cliff_left - width * 0.08, height), (cliff_left, cliff_top + height * 0.05)]
    steps = 12
    for i in range(steps + 1):
        x = cliff_left + (width - cliff_left) * i / steps
        points.append((x, cliff_top + math.sin(i * 1.3 + seed) * height * 0.01))
    points += [(width, height)]
    draw.polygon(points, fill=land)
    # the lighthouse: a tapering tower with stripes, a lantern and its beam
    base_x = cliff_left + (width - cliff_left) * rng.uniform(0.3, 0.5)
    tower_h = height * rng.uniform(0.2, 0.26)
    base_w, top_w = width * 0.055, width * 0.038
    y0, y1 = cliff_top, cliff_top - tower_h
    stripes = 5
    for s in range(stripes):
        a, b = y0 - (y0 - y1) * s / stripes, y0 - (y0 - y1) * (s + 1) / stripes
        wa = base_w + (top_w - base_w) * s / stripes
        wb = base_w + (top_w - base_w) * (s + 1) / stripes
        colour = (236, 230, 222) if s % 2 == 0 else (190, 60, 56)
        draw.polygon(
            [
                (base_x - wa / 2, a),
                (base_x + wa / 2, a),
                (base_x + wb / 2, b),
                (base_x - wb / 2, b),
            ],
            fill=_mix(colour, land, 0.35),
        )
    lantern = width * 0.03
    draw.rectangle([base_x - lantern / 2, y1 - lantern, base_x + lantern / 2, y1], fill=light)
    draw.polygon(
        [
            (base_x - lantern * 0.7, y1 - lantern),
            (base_x + lantern * 0.7, y1 - lantern),
            (base_x, y1 - lantern * 1.8),
        ],
        fill=land,
    )
    beam = Image.new("L", size, 0)
    angle = rng.uniform(0.05, 0.25)
    ImageDraw.Draw(beam).polygon(
        [
            (base_x, y1 - lantern / 2),
            (0, y1 - lantern / 2 - width * angle - height * 0.08),
            (0, y1 - lantern / 2 - width * angle + height * 0.05),
        ],
        fill=90,
    )
    beam = beam.filter(ImageFilter.GaussianBlur(width / 60))
    image = Image.composite(Image.new("RGB", size, light), image, beam)
    return image


__all__ = ["lighthouse"]
