"""Turning a non-2xx answer into one typed error, whatever shape its body has.

Bodies seen in this API family: CometAPI's envelope
`{"error": {"message": "... (request id: X)", "type": ..., "code": ...}}`, Replicate's problem
details `{"title", "detail", "status"}`, plain text, and HTML pages from a wrong base URL or
a gateway. Nothing here assumes JSON.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any, Literal

from bot.cometapi.errors import (
    AccessDeniedError,
    AuthenticationError,
    CometAPIError,
    InsufficientCreditError,
    InvalidInputError,
    ModelUnavailableError,
    PredictionNotFoundError,
    ProviderError,
    RateLimitedError,
    UnexpectedResponseError,
)

Route = Literal["create", "get", "cancel"]

MAX_DETAIL = 300
_REQUEST_ID = re.compile(r"\s*\(request id:\s*([^)]+)\)", re.IGNORECASE)
_REQUEST_ID_HEADERS = ("X-Request-Id", "X-Oneapi-Request-Id", "Request-Id", "CF-Ray")
_CREDIT_CODES = frozenset(
    {"insufficient_user_quota", "insufficient_quota", "insufficient_credit", "insufficient_balance"}
)
_CREDIT_TEXT = re.compile(
    r"insufficient[_\s]+(?:user[_\s]+)?(?:credit|quota|balance|funds)|额度不足|余额不足",
    re.IGNORECASE,
)
_HTML_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_BASE_URL_HINT = "check COMETAPI_BASE_URL"


@dataclass(frozen=True)
class ParsedBody:
    """What could be read out of an error body."""

    detail: str | None
    code: str | None
    request_id: str | None
    is_html: bool
    data: Any  # the decoded JSON, or None


def looks_like_html(body: bytes, content_type: str) -> bool:
    head = body[:200].lstrip().lower()
    return "html" in content_type.lower() or head.startswith((b"<!doctype", b"<html"))


def decode_json(body: bytes) -> Any:
    """The decoded JSON body, or None when it is not JSON."""
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None


def parse_body(body: bytes, content_type: str, headers: Mapping[str, str]) -> ParsedBody:
    data = decode_json(body)
    detail: str | None = None
    code: str | None = None
    is_html = data is None and looks_like_html(body, content_type)
    if isinstance(data, Mapping):
        error = data.get("error")
        if isinstance(error, Mapping):  # CometAPI's envelope
            detail = _as_text(error.get("message"))
            code = _as_text(error.get("code")) or None
        elif isinstance(error, str):
            detail = error
        if detail is None:  # Replicate's problem details, or a bare {"message": ...}
            detail = _as_text(data.get("detail")) or _as_text(data.get("message"))
            title = _as_text(data.get("title"))
            if title and detail and title not in detail:
                detail = f"{title}: {detail}"
            detail = detail or title
        if code is None and isinstance(data.get("code"), str | int):
            code = str(data["code"]) or None
    elif is_html:
        match = _HTML_TITLE.search(body[:4096].decode("utf-8", "replace"))
        detail = f"HTML page “{match.group(1).strip()}”" if match else "an HTML page"
    elif data is None and body.strip():
        detail = body[:2048].decode("utf-8", "replace")
    request_id = None
    if detail:
        match = _REQUEST_ID.search(detail)
        if match:
            request_id = match.group(1).strip()
            detail = _REQUEST_ID.sub("", detail)
    if request_id is None:
        for name in _REQUEST_ID_HEADERS:
            if headers.get(name):
                request_id = headers[name]
                break
    return ParsedBody(
        detail=_tidy(detail) if detail else None,
        code=code,
        request_id=request_id,
        is_html=is_html,
        data=data,
    )


def redact(text: str, secret: str) -> str:
    """Remove the API key from text that may echo it (an 'invalid token sk-...' message)."""
    if len(secret) >= 4:
        text = text.replace(secret, "[redacted]")
    return text


def error_from_response(
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    *,
    route: Route,
    api_key: str,
    model: str | None = None,
    prediction_id: str | None = None,
    now: float | None = None,
) -> CometAPIError:
    """The one typed error for a non-2xx answer."""
    parsed = parse_body(body, headers.get("Content-Type", ""), headers)
    detail = redact(parsed.detail, api_key) if parsed.detail else None
    ids: dict[str, Any] = {"status": status, "code": parsed.code, "request_id": parsed.request_id}
    code = (parsed.code or "").lower()

    def say(what: str) -> str:
        return f"{what} (HTTP {status}): {detail}" if detail else f"{what} (HTTP {status})"

    if 300 <= status < 400:
        location = headers.get("Location", "")
        where = f" to {redact(location, api_key)[:200]}" if location else ""
        return UnexpectedResponseError(
            f"the API answered with a redirect (HTTP {status}{where}) — {_BASE_URL_HINT}", **ids
        )
    if parsed.is_html and (status == 404 or status < 300):
        return UnexpectedResponseError(
            f"unexpected HTML answer (HTTP {status}) — {_BASE_URL_HINT}", **ids
        )
    if code == "model_not_found":
        return ModelUnavailableError(say(f"model {model or '?'} is not available"), **ids)
    if status == 402 or code in _CREDIT_CODES or (detail and _CREDIT_TEXT.search(detail)):
        return InsufficientCreditError(say("the API key has no credit left"), **ids)
    if status in (400, 413, 422) or (status == 500 and code.startswith("invalid_request")):
        return InvalidInputError(say("the API refused the input"), **ids)
    if status == 401:
        return AuthenticationError(say("the API key was refused"), **ids)
    if status == 403:
        return AccessDeniedError(say("access denied"), **ids)
    if status == 404:
        if route == "create":
            return ModelUnavailableError(say(f"model {model or '?'} is not available"), **ids)
        return PredictionNotFoundError(say(f"prediction {prediction_id or '?'} not found"), **ids)
    if status == 429:
        return RateLimitedError(
            say("rate limited"),
            retry_after=parse_retry_after(headers.get("Retry-After"), now=now),
            status=status,
            code=parsed.code,
            request_id=parsed.request_id,
        )
    if status >= 500:
        return ProviderError(say("provider error"), **ids)
    return UnexpectedResponseError(say("unexpected answer"), **ids)


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: a number of seconds or an HTTP-date."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if now is None:
            return None
        seconds = when.timestamp() - now
    if seconds != seconds:  # NaN
        return None
    return max(0.0, seconds)


def _as_text(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _tidy(text: str) -> str:
    """One line, bounded: API messages go into logs and one-sentence CLI errors."""
    text = " ".join(text.split())
    return text if len(text) <= MAX_DETAIL else text[: MAX_DETAIL - 1] + "…"
