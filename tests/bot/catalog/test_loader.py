"""The built-in catalog matches cometapi.md; MODELS_FILE merges over it; bad files fail clearly."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bot.catalog import Catalog, CatalogError, build_input, load_catalog
from tests.bot.catalog._data import (
    ALL_MODELS,
    DEV,
    KONTEXT_MAX,
    KONTEXT_PRO,
    PRO,
    SCHNELL,
    ULTRA,
    counter,
)

FLUX_RATIOS = ("1:1", "16:9", "21:9", "3:2", "2:3", "4:5", "5:4", "3:4", "4:3", "9:16", "9:21")
KONTEXT_RATIOS = (
    "match_input_image",
    *("1:1", "16:9", "9:16", "4:3", "3:4", "3:2", "2:3", "4:5", "5:4", "21:9", "9:21"),
    *("2:1", "1:2"),
)


def test_builtin_has_every_flux_model(catalog: Catalog) -> None:
    """The built-in catalog declares the six FLUX models, in order."""
    assert catalog.ids() == list(ALL_MODELS)


@pytest.mark.parametrize(
    ("model_id", "kind", "output", "label", "image_field", "max_outputs"),
    [
        (SCHNELL, "text-to-image", "list", "FLUX schnell", None, 4),
        (DEV, "text-to-image", "list", "FLUX dev", "image", 4),
        (PRO, "text-to-image", "single", "FLUX 1.1 Pro", None, 1),
        (ULTRA, "text-to-image", "single", "FLUX 1.1 Pro Ultra", None, 1),
        (KONTEXT_PRO, "image-edit", "single", "FLUX Kontext Pro", "input_image", 1),
        (KONTEXT_MAX, "image-edit", "single", "FLUX Kontext Max", "input_image", 1),
    ],
)
def test_model_shape(
    catalog: Catalog,
    model_id: str,
    kind: str,
    output: str,
    label: str,
    image_field: str | None,
    max_outputs: int,
) -> None:
    """Each model has the kind, output shape, label, image field and output count of cometapi.md."""
    model = catalog.get(model_id)
    assert (model.kind, model.output, model.label) == (kind, output, label)
    assert model.image_field == image_field
    assert model.max_outputs == max_outputs
    assert model.description.endswith(".")
    assert set(model.descriptions) == {"en-US", "zh-TW", "zh-CN", "ja"}


# (model, field, attribute, expected) straight from the "Model inputs" table of cometapi.md.
FIELD_FACTS: list[tuple[str, str, str, Any]] = [
    (SCHNELL, "aspect_ratio", "choices", FLUX_RATIOS),
    (SCHNELL, "aspect_ratio", "default", "1:1"),
    (SCHNELL, "num_outputs", "option", "count"),
    (SCHNELL, "num_outputs", "minimum", 1),
    (SCHNELL, "num_outputs", "maximum", 4),
    (SCHNELL, "num_inference_steps", "maximum", 4),
    (SCHNELL, "num_inference_steps", "default", 4),
    (SCHNELL, "output_format", "choices", ("webp", "jpg", "png")),
    (SCHNELL, "output_format", "option", "format"),
    (SCHNELL, "output_quality", "option", "quality"),
    (SCHNELL, "output_quality", "default", 80),
    (SCHNELL, "go_fast", "default", True),
    (SCHNELL, "megapixels", "choices", ("1", "0.25")),
    (SCHNELL, "disable_safety_checker", "user_controllable", False),
    (SCHNELL, "disable_safety_checker", "default", False),
    (DEV, "num_inference_steps", "maximum", 50),
    (DEV, "num_inference_steps", "default", 28),
    (DEV, "guidance", "type", "number"),
    (DEV, "guidance", "maximum", 10),
    (DEV, "guidance", "default", 3),
    (DEV, "image", "type", "image"),
    (DEV, "image", "option", "image"),
    (DEV, "prompt_strength", "default", 0.8),
    (DEV, "disable_safety_checker", "user_controllable", False),
    (
        PRO,
        "aspect_ratio",
        "choices",
        ("custom", "1:1", "16:9", "3:2", "2:3", "4:5", "5:4", "9:16", "3:4", "4:3"),
    ),
    (PRO, "width", "multiple_of", 32),
    (PRO, "width", "minimum", 256),
    (PRO, "height", "maximum", 1440),
    (PRO, "height", "requires", {"aspect_ratio": "custom"}),
    (PRO, "safety_tolerance", "safety", True),
    (PRO, "safety_tolerance", "default", 2),
    (PRO, "image_prompt", "option", None),
    (ULTRA, "output_format", "choices", ("jpg", "png")),
    (ULTRA, "output_format", "default", "jpg"),
    (ULTRA, "raw", "default", False),
    (ULTRA, "image_prompt_strength", "default", 0.1),
    (ULTRA, "safety_tolerance", "maximum", 6),
    (KONTEXT_PRO, "aspect_ratio", "choices", KONTEXT_RATIOS),
    (KONTEXT_PRO, "aspect_ratio", "default", "match_input_image"),
    (KONTEXT_PRO, "output_format", "default", "png"),
    (KONTEXT_PRO, "safety_tolerance", "minimum", 0),
    (KONTEXT_PRO, "safety_tolerance", "maximum_with_image", 2),
    (KONTEXT_MAX, "input_image", "option", "image"),
    (KONTEXT_MAX, "safety_tolerance", "safety", True),
]


@pytest.mark.parametrize(("model_id", "field", "attribute", "expected"), FIELD_FACTS)
def test_field_facts(
    catalog: Catalog, model_id: str, field: str, attribute: str, expected: Any
) -> None:
    """The field declarations carry the ranges, choices, defaults and options of cometapi.md."""
    value = getattr(catalog.get(model_id).fields[field], attribute)
    if isinstance(expected, dict):
        value = dict(value)
    assert value == expected


@pytest.mark.parametrize(
    ("model_id", "absent"),
    [
        (PRO, "num_outputs"),
        (ULTRA, "num_outputs"),
        (ULTRA, "output_quality"),
        (KONTEXT_PRO, "num_outputs"),
        (KONTEXT_PRO, "output_quality"),
        (SCHNELL, "guidance"),
        (SCHNELL, "image"),
    ],
)
def test_fields_the_model_does_not_have(catalog: Catalog, model_id: str, absent: str) -> None:
    """A field the provider's schema lacks is not declared (so it is refused, not sent)."""
    assert absent not in catalog.get(model_id).fields


