"""The catalog: look models up, list them for autocomplete and /models, describe them."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from bot.catalog.errors import UnknownModelError
from bot.catalog.price import Price
from bot.catalog.spec import FieldSpec, ModelSpec

# Discord's limits: 25 choices or autocomplete entries, 100 characters per choice name.
DISCORD_MAX_CHOICES = 25
DISCORD_MAX_CHOICE_NAME = 100

# Slash choices read best square first, then landscape/portrait pairs from common to rare;
# match_input_image leads on /edit because it is the default there.
_ASPECT_ORDER = (
    "match_input_image",
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
    "2:1",
    "1:2",
    "custom",
)


@dataclass(frozen=True)
class OptionDescription:
    """One option (or extra-only field) of a model, ready for /models and Info."""

    name: str  # the slash option name, or the input field name for extra-only fields
    field: str  # the input field it feeds
    type: str
    allowed: str  # English rendering of the allowed values; the raw bounds are on `spec`
    default: Any
    description: str
    spec: FieldSpec


@dataclass(frozen=True)
class ModelDescription:
    id: str
    label: str
    description: str
    kind: str
    output: str
    max_outputs: int
    options: tuple[OptionDescription, ...]
    extra_fields: tuple[OptionDescription, ...]
    price: Price | None = None  # None: unknown


class Catalog:
    """An immutable set of models, in the order they were declared."""

    def __init__(self, models: Iterable[ModelSpec]) -> None:
        self._models: dict[str, ModelSpec] = {}
        for model in models:
            self._models[model.id] = model

    def __contains__(self, model_id: object) -> bool:
        return model_id in self._models

    def __iter__(self) -> Iterator[ModelSpec]:
        return iter(self._models.values())

    def __len__(self) -> int:
        return len(self._models)

    def ids(self) -> list[str]:
        return list(self._models)

    def get(self, model_id: str) -> ModelSpec:
        try:
            return self._models[model_id]
        except KeyError:
            raise UnknownModelError(model_id, self._suggest(model_id)) from None

    def _suggest(self, model_id: str) -> list[str]:
        query = model_id.strip().lower()
        # A bare name ("flux-schnell") or a label ("FLUX schnell") is the usual slip.
        exact = [
            m.id
            for m in self
            if query and query in (m.id.split("/", 1)[-1].lower(), m.label.lower())
        ]
        if exact:
            return exact
        names = {m.id.split("/", 1)[-1].lower(): m.id for m in self}
        names.update({m.id.lower(): m.id for m in self})
        close = difflib.get_close_matches(query, list(names), n=3, cutoff=0.75)
        seen: list[str] = []
        for key in close:
            if names[key] not in seen:
                seen.append(names[key])
        return seen

    def models(self, kind: str | None = None) -> list[ModelSpec]:
        """Models whose declared kind is `kind` (all when None). See `usable_for` for commands."""
        return [m for m in self if kind is None or m.kind == kind]

    def usable_for(self, kind: str | None) -> list[ModelSpec]:
        """Models a command of this kind can use: /edit also lists flux-dev (image-to-image),
        "blend" the models that take a list of images."""
        return [m for m in self if kind is None or m.usable_for(kind)]

    def autocomplete(
        self, query: str, *, kind: str | None = None, limit: int = DISCORD_MAX_CHOICES
    ) -> list[tuple[str, str]]:
        """(display name, model id) pairs matching the query in id or label, prefix matches first."""
        q = query.strip().lower()
        prefix: list[ModelSpec] = []
        inside: list[ModelSpec] = []
        for model in self.usable_for(kind):
            keys = _match_keys(model)
            if not q or any(k.startswith(q) for k in keys):
                prefix.append(model)
            elif any(q in k for k in keys):
                inside.append(model)
        return [(_display(m), m.id) for m in (prefix + inside)[: max(limit, 0)]]

    def aspect_ratio_choices(self, kind: str | None = None) -> list[str]:
        """The union of aspect ratios of the models usable for `kind`, at most 25."""
        seen: list[str] = []
        for model in self.usable_for(kind):
            field = model.option_field("aspect_ratio")
            choices = field.choices if field is not None and field.choices else ()
            for choice in choices:
                if str(choice) not in seen:
                    seen.append(str(choice))
        if kind == "image-edit" and "match_input_image" not in seen:
            seen.append("match_input_image")
        if kind == "text-to-image" and "match_input_image" in seen:
            # FLUX.2 declares it, but /imagine gives no image for it to match.
            seen.remove("match_input_image")
        rank = {value: i for i, value in enumerate(_ASPECT_ORDER)}
        # Unknown ratios from an operator's file keep their order, after the known ones.
        ordered = sorted(seen, key=lambda v: (rank.get(v, len(rank)), seen.index(v)))
        return ordered[:DISCORD_MAX_CHOICES]

    def describe(self, model_id: str, locale: str | None = None) -> ModelDescription:
        model = self.get(model_id)
        options = tuple(
            _describe_field(option, spec)
            for option in model.options
            if (spec := model.option_field(option)) is not None
        )
        extras = tuple(_describe_field(f.name, f) for f in model.extra_fields())
        return ModelDescription(
            id=model.id,
            label=model.label,
            description=model.description_for(locale),
            kind=model.kind,
            output=model.output,
            max_outputs=model.max_outputs,
            options=options,
            extra_fields=extras,
            price=model.price,
        )


def _match_keys(model: ModelSpec) -> list[str]:
    label = model.label.lower()
    return [model.id.lower(), model.id.split("/", 1)[-1].lower(), label, *label.split()]


def _display(model: ModelSpec) -> str:
    text = f"{model.label} — {model.id}"
    if len(text) > DISCORD_MAX_CHOICE_NAME:
        text = text[: DISCORD_MAX_CHOICE_NAME - 1] + "…"
    return text


def _describe_field(name: str, spec: FieldSpec) -> OptionDescription:
    return OptionDescription(
        name=name,
        field=spec.name,
        type=spec.type,
        allowed=spec.allowed_text(),
        default=spec.default,
        description=spec.description,
        spec=spec,
    )
