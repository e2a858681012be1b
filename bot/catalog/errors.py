"""Errors of the catalog. They carry data; the Discord layer picks the words per locale by
`Problem.code`, and `str()` gives plain English for the CLI and the logs."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any


class CatalogError(Exception):
    """A catalog file is unusable. `str()` is one sentence naming the file, the entry and the problem."""

    def __init__(self, path: str, entry: str | None, problem: str) -> None:
        self.path = path
        self.entry = entry
        self.problem = problem
        super().__init__(str(self))

    def __str__(self) -> str:
        problem = self.problem.rstrip(".")
        if self.entry:
            return f"The model catalog {self.path} is invalid at {self.entry}: {problem}."
        return f"The model catalog {self.path} is invalid: {problem}."


class UnknownModelError(LookupError):
    """No model with this id in the catalog; `suggestions` are ids the user may have meant."""

    def __init__(self, model_id: str, suggestions: Iterable[str] = ()) -> None:
        self.model_id = model_id
        self.suggestions: tuple[str, ...] = tuple(suggestions)
        super().__init__(model_id)

    def __str__(self) -> str:
        text = f"Unknown model {self.model_id!r}."
        if self.suggestions:
            text += " Did you mean " + " or ".join(self.suggestions) + "?"
        return text


# Codes the Discord layer localizes. Kept as constants so a typo fails at import, not in a reply.
EMPTY_PROMPT = "empty_prompt"
PROMPT_TOO_LONG = "prompt_too_long"
OPTION_NOT_ACCEPTED = "option_not_accepted"
NOT_IN_CHOICES = "not_in_choices"
OUT_OF_RANGE = "out_of_range"
NOT_MULTIPLE = "not_multiple"
WRONG_TYPE = "wrong_type"
UNKNOWN_EXTRA_FIELD = "unknown_extra_field"
EXTRA_SYNTAX = "extra_syntax"
NOT_USER_CONTROLLABLE = "not_user_controllable"
EXTRA_CONFLICTS_OPTION = "extra_conflicts_option"
REQUIRES = "requires"
COUNT_UNSUPPORTED = "count_unsupported"
MISSING_REQUIRED = "missing_required"
EXTRA_OPTION_FIELD = "extra_option_field"
EXTRA_IMAGE_FIELD = "extra_image_field"
IMAGE_COUNT = "image_count"


@dataclass(frozen=True)
class Problem:
    """One reason an input was refused.

    `field` is the name the user used: the slash option (`count`) when the value came from an
    option, the input field (`guidance`) when it came from `extra`; None when no field applies.
    `params` holds what a sentence needs (allowed values, bounds, ...), see each code below.
    """

    code: str
    field: str | None = None
    params: Mapping[str, Any] = dataclasses.field(default_factory=dict, hash=False)

    def message(self) -> str:
        """One English sentence for the CLI and the logs."""
        p = self.params
        name = self.field or "input"
        value = _show(p.get("value"))
        if self.code == EMPTY_PROMPT:
            return "The prompt is empty; describe the image you want."
        if self.code == PROMPT_TOO_LONG:
            return f"The prompt has {p['length']} characters; the limit is {p['maximum']}."
        if self.code == OPTION_NOT_ACCEPTED:
            accepted = ", ".join(p.get("accepted", ())) or "none"
            return f"{p.get('model', 'This model')} does not take the option {name}; it takes: {accepted}."
        if self.code == NOT_IN_CHOICES:
            allowed = ", ".join(_show(c) for c in p["allowed"])
            return f"{name}: {value} is not allowed; use one of {allowed}."
        if self.code == OUT_OF_RANGE:
            bounds = _bounds(p.get("minimum"), p.get("maximum"))
            why = " with an input image" if p.get("reason") == "input_image" else ""
            return f"{name}: {value} is out of range; use {bounds}{why}."
        if self.code == NOT_MULTIPLE:
            return f"{name}: {value} must be a multiple of {p['multiple_of']}."
        if self.code == WRONG_TYPE:
            expected = _TYPE_WORDS.get(p["expected"], p["expected"])
            return f"{name}: {value} is not {expected}."
        if self.code == UNKNOWN_EXTRA_FIELD:
            allowed = ", ".join(p.get("allowed", ())) or "none"
            hint = f" Did you mean {p['suggestion']}?" if p.get("suggestion") else ""
            return f"{p.get('model', 'This model')} has no input field {name}; extra accepts: {allowed}.{hint}"
        if self.code == EXTRA_SYNTAX:
            return f"extra could not be read: {p.get('detail', 'syntax error')}; write key=value; key=value."
        if self.code == NOT_USER_CONTROLLABLE:
            if p.get("reason") == "nsfw_policy":
                return (
                    f"{name} can only be changed in an age-restricted channel of a server "
                    "that allows it."
                )
            return f"{name} cannot be set by users."
        if self.code == EXTRA_CONFLICTS_OPTION:
            return f"{name} is set both by the option {p['option']} and in extra; give it once."
        if self.code == REQUIRES:
            needs = ", ".join(f"{k}={_show(v)}" for k, v in p["requires"].items())
            return f"{name} can only be used with {needs}."
        if self.code == COUNT_UNSUPPORTED:
            return f"{p.get('model', 'This model')} gives one image per request; count must be 1."
        if self.code == IMAGE_COUNT:
            bounds = _bounds(p.get("minimum"), p.get("maximum"))
            return f"{name} takes {bounds} images; {p.get('count')} were given."
        if self.code == MISSING_REQUIRED:
            return f"{name} is required."
        if self.code in (EXTRA_OPTION_FIELD, EXTRA_IMAGE_FIELD):
            allowed = ", ".join(p.get("allowed", ())) or "none"
            if self.code == EXTRA_OPTION_FIELD:
                why = f"{name} is set with the option {p['option']}, not in extra"
            else:
                why = f"{name} takes an image, which only an attachment can give"
            return f"{why}; extra accepts: {allowed}."
        return f"{name}: {self.code}."


_TYPE_WORDS = {
    "string": "text",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "image": "an image URL (http or https)",
    "images": "a list of image URLs (http or https)",
}


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, str):
        return repr(value if len(value) <= 60 else value[:57] + "...")
    return str(value)


def _bounds(minimum: Any, maximum: Any) -> str:
    if minimum is not None and maximum is not None:
        return f"{_show(minimum)}–{_show(maximum)}"
    if minimum is not None:
        return f"at least {_show(minimum)}"
    return f"at most {_show(maximum)}"


class InputValidationError(ValueError):
    """The options do not fit the model. Names every problem at once."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: list[Problem] = list(problems)
        super().__init__(str(self))

    @property
    def codes(self) -> list[str]:
        return [p.code for p in self.problems]

    def __str__(self) -> str:
        return " ".join(p.message() for p in self.problems)
