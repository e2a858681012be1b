"""Discord's rules for application command names and descriptions, without discord.

A localized name that breaks these rules makes Discord refuse the whole sync, so the
translator checks every string before handing it over, and the tests check the catalogs.
"""

from __future__ import annotations

import unicodedata

NAME_MAX = 32
DESCRIPTION_MAX = 100
CHOICE_NAME_MAX = 100

# Discord's pattern is ^[-_\p{L}\p{N}\p{sc=Deva}\p{sc=Thai}]{1,32}$. Python's re has no
# \p{...}, so letters and numbers are checked by Unicode category and the two scripts by
# their blocks (they matter for combining marks, which are not letters).
_SCRIPT_BLOCKS = (
    (0x0900, 0x097F),  # Devanagari
    (0xA8E0, 0xA8FF),  # Devanagari Extended
    (0x0E00, 0x0E7F),  # Thai
)


def _allowed_in_slash_name(char: str) -> bool:
    if char in "-_":
        return True
    if unicodedata.category(char)[0] in ("L", "N"):
        return True
    code = ord(char)
    return any(low <= code <= high for low, high in _SCRIPT_BLOCKS)


def is_valid_slash_name(name: str) -> bool:
    """A slash command, group, subcommand or option name Discord will accept."""
    if not 1 <= len(name) <= NAME_MAX:
        return False
    # Discord requires the lowercase variant of any letter that has one.
    if name != name.lower():
        return False
    return all(_allowed_in_slash_name(char) for char in name)


def is_valid_context_menu_name(name: str) -> bool:
    """A user or message context-menu name: any case and spaces, 1-32 characters."""
    return 1 <= len(name) <= NAME_MAX and name == name.strip() and name.isprintable()


def is_valid_description(text: str) -> bool:
    """A command or option description: 1-100 characters."""
    return 1 <= len(text) <= DESCRIPTION_MAX


def is_valid_choice_name(text: str) -> bool:
    """An option choice's display name: 1-100 characters."""
    return 1 <= len(text) <= CHOICE_NAME_MAX
