"""CPU-heavy image work, bounded: a pixel limit read from the header, two decodes at a time.

An image's cost is its pixels, not its bytes: a 0.14 MB PNG of 12,000 × 12,000 decodes to
144 MB (432 MB in colour), and Pillow only warns below 179 M pixels. So every image the bot
opens is sized from its header first (`check_pixels`, before any decode) and refused above
`MAX_PIXELS`; and every decode, verify or re-encode runs through `run_image_work`, which lets
at most `DECODE_SLOTS` run at once in the whole process (a download's check and the
presenter's fitting share them), each in a worker thread. The slots are taken in the event
loop, before the thread: a queued decode waits without holding one of the default executor's
threads, which aiohttp's DNS lookups need too.

`install_image_limits()` (called once by `python -m bot`) also sets Pillow's own
`MAX_IMAGE_PIXELS` to the same limit and turns its bomb warning into an error, for any image
opened elsewhere in the process (the checks here do not depend on it); and it fixes glibc's
mmap threshold at 1 MB. By default that threshold grows, up to 32 MB, each time a large
buffer is freed, and from then on every downloaded file and Pillow block (16 MB) comes from
the heap, where a freed one is kept rather than given back: in the memory benchmark
(docs/benchmarks.md) 8 jobs of 4 images at the pixel limit peaked at 1.37 GB of RSS with the
default and 0.94 GB with the threshold fixed. (`MALLOC_MMAP_THRESHOLD_=1048576` in the
environment does the same.)
"""

from __future__ import annotations

import asyncio
import ctypes
import sys
import warnings
import weakref
from collections.abc import Callable
from typing import TypeVar

from PIL import Image

MAX_PIXELS = 40_000_000  # 40 megapixels: 8x the largest FLUX output (about 4 MP)
DECODE_SLOTS = 2  # decodes and re-encodes at once, for the whole process
_M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter
_MMAP_THRESHOLD = 1 << 20

T = TypeVar("T")

_slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary()
)


class TooManyPixels(Exception):
    """The image's header says it has more pixels than the bot decodes."""

    def __init__(self, width: int, height: int) -> None:
        super().__init__(
            f"the image is {width}x{height} ({width * height / 1e6:.1f} megapixels); "
            f"the limit is {MAX_PIXELS / 1e6:g} megapixels"
        )
        self.width = width
        self.height = height


def check_pixels(size: tuple[int, int]) -> None:
    """Raise TooManyPixels for a (width, height) over MAX_PIXELS (read from the header)."""
    width, height = size
    if width * height > MAX_PIXELS:
        raise TooManyPixels(width, height)


def install_image_limits(*, tune_malloc: bool = True) -> None:
    """Pillow refuses what the bot refuses, process-wide (its limit, its warning an error),
    and large freed buffers go back to the system (see the module's docstring)."""
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    warnings.filterwarnings("error", category=Image.DecompressionBombWarning)
    if tune_malloc:
        return_large_buffers()


def return_large_buffers() -> bool:
    """Fix glibc's mmap threshold at 1 MB; False where there is no glibc mallopt."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD))


def _loop_slots() -> asyncio.Semaphore:
    # One semaphore per event loop: the bot runs one, tests run one per test, and an asyncio
    # semaphore belongs to the loop it first waited in.
    loop = asyncio.get_running_loop()
    slots = _slots.get(loop)
    if slots is None:
        slots = _slots[loop] = asyncio.Semaphore(DECODE_SLOTS)
    return slots


async def run_image_work(work: Callable[..., T], *args: object) -> T:
    """Run `work(*args)` in a thread once one of the process's decode slots is free."""
    async with _loop_slots():
        return await asyncio.to_thread(work, *args)


__all__ = [
    "DECODE_SLOTS",
    "MAX_PIXELS",
    "TooManyPixels",
    "check_pixels",
    "install_image_limits",
    "return_large_buffers",
    "run_image_work",
]
