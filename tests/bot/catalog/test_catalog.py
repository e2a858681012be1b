"""Catalog look-ups: unknown ids, kinds, autocomplete, aspect ratio choices, describe()."""

from __future__ import annotations

from types import MappingProxyType

import pytest

from bot.catalog import Catalog, FieldSpec, ModelSpec, UnknownModelError
from tests.bot.catalog._data import (
    ALL_MODELS,
    BLEND_MODELS,
    DEV,
    FLUX2_FLEX,
    KONTEXT_MAX,
    KONTEXT_PRO,
    PRO,
    SCHNELL,
    TEXT_MODELS,
    ULTRA,
)


def model(model_id: str, label: str, kind: str = "text-to-image", **fields: FieldSpec) -> ModelSpec:
    all_fields = {"prompt": FieldSpec("prompt", "string", option="prompt"), **fields}
    return ModelSpec(model_id, label, "", kind, "single", MappingProxyType(all_fields))


@pytest.mark.parametrize(
    ("query", "first_suggestion"),
    [
        ("flux-schnell", SCHNELL),
        ("FLUX Kontext Max", KONTEXT_MAX),
        ("black-forest-labs/flux-schnel", SCHNELL),
        ("flux-kontext-por", KONTEXT_PRO),
        ("stable-diffusion", None),
    ],
)
def test_unknown_model_suggests(catalog: Catalog, query: str, first_suggestion: str | None) -> None:
    """get() of an unknown id raises UnknownModelError carrying the ids the user likely meant."""
    with pytest.raises(UnknownModelError) as caught:
        catalog.get(query)
    assert caught.value.model_id == query
    assert query in str(caught.value)
    if first_suggestion is None:
        assert caught.value.suggestions == ()
    else:
        assert caught.value.suggestions[0] == first_suggestion
        assert first_suggestion in str(caught.value)


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        (None, list(ALL_MODELS)),
        ("text-to-image", list(TEXT_MODELS)),
        ("image-edit", [KONTEXT_PRO, KONTEXT_MAX]),
    ],
)
def test_models_by_kind(catalog: Catalog, kind: str | None, expected: list[str]) -> None:
    """models(kind) filters by the declared kind."""
    assert [m.id for m in catalog.models(kind)] == expected


@pytest.mark.parametrize(
    ("query", "kind", "expected"),
    [
        ("", None, list(ALL_MODELS)),
        ("", "image-edit", [DEV, KONTEXT_PRO, KONTEXT_MAX]),
        ("", "text-to-image", list(TEXT_MODELS)),
        ("", "blend", list(BLEND_MODELS)),
        ("flux.2", "blend", list(BLEND_MODELS)),
        ("flex", None, [FLUX2_FLEX]),
        ("kontext", None, [KONTEXT_PRO, KONTEXT_MAX]),
        ("KONTEXT", "text-to-image", []),
        ("schnell", None, [SCHNELL]),
        ("flux 1.1", None, [PRO, ULTRA]),
        ("ultra", None, [ULTRA]),
        ("black-forest-labs/flux-d", None, [DEV]),
        ("dev", "image-edit", [DEV]),
        ("max", None, [KONTEXT_MAX]),
        ("zzz", None, []),
    ],
)
def test_autocomplete_filters_by_kind_and_text(
    catalog: Catalog, query: str, kind: str | None, expected: list[str]
) -> None:
    """Autocomplete matches id or label case-insensitively, within the models usable for the kind."""
    assert [model_id for _, model_id in catalog.autocomplete(query, kind=kind)] == expected


def test_autocomplete_lists_prefix_matches_first() -> None:
    """A model whose name starts with the query comes before one that merely contains it."""
    catalog = Catalog([model("acme/alpha-dev", "Alpha"), model("acme/dev-fast", "Fast")])
    assert [m for _, m in catalog.autocomplete("dev")] == ["acme/dev-fast", "acme/alpha-dev"]