def write(tmp_path: Path, data: Any, name: str = "models.json") -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


NEW_MODEL = {
    "id": "acme/painter",
    "label": "Acme Painter",
    "description": "Paints.",
    "kind": "text-to-image",
    "output": "single",
    "fields": {
        "prompt": {"type": "string", "option": "prompt"},
        "style": {"type": "string", "choices": ["oil", "ink"], "default": "oil"},
    },
}


def test_models_file_adds_a_model(tmp_path: Path) -> None:
    """A new id in MODELS_FILE adds a model after the built-in ones."""
    catalog = load_catalog(write(tmp_path, {"models": [NEW_MODEL]}))
    assert catalog.ids()[-1] == "acme/painter"
    assert len(catalog) == len(ALL_MODELS) + 1
    model = catalog.get("acme/painter")
    assert build_input(model, {"prompt": "a boat"}) == {"prompt": "a boat", "style": "oil"}


def test_models_file_accepts_a_bare_list(tmp_path: Path) -> None:
    """MODELS_FILE may be a plain list of models instead of {"models": [...]}."""
    assert "acme/painter" in load_catalog(write(tmp_path, [NEW_MODEL]))


def test_models_file_overrides_and_extends_fields(tmp_path: Path) -> None:
    """A known id merges field by field: override an attribute, add a field, drop a field."""
    override = {
        "id": SCHNELL,
        "label": "Schnell (house)",
        "descriptions": {"ja": "速い。"},
        "fields": {
            "num_outputs": {"maximum": 8},
            "lora_scale": {"type": "number", "minimum": 0, "maximum": 2, "default": 1},
            "go_fast": None,
        },
    }
    catalog = load_catalog(write(tmp_path, {"models": [override]}))
    model = catalog.get(SCHNELL)
    assert model.label == "Schnell (house)"
    assert model.max_outputs == 8
    assert model.fields["num_outputs"].option == "count"  # untouched attributes stay
    assert "go_fast" not in model.fields
    assert model.description_for("ja") == "速い。"
    assert model.description_for("zh-TW") == load_catalog().get(SCHNELL).descriptions["zh-TW"]
    result = build_input(model, {"prompt": "x", "count": 8}, rng=counter())
    assert result["num_outputs"] == 8
    assert result["lora_scale"] == 1
    assert "go_fast" not in result
    # The built-in catalog itself is not changed by someone else's override.
    assert load_catalog().get(SCHNELL).max_outputs == 4


