"""Slash options (and `extra`) to a model's `input`, validated against the catalog.

Nothing is dropped silently: an option the model does not take, a value outside the declared
choices or range, or a field the user may not set is a Problem, and every Problem of a request
is reported at once so the user can fix them in one go.
"""

from __future__ import annotations

import difflib
import math
import random
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from bot.catalog import errors as E
from bot.catalog.errors import InputValidationError, Problem
from bot.catalog.extra import FALSE_WORDS, TRUE_WORDS, ExtraValue, parse_extra_tokens
from bot.catalog.spec import IMAGE_TYPES, SLASH_OPTIONS, FieldSpec, ModelSpec

# Slash options that reach this function but are not input (the command layer may pass them).
_IGNORED_OPTIONS = frozenset({"model", "extra"})
_IMAGE_URL = re.compile(r"^(?:https?://\S+|data:image/[\w.+-]+[;,]\S*)$", re.IGNORECASE)
_DEFAULT_SEED_MAX = 2**31 - 1


@dataclass(frozen=True)
class InputPolicy:
    """What the channel and the server allow (DESIGN.md, Moderation), and who asks."""

    age_restricted_channel: bool = False
    allow_nsfw: bool = False  # the server allows relaxed safety in age-restricted channels
    max_prompt_length: int = 2000
    # The operator at the terminal (`generate --option`) may name any field a user may set,
    # images and option-fed fields included. A member's `extra` sets only the model's extra
    # fields: an option's field is validated as that option, and an image must come from an
    # attachment or a message the bot fetched from Discord, never from typed text.
    operator: bool = False

    @property
    def relaxed_safety(self) -> bool:
        return self.age_restricted_channel and self.allow_nsfw


DEFAULT_POLICY = InputPolicy()


@dataclass(frozen=True)
class _Given:
    """A value the user gave, where it came from, and the name they used for it."""

    value: Any
    text: str | None
    source: str  # "option" | "extra"
    name: str  # the slash option name or the extra key


def build_input(
    spec: ModelSpec,
    options: Mapping[str, Any],
    *,
    extra: str | Mapping[str, Any] | None = None,
    policy: InputPolicy = DEFAULT_POLICY,
    rng: Callable[[], int] | None = None,
) -> dict[str, Any]:
    """The model's `input` for these slash options, or InputValidationError naming every problem.

    `options` keys are slash option names (prompt, aspect_ratio, count, seed, format, quality,
    image); None means not given. The result holds the user's values plus the default of every
    declared field, and a seed (random, from `rng`) when the model takes one.
    """
    tokens = {k: ExtraValue(v) for k, v in options.items()}
    return _build(spec, tokens, extra, policy, rng)


def _build(
    spec: ModelSpec,
    options: Mapping[str, ExtraValue],
    extra: str | Mapping[str, Any] | None,
    policy: InputPolicy,
    rng: Callable[[], int] | None,
) -> dict[str, Any]:
    problems: list[Problem] = []
    given = _collect(spec, options, extra, policy, problems)
    values = _check_values(spec, given, policy, problems)
    result = _with_defaults(spec, values)
    _check_requirements(spec, given, values, result, problems)
    if problems:
        raise InputValidationError(problems)

    seed = spec.option_field("seed")
    if seed is not None and seed.name not in result:
        result[seed.name] = draw_seed(seed, rng)
    return {name: result[name] for name in spec.fields if name in result}


