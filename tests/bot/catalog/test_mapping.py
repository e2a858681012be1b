"""Slash options and extra become the model's input; every refusal has a code and its params."""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

import pytest

from bot.catalog import (
    Catalog,
    FieldSpec,
    InputPolicy,
    InputValidationError,
    ModelSpec,
    build_input,
    edit_input,
    reuse_input,
)
from tests.bot.catalog._data import (
    ALL_MODELS,
    DEV,
    FLUX2_DEV,
    FLUX2_FLEX,
    FLUX2_PRO,
    FLUX_PRO,
    IMAGE_URL,
    KONTEXT_MAX,
    KONTEXT_PRO,
    PRO,
    SCHNELL,
    ULTRA,
    counter,
)

STRICT = InputPolicy()
ADULT_NO_NSFW = InputPolicy(age_restricted_channel=True, allow_nsfw=False)
NSFW_SERVER_PUBLIC_CHANNEL = InputPolicy(age_restricted_channel=False, allow_nsfw=True)
RELAXED = InputPolicy(age_restricted_channel=True, allow_nsfw=True)

# Every declared default, per model (the seed comes from the rng and is checked apart).
DEFAULTS: dict[str, dict[str, Any]] = {
    SCHNELL: {
        "aspect_ratio": "1:1",
        "num_outputs": 1,
        "num_inference_steps": 4,
        "output_format": "webp",
        "output_quality": 80,
        "go_fast": True,
        "megapixels": "1",
        "disable_safety_checker": False,
    },
    DEV: {
        "prompt_strength": 0.8,
        "aspect_ratio": "1:1",
        "num_outputs": 1,
        "num_inference_steps": 28,
        "guidance": 3,
        "output_format": "webp",
        "output_quality": 80,
        "go_fast": True,
        "megapixels": "1",
        "disable_safety_checker": False,
    },
    PRO: {
        "aspect_ratio": "1:1",
        "safety_tolerance": 2,
        "prompt_upsampling": False,
        "output_format": "webp",
        "output_quality": 80,
    },
    ULTRA: {
        "raw": False,
        "aspect_ratio": "1:1",
        "output_format": "jpg",
        "safety_tolerance": 2,
        "image_prompt_strength": 0.1,
    },
    KONTEXT_PRO: {
        "aspect_ratio": "match_input_image",
        "output_format": "png",
        "safety_tolerance": 2,
        "prompt_upsampling": False,
    },
    KONTEXT_MAX: {
        "aspect_ratio": "match_input_image",
        "output_format": "png",
        "safety_tolerance": 2,
        "prompt_upsampling": False,
    },
    # Replicate's flux-pro 2b8181d8: steps and interval are deprecated there, so the bot
    # sends them only when someone sets them.
    FLUX_PRO: {
        "aspect_ratio": "1:1",
        "guidance": 3,
        "safety_tolerance": 2,
        "prompt_upsampling": False,
        "output_format": "webp",
        "output_quality": 80,
    },
    FLUX2_PRO: {
        "aspect_ratio": "1:1",
        "resolution": "1 MP",
        "safety_tolerance": 2,
        "output_format": "webp",
        "output_quality": 80,
    },
    FLUX2_DEV: {
        "aspect_ratio": "1:1",
        "go_fast": True,
        "output_format": "webp",
        "output_quality": 80,
        "disable_safety_checker": False,
    },
    FLUX2_FLEX: {
        "aspect_ratio": "1:1",
        "resolution": "1 MP",
        "steps": 30,
        "guidance": 4.5,
        "prompt_upsampling": True,
        "safety_tolerance": 2,
        "output_format": "webp",
        "output_quality": 80,
    },
}


def refusals(excinfo: pytest.ExceptionInfo[InputValidationError]) -> list[tuple[str, str | None]]:
    return [(p.code, p.field) for p in excinfo.value.problems]


@pytest.mark.parametrize("model_id", ALL_MODELS)
def test_defaults_filled(catalog: Catalog, model_id: str) -> None:
    """Only a prompt given: every declared default is filled, plus a seed drawn from the rng."""
    result = build_input(catalog.get(model_id), {"prompt": "  a red fox  "}, rng=counter(1234))
    assert result == {"prompt": "a red fox", "seed": 1234, **DEFAULTS[model_id]}
    # Field order follows the catalog so the Info button reads naturally.
    assert list(result) == [name for name in catalog.get(model_id).fields if name in result]


