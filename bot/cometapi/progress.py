"""Reading a prediction's free-text `logs`: progress, seed, and signs of the safety filter.

FLUX models print `Using seed: N`, tqdm bars such as
`  50%|█████     | 2/4 [00:01<00:01,  1.9it/s]` and `Total safe images: 1 out of 1`.
The logs are not a contract, so every function here returns None rather than guessing.
"""

from __future__ import annotations

import re

# "2/4" as tqdm prints it; digits on both sides so that "it/s" or "s/it" never match.
_FRACTION = re.compile(r"(?<![\d.])(\d+)\s*/\s*(\d+)(?![\d.])")
_PERCENT = re.compile(r"(?<![\d.])(\d{1,3}(?:\.\d+)?)\s*%")
_SEED = re.compile(r"Using seed:\s*(-?\d+)", re.IGNORECASE)
_SAFE_IMAGES = re.compile(r"Total safe images:\s*(\d+)\s*out of\s*(\d+)", re.IGNORECASE)
# Wording seen from the FLUX family and BFL's API when an output or input is filtered.
# "safety_tolerance" (an input field) must not match, hence the explicit phrases.
_SAFETY = re.compile(
    r"nsfw|safety (?:filter|checker|system|check)|flagged as sensitive|\bE005\b"
    r"|content (?:policy|moderation)|moderation|unsafe content",
    re.IGNORECASE,
)


def parse_progress(logs: str) -> float | None:
    """The last `N/M` or `N%` in the logs as a fraction in 0..1, or None when there is none."""
    best_end = -1
    value: float | None = None
    for match in _FRACTION.finditer(logs):
        done, total = int(match.group(1)), int(match.group(2))
        if total > 0 and done <= total and match.end() > best_end:
            best_end, value = match.end(), done / total
    for match in _PERCENT.finditer(logs):
        percent = float(match.group(1))
        if percent <= 100 and match.end() > best_end:
            best_end, value = match.end(), percent / 100
    return value


def parse_seed(logs: str) -> int | None:
    """The seed from `Using seed: N` (the first one printed), or None."""
    match = _SEED.search(logs)
    return int(match.group(1)) if match else None


def mentions_safety_filter(text: str) -> bool:
    """True when the text says the provider's safety filter or NSFW check refused something."""
    if _SAFETY.search(text):
        return True
    match = _SAFE_IMAGES.search(text)
    return bool(match and int(match.group(1)) == 0 and int(match.group(2)) > 0)