def test_autocomplete_limits_and_truncates() -> None:
    """At most `limit` entries, each display name at most 100 characters (Discord's limit)."""
    catalog = Catalog([model(f"acme/m{i}", "L" * 150) for i in range(30)])
    entries = catalog.autocomplete("")
    assert len(entries) == 25
    assert all(len(name) <= 100 for name, _ in entries)
    assert entries[0][0].endswith("…")
    assert len(catalog.autocomplete("", limit=3)) == 3


def test_autocomplete_display_names_model(catalog: Catalog) -> None:
    """The display name shows the label and the id."""
    assert catalog.autocomplete("schnell") == [
        ("FLUX schnell — black-forest-labs/flux-schnell", SCHNELL)
    ]


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        (
            "text-to-image",
            [
                "1:1",
                "16:9",
                "9:16",
                "4:3",
                "3:4",
                "3:2",
                "2:3",
                "5:4",
                "4:5",
                "21:9",
                "9:21",
                "custom",
            ],
        ),
        (
            "blend",
            [
                "match_input_image",
                *["1:1", "16:9", "9:16", "4:3", "3:4", "3:2", "2:3", "5:4", "4:5"],
                "custom",
            ],
        ),
        (
            "image-edit",
            [
                "match_input_image",
                *["1:1", "16:9", "9:16", "4:3", "3:4", "3:2", "2:3", "5:4", "4:5"],
                *["21:9", "9:21", "2:1", "1:2"],
            ],
        ),
    ],
)
def test_aspect_ratio_choices(catalog: Catalog, kind: str, expected: list[str]) -> None:
    """Aspect ratio choices are the union over the kind's models, square first, at most 25."""
    assert catalog.aspect_ratio_choices(kind) == expected


def test_aspect_ratio_choices_all_and_edit_always_matches_input() -> None:
    """Without kind every ratio is listed; for /edit match_input_image is there even if no model declares it."""
    ratio = FieldSpec("aspect_ratio", "string", choices=("1:1", "7:3"), option="aspect_ratio")
    image = FieldSpec("image", "image", option="image")
    catalog = Catalog([model("acme/img2img", "I2I", aspect_ratio=ratio, image=image)])
    assert catalog.aspect_ratio_choices() == ["1:1", "7:3"]
    assert catalog.aspect_ratio_choices("image-edit") == ["match_input_image", "1:1", "7:3"]


def test_aspect_ratio_choices_cap_at_25() -> None:
    """More than 25 distinct ratios are cut to Discord's 25-choice limit."""
    ratio = FieldSpec(
        "aspect_ratio",
        "string",
        choices=tuple(f"{i}:1" for i in range(1, 40)),
        option="aspect_ratio",
    )
    catalog = Catalog([model("acme/many", "Many", aspect_ratio=ratio)])
    assert len(catalog.aspect_ratio_choices()) == 25