@pytest.mark.parametrize(
    ("model_id", "option", "value", "field", "expected"),
    [
        (SCHNELL, "aspect_ratio", "16:9", "aspect_ratio", "16:9"),
        (SCHNELL, "count", 4, "num_outputs", 4),
        (SCHNELL, "seed", 42, "seed", 42),
        (SCHNELL, "format", "png", "output_format", "png"),
        (SCHNELL, "format", "PNG", "output_format", "png"),
        (SCHNELL, "quality", 95, "output_quality", 95),
        (DEV, "count", 2, "num_outputs", 2),
        (DEV, "image", IMAGE_URL, "image", IMAGE_URL),
        (DEV, "quality", 1, "output_quality", 1),
        (PRO, "aspect_ratio", "custom", "aspect_ratio", "custom"),
        (PRO, "count", 1, "seed", 1000),  # count=1 on a one-image model adds nothing
        (PRO, "quality", 100, "output_quality", 100),
        (ULTRA, "aspect_ratio", "21:9", "aspect_ratio", "21:9"),
        (ULTRA, "format", "png", "output_format", "png"),
        (ULTRA, "seed", 0, "seed", 0),
        (KONTEXT_PRO, "image", IMAGE_URL, "input_image", IMAGE_URL),
        (KONTEXT_PRO, "aspect_ratio", "2:1", "aspect_ratio", "2:1"),
        (KONTEXT_MAX, "format", "jpg", "output_format", "jpg"),
        (KONTEXT_MAX, "seed", 2147483647, "seed", 2147483647),
    ],
)
def test_option_maps_to_field(
    catalog: Catalog, model_id: str, option: str, value: Any, field: str, expected: Any
) -> None:
    """Each slash option lands in the input field the catalog wires it to."""
    spec = catalog.get(model_id)
    result = build_input(spec, {"prompt": "p", option: value}, rng=counter())
    assert result[field] == expected
    if option == "count" and not spec.accepts_option("count"):
        assert "num_outputs" not in result


def test_none_means_not_given(catalog: Catalog) -> None:
    """An option passed as None is ignored, as Discord gives unset options."""
    options = {"prompt": "p", "aspect_ratio": None, "count": None, "seed": None, "format": None}
    options.update({"quality": None, "image": None, "model": SCHNELL})
    result = build_input(catalog.get(PRO), options, rng=counter(7))
    assert result["seed"] == 7 and result["output_format"] == "webp"


