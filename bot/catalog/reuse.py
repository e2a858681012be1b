"""A new request made from a stored input (Re-roll, and any later button that starts a job from
a past job's input): checked exactly like a fresh command, in the place it is made now.

A stored input was valid where and when it was made; a member who can press a button in
another channel, or after the server's rules changed, must not carry it past the rules that
hold now. So nothing is copied through: every stored field is given to the same validation as
a fresh command, with the current channel's `InputPolicy`. A field the policy refuses is
refused, with its sentence, never dropped silently.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from bot.catalog import errors as E
from bot.catalog.errors import InputValidationError, Problem
from bot.catalog.extra import ExtraValue
from bot.catalog.mapping import InputPolicy, _build, _extra_allowed, draw_seed
from bot.catalog.spec import IMAGE_TYPES, FieldSpec, ModelSpec
from bot.catalog.variation import carried_input

# A new seed should differ from the old one; a few draws make a collision practically impossible.
_SEED_DRAWS = 8


@dataclass(frozen=True)
class VariationStep:
    """Vary (Subtle/Strong): the stored input was made by `source`; the new job runs the
    model `reuse_input` is given (`source.variation.model`) at this level."""

    source: ModelSpec
    level: str

    @property
    def model(self) -> str:
        """The model that makes the variation."""
        if self.source.variation is None:
            raise ValueError(f"{self.source.id} has no variation")
        return self.source.variation.model


def reuse_input(
    spec: ModelSpec,
    stored: Mapping[str, Any],
    *,
    policy: InputPolicy,
    options: Mapping[str, Any] | None = None,
    new_seed: bool = False,
    images_from_discord: bool = False,
    variation: VariationStep | None = None,
    rng: Callable[[], int] | None = None,
) -> dict[str, Any]:
    """The input of a new request built from `stored`, or InputValidationError.

    - A field a slash option feeds is validated as that option (a stored `num_outputs` as
      `count`), any other field as if the member had typed it in `extra`, so a safety setting
      the channel does not allow is refused, exactly as it would be for a fresh command.
    - A field still at its declared default is the default the new input gets anyway; it is
      not a choice anyone made, so it passes as the default (a channel that forbids changing
      the safety tolerance accepts the default tolerance).
    - `options` (slash option names) replace stored values: a new prompt, a new image.
    - An image keeps its stored value only when `images_from_discord` says the bot took it
      from an attachment or a message it fetched from Discord; otherwise it is refused like an
      image typed into `extra`.
    - `new_seed` draws a seed other than the stored one (Re-roll).
    - `variation`: the stored input is another model's; what a variation keeps of it (the
      prompt, and the count and format where they fit) becomes `spec`'s input, with the
      catalog's strength for the level. The chosen image comes in `options`.
    """
    if variation is not None:
        plan = variation.source.variation
        if plan is None or plan.model != spec.id:
            raise ValueError(f"{variation.source.id} is not varied with {spec.id}")
        stored = carried_input(variation.source, stored, spec, plan, variation.level)
    given: dict[str, ExtraValue] = {}
    extra: dict[str, ExtraValue] = {}
    problems: list[Problem] = []
    for name, value in stored.items():
        field = spec.fields.get(name)
        if value is None:
            continue
        if field is None:
            # The catalog changed since: the model no longer declares this field.
            allowed = _extra_allowed(spec, policy)
            problems.append(
                Problem(E.UNKNOWN_EXTRA_FIELD, name, {"model": spec.id, "allowed": allowed})
            )
        elif field.option == "seed" and new_seed:
            continue
        elif field.type in IMAGE_TYPES and not images_from_discord:
            allowed = _extra_allowed(spec, policy)
            problems.append(Problem(E.EXTRA_IMAGE_FIELD, name, {"allowed": allowed}))
        elif field.option is not None:
            given[field.option] = ExtraValue(value)
        elif value != field.default:
            extra[name] = ExtraValue(value)
    for option, value in (options or {}).items():
        if value is not None:
            given[option] = ExtraValue(value)
    seed = spec.option_field("seed")
    if new_seed and seed is not None:
        rng = _other_seed(seed, stored.get(seed.name), rng)
    try:
        result = _build(spec, given, extra, policy, rng)
    except InputValidationError as exc:
        raise InputValidationError([*problems, *exc.problems]) from None
    if problems:
        raise InputValidationError(problems)
    return result


def _other_seed(field: FieldSpec, old: Any, rng: Callable[[], int] | None) -> Callable[[], int]:
    def draw() -> int:
        new = draw_seed(field, rng)
        for _ in range(_SEED_DRAWS):
            if new != old:
                break
            new = draw_seed(field, rng)
        return new

    return draw


__all__ = ["VariationStep", "reuse_input"]
