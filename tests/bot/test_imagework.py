"""Image work is bounded: Pillow refuses what the bot refuses, and no more than two decodes or
re-encodes run at once in the process, downloads and deliveries together."""

from __future__ import annotations

import asyncio
import io
import threading
import time
import warnings
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest
from PIL import Image

import bot.cometapi.download as download
import bot.imagefit as imagefit
from bot import imagework
from bot.cometapi import PredictionClient
from bot.imagefit import fit_all
from tests.fakes.cometapi import FakeCometAPI, blank_png


def test_install_sets_pillows_limit_and_makes_its_bomb_warning_an_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """After install, Pillow itself refuses an image over 40 MP when it opens it."""
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", Image.MAX_IMAGE_PIXELS)
    with warnings.catch_warnings():
        warnings.simplefilter("default")
        imagework.install_image_limits(tune_malloc=False)
        assert Image.MAX_IMAGE_PIXELS == imagework.MAX_PIXELS == 40_000_000
        with pytest.raises(Image.DecompressionBombWarning):
            Image.open(io.BytesIO(blank_png(8001, 5000)))


def test_large_freed_buffers_go_back_to_the_system_on_linux() -> None:
    """glibc's mmap threshold can be fixed (what keeps the benchmark's peak under 1 GB)."""
    import sys

    assert imagework.return_large_buffers() is sys.platform.startswith("linux")


class Peak:
    """Counts how many wrapped calls run at the same moment, across threads."""

    def __init__(self) -> None:
        self.now = self.peak = self.calls = 0
        self._lock = threading.Lock()

    def wrap(self, work: Callable[..., Any]) -> Callable[..., Any]:
        def wrapped(*args: Any) -> Any:
            with self._lock:
                self.now += 1
                self.calls += 1
                self.peak = max(self.peak, self.now)
            try:
                time.sleep(0.05)  # long enough for any third call to overlap
                return work(*args)
            finally:
                with self._lock:
                    self.now -= 1

        return wrapped


async def test_downloads_and_fitting_share_two_decode_slots(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Six downloads' checks and six fits at once: never more than two at the same moment."""
    big = io.BytesIO()
    Image.effect_noise((600, 400), 40).convert("RGB").save(big, "PNG")  # about 0.5 MB
    images = [download.inspect_image(big.getvalue()) for _ in range(6)]
    peak = Peak()
    monkeypatch.setattr(download, "inspect_image", peak.wrap(download.inspect_image))
    monkeypatch.setattr(imagefit, "fit_image", peak.wrap(imagefit.fit_image))
    async with FakeCometAPI(duration=0.0, start_delay=0.0) as fake, aiohttp.ClientSession() as s:
        client = PredictionClient(s, base_url=fake.base_url, api_key=fake.api_key)
        created = await client.create(
            "black-forest-labs/flux-schnell", {"prompt": "x", "num_outputs": 4}
        )
        done = await client.get(created.id)
        urls = [*done.output, *done.output[:2]]
        results = await asyncio.gather(
            *(client.download(url) for url in urls), fit_all(images, limit=200_000)
        )
    assert len(results) == 7 and len(results[-1]) == 6
    assert peak.calls == 12
    assert peak.peak == imagework.DECODE_SLOTS == 2
