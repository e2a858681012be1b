"""`PredictionClient`: create, query, cancel and download over one shared aiohttp session.

Retry rules (docs/decisions/002-cometapi-retries.md): status queries, cancels and downloads are
idempotent and retried on 429, 5xx and network trouble. A create is retried only when the
request surely did not arrive (connection refused, connect timeout, 429, or a 500/502/503
answer); after a read timeout, a dropped connection, or a 504/524 (a gateway that did pass the
request on) it is never retried, because the prediction may already be running and billed.
"""

from __future__ import annotations

import asyncio
import logging
import random as _random
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import quote, urlsplit

import aiohttp

from bot.cometapi.download import DownloadedImage, fetch_image
from bot.cometapi.errors import (
    CometAPIError,
    InvalidInputError,
    NetworkError,
    ProviderError,
    RateLimitedError,
    UnexpectedResponseError,
)
from bot.cometapi.prediction import Prediction
from bot.cometapi.responses import (
    Route,
    decode_json,
    error_from_response,
    looks_like_html,
    redact,
)
from bot.redact import mask_url

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({500, 502, 503, 504, 524})
# A 504/524 means a gateway did pass the request on and gave up waiting: a create may be running.
CREATE_RETRY_STATUSES = frozenset({500, 502, 503})
MAX_API_BODY = 2 * 1024 * 1024  # API answers are small; a bigger one is not the API
_MODEL_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*$")

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class _Answer:
    status: int
    headers: Mapping[str, str]
    body: bytes


@dataclass(frozen=True)
class ClientTuning:
    """Timeouts and retry pacing of a PredictionClient (seconds)."""

    connect_timeout: float = 10
    read_timeout: float = 60
    max_retries: int = 4
    backoff_base: float = 1.0
    backoff_cap: float = 30.0
    # Ask the API to hold a create up to this long (`Prefer: wait`, 1-60); None: don't ask.
    prefer_wait: int | None = None


