"""Reads the built-in catalog and an operator's MODELS_FILE, checks them, merges them.

The file is checked strictly on load so that a typo ("maximun", "type": "int") stops the bot
at start with one sentence naming the file, the entry and the problem, instead of surfacing
as a strange refusal in a Discord reply later.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

from bot.catalog.catalog import Catalog
from bot.catalog.errors import CatalogError
from bot.catalog.price import parse_price
from bot.catalog.spec import (
    FIELD_TYPES,
    IMAGE_TYPES,
    MODEL_KINDS,
    OPTION_TYPES,
    OUTPUT_SHAPES,
    SLASH_OPTIONS,
    FieldSpec,
    ModelSpec,
)
from bot.catalog.variation import Variation, parse_variation, variation_problem

BUILTIN_LABEL = "bot/catalog/models.json (built-in)"

_MODEL_KEYS = frozenset(
    {"id", "label", "description", "descriptions", "kind", "output", "fields", "price", "variation"}
)
_FIELD_KEYS = frozenset(
    {
        "type",
        "description",
        "choices",
        "minimum",
        "maximum",
        "multiple_of",
        "default",
        "option",
        "user_controllable",
        "safety",
        "requires",
        "required",
        "maximum_with_image",
        "min_items",
        "max_items",
    }
)
# A key a file does not give: "variation" absent means the catalog's default, null means none.
_ABSENT: Any = object()
# owner/name as it appears in the create route; the slash stays unescaped in the path.
_MODEL_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*$")
_FIELD_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def load_catalog(models_file: Path | None = None) -> Catalog:
    """The built-in catalog, with the operator's MODELS_FILE (if any) merged over it.

    A model in MODELS_FILE whose id is already known overrides the keys it gives; its `fields`
    are merged field by field (a field set to null is removed), its `descriptions` locale by
    locale; `price` and `variation` are replaced whole (null: unknown price, no variation). A
    new id adds a model. A top-level `variation` replaces the built-in default one.
    """
    builtin_text = resources.files("bot.catalog").joinpath("models.json").read_text("utf-8")
    raw_models, raw_default = _read_file(builtin_text, BUILTIN_LABEL)
    labels = dict.fromkeys(raw_models, BUILTIN_LABEL)
    default_label = BUILTIN_LABEL

    if models_file is not None:
        label = str(models_file)
        try:
            text = Path(models_file).read_text("utf-8")
        except FileNotFoundError:
            raise CatalogError(label, None, "the file does not exist") from None
        except UnicodeDecodeError:
            raise CatalogError(label, None, "the file is not UTF-8 text") from None
        except OSError as exc:
            raise CatalogError(label, None, f"the file cannot be read ({exc.strerror})") from None
        file_models, file_default = _read_file(text, label)
        for model_id, raw in file_models.items():
            merged = _merge(raw_models[model_id], raw) if model_id in raw_models else raw
            raw_models[model_id] = merged
            labels[model_id] = label
        if file_default is not _ABSENT:
            raw_default, default_label = file_default, label
    try:
        default = parse_variation(None if raw_default is _ABSENT else raw_default)
    except ValueError as exc:
        raise CatalogError(default_label, "the top-level variation", str(exc)) from None
    specs = {
        model_id: _build_model(raw, labels[model_id], default)
        for model_id, raw in raw_models.items()
    }
    _check_variations(specs, labels, default, default_label)
    return Catalog(specs.values())


def _check_variations(
    specs: Mapping[str, ModelSpec],
    labels: Mapping[str, str],
    default: Variation | None,
    default_label: str,
) -> None:
    """Every variation names a model of the final catalog that can take it (after the merge,
    since MODELS_FILE may add the variation model or change its fields)."""
    if default is not None and (problem := variation_problem(default, specs)):
        raise CatalogError(default_label, "the top-level variation", problem)
    for model_id, spec in specs.items():
        if spec.variation is not None and spec.variation is not default:
            problem = variation_problem(spec.variation, specs)
            if problem:
                raise CatalogError(labels[model_id], f"model {model_id!r}", problem)


def _read_file(text: str, path: str) -> tuple[dict[str, dict[str, Any]], Any]:
    """The models of a catalog file by id, and its top-level variation (or _ABSENT)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CatalogError(
            path, None, f"it is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})"
        ) from None
    default = data.get("variation", _ABSENT) if isinstance(data, dict) else _ABSENT
    return _read_models(data, path), default


def _read_models(data: Any, path: str) -> dict[str, dict[str, Any]]:
    entries = data.get("models") if isinstance(data, dict) else data
    if not isinstance(entries, list):
        raise CatalogError(path, None, 'expected an object with a "models" list')
    models: dict[str, dict[str, Any]] = {}
    for index, entry in enumerate(entries, start=1):
        where = f"model #{index}"
        if not isinstance(entry, dict):
            raise CatalogError(path, where, "each model must be a JSON object")
        model_id = entry.get("id")
        if not isinstance(model_id, str) or not _MODEL_ID.match(model_id):
            raise CatalogError(path, where, '"id" must be a string like "owner/name"')
        if model_id in models:
            raise CatalogError(path, f"model {model_id!r}", "the id appears twice in the file")
        models[model_id] = entry
    return models


