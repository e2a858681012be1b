"""The matcher: whole words through an automaton, patterns through one RE2 alternation, and
stored terms that cannot run skipped with their reason."""

from __future__ import annotations

from dataclasses import dataclass

from bot.terms import MAX_PATTERNS_COST, compile_terms
from bot.terms.matcher import CompiledTerms


@dataclass(frozen=True)
class Term:
    term: str
    is_pattern: bool = False


def compiled(*texts: str) -> CompiledTerms[Term]:
    return compile_terms(tuple(Term(t, t.startswith("/") and t.endswith("/")) for t in texts))


def found(prompt: str, *texts: str) -> str | None:
    term = compiled(*texts).match(prompt)
    return None if term is None else term.term


def test_phrases_overlapping_in_the_prompt_are_all_found() -> None:
    """The automaton's failure links: a term inside a longer partial match is still seen."""
    assert found("a a cat", "a cat") == "a cat"
    assert found("big red dog", "big red cat", "red dog") == "red dog"
    assert found("one two one two three", "one two three") == "one two three"
    assert found("big red", "big red cat") is None


def test_terms_with_marks_need_the_same_marks() -> None:
    """`f*ck` matches with spaces around the mark, not with another mark or inside a word."""
    assert found("f * ck this", "f*ck") == "f*ck"
    assert found("f-ck", "f*ck") is None
    assert found("f*cking", "f*ck") is None
    assert found("x@everyone", "@everyone") == "@everyone"
    assert found("abc++", "c++") is None


def test_both_spellings_of_a_prompt_are_read() -> None:
    """Joined letters find `nude` in "n u d e"; unjoined ones still find `plan b`."""
    assert found("n u d e", "nude") == "nude"
    assert found("plan b a c", "plan b") == "plan b"
    assert found("a b c", "b") == "b"


def test_a_term_written_spaced_out_means_the_word() -> None:
    """The term is normalized too: `n u d e` blocks "nude"."""
    assert found("a nude", "n u d e") == "n u d e"


def test_patterns_see_the_normalized_and_the_typed_prompt() -> None:
    """`/cafe/` finds "CAFÉ" normalized; `/café/` finds "café" as typed; `/n\\.u/` too."""
    assert found("CAFÉ", "/cafe/") == "/cafe/"
    assert found("café", "/café/") == "/café/"
    assert found("n.u.d.e", "/n\\.u/") == "/n\\.u/"
    assert found("n.u.d.e", "/^nude$/") == "/^nude$/"


def test_the_pattern_that_matched_is_named() -> None:
    """One alternation finds a match; the term returned is the pattern that has it."""
    patterns = [f"/w{i}x+/" for i in range(30)]
    assert found("this has W17XXX inside", *patterns) == "/w17x+/"
    assert found("w17", *patterns) is None


def test_which_term_is_reported_when_several_match() -> None:
    """Words before patterns; of two ending on the same word, the longer; of two spellings
    of one term, the first listed; otherwise the one that ends first in the prompt."""
    assert found("a cat", "/a/", "cat") == "cat"
    assert found("red cat", "cat", "red cat") == "red cat"
    assert found("cat", "cat", "CAT") == "cat"
    assert found("dog and cat", "cat", "dog") == "dog"


def test_stored_patterns_that_cannot_run_are_skipped_with_their_reason() -> None:
    """A backreference, a broken pattern, an oversized one: skipped; the rest still works."""
    terms = compiled("/(a)\\1/", "/ca(t/", "/a{1000}/", "dog", "/bird+/")
    assert [(s.term.term, s.code) for s in terms.skipped] == [
        ("/(a)\\1/", "pattern_unsupported"),
        ("/ca(t/", "pattern_invalid"),
        ("/a{1000}/", "pattern_too_complex"),
    ]
    assert terms.match("aa ca(t") is None
    assert terms.match("a dog") is not None
    assert terms.match("a birddd") is not None


def test_patterns_past_the_servers_budget_are_skipped_in_order() -> None:
    """The first patterns listed fit the budget; the rest are skipped as too complex."""
    texts = [f"/[ab]*a[ab]{{20}}z{i:02d}/" for i in range(40)]
    terms = compiled(*texts)
    kept = len(texts) - len(terms.skipped)
    assert 0 < kept < len(texts)
    assert all(s.code == "patterns_too_complex" for s in terms.skipped)
    assert [s.term.term for s in terms.skipped] == texts[kept:]
    assert terms.skipped[0].params["limit"] == MAX_PATTERNS_COST
    assert terms.match("z00 " + "a" * 30 + "z00") is not None


def test_an_empty_or_wordless_list_matches_nothing() -> None:
    """No terms, or terms that normalize to nothing, never match."""
    assert not compiled()
    assert compiled().match("anything") is None
    assert compiled("\ufdfa").match("\ufdfa") is None  # folds to a space: no word
