"""Blocked terms: syntax, normalization and linear-time matching, free of storage and Discord.

`bot.storage` validates a term with `check_term` before storing it and `bot.policy` matches
prompts with `compile_terms`, so both use one engine (RE2) and one normalization, and neither
imports the other for it.
"""

from bot.terms.matcher import CompiledTerms, Skipped, TermLike, compile_terms
from bot.terms.normalize import fold, join_spaced_letters, normalize, prepare, words
from bot.terms.syntax import (
    MAX_PATTERN_COST,
    MAX_PATTERN_LENGTH,
    MAX_PATTERNS_COST,
    MAX_TERM_LENGTH,
    CheckedTerm,
    TermRejected,
    check_pattern_budget,
    check_term,
    is_pattern_term,
)

__all__ = [
    "MAX_PATTERNS_COST",
    "MAX_PATTERN_COST",
    "MAX_PATTERN_LENGTH",
    "MAX_TERM_LENGTH",
    "CheckedTerm",
    "CompiledTerms",
    "Skipped",
    "TermLike",
    "TermRejected",
    "check_pattern_budget",
    "check_term",
    "compile_terms",
    "fold",
    "is_pattern_term",
    "join_spaced_letters",
    "normalize",
    "prepare",
    "words",
]
