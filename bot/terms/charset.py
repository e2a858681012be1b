"""Character data for blocked-term matching: CJK scripts, invisible characters, look-alikes.

Three sets, each from a named source:

- CJK: the blocks of the scripts written without spaces between words (and Hangul), where
  each character is treated as a word of its own.
- Default_Ignorable_Code_Point, from Unicode's DerivedCoreProperties.txt, version 15.0.0
  (the copy in Debian's `unicode-data` 15.0.0-1 package); Python's `unicodedata` has no such
  property. These render as nothing, so they can be slipped inside a word (`nu\\u034fde`).
- Confusables: `confusables.txt` beside this file, a pruned table of Unicode's UTS #39
  confusables data (see its header for the source, version and licence, and
  `derive_confusables` below for how it was pruned). It folds a letter that looks like a
  Latin letter or digit (Cyrillic `е`, Greek `Ν`, Cherokee `Ꭺ`) to that letter.
"""

from __future__ import annotations

import bisect
import functools
import unicodedata
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

# Scripts written without spaces between words (plus Hangul, whose particles attach to words).
CJK_RANGES = (
    (0x2E80, 0x2FDF),  # CJK radicals, Kangxi
    (0x3005, 0x3007),  # 々 〆 〇
    (0x3040, 0x30FF),  # Hiragana, Katakana
    (0x3100, 0x312F),  # Bopomofo
    (0x31A0, 0x31BF),  # Bopomofo extended
    (0x31F0, 0x31FF),  # Katakana extensions
    (0x3400, 0x4DBF),  # Han extension A
    (0x4E00, 0x9FFF),  # Han
    (0xF900, 0xFAFF),  # Han compatibility
    (0x1100, 0x11FF),  # Hangul jamo
    (0x3130, 0x318F),  # Hangul compatibility jamo
    (0xA960, 0xA97F),  # Hangul jamo extended A
    (0xAC00, 0xD7FF),  # Hangul syllables, jamo extended B
    (0xFF66, 0xFF9F),  # half-width Katakana
    (0x20000, 0x3134F),  # Han extensions B-G
)
# The same ranges as the body of a character class for Python's `re`.
CJK_CLASS = "".join(f"{chr(lo)}-{chr(hi)}" for lo, hi in CJK_RANGES)

# DerivedCoreProperties-15.0.0.txt, property Default_Ignorable_Code_Point, all 27 lines.
DEFAULT_IGNORABLE_RANGES = (
    (0x00AD, 0x00AD),  # SOFT HYPHEN
    (0x034F, 0x034F),  # COMBINING GRAPHEME JOINER
    (0x061C, 0x061C),  # ARABIC LETTER MARK
    (0x115F, 0x1160),  # HANGUL CHOSEONG FILLER..HANGUL JUNGSEONG FILLER
    (0x17B4, 0x17B5),  # KHMER VOWEL INHERENT AQ..KHMER VOWEL INHERENT AA
    (0x180B, 0x180D),  # MONGOLIAN FREE VARIATION SELECTOR ONE..THREE
    (0x180E, 0x180E),  # MONGOLIAN VOWEL SEPARATOR
    (0x180F, 0x180F),  # MONGOLIAN FREE VARIATION SELECTOR FOUR
    (0x200B, 0x200F),  # ZERO WIDTH SPACE..RIGHT-TO-LEFT MARK
    (0x202A, 0x202E),  # LEFT-TO-RIGHT EMBEDDING..RIGHT-TO-LEFT OVERRIDE
    (0x2060, 0x2064),  # WORD JOINER..INVISIBLE PLUS
    (0x2065, 0x2065),  # <reserved-2065>
    (0x2066, 0x206F),  # LEFT-TO-RIGHT ISOLATE..NOMINAL DIGIT SHAPES
    (0x3164, 0x3164),  # HANGUL FILLER
    (0xFE00, 0xFE0F),  # VARIATION SELECTOR-1..16
    (0xFEFF, 0xFEFF),  # ZERO WIDTH NO-BREAK SPACE
    (0xFFA0, 0xFFA0),  # HALFWIDTH HANGUL FILLER
    (0xFFF0, 0xFFF8),  # <reserved-FFF0>..<reserved-FFF8>
    (0x1BCA0, 0x1BCA3),  # SHORTHAND FORMAT LETTER OVERLAP..UP STEP
    (0x1D173, 0x1D17A),  # MUSICAL SYMBOL BEGIN BEAM..END PHRASE
    (0xE0000, 0xE0000),  # <reserved-E0000>
    (0xE0001, 0xE0001),  # LANGUAGE TAG
    (0xE0002, 0xE001F),  # <reserved-E0002>..<reserved-E001F>
    (0xE0020, 0xE007F),  # TAG SPACE..CANCEL TAG
    (0xE0080, 0xE00FF),  # <reserved-E0080>..<reserved-E00FF>
    (0xE0100, 0xE01EF),  # VARIATION SELECTOR-17..256
    (0xE01F0, 0xE0FFF),  # <reserved-E01F0>..<reserved-E0FFF>
)
_IGNORABLE_STARTS = [lo for lo, _ in DEFAULT_IGNORABLE_RANGES]