# (model, options, extra, expected [(code, field, params subset)]).
REFUSALS: list[tuple[str, dict[str, Any], Any, list[tuple[str, str | None, dict[str, Any]]]]] = [
    (SCHNELL, {"prompt": "   "}, None, [("empty_prompt", "prompt", {})]),
    (SCHNELL, {"prompt": None}, None, [("empty_prompt", "prompt", {})]),
    (
        SCHNELL,
        {"prompt": "x" * 2001},
        None,
        [("prompt_too_long", "prompt", {"maximum": 2000, "length": 2001})],
    ),
    (
        ULTRA,
        {"prompt": "p", "quality": 90},
        None,
        [
            (
                "option_not_accepted",
                "quality",
                {"option": "quality", "accepted": ["prompt", "aspect_ratio", "seed", "format"]},
            )
        ],
    ),
    (
        SCHNELL,
        {"prompt": "p", "image": IMAGE_URL},
        None,
        [("option_not_accepted", "image", {"option": "image", "model": SCHNELL})],
    ),
    (
        KONTEXT_PRO,
        {"prompt": "p", "format": "webp"},
        None,
        [
            (
                "not_in_choices",
                "format",
                {"value": "webp", "allowed": ["jpg", "png"], "input_field": "output_format"},
            )
        ],
    ),
    (
        SCHNELL,
        {"prompt": "p", "aspect_ratio": "2:1"},
        None,
        [
            (
                "not_in_choices",
                "aspect_ratio",
                {
                    "value": "2:1",
                    "allowed": [
                        "1:1",
                        "16:9",
                        "21:9",
                        "3:2",
                        "2:3",
                        "4:5",
                        "5:4",
                        "3:4",
                        "4:3",
                        "9:16",
                        "9:21",
                    ],
                },
            )
        ],
    ),
    (
        DEV,
        {"prompt": "p", "aspect_ratio": "match_input_image"},
        None,
        [("not_in_choices", "aspect_ratio", {"value": "match_input_image"})],
    ),
    (
        SCHNELL,
        {"prompt": "p", "count": 5},
        None,
        [
            (
                "out_of_range",
                "count",
                {"value": 5, "minimum": 1, "maximum": 4, "input_field": "num_outputs"},
            )
        ],
    ),
    (
        SCHNELL,
        {"prompt": "p", "count": 0},
        None,
        [("out_of_range", "count", {"minimum": 1, "maximum": 4})],
    ),
    (
        SCHNELL,
        {"prompt": "p", "quality": 101},
        None,
        [("out_of_range", "quality", {"minimum": 0, "maximum": 100})],
    ),
    (
        SCHNELL,
        {"prompt": "p", "seed": -1},
        None,
        [("out_of_range", "seed", {"minimum": 0, "maximum": 2147483647})],
    ),
    (
        SCHNELL,
        {"prompt": "p"},
        "num_inference_steps=5",
        [("out_of_range", "num_inference_steps", {"maximum": 4})],
    ),
    (
        DEV,
        {"prompt": "p"},
        "guidance=10.5",
        [("out_of_range", "guidance", {"value": 10.5, "maximum": 10})],
    ),
    (
        PRO,
        {"prompt": "p", "aspect_ratio": "custom"},
        "width=500",
        [("not_multiple", "width", {"value": 500, "multiple_of": 32})],
    ),
    (
        PRO,
        {"prompt": "p", "aspect_ratio": "custom"},
        "height=2048",
        [("out_of_range", "height", {"maximum": 1440})],
    ),
    (
        SCHNELL,
        {"prompt": "p", "count": "two"},
        None,
        [("wrong_type", "count", {"expected": "integer"})],
    ),
    (
        SCHNELL,
        {"prompt": "p", "count": True},
        None,
        [("wrong_type", "count", {"expected": "integer"})],
    ),
    (
        SCHNELL,
        {"prompt": "p", "count": 1.5},
        None,
        [("wrong_type", "count", {"expected": "integer"})],
    ),
    (
        SCHNELL,
        {"prompt": "p"},
        "go_fast=maybe",
        [("wrong_type", "go_fast", {"expected": "boolean"})],
    ),
    (DEV, {"prompt": "p"}, "guidance=lots", [("wrong_type", "guidance", {"expected": "number"})]),
    (DEV, {"prompt": "p"}, "guidance=nan", [("wrong_type", "guidance", {"expected": "number"})]),
    (
        KONTEXT_PRO,
        {"prompt": "p", "image": "file:///etc/passwd"},
        None,
        [("wrong_type", "image", {"expected": "image", "input_field": "input_image"})],
    ),
    (
        SCHNELL,
        {"prompt": "p"},
        "steps=4",
        [
            (
                "unknown_extra_field",
                "steps",
                {"allowed": ["num_inference_steps", "go_fast", "megapixels"]},
            )
        ],
    ),
    (
        SCHNELL,
        {"prompt": "p"},
        "num_inference_step=4",
        [("unknown_extra_field", "num_inference_step", {"suggestion": "num_inference_steps"})],
    ),
    (
        SCHNELL,
        {"prompt": "p"},
        "count=2",
        [("unknown_extra_field", "count", {"suggestion": "num_outputs"})],
    ),
    (
        SCHNELL,
        {"prompt": "p"},
        "go_fast=",
        [("extra_syntax", "go_fast", {"reason": "missing_value"})],
    ),
    (
        SCHNELL,
        {"prompt": "p"},
        "disable_safety_checker=true",
        [("not_user_controllable", "disable_safety_checker", {"reason": "never"})],
    ),
    (
        SCHNELL,
        {"prompt": "p", "count": 2},
        "num_outputs=3",
        [("extra_option_field", "num_outputs", {"option": "count"})],
    ),
    (
        SCHNELL,
        {"prompt": "p"},
        "num_outputs=3",
        [
            (
                "extra_option_field",
                "num_outputs",
                {
                    "option": "count",
                    "allowed": ["num_inference_steps", "go_fast", "megapixels"],
                },
            )
        ],
    ),
    (
        SCHNELL,
        {"prompt": "p"},
        "prompt=other",
        [("extra_option_field", "prompt", {"option": "prompt"})],
    ),
    (
        DEV,
        {"prompt": "p"},
        f"image={IMAGE_URL}",
        [
            (
                "extra_image_field",
                "image",
                {
                    "allowed": [
                        "prompt_strength",
                        "num_inference_steps",
                        "guidance",
                        "go_fast",
                        "megapixels",
                    ]
                },
            )
        ],
    ),
    (
        PRO,
        {"prompt": "p"},
        f"image_prompt={IMAGE_URL}",
        [
            (
                "extra_image_field",
                "image_prompt",
                {"allowed": ["width", "height", "prompt_upsampling"]},
            )
        ],
    ),
    (
        PRO,
        {"prompt": "p"},
        "width=512",
        [
            (
                "requires",
                "width",
                {"requires": {"aspect_ratio": "custom"}, "actual": {"aspect_ratio": "1:1"}},
            )
        ],
    ),
    (
        PRO,
        {"prompt": "p", "aspect_ratio": "16:9"},
        "width=512; height=512",
        [
            ("requires", "width", {"requires": {"aspect_ratio": "custom"}}),
            ("requires", "height", {}),
        ],
    ),
    (
        PRO,
        {"prompt": "p", "count": 2},
        None,
        [("count_unsupported", "count", {"model": PRO, "maximum": 1, "value": 2})],
    ),
    (ULTRA, {"prompt": "p", "count": 4}, None, [("count_unsupported", "count", {"model": ULTRA})]),
    (
        KONTEXT_PRO,
        {"prompt": "p", "count": 3},
        None,
        [("count_unsupported", "count", {"model": KONTEXT_PRO})],
    ),
    (
        KONTEXT_MAX,
        {"prompt": "p", "count": 0},
        None,
        [("count_unsupported", "count", {"value": 0})],
    ),
]


