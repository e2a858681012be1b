"""Passwords inside URLs: found, and masked wherever a URL may be shown.

`DATABASE_URL` carries the database password (`postgresql://user:password@host/db`, or
`...?password=...` as libpq also reads it), and any later setting that is a URL may carry one
too. Whatever shows such a URL (`python -m bot check`, a log line, an error sentence) goes
through `mask_url` (one URL the program knows) or `mask_urls_in` (any text), which keep what an
operator needs to recognise the URL (scheme, user, host, port, path) and replace only the
password: `postgresql://user:***@host/db`.

No `urllib.parse`: the URL may be malformed (a password with an unescaped `/`, `?` or `#`, a
port that is not a number), urlsplit then refuses it or splits it elsewhere, and that is
exactly when an error message quotes it.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

MASK = "***"
# In any text: scheme://user:password@ — the user has no '/', '@' or ':'; the password runs to
# the last '@' before the host (written unescaped, it may contain '@' and ':'). Not '/': else
# `http://host:8000/path/@x` would look like one. A known URL's password is found exactly by
# `password_spans`, and `Settings.secrets()` hands it to the log filter as well. One slash is
# enough: a path made from a URL (`Path("a://u:p@h")`) keeps only one.
_USERINFO = re.compile(
    r"(?P<head>\b[A-Za-z][A-Za-z0-9+.-]*:/{1,2}[^\s/@:]*:)"
    r"(?P<password>[^\s@/]*(?:@[^\s@/]*(?=@))*)@"
)
_QUERY_PASSWORD = re.compile(r"(?P<head>[?&](?:password|passwd|pass)=)(?P<password>[^&#\s]*)")


def password_spans(url: str) -> list[tuple[int, int]]:
    """Where the passwords of one URL are: its user-info password and a `password=` parameter.

    Lenient on purpose: the user-info ends at the last `@` before the query, so a password
    written with an unescaped `/` is still found.
    """
    spans: list[tuple[int, int]] = []
    scheme_end = url.find("://")
    if scheme_end >= 0:
        start = scheme_end + 3
        query = url.find("?", start)
        at = url.rfind("@", start, query if query >= 0 else len(url))
        if at > 0:
            colon = url.find(":", start, at)
            if 0 <= colon < at - 1:
                spans.append((colon + 1, at))
    for match in _QUERY_PASSWORD.finditer(url):
        if match.group("password"):
            spans.append(match.span("password"))
    return spans


def password_forms(url: str) -> list[str]:
    """Every password of a URL, as written and as the server sees it (%-escapes undone)."""
    forms: list[str] = []
    for start, end in password_spans(url):
        written = url[start:end]
        forms.extend((written, unquote(written)))
    return list(dict.fromkeys(forms))


def mask_url(url: str) -> str:
    """One URL with its passwords replaced by ***; unchanged when it has none."""
    url = str(url)  # a plain str, also from a str subclass (SecretURL's repr uses this)
    for start, end in sorted(password_spans(url), reverse=True):
        url = url[:start] + MASK + url[end:]
    return url


def mask_urls_in(text: str) -> str:
    """Every `scheme://user:password@` and `?password=` in a text, the password masked."""
    if ":/" not in text and "pass" not in text:
        return text
    text = _USERINFO.sub(
        lambda m: f"{m.group('head')}{MASK}@" if m.group("password") else m[0], text
    )
    return _QUERY_PASSWORD.sub(
        lambda m: f"{m.group('head')}{MASK}" if m.group("password") else m[0], text
    )


__all__ = ["MASK", "mask_url", "mask_urls_in", "password_forms", "password_spans"]