class PredictionClient:
    """HTTP to CometAPI's Replicate-compatible routes. Owns no session: it is given one."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        base_url: str,
        api_key: str,
        tuning: ClientTuning | None = None,
        sleep: Sleep = asyncio.sleep,
        random: Callable[[], float] = _random.random,
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"base URL must be an http(s) URL, got {mask_url(base_url)!r}")
        tuning = tuning or ClientTuning()
        self._session = session
        self._base = base_url.rstrip("/")
        self._api_key = api_key
        self._connect_timeout = tuning.connect_timeout
        self._read_timeout = tuning.read_timeout
        self._max_retries = max(0, tuning.max_retries)
        self._backoff_base = tuning.backoff_base
        self._backoff_cap = tuning.backoff_cap
        self._sleep = sleep
        self._random = random
        wait = tuning.prefer_wait
        self._prefer_wait = None if wait is None else max(1, min(60, wait))
        self.request_count = 0  # API requests sent (creates, gets, cancels), retries included
        self.download_count = 0  # download attempts, retries included

    # -- public operations -------------------------------------------------------------

    async def create(self, model: str, input: Mapping[str, Any]) -> Prediction:
        """Start a prediction. Raises a CometAPIError; see the module doc for retries."""
        if not _MODEL_ID.match(model):
            raise InvalidInputError(f"model id must look like owner/name, got {model[:100]!r}")
        url = f"{self._base}/replicate/v1/models/{model}/predictions"
        headers = self._headers()
        read_timeout = self._read_timeout
        if self._prefer_wait is not None:
            headers["Prefer"] = f"wait={self._prefer_wait}"
            # The server may hold the answer for the whole wait: do not time out before it.
            read_timeout = max(read_timeout, self._prefer_wait + 15)
        answer = await self._call(
            "POST",
            url,
            route="create",
            headers=headers,
            json_body={"input": dict(input)},
            timeout=aiohttp.ClientTimeout(
                sock_connect=self._connect_timeout, sock_read=read_timeout
            ),
            model=model,
        )
        prediction = self._prediction(answer)
        if not prediction.id:
            raise UnexpectedResponseError(
                f"the create answer has no prediction id (HTTP {answer.status})",
                status=answer.status,
            )
        return prediction

    async def get(self, prediction_id: str, *, timeout: float | None = None) -> Prediction:
        """The prediction's current state.

        `timeout` bounds this whole call, retries included, so a scheduler can poll many
        predictions without one slow answer holding the others back.
        """
        url = f"{self._base}/replicate/v1/predictions/{quote(prediction_id, safe='')}"
        answer = await self._call(
            "GET",
            url,
            route="get",
            headers=self._headers(),
            timeout=None,
            deadline=None if timeout is None else self._now() + timeout,
            prediction_id=prediction_id,
        )
        prediction = self._prediction(answer)
        return prediction if prediction.id else replace(prediction, id=prediction_id)

    async def cancel(self, prediction_id: str) -> bool:
        """Ask the API to cancel. False when it has no cancel route (404/405): stop locally."""
        url = f"{self._base}/replicate/v1/predictions/{quote(prediction_id, safe='')}/cancel"
        answer = await self._call(
            "POST",
            url,
            route="cancel",
            headers=self._headers(),
            timeout=None,
            prediction_id=prediction_id,
            accept_statuses=frozenset({404, 405}),
        )
        return 200 <= answer.status < 300

    async def download(
        self, url: str, *, max_bytes: int = 50 * 1024 * 1024, timeout: float = 60
    ) -> DownloadedImage:
        """Fetch one output file and check it is a whole image. Never sends the API key."""

        def count() -> None:
            self.download_count += 1

        return await fetch_image(
            self._session,
            url,
            max_bytes=max_bytes,
            timeout=timeout,
            connect_timeout=self._connect_timeout,
            max_retries=self._max_retries,
            backoff=self._backoff,
            sleep=self._sleep,
            on_attempt=count,
        )

    # -- internals -----------------------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self._api_key}",
            "Content-Type": "application/json",
            "Accept": "application/json",
        }

    @staticmethod
    def _now() -> float:
        return asyncio.get_running_loop().time()

    def _backoff(self, attempt: int) -> float:
        """About 1 s doubling, with jitter (0.5x-1.5x), capped."""
        delay = self._backoff_base * (2**attempt)
        return min(self._backoff_cap, delay * (0.5 + self._random()))

    def _prediction(self, answer: _Answer) -> Prediction:
        data = decode_json(answer.body)
        if data is None:
            if looks_like_html(answer.body, answer.headers.get("Content-Type", "")):
                raise UnexpectedResponseError(
                    f"unexpected HTML answer (HTTP {answer.status}) — check COMETAPI_BASE_URL",
                    status=answer.status,
                )
            raise UnexpectedResponseError(
                f"the API answered HTTP {answer.status} with a body that is not JSON",
                status=answer.status,
            )
        return Prediction.from_json(data)

    async def _call(
        self,
        method: str,
        url: str,
        *,
        route: Route,
        headers: dict[str, str],
        timeout: aiohttp.ClientTimeout | None,
        json_body: Any = None,
        deadline: float | None = None,
        model: str | None = None,
        prediction_id: str | None = None,
        accept_statuses: frozenset[int] = frozenset(),
    ) -> _Answer:
        """Send one API request with the retry rules of its route; 2xx (or accepted) or raise."""
        attempt = 0
        while True:
            request_timeout = timeout or aiohttp.ClientTimeout(
                sock_connect=self._connect_timeout, sock_read=self._read_timeout
            )
            if deadline is not None:
                # Only GETs carry a deadline; the loop below never starts an attempt past it.
                remaining = max(0.001, deadline - self._now())
                request_timeout = aiohttp.ClientTimeout(
                    total=remaining,
                    sock_connect=min(self._connect_timeout, remaining),
                    sock_read=min(self._read_timeout, remaining),
                )
            error: CometAPIError
            retry_after: float | None = None
            try:
                answer = await self._send(method, url, headers, json_body, request_timeout)
            except aiohttp.ClientConnectorError as exc:
                # Refused, DNS failure, unreachable: the request never left this machine.
                error = NetworkError(
                    f"could not connect to the API ({type(exc).__name__}: {exc.os_error})",
                    may_have_arrived=False,
                )
                # A certificate problem will not fix itself in a few seconds.
                retryable = not isinstance(exc, aiohttp.ClientSSLError)
            except aiohttp.ConnectionTimeoutError:
                error = NetworkError("timed out connecting to the API", may_have_arrived=False)
                retryable = True
            except (TimeoutError, aiohttp.ClientError) as exc:
                # Read timeout, reset, dropped connection: the request may have been processed.
                error = NetworkError(
                    f"no answer from the API ({_describe(exc)})", may_have_arrived=True
                )
                retryable = route != "create"
            else:
                if 200 <= answer.status < 300 or answer.status in accept_statuses:
                    return answer
                error = error_from_response(
                    answer.status,
                    answer.headers,
                    answer.body,
                    route=route,
                    api_key=self._api_key,
                    model=model,
                    prediction_id=prediction_id,
                    now=time.time(),
                )
                if isinstance(error, RateLimitedError):
                    retryable, retry_after = True, error.retry_after
                elif isinstance(error, ProviderError):
                    statuses = CREATE_RETRY_STATUSES if route == "create" else RETRY_STATUSES
                    retryable = answer.status in statuses
                    if route == "create" and not retryable:
                        error.may_have_arrived = True
                else:
                    retryable = False
            if not retryable or attempt >= self._max_retries:
                raise error
            delay = retry_after if retry_after is not None else self._backoff(attempt)
            if retry_after is not None and retry_after > self._backoff_cap:
                # The server asks for a long pause: hand it to the caller rather than block.
                raise error
            if deadline is not None and self._now() + delay >= deadline:
                raise error  # no time left for another try within this call's budget
            log.info(
                "CometAPI %s failed (%s, request id %s); retry %d/%d in %.1fs",
                route,
                error.message,
                error.request_id,
                attempt + 1,
                self._max_retries,
                delay,
            )
            await self._sleep(delay)
            attempt += 1

    async def _send(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        json_body: Any,
        timeout: aiohttp.ClientTimeout,
    ) -> _Answer:
        self.request_count += 1
        async with self._session.request(
            method,
            url,
            headers=headers,
            json=json_body,
            timeout=timeout,
            # A redirect means a wrong base URL; following it could resend the key elsewhere.
            allow_redirects=False,
        ) as response:
            body = bytearray()
            async for chunk in response.content.iter_chunked(64 * 1024):
                body += chunk
                if len(body) > MAX_API_BODY:
                    break
            return _Answer(response.status, response.headers, bytes(body))

    def __repr__(self) -> str:
        return f"PredictionClient(base_url={mask_url(redact(self._base, self._api_key))!r})"


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "timed out waiting for the answer"
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
