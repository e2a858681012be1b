"""Command names and descriptions in the user's language, from the same catalogs as replies.

Convention: commands declare their strings as ``locale_str("English", key="command.x.name")``.
English stays the default text Discord stores; the translator supplies zh-TW, zh-CN and ja.
"""

from __future__ import annotations

import logging

import discord
from discord import app_commands

from bot.i18n import (
    Messages,
    is_valid_choice_name,
    is_valid_context_menu_name,
    is_valid_description,
    is_valid_slash_name,
)

log = logging.getLogger(__name__)

Location = app_commands.TranslationContextLocation

# Only the non-English catalogs become localizations: English (US, GB and every language we
# do not have) is the command's default text already, and repeating it would only add bytes
# to the sync payload.
_CATALOG_LOCALES: dict[discord.Locale, str] = {
    discord.Locale.taiwan_chinese: "zh-TW",
    discord.Locale.chinese: "zh-CN",
    discord.Locale.japanese: "ja",
}


def catalog_locale(locale: discord.Locale) -> str | None:
    """The catalog that localizes command text for a Discord locale, or None for English."""
    return _CATALOG_LOCALES.get(locale)


class CatalogTranslator(app_commands.Translator):
    """Translates keyed ``locale_str`` values for command sync, using ``Messages``."""

    def __init__(self, messages: Messages) -> None:
        self._messages = messages

    async def translate(
        self,
        string: app_commands.locale_str,
        locale: discord.Locale,
        context: app_commands.TranslationContextTypes,
    ) -> str | None:
        target = catalog_locale(locale)
        key = string.extras.get("key")
        if target is None or not isinstance(key, str) or not self._messages.has(target, key):
            return None
        text = self._messages.t(target, key)
        if not _acceptable(text, context):
            # Discord rejects the whole sync for one bad localization, so a translator's
            # typo costs that one string (English is shown instead), not every command.
            log.warning(
                "Not using %s translation of %s: Discord would refuse %r", target, key, text
            )
            return None
        return text


def _acceptable(text: str, context: app_commands.TranslationContextTypes) -> bool:
    location = context.location
    if location is Location.command_name:
        if isinstance(context.data, app_commands.ContextMenu):
            return is_valid_context_menu_name(text)
        return is_valid_slash_name(text)
    if location in (Location.group_name, Location.parameter_name):
        return is_valid_slash_name(text)
    if location in (
        Location.command_description,
        Location.group_description,
        Location.parameter_description,
    ):
        return is_valid_description(text)
    if location is Location.choice_name:
        return is_valid_choice_name(text)
    return True
