"""Vary (Subtle/Strong) is catalog data: which model remakes a result and how strongly, checked
at load; the variation input keeps the prompt (and count and format where they fit)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bot.catalog import (
    Catalog,
    CatalogError,
    InputPolicy,
    InputValidationError,
    Variation,
    VariationStep,
    load_catalog,
    reuse_input,
)
from bot.catalog.variation import carried_input
from tests.bot.catalog._data import (
    ALL_MODELS,
    DEV,
    FLUX2_PRO,
    IMAGE_URL,
    KONTEXT_PRO,
    SCHNELL,
    ULTRA,
    counter,
)

FLUX_DEV_VARIATION = Variation(DEV, "image", "prompt_strength", 0.35, 0.75)
STRICT = InputPolicy()


def test_every_builtin_model_is_varied_with_flux_dev(catalog: Catalog) -> None:
    """The built-in default: flux-dev's image + prompt_strength, 0.35 subtle, 0.75 strong."""
    for model_id in ALL_MODELS:
        assert catalog.get(model_id).variation == FLUX_DEV_VARIATION


def test_carried_input_keeps_prompt_count_and_format(catalog: Catalog) -> None:
    """A schnell result of four webp images varies into four webp flux-dev images."""
    stored = {"prompt": "a fox", "num_outputs": 4, "output_format": "webp", "seed": 9, "go_fast": 1}
    carried = carried_input(
        catalog.get(SCHNELL), stored, catalog.get(DEV), FLUX_DEV_VARIATION, "strong"
    )
    assert carried == {
        "prompt": "a fox",
        "num_outputs": 4,
        "output_format": "webp",
        "prompt_strength": 0.75,
    }


def test_carried_input_drops_what_the_target_cannot_take(catalog: Catalog) -> None:
    """Ultra's jpg crosses over; a format flux-dev lacks would not, nor ultra's raw or seed."""
    stored = {"prompt": "a fox", "output_format": "jpg", "raw": True, "seed": 3}
    carried = carried_input(
        catalog.get(ULTRA), stored, catalog.get(DEV), FLUX_DEV_VARIATION, "subtle"
    )
    assert carried == {"prompt": "a fox", "output_format": "jpg", "prompt_strength": 0.35}
    stored = {"prompt": "a fox", "output_format": "gif"}
    carried = carried_input(
        catalog.get(ULTRA), stored, catalog.get(DEV), FLUX_DEV_VARIATION, "subtle"
    )
    assert "output_format" not in carried


def test_reuse_input_builds_the_variation_through_the_same_checks(catalog: Catalog) -> None:
    """A kontext result's subtle variation: flux-dev, the chosen image, strength 0.35, new seed."""
    stored = {
        "prompt": "make it night",
        "input_image": IMAGE_URL,
        "seed": 5,
        "output_format": "png",
    }
    result = reuse_input(
        catalog.get(DEV),
        stored,
        policy=STRICT,
        options={"image": "https://cdn.discordapp.com/attachments/9/9/job-1-1.png"},
        new_seed=True,
        variation=VariationStep(catalog.get(KONTEXT_PRO), "subtle"),
        rng=counter(77),
    )
    assert result["image"].endswith("job-1-1.png")
    assert result["prompt_strength"] == 0.35
    assert result["output_format"] == "png"
    assert result["seed"] == 77 and "input_image" not in result


def test_a_variation_is_still_refused_by_the_channel_policy(catalog: Catalog) -> None:
    """The variation input passes the same validation: an over-long prompt is refused."""
    stored = {"prompt": "x" * 50, "input_images": [IMAGE_URL]}
    with pytest.raises(InputValidationError) as caught:
        reuse_input(
            catalog.get(DEV),
            stored,
            policy=InputPolicy(max_prompt_length=10),
            options={"image": IMAGE_URL},
            new_seed=True,
            variation=VariationStep(catalog.get(FLUX2_PRO), "strong"),
        )
    assert caught.value.codes == ["prompt_too_long"]


def test_reuse_input_refuses_a_variation_to_another_model(catalog: Catalog) -> None:
    """The target must be the source's variation model (a programming error otherwise)."""
    with pytest.raises(ValueError):
        reuse_input(
            catalog.get(SCHNELL),
            {"prompt": "x"},
            policy=STRICT,
            variation=VariationStep(catalog.get(SCHNELL), "subtle"),
        )


def _file(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / "models.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_models_file_turns_variation_off_for_one_model(tmp_path: Path) -> None:
    """`"variation": null` on a model removes its Vary buttons; the others keep theirs."""
    catalog = load_catalog(_file(tmp_path, {"models": [{"id": ULTRA, "variation": None}]}))
    assert catalog.get(ULTRA).variation is None
    assert catalog.get(SCHNELL).variation == FLUX_DEV_VARIATION


def test_models_file_replaces_the_default_variation(tmp_path: Path) -> None:
    """A top-level variation in MODELS_FILE is the new default for every model."""
    variation = {
        "model": DEV,
        "image_field": "image",
        "strength_field": "prompt_strength",
        "subtle": 0.2,
        "strong": 0.9,
    }
    catalog = load_catalog(_file(tmp_path, {"variation": variation, "models": []}))
    assert catalog.get(KONTEXT_PRO).variation == Variation(
        DEV, "image", "prompt_strength", 0.2, 0.9
    )


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"model": "acme/none"}, "unknown model 'acme/none'"),
        ({"model": SCHNELL}, "must be the field that"),
        ({"image_field": "input_image"}, "must be the field that"),
        ({"strength_field": "guidance", "strong": 11}, "outside 0–10"),
        ({"strength_field": "num_outputs"}, "must be a plain field"),
        ({"strength_field": "go_fast"}, "must be a number field"),
        ({"strong": "high"}, "strong must be a number"),
        ({"weak": 0.1}, "unknown key 'weak'"),
    ],
)
def test_a_malformed_variation_stops_the_start(
    tmp_path: Path, change: dict[str, Any], fragment: str
) -> None:
    """A variation that cannot work is one sentence naming the file and the problem."""
    variation = {
        "model": DEV,
        "image_field": "image",
        "strength_field": "prompt_strength",
        "subtle": 0.35,
        "strong": 0.75,
        **change,
    }
    with pytest.raises(CatalogError) as caught:
        load_catalog(_file(tmp_path, {"models": [{"id": ULTRA, "variation": variation}]}))
    assert fragment in str(caught.value)
    assert str(tmp_path) in str(caught.value)