@pytest.mark.parametrize(
    ("model_id", "options", "extra", "expected"),
    REFUSALS,
    ids=[f"{i}-{r[0].split('/')[-1]}-{r[3][0][0]}" for i, r in enumerate(REFUSALS)],
)
def test_refusals(
    catalog: Catalog,
    model_id: str,
    options: dict[str, Any],
    extra: Any,
    expected: list[tuple[str, str | None, dict[str, Any]]],
) -> None:
    """A wrong option or extra is refused with its code, the name the user used, and the params."""
    with pytest.raises(InputValidationError) as caught:
        build_input(catalog.get(model_id), options, extra=extra, rng=counter())
    problems = caught.value.problems
    assert [(p.code, p.field) for p in problems] == [(c, f) for c, f, _ in expected]
    for problem, (_, _, params) in zip(problems, expected, strict=True):
        for key, value in params.items():
            assert problem.params[key] == value, (key, problem.params)
    assert str(caught.value)  # readable summary for the CLI


def test_every_problem_reported_at_once(catalog: Catalog) -> None:
    """All problems of one request come back together, not one per attempt."""
    options = {"prompt": "", "count": 2, "format": "webp", "quality": 50, "image": "nope"}
    with pytest.raises(InputValidationError) as caught:
        build_input(catalog.get(KONTEXT_PRO), options, extra="foo=1; safety_tolerance=4")
    assert sorted(caught.value.codes) == sorted(
        [
            "empty_prompt",
            "count_unsupported",
            "option_not_accepted",
            "not_in_choices",
            "wrong_type",
            "unknown_extra_field",
            "not_user_controllable",
        ]
    )


