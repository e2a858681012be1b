"""Blocked terms: whole words and phrases ignoring case, accents and width; patterns; CJK."""

from __future__ import annotations

import pytest

from bot.policy import BlockedTerm, TermCache, compile_terms, match_blocked_term
from bot.policy.moderation import normalize
from bot.storage.blocked_terms import validate_term


def blocks(term: str, prompt: str) -> bool:
    return match_blocked_term(prompt, [validate_term(term)]) is not None


@pytest.mark.parametrize(
    ("term", "prompt"),
    [
        ("cat", "a CAT on a mat"),
        ("Cat", "a cat"),
        ("café", "I love CAFE"),
        ("cafe", "Café au lait"),
        ("naïve", "NAIVE art"),
        ("straße", "STRASSE at night"),
        ("cat", "ＣＡＴ in full width"),
        ("ＣＡＴ", "a cat"),
        ("cat", "c\u200bat with a zero-width space"),
        ("cat", "(cat)"),
        ("cat", "cat."),
        ("cat", "cat_pics"),
        ("cat", "黒cat猫"),
        ("red cat", "a RED   cat"),
        ("red cat", "red, cat"),
        ("red cat", "red-cat"),
        ("f*ck", "what the F*CK"),
        ("c++", "I write C++ daily"),
        ("@everyone", "hey @EVERYONE"),
    ],
)
def test_whole_words_match_ignoring_case_accents_and_width(term: str, prompt: str) -> None:
    """Each of these prompts contains the term as a whole word once normalized."""
    assert blocks(term, prompt)


@pytest.mark.parametrize(
    ("term", "prompt"),
    [
        ("cat", "category"),
        ("cat", "concatenate"),
        ("cat", "bobcat"),
        ("cat", "cat5"),
        ("red cat", "red dog and a cat"),
        ("red cat", "redcat"),
        ("café", "cafeteria"),
        ("c++", "abc++"),
        ("f*ck", "f*cking"),
    ],
)
def test_words_inside_other_words_do_not_match(term: str, prompt: str) -> None:
    """Blocking "cat" does not block "category": a term must stand as its own word."""
    assert not blocks(term, prompt)


def test_cjk_terms_match_as_substrings_and_keep_voicing_marks() -> None:
    """CJK has no spaces, so a CJK term matches inside text; が is still not か."""
    assert blocks("猫", "黒猫です")
    assert blocks("黑猫", "一只黑猫在屋顶上")
    assert blocks("ねこ", "かわいいねこちゃん")
    assert blocks("ネコ", "ｶﾜｲｲﾈｺ")  # half-width katakana folds to full width
    assert blocks("ガ", "ｶﾞ")  # half-width voiced kana recomposes
    assert not blocks("か", "がっこう")
    assert blocks("고양이", "고양이가 좋아요")
    assert not blocks("猫", "犬です")


def test_patterns_match_the_normalized_and_the_typed_prompt() -> None:
    """A /regex/ term is a case-insensitive pattern over the normalized text (and the raw)."""
    assert blocks("/c[a@]t+/", "a C@TTT")
    assert blocks("/\\bnud(e|ity)\\b/", "Nudity")
    assert blocks("/cafe/", "CAFÉ")
    assert blocks("/café/", "café")
    assert not blocks("/^cat$/", "a cat")
    term = validate_term("/r[e3]d/")
    assert term.is_pattern and term.pattern == "r[e3]d"


def test_the_first_matching_term_is_returned() -> None:
    """match_blocked_term returns the term object that matched, to log it for moderators."""
    terms = [validate_term("dog"), validate_term("/ca+t/"), validate_term("bird")]
    found = match_blocked_term("a caaat and a bird", terms)
    assert found is not None and found.term in {"bird", "/ca+t/"}
    assert match_blocked_term("a fish", terms) is None
    assert match_blocked_term("anything", []) is None


def test_normalize_folds_case_accents_width_and_invisibles() -> None:
    """The normalized form used for matching (more in tests/bot/terms)."""
    assert normalize("Ｃａｆé\u00ad") == "cafe"
    assert normalize("ﬁne") == "fine"
    assert normalize("İstanbul") == "istanbul"
    assert normalize("が") == "が"


def test_compiled_terms_are_cached_by_content() -> None:
    """An unchanged list of terms compiles once; a changed list compiles anew."""
    a = (BlockedTerm("cat"), BlockedTerm("/do+g/", is_pattern=True))
    assert compile_terms(a) is compile_terms(tuple(a))
    assert compile_terms(a) is not compile_terms((*a, BlockedTerm("bird")))
    assert not compile_terms(())


def test_term_cache_follows_the_guild_version() -> None:
    """TermCache answers only for the version it was filled with, and can be invalidated."""
    cache = TermCache()
    compiled = compile_terms((BlockedTerm("cat"),))
    cache.put(1, 3, compiled)
    assert cache.get(1, 3) is compiled
    assert cache.get(1, 4) is None
    assert cache.get(2, 3) is None
    cache.invalidate(1)
    assert cache.get(1, 3) is None


def test_many_terms_compile_into_one_working_matcher() -> None:
    """Hundreds of terms (the per-server cap) still find the right one."""
    terms = tuple(BlockedTerm(f"word{i}") for i in range(500))
    compiled = compile_terms(terms)
    found = compiled.match("this has WORD417 inside")
    assert found is not None and found.term == "word417"
    assert compiled.match("word4170") is None


def test_skipped_terms_are_announced_once_per_guild_and_version() -> None:
    """A compiled set with skipped terms is announced when first cached for a version, again
    only for a new version; a failing listener neither stops others nor the caller."""
    from bot.policy.moderation import TermsSkipped

    cache = TermCache()
    heard: list[TermsSkipped] = []

    def broken(notice: TermsSkipped) -> None:
        raise RuntimeError("listener bug")

    cache.subscribe(broken)
    unsubscribe = cache.subscribe(heard.append)
    bad = compile_terms((BlockedTerm("/(a)\\1/", is_pattern=True, id=7), BlockedTerm("cat")))
    good = compile_terms((BlockedTerm("cat"),))
    cache.put(1, 3, bad)
    cache.put(1, 3, bad)  # recompiled after an invalidate: same version, no second word
    cache.put(2, 3, good)  # nothing skipped: nothing to say
    cache.put(1, 4, bad)
    assert [(n.guild_id, n.terms_version) for n in heard] == [(1, 3), (1, 4)]
    assert [(s.term.id, s.code) for s in heard[0].skipped] == [(7, "pattern_unsupported")]
    unsubscribe()
    cache.put(1, 5, bad)
    assert len(heard) == 2
