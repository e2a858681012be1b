"""Vary (Subtle) and Vary (Strong): which model remakes a result, and how strongly.

A variation is the chosen image of a result sent back as the input image of a model that
takes one, with the same prompt and a new seed; the strength field says how far the new image
may move away from it. Which model and which numbers is data (`"variation"` in the catalog,
for every model or per model), because it is a judgement about the models an operator may
want to change: flux-dev's `prompt_strength` 0.35 keeps the composition, 0.75 keeps little
more than the palette. Asking an editing model such as Kontext to "make a variation" is not
one: it keeps everything it is not told to change.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.catalog.spec import FieldSpec, ModelSpec

VARIATION_LEVELS: tuple[str, ...] = ("subtle", "strong")
_VARIATION_KEYS = frozenset({"model", "image_field", "strength_field", *VARIATION_LEVELS})
# What a variation keeps of the source input besides the prompt, when the variation model
# takes the same option and the value fits it: as many images as before, in the same format.
CARRIED_OPTIONS: tuple[str, ...] = ("prompt", "count", "format", "quality")


@dataclass(frozen=True)
class Variation:
    """Vary a result with `model`: the image in `image_field`, `strength_field` per level."""

    model: str
    image_field: str
    strength_field: str
    subtle: float
    strong: float

    def strength(self, level: str) -> float:
        if level not in VARIATION_LEVELS:
            raise ValueError(f"unknown variation level {level!r}")
        return self.subtle if level == "subtle" else self.strong


def parse_variation(raw: Any) -> Variation | None:
    """A `"variation"` object of the catalog (null: no variation). ValueError says why not."""
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise ValueError('"variation" must be an object such as {"model": "owner/name", ...}')
    unknown = sorted(set(raw) - _VARIATION_KEYS)
    missing = sorted(_VARIATION_KEYS - set(raw))
    if unknown or missing:
        key = unknown[0] if unknown else missing[0]
        what = "unknown" if unknown else "missing"
        raise ValueError(
            f'"variation" has a {what} key {key!r} (it takes {", ".join(sorted(_VARIATION_KEYS))})'
        )
    for key in ("model", "image_field", "strength_field"):
        if not isinstance(raw[key], str) or not raw[key]:
            raise ValueError(f'"variation" {key} must be a name')
    for level in VARIATION_LEVELS:
        value = raw[level]
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f'"variation" {level} must be a number')
    return Variation(
        model=raw["model"],
        image_field=raw["image_field"],
        strength_field=raw["strength_field"],
        subtle=float(raw["subtle"]),
        strong=float(raw["strong"]),
    )


def variation_problem(variation: Variation, models: Mapping[str, ModelSpec]) -> str | None:
    """Why `variation` cannot work with these models, or None.

    The image must go in the model's `image` option field, so it is checked like /edit's and
    only ever comes from Discord; the strength is set by the bot, so it must be a plain
    number field a member could set (not an option's, not a safety field), and both levels
    must be inside its range.
    """
    target = models.get(variation.model)
    if target is None:
        return f'"variation" names the unknown model {variation.model!r}'
    if target.image_field != variation.image_field:
        return (
            f'"variation" image_field {variation.image_field!r} must be the field that '
            f"{variation.model}'s image option feeds ({target.image_field or 'none'})"
        )
    strength = target.fields.get(variation.strength_field)
    if strength is None or strength.type not in ("number", "integer"):
        return f'"variation" strength_field {variation.strength_field!r} must be a number field of {variation.model}'
    if strength.option is not None or strength.safety or not strength.user_controllable:
        return f'"variation" strength_field {variation.strength_field!r} must be a plain field (no option, not safety)'
    for level in VARIATION_LEVELS:
        value = variation.strength(level)
        if not _fits(strength, value):
            return f'"variation" {level} {value:g} is outside {strength.allowed_text()}'
    return None


def carried_input(
    source: ModelSpec,
    stored: Mapping[str, Any],
    target: ModelSpec,
    variation: Variation,
    level: str,
) -> dict[str, Any]:
    """The part of a result's stored input that its variation keeps, as the target's fields.

    Only values the target's field takes cross over (a Kontext `png` is a flux-dev format, a
    flux-1.1-pro-ultra `jpg` too); anything else is the target's default, since nobody chose
    it for the target model. The seed and the images never cross: a variation has a new seed
    and the chosen image.
    """
    out: dict[str, Any] = {}
    for option in CARRIED_OPTIONS:
        source_field = source.option_field(option)
        target_field = target.option_field(option)
        if source_field is None or target_field is None:
            continue
        value = stored.get(source_field.name)
        if value is not None and _fits(target_field, value):
            out[target_field.name] = value
    out[variation.strength_field] = variation.strength(level)
    return out


def _fits(field: FieldSpec, value: Any) -> bool:
    if field.choices is not None:
        return value in field.choices
    if field.type in ("number", "integer"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
        if field.type == "integer" and not float(value).is_integer():
            return False
        low, high = field.minimum, field.maximum
        return (low is None or value >= low) and (high is None or value <= high)
    return field.type != "string" or isinstance(value, str)


__all__ = [
    "CARRIED_OPTIONS",
    "VARIATION_LEVELS",
    "Variation",
    "carried_input",
    "parse_variation",
    "variation_problem",
]
