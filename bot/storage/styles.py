"""StyleStore: a server's named styles (`/settings style`), used by `/imagine style:`.

A style is a prompt template with exactly one `{prompt}` (`{prompt}, watercolor, soft light`)
and, optionally, the model and aspect ratio it prefers (migration 071). At most
MAX_STYLES_PER_GUILD per server, the most Discord's autocomplete can list. A name is unique
in its server whatever its case. The shape of a style is checked here; whether its model is in
the catalog and its template free of the server's blocked terms is checked by the caller,
which has the catalog and the terms (`bot.policy.ladder.check_style`).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any

from bot.clock import Clock, SystemClock
from bot.storage.base import Database

PROMPT_SLOT = "{prompt}"
MAX_STYLES_PER_GUILD = 25
MAX_STYLE_NAME = 32
# With room left for the member's prompt inside the 2,000 characters a prompt may have.
MAX_TEMPLATE_LENGTH = 1000


class StyleError(ValueError):
    """A style was refused. `code` picks the localized sentence; `str()` is English."""

    def __init__(self, code: str, message: str, **params: Any) -> None:
        super().__init__(message)
        self.code = code
        self.params = params


@dataclass(frozen=True)
class Style:
    guild_id: int
    name: str
    template: str
    model: str | None = None
    aspect_ratio: str | None = None
    added_by: int | None = None
    added_at: float = 0.0
    id: int | None = None

    def apply(self, prompt: str) -> str:
        """The template with the member's prompt in its place."""
        return self.template.replace(PROMPT_SLOT, prompt, 1)

    @property
    def fixed_text(self) -> str:
        """What the style adds around the prompt (checked against blocked terms at `add`)."""
        return self.template.replace(PROMPT_SLOT, " ")


def name_key(name: str) -> str:
    """What makes two names the same: case and Unicode forms ignored."""
    return unicodedata.normalize("NFKC", name).casefold()


def check_name(name: str) -> str:
    """A name as stored: one line, trimmed, 1 to MAX_STYLE_NAME characters."""
    cleaned = " ".join(name.split())
    if not cleaned:
        raise StyleError("name_empty", "A style needs a name.")
    if len(cleaned) > MAX_STYLE_NAME:
        raise StyleError(
            "name_too_long",
            f"A style's name holds at most {MAX_STYLE_NAME} characters.",
            max=MAX_STYLE_NAME,
        )
    return cleaned


def check_template(template: str) -> str:
    """A template as stored: trimmed, bounded, with `{prompt}` exactly once."""
    cleaned = template.strip()
    slots = cleaned.count(PROMPT_SLOT)
    if slots != 1:
        raise StyleError(
            "template_slot",
            f"A template must contain {PROMPT_SLOT} exactly once (it has {slots}).",
            slot=PROMPT_SLOT,
            count=slots,
        )
    if len(cleaned) > MAX_TEMPLATE_LENGTH:
        raise StyleError(
            "template_too_long",
            f"A template holds at most {MAX_TEMPLATE_LENGTH} characters.",
            max=MAX_TEMPLATE_LENGTH,
        )
    return cleaned


def _from_row(row: dict[str, Any]) -> Style:
    return Style(
        guild_id=int(row["guild_id"]),
        name=row["name"],
        template=row["template"],
        model=row["model"],
        aspect_ratio=row["aspect_ratio"],
        added_by=row["added_by"],
        added_at=float(row["added_at"]),
        id=int(row["id"]),
    )


class StyleStore:
    def __init__(self, db: Database, clock: Clock | None = None) -> None:
        self.db = db
        self.clock = clock or SystemClock()

    async def add(
        self,
        guild_id: int,
        name: str,
        template: str,
        *,
        model: str | None = None,
        aspect_ratio: str | None = None,
        added_by: int | None = None,
    ) -> Style:
        """Store a new style; refused when the name is taken or the server has 25."""
        name, template = check_name(name), check_template(template)
        key = name_key(name)
        async with self.db.transaction(lock=f"guild-config:{guild_id}") as tx:
            taken = await tx.fetchval(
                "SELECT name FROM guild_styles WHERE guild_id = ? AND name_key = ?", guild_id, key
            )
            if taken is not None:
                raise StyleError(
                    "name_taken", f"The server already has a style named {taken}.", name=taken
                )
            count = await tx.fetchval(
                "SELECT COUNT(*) FROM guild_styles WHERE guild_id = ?", guild_id
            )
            if int(count) >= MAX_STYLES_PER_GUILD:
                raise StyleError(
                    "too_many",
                    f"A server has at most {MAX_STYLES_PER_GUILD} styles; remove one first.",
                    max=MAX_STYLES_PER_GUILD,
                )
            now = self.clock.now()
            style_id = await tx.fetchval(
                "INSERT INTO guild_styles (guild_id, name, name_key, template, model,"
                " aspect_ratio, added_by, added_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                guild_id,
                name,
                key,
                template,
                model,
                aspect_ratio,
                added_by,
                now,
            )
        return Style(guild_id, name, template, model, aspect_ratio, added_by, now, int(style_id))

    async def remove(self, guild_id: int, name: str) -> bool:
        changed = await self.db.execute(
            "DELETE FROM guild_styles WHERE guild_id = ? AND name_key = ?",
            guild_id,
            name_key(" ".join(name.split())),
        )
        return changed > 0

    async def get(self, guild_id: int, name: str) -> Style | None:
        row = await self.db.fetchone(
            "SELECT * FROM guild_styles WHERE guild_id = ? AND name_key = ?",
            guild_id,
            name_key(" ".join(name.split())),
        )
        return None if row is None else _from_row(row)

    async def list_styles(self, guild_id: int) -> list[Style]:
        """The server's styles by name."""
        rows = await self.db.fetchall(
            "SELECT * FROM guild_styles WHERE guild_id = ? ORDER BY name_key", guild_id
        )
        return [_from_row(r) for r in rows]

    async def names(self, guild_id: int) -> list[str]:
        """Just the names, for autocomplete: one indexed read of at most 25 short rows."""
        rows = await self.db.fetchall(
            "SELECT name FROM guild_styles WHERE guild_id = ? ORDER BY name_key", guild_id
        )
        return [str(r["name"]) for r in rows]

    @staticmethod
    async def forget_author(conn: Database, user_id: int) -> int:
        """/forget-me: styles a member added stay the server's, without the member's id."""
        return await conn.execute(
            "UPDATE guild_styles SET added_by = NULL WHERE added_by = ?", user_id
        )


__all__ = [
    "MAX_STYLES_PER_GUILD",
    "MAX_STYLE_NAME",
    "MAX_TEMPLATE_LENGTH",
    "PROMPT_SLOT",
    "Style",
    "StyleError",
    "StyleStore",
    "check_name",
    "check_template",
    "name_key",
]
