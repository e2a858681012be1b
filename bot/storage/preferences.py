"""PreferenceStore: a member's own defaults for /imagine (`/prefs`), kept across servers.

One row per member (migration 070), keyed by the user alone, so a preference follows the
member into every server and DM. NULL is "no preference". Which value wins when a command,
a server style, a preference and the server's default all say something is decided in
`bot.policy.ladder` (docs/decisions/022-preferences-and-styles.md); this module only keeps
the values, checked for shape (the catalog checks happen where a request uses them, since a
model can leave the catalog after it was chosen).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from bot.clock import Clock, SystemClock
from bot.storage.base import Database

# The settings /prefs knows, as the slash options of /imagine they stand for.
PREFERENCE_SETTINGS = ("model", "aspect_ratio", "format", "quality", "count", "suffix")
# The column each setting is stored in (format and count are awkward names in SQL).
_COLUMNS = {
    "model": "model",
    "aspect_ratio": "aspect_ratio",
    "format": "output_format",
    "quality": "quality",
    "count": "image_count",
    "suffix": "prompt_suffix",
}
MAX_SUFFIX_LENGTH = 300


class PreferenceError(ValueError):
    """A preference value was refused. `code` picks the sentence; `str()` is English."""

    def __init__(self, code: str, message: str, **params: Any) -> None:
        super().__init__(message)
        self.code = code
        self.params = params


@dataclass(frozen=True)
class Preferences:
    """A member's defaults; None is "no preference"."""

    user_id: int
    model: str | None = None
    aspect_ratio: str | None = None
    format: str | None = None
    quality: int | None = None
    count: int | None = None
    suffix: str | None = None

    def values(self) -> dict[str, Any]:
        """setting -> value, for the settings the member set, in `PREFERENCE_SETTINGS` order."""
        data = asdict(self)
        return {s: data[s] for s in PREFERENCE_SETTINGS if data[s] is not None}

    @property
    def is_empty(self) -> bool:
        return not self.values()


def check_suffix(text: str) -> str:
    """The suffix as stored: one line, trimmed, at most MAX_SUFFIX_LENGTH characters."""
    cleaned = " ".join(text.split())
    if not cleaned:
        raise PreferenceError("suffix_empty", "The suffix is empty.")
    if len(cleaned) > MAX_SUFFIX_LENGTH:
        raise PreferenceError(
            "suffix_too_long",
            f"A suffix holds at most {MAX_SUFFIX_LENGTH} characters.",
            max=MAX_SUFFIX_LENGTH,
        )
    return cleaned


def _from_row(user_id: int, row: dict[str, Any] | None) -> Preferences:
    if row is None:
        return Preferences(user_id)
    return Preferences(user_id, **{s: row[_COLUMNS[s]] for s in PREFERENCE_SETTINGS})


class PreferenceStore:
    def __init__(self, db: Database, clock: Clock | None = None) -> None:
        self.db = db
        self.clock = clock or SystemClock()

    async def get(self, user_id: int) -> Preferences:
        """The member's preferences (all None when they set none)."""
        row = await self.db.fetchone("SELECT * FROM member_preferences WHERE user_id = ?", user_id)
        return _from_row(user_id, row)

    async def set(self, user_id: int, **changes: Any) -> Preferences:
        """Set the given settings (None leaves a setting as it was); returns the result."""
        unknown = set(changes) - set(PREFERENCE_SETTINGS)
        if unknown:
            raise ValueError(f"unknown preference settings: {sorted(unknown)}")
        given = {s: v for s, v in changes.items() if v is not None}
        if "suffix" in given:
            given["suffix"] = check_suffix(str(given["suffix"]))
        if not given:
            return await self.get(user_id)
        columns = [_COLUMNS[s] for s in given]
        # One statement: a new row, or only the given columns of an existing one.
        updates = ", ".join(f"{c} = excluded.{c}" for c in columns)
        async with self.db.transaction(lock=f"prefs:{user_id}") as tx:
            await tx.execute(
                f"INSERT INTO member_preferences (user_id, {', '.join(columns)}, updated_at)"
                f" VALUES (?, {', '.join('?' for _ in columns)}, ?)"
                f" ON CONFLICT (user_id) DO UPDATE SET {updates},"
                " updated_at = excluded.updated_at",
                user_id,
                *given.values(),
                self.clock.now(),
            )
            row = await tx.fetchone("SELECT * FROM member_preferences WHERE user_id = ?", user_id)
        return _from_row(user_id, row)

    async def reset(self, user_id: int, settings: Iterable[str] | None = None) -> bool:
        """Forget some settings (all when None); False when there was nothing to forget.

        The row goes once no setting is left, so "no preferences" is always "no row".
        """
        chosen = list(PREFERENCE_SETTINGS if settings is None else settings)
        unknown = set(chosen) - set(PREFERENCE_SETTINGS)
        if unknown:
            raise ValueError(f"unknown preference settings: {sorted(unknown)}")
        async with self.db.transaction(lock=f"prefs:{user_id}") as tx:
            before = _from_row(
                user_id,
                await tx.fetchone("SELECT * FROM member_preferences WHERE user_id = ?", user_id),
            ).values()
            if not any(s in before for s in chosen):
                return False
            assignments = ", ".join(f"{_COLUMNS[s]} = NULL" for s in chosen)
            await tx.execute(
                f"UPDATE member_preferences SET {assignments}, updated_at = ? WHERE user_id = ?",
                self.clock.now(),
                user_id,
            )
            await tx.execute(
                "DELETE FROM member_preferences WHERE user_id = ? AND "
                + " AND ".join(f"{c} IS NULL" for c in _COLUMNS.values()),
                user_id,
            )
        return True

    @staticmethod
    async def forget(conn: Database, user_id: int) -> int:
        """/forget-me: delete the member's preferences, inside the caller's transaction."""
        return await conn.execute("DELETE FROM member_preferences WHERE user_id = ?", user_id)


__all__ = [
    "MAX_SUFFIX_LENGTH",
    "PREFERENCE_SETTINGS",
    "PreferenceError",
    "PreferenceStore",
    "Preferences",
    "check_suffix",
]
