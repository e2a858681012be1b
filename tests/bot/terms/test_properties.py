"""Property-based tests (hypothesis) for term checking, prompt normalization and matching:
any input gives a term, None or one clear refusal, never an exception. Bounded to seconds."""

from __future__ import annotations

import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.bench_terms import adversarial_terms
from bot.edge.settings_view import term_reason_key
from bot.i18n import Messages
from bot.i18n.locale import SUPPORTED_LOCALES
from bot.policy import BlockedTerm, BlockedTermError, compile_terms, normalize
from bot.storage.guild_config import validate_term

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
MESSAGES = Messages.load()
# Letters that fold (look-alikes, accents, widths), invisibles, marks, CJK, separators.
ALPHABET = (
    "abcdeinorstuxyzABCNSX0129 .,-_*/@+()[]{}|\\^$?!\n\t"
    "\u0430\u0435\u043e\u0440\u0441\u0455\u039d\u03bf\u0399éüßİﬁＡｂ𝐬ⓢ"
    "\u200b\u00ad\u034f\ufe0f\u180b\u3164\u2060\U000e0041\u0301\u3099"
    "猫貓ねこネコｶﾞ고・。\ufdfa\u3307\u2474\U00020000"
)
texts = st.text(alphabet=ALPHABET, max_size=60) | st.text(max_size=60)
TERMS = tuple(
    validate_term(t)
    for t in ("nude", "red cat", "f*ck", "@everyone", "猫", "/c[a@]t+/", "/\\bn.d(e|ity)\\b/")
)


def sentence_for(error: BlockedTermError) -> str:
    key = term_reason_key(error.code)
    for locale in SUPPORTED_LOCALES:
        assert MESSAGES.has(locale, key), (locale, key)
    return MESSAGES.t("en-US", key, **error.params)


@FAST
@given(st.one_of(texts, texts.map(lambda s: f"/{s}/")))
def test_any_term_is_accepted_or_refused_with_one_sentence(text: str) -> None:
    """Whatever a moderator types, it is a term, or a BlockedTermError with a translated
    sentence in every language; nothing else escapes, and a term compiles and matches."""
    try:
        term = validate_term(text)
    except BlockedTermError as error:
        assert str(error).endswith(".")
        assert sentence_for(error)
        return
    compiled = compile_terms((BlockedTerm(term.term, term.is_pattern, id=1),))
    assert not compiled.skipped
    compiled.match(text)


@FAST
@given(texts)
def test_any_prompt_gets_a_listed_term_or_none(prompt: str) -> None:
    """Checking never raises and only ever answers with one of the server's terms."""
    found = compile_terms(TERMS).match(prompt)
    assert found is None or found in TERMS


@FAST
@given(texts)
def test_normalizing_twice_changes_nothing(text: str) -> None:
    """normalize is idempotent, so a term and a prompt normalized alike compare alike."""
    once = normalize(text)
    assert normalize(once) == once


@FAST
@given(
    st.text(
        alphabet="abcdefghijklmnopqrstuvwxyz\u0430\u0435\u043eé猫ねこ", min_size=1, max_size=12
    ),
    st.lists(st.sampled_from(["a", "big", "cat", "夕陽", "on", "the"]), max_size=4),
    st.lists(st.sampled_from(["a", "big", "cat", "夕陽", "on", "the"]), max_size=4),
    st.sampled_from([" ", ", ", " - ", "\n", "　"]),
)
def test_a_word_blocks_itself_among_other_words(
    word: str, before: list[str], after: list[str], gap: str
) -> None:
    """A word or phrase term is found wherever it stands as a word, however it is folded."""
    term = validate_term(word)
    prompt = gap.join([*before, word, *after])
    assert compile_terms((term,)).match(prompt) == term


WORST_LISTS = adversarial_terms(200)


@SLOW
@given(st.text(alphabet="abAB猫 *.\U00020000\u2474z", min_size=1500, max_size=2000))
def test_checking_a_long_prompt_against_a_worst_list_stays_fast(prompt: str) -> None:
    """200 terms built to be slow (bench/bench_terms.py) against 2,000 characters from the
    alphabet that hurts them most: each check stays under 10x the 20 ms target."""
    for terms in WORST_LISTS.values():
        compiled = compile_terms(terms)
        start = time.thread_time()
        compiled.match(prompt)
        assert time.thread_time() - start < 0.2
