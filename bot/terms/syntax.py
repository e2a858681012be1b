"""What a blocked term may be, checked with the engine that will run it (RE2).

A term is a word or phrase, or `/a pattern/`. Patterns are RE2 regular expressions: RE2 runs
in time linear in the prompt's length whatever the pattern, unlike Python's `re`, where
`/(a|aa)+$/` takes seconds on a 35-character prompt. RE2 has no backreferences and no
lookaround; a pattern that uses them is refused with a sentence saying so.

Linear is not yet fast: the time is the prompt's length times the size of the compiled
pattern, and a server may hold many. So each pattern's compiled size (RE2's program size,
which a `{n}` count multiplies) is capped, and so is the sum over a server's patterns. With
both caps, checking a 2,000-character prompt against a server's whole list stays within
milliseconds (`python -m bench.bench_terms` measures the worst case). Storage calls
`check_term` and `check_pattern_budget` when a term is added; the matcher skips stored
patterns that fail either (they are reported to the server's log channel).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import re2

# A moderator's word or phrase, and a /pattern/ body: long enough for any real term, short
# enough that no term can be a denial of service by size alone.
MAX_TERM_LENGTH = 100
MAX_PATTERN_LENGTH = 200
# RE2 program sizes. `\bnud(e|ity)\b` is 13, `c[a@4]t+` 10, `.{0,20}` 240, `\pL` 1201.
MAX_PATTERN_COST = 300
MAX_PATTERNS_COST = 500
# RE2's memory for one compiled pattern (its program and its lazily built DFA); past it RE2
# falls back to its slower, still linear, NFA instead of growing.
PATTERN_MEMORY = 256 << 10


class TermRejected(ValueError):
    """A term that cannot be blocked. `code` picks the sentence; `str()` is English."""

    def __init__(self, code: str, message: str, **params: Any) -> None:
        super().__init__(message)
        self.code = code
        self.params = params


@dataclass(frozen=True)
class CheckedTerm:
    term: str  # as typed, stripped
    is_pattern: bool
    cost: int = 0  # a pattern's compiled size


def is_pattern_term(text: str) -> bool:
    """A term written as `/regex/` is a pattern."""
    return len(text) >= 3 and text.startswith("/") and text.endswith("/")


def pattern_options(*, memory: int = PATTERN_MEMORY) -> re2.Options:
    """How every pattern is compiled: case-insensitive, no captures (only "is there a match")."""
    options = re2.Options()
    options.case_sensitive = False
    options.never_capture = True
    options.log_errors = False
    options.max_mem = memory
    return options


def _engine_error(exc: Exception) -> str:
    message = exc.args[0] if exc.args else str(exc)
    if isinstance(message, bytes):
        message = message.decode("utf-8", "replace")
    return str(message)


def compile_pattern(body: str) -> tuple[Any, int]:
    """(the compiled RE2 pattern, its cost), or TermRejected saying why it cannot run."""
    try:
        compiled = re2.compile(body, pattern_options())
    except re2.error as exc:
        why = _engine_error(exc)
        if "pattern too large" in why:
            raise _too_complex() from None
        try:
            re.compile(body)
        except re.error:
            raise TermRejected(
                "pattern_invalid",
                f"That pattern is not a valid regular expression ({why}); fix it or write the "
                "term without slashes to block it as a plain word.",
                error=why,
            ) from None
        # Valid for Python's `re` but not for RE2: a feature RE2 leaves out on purpose.
        raise TermRejected(
            "pattern_unsupported",
            "That pattern uses something the linear-time pattern engine (RE2) cannot run, "
            "such as a backreference (\\1) or a lookahead or lookbehind ((?=...), (?<!...)); "
            "rewrite it without them.",
            error=why,
        ) from None
    cost = int(compiled._regexp.ProgramSize())
    if cost > MAX_PATTERN_COST:
        raise _too_complex()
    return compiled, cost


def _too_complex() -> TermRejected:
    return TermRejected(
        "pattern_too_complex",
        f"That pattern is too complex to check quickly (its compiled size is over "
        f"{MAX_PATTERN_COST}); use smaller counts such as {{1,5}} instead of {{1,100}}, or "
        "fewer alternatives.",
        limit=MAX_PATTERN_COST,
    )


def check_term(text: str) -> CheckedTerm:
    """Check a term a moderator typed; return it (stripped), or raise TermRejected."""
    term = text.strip()
    if not term:
        raise TermRejected("term_empty", "A blocked term cannot be empty.")
    if not is_pattern_term(term):
        if len(term) > MAX_TERM_LENGTH:
            raise TermRejected(
                "term_too_long",
                f"A blocked word or phrase can be at most {MAX_TERM_LENGTH} characters.",
                limit=MAX_TERM_LENGTH,
            )
        if not any(c.isalnum() for c in term):
            raise TermRejected(
                "term_no_letters",
                "A blocked word or phrase needs at least one letter or digit; "
                "write punctuation as a /pattern/.",
            )
        return CheckedTerm(term, False)
    body = term[1:-1]
    if len(body) > MAX_PATTERN_LENGTH:
        raise TermRejected(
            "pattern_too_long",
            f"A blocked pattern can be at most {MAX_PATTERN_LENGTH} characters between the slashes.",
            limit=MAX_PATTERN_LENGTH,
        )
    _, cost = compile_pattern(body)
    return CheckedTerm(term, True, cost)


def pattern_cost(term: str) -> int:
    """The cost of a stored `/pattern/` term; one RE2 cannot run costs nothing (it is skipped)."""
    try:
        return compile_pattern(term[1:-1])[1]
    except TermRejected:
        return 0


def check_pattern_budget(stored_patterns: Iterable[str], new: CheckedTerm) -> None:
    """Refuse a new pattern that would take the server's patterns past MAX_PATTERNS_COST."""
    if not new.is_pattern:
        return
    total = new.cost + sum(pattern_cost(p) for p in stored_patterns if p != new.term)
    if total > MAX_PATTERNS_COST:
        raise over_budget(total)


def over_budget(total: int) -> TermRejected:
    return TermRejected(
        "patterns_too_complex",
        f"This server's patterns together would be too complex to check quickly (compiled "
        f"size {total}, at most {MAX_PATTERNS_COST}); remove or simplify a pattern first, or "
        "block plain words instead.",
        size=total,
        limit=MAX_PATTERNS_COST,
    )


__all__ = [
    "MAX_PATTERNS_COST",
    "MAX_PATTERN_COST",
    "MAX_PATTERN_LENGTH",
    "MAX_TERM_LENGTH",
    "PATTERN_MEMORY",
    "CheckedTerm",
    "TermRejected",
    "check_pattern_budget",
    "check_term",
    "compile_pattern",
    "is_pattern_term",
    "over_budget",
    "pattern_cost",
    "pattern_options",
]
