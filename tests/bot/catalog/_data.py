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
FLUX_PRO = "black-forest-labs/flux-pro"
FLUX2_PRO = "black-forest-labs/flux-2-pro"
FLUX2_DEV = "black-forest-labs/flux-2-dev"
FLUX2_FLEX = "black-forest-labs/flux-2-flex"
ALL_MODELS = (
    SCHNELL,
    DEV,
    PRO,
    ULTRA,
    KONTEXT_PRO,
    KONTEXT_MAX,
    FLUX_PRO,
    FLUX2_PRO,
    FLUX2_DEV,
    FLUX2_FLEX,
)
TEXT_MODELS = (SCHNELL, DEV, PRO, ULTRA, FLUX_PRO, FLUX2_PRO, FLUX2_DEV, FLUX2_FLEX)
BLEND_MODELS = (FLUX2_PRO, FLUX2_DEV, FLUX2_FLEX)
IMAGE_URL = "https://cdn.discordapp.com/attachments/1/2/cat.png"


def counter(start: int = 1000) -> Callable[[], int]:
    """A deterministic rng: start, start + 1, ..."""
    numbers = itertools.count(start)
    return lambda: next(numbers)
