"""What a term may be: checked with RE2, the engine that runs it, within size budgets."""

from __future__ import annotations

import pytest

from bot.terms import (
    MAX_PATTERN_COST,
    MAX_PATTERNS_COST,
    TermRejected,
    check_pattern_budget,
    check_term,
)
from bot.terms.syntax import compile_pattern, pattern_cost


def rejected(text: str) -> TermRejected:
    with pytest.raises(TermRejected) as caught:
        check_term(text)
    return caught.value


def test_words_and_patterns_are_told_apart_and_stripped() -> None:
    """A term between slashes is a pattern; everything else a word or phrase."""
    word = check_term("  red cat ")
    assert (word.term, word.is_pattern, word.cost) == ("red cat", False, 0)
    pattern = check_term(" /c[a@]t/ ")
    assert (pattern.term, pattern.is_pattern) == ("/c[a@]t/", True)
    assert 0 < pattern.cost <= MAX_PATTERN_COST
    # Too short to be a pattern, and no letter to be a word.
    assert rejected("//").code == "term_no_letters"


def test_patterns_python_accepts_but_re2_cannot_run_are_refused_as_unsupported() -> None:
    """Backreferences, lookaround and possessive repeats: one sentence naming RE2 and why."""
    for text in ("/(a)\\1/", "/cat(?!s)/", "/(?<=x)y/", "/a++/", "/end\\Z/"):
        error = rejected(text)
        assert error.code == "pattern_unsupported", text
        assert "RE2" in str(error) and str(error).endswith(".")


def test_invalid_patterns_carry_re2s_reason() -> None:
    """A pattern neither engine reads is invalid, with RE2's words in `error`."""
    error = rejected("/ca(t/")
    assert error.code == "pattern_invalid"
    assert "missing )" in error.params["error"]


def test_re2_syntax_python_lacks_is_welcome() -> None:
    """Unicode classes and `\\z` are RE2's own; they are accepted."""
    assert check_term("/\\p{Greek}/").is_pattern
    assert check_term("/cat\\z/").is_pattern


def test_pattern_size_is_capped() -> None:
    """A large counted repeat multiplies the compiled program: refused, with the limit."""
    assert check_term("/a{10}/").cost < MAX_PATTERN_COST
    error = rejected("/a{1000}/")
    assert error.code == "pattern_too_complex"
    assert error.params == {"limit": MAX_PATTERN_COST}
    assert rejected("/\\pL{20}/").code == "pattern_too_complex"  # "pattern too large" in RE2


def test_patterns_are_case_insensitive_and_capture_nothing() -> None:
    """Compiled as the matcher runs them."""
    regex, _ = compile_pattern("c(a)t")
    assert regex.search("a CAT") is not None
    assert regex.groups == 0


def test_a_servers_patterns_share_a_budget() -> None:
    """check_pattern_budget adds the stored patterns' costs; words and re-adding cost nothing."""
    new = check_term("/[ab]*a[ab]{20}z/")
    many = [f"/[ab]*a[ab]{{20}}z{i:02d}/" for i in range(MAX_PATTERNS_COST // new.cost)]
    check_pattern_budget(many[:3], new)
    check_pattern_budget(["/(a)\\1/"], new)  # a stored pattern RE2 refuses costs nothing
    check_pattern_budget(many, check_term("plain words"))
    with pytest.raises(TermRejected) as caught:
        check_pattern_budget(many, new)
    assert caught.value.code == "patterns_too_complex"
    assert caught.value.params["limit"] == MAX_PATTERNS_COST
    assert caught.value.params["size"] > MAX_PATTERNS_COST
    assert pattern_cost("/(a)\\1/") == 0
