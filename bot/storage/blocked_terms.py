"""Blocked terms as moderators type them: what a term is, and which terms can be stored.

A term is checked when it is added (GuildConfigStore.add_blocked_term) by `bot.terms`, the
engine (RE2) that will run it, so a broken pattern never reaches the database; matching lives
in `bot.policy.moderation`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.storage.guild_model import GuildConfigError
from bot.terms import (
    MAX_PATTERN_LENGTH,
    MAX_TERM_LENGTH,
    TermRejected,
    check_term,
    is_pattern_term,
)

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


def validate_term(text: str) -> BlockedTerm:
    """Check a term a moderator typed with the engine that will run it (`bot.terms`); return it
    (stripped), or raise BlockedTermError with the reason's code."""
    try:
        checked = check_term(text)
    except TermRejected as exc:
        raise BlockedTermError(exc.code, str(exc), **exc.params) from None
    return BlockedTerm(term=checked.term, is_pattern=checked.is_pattern)


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
    "is_pattern_term",
    "validate_term",
]
