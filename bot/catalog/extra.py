"""Parsing of the `extra` option: `key=value; key=value`.

Values may be quoted ("a; b" or 'x', with \\" and \\\\ escapes) so that a semicolon can be part
of a value. Unquoted values become booleans (true/false/yes/no/on/off), integers or floats when
they look like one; the original text is kept beside the value so that a string field such as
megapixels="1" or a seed-like string is not mangled by that guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from bot.catalog.errors import EXTRA_SYNTAX, InputValidationError, Problem

TRUE_WORDS = frozenset({"true", "yes", "on"})
FALSE_WORDS = frozenset({"false", "no", "off"})
_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_INT = re.compile(r"^[+-]?\d+$")
_FLOAT = re.compile(r"^[+-]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?$")
_SEPARATORS = ";\n"


@dataclass(frozen=True)
class ExtraValue:
    """A parsed value and the text it came from (None when the caller gave a typed value)."""

    value: Any
    text: str | None = None
    quoted: bool = False


def scalar(text: str) -> Any:
    """Guess the type of an unquoted value."""
    lowered = text.lower()
    if lowered in TRUE_WORDS:
        return True
    if lowered in FALSE_WORDS:
        return False
    if _INT.match(text):
        return int(text)
    if _FLOAT.match(text):
        return float(text)
    return text


def value_token(raw: str) -> ExtraValue:
    """One value as written on a command line: quotes around the whole value are removed."""
    text = raw.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return ExtraValue(text[1:-1], text[1:-1], quoted=True)
    return ExtraValue(scalar(text), text)


def parse_extra(text: str) -> dict[str, Any]:
    """`key=value; key=value` to a dict of typed values; every syntax error raised at once."""
    return {key: token.value for key, token in parse_extra_tokens(text).items()}


def parse_extra_tokens(text: str) -> dict[str, ExtraValue]:
    """Like parse_extra, keeping each value's original text for string fields."""
    result: dict[str, ExtraValue] = {}
    problems: list[Problem] = []
    i, n = 0, len(text)

    def syntax(reason: str, detail: str, position: int, key: str | None = None) -> None:
        problems.append(
            Problem(
                EXTRA_SYNTAX, key, {"reason": reason, "position": position + 1, "detail": detail}
            )
        )

    def skip_to_separator(j: int) -> int:
        while j < n and text[j] not in _SEPARATORS:
            j += 1
        return j

    while i < n:
        while i < n and (text[i].isspace() or text[i] in _SEPARATORS):
            i += 1
        if i >= n:
            break
        start = i
        while i < n and text[i] != "=" and text[i] not in _SEPARATORS:
            i += 1
        key = text[start:i].strip()
        if i >= n or text[i] != "=":
            syntax("missing_equals", f"{key!r} has no '=' (at character {start + 1})", start, key)
            continue
        if not _KEY.match(key):
            syntax(
                "bad_key",
                f"{key!r} is not a field name (at character {start + 1})",
                start,
                key or None,
            )
            i = skip_to_separator(i)
            continue
        i += 1  # past '='
        while i < n and text[i] in " \t":
            i += 1
        value_start = i
        token: ExtraValue | None = None
        if i < n and text[i] in "\"'":
            quote = text[i]
            i += 1
            chars: list[str] = []
            closed = False
            while i < n:
                c = text[i]
                if c == "\\" and i + 1 < n and text[i + 1] in (quote, "\\"):
                    chars.append(text[i + 1])
                    i += 2
                elif c == quote:
                    closed = True
                    i += 1
                    break
                else:
                    chars.append(c)
                    i += 1
            if not closed:
                syntax(
                    "unterminated_quote",
                    f"the quote opened at character {value_start + 1} is never closed",
                    value_start,
                    key,
                )
                break
            while i < n and text[i] in " \t":
                i += 1
            if i < n and text[i] not in _SEPARATORS:
                syntax(
                    "text_after_quote",
                    f"unexpected text after the quoted value of {key} (at character {i + 1})",
                    i,
                    key,
                )
                i = skip_to_separator(i)
                continue
            value = "".join(chars)
            token = ExtraValue(value, value, quoted=True)
        else:
            i = skip_to_separator(i)
            raw = text[value_start:i].strip()
            if not raw:
                syntax("missing_value", f"{key} has no value", value_start, key)
                continue
            token = ExtraValue(scalar(raw), raw)
        if key in result:
            syntax("duplicate_key", f"{key} is given twice", start, key)
            continue
        result[key] = token

    if problems:
        raise InputValidationError(problems)
    return result