@pytest.mark.parametrize(
    ("options", "extra", "fragments"),
    [
        ({"prompt": "p", "count": 2}, None, ["flux-1.1-pro gives one image per request"]),
        (
            {"prompt": "p", "format": "gif"},
            None,
            ["format: 'gif' is not allowed; use one of 'webp', 'jpg', 'png'"],
        ),
        ({"prompt": "p"}, "width=64", ["width: 64 is out of range; use 256–1440"]),
        ({"prompt": "p"}, "width=512", ["width can only be used with aspect_ratio='custom'"]),
        ({"prompt": "p"}, "safety_tolerance=3", ["age-restricted channel"]),
    ],
)
def test_error_text_is_readable(
    catalog: Catalog, options: dict[str, Any], extra: str | None, fragments: list[str]
) -> None:
    """str(InputValidationError) is plain English naming the field and what would work."""
    with pytest.raises(InputValidationError) as caught:
        build_input(catalog.get(PRO), options, extra=extra)
    for fragment in fragments:
        assert fragment in str(caught.value)


@pytest.mark.parametrize(
    ("model_id", "extra", "expected"),
    [
        (
            SCHNELL,
            "num_inference_steps=2; go_fast=off; megapixels=0.25",
            {"num_inference_steps": 2, "go_fast": False, "megapixels": "0.25"},
        ),
        (SCHNELL, 'megapixels="1"', {"megapixels": "1"}),
        (
            DEV,
            "guidance=3.5; prompt_strength=1; num_inference_steps=50",
            {"guidance": 3.5, "prompt_strength": 1, "num_inference_steps": 50},
        ),
        (DEV, {"guidance": 2, "go_fast": "yes"}, {"guidance": 2, "go_fast": True}),
        (PRO, "prompt_upsampling=yes", {"prompt_upsampling": True}),
        (ULTRA, "raw=true; image_prompt_strength=0.5", {"raw": True, "image_prompt_strength": 0.5}),
        (KONTEXT_PRO, "prompt_upsampling=on", {"prompt_upsampling": True}),
    ],
)
def test_extra_sets_fields(
    catalog: Catalog, model_id: str, extra: Any, expected: dict[str, Any]
) -> None:
    """extra sets the model's extra fields (no option feeds them), typed by the catalog."""
    result = build_input(catalog.get(model_id), {"prompt": "p"}, extra=extra, rng=counter())
    for key, value in expected.items():
        assert result[key] == value
        assert type(result[key]) is type(value)


def test_custom_size_with_aspect_ratio_custom(catalog: Catalog) -> None:
    """width and height are accepted once aspect_ratio is custom, and never filled otherwise."""
    spec = catalog.get(PRO)
    result = build_input(
        spec, {"prompt": "p", "aspect_ratio": "custom"}, extra="width=1024; height=768"
    )
    assert (result["width"], result["height"]) == (1024, 768)
    plain = build_input(spec, {"prompt": "p", "aspect_ratio": "custom"})
    assert "width" not in plain and "height" not in plain


# (model, policy, extra, with image, expected: int value or refusal code)
SAFETY_CASES: list[tuple[str, InputPolicy, str, bool, Any]] = [
    (PRO, STRICT, "safety_tolerance=5", False, "not_user_controllable"),
    (PRO, ADULT_NO_NSFW, "safety_tolerance=5", False, "not_user_controllable"),
    (PRO, NSFW_SERVER_PUBLIC_CHANNEL, "safety_tolerance=5", False, "not_user_controllable"),
    (PRO, RELAXED, "safety_tolerance=5", False, 5),
    (PRO, RELAXED, "safety_tolerance=6", False, 6),
    (PRO, RELAXED, "safety_tolerance=7", False, "out_of_range"),
    (ULTRA, STRICT, "safety_tolerance=1", False, "not_user_controllable"),
    (ULTRA, RELAXED, "safety_tolerance=6", False, 6),
    (KONTEXT_PRO, STRICT, "safety_tolerance=2", True, "not_user_controllable"),
    (KONTEXT_PRO, RELAXED, "safety_tolerance=6", False, 6),
    (KONTEXT_PRO, RELAXED, "safety_tolerance=2", True, 2),
    (KONTEXT_PRO, RELAXED, "safety_tolerance=3", True, "out_of_range"),
    (KONTEXT_MAX, RELAXED, "safety_tolerance=0", True, 0),
    (KONTEXT_MAX, RELAXED, "safety_tolerance=6", True, "out_of_range"),
    (SCHNELL, RELAXED, "disable_safety_checker=true", False, "not_user_controllable"),
    (DEV, RELAXED, "disable_safety_checker=false", True, "not_user_controllable"),
]


