"""One normalization for blocked terms and prompts, so that look-alike spellings meet.

`normalize(text)` = `join_spaced_letters(fold(text))`:

1. `fold`, character by character:
   - compatibility decomposition (NFKD): full-width `ＣＡＴ`, ligatures `ﬁ` and math letters
     `𝐜𝐚𝐭` become plain letters; combining accents are split off;
   - look-alike letters fold to the Latin letter or digit they imitate (Cyrillic `е`, Greek
     `Ν`; `bot.terms.charset.confusables`), once in the case typed (Greek capital `Ν` is N,
     its small `ν` is v) and once after case folding;
   - case folding (`ß` → `ss`, `İ` → `i`);
   - combining accents are removed (`café` → `cafe`), except the kana voicing marks
     (`が` is not `か`);
   - every Default_Ignorable_Code_Point (zero-width space, soft hyphen, variation selectors,
     combining grapheme joiner, Hangul fillers, tags) and every other invisible format
     character (category Cf) is removed, so none can split a word;
   - recomposition (NFC).
   Han, kana and Hangul are never folded into Latin letters, so everyday Chinese and
   Japanese text stays as it is.
2. `join_spaced_letters`: a run of three or more single letters separated only by spaces or
   punctuation is written as one word: `n u d e` and `n.u.d.e` → `nude`. Two single letters
   stay apart (`I a`), as does any run that contains a longer word (`a cat`, `I am`). Since
   the same joining is applied to the terms, `a s s` is refused when `ass` is blocked: three
   letters spaced out one by one are read as the word they spell.

Words for whole-word matching are runs of letters and digits; each CJK character is a word of
its own (Chinese and Japanese are written without spaces, so a CJK term matches inside CJK
text, and a Latin word next to CJK characters still stands alone). See `bot.terms.matcher`.
"""

from __future__ import annotations

import functools
import re
import unicodedata

from bot.terms.charset import CJK_CLASS, DEFAULT_IGNORABLE_RANGES, confusables

_VOICING = "\u3099\u309a"  # combining kana voiced / semi-voiced sound marks
_STRAY_VOICING = re.compile(f"(?<![\u3040-\u30ff\u31f0-\u31ff])[{_VOICING}]+")

# Bytes one character may grow to when folded. A few symbols decompose into long strings
# (U+FDFA into 18 Arabic letters, square katakana words like U+3307 into 5 kana); they are
# read as a space instead, so a folded prompt is at most twice the bytes of its widest
# possible original (4 bytes a character) and the check's time stays bounded.
MAX_FOLDED_BYTES = 8


@functools.cache
def _tables() -> tuple[dict[int, str | None], ...]:
    """str.translate tables: (before decomposing, before case folding, after case folding).

    Built once: scanning the planes that hold combining marks and format characters takes a
    few tens of milliseconds, after which each fold is a handful of C-level passes.
    """
    expanding: dict[int, str | None] = {}
    invisible: dict[int, str | None] = {}
    for lo, hi in DEFAULT_IGNORABLE_RANGES:
        invisible.update(dict.fromkeys(range(lo, hi + 1)))
    marks: dict[int, str | None] = {}
    for code in (*range(0x20000), *range(0xE0000, 0xE1000)):
        ch = chr(code)
        if unicodedata.category(ch) == "Cf":
            invisible[code] = None
        elif unicodedata.combining(ch) and ch not in _VOICING:
            marks[code] = None
        elif unicodedata.decomposition(ch) or ch.casefold() != ch:
            grown = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", ch).casefold())
            if len(grown.encode()) > MAX_FOLDED_BYTES:
                expanding[code] = " "
    look_alikes: dict[int, str | None] = {ord(k): v for k, v in confusables().items()}
    before = {**look_alikes, **invisible}
    after = {**look_alikes, **marks, **invisible}
    return expanding, before, after


def prepare() -> None:
    """Build the tables now (about 50 ms, once per process) rather than on the first prompt."""
    _tables()


def fold(text: str) -> str:
    """Case, accents, width, look-alikes and invisible characters folded (step 1 above)."""
    expanding, before, after = _tables()
    text = unicodedata.normalize("NFKD", text.translate(expanding)).translate(before)
    text = unicodedata.normalize("NFKD", text.casefold()).translate(after)
    if _VOICING[0] in text or _VOICING[1] in text:
        text = _STRAY_VOICING.sub("", text)
    return unicodedata.normalize("NFC", text)


# A letter standing alone (no letter or digit touching it, not CJK), then at least two more,
# each after a run of separators. The classes on either side of each separator run are
# disjoint and the runs are possessive, so the search never backtracks: linear time.
_LONE = f"[^\\W\\d_{CJK_CLASS}](?![^\\W_])"
_SPACED_LETTERS = re.compile(f"(?<![^\\W_]){_LONE}(?:[\\W_]++{_LONE}){{2,}}")
_SEPARATORS = re.compile(r"[\W_]+")


def _joined(run: re.Match[str]) -> str:
    return _SEPARATORS.sub("", run.group())


def join_spaced_letters(folded: str) -> str:
    """Runs of 3+ single letters separated by spaces or punctuation become one word."""
    return _SPACED_LETTERS.sub(_joined, folded)


def normalize(text: str) -> str:
    """The form terms and prompts are compared in (see the module doc)."""
    return join_spaced_letters(fold(text))


# The words of a normalized text: each CJK character alone, else runs of letters and digits.
# Underscore counts as a separator, so `cat` blocks "cat_pics".
_CJK_WORD = f"(?![\\W_])[{CJK_CLASS}]"  # a CJK letter or digit, not its punctuation (`・`)
_WORDS = re.compile(f"{_CJK_WORD}|[^\\W_{CJK_CLASS}]+")
# The same plus every other visible character on its own (punctuation, symbols, `_`).
_WORDS_AND_MARKS = re.compile(f"{_CJK_WORD}|[^\\W_{CJK_CLASS}]+|[^\\w\\s]|_")


def words(text: str) -> list[str]:
    """The words of a normalized text: runs of letters and digits, CJK characters alone."""
    return _WORDS.findall(text)


def words_and_marks(text: str) -> list[str]:
    """`words(text)` with each punctuation mark or symbol between them kept as a token."""
    return _WORDS_AND_MARKS.findall(text)


__all__ = [
    "fold",
    "join_spaced_letters",
    "normalize",
    "prepare",
    "words",
    "words_and_marks",
]
