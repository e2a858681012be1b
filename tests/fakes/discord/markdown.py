"""What Discord's markdown would make of a text: which constructs it would render.

Enough of Discord's rules to tell whether user text reaches the screen as text: a backslash
before any punctuation shows that character as itself; everything else that is not escaped
is looked at for masked links, spoilers, headings, subtext, quotes, emphasis, code, links,
lists and mentions or custom emoji. Used by tests to say "nothing here is rendered".
"""

from __future__ import annotations

import re

_HIDDEN = "\x00"  # stands for an escaped character: never part of any construct

_CONSTRUCTS = {
    "masked link": re.compile(r"\[[^\]\n]*\]\(\s*<?[A-Za-z][\w+.-]*:"),
    "spoiler": re.compile(r"\|\|.+?\|\|", re.DOTALL),
    "heading": re.compile(r"^\s*#{1,3} ", re.MULTILINE),
    "subtext": re.compile(r"^\s*-# ", re.MULTILINE),
    "quote": re.compile(r"^\s*>", re.MULTILINE),
    "bold or italic": re.compile(r"\*[^*\s][^*]*\*|\b_[^_]+_\b"),
    "underline": re.compile(r"__.+?__"),
    "strikethrough": re.compile(r"~~.+?~~"),
    "code": re.compile(r"`[^`]+`"),
    "link": re.compile(r"\b(?:https?|steam)://\S"),
    "list": re.compile(r"^\s*(?:[-*+]|\d+\.) \S", re.MULTILINE),
    "mention or emoji": re.compile(r"<(?:[@#]|a?:|/|t:)[^>]*>"),
}


def unescaped(text: str) -> str:
    """The text as Discord's parser sees it once escapes are applied (escaped chars hidden)."""
    out: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        nxt = text[i + 1] if i + 1 < len(text) else ""
        if char == "\\" and nxt and not nxt.isalnum() and not nxt.isspace():
            out.append(_HIDDEN)
            i += 2
            continue
        out.append(char)
        i += 1
    return "".join(out)


def rendered_markdown(text: str) -> list[str]:
    """The constructs Discord would render from `text` (empty: it shows as plain text)."""
    view = unescaped(text)
    return [name for name, pattern in _CONSTRUCTS.items() if pattern.search(view)]


__all__ = ["rendered_markdown", "unescaped"]
