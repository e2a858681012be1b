"""Errors that carry a message key for the user; the edge picks the text per locale."""

from __future__ import annotations

from typing import Any


class UserFacingError(Exception):
    """A refusal or failure to show the user as one localized sentence.

    `key` names a message in bot/i18n/locales; `params` fill its placeholders.
    """

    def __init__(self, key: str, /, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


class StartupError(Exception):
    """Start-up cannot go on (a setting that cannot be used); `str()` is one sentence for the
    operator. `python -m bot` prints it and exits 2, never a traceback."""