def _merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if key == "fields" and isinstance(value, dict) and isinstance(base.get("fields"), dict):
            fields = dict(base["fields"])
            for name, field in value.items():
                if field is None:
                    fields.pop(name, None)
                elif isinstance(field, dict) and isinstance(fields.get(name), dict):
                    fields[name] = {**fields[name], **field}
                else:
                    fields[name] = field
            merged["fields"] = fields
        elif key == "descriptions" and isinstance(value, dict):
            merged["descriptions"] = {**(base.get("descriptions") or {}), **value}
        else:
            merged[key] = value
    return merged


def _build_model(raw: Mapping[str, Any], path: str, default: Variation | None) -> ModelSpec:
    model_id = str(raw["id"])
    where = f"model {model_id!r}"

    def fail(problem: str, field: str | None = None) -> CatalogError:
        return CatalogError(path, f"{where}, field {field!r}" if field else where, problem)

    unknown = sorted(set(raw) - _MODEL_KEYS)
    if unknown:
        raise fail(f"unknown key {unknown[0]!r} (known keys: {', '.join(sorted(_MODEL_KEYS))})")
    kind = raw.get("kind")
    if kind not in MODEL_KINDS:
        raise fail(f'"kind" is {kind!r}; use one of {", ".join(MODEL_KINDS)}')
    output = raw.get("output", "single")
    if output not in OUTPUT_SHAPES:
        raise fail(f'"output" is {output!r}; use one of {", ".join(OUTPUT_SHAPES)}')
    label = raw.get("label", model_id.split("/", 1)[1])
    description = raw.get("description", "")
    if not isinstance(label, str) or not label.strip():
        raise fail('"label" must be a non-empty string')
    if not isinstance(description, str):
        raise fail('"description" must be a string')
    descriptions = raw.get("descriptions") or {}
    if not isinstance(descriptions, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in descriptions.items()
    ):
        raise fail('"descriptions" must map locale names to strings')

    raw_fields = raw.get("fields")
    if not isinstance(raw_fields, dict) or not raw_fields:
        raise fail('"fields" must be a non-empty object of input fields')
    fields: dict[str, FieldSpec] = {}
    options_seen: dict[str, str] = {}
    for name, raw_field in raw_fields.items():
        try:
            spec = _build_field(name, raw_field)
        except _FieldProblem as exc:
            raise fail(str(exc), name) from None
        if spec.option is not None:
            if spec.option in options_seen:
                raise fail(
                    f"the option {spec.option!r} already feeds {options_seen[spec.option]!r}", name
                )
            options_seen[spec.option] = name
        fields[name] = spec
    if "prompt" not in options_seen:
        raise fail('no field is fed by the "prompt" option')
    for spec in fields.values():
        for other, value in (spec.requires or {}).items():
            target = fields.get(other)
            if target is None:
                raise fail(f'"requires" names the unknown field {other!r}', spec.name)
            if not _fits_type(value, target.type) or (
                target.choices is not None and value not in target.choices
            ):
                raise fail(
                    f'"requires" asks {other}={value!r}, which {other} cannot take', spec.name
                )
    try:
        price = parse_price(raw.get("price"))
        own = raw.get("variation", _ABSENT)
        variation = default if own is _ABSENT else parse_variation(own)
    except ValueError as exc:
        raise fail(str(exc)) from None

    return ModelSpec(
        id=model_id,
        label=label.strip(),
        description=description,
        kind=str(kind),
        output=str(output),
        fields=MappingProxyType(fields),
        descriptions=MappingProxyType(dict(descriptions)),
        price=price,
        variation=variation,
    )


class _FieldProblem(Exception):
    """Internal: a field-level problem; the caller adds the file and the entry."""


