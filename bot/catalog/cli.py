"""`python -m bot generate --option key=value`: the same validation as the slash commands."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from bot.catalog import errors as E
from bot.catalog.catalog import Catalog
from bot.catalog.errors import InputValidationError, Problem
from bot.catalog.extra import ExtraValue, value_token
from bot.catalog.mapping import InputPolicy, _build
from bot.catalog.spec import SLASH_OPTIONS

# The operator runs the CLI with their own key, so the safety tolerance is theirs to set, and
# any field may be named (an image URL too); disable_safety_checker stays refused, as everywhere.
CLI_POLICY = InputPolicy(age_restricted_channel=True, allow_nsfw=True, operator=True)


def cli_input(
    catalog: Catalog,
    model_id: str,
    prompt: str,
    option_pairs: Sequence[str],
    *,
    policy: InputPolicy = CLI_POLICY,
    rng: Callable[[], int] | None = None,
) -> dict[str, Any]:
    """The model's input for a CLI run; each `key=value` names a slash option or an input field.

    Slash option names (count, format, quality, seed, aspect_ratio, image) go through the
    option mapping; anything else is an input field, exactly like `extra`. Raises
    UnknownModelError or InputValidationError (str() is a readable English summary).
    """
    spec = catalog.get(model_id)
    options: dict[str, ExtraValue] = {"prompt": ExtraValue(prompt, prompt)}
    fields: dict[str, ExtraValue] = {}
    problems: list[Problem] = []
    for position, pair in enumerate(option_pairs, start=1):
        key, sep, raw = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            problems.append(
                Problem(
                    E.EXTRA_SYNTAX,
                    key or None,
                    {
                        "reason": "missing_equals",
                        "position": position,
                        "detail": f"--option {pair!r} is not key=value",
                    },
                )
            )
            continue
        target = options if key in SLASH_OPTIONS and key != "prompt" else fields
        if key in target:
            problems.append(
                Problem(
                    E.EXTRA_SYNTAX,
                    key,
                    {
                        "reason": "duplicate_key",
                        "position": position,
                        "detail": f"{key} is given twice",
                    },
                )
            )
            continue
        target[key] = value_token(raw)
    try:
        result = _build(spec, options, fields, policy, rng)
    except InputValidationError as exc:
        raise InputValidationError([*problems, *exc.problems]) from None
    if problems:
        raise InputValidationError(problems)
    return result
