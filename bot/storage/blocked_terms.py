"""Blocked terms as moderators type them: what a term is, and which terms can be stored.

The *syntax* is checked when a term is added (GuildConfigStore.add_blocked_term), so a broken
or catastrophic pattern never reaches the database; matching lives in `bot.policy.moderation`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from bot.storage.guild_model import GuildConfigError

# A moderator's word or phrase, and a /pattern/ body: long enough for any real term, short
# enough that no term can be a denial of service by size alone.
MAX_TERM_LENGTH = 100
MAX_PATTERN_LENGTH = 200
MAX_TERMS_PER_GUILD = 500


class BlockedTermError(GuildConfigError):
    """A blocked term cannot be added (empty, too long, broken or too slow a pattern, ...)."""


@dataclass(frozen=True)
class BlockedTerm:
    """One blocked word, phrase or pattern (`term` is exactly what the moderator typed)."""

    term: str
    is_pattern: bool = False
    guild_id: int = 0
    id: int | None = None
    added_by: int | None = None
    added_at: float | None = None

    @property
    def pattern(self) -> str:
        """The regular expression of a `/pattern/` term (the text between the slashes)."""
        return self.term[1:-1] if self.is_pattern else ""


def is_pattern_term(text: str) -> bool:
    """A term written as `/regex/` is a pattern."""
    return len(text) >= 3 and text.startswith("/") and text.endswith("/")


def validate_term(text: str) -> BlockedTerm:
    """Check a term a moderator typed; return it (stripped), or raise BlockedTermError."""
    term = text.strip()
    if not term:
        raise BlockedTermError("term_empty", "A blocked term cannot be empty.")
    if not is_pattern_term(term):
        if len(term) > MAX_TERM_LENGTH:
            raise BlockedTermError(
                "term_too_long",
                f"A blocked word or phrase can be at most {MAX_TERM_LENGTH} characters.",
                limit=MAX_TERM_LENGTH,
            )
        if not any(c.isalnum() for c in term):
            raise BlockedTermError(
                "term_no_letters",
                "A blocked word or phrase needs at least one letter or digit; "
                "write punctuation as a /pattern/.",
            )
        return BlockedTerm(term=term, is_pattern=False)
    body = term[1:-1]
    if len(body) > MAX_PATTERN_LENGTH:
        raise BlockedTermError(
            "pattern_too_long",
            f"A blocked pattern can be at most {MAX_PATTERN_LENGTH} characters between the slashes.",
            limit=MAX_PATTERN_LENGTH,
        )
    try:
        re.compile(body, re.IGNORECASE)
    except re.error as exc:
        raise BlockedTermError(
            "pattern_invalid",
            f"That pattern is not a valid regular expression ({exc.msg}); fix it or write the "
            "term without slashes to block it as a plain word.",
            error=exc.msg,
        ) from None
    if has_nested_quantifier(body):
        raise BlockedTermError(
            "pattern_too_slow",
            "That pattern repeats a group that itself repeats (like (a+)+), which can take "
            "forever on some prompts; write it without the nested repetition.",
        )
    return BlockedTerm(term=term, is_pattern=True)


def has_nested_quantifier(pattern: str) -> bool:
    """True for a repeated group that contains a repetition, like `(a+)+` or `(\\w*x){2,}`.

    Python's `re` has no timeout, and these shapes are the classic catastrophic-backtracking
    ones. A best-effort syntactic guard, together with the length caps on patterns and prompts.
    """
    stack: list[bool] = []  # per open group: does it contain a quantifier?
    i = 0
    in_class = False
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            i += 2
            continue
        if in_class:
            if c == "]":
                in_class = False
            i += 1
            continue
        if c == "[":
            in_class = True
            # A ']' right after '[' or '[^' is a literal, not the end of the class.
            if pattern[i + 1 : i + 2] == "^":
                i += 1
            if pattern[i + 1 : i + 2] == "]":
                i += 1
        elif c == "(":
            stack.append(False)
        elif c == ")":
            inner = stack.pop() if stack else False
            nxt = pattern[i + 1 : i + 2]
            if inner and nxt in ("*", "+", "{"):
                return True
            if stack and (inner or nxt in ("*", "+", "{")):
                stack[-1] = True
        elif c in "*+{" and stack:
            stack[-1] = True
        i += 1
    return False


def blocked_term_from_row(row: dict[str, Any]) -> BlockedTerm:
    return BlockedTerm(
        term=row["term"],
        is_pattern=bool(row["is_pattern"]),
        guild_id=int(row["guild_id"]),
        id=int(row["id"]),
        added_by=row["added_by"],
        added_at=row["added_at"],
    )


__all__ = [
    "MAX_PATTERN_LENGTH",
    "MAX_TERMS_PER_GUILD",
    "MAX_TERM_LENGTH",
    "BlockedTerm",
    "BlockedTermError",
    "blocked_term_from_row",
    "has_nested_quantifier",
    "is_pattern_term",
    "validate_term",
]
