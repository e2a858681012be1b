"""What a moderator may block: words and phrases with letters, and /patterns/ that are valid,
short and free of nested repetition."""

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
        ("/(a+)+$/", "pattern_too_slow"),
        ("/(\\w*x){2,}/", "pattern_too_slow"),
        ("/((ab)*c)*/", "pattern_too_slow"),
    ],
)
def test_bad_terms_are_refused_with_a_sentence(text: str, code: str) -> None:
    """Empty, overlong, invalid or catastrophic terms are refused when added, with a reason."""
    with pytest.raises(BlockedTermError) as caught:
        validate_term(text)
    assert caught.value.code == code
    assert str(caught.value).endswith(".")


@pytest.mark.parametrize("pattern", ["/(ab)+/", "/a+b+/", "/(cat|dog)s?/", "/[(]a+[)]+/"])
def test_harmless_patterns_are_accepted(pattern: str) -> None:
    """Quantified groups without inner repetition, and brackets in classes, are fine."""
    assert validate_term(pattern).is_pattern


def test_a_term_is_stripped_and_slashes_make_a_pattern() -> None:
    """Surrounding spaces go; only /text/ with something between the slashes is a pattern."""
    word = validate_term("  red cat ")
    assert (word.term, word.is_pattern, word.pattern) == ("red cat", False, "")
    pattern = validate_term("/c[a@]t/")
    assert (pattern.is_pattern, pattern.pattern) == (True, "c[a@]t")
    assert not is_pattern_term("//") and is_pattern_term("/a/")
