"""cli_input: `--option key=value` goes through the same validation as the slash commands."""

from __future__ import annotations

from typing import Any

import pytest

from bot.catalog import Catalog, InputPolicy, InputValidationError, UnknownModelError, cli_input
from tests.bot.catalog._data import DEV, IMAGE_URL, KONTEXT_PRO, PRO, SCHNELL, counter


@pytest.mark.parametrize(
    ("model_id", "pairs", "expected"),
    [
        (SCHNELL, [], {"num_outputs": 1, "output_format": "webp"}),
        (
            SCHNELL,
            ["count=3", "format=png", "quality=70"],
            {"num_outputs": 3, "output_format": "png", "output_quality": 70},
        ),
        (
            SCHNELL,
            ["num_outputs=2", "output_format=jpg"],
            {"num_outputs": 2, "output_format": "jpg"},
        ),
        (SCHNELL, ["seed=9", "aspect_ratio=16:9"], {"seed": 9, "aspect_ratio": "16:9"}),
        (SCHNELL, ["megapixels=0.25", "go_fast=no"], {"megapixels": "0.25", "go_fast": False}),
        (SCHNELL, ['megapixels="1"'], {"megapixels": "1"}),
        (DEV, [f"image={IMAGE_URL}", "guidance=4.5"], {"image": IMAGE_URL, "guidance": 4.5}),
        (KONTEXT_PRO, [f"image={IMAGE_URL}"], {"input_image": IMAGE_URL}),
        (PRO, ["aspect_ratio=custom", "width=512", "height= 768 "], {"width": 512, "height": 768}),
        (PRO, ["safety_tolerance=5"], {"safety_tolerance": 5}),
    ],
)
def test_cli_input(
    catalog: Catalog, model_id: str, pairs: list[str], expected: dict[str, Any]
) -> None:
    """Pairs name a slash option or an input field; values are typed by the catalog."""
    result = cli_input(catalog, model_id, "a lighthouse", pairs)
    assert result["prompt"] == "a lighthouse"
    for key, value in expected.items():
        assert result[key] == value


@pytest.mark.parametrize(
    ("model_id", "pairs", "codes"),
    [
        (SCHNELL, ["count=9"], ["out_of_range"]),
        (PRO, ["count=2"], ["count_unsupported"]),
        (SCHNELL, ["steps=4"], ["unknown_extra_field"]),
        (SCHNELL, ["count"], ["extra_syntax"]),
        (SCHNELL, ["count=2", "count=3"], ["extra_syntax"]),
        (SCHNELL, ["count=2", "num_outputs=3"], ["extra_conflicts_option"]),
        (SCHNELL, ["prompt=other"], ["extra_conflicts_option"]),
        (SCHNELL, ["disable_safety_checker=true"], ["not_user_controllable"]),
        (SCHNELL, ["count", "format=gif"], ["extra_syntax", "not_in_choices"]),
    ],
)
def test_cli_input_refusals(
    catalog: Catalog, model_id: str, pairs: list[str], codes: list[str]
) -> None:
    """CLI refusals are the same problems as the slash commands', all at once."""
    with pytest.raises(InputValidationError) as caught:
        cli_input(catalog, model_id, "p", pairs)
    assert caught.value.codes == codes
    assert str(caught.value)


def test_cli_policy_can_be_strict(catalog: Catalog) -> None:
    """The CLI's relaxed safety policy can be replaced by the caller."""
    with pytest.raises(InputValidationError) as caught:
        cli_input(catalog, PRO, "p", ["safety_tolerance=5"], policy=InputPolicy())
    assert caught.value.codes == ["not_user_controllable"]


def test_cli_rng_and_unknown_model(catalog: Catalog) -> None:
    """The seed comes from the injected rng; an unknown model raises UnknownModelError."""
    assert cli_input(catalog, SCHNELL, "p", [], rng=counter(31))["seed"] == 31
    with pytest.raises(UnknownModelError):
        cli_input(catalog, "acme/none", "p", [])