BAD_FILES: list[tuple[str, Any, list[str]]] = [
    ("bad_json", '{"models": [\n  {"id": "acme/x",}\n]}', ["not valid JSON", "line 2"]),
    ("not_a_list", {"models": {"id": "acme/x"}}, ['"models" list']),
    (
        "bad_field_type",
        {"models": [{**NEW_MODEL, "fields": {**NEW_MODEL["fields"], "steps": {"type": "int"}}}]},
        ["model 'acme/painter', field 'steps'", "unknown type 'int'", "integer"],
    ),
    (
        "default_outside_choices",
        {
            "models": [
                {
                    **NEW_MODEL,
                    "fields": {
                        **NEW_MODEL["fields"],
                        "style": {"type": "string", "choices": ["oil", "ink"], "default": "pastel"},
                    },
                }
            ]
        },
        ["model 'acme/painter', field 'style'", "default 'pastel' is not one of the choices"],
    ),
    (
        "bad_range",
        {"models": [{"id": SCHNELL, "fields": {"num_outputs": {"minimum": 5}}}]},
        ["field 'num_outputs'", "minimum 5 is above maximum 4"],
    ),
    (
        "default_outside_range",
        {"models": [{"id": DEV, "fields": {"guidance": {"default": 11}}}]},
        ["field 'guidance'", "default 11 is outside 0–10"],
    ),
    (
        "misspelt_key",
        {"models": [{"id": DEV, "fields": {"guidance": {"maximun": 11}}}]},
        ["field 'guidance'", "unknown key 'maximun'"],
    ),
    (
        "unknown_option",
        {"models": [{"id": DEV, "fields": {"guidance": {"option": "cfg"}}}]},
        ["field 'guidance'", "unknown option 'cfg'"],
    ),
    (
        "option_type_mismatch",
        {"models": [{"id": DEV, "fields": {"megapixels": {"option": "count"}}}]},
        ["field 'megapixels'", "'count' needs a field of type integer"],
    ),
    (
        "option_used_twice",
        {"models": [{"id": DEV, "fields": {"num_inference_steps": {"option": "count"}}}]},
        ["field 'num_inference_steps'", "'count' already feeds 'num_outputs'"],
    ),
    (
        "bad_kind",
        {"models": [{**NEW_MODEL, "kind": "video"}]},
        ["model 'acme/painter'", "\"kind\" is 'video'"],
    ),
    (
        "bad_id",
        {"models": [{**NEW_MODEL, "id": "painter"}]},
        ["model #1", "owner/name"],
    ),
    ("duplicate_id", {"models": [NEW_MODEL, NEW_MODEL]}, ["model 'acme/painter'", "twice"]),
    (
        "no_prompt",
        {"models": [{**NEW_MODEL, "fields": {"style": {"type": "string"}}}]},
        ["model 'acme/painter'", "prompt"],
    ),
    (
        "requires_unknown_field",
        {"models": [{"id": PRO, "fields": {"width": {"requires": {"ratio": "custom"}}}}]},
        ["field 'width'", "unknown field 'ratio'"],
    ),
    (
        "float_in_integer_field",
        {"models": [{"id": SCHNELL, "fields": {"num_outputs": {"default": 1.5}}}]},
        ["field 'num_outputs'", "default 1.5 is not an integer"],
    ),
]


@pytest.mark.parametrize(
    ("content", "expected"), [(c, e) for _, c, e in BAD_FILES], ids=[n for n, _, _ in BAD_FILES]
)
def test_malformed_models_file(tmp_path: Path, content: Any, expected: list[str]) -> None:
    """A malformed MODELS_FILE raises CatalogError: one sentence naming file, entry and problem."""
    path = write(tmp_path, content)
    with pytest.raises(CatalogError) as caught:
        load_catalog(path)
    text = str(caught.value)
    assert str(path) in text
    for part in expected:
        assert part in text
    assert "\n" not in text and text.endswith(".")
    assert caught.value.path == str(path)


def test_missing_models_file(tmp_path: Path) -> None:
    """A MODELS_FILE that does not exist is named in one sentence."""
    path = tmp_path / "nope.json"
    with pytest.raises(CatalogError, match=r"nope\.json is invalid: the file does not exist"):
        load_catalog(path)