def _collect(
    spec: ModelSpec,
    options: Mapping[str, ExtraValue],
    extra: str | Mapping[str, Any] | None,
    policy: InputPolicy,
    problems: list[Problem],
) -> dict[str, _Given]:
    """Which field each option and extra key sets; refuses options and keys the model lacks."""
    given: dict[str, _Given] = {}
    for option, token in options.items():
        if option in _IGNORED_OPTIONS:
            continue
        if option not in SLASH_OPTIONS:
            raise ValueError(f"unknown slash option {option!r}; expected one of {SLASH_OPTIONS}")
        if token.value is None:
            continue
        field = spec.option_field(option)
        if field is None:
            problems.extend(_unaccepted_option(spec, option, token.value))
            continue
        given[field.name] = _Given(token.value, token.text, "option", option)

    extra_tokens: Mapping[str, ExtraValue] = {}
    if isinstance(extra, str):
        try:
            extra_tokens = parse_extra_tokens(extra)
        except InputValidationError as exc:
            problems.extend(exc.problems)
    elif extra is not None:
        extra_tokens = {
            k: v if isinstance(v, ExtraValue) else ExtraValue(v) for k, v in extra.items()
        }
    for key, token in extra_tokens.items():
        field = spec.fields.get(key)
        if field is None:
            problems.append(_unknown_extra(spec, key, policy))
        elif not policy.operator and field.type in IMAGE_TYPES:
            # Also when an option feeds it (flux-dev's `image`): /imagine has no such option,
            # and the sentence points to /edit, where an attachment gives it.
            problems.append(
                Problem(E.EXTRA_IMAGE_FIELD, key, {"allowed": _extra_allowed(spec, policy)})
            )
        elif not policy.operator and field.option is not None:
            problems.append(
                Problem(
                    E.EXTRA_OPTION_FIELD,
                    key,
                    {"option": field.option, "allowed": _extra_allowed(spec, policy)},
                )
            )
        elif field.name in given:
            problems.append(
                Problem(
                    E.EXTRA_CONFLICTS_OPTION,
                    key,
                    {"option": given[field.name].name, "input_field": field.name},
                )
            )
        else:
            given[field.name] = _Given(token.value, token.text, "extra", key)

    prompt_field = spec.option_field("prompt")
    if prompt_field is not None and prompt_field.name not in given:
        problems.insert(0, Problem(E.EMPTY_PROMPT, "prompt"))
    return given


def _check_values(
    spec: ModelSpec, given: Mapping[str, _Given], policy: InputPolicy, problems: list[Problem]
) -> dict[str, Any]:
    """The given values that pass the policy, their type, choices and range, coerced."""
    values: dict[str, Any] = {}
    for name, item in given.items():
        field = spec.fields[name]
        problem = _refusal_by_policy(field, item, policy)
        if problem is None:
            value, problem = _validate(field, item, policy)
            if problem is None:
                values[name] = value
        if problem is not None:
            problems.append(problem)

    # kontext: safety_tolerance is at most 2 once an input image is part of the request.
    has_image = any(spec.fields[n].type in IMAGE_TYPES and values[n] for n in values)
    for name, value in list(values.items()):
        field = spec.fields[name]
        cap = field.maximum_with_image
        if has_image and cap is not None and value > cap:
            item = given[name]
            del values[name]
            problems.append(
                Problem(
                    E.OUT_OF_RANGE,
                    item.name,
                    _params(
                        field,
                        item,
                        value=item.value,
                        minimum=field.minimum,
                        maximum=cap,
                        reason="input_image",
                    ),
                )
            )
    return values


def _check_requirements(
    spec: ModelSpec,
    given: Mapping[str, _Given],
    values: Mapping[str, Any],
    result: Mapping[str, Any],
    problems: list[Problem],
) -> None:
    """`requires` (width only with aspect_ratio=custom) and required fields, on the final input."""
    for field in spec.fields.values():
        if field.requires and field.name in values:
            unmet = {k: v for k, v in field.requires.items() if result.get(k) != v}
            if unmet:
                item = given[field.name]
                problems.append(
                    Problem(
                        E.REQUIRES,
                        item.name,
                        _params(
                            field,
                            item,
                            requires=dict(field.requires),
                            actual={k: result.get(k) for k in unmet},
                        ),
                    )
                )
        # An empty prompt and an invalid value are already reported under their own codes.
        if (
            field.required
            and field.option != "prompt"
            and field.name not in result
            and field.name not in given
        ):
            problems.append(Problem(E.MISSING_REQUIRED, field.option or field.name))


