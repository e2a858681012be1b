"""What the fake CometAPI knows of each model's input schema: enough to accept what the real
service accepts and refuse what it refuses, with Replicate's wording in a 422.

The facts are the models' Replicate schemas (cometapi.md, "Model inputs"; FLUX.2 and flux-pro
as docs/decisions/020-variations-and-lineage.md records them), written out here on their own
rather than read from the bot's catalog, so a mistake in the catalog shows up as a refusal
instead of being copied into the fake.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

_ALL_RATIOS = ("1:1", "16:9", "21:9", "3:2", "2:3", "4:5", "5:4", "3:4", "4:3", "9:16", "9:21")
_KONTEXT_RATIOS = ("match_input_image", *_ALL_RATIOS, "2:1", "1:2")
_PRO_RATIOS = ("custom", "1:1", "16:9", "3:2", "2:3", "4:5", "5:4", "9:16", "3:4", "4:3")
_FLUX2_RATIOS = ("match_input_image", *_PRO_RATIOS)
_RESOLUTIONS = ("match_input_image", "0.5 MP", "1 MP", "2 MP", "4 MP")
_FORMATS = ("webp", "jpg", "png")


def _frozen(**items: Any) -> Mapping[str, Any]:
    return MappingProxyType(items)


@dataclass(frozen=True)
class FakeModel:
    """What the fake knows of a model's schema: enough to answer like the real one."""

    output_list: bool  # flux-schnell/dev give a list of URLs, the others one URL string
    default_format: str
    formats: tuple[str, ...]
    aspect_ratios: tuple[str, ...] | None  # None: anything goes
    steps: int | None  # default num_inference_steps; None: the model prints no tqdm bar
    max_steps: int | None = None
    multi_output: bool = False
    # A list of image URLs (FLUX.2's input_images) → the most items it takes.
    image_lists: Mapping[str, int] = field(default_factory=_frozen)
    # Single image URL fields (input_image, image, image_prompt ...).
    image_fields: tuple[str, ...] = ()
    # Numeric fields → (minimum, maximum), as Replicate's schema bounds them.
    ranges: Mapping[str, tuple[float, float]] = field(default_factory=_frozen)
    # Other enumerations (resolution, megapixels).
    choices: Mapping[str, tuple[str, ...]] = field(default_factory=_frozen)


def _flux2(max_images: int, **ranges: tuple[float, float]) -> FakeModel:
    return FakeModel(
        False,
        "webp",
        _FORMATS,
        _FLUX2_RATIOS,
        None,
        image_lists=_frozen(input_images=max_images),
        ranges=_frozen(output_quality=(0, 100), **ranges),
        choices=_frozen(resolution=_RESOLUTIONS),
    )


FLUX_MODELS: dict[str, FakeModel] = {
    "black-forest-labs/flux-schnell": FakeModel(True, "webp", _FORMATS, _ALL_RATIOS, 4, 4, True),
    "black-forest-labs/flux-dev": FakeModel(
        True,
        "webp",
        _FORMATS,
        _ALL_RATIOS,
        28,
        50,
        True,
        image_fields=("image",),
        ranges=_frozen(prompt_strength=(0, 1), guidance=(0, 10)),
    ),
    "black-forest-labs/flux-1.1-pro": FakeModel(
        False, "webp", _FORMATS, _PRO_RATIOS, None, image_fields=("image_prompt",)
    ),
    "black-forest-labs/flux-1.1-pro-ultra": FakeModel(
        False, "jpg", ("jpg", "png"), _ALL_RATIOS, None, image_fields=("image_prompt",)
    ),
    "black-forest-labs/flux-kontext-pro": FakeModel(
        False, "png", ("jpg", "png"), _KONTEXT_RATIOS, None, image_fields=("input_image",)
    ),
    # CometAPI's own example sends kontext-max three more images.
    "black-forest-labs/flux-kontext-max": FakeModel(
        False,
        "png",
        ("jpg", "png"),
        _KONTEXT_RATIOS,
        None,
        image_fields=("input_image", "input_image_2", "input_image_3", "input_image_4"),
    ),
    # Replicate's flux-pro 2b8181d8.
    "black-forest-labs/flux-pro": FakeModel(
        False,
        "webp",
        _FORMATS,
        _PRO_RATIOS,
        None,
        image_fields=("image_prompt",),
        ranges=_frozen(
            guidance=(2, 5), interval=(1, 4), safety_tolerance=(1, 6), width=(256, 1440)
        ),
    ),
    # Replicate's flux-2-pro 285631b5, flux-2-dev 7bba46bd and flux-2-flex.
    "black-forest-labs/flux-2-pro": _flux2(8, safety_tolerance=(1, 5), width=(256, 2048)),
    "black-forest-labs/flux-2-dev": _flux2(4, width=(256, 1440)),
    "black-forest-labs/flux-2-flex": _flux2(
        10, safety_tolerance=(1, 5), steps=(1, 50), guidance=(1.5, 10), width=(256, 2048)
    ),
}


