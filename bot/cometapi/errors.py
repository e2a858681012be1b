"""Typed errors for CometAPI calls: every failure the client raises is a `CometAPIError`.

The errors carry data (kind, HTTP status, the API's code, its request id); the sentence a
Discord user sees is chosen elsewhere, from `kind`. `message` is for operators and logs: it is
readable, short, and never contains the API key.
"""

from __future__ import annotations


class CometAPIError(Exception):
    """Base of every error the CometAPI client raises."""

    kind: str = "unknown"

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
        may_have_arrived: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.request_id = request_id
        # True when a create may have reached the provider although no answer came back: the
        # prediction may run (and be billed) even though we have no id for it.
        self.may_have_arrived = may_have_arrived

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(kind={self.kind!r}, status={self.status!r}, "
            f"code={self.code!r}, request_id={self.request_id!r}, message={self.message!r})"
        )


class InvalidInputError(CometAPIError):
    """The provider refused the input (400, 422, or 500 with code invalid_request)."""

    kind = "invalid_input"


class AuthenticationError(CometAPIError):
    """The API key is missing or invalid (401)."""

    kind = "auth"


class InsufficientCreditError(CometAPIError):
    """The key's balance is spent (402, or a body saying insufficient credit or quota)."""

    kind = "no_credit"


class AccessDeniedError(CometAPIError):
    """The key is blocked from this resource (403)."""

    kind = "forbidden"


class ModelUnavailableError(CometAPIError):
    """The model is not enabled for this key (404 on create, or code model_not_found)."""

    kind = "model_unavailable"


class PredictionNotFoundError(CometAPIError):
    """The API does not know this prediction id (404 on a status query)."""

    kind = "not_found"


class RateLimitedError(CometAPIError):
    """429, after the client's own retries; `retry_after` is the server's wish, in seconds."""

    kind = "rate_limited"

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        status: int | None = 429,
        code: str | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message, status=status, code=code, request_id=request_id)
        self.retry_after = retry_after


class ProviderError(CometAPIError):
    """The provider or a gateway in front of it is in trouble (5xx)."""

    kind = "provider"


class NetworkError(CometAPIError):
    """No usable answer: connection refused, reset, or timed out.

    `may_have_arrived` is False only when the request surely never reached the server
    (connection refused or a connect timeout); after a read timeout it is True.
    """

    kind = "network"


class UnexpectedResponseError(CometAPIError):
    """An answer that is not the API's: a redirect, an HTML page, a body that is not JSON.

    Almost always a wrong COMETAPI_BASE_URL.
    """

    kind = "unexpected"


class DownloadError(CometAPIError):
    """An output file could not be used: `reason` is one of the values below."""

    kind = "download"
    REASONS = frozenset({"too_large", "not_image", "broken", "bad_url", "http"})

    def __init__(self, message: str, *, reason: str, status: int | None = None) -> None:
        super().__init__(message, status=status)
        self.reason = reason
