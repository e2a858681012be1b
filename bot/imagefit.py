"""Fit an image under an upload limit by re-encoding, then downscaling.

Pure CPU work on bytes (no discord, no network). `fit_all` runs it for a delivery in one of
the process's decode slots (`bot.imagework`), so a burst of large results never decodes more
than two images at once.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from PIL import Image

from bot.imagework import check_pixels, run_image_work

# Quality steps tried before shrinking: most FLUX outputs fit at 90 once re-encoded as JPEG
# or WebP, and each step below costs visible detail.
QUALITY_STEPS = (90, 80, 70)
SCALE_STEP = 0.8
MIN_SIDE = 256


class ImageTooLarge(Exception):
    """Even the smallest acceptable version is over the limit."""


@dataclass(frozen=True)
class FittedImage:
    data: bytes
    extension: str
    width: int
    height: int
    changed: bool


class ImageBytes(Protocol):
    """What fitting needs of an image (`bot.cometapi.DownloadedImage` is one)."""

    @property
    def data(self) -> bytes: ...
    @property
    def extension(self) -> str: ...


async def fit_all(images: Sequence[ImageBytes], limit: int) -> list[FittedImage]:
    """Fit each image under `limit` (ImageTooLarge if one cannot).

    One slot for the whole delivery, its images one after the other: a job's fitted copies
    then exist only while its own slot works, so at most two deliveries hold them at once
    (with a slot per image, every waiting delivery kept the copies made so far).
    """
    return await run_image_work(_fit_each, [(i.data, i.extension) for i in images], limit)


def _fit_each(images: list[tuple[bytes, str]], limit: int) -> list[FittedImage]:
    return [fit_image(data, extension, limit) for data, extension in images]


def fit_image(data: bytes, extension: str, limit: int) -> FittedImage:
    """Return the image unchanged when it fits, else the best version that does."""
    with Image.open(io.BytesIO(data)) as probe:
        width, height = probe.size
    check_pixels((width, height))  # downloads were checked; anything else is checked here
    if len(data) <= limit:
        return FittedImage(data, extension, width, height, changed=False)
    opened = Image.open(io.BytesIO(data))
    mode = "RGBA" if opened.mode in ("RGBA", "LA", "P") else "RGB"
    # Already in the mode: encoded as it is. A converted copy would double the memory of the
    # largest images (120 MB for 40 MP) for nothing. (In-memory bytes: nothing to close.)
    image = opened if opened.mode == mode else opened.convert(mode)
    image.load()
    # Keep transparency in WebP; everything else goes to JPEG, which compresses photos best.
    target = "webp" if image.mode == "RGBA" else "jpg"
    current = image
    while True:
        for quality in QUALITY_STEPS:
            encoded = _encode(current, target, quality)
            if len(encoded) <= limit:
                return FittedImage(encoded, target, current.width, current.height, changed=True)
        new_w, new_h = int(current.width * SCALE_STEP), int(current.height * SCALE_STEP)
        if min(new_w, new_h) < MIN_SIDE:
            raise ImageTooLarge(f"cannot fit a {width}x{height} image under {limit} bytes")
        current = image.resize((new_w, new_h), Image.Resampling.LANCZOS)


def _encode(image: Image.Image, target: str, quality: int) -> bytes:
    out = io.BytesIO()
    if target == "jpg":
        # No optimize=True: it keeps every DCT coefficient of the image in memory (130 MB
        # more at 40 MP, per image being fitted) to save a few percent of the file.
        image.save(out, "JPEG", quality=quality)
    else:
        image.save(out, "WEBP", quality=quality, method=4)
    return out.getvalue()
