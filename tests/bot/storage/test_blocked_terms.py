"""What a moderator may block: words and phrases with letters, and /patterns/ that RE2 (the
engine that runs them) takes, within the size caps."""

from __future__ import annotations

import pytest

from bot.storage.blocked_terms import (
    MAX_PATTERN_LENGTH,
    MAX_TERM_LENGTH,
    BlockedTermError,
    is_pattern_term,
    validate_term,
)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("   ", "term_empty"),
        ("!!!", "term_no_letters"),
        ("x" * (MAX_TERM_LENGTH + 1), "term_too_long"),
        ("/" + "a" * (MAX_PATTERN_LENGTH + 1) + "/", "pattern_too_long"),
        ("/ca(t/", "pattern_invalid"),
        ("/[z-a]/", "pattern_invalid"),
        ("/(a)\\1/", "pattern_unsupported"),
        ("/cat(?=s)/", "pattern_unsupported"),
        ("/(?<!bob)cat/", "pattern_unsupported"),
        ("/a.{1000}/", "pattern_too_complex"),
        ("/\\pL{30}/", "pattern_too_complex"),
    ],
)
def test_bad_terms_are_refused_with_a_sentence(text: str, code: str) -> None:
    """Empty, overlong, invalid, unsupported or too large terms are refused, with a reason."""
    with pytest.raises(BlockedTermError) as caught:
        validate_term(text)
    assert caught.value.code == code
    assert str(caught.value).endswith(".")


@pytest.mark.parametrize(
    "pattern",
    [
        "/(ab)+/",
        "/a+b+/",
        "/(cat|dog)s?/",
        "/[(]a+[)]+/",
        # Catastrophic for a backtracking engine, linear for RE2: accepted (issue #15).
        "/(a+)+$/",
        "/(a|aa)+$/",
        "/(\\w*x){2,}/",
        "/((ab)*c)*/",
    ],
)
def test_harmless_patterns_are_accepted(pattern: str) -> None:
    """Any pattern RE2 runs within the size cap is accepted, nested repetition included."""
    assert validate_term(pattern).is_pattern


def test_a_term_is_stripped_and_slashes_make_a_pattern() -> None:
    """Surrounding spaces go; only /text/ with something between the slashes is a pattern."""
    word = validate_term("  red cat ")
    assert (word.term, word.is_pattern, word.pattern) == ("red cat", False, "")
    pattern = validate_term("/c[a@]t/")
    assert (pattern.is_pattern, pattern.pattern) == (True, "c[a@]t")
    assert not is_pattern_term("//") and is_pattern_term("/a/")