@pytest.mark.parametrize(("model_id", "policy", "extra", "with_image", "expected"), SAFETY_CASES)
def test_safety_policy(
    catalog: Catalog,
    model_id: str,
    policy: InputPolicy,
    extra: str,
    with_image: bool,
    expected: Any,
) -> None:
    """Safety tolerance is the user's only in age-restricted channels of NSFW servers, capped with an image."""
    spec = catalog.get(model_id)
    options: dict[str, Any] = {"prompt": "p", "image": IMAGE_URL if with_image else None}
    if isinstance(expected, str):
        with pytest.raises(InputValidationError) as caught:
            build_input(spec, options, extra=extra, policy=policy)
        assert caught.value.codes == [expected]
        if expected == "out_of_range" and with_image:
            problem = caught.value.problems[0]
            assert problem.params["maximum"] == 2 and problem.params["reason"] == "input_image"
    else:
        assert (
            build_input(spec, options, extra=extra, policy=policy)["safety_tolerance"] == expected
        )


@pytest.mark.parametrize("policy", [STRICT, ADULT_NO_NSFW, NSFW_SERVER_PUBLIC_CHANNEL, RELAXED])
@pytest.mark.parametrize("model_id", [SCHNELL, DEV])
def test_safety_checker_always_on(catalog: Catalog, model_id: str, policy: InputPolicy) -> None:
    """disable_safety_checker is sent as false in every channel."""
    assert (
        build_input(catalog.get(model_id), {"prompt": "p"}, policy=policy)["disable_safety_checker"]
        is False
    )


@pytest.mark.parametrize("policy", [STRICT, ADULT_NO_NSFW, RELAXED])
@pytest.mark.parametrize("model_id", [PRO, ULTRA, KONTEXT_PRO])
def test_safety_tolerance_default_when_not_given(
    catalog: Catalog, model_id: str, policy: InputPolicy
) -> None:
    """Without a user value the safety tolerance stays at the provider default, whatever the channel."""
    assert (
        build_input(catalog.get(model_id), {"prompt": "p"}, policy=policy)["safety_tolerance"] == 2
    )


def test_unknown_extra_lists_safety_only_when_allowed(catalog: Catalog) -> None:
    """The list of extra-able fields includes safety_tolerance only where the policy allows it."""
    spec = catalog.get(PRO)
    for policy, listed in ((STRICT, False), (RELAXED, True)):
        with pytest.raises(InputValidationError) as caught:
            build_input(spec, {"prompt": "p"}, extra="nope=1", policy=policy)
        assert ("safety_tolerance" in caught.value.problems[0].params["allowed"]) is listed


def test_prompt_length_follows_policy(catalog: Catalog) -> None:
    """The prompt limit comes from the policy."""
    spec = catalog.get(SCHNELL)
    policy = InputPolicy(max_prompt_length=10)
    assert build_input(spec, {"prompt": "0123456789"}, policy=policy)["prompt"] == "0123456789"
    with pytest.raises(InputValidationError) as caught:
        build_input(spec, {"prompt": "0123456789a"}, policy=policy)
    assert caught.value.problems[0].params == {"maximum": 10, "length": 11}


def test_random_seed_without_rng_is_in_range(catalog: Catalog) -> None:
    """Without an rng a system-random seed inside the field's range is used."""
    seeds = {build_input(catalog.get(SCHNELL), {"prompt": "p"})["seed"] for _ in range(5)}
    assert all(0 <= s <= 2147483647 for s in seeds)
    assert len(seeds) > 1


