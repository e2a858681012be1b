"""Blocked terms for admission: each server's compiled terms, and word of the ones skipped.

What a term matches, and how fast, is `bot.terms` (normalization, whole-word matching, RE2
patterns). This module keeps one compiled set per server until the server's `terms_version`
moves, and tells listeners once (per process, server and version) about stored terms that
could not be compiled, so that the Discord edge can tell the server's moderators.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from bot.storage.blocked_terms import (
    BlockedTerm,
    BlockedTermError,
    is_pattern_term,
    validate_term,
)
from bot.terms import CompiledTerms, Skipped, compile_terms, normalize

log = logging.getLogger(__name__)


def match_blocked_term(prompt: str, terms: Iterable[BlockedTerm]) -> BlockedTerm | None:
    """The first blocked term the prompt contains, or None."""
    found: BlockedTerm | None = compile_terms(tuple(terms)).match(prompt)
    return found


@dataclass(frozen=True)
class TermsSkipped:
    """Stored terms of a server that its compiled set leaves out, and why (`Skipped.code`)."""

    guild_id: int
    terms_version: int
    skipped: tuple[Skipped[BlockedTerm], ...]


TermsListener = Callable[[TermsSkipped], None]


class TermCache:
    """Compiled terms per guild, kept until the guild's `terms_version` moves.

    GuildConfigStore bumps the version in the same transaction as every term change, so a
    process notices changes made by another process on its next read of the guild's row.
    """

    def __init__(self) -> None:
        self._by_guild: dict[int, tuple[int, CompiledTerms[BlockedTerm]]] = {}
        self._listeners: list[TermsListener] = []
        self._reported: dict[int, int] = {}  # guild id -> the version last reported

    def get(self, guild_id: int, version: int) -> CompiledTerms[BlockedTerm] | None:
        cached = self._by_guild.get(guild_id)
        if cached is None or cached[0] != version:
            return None
        return cached[1]

    def put(self, guild_id: int, version: int, compiled: CompiledTerms[BlockedTerm]) -> None:
        self._by_guild[guild_id] = (version, compiled)
        if compiled.skipped and self._reported.get(guild_id) != version:
            self._reported[guild_id] = version
            self._announce(TermsSkipped(guild_id, version, compiled.skipped))

    def invalidate(self, guild_id: int | None = None) -> None:
        if guild_id is None:
            self._by_guild.clear()
        else:
            self._by_guild.pop(guild_id, None)

    def subscribe(self, listener: TermsListener) -> Callable[[], None]:
        """Call `listener` (synchronously; it must not block) for each new TermsSkipped."""
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    def _announce(self, notice: TermsSkipped) -> None:
        log.warning(
            "guild %s: %d stored blocked term(s) skipped (term ids %s)",
            notice.guild_id,
            len(notice.skipped),
            ", ".join(str(s.term.id) for s in notice.skipped),
        )
        for listener in list(self._listeners):
            try:
                listener(notice)
            except Exception:
                # A listener's failure must not fail the request that compiled the terms.
                log.exception("a listener for skipped blocked terms failed")


__all__ = [
    "BlockedTerm",
    "BlockedTermError",
    "CompiledTerms",
    "TermCache",
    "TermsListener",
    "TermsSkipped",
    "compile_terms",
    "is_pattern_term",
    "match_blocked_term",
    "normalize",
    "validate_term",
]
