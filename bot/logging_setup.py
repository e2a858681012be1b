"""Logging to stdout, with every known secret replaced before a record is written."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable

from bot.redact import mask_urls_in


class RedactSecrets(logging.Filter):
    """Replaces secret values in the final message (args, traceback and stack included) with
    `***`, and the password of any URL in it (`scheme://user:***@host`), known or not."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        # Longest first: a secret that contains another is replaced whole. Shorter than 6
        # characters would mask common words (a short password is still masked inside a URL).
        self._secrets = sorted({s for s in secrets if s and len(s) >= 6}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return mask_urls_in(text)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is logged as-is
            return True
        redacted = self.redact(message)
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = self.redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


def configure_logging(level: str, secrets: Iterable[str] = ()) -> None:
    """Route all logging to stdout at `level`; idempotent (tests call it repeatedly)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_imagebot", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stdout)
    handler._imagebot = True  # type: ignore[attr-defined]
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%Y-%m-%dT%H:%M:%S")
    )
    handler.addFilter(RedactSecrets(secrets))
    root.addHandler(handler)
    root.setLevel(level)
    # discord.py's gateway chatter at DEBUG is huge; keep it at INFO unless asked for.
    if level != "DEBUG":
        logging.getLogger("discord.gateway").setLevel(logging.WARNING)
