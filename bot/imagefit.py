"""Fit an image under an upload limit by re-encoding, then downscaling.

Pure CPU work on bytes (no discord, no network); callers run it in a thread.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image

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


def fit_image(data: bytes, extension: str, limit: int) -> FittedImage:
    """Return the image unchanged when it fits, else the best version that does."""
    with Image.open(io.BytesIO(data)) as probe:
        width, height = probe.size
    if len(data) <= limit:
        return FittedImage(data, extension, width, height, changed=False)
    with Image.open(io.BytesIO(data)) as opened:
        image = opened.convert("RGBA" if opened.mode in ("RGBA", "LA", "P") else "RGB")
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
        image.save(out, "JPEG", quality=quality, optimize=True)
    else:
        image.save(out, "WEBP", quality=quality, method=4)
    return out.getvalue()
