"""CometAPI's whole FLUX lineup: the four models added for issue #19 carry the fields, defaults
and limits of their public schemas, and a list of images is a field type of its own.

Sources (docs/decisions/020-variations-and-lineage.md has the detail): Replicate's API pages
flux-2-pro 285631b5 (the newest: 8 images, `resolution`, safety 1–5), flux-2-flex (10 images,
steps, guidance), flux-2-dev 7bba46bd (4 images, no safety tolerance), flux-pro 2b8181d8.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bot.catalog import (
    CLI_POLICY,
    Catalog,
    CatalogError,
    InputPolicy,
    InputValidationError,
    build_input,
    cli_input,
    load_catalog,
)
from tests.bot.catalog._data import (
    FLUX2_DEV,
    FLUX2_FLEX,
    FLUX2_PRO,
    FLUX_PRO,
    IMAGE_URL,
    KONTEXT_MAX,
    counter,
)

FLUX2_RATIOS = ("match_input_image", "custom", "1:1", "16:9", "3:2", "2:3", "4:5", "5:4")
FLUX2_RATIOS += ("9:16", "3:4", "4:3")
RESOLUTIONS = ("match_input_image", "0.5 MP", "1 MP", "2 MP", "4 MP")
URLS = [f"https://cdn.discordapp.com/attachments/1/{n}/ref{n}.png" for n in range(1, 12)]

LINEUP_FACTS: list[tuple[str, str, str, Any]] = [
    (FLUX2_PRO, "input_images", "type", "images"),
    (FLUX2_PRO, "input_images", "option", "images"),
    (FLUX2_PRO, "input_images", "max_items", 8),
    (FLUX2_PRO, "aspect_ratio", "choices", FLUX2_RATIOS),
    (FLUX2_PRO, "resolution", "choices", RESOLUTIONS),
    (FLUX2_PRO, "resolution", "default", "1 MP"),
    (FLUX2_PRO, "width", "maximum", 2048),
    (FLUX2_PRO, "width", "requires", {"aspect_ratio": "custom"}),
    (FLUX2_PRO, "safety_tolerance", "maximum", 5),
    (FLUX2_PRO, "safety_tolerance", "safety", True),
    (FLUX2_FLEX, "input_images", "max_items", 10),
    (FLUX2_FLEX, "steps", "default", 30),
    (FLUX2_FLEX, "steps", "maximum", 50),
    (FLUX2_FLEX, "guidance", "minimum", 1.5),
    (FLUX2_FLEX, "guidance", "default", 4.5),
    (FLUX2_FLEX, "prompt_upsampling", "default", True),
    (FLUX2_DEV, "input_images", "max_items", 4),
    (FLUX2_DEV, "go_fast", "default", True),
    (FLUX2_DEV, "width", "maximum", 1440),
    (FLUX2_DEV, "disable_safety_checker", "user_controllable", False),
    (FLUX_PRO, "guidance", "maximum", 5),
    (FLUX_PRO, "interval", "maximum", 4),
    (FLUX_PRO, "steps", "default", None),
    (FLUX_PRO, "safety_tolerance", "maximum", 6),
    (FLUX_PRO, "image_prompt", "type", "image"),
    (KONTEXT_MAX, "input_image_4", "type", "image"),
    (KONTEXT_MAX, "input_image_4", "option", None),
]


@pytest.mark.parametrize(("model_id", "field", "attribute", "expected"), LINEUP_FACTS)
def test_lineup_field_facts(
    catalog: Catalog, model_id: str, field: str, attribute: str, expected: Any
) -> None:
    """The new models' fields carry the limits and defaults of their Replicate schemas."""
    value = getattr(catalog.get(model_id).fields[field], attribute)
    assert (dict(value) if isinstance(expected, dict) else value) == expected


@pytest.mark.parametrize(
    ("model_id", "absent"),
    [
        (FLUX2_DEV, "safety_tolerance"),
        (FLUX2_DEV, "resolution"),
        (FLUX2_PRO, "num_outputs"),
        (FLUX2_PRO, "prompt_upsampling"),
        (FLUX_PRO, "input_images"),
    ],
)
def test_lineup_fields_the_schemas_lack(catalog: Catalog, model_id: str, absent: str) -> None:
    """What the newest schema lacks is not declared: flux-pro takes no input_images (CometAPI's
    example sends some, but answers as flux-kontext-max)."""
    assert absent not in catalog.get(model_id).fields


@pytest.mark.parametrize("model_id", [FLUX2_PRO, FLUX2_DEV, FLUX2_FLEX, FLUX_PRO])
def test_the_new_models_make_one_image_and_take_text(catalog: Catalog, model_id: str) -> None:
    """Each new model is text-to-image with one output (a URL string), usable by /imagine."""
    model = catalog.get(model_id)
    assert (model.kind, model.output, model.max_outputs) == ("text-to-image", "single", 1)
    assert set(model.descriptions) == {"en-US", "zh-TW", "zh-CN", "ja"}
    assert model.usable_for("text-to-image")


def test_images_option_feeds_the_list(catalog: Catalog) -> None:
    """The `images` option becomes FLUX.2's input_images, in order, each URL kept as given."""
    result = build_input(
        catalog.get(FLUX2_PRO),
        {"prompt": "the two cats together", "images": URLS[:3]},
        rng=counter(7),
    )
    assert result["input_images"] == URLS[:3]
    assert catalog.get(FLUX2_PRO).images_field == "input_images"


