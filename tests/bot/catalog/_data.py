"""Names shared by the catalog tests."""

from __future__ import annotations

import itertools
from collections.abc import Callable

SCHNELL = "black-forest-labs/flux-schnell"
DEV = "black-forest-labs/flux-dev"
PRO = "black-forest-labs/flux-1.1-pro"
ULTRA = "black-forest-labs/flux-1.1-pro-ultra"
KONTEXT_PRO = "black-forest-labs/flux-kontext-pro"
KONTEXT_MAX = "black-forest-labs/flux-kontext-max"
ALL_MODELS = (SCHNELL, DEV, PRO, ULTRA, KONTEXT_PRO, KONTEXT_MAX)
IMAGE_URL = "https://cdn.discordapp.com/attachments/1/2/cat.png"


def counter(start: int = 1000) -> Callable[[], int]:
    """A deterministic rng: start, start + 1, ..."""
    numbers = itertools.count(start)
    return lambda: next(numbers)
