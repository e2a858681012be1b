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
from bot.catalog.spec import (
    FIELD_TYPES,
    MODEL_KINDS,
    OPTION_TYPES,
    OUTPUT_SHAPES,
    SLASH_OPTIONS,
    FieldSpec,
    ModelSpec,
)

BUILTIN_LABEL = "bot/catalog/models.json (built-in)"

_MODEL_KEYS = frozenset({"id", "label", "description", "descriptions", "kind", "output", "fields"})
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
    }
)
# owner/name as it appears in the create route; the slash stays unescaped in the path.
_MODEL_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*$")
_FIELD_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def load_catalog(models_file: Path | None = None) -> Catalog:
    """The built-in catalog, with the operator's MODELS_FILE (if any) merged over it.

    A model in MODELS_FILE whose id is already known overrides the keys it gives; its `fields`
    are merged field by field (a field set to null is removed), its `descriptions` locale by
    locale. A new id adds a model.
    """
    builtin_text = resources.files("bot.catalog").joinpath("models.json").read_text("utf-8")
    raw_models = _read_models(builtin_text, BUILTIN_LABEL)
    specs = {model_id: _build_model(raw, BUILTIN_LABEL) for model_id, raw in raw_models.items()}

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
        for model_id, raw in _read_models(text, label).items():
            merged = _merge(raw_models[model_id], raw) if model_id in raw_models else raw
            raw_models[model_id] = merged
            specs[model_id] = _build_model(merged, label)
    return Catalog(specs.values())


def _read_models(text: str, path: str) -> dict[str, dict[str, Any]]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CatalogError(
            path, None, f"it is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})"
        ) from None
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


def _build_model(raw: Mapping[str, Any], path: str) -> ModelSpec:
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

    return ModelSpec(
        id=model_id,
        label=label.strip(),
        description=description,
        kind=str(kind),
        output=str(output),
        fields=MappingProxyType(fields),
        descriptions=MappingProxyType(dict(descriptions)),
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

    choices = raw.get("choices")
    if choices is not None:
        if type_ in ("boolean", "image"):
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
    )


def _fits_type(value: Any, type_: str) -> bool:
    """Whether a JSON value already has the field's type (the file is not coerced)."""
    if type_ in ("string", "image"):
        return isinstance(value, str)
    if type_ == "boolean":
        return isinstance(value, bool)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    if type_ == "integer":
        # Strict: 4.0 in an integer field would reach the provider as a float.
        return isinstance(value, int)
    return math.isfinite(value)