def _unaccepted_option(spec: ModelSpec, option: str, value: Any) -> list[Problem]:
    if option == "count":
        # A model without num_outputs makes one image: count=1 is simply true, more is refused.
        if isinstance(value, int) and not isinstance(value, bool) and value == 1:
            return []
        if isinstance(value, str) and value.strip() == "1":
            return []
        return [
            Problem(E.COUNT_UNSUPPORTED, "count", {"model": spec.id, "value": value, "maximum": 1})
        ]
    return [
        Problem(
            E.OPTION_NOT_ACCEPTED,
            option,
            {"option": option, "model": spec.id, "accepted": list(spec.options)},
        )
    ]


def _extra_allowed(spec: ModelSpec, policy: InputPolicy) -> list[str]:
    return [f.name for f in spec.extra_fields() if not f.safety or policy.relaxed_safety]


def _unknown_extra(spec: ModelSpec, key: str, policy: InputPolicy) -> Problem:
    allowed = _extra_allowed(spec, policy)
    # A slash option name written in extra ("count=2") points at the field it feeds.
    fed = spec.option_field(key)
    if fed is not None:
        suggestion: str | None = fed.name
    else:
        settable = [f.name for f in spec.fields.values() if f.user_controllable]
        close = difflib.get_close_matches(key, settable, n=1, cutoff=0.6)
        suggestion = close[0] if close else None
    return Problem(
        E.UNKNOWN_EXTRA_FIELD,
        key,
        {"model": spec.id, "allowed": allowed, "suggestion": suggestion},
    )


def _refusal_by_policy(field: FieldSpec, item: _Given, policy: InputPolicy) -> Problem | None:
    if not field.user_controllable:
        return Problem(E.NOT_USER_CONTROLLABLE, item.name, _params(field, item, reason="never"))
    if field.safety and not policy.relaxed_safety:
        return Problem(
            E.NOT_USER_CONTROLLABLE, item.name, _params(field, item, reason="nsfw_policy")
        )
    return None


def _params(field: FieldSpec, item: _Given, **params: Any) -> dict[str, Any]:
    if item.name != field.name:
        params["input_field"] = field.name
    return params


def _validate(field: FieldSpec, item: _Given, policy: InputPolicy) -> tuple[Any, Problem | None]:
    value = _coerce(field, item.value, item.text)
    if value is _INVALID:
        return None, Problem(
            E.WRONG_TYPE, item.name, _params(field, item, value=item.value, expected=field.type)
        )
    if field.option == "prompt":
        value = value.strip()
        if not value:
            return None, Problem(E.EMPTY_PROMPT, item.name)
        if len(value) > policy.max_prompt_length:
            return None, Problem(
                E.PROMPT_TOO_LONG,
                item.name,
                {"maximum": policy.max_prompt_length, "length": len(value)},
            )
    if field.type == "images":
        problem = _image_count_problem(field, item, len(value))
        if problem is not None:
            return None, problem
    if field.choices is not None and value not in field.choices:
        # "PNG" means png; anything else is refused with the list of what is allowed.
        folded = [
            c for c in field.choices if isinstance(c, str) and c.lower() == str(value).lower()
        ]
        if not folded:
            return None, Problem(
                E.NOT_IN_CHOICES,
                item.name,
                _params(field, item, value=item.value, allowed=list(field.choices)),
            )
        value = folded[0]
    if field.type in ("integer", "number"):
        too_low = field.minimum is not None and value < field.minimum
        too_high = field.maximum is not None and value > field.maximum
        if too_low or too_high:
            return None, Problem(
                E.OUT_OF_RANGE,
                item.name,
                _params(
                    field, item, value=item.value, minimum=field.minimum, maximum=field.maximum
                ),
            )
        if field.multiple_of and value % field.multiple_of:
            return None, Problem(
                E.NOT_MULTIPLE,
                item.name,
                _params(field, item, value=item.value, multiple_of=field.multiple_of),
            )
    return value, None


_INVALID = object()


