"""What a model is, as the catalog declares it: frozen specs built from the data file."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.catalog.price import Price
    from bot.catalog.variation import Variation

# The vocabulary of the catalog file. Kept here so the loader, the mapping and the tests
# agree on one list.
FIELD_TYPES: tuple[str, ...] = ("string", "integer", "number", "boolean", "image", "images")
# An image reaches a model only from an attachment or a message the bot fetched from Discord:
# these types are never set from typed text (`extra`).
IMAGE_TYPES: tuple[str, ...] = ("image", "images")
MODEL_KINDS: tuple[str, ...] = ("text-to-image", "image-edit")
OUTPUT_SHAPES: tuple[str, ...] = ("list", "single")
# Slash-command options that can feed an input field (DESIGN.md, slash command table).
SLASH_OPTIONS: tuple[str, ...] = (
    "prompt",
    "aspect_ratio",
    "count",
    "seed",
    "format",
    "quality",
    "image",
    "images",
)
# What each option's field must be, so a catalog cannot wire `count` to a string.
OPTION_TYPES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "prompt": ("string",),
        "aspect_ratio": ("string",),
        "count": ("integer",),
        "seed": ("integer",),
        "format": ("string",),
        "quality": ("integer", "number"),
        "image": ("image",),
        "images": ("images",),
    }
)


def _empty_mapping() -> Mapping[str, Any]:
    return MappingProxyType({})


@dataclass(frozen=True)
class FieldSpec:
    """One input field of a model: its type, what values it takes, and which option feeds it."""

    name: str
    type: str
    description: str = ""
    choices: tuple[Any, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    multiple_of: int | None = None
    default: Any = None
    option: str | None = None
    user_controllable: bool = True
    safety: bool = False
    # e.g. {"aspect_ratio": "custom"}: the field is only valid when those fields have those values.
    requires: Mapping[str, Any] | None = field(default=None, hash=False)
    required: bool = False
    # kontext: safety_tolerance is at most 2 when an input image is given (cometapi.md).
    maximum_with_image: float | None = None
    # A list of images (FLUX.2's input_images): how many it takes.
    min_items: int | None = None
    max_items: int | None = None

    @property
    def has_default(self) -> bool:
        return self.default is not None

    def allowed_text(self) -> str:
        """A short English rendering of the allowed values: "1–4", "webp, jpg, png", ..."""
        if self.choices is not None:
            return ", ".join(_fmt(c) for c in self.choices)
        if self.type == "boolean":
            return "true, false"
        if self.type == "image":
            return "image URL"
        if self.type == "images":
            low = self.min_items if self.min_items is not None else 1
            if self.max_items is None:
                return f"{low} or more images"
            return f"{low}–{self.max_items} images"
        if self.type in ("integer", "number"):
            text = _range_text(self.minimum, self.maximum, self.type)
            if self.multiple_of:
                text += f", multiple of {self.multiple_of}"
            if self.maximum_with_image is not None:
                text += f" (at most {_fmt(self.maximum_with_image)} with an input image)"
            return text
        return "text"


def _fmt(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _range_text(minimum: float | None, maximum: float | None, type_: str) -> str:
    noun = "integer" if type_ == "integer" else "number"
    if minimum is not None and maximum is not None:
        return f"{_fmt(minimum)}–{_fmt(maximum)}"
    if minimum is not None:
        return f"{noun} ≥ {_fmt(minimum)}"
    if maximum is not None:
        return f"{noun} ≤ {_fmt(maximum)}"
    return noun


@dataclass(frozen=True)
class ModelSpec:
    """One model of the catalog. `fields` keeps the declaration order of the data file."""

    id: str
    label: str
    description: str
    kind: str
    output: str
    fields: Mapping[str, FieldSpec] = field(default_factory=_empty_mapping, hash=False)
    descriptions: Mapping[str, str] = field(default_factory=_empty_mapping, hash=False)
    # What one request costs on CometAPI, as read from its pages; None: unknown (never zero).
    price: Price | None = None
    # How a result of this model is varied (Vary buttons); None: it is not.
    variation: Variation | None = None

    def option_field(self, option_name: str) -> FieldSpec | None:
        """The field fed by a slash option (`count` -> num_outputs), or None."""
        for spec in self.fields.values():
            if spec.option == option_name:
                return spec
        return None

    def accepts_option(self, option: str) -> bool:
        return self.option_field(option) is not None

    @property
    def options(self) -> tuple[str, ...]:
        """The slash options this model takes, in the order of SLASH_OPTIONS."""
        return tuple(o for o in SLASH_OPTIONS if self.accepts_option(o))

    @property
    def image_field(self) -> str | None:
        """The field fed by the `image` option (`input_image` for kontext, `image` for flux-dev)."""
        spec = self.option_field("image")
        return spec.name if spec else None

    @property
    def images_field(self) -> str | None:
        """The list-of-images field fed by the `images` option (FLUX.2's `input_images`)."""
        spec = self.option_field("images")
        return spec.name if spec else None

    @property
    def seed_field(self) -> str | None:
        spec = self.option_field("seed")
        return spec.name if spec else None

    @property
    def max_outputs(self) -> int:
        """How many images one request may ask for: the count field's maximum, else one."""
        spec = self.option_field("count")
        if spec is None:
            return 1
        return int(spec.maximum) if spec.maximum is not None else 1

    def usable_for(self, kind: str) -> bool:
        """Whether the model serves a command of this kind.

        /edit serves image-edit models and also any model that takes an image through the
        `image` option (flux-dev's image-to-image), because both turn an image plus a prompt
        into a new image. /blend ("blend") serves the models that take a list of images.
        """
        if kind == self.kind:
            return True
        if kind == "blend":
            return self.images_field is not None
        return kind == "image-edit" and self.image_field is not None

    def estimate_usd(self, model_input: Mapping[str, Any]) -> Decimal | None:
        """What a request with this input costs: per image × images asked for, or per request.

        None when the price is unknown, so a sum over jobs can say "unknown" instead of
        counting the request as free.
        """
        if self.price is None:
            return None
        count_field = self.option_field("count")
        count = model_input.get(count_field.name) if count_field is not None else None
        images = count if isinstance(count, int) and not isinstance(count, bool) else 1
        return self.price.estimate(max(images, 1))

    def extra_fields(self) -> tuple[FieldSpec, ...]:
        """Fields that no slash option feeds and a user may set through `extra`.

        Not images: an image reaches a model only from an attachment or from a message the
        bot fetched from Discord, never as a URL someone typed.
        """
        return tuple(
            f
            for f in self.fields.values()
            if f.option is None and f.user_controllable and f.type not in IMAGE_TYPES
        )

    def description_for(self, locale: str | None) -> str:
        """The description in `locale` (exact, then same language), else the English one."""
        if locale:
            if locale in self.descriptions:
                return self.descriptions[locale]
            language = locale.split("-")[0].lower()
            for key, text in self.descriptions.items():
                if key.split("-")[0].lower() == language:
                    return text
        return self.descriptions.get("en-US", self.description) or self.description
