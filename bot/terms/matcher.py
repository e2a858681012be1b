"""A server's blocked terms, compiled so that checking a prompt takes linear time.

How a term matches (the promise in DESIGN.md: whole word, ignoring case and accents):

- A word or phrase matches the prompt's words, both normalized (`bot.terms.normalize`): `cat`
  blocks "a Cat!", "ｃａｔ", "cаt" (Cyrillic а), but not "category". A phrase's words may be
  separated by any run of spaces or punctuation (`red cat` blocks "red, cat").
- A word or phrase with punctuation inside (`f*ck`, `c++`, `@everyone`) matches the same
  words with the same marks between them; spaces around the marks do not matter (`f*ck`
  blocks "f * ck" too), other marks do (`f*ck` does not block "f-ck").
- Both are looked up with one Aho-Corasick automaton over the prompt's words (a second one over
  words and marks for terms with punctuation): one step per word, however many terms a
  server has. The prompt is read as folded and again with spaced letters joined, so
  `plan b` still blocks "plan b a c", where joining would hide the lone `b`.
- A term written `/like this/` is an RE2 pattern (`bot.terms.syntax`), searched
  case-insensitively in the normalized prompt and in the prompt as typed. A server's patterns
  share one RE2 alternation, so each text is read once; which pattern matched is worked out
  only after the alternation found one, once per refused request.

Stored terms that cannot run (a pattern RE2 refuses, or patterns past the server's size
budget, saved before the checks at `/settings blocked-terms add` existed or written some other
way) are skipped and listed in `CompiledTerms.skipped`, for moderators to be told.
"""

from __future__ import annotations

import collections
import functools
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

import re2

from bot.terms.normalize import fold, join_spaced_letters, normalize, words, words_and_marks
from bot.terms.syntax import (
    MAX_PATTERNS_COST,
    TermRejected,
    compile_pattern,
    over_budget,
    pattern_options,
)

log = logging.getLogger(__name__)

# RE2's memory for a server's combined patterns (the program and its lazily built DFA).
# Past it RE2 falls back to its NFA, still linear; on prompts built to defeat the DFA a small
# cache reaches that fallback sooner, which measured faster than a large one (bench_terms).
ALTERNATION_MEMORY = 256 << 10


class TermLike(Protocol):
    """What the matcher needs of a term (`bot.storage.guild_config.BlockedTerm` is one)."""

    @property
    def term(self) -> str: ...
    @property
    def is_pattern(self) -> bool: ...


T = TypeVar("T", bound=TermLike)


@dataclass(frozen=True)
class Skipped(Generic[T]):
    """A stored term the matcher cannot use, with the reason (a TermRejected code)."""

    term: T
    code: str
    params: Mapping[str, Any] = field(default_factory=dict)


class _Automaton(Generic[T]):
    """Aho-Corasick over tokens: finds any of many token sequences in one pass."""

    def __init__(self, sequences: Sequence[tuple[tuple[str, ...], T]]) -> None:
        goto: list[dict[str, int]] = [{}]
        found: list[T | None] = [None]
        for sequence, term in sequences:
            node = 0
            for token in sequence:
                step = goto[node].get(token)
                if step is None:
                    step = len(goto)
                    goto[node][token] = step
                    goto.append({})
                    found.append(None)
                node = step
            if found[node] is None:  # the first term listed wins
                found[node] = term
        fail = [0] * len(goto)
        queue = collections.deque(goto[0].values())
        while queue:
            node = queue.popleft()
            for token, step in goto[node].items():
                queue.append(step)
                back = fail[node]
                while back and token not in goto[back]:
                    back = fail[back]
                fail[step] = goto[back].get(token, 0) if node else 0
                if found[step] is None:
                    # A term that ends inside this one ends here too ("a cat" contains "cat").
                    found[step] = found[fail[step]]
        self._goto, self._fail, self._found = goto, fail, found

    def first(self, tokens: Sequence[str]) -> T | None:
        goto, fail, found = self._goto, self._fail, self._found
        node = 0
        for token in tokens:
            while node and token not in goto[node]:
                node = fail[node]
            node = goto[node].get(token, 0)
            if found[node] is not None:
                return found[node]
        return None