@pytest.mark.parametrize(
    ("model_id", "options", "extra_fields"),
    [
        (
            SCHNELL,
            {
                "prompt": "text",
                "aspect_ratio": "1:1, 16:9, 21:9, 3:2, 2:3, 4:5, 5:4, 3:4, 4:3, 9:16, 9:21",
                "count": "1–4",
                "seed": "0–2147483647",
                "format": "webp, jpg, png",
                "quality": "0–100",
            },
            {"num_inference_steps": "1–4", "go_fast": "true, false", "megapixels": "1, 0.25"},
        ),
        (
            DEV,
            {
                "prompt": "text",
                "aspect_ratio": "1:1, 16:9, 21:9, 3:2, 2:3, 4:5, 5:4, 3:4, 4:3, 9:16, 9:21",
                "count": "1–4",
                "seed": "0–2147483647",
                "format": "webp, jpg, png",
                "quality": "0–100",
                "image": "image URL",
            },
            {
                "prompt_strength": "0–1",
                "num_inference_steps": "1–50",
                "guidance": "0–10",
                "go_fast": "true, false",
                "megapixels": "1, 0.25",
            },
        ),
        (
            PRO,
            {
                "prompt": "text",
                "aspect_ratio": "custom, 1:1, 16:9, 3:2, 2:3, 4:5, 5:4, 9:16, 3:4, 4:3",
                "seed": "0–2147483647",
                "format": "webp, jpg, png",
                "quality": "0–100",
            },
            {
                "width": "256–1440, multiple of 32",
                "height": "256–1440, multiple of 32",
                "safety_tolerance": "1–6",
                "prompt_upsampling": "true, false",
            },
        ),
        (
            ULTRA,
            {
                "prompt": "text",
                "aspect_ratio": "21:9, 16:9, 3:2, 4:3, 5:4, 1:1, 4:5, 3:4, 2:3, 9:16, 9:21",
                "seed": "0–2147483647",
                "format": "jpg, png",
            },
            {
                "raw": "true, false",
                "safety_tolerance": "1–6",
                "image_prompt_strength": "0–1",
            },
        ),
        (
            KONTEXT_PRO,
            {
                "prompt": "text",
                "aspect_ratio": "match_input_image, 1:1, 16:9, 9:16, 4:3, 3:4, 3:2, 2:3, 4:5, 5:4, 21:9, 9:21, 2:1, 1:2",
                "seed": "0–2147483647",
                "format": "jpg, png",
                "image": "image URL",
            },
            {
                "safety_tolerance": "0–6 (at most 2 with an input image)",
                "prompt_upsampling": "true, false",
            },
        ),
    ],
)
def test_describe(
    catalog: Catalog, model_id: str, options: dict[str, str], extra_fields: dict[str, str]
) -> None:
    """describe() lists each option the model takes with its allowed values, then the fields
    `extra` may set (never an image: those come from attachments)."""
    description = catalog.describe(model_id)
    assert description.id == model_id
    assert {o.name: o.allowed for o in description.options} == options
    assert {o.name: o.allowed for o in description.extra_fields} == extra_fields
    assert "disable_safety_checker" not in {o.name for o in description.extra_fields}


def test_describe_fields_and_defaults(catalog: Catalog) -> None:
    """describe() names the input field each option feeds and its default."""
    description = catalog.describe(SCHNELL)
    count = next(o for o in description.options if o.name == "count")
    assert (count.field, count.type, count.default) == ("num_outputs", "integer", 1)
    fmt = next(o for o in description.options if o.name == "format")
    assert (fmt.field, fmt.default) == ("output_format", "webp")
    assert description.max_outputs == 4 and description.output == "list"
    assert catalog.describe(KONTEXT_PRO).max_outputs == 1


@pytest.mark.parametrize(
    ("locale", "expected_start"),
    [
        (None, "FLUX Kontext Pro: edits"),
        ("en-US", "FLUX Kontext Pro: edits"),
        ("en-GB", "FLUX Kontext Pro: edits"),
        ("zh-TW", "FLUX Kontext Pro：依文字指示編輯"),
        ("zh-CN", "FLUX Kontext Pro：按文字指示编辑"),
        ("ja", "FLUX Kontext Pro：テキストの指示"),
        ("fr", "FLUX Kontext Pro: edits"),
    ],
)
def test_description_for_locale(catalog: Catalog, locale: str | None, expected_start: str) -> None:
    """Descriptions follow the locale, falling back to the same language, then English."""
    assert catalog.get(KONTEXT_PRO).description_for(locale).startswith(expected_start)
    assert catalog.describe(KONTEXT_PRO, locale).description.startswith(expected_start)


@pytest.mark.parametrize(
    ("model_id", "options"),
    [
        (SCHNELL, ("prompt", "aspect_ratio", "count", "seed", "format", "quality")),
        (DEV, ("prompt", "aspect_ratio", "count", "seed", "format", "quality", "image")),
        (PRO, ("prompt", "aspect_ratio", "seed", "format", "quality")),
        (ULTRA, ("prompt", "aspect_ratio", "seed", "format")),
        (KONTEXT_PRO, ("prompt", "aspect_ratio", "seed", "format", "image")),
        (KONTEXT_MAX, ("prompt", "aspect_ratio", "seed", "format", "image")),
    ],
)
def test_accepted_options(catalog: Catalog, model_id: str, options: tuple[str, ...]) -> None:
    """Each model takes exactly the slash options whose fields it declares."""
    spec = catalog.get(model_id)
    assert spec.options == options
    assert spec.accepts_option("count") == ("count" in options)