def _image_count_problem(field: FieldSpec, item: _Given, count: int) -> Problem | None:
    """A list of images holds between the field's min_items and max_items images."""
    low = field.min_items if field.min_items is not None else 1
    high = field.max_items
    if count >= low and (high is None or count <= high):
        return None
    return Problem(
        E.IMAGE_COUNT, item.name, _params(field, item, minimum=low, maximum=high, count=count)
    )


def _coerce(field: FieldSpec, value: Any, text: str | None) -> Any:
    """The value in the field's type, or _INVALID. Text from extra/CLI is read leniently."""
    kind = field.type
    if kind == "images":
        # A list the bot built from attachments or messages it fetched; each item is checked
        # like a single image field's value. The operator's `generate --option` gives text:
        # URLs separated by commas.
        if isinstance(value, str):
            value = [part for part in value.split(",") if part.strip()]
        if not isinstance(value, list | tuple):
            return _INVALID
        items = [_coerce_image(v) for v in value]
        return _INVALID if any(v is _INVALID for v in items) else items
    if kind in ("string", "image"):
        if text is not None:
            value = text  # keep "007" or "0.25" exactly as written
        if isinstance(value, bool):
            return _INVALID
        if isinstance(value, int | float):
            value = str(value)
        if not isinstance(value, str):
            return _INVALID
        return _coerce_image(value) if kind == "image" else value
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str):
            word = value.strip().lower()
            if word in TRUE_WORDS:
                return True
            if word in FALSE_WORDS:
                return False
        return _INVALID
    if isinstance(value, bool):
        return _INVALID
    if isinstance(value, str):
        try:
            value = float(value.strip()) if kind == "number" else _int_text(value)
        except ValueError:
            return _INVALID
    if isinstance(value, float):
        if not math.isfinite(value):
            return _INVALID
        if kind == "integer":
            return int(value) if value.is_integer() else _INVALID
        return value
    if isinstance(value, int):
        return value
    return _INVALID


def _coerce_image(value: Any) -> Any:
    if not isinstance(value, str):
        return _INVALID
    value = value.strip()
    return value if _IMAGE_URL.match(value) else _INVALID


def _int_text(text: str) -> int | float:
    text = text.strip()
    try:
        return int(text)
    except ValueError:
        return float(text)  # "4.0" is read as 4; "4.5" is refused by the caller


def _with_defaults(spec: ModelSpec, values: Mapping[str, Any]) -> dict[str, Any]:
    """User values plus every declared default, honouring `requires` (no width unless custom)."""
    result: dict[str, Any] = {}
    for field in spec.fields.values():
        if field.name in values:
            result[field.name] = values[field.name]
        elif field.default is not None and not field.requires:
            result[field.name] = field.default
    for field in spec.fields.values():
        if (
            field.requires
            and field.name not in result
            and field.default is not None
            and all(result.get(k) == v for k, v in field.requires.items())
        ):
            result[field.name] = field.default
    return result


def draw_seed(field: FieldSpec, rng: Callable[[], int] | None) -> int:
    """A seed inside the field's range: from `rng` (folded into range), else a system random."""
    low = int(field.minimum) if field.minimum is not None else 0
    high = int(field.maximum) if field.maximum is not None else _DEFAULT_SEED_MAX
    if rng is None:
        return random.SystemRandom().randint(low, high)
    return low + (int(rng()) - low) % (high - low + 1)


def edit_input(
    spec: ModelSpec,
    *,
    prompt: str,
    image_url: str,
    options: Mapping[str, Any] | None = None,
    extra: str | Mapping[str, Any] | None = None,
    policy: InputPolicy = DEFAULT_POLICY,
    rng: Callable[[], int] | None = None,
) -> dict[str, Any]:
    """Input for editing an image (a result, or an upload): the image goes in the model's image field."""
    merged = dict(options or {})
    merged["prompt"] = prompt
    merged["image"] = image_url
    return build_input(spec, merged, extra=extra, policy=policy, rng=rng)