def test_rng_is_folded_into_range(catalog: Catalog) -> None:
    """An rng giving values outside the seed range is folded into it."""
    result = build_input(catalog.get(SCHNELL), {"prompt": "p"}, rng=lambda: 2**40 + 5)
    assert 0 <= result["seed"] <= 2147483647


def test_unknown_option_name_is_a_programming_error(catalog: Catalog) -> None:
    """A key that is not a slash option is a bug in the caller, not a user refusal."""
    with pytest.raises(ValueError, match="unknown slash option"):
        build_input(catalog.get(SCHNELL), {"prompt": "p", "steps": 3})


@pytest.mark.parametrize("model_id", ALL_MODELS)
def test_reroll_changes_only_the_seed(catalog: Catalog, model_id: str) -> None:
    """Re-roll keeps every field and draws a new seed."""
    spec = catalog.get(model_id)
    options = {"prompt": "a cat", "seed": 5}
    if spec.image_field:
        options["image"] = IMAGE_URL
    first = build_input(spec, options, rng=counter())
    again = reuse_input(  # the first draw repeats 5, so it must draw again
        spec, first, policy=STRICT, new_seed=True, images_from_discord=True, rng=counter(5)
    )
    assert again["seed"] != 5
    assert {k: v for k, v in again.items() if k != "seed"} == {
        k: v for k, v in first.items() if k != "seed"
    }
    assert first["seed"] == 5  # the previous input is not mutated


def test_reroll_without_seed_field_keeps_input() -> None:
    """A model without a seed field re-rolls the same input."""
    spec = ModelSpec(
        "acme/x",
        "X",
        "",
        "text-to-image",
        "single",
        MappingProxyType({"prompt": FieldSpec("prompt", "string", option="prompt")}),
    )
    assert reuse_input(spec, {"prompt": "p"}, policy=STRICT, new_seed=True, rng=counter()) == {
        "prompt": "p"
    }


@pytest.mark.parametrize(
    ("model_id", "image_field"),
    [(KONTEXT_PRO, "input_image"), (KONTEXT_MAX, "input_image"), (DEV, "image")],
)
def test_edit_input_places_image(catalog: Catalog, model_id: str, image_field: str) -> None:
    """Editing a result puts its image in the model's image field."""
    result = edit_input(
        catalog.get(model_id),
        prompt="make it night",
        image_url=IMAGE_URL,
        options={"format": "png"},
        rng=counter(),
    )
    assert result[image_field] == IMAGE_URL
    assert result["prompt"] == "make it night"
    assert result["output_format"] == "png"


@pytest.mark.parametrize("model_id", [SCHNELL, PRO, ULTRA])
def test_edit_input_refused_without_image_field(catalog: Catalog, model_id: str) -> None:
    """A model that takes no input image cannot edit: the image option is refused."""
    with pytest.raises(InputValidationError) as caught:
        edit_input(catalog.get(model_id), prompt="p", image_url=IMAGE_URL)
    assert refusals(caught) == [("option_not_accepted", "image")]


def test_edit_input_match_input_image(catalog: Catalog) -> None:
    """/edit's match_input_image choice is accepted by kontext."""
    result = edit_input(
        catalog.get(KONTEXT_PRO),
        prompt="p",
        image_url=IMAGE_URL,
        options={"aspect_ratio": "match_input_image"},
    )
    assert result["aspect_ratio"] == "match_input_image"


def test_missing_required_field() -> None:
    """A field the catalog marks required and nobody gave is refused with missing_required."""
    fields = {
        "prompt": FieldSpec("prompt", "string", option="prompt", required=True),
        "mask": FieldSpec("mask", "image", required=True),
    }
    spec = ModelSpec(
        "acme/inpaint", "Inpaint", "", "image-edit", "single", MappingProxyType(fields)
    )
    with pytest.raises(InputValidationError) as caught:
        build_input(spec, {"prompt": ""})
    assert refusals(caught) == [("empty_prompt", "prompt"), ("missing_required", "mask")]
    # Only the operator's CLI can name an image field that no option feeds.
    operator = InputPolicy(operator=True)
    given = build_input(spec, {"prompt": "p"}, extra={"mask": IMAGE_URL}, policy=operator)
    assert given["mask"] == IMAGE_URL
