"""User-facing text in English, 繁體中文, 简体中文 and 日本語, from files translators edit.

Create one ``Messages`` in the composition root (``Messages.load()``) and pass it down;
pick the locale per interaction with ``resolve_locale``.
"""

from bot.i18n.command_names import (
    is_valid_choice_name,
    is_valid_context_menu_name,
    is_valid_description,
    is_valid_slash_name,
)
from bot.i18n.locale import DEFAULT_LOCALE, SUPPORTED_LOCALES, resolve_locale
from bot.i18n.messages import (
    LOCALES_DIR,
    BoundMessages,
    CatalogError,
    Messages,
    canonical_json,
    placeholders,
)

__all__ = [
    "DEFAULT_LOCALE",
    "LOCALES_DIR",
    "SUPPORTED_LOCALES",
    "BoundMessages",
    "CatalogError",
    "Messages",
    "canonical_json",
    "is_valid_choice_name",
    "is_valid_context_menu_name",
    "is_valid_description",
    "is_valid_slash_name",
    "placeholders",
    "resolve_locale",
]
