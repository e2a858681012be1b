"""Images over the upload limit are re-encoded or downscaled to fit, never sent too large."""

from __future__ import annotations

import io
import os

import pytest
from PIL import Image

from bot.imagefit import ImageTooLarge, fit_image


def noisy_png(width: int, height: int) -> bytes:
    image = Image.frombytes("RGB", (width, height), os.urandom(width * height * 3))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def test_small_image_is_untouched() -> None:
    """An image under the limit is returned byte for byte."""
    data = noisy_png(32, 32)
    fitted = fit_image(data, "png", len(data) + 1)
    assert fitted.data == data and not fitted.changed and fitted.extension == "png"


def test_oversized_image_is_fitted_under_the_limit() -> None:
    """A PNG over the limit comes back smaller than the limit, still a valid image."""
    data = noisy_png(768, 768)
    limit = len(data) // 4
    fitted = fit_image(data, "png", limit)
    assert fitted.changed and len(fitted.data) <= limit
    with Image.open(io.BytesIO(fitted.data)) as image:
        image.verify()
    assert fitted.extension in ("jpg", "webp")


def test_impossible_limit_raises() -> None:
    """A limit no acceptable version can meet is reported, not ignored."""
    with pytest.raises(ImageTooLarge):
        fit_image(noisy_png(512, 512), "png", 500)