def validate_input(model: FakeModel, inputs: Mapping[str, Any]) -> list[str]:
    """The checks Replicate's schema validation would make; messages in its wording."""
    problems = []
    prompt = inputs.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        problems.append("prompt is required")
    fmt = inputs.get("output_format")
    if fmt is not None and fmt not in model.formats:
        problems.append(f"output_format must be one of the following: {', '.join(model.formats)}")
    ratio = inputs.get("aspect_ratio")
    if ratio is not None and model.aspect_ratios is not None and ratio not in model.aspect_ratios:
        problems.append(
            f"aspect_ratio must be one of the following: {', '.join(model.aspect_ratios)}"
        )
    if "num_outputs" in inputs:
        count = inputs["num_outputs"]
        if not model.multi_output:
            pass  # the real API ignores fields a model does not declare
        elif not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= 4:
            problems.append(
                "num_outputs: Must be less than or equal to 4 and greater than or equal to 1"
            )
    steps = inputs.get("num_inference_steps")
    bad_steps = not isinstance(steps, int) or isinstance(steps, bool)
    if (
        steps is not None
        and model.max_steps is not None
        and (bad_steps or not 1 <= steps <= model.max_steps)
    ):
        problems.append(f"num_inference_steps: Must be between 1 and {model.max_steps}")
    problems.extend(_image_problems(model, inputs))
    problems.extend(_range_problems(model, inputs))
    for name, allowed in model.choices.items():
        value = inputs.get(name)
        if value is not None and value not in allowed:
            problems.append(f"{name} must be one of the following: {', '.join(allowed)}")
    return problems


def _is_uri(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(("http://", "https://", "data:"))


def _image_problems(model: FakeModel, inputs: Mapping[str, Any]) -> list[str]:
    problems = []
    for name in model.image_fields:
        if name in inputs and not _is_uri(inputs[name]):
            problems.append(f"{name}: Does not match format 'uri'")
    for name, most in model.image_lists.items():
        if name not in inputs:
            continue
        items = inputs[name]
        if not isinstance(items, list):
            problems.append(f"{name}: Invalid type. Expected: array, given: {type(items).__name__}")
            continue
        if len(items) > most:
            problems.append(f"{name}: Array must have at most {most} items")
        problems.extend(
            f"{name}.{i}: Does not match format 'uri'"
            for i, item in enumerate(items)
            if not _is_uri(item)
        )
    return problems


def _range_problems(model: FakeModel, inputs: Mapping[str, Any]) -> list[str]:
    problems = []
    for name, (low, high) in model.ranges.items():
        value = inputs.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            problems.append(f"{name}: Invalid type. Expected: number, given: string")
        elif value < low:
            problems.append(f"{name}: Must be greater than or equal to {low:g}")
        elif value > high:
            problems.append(f"{name}: Must be less than or equal to {high:g}")
    return problems


__all__ = ["FLUX_MODELS", "FakeModel", "validate_input"]
