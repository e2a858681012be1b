"""Choosing one of the bot's four catalogs for whatever locale Discord reports."""

from __future__ import annotations

SUPPORTED_LOCALES: tuple[str, ...] = ("en-US", "zh-TW", "zh-CN", "ja")
DEFAULT_LOCALE = "en-US"

# Chinese is split by script, not by country: Hong Kong and Macau read Traditional
# characters, so they get the zh-TW catalog; bare "zh" and everything else get Simplified.
_TRADITIONAL_CHINESE_TAGS = frozenset({"tw", "hk", "mo", "hant"})


def _match(tag: str | None) -> str | None:
    """The supported locale for one BCP 47-ish tag, or None when nothing fits."""
    if not tag:
        return None
    cleaned = tag.strip().replace("_", "-")
    if not cleaned:
        return None
    for supported in SUPPORTED_LOCALES:
        if cleaned.lower() == supported.lower():
            return supported
    language, *rest = cleaned.lower().split("-")
    if language == "en":
        return "en-US"
    if language == "ja":
        return "ja"
    if language == "zh":
        return "zh-TW" if _TRADITIONAL_CHINESE_TAGS.intersection(rest) else "zh-CN"
    return None


def resolve_locale(interaction_locale: str | None, guild_locale: str | None = None) -> str:
    """The catalog to answer in: the user's own locale first, then the server's, then English.

    Exact matches win ("zh-TW"), then the language ("en-GB" -> "en-US", "zh-HK" -> "zh-TW",
    "zh" -> "zh-CN", "ja-JP" -> "ja"). The guild locale is only a fallback because Discord
    always sends the user's client language, which is what the user actually reads.
    """
    return _match(interaction_locale) or _match(guild_locale) or DEFAULT_LOCALE
