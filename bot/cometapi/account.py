"""Is this API key usable? Two cheap authenticated reads, no prediction, nothing billed.

What CometAPI documents (docs/decisions/012-onboarding-containers-hosting.md lists the
sources and what is unverified):

- `GET {base}/v1/models` (OpenAI-compatible model list) needs `Authorization: Bearer <key>`;
  its public twin `/api/models` does not. A missing, malformed or unknown key is a 401. It tells
  a valid key from a refused one, but nothing about credit.
- `GET https://query.cometapi.com/user/quota?key=<key>` (a separate query service; the key is a
  query parameter, not a Bearer header) answers the account's balance in USD (`total_quota`),
  its total use and each key's own limit (`keys[].remain_quota`, -1 = unlimited). It tells
  credit from no credit. Its answer to a wrong key is not documented: anything but a readable
  balance leaves the credit "unknown", never "refused".

With another `COMETAPI_BASE_URL` (a gateway, or the tests' fake) the query service is looked
for at `{base}/user/quota`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

import aiohttp

from bot.cometapi.errors import (
    AccessDeniedError,
    AuthenticationError,
    InsufficientCreditError,
    UnexpectedResponseError,
)
from bot.cometapi.responses import decode_json, error_from_response, redact

DEFAULT_HOST = "api.cometapi.com"
QUERY_SERVICE = "https://query.cometapi.com"
MAX_BODY = 2 * 1024 * 1024

# A key whose own limit is spent is refused with a message like these (unverified wording).
_KEY_EXHAUSTED = re.compile(
    r"quota\s+(?:is\s+)?(?:exhausted|used\s+up)|exhausted|额度已用尽|额度不足|余额不足",
    re.IGNORECASE,
)

KeyState = Literal["ok", "refused", "forbidden", "no_credit", "wrong_url", "unreachable", "error"]
CreditState = Literal["ok", "none", "unknown"]


@dataclass(frozen=True)
class KeyReport:
    """What the key checks found; `detail` is the API's own words, the key removed."""

    key: KeyState
    credit: CreditState = "unknown"
    models: int | None = None
    balance: float | None = None  # USD, the account's balance
    detail: str | None = None
    request_id: str | None = None


def quota_url(base_url: str) -> str:
    """Where the balance query service is for this API root."""
    if urlsplit(base_url).hostname == DEFAULT_HOST:
        return f"{QUERY_SERVICE}/user/quota"
    return f"{base_url.rstrip('/')}/user/quota"


async def check_key(
    session: aiohttp.ClientSession, *, base_url: str, api_key: str, timeout: float = 20.0
) -> KeyReport:
    """The key's state (valid, refused, ...) and, for a valid key, the account's credit."""
    try:
        status, headers, body = await _get(
            session,
            f"{base_url.rstrip('/')}/v1/models",
            headers={"Authorization": f"Bearer {api_key}", "Accept": "application/json"},
            timeout=timeout,
        )
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        return KeyReport("unreachable", detail=redact(_describe(exc), api_key))
    if status >= 300:
        return _refusal(status, headers, body, api_key)
    data = decode_json(body)
    listed = data.get("data") if isinstance(data, dict) else None
    if not isinstance(listed, list):
        return KeyReport("wrong_url", detail=f"HTTP {status} without a model list")
    balance = await _balance(session, base_url, api_key, timeout)
    if balance is None:
        return KeyReport("ok", "unknown", models=len(listed))
    credit: CreditState = "ok" if balance > 0 else "none"
    return KeyReport("ok", credit, models=len(listed), balance=balance)


def _refusal(status: int, headers: Any, body: bytes, api_key: str) -> KeyReport:
    error = error_from_response(status, headers, body, route="get", api_key=api_key)
    detail, request_id = error.message, error.request_id
    if isinstance(error, InsufficientCreditError) or (
        isinstance(error, AuthenticationError | AccessDeniedError) and _KEY_EXHAUSTED.search(detail)
    ):
        return KeyReport("no_credit", "none", detail=detail, request_id=request_id)
    if isinstance(error, AuthenticationError):
        return KeyReport("refused", detail=detail, request_id=request_id)
    if isinstance(error, AccessDeniedError):
        return KeyReport("forbidden", detail=detail, request_id=request_id)
    if isinstance(error, UnexpectedResponseError) or status == 404:
        return KeyReport("wrong_url", detail=detail, request_id=request_id)
    return KeyReport("error", detail=detail, request_id=request_id)


async def _balance(
    session: aiohttp.ClientSession, base_url: str, api_key: str, timeout: float
) -> float | None:
    """The account's balance in USD from the query service, or None if it cannot be read."""
    try:
        status, _, body = await _get(
            session, quota_url(base_url), params={"key": api_key}, timeout=timeout
        )
    except (aiohttp.ClientError, TimeoutError, ValueError):
        return None
    data = decode_json(body) if status == 200 else None
    if isinstance(data, dict) and isinstance(data.get("data"), dict):
        data = data["data"]  # tolerate a {"data": {...}} wrapper
    value = data.get("total_quota") if isinstance(data, dict) else None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


async def _get(
    session: aiohttp.ClientSession,
    url: str,
    *,
    timeout: float,
    headers: dict[str, str] | None = None,
    params: dict[str, str] | None = None,
) -> tuple[int, Any, bytes]:
    async with session.get(
        url,
        headers=headers,
        params=params,
        timeout=aiohttp.ClientTimeout(total=timeout),
        # A redirect means a wrong base URL; following it could send the key elsewhere.
        allow_redirects=False,
    ) as response:
        body = await response.content.read(MAX_BODY)
        return response.status, response.headers, body


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "no answer in time"
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


__all__ = ["KeyReport", "check_key", "quota_url"]