def _build_field(name: str, raw: Any) -> FieldSpec:
    if not _FIELD_NAME.match(name):
        raise _FieldProblem("a field name must be letters, digits and underscores")
    if not isinstance(raw, dict):
        raise _FieldProblem("a field must be a JSON object")
    unknown = sorted(set(raw) - _FIELD_KEYS)
    if unknown:
        raise _FieldProblem(
            f"unknown key {unknown[0]!r} (known keys: {', '.join(sorted(_FIELD_KEYS))})"
        )
    type_ = raw.get("type")
    if type_ not in FIELD_TYPES:
        raise _FieldProblem(f"unknown type {type_!r}; use one of {', '.join(FIELD_TYPES)}")
    numeric = type_ in ("integer", "number")

    items = _item_bounds(raw, type_)
    choices = raw.get("choices")
    if choices is not None:
        if type_ in ("boolean", *IMAGE_TYPES):
            raise _FieldProblem(f'"choices" cannot be used with type {type_}')
        if not isinstance(choices, list) or not choices:
            raise _FieldProblem('"choices" must be a non-empty list')
        for choice in choices:
            if not _fits_type(choice, type_):
                raise _FieldProblem(f"the choice {choice!r} is not a {type_}")
        if len(set(map(repr, choices))) != len(choices):
            raise _FieldProblem('"choices" lists a value twice')

    bounds: dict[str, float | None] = {}
    for key in ("minimum", "maximum", "maximum_with_image"):
        value = raw.get(key)
        if value is not None:
            if not numeric:
                raise _FieldProblem(f'"{key}" only applies to integer and number fields')
            if not _fits_type(value, type_):
                raise _FieldProblem(f'"{key}" must be a{"n" if type_ == "integer" else ""} {type_}')
        bounds[key] = value
    minimum, maximum = bounds["minimum"], bounds["maximum"]
    if minimum is not None and maximum is not None and minimum > maximum:
        raise _FieldProblem(f"bad range: minimum {minimum} is above maximum {maximum}")
    cap = bounds["maximum_with_image"]
    if cap is not None and (
        (minimum is not None and cap < minimum) or (maximum is not None and cap > maximum)
    ):
        raise _FieldProblem(f'"maximum_with_image" {cap} is outside {minimum}–{maximum}')

    multiple_of = raw.get("multiple_of")
    if multiple_of is not None and (
        type_ != "integer" or not _fits_type(multiple_of, "integer") or multiple_of <= 0
    ):
        raise _FieldProblem('"multiple_of" must be a positive integer, on integer fields only')

    default = raw.get("default")
    if default is not None and type_ in IMAGE_TYPES:
        # An image is sent only when a member gave one, from Discord; never by default.
        raise _FieldProblem(f"a field of type {type_} cannot have a default")
    if default is not None:
        if not _fits_type(default, type_):
            raise _FieldProblem(
                f"the default {default!r} is not a{'n' if type_ == 'integer' else ''} {type_}"
            )
        if choices is not None and default not in choices:
            raise _FieldProblem(
                f"the default {default!r} is not one of the choices "
                f"({', '.join(map(str, choices))})"
            )
        if (minimum is not None and default < minimum) or (
            maximum is not None and default > maximum
        ):
            raise _FieldProblem(f"the default {default!r} is outside {minimum}–{maximum}")
        if multiple_of and default % multiple_of:
            raise _FieldProblem(f"the default {default!r} is not a multiple of {multiple_of}")

    option = raw.get("option")
    if option is not None:
        if option not in SLASH_OPTIONS:
            raise _FieldProblem(f"unknown option {option!r}; use one of {', '.join(SLASH_OPTIONS)}")
        if type_ not in OPTION_TYPES[option]:
            raise _FieldProblem(
                f"the option {option!r} needs a field of type {' or '.join(OPTION_TYPES[option])}"
            )

    flags: dict[str, bool] = {}
    for key, fallback in (("user_controllable", True), ("safety", False), ("required", False)):
        value = raw.get(key, fallback)
        if not isinstance(value, bool):
            raise _FieldProblem(f'"{key}" must be true or false')
        flags[key] = value

    requires = raw.get("requires")
    if requires is not None and (not isinstance(requires, dict) or not requires):
        raise _FieldProblem('"requires" must be an object such as {"aspect_ratio": "custom"}')
    description = raw.get("description", "")
    if not isinstance(description, str):
        raise _FieldProblem('"description" must be a string')

    return FieldSpec(
        name=name,
        type=type_,
        description=description,
        choices=tuple(choices) if choices is not None else None,
        minimum=minimum,
        maximum=maximum,
        multiple_of=multiple_of,
        default=default,
        option=option,
        user_controllable=flags["user_controllable"],
        safety=flags["safety"],
        requires=MappingProxyType(dict(requires)) if requires else None,
        required=flags["required"],
        maximum_with_image=cap,
        min_items=items[0],
        max_items=items[1],
    )


def _item_bounds(raw: Mapping[str, Any], type_: str) -> tuple[int | None, int | None]:
    """`min_items` / `max_items` of a list of images: whole numbers, 0 ≤ min ≤ max, max ≥ 1."""
    given = {key: raw.get(key) for key in ("min_items", "max_items")}
    if type_ != "images":
        if any(v is not None for v in given.values()):
            raise _FieldProblem('"min_items" and "max_items" only apply to fields of type images')
        return None, None
    for key, value in given.items():
        if value is not None and (not _fits_type(value, "integer") or value < 0):
            raise _FieldProblem(f'"{key}" must be a whole number, 0 or more')
    low, high = given["min_items"], given["max_items"]
    if high is not None and high < 1:
        raise _FieldProblem('"max_items" must be at least 1')
    if low is not None and high is not None and low > high:
        raise _FieldProblem(f"bad range: min_items {low} is above max_items {high}")
    return low, high


def _fits_type(value: Any, type_: str) -> bool:
    """Whether a JSON value already has the field's type (the file is not coerced)."""
    if type_ in ("string", "image"):
        return isinstance(value, str)
    if type_ == "images":
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    if type_ == "boolean":
        return isinstance(value, bool)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    if type_ == "integer":
        # Strict: 4.0 in an integer field would reach the provider as a float.
        return isinstance(value, int)
    return math.isfinite(value)
