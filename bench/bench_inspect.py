"""Benchmark: checking a downloaded output before it is uploaded (issue #17).

    .venv/bin/python -m bench.bench_inspect [--size 1024] [--repeat 20]

Every output is checked before it goes to Discord (`bot.cometapi.download.inspect_image`): the
type from its magic bytes, the pixel count from its header, its structure. The end-to-end
benchmark's fake API serves 64-pixel images, whose checks cost next to nothing, so it cannot
show what this step costs with real outputs; this does, on a 1-megapixel picture with detail
(a fractal blended with noise, so the encoders work as hard as on a photograph) in each of the
formats the models return. The figure is CPU time per check, the best of three rounds of
`--repeat` checks.
"""

from __future__ import annotations

import argparse
import io
import time
from collections.abc import Sequence

from PIL import Image

from bot.cometapi.download import inspect_image

FORMATS = (("WEBP", "webp"), ("JPEG", "jpg"), ("PNG", "png"))


def picture(size: int) -> Image.Image:
    """A detailed RGB picture of size × size pixels, the same on every run."""
    fractal = Image.effect_mandelbrot((size, size), (-2.0, -1.5, 1.0, 1.5), 100).convert("RGB")
    return Image.blend(fractal, Image.effect_noise((size, size), 40).convert("RGB"), 0.3)


def measure(data: bytes, repeat: int) -> float:
    """CPU milliseconds per check, the best of three rounds."""
    best = float("inf")
    for _ in range(3):
        started = time.thread_time()
        for _ in range(repeat):
            inspect_image(data)
        best = min(best, (time.thread_time() - started) / repeat)
    return best * 1000


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_inspect", description=__doc__)
    parser.add_argument("--size", type=int, default=1024, help="pixels per side")
    parser.add_argument("--repeat", type=int, default=20, help="checks per round")
    args = parser.parse_args(argv)
    image = picture(args.size)
    for pil_format, extension in FORMATS:
        buffer = io.BytesIO()
        image.save(buffer, pil_format, quality=90)
        data = buffer.getvalue()
        ms = measure(data, args.repeat)
        print(
            f"{extension:>4}: {args.size}x{args.size}, {len(data) // 1024} KB: "
            f"{ms:.2f} ms CPU per check"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