def _finder(source: str, options: Any) -> Any:
    """A regex that answers "does `source` occur anywhere", anchored at the start.

    An unanchored search also works out where the match starts, which RE2 does with a second,
    backward pass over the text (milliseconds for a large alternation); a leading lazy `.*?`
    under an anchored match stops at the first match's end instead.
    """
    return re2.compile(f"(?s:.*?)(?:{source})", options)


class _Patterns(Generic[T]):
    """A server's patterns searched in one pass; which one matched is found only on a hit."""

    def __init__(self, patterns: Sequence[tuple[str, T]]) -> None:
        self._each = [(_finder(body, pattern_options()), term) for body, term in patterns]
        combined = "|".join(f"(?:{body})" for body, _ in patterns)
        try:
            self._all: Any = _finder(combined, pattern_options(memory=ALTERNATION_MEMORY))
        except re2.error:
            # Within the size budget this compiles; if not, one search per pattern still works.
            log.warning("blocked terms: %d patterns could not be combined", len(patterns))
            self._all = None

    def first(self, text: str) -> T | None:
        data = text.encode()
        if self._all is not None and self._all.match(data) is None:
            return None
        for regex, term in self._each:
            if regex.match(data) is not None:
                return term
        return None


class CompiledTerms(Generic[T]):
    """A server's terms, ready to match (build it with `compile_terms`)."""

    def __init__(
        self,
        words: Sequence[tuple[tuple[str, ...], T]],
        marked: Sequence[tuple[tuple[str, ...], T]],
        patterns: Sequence[tuple[str, T]],
        skipped: Sequence[Skipped[T]] = (),
    ) -> None:
        self.skipped = tuple(skipped)
        self._words = _Automaton(words) if words else None
        self._marked = _Automaton(marked) if marked else None
        self._patterns = _Patterns(patterns) if patterns else None

    def __bool__(self) -> bool:
        return any(m is not None for m in (self._words, self._marked, self._patterns))

    def match(self, prompt: str) -> T | None:
        """The first blocked term the prompt contains, or None."""
        if not self:
            return None
        folded = fold(prompt)
        joined = join_spaced_letters(folded)
        texts = (folded,) if joined == folded else (folded, joined)
        found: T | None = None
        for text in texts:
            if found is None and self._words is not None:
                found = self._words.first(words(text))
            if found is None and self._marked is not None:
                found = self._marked.first(words_and_marks(text))
        if self._patterns is not None:
            for text in (joined,) if joined == prompt else (joined, prompt):
                if found is None:
                    found = self._patterns.first(text)
        return found


@functools.lru_cache(maxsize=512)
def compile_terms(terms: tuple[Any, ...]) -> CompiledTerms[Any]:
    """Compile a server's terms (first listed wins when several match); cached by content."""
    plain: list[tuple[tuple[str, ...], Any]] = []
    marked: list[tuple[tuple[str, ...], Any]] = []
    patterns: list[tuple[str, Any]] = []
    skipped: list[Skipped[Any]] = []
    budget = 0
    for term in terms:
        if not term.is_pattern:
            text = normalize(term.term)
            tokens = tuple(words_and_marks(text))
            if not tokens:
                continue
            if tuple(words(text)) == tokens:
                plain.append((tokens, term))
            else:
                marked.append((tokens, term))
            continue
        body = term.term[1:-1]
        try:
            _, cost = compile_pattern(body)
        except TermRejected as exc:
            skipped.append(Skipped(term, exc.code, dict(exc.params)))
            continue
        if budget + cost > MAX_PATTERNS_COST:
            refused = over_budget(budget + cost)
            skipped.append(Skipped(term, refused.code, dict(refused.params)))
            continue
        budget += cost
        patterns.append((body, term))
    return CompiledTerms(plain, marked, patterns, skipped)


__all__ = [
    "ALTERNATION_MEMORY",
    "CompiledTerms",
    "Skipped",
    "TermLike",
    "compile_terms",
]
