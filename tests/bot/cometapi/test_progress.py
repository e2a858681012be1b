"""Progress, seed and safety signs are read from real-looking FLUX logs."""

from __future__ import annotations

import pytest

from bot.cometapi import mentions_safety_filter, parse_progress, parse_seed

SCHNELL_LOGS = (
    "Using seed: 1846934127\n"
    "Running prediction\n"
    "running quantized prediction\n"
    "  0%|          | 0/4 [00:00<?, ?it/s]\n"
    " 25%|██▌       | 1/4 [00:00<00:00,  3.72it/s]\n"
    " 50%|█████     | 2/4 [00:00<00:00,  3.75it/s]\n"
)


def test_tqdm_logs_give_the_last_fraction() -> None:
    """The last `N/M` of a tqdm bar is the progress; `it/s` is never mistaken for one."""
    assert parse_progress(SCHNELL_LOGS) == 0.5
    assert parse_progress(SCHNELL_LOGS + "100%|██████████| 4/4 [00:01<00:00,  3.79it/s]\n") == 1.0


def test_slow_steps_print_seconds_per_iteration() -> None:
    """`s/it` rates (slow models) do not confuse the parser."""
    logs = " 10%|█         | 3/28 [00:12<01:40,  4.02s/it]"
    assert parse_progress(logs) == pytest.approx(3 / 28)


def test_a_bare_percentage_counts() -> None:
    """A log with only `N%` gives that percentage."""
    assert parse_progress("Downloading weights\nprogress 42%\n") == 0.42
    assert parse_progress("Downloading 12.5 %") == 0.125


def test_whichever_comes_last_wins() -> None:
    """A percentage after a fraction is the newer figure, and vice versa."""
    assert parse_progress("1/4 then 90%") == 0.9
    assert parse_progress("90% then 1/4") == 0.25


@pytest.mark.parametrize(
    "logs", ["", "Running prediction", "5/0", "7/3", "150%", "Total safe images: 1 out of 1"]
)
def test_no_progress_is_none(logs: str) -> None:
    """No figure, or an impossible one, gives None rather than a guess."""
    assert parse_progress(logs) is None


def test_seed() -> None:
    """`Using seed: N` gives the seed; its absence gives None."""
    assert parse_seed(SCHNELL_LOGS) == 1846934127
    assert parse_seed("Running prediction") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Total safe images: 0 out of 1", True),
        ("Total safe images: 1 out of 1", False),
        ("NSFW content detected in image 1", True),
        ("Image was flagged as sensitive (E005)", True),
        ("safety_tolerance must be between 1 and 6", False),
        ("CUDA out of memory", False),
    ],
)
def test_safety_signs(text: str, expected: bool) -> None:
    """NSFW and safety-filter wordings are recognised; ordinary errors are not."""
    assert mentions_safety_filter(text) is expected