@pytest.mark.parametrize(
    ("model_id", "count", "low", "high"),
    [(FLUX2_PRO, 9, 1, 8), (FLUX2_DEV, 5, 1, 4), (FLUX2_FLEX, 11, 1, 10), (FLUX2_PRO, 0, 1, 8)],
)
def test_image_count_bounds_are_refused_clearly(
    catalog: Catalog, model_id: str, count: int, low: int, high: int
) -> None:
    """Too many (or no) images is one problem naming the bounds and the count given."""
    with pytest.raises(InputValidationError) as caught:
        build_input(catalog.get(model_id), {"prompt": "x", "images": URLS[:count]})
    (problem,) = caught.value.problems
    assert problem.code == "image_count" and problem.field == "images"
    assert dict(problem.params) == {
        "minimum": low,
        "maximum": high,
        "count": count,
        "input_field": "input_images",
    }
    assert f"{low}–{high}" in str(caught.value)


def test_each_listed_image_must_be_an_image_url(catalog: Catalog) -> None:
    """One bad item refuses the list as the type it is not, like a single image field."""
    with pytest.raises(InputValidationError) as caught:
        build_input(catalog.get(FLUX2_PRO), {"prompt": "x", "images": [URLS[0], "not a url"]})
    assert caught.value.codes == ["wrong_type"]
    assert caught.value.problems[0].params["expected"] == "images"


def test_extra_never_sets_the_list_of_images(catalog: Catalog) -> None:
    """A member cannot type image URLs into extra, for a list as for a single image."""
    with pytest.raises(InputValidationError) as caught:
        build_input(catalog.get(FLUX2_PRO), {"prompt": "x"}, extra=f"input_images={IMAGE_URL}")
    # An image field is refused as an image even where an option feeds it: the sentence says
    # where images come from (attachments), which is what the member needs to hear.
    assert caught.value.codes == ["extra_image_field"]
    with pytest.raises(InputValidationError) as caught:
        build_input(catalog.get(KONTEXT_MAX), {"prompt": "x"}, extra=f"input_image_2={IMAGE_URL}")
    assert caught.value.codes == ["extra_image_field"]
    extras = [f.name for f in catalog.get(FLUX2_FLEX).extra_fields()]
    assert "input_images" not in extras and "steps" in extras


def test_the_operator_gives_a_list_as_comma_separated_urls(catalog: Catalog) -> None:
    """`generate --option images=a,b` reaches input_images as a list of two URLs."""
    result = cli_input(catalog, FLUX2_DEV, "mix", [f"images={URLS[0]},{URLS[1]}"], rng=counter(1))
    assert result["input_images"] == URLS[:2]


def test_safety_tolerance_of_flux_2_follows_the_channel_policy(catalog: Catalog) -> None:
    """FLUX.2's safety tolerance is under the NSFW policy markers: refused in a normal channel."""
    with pytest.raises(InputValidationError) as caught:
        build_input(catalog.get(FLUX2_PRO), {"prompt": "x"}, extra="safety_tolerance=5")
    assert caught.value.problems[0].params["reason"] == "nsfw_policy"
    relaxed = InputPolicy(age_restricted_channel=True, allow_nsfw=True)
    result = build_input(
        catalog.get(FLUX2_PRO), {"prompt": "x"}, extra="safety_tolerance=5", policy=relaxed
    )
    assert result["safety_tolerance"] == 5
    assert CLI_POLICY.relaxed_safety


def test_options_text_shows_the_image_bounds(catalog: Catalog) -> None:
    """/models describes the images option with its bounds."""
    described = catalog.describe(FLUX2_FLEX)
    images = next(o for o in described.options if o.name == "images")
    assert images.allowed == "1–10 images"


def _file(tmp_path: Path, field: dict[str, Any]) -> Path:
    path = tmp_path / "models.json"
    model = {
        "id": "acme/mixer",
        "kind": "text-to-image",
        "fields": {"prompt": {"type": "string", "option": "prompt"}, "refs": field},
    }
    path.write_text(json.dumps({"models": [model]}), encoding="utf-8")
    return path


def test_models_file_can_declare_a_list_of_images(tmp_path: Path) -> None:
    """An operator's model takes `images` with its own bounds, and /blend can use it."""
    catalog = load_catalog(
        _file(tmp_path, {"type": "images", "option": "images", "min_items": 2, "max_items": 3})
    )
    mixer = catalog.get("acme/mixer")
    assert mixer.images_field == "refs" and mixer.usable_for("blend")
    assert (mixer.fields["refs"].min_items, mixer.fields["refs"].max_items) == (2, 3)
    with pytest.raises(InputValidationError):
        build_input(mixer, {"prompt": "x", "images": URLS[:1]})


@pytest.mark.parametrize(
    ("field", "fragment"),
    [
        ({"type": "images", "min_items": 3, "max_items": 2}, "min_items 3 is above max_items 2"),
        ({"type": "images", "max_items": 0}, '"max_items" must be at least 1'),
        ({"type": "images", "max_items": 2.5}, '"max_items" must be a whole number'),
        ({"type": "image", "max_items": 2}, "only apply to fields of type images"),
        ({"type": "images", "default": [IMAGE_URL]}, "cannot have a default"),
        ({"type": "images", "choices": [IMAGE_URL]}, '"choices" cannot be used'),
        ({"type": "image", "option": "images"}, "needs a field of type images"),
        ({"type": "images", "option": "image"}, "needs a field of type image"),
    ],
)
def test_models_file_list_of_images_is_checked(
    tmp_path: Path, field: dict[str, Any], fragment: str
) -> None:
    """A malformed list-of-images field stops the start with one sentence naming it."""
    with pytest.raises(CatalogError) as caught:
        load_catalog(_file(tmp_path, field))
    assert fragment in str(caught.value)
    assert "'acme/mixer', field 'refs'" in str(caught.value)
