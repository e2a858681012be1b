"""parse_extra reads `key=value; key=value` with quotes, spaces, booleans and numbers."""

from __future__ import annotations

from typing import Any

import pytest

from bot.catalog import InputValidationError, parse_extra


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", {}),
        ("   ;; ", {}),
        ("guidance=3.5", {"guidance": 3.5}),
        ("steps=28", {"steps": 28}),
        ("steps=-3", {"steps": -3}),
        ("scale=1e-2", {"scale": 0.01}),
        ("scale=.5", {"scale": 0.5}),
        ("  guidance = 3.5 ;  steps=4  ", {"guidance": 3.5, "steps": 4}),
        (
            "a=true; b=False; c=YES; d=no; e=on; f=off",
            {"a": True, "b": False, "c": True, "d": False, "e": True, "f": False},
        ),
        ("style=oil painting", {"style": "oil painting"}),
        ("ratio=16:9", {"ratio": "16:9"}),
        ('text="a; b"', {"text": "a; b"}),
        ("text='it is; fine'", {"text": "it is; fine"}),
        ('text="say \\"hi\\""', {"text": 'say "hi"'}),
        ("text='back\\\\slash'", {"text": "back\\slash"}),
        ('n="42"', {"n": "42"}),
        ('flag="true"', {"flag": "true"}),
        ('empty=""', {"empty": ""}),
        ("url=https://x.test/a.png?b=1&c=2", {"url": "https://x.test/a.png?b=1&c=2"}),
        ("a=1\nb=2", {"a": 1, "b": 2}),
        ("a=1;", {"a": 1}),
        ("nan=nan", {"nan": "nan"}),
    ],
)
def test_parse_extra(text: str, expected: dict[str, Any]) -> None:
    """Values are typed by their look unless quoted; semicolons inside quotes are kept."""
    result = parse_extra(text)
    assert result == expected
    for key, value in expected.items():
        assert type(result[key]) is type(value)


@pytest.mark.parametrize(
    ("text", "reasons"),
    [
        ("guidance", ["missing_equals"]),
        ("guidance 3", ["missing_equals"]),
        ("=3", ["bad_key"]),
        ("my field=3", ["bad_key"]),
        ("9lives=3", ["bad_key"]),
        ("a=", ["missing_value"]),
        ('a="open', ["unterminated_quote"]),
        ("a='open; b=2", ["unterminated_quote"]),
        ('a="x" y; b=2', ["text_after_quote"]),
        ("a=1; a=2", ["duplicate_key"]),
        ("a; b=; c=1; c=2", ["missing_equals", "missing_value", "duplicate_key"]),
    ],
)
def test_parse_extra_syntax_errors(text: str, reasons: list[str]) -> None:
    """Every syntax error is an extra_syntax problem with a reason and a 1-based position."""
    with pytest.raises(InputValidationError) as caught:
        parse_extra(text)
    problems = caught.value.problems
    assert [p.code for p in problems] == ["extra_syntax"] * len(reasons)
    assert [p.params["reason"] for p in problems] == reasons
    assert all(p.params["position"] >= 1 for p in problems)
    assert "key=value" in str(caught.value)


def test_syntax_error_position() -> None:
    """The position points at the offending pair."""
    with pytest.raises(InputValidationError) as caught:
        parse_extra("a=1; oops")
    assert caught.value.problems[0].params["position"] == 6
    assert caught.value.problems[0].field == "oops"