CONFUSABLES_FILE = Path(__file__).with_name("confusables.txt")


def in_ranges(code: int, ranges: tuple[tuple[int, int], ...], starts: list[int]) -> bool:
    i = bisect.bisect_right(starts, code) - 1
    return i >= 0 and ranges[i][0] <= code <= ranges[i][1]


def is_default_ignorable(ch: str) -> bool:
    """True for a Default_Ignorable_Code_Point (Unicode 15.0)."""
    return in_ranges(ord(ch), DEFAULT_IGNORABLE_RANGES, _IGNORABLE_STARTS)


_CJK_SORTED = tuple(sorted(CJK_RANGES))
_CJK_STARTS = [lo for lo, _ in _CJK_SORTED]


def is_cjk(ch: str) -> bool:
    return in_ranges(ord(ch), _CJK_SORTED, _CJK_STARTS)


@functools.cache
def confusables() -> Mapping[str, str]:
    """The shipped look-alike table: one character → lower-case ASCII letters or digits."""
    table: dict[str, str] = {}
    for line in CONFUSABLES_FILE.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        source, target = (part.strip() for part in line.split(";"))
        table[chr(int(source, 16))] = target
    return table


def derive_confusables(raw: Mapping[str, Iterable[Mapping[str, Any]]]) -> dict[str, str]:
    """The pruned table, from confusable-homoglyphs' `confusables.json` (char → look-alikes).

    Kept: a single non-ASCII letter or number (category L or N) that NFKD leaves alone (the
    matcher decomposes first, so a decomposable character never reaches the table) and that
    is not CJK (`ロ` stays `ロ`: folding Han and kana would make everyday Chinese and Japanese
    collide), whose look-alike is ASCII letters or digits; the target is lower-cased, since
    prompts are case-folded. Symbols (`∨`, `│`) are left out: folding them into letters would
    glue the words on either side together. ASCII itself is never folded (`rn` stays `rn`,
    `0` stays `0`), so plain English text matches exactly as typed.

    The data puts capital I and small l in one class with `l` as its prototype; an upper-case
    look-alike of I (Greek `Ι`, Cyrillic `І`) folds to `i` instead, because `I` itself is
    case-folded to `i` before matching.
    """
    table: dict[str, str] = {}
    for source, glyphs in raw.items():
        if len(source) != 1 or source.isascii() or is_cjk(source):
            continue
        if unicodedata.category(source)[0] not in "LN":
            continue
        if unicodedata.normalize("NFKD", source) != source:
            continue
        targets = {g["c"].lower() for g in glyphs if g["c"].isascii() and g["c"].isalnum()}
        if len(targets) != 1:
            continue
        target = targets.pop()
        if target == "l" and source != source.casefold():
            target = "i"
        table[source] = target
    return table


CONFUSABLES_HEADER = """\
# Look-alike letters folded before blocked terms are matched: `source ; target # char NAME`.
#
# Source: Unicode's confusables.txt (Unicode Technical Standard #39, Unicode Security
# Mechanisms), as bundled in the PyPI package confusable-homoglyphs 3.3.1 (its file
# confusable_homoglyphs/confusables.json, git revision 81df96d). That package does not record
# which confusables.txt revision it copied; its newest characters are from Unicode 13.0.
# Pruned by bot.terms.charset.derive_confusables (see there): non-ASCII, non-CJK letters and
# numbers whose look-alike is ASCII letters or digits, lower-cased.
# Regenerate with: python -m bot.terms.charset > bot/terms/confusables.txt
#
# Data: Copyright (c) Unicode, Inc. Distributed under Unicode's licence for its data files
# (https://www.unicode.org/license.txt), which permits copying and modifying them with this
# notice kept. The pruning and this format are part of this project (MIT).
"""


def confusables_text(table: Mapping[str, str], header: str = CONFUSABLES_HEADER) -> str:
    """The file format of `confusables.txt`: `XXXX ; target # char NAME`, sorted."""
    lines = [header.rstrip("\n")]
    for source in sorted(table, key=ord):
        name = unicodedata.name(source, "?")
        lines.append(f"{ord(source):04X} ; {table[source]} # {source} {name}")
    return "\n".join(lines) + "\n"


def main() -> None:
    """Print the table derived from the installed confusable-homoglyphs package."""
    import json

    import confusable_homoglyphs  # a test dependency: only this generator needs it

    data = Path(confusable_homoglyphs.__file__).with_name("confusables.json")
    raw = json.loads(data.read_text(encoding="utf-8"))
    print(confusables_text(derive_confusables(raw)), end="")


if __name__ == "__main__":
    main()


__all__ = [
    "CJK_CLASS",
    "CJK_RANGES",
    "CONFUSABLES_FILE",
    "CONFUSABLES_HEADER",
    "DEFAULT_IGNORABLE_RANGES",
    "confusables",
    "confusables_text",
    "derive_confusables",
    "is_cjk",
    "is_default_ignorable",
]
