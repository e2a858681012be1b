"""Blocked terms: normalization, whole-word matching, /patterns/, and a per-guild cache.

How a term matches (the promise in DESIGN.md: whole word, ignoring case and accents):

- Both the prompt and a word/phrase term are normalized: case folded, compatibility-decomposed
  (NFKD, so full-width `ＣＡＴ` and ligatures become plain letters), combining accents removed
  (so `café` blocks `CAFE` and `cafe` blocks `Café`), invisible format characters (zero-width
  space, soft hyphen) removed so they cannot split a word, then recomposed (NFC).
  Japanese voicing marks are kept: `が` is not `か`.
- A word matches only as a whole word: `cat` blocks "a Cat!" but not "category". A phrase's
  words may be separated by any run of spaces or punctuation: `red cat` blocks "red, cat".
- CJK scripts (Chinese, Japanese kana, Korean Hangul) write words without spaces, so for them
  "whole word" can only mean a substring: `猫` blocks `黒猫です`. To get there with one rule,
  every CJK character is treated as a word of its own, in prompts and terms alike: a CJK term
  matches anywhere in CJK text (also across spaces or punctuation: `黒猫` blocks `黒・猫`), and
  a Latin word next to CJK characters still stands alone (`cat` blocks `黒cat猫`).
- A term written `/like this/` is a regular expression, searched case-insensitively in the
  normalized prompt (lower case, no accents) and also in the prompt as typed. Its syntax,
  length and shape are checked when it is added (`bot.storage.blocked_terms.validate_term`).
"""

from __future__ import annotations

import functools
import logging
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from bot.storage.blocked_terms import (
    BlockedTerm,
    BlockedTermError,
    is_pattern_term,
    validate_term,
)

log = logging.getLogger(__name__)

# Scripts written without spaces between words (plus Hangul, whose particles attach to words).
_CJK = (
    "\u2e80-\u2fdf"  # CJK radicals, Kangxi
    "\u3005-\u3007"  # 々 〆 〇
    "\u3040-\u30ff"  # Hiragana, Katakana
    "\u3100-\u312f\u31a0-\u31bf"  # Bopomofo
    "\u31f0-\u31ff"  # Katakana extensions
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"  # Han
    "\u1100-\u11ff\u3130-\u318f\ua960-\ua97f\uac00-\ud7ff"  # Hangul
    "\uff66-\uff9f"  # half-width Katakana
    "\U00020000-\U0003134f"  # Han extensions B-G
)
_CJK_CHAR = re.compile(f"[{_CJK}]")
_KANA = re.compile("[\u3040-\u30ff\u31f0-\u31ff]")
# "Not preceded / followed by a letter or digit": the whole-word boundary. Underscore counts
# as a separator, so `cat` blocks "cat_pics".
_NOT_AFTER_LETTER = r"(?<![^\W_])"
_NOT_BEFORE_LETTER = r"(?![^\W_])"
_SEPARATOR = r"[\W_]+"


