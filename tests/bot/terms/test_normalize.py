"""One normalization for terms and prompts: fold characters, then join spaced letters."""

from __future__ import annotations

import pytest

from bot.terms.normalize import (
    MAX_FOLDED_BYTES,
    fold,
    join_spaced_letters,
    normalize,
    words,
    words_and_marks,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Ｃａｆé\u00ad", "cafe"),  # width, accent, soft hyphen
        ("ﬁne", "fine"),  # ligature
        ("İstanbul", "istanbul"),
        ("STRASSE straße", "strasse strasse"),
        ("が", "が"),  # kana keep their voicing marks
        ("ｶﾞ", "ガ"),  # half-width voiced kana recompose
        ("x \u3099y", "x y"),  # a stray voicing mark is dropped
        ("nud\u0435", "nude"),  # Cyrillic е
        ("\u039dICE", "nice"),  # Greek capital Nu and Latin I
        ("N\u0399CE", "nice"),  # Greek capital Iota reads as I
        ("nu\u034fde\ufe0f", "nude"),  # invisible characters outside category Cf
        ("黒猫です", "黒猫です"),  # CJK is never folded into Latin
        ("ロ口工エ", "ロ口工エ"),  # nor into each other
    ],
)
def test_fold(text: str, expected: str) -> None:
    """Case, width, accents, look-alikes and invisible characters fold; CJK stays."""
    assert fold(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("n u d e", "nude"),
        ("n.u.d.e", "nude"),
        ("the n-u-d-e art", "the nude art"),
        ("n_u_d_e", "nude"),
        ("a s s", "ass"),
        ("x y z axes", "xyz axes"),
        ("a cat", "a cat"),  # a longer word breaks the run
        ("I am", "I am"),
        ("e e cummings", "e e cummings"),  # two lone letters stay apart
        ("a b 1 c", "a b 1 c"),  # digits are not letters
        ("a猫b猫c", "a猫b猫c"),  # letters touching CJK are not alone
        ("ab c d", "ab c d"),
    ],
)
def test_join_spaced_letters(text: str, expected: str) -> None:
    """Only runs of three or more lone letters are joined."""
    assert join_spaced_letters(text) == expected


def test_normalize_is_fold_then_join() -> None:
    """The same function serves terms and prompts."""
    assert normalize("Ｎ . Ｕ . Ｄ . Ｅ") == "nude"
    assert normalize("n\u200b u d\u00ad e") == "nude"
    assert normalize("n\u200bu d e") == "nu d e"  # "nu" is a word: the run is two letters


def test_words_set_each_cjk_character_apart() -> None:
    """Words are runs of letters and digits; each CJK letter is one; CJK punctuation is not."""
    assert words("黒・猫です") == ["黒", "猫", "で", "す"]
    assert words("黒cat猫 cat_pics c3po") == ["黒", "cat", "猫", "cat", "pics", "c3po"]
    assert words_and_marks("what the f*ck, c++") == [
        "what",
        "the",
        "f",
        "*",
        "ck",
        ",",
        "c",
        "+",
        "+",
    ]
    assert words_and_marks("黒・猫") == ["黒", "・", "猫"]


def test_no_character_grows_past_the_byte_bound() -> None:
    """U+FDFA and the square katakana words read as a space, so folding is at most 8 bytes a
    character and the check's time stays bounded (bench/bench_terms.py)."""
    assert fold("a\ufdfab") == "a b"
    assert fold("\u3307") == " "
    assert fold("\u2474") == "(1)"
    # Every character of the Basic Multilingual Plane, folded one by one.
    assert max(len(fold(chr(c)).encode()) for c in range(0xD800)) <= MAX_FOLDED_BYTES
    assert max(len(fold(chr(c)).encode()) for c in range(0xE000, 0x10000)) <= MAX_FOLDED_BYTES
