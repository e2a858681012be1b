"""Logging: what the bot writes never carries the token, the key or a URL's password."""

from __future__ import annotations

import io
import logging

import pytest

from bot.logging_setup import RedactSecrets
from bot.settings import load_settings

URL = "postgresql://imagebot:db-pass%2Fword@db.example:5432/imagebot"


def _logger(secrets: list[str]) -> tuple[logging.Logger, io.StringIO]:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.addFilter(RedactSecrets(secrets))
    logger = logging.getLogger(f"test-redact-{id(out)}")
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    return logger, out


def test_the_database_password_is_masked_in_messages_args_and_tracebacks() -> None:
    """The URL (as arg, in the message, in an exception) and its bare password come out masked."""
    settings = load_settings(
        {"DISCORD_TOKEN": "t" * 40, "COMETAPI_KEY": "sk-key-0123456789", "DATABASE_URL": URL}
    )
    logger, out = _logger(settings.secrets())
    logger.debug("opening %s", settings.database_url)
    logger.info("server said: bad password db-pass/word for imagebot")
    try:
        raise ConnectionError(f"cannot reach {URL}")
    except ConnectionError:
        logger.exception("database down")
    logger.warning("token %s key %s", "t" * 40, "sk-key-0123456789")
    written = out.getvalue()
    for secret in ("db-pass%2Fword", "db-pass/word", "t" * 40, "sk-key-0123456789"):
        assert secret not in written
    assert "postgresql://imagebot:***@db.example:5432/imagebot" in written
    assert "ConnectionError" in written  # the traceback is kept, only masked


@pytest.mark.parametrize("level", [logging.DEBUG, logging.ERROR])
def test_an_unknown_url_with_a_password_is_masked_too(level: int) -> None:
    """A URL nobody declared as a secret (an upstream's error text) still loses its password."""
    logger, out = _logger([])
    logger.log(level, "redirected to https://someone:guessme@elsewhere.example/x")
    assert "guessme" not in out.getvalue()
    assert "https://someone:***@elsewhere.example/x" in out.getvalue()
