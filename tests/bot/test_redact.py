"""Passwords in URLs: found exactly in a known URL, masked in any text, nothing else touched."""

from __future__ import annotations

import pytest

from bot.redact import mask_url, mask_urls_in, password_forms


@pytest.mark.parametrize(
    ("url", "masked", "forms"),
    [
        (
            "postgresql://bot:s3cr%2Ft@db.example:5432/bot",
            "postgresql://bot:***@db.example:5432/bot",
            ["s3cr%2Ft", "s3cr/t"],
        ),
        ("postgres://u:p@ss@h:1/d", "postgres://u:***@h:1/d", ["p@ss"]),
        ("postgresql://u:pa/ss@h/d", "postgresql://u:***@h/d", ["pa/ss"]),
        (
            "postgresql://u@h/d?password=qwerty&x=1",
            "postgresql://u@h/d?password=***&x=1",
            ["qwerty"],
        ),
        ("postgresql://:only@h/d", "postgresql://:***@h/d", ["only"]),
        ("postgresql://bot@db/x", "postgresql://bot@db/x", []),
        ("sqlite:///data/bot.db", "sqlite:///data/bot.db", []),
    ],
)
def test_a_known_url_shows_everything_but_its_password(
    url: str, masked: str, forms: list[str]
) -> None:
    """mask_url keeps scheme, user, host, port and path; password_forms finds every spelling."""
    assert mask_url(url) == masked
    assert password_forms(url) == forms


def test_any_text_has_every_url_password_masked() -> None:
    """Log lines and error messages: each URL with a password is masked, the rest untouched."""
    text = (
        "connect postgresql://a:bpass@h/d failed; proxy https://x:y-secret@z.com/q?a=b; "
        "webhook http://127.0.0.1:8000/api/webhooks/1/tok/messages/@original"
    )
    assert mask_urls_in(text) == (
        "connect postgresql://a:***@h/d failed; proxy https://x:***@z.com/q?a=b; "
        "webhook http://127.0.0.1:8000/api/webhooks/1/tok/messages/@original"
    )
    assert mask_urls_in("no url here, pass the salt") == "no url here, pass the salt"
    # A path made from a URL keeps one slash; its password is still found.
    assert mask_urls_in("postgresql:/bot:pw-1234@db/x") == "postgresql:/bot:***@db/x"
