"""The character data: Default_Ignorable_Code_Point, CJK, and the shipped look-alike table,
which must be exactly what its generator derives from its named source."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import confusable_homoglyphs

from bot.terms.charset import (
    CONFUSABLES_FILE,
    confusables,
    confusables_text,
    derive_confusables,
    is_cjk,
    is_default_ignorable,
)


def test_the_shipped_table_is_what_the_generator_derives_from_the_source() -> None:
    """bot/terms/confusables.txt == `python -m bot.terms.charset` on confusable-homoglyphs."""
    data = Path(confusable_homoglyphs.__file__).with_name("confusables.json")
    raw = json.loads(data.read_text(encoding="utf-8"))
    assert CONFUSABLES_FILE.read_text(encoding="utf-8") == confusables_text(derive_confusables(raw))


def test_the_table_folds_foreign_look_alikes_to_lower_case_ascii() -> None:
    """Cyrillic, Greek, Armenian and Cherokee letters fold; ASCII, CJK and symbols never do."""
    table = confusables()
    assert len(table) > 300
    assert table["\u0435"] == "e"  # Cyrillic е
    assert table["\u039d"] == "n"  # Greek capital Nu
    assert table["\u03bd"] == "v"  # Greek small nu
    assert table["\u0399"] == "i"  # Greek capital Iota: I is case-folded to i first
    assert table["\u13aa"] == "a"  # Cherokee GO
    for source, target in table.items():
        assert not source.isascii() and not is_cjk(source)
        assert unicodedata.category(source)[0] in "LN"
        assert target.isascii() and target.isalnum() and target == target.lower()


def test_derivation_keeps_only_single_foreign_letters_with_an_ascii_look_alike() -> None:
    """ASCII sources, symbols, CJK, decomposable letters and non-ASCII targets are left out."""
    raw = {
        "\u0430": [{"c": "a", "n": "LATIN SMALL LETTER A"}],
        "a": [{"c": "\u0430", "n": "CYRILLIC SMALL LETTER A"}],
        "m": [{"c": "rn", "n": "r, n"}],
        "\u2228": [{"c": "v", "n": "LATIN SMALL LETTER V"}],  # LOGICAL OR, a symbol
        "\u30ed": [{"c": "\u53e3", "n": "CJK UNIFIED IDEOGRAPH-53E3"}],  # ロ
        "\uff41": [{"c": "a", "n": "LATIN SMALL LETTER A"}],  # full-width a: NFKD does it
        "\u0406": [{"c": "l", "n": "LATIN SMALL LETTER L"}],  # Cyrillic capital І
    }
    assert derive_confusables(raw) == {"\u0430": "a", "\u0406": "i"}


def test_default_ignorables_are_the_unicode_15_set() -> None:
    """The ranges of DerivedCoreProperties 15.0, including those outside category Cf."""
    for (
        ch
    ) in "\u00ad\u034f\u061c\u115f\u17b4\u180b\u180e\u200b\u202e\u2060\u3164\ufe0f\ufeff\uffa0":
        assert is_default_ignorable(ch), hex(ord(ch))
    for ch in ("\U0001bca0", "\U0001d173", "\U000e0001", "\U000e0041", "\U000e01ef"):
        assert is_default_ignorable(ch), hex(ord(ch))
    for ch in "a \u3000\u0301\u200a猫\U000e1000":
        assert not is_default_ignorable(ch), hex(ord(ch))


def test_cjk_covers_han_kana_hangul_but_not_latin() -> None:
    """The scripts written without spaces (and Hangul) are CJK; Latin and digits are not."""
    assert all(is_cjk(ch) for ch in "猫貓ねこネコｶ고\U00020000々")
    assert not any(is_cjk(ch) for ch in "aZ9é\u0430 ")