def normalize(text: str) -> str:
    """Case-folded, accent-free, width-folded text used for matching (see the module doc)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    out: list[str] = []
    previous = ""
    for ch in decomposed:
        if unicodedata.combining(ch):
            # Keep kana voicing marks (か+゙ = が); drop every other accent.
            if previous and _KANA.match(previous):
                out.append(ch)
            continue
        if unicodedata.category(ch) == "Cf":
            continue  # zero-width space/joiner, soft hyphen, direction marks
        out.append(ch)
        previous = ch
    return unicodedata.normalize("NFC", "".join(out))


def _spaced(normalized: str) -> str:
    """Each CJK character becomes a word of its own, for prompts and terms alike.

    So one boundary rule serves every script: a CJK term then matches inside CJK text (the
    characters of `黒猫` are two words in a row, found in `黒 猫 で す`), and a Latin word
    next to CJK characters stands alone (`cat` in `黒cat猫`).
    """
    return _CJK_CHAR.sub(lambda m: f" {m.group(0)} ", normalized)


_TOKEN = re.compile(r"[^\W_]+")


def _tokens(normalized: str) -> list[str]:
    """The words of a normalized text: runs of letters and digits, CJK characters alone."""
    return _TOKEN.findall(_spaced(normalized))


def _word_regex(words: list[str], index: int) -> tuple[str, bool]:
    """(regex source for a term with punctuation inside its words, starts with a letter?)."""
    body = _SEPARATOR.join(re.escape(w) for w in words)
    right = _NOT_BEFORE_LETTER if words[-1][-1].isalnum() else ""
    return f"(?P<t{index}>{body}{right})", words[0][0].isalnum()


@dataclass(frozen=True)
class CompiledTerms:
    """A guild's terms ready to match.

    Words and phrases made of letters and digits (nearly all terms) are looked up by their
    first word in a dict, so matching costs one pass over the prompt's words however many
    terms a server has. Terms with punctuation inside (`f*ck`, `c++`) share one regex
    alternation; each `/pattern/` is its own regex.
    """

    phrases: dict[str, tuple[tuple[tuple[str, ...], BlockedTerm], ...]]
    words: re.Pattern[str] | None
    word_terms: tuple[BlockedTerm, ...]
    patterns: tuple[tuple[re.Pattern[str], BlockedTerm], ...]

    def match(self, prompt: str) -> BlockedTerm | None:
        if not self:
            return None
        text = normalize(prompt)
        if self.phrases:
            tokens = _tokens(text)
            for i, token in enumerate(tokens):
                for rest, term in self.phrases.get(token, ()):
                    if tuple(tokens[i + 1 : i + 1 + len(rest)]) == rest:
                        return term
        if self.words is not None:
            found = self.words.search(_spaced(text))
            if found is not None and found.lastgroup is not None:
                return self.word_terms[int(found.lastgroup[1:])]
        for regex, term in self.patterns:
            if regex.search(text) or regex.search(prompt):
                return term
        return None

    def __bool__(self) -> bool:
        return bool(self.phrases) or self.words is not None or bool(self.patterns)


@functools.lru_cache(maxsize=512)
def compile_terms(terms: tuple[BlockedTerm, ...]) -> CompiledTerms:
    """Compile a set of terms; cached by content, so an unchanged list compiles once."""
    phrases: dict[str, list[tuple[tuple[str, ...], BlockedTerm]]] = {}
    after_boundary: list[str] = []
    anywhere: list[str] = []
    word_terms: list[BlockedTerm] = []
    patterns: list[tuple[re.Pattern[str], BlockedTerm]] = []
    for term in terms:
        if term.is_pattern:
            try:
                patterns.append((re.compile(term.pattern, re.IGNORECASE), term))
            except re.error:
                # validate_term refuses these at the door; a row written some other way is
                # skipped rather than stopping every request in the server.
                log.warning("skipping an invalid blocked pattern (term id %s)", term.id)
            continue
        words = _spaced(normalize(term.term)).split()
        if not words:
            continue
        if all(_TOKEN.fullmatch(w) for w in words):
            # Same meaning as the regex form: whole words in a row, any separators between.
            phrases.setdefault(words[0], []).append((tuple(words[1:]), term))
            continue
        source, starts_with_letter = _word_regex(words, len(word_terms))
        (after_boundary if starts_with_letter else anywhere).append(source)
        word_terms.append(term)
    # Terms that start with a letter share one leading boundary check, so the alternation is
    # only tried where a word begins.
    parts = []
    if after_boundary:
        parts.append(f"{_NOT_AFTER_LETTER}(?:{'|'.join(after_boundary)})")
    if anywhere:
        parts.append("|".join(anywhere))
    return CompiledTerms(
        phrases={k: tuple(v) for k, v in phrases.items()},
        words=re.compile("|".join(parts)) if parts else None,
        word_terms=tuple(word_terms),
        patterns=tuple(patterns),
    )


def match_blocked_term(prompt: str, terms: Iterable[BlockedTerm]) -> BlockedTerm | None:
    """The first blocked term the prompt contains, or None."""
    return compile_terms(tuple(terms)).match(prompt)


class TermCache:
    """Compiled terms per guild, kept until the guild's `terms_version` moves.

    GuildConfigStore bumps the version in the same transaction as every term change, so a
    process notices changes made by another process on its next read of the guild's row.
    """

    def __init__(self) -> None:
        self._by_guild: dict[int, tuple[int, CompiledTerms]] = {}

    def get(self, guild_id: int, version: int) -> CompiledTerms | None:
        cached = self._by_guild.get(guild_id)
        if cached is None or cached[0] != version:
            return None
        return cached[1]

    def put(self, guild_id: int, version: int, compiled: CompiledTerms) -> None:
        self._by_guild[guild_id] = (version, compiled)

    def invalidate(self, guild_id: int | None = None) -> None:
        if guild_id is None:
            self._by_guild.clear()
        else:
            self._by_guild.pop(guild_id, None)


__all__ = [
    "BlockedTerm",
    "BlockedTermError",
    "CompiledTerms",
    "TermCache",
    "compile_terms",
    "is_pattern_term",
    "match_blocked_term",
    "normalize",
    "validate_term",
]
