"""Every error body shape and every error kind, as the client sees them over HTTP."""

from __future__ import annotations

import pytest

from bot.cometapi import (
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
from bot.cometapi.responses import parse_body, parse_retry_after
from tests.bot.cometapi.conftest import MakeClient, RecordingSleep
from tests.fakes.cometapi import FakeCometAPI, envelope, problem

SCHNELL = "black-forest-labs/flux-schnell"
PROMPT = {"prompt": "a cat"}


async def test_envelope_gives_message_code_and_request_id(
    fake: FakeCometAPI, make_client: MakeClient
) -> None:
    """CometAPI's envelope: readable message, its code, and the request id pulled out of the text."""
    fake.fail_next(
        1,
        400,
        envelope("prompt is too long", code="invalid_request", request_id="20250612abc"),
    )
    with pytest.raises(InvalidInputError) as caught:
        await make_client().create(SCHNELL, PROMPT)
    error = caught.value
    assert error.kind == "invalid_input" and error.status == 400
    assert error.code == "invalid_request"
    assert error.request_id == "20250612abc"
    assert "prompt is too long" in error.message
    assert "request id" not in error.message


async def test_problem_details_422_is_invalid_input(
    fake: FakeCometAPI, make_client: MakeClient
) -> None:
    """Replicate's problem details ({"title","detail","status"}) give the detail as the reason."""
    fake.fail_next(1, 422, problem("- input: prompt is required"))
    with pytest.raises(InvalidInputError) as caught:
        await make_client().create(SCHNELL, PROMPT)
    assert "prompt is required" in caught.value.message
    assert "Input validation failed" in caught.value.message


async def test_the_fakes_own_validation_error_is_invalid_input(
    fake: FakeCometAPI, make_client: MakeClient
) -> None:
    """An out-of-range field gets the server's 422 and InvalidInputError naming the field."""
    with pytest.raises(InvalidInputError) as caught:
        await make_client().create(SCHNELL, {"prompt": "a cat", "num_outputs": 9})
    assert "num_outputs" in caught.value.message


async def test_500_invalid_request_is_input_error_and_not_retried(
    fake: FakeCometAPI, make_client: MakeClient, sleeps: RecordingSleep
) -> None:
    """A 500 whose code is invalid_request is the input's fault: no retry."""
    fake.fail_next(3, 500, envelope("bad aspect ratio", code="invalid_request"))
    with pytest.raises(InvalidInputError):
        await make_client().create(SCHNELL, PROMPT)
    assert len(fake.requests_for("create")) == 1 and sleeps.calls == []


async def test_plain_text_body(fake: FakeCometAPI, make_client: MakeClient) -> None:
    """A plain-text body becomes the message, on one line."""
    fake.fail_next(1, 400, "bad things\nhappened")
    with pytest.raises(InvalidInputError) as caught:
        await make_client().create(SCHNELL, PROMPT)
    assert "bad things happened" in caught.value.message


async def test_wrong_key_is_auth_error_without_the_key(
    fake: FakeCometAPI, make_client: MakeClient
) -> None:
    """401: AuthenticationError; the message never contains the key, even when the API echoes it."""
    secret = "sk-very-secret-key-123"
    fake.fail_next(1, 401, envelope(f"Invalid token {secret}"))
    with pytest.raises(AuthenticationError) as echoed:
        await make_client(api_key=secret).create(SCHNELL, PROMPT)
    assert secret not in echoed.value.message and secret not in repr(echoed.value)

    with pytest.raises(AuthenticationError) as caught:  # the fake's own Bearer check
        await make_client(api_key="wrong-key").create(SCHNELL, PROMPT)
    assert caught.value.status == 401 and caught.value.kind == "auth"
    assert caught.value.request_id is not None


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (402, envelope("Payment required")),
        (403, envelope("用户额度不足, 剩余额度: $0.0000", code="insufficient_user_quota")),
        (429, envelope("You exceeded your quota", code="insufficient_quota")),
        (400, {"detail": "Insufficient credit on this account"}),
    ],
)
async def test_insufficient_credit(
    fake: FakeCometAPI, make_client: MakeClient, status: int, body: dict
) -> None:
    """402, or a code/message saying the credit or quota is spent, is no_credit, never retried."""
    fake.fail_next(1, status, body)
    with pytest.raises(InsufficientCreditError) as caught:
        await make_client().create(SCHNELL, PROMPT)
    assert caught.value.kind == "no_credit"
    assert len(fake.requests_for("create")) == 1


async def test_403_is_access_denied(fake: FakeCometAPI, make_client: MakeClient) -> None:
    """A plain 403 is forbidden."""
    fake.fail_next(1, 403, envelope("this key may not use this route"))
    with pytest.raises(AccessDeniedError) as caught:
        await make_client().create(SCHNELL, PROMPT)
    assert caught.value.kind == "forbidden"


@pytest.mark.parametrize("status", [404, 503])
async def test_unknown_model_is_model_unavailable(
    fake: FakeCometAPI, make_client: MakeClient, sleeps: RecordingSleep, status: int
) -> None:
    """404 on create, or code model_not_found with any status (e.g. 503), is model_unavailable; no retry."""
    fake.unknown_model_status = status
    with pytest.raises(ModelUnavailableError) as caught:
        await make_client().create("black-forest-labs/flux-9", PROMPT)
    assert caught.value.kind == "model_unavailable"
    assert "black-forest-labs/flux-9" in caught.value.message
    assert caught.value.code == "model_not_found"
    assert sleeps.calls == []


async def test_404_on_get_is_prediction_not_found(
    fake: FakeCometAPI, make_client: MakeClient
) -> None:
    """A status query for an unknown id is not_found, not model_unavailable."""
    with pytest.raises(PredictionNotFoundError) as caught:
        await make_client().get("nosuchprediction")
    assert caught.value.kind == "not_found" and caught.value.status == 404


async def test_html_404_says_check_the_base_url(
    fake: FakeCometAPI, make_client: MakeClient
) -> None:
    """A wrong base URL answers an HTML page: one short sentence, not the page."""
    client = make_client(base_url=fake.base_url + "/v1")
    with pytest.raises(UnexpectedResponseError) as caught:
        await client.create(SCHNELL, PROMPT)
    message = caught.value.message
    assert "unexpected HTML answer (HTTP 404)" in message and "COMETAPI_BASE_URL" in message
    assert "<" not in message


async def test_html_200_is_not_a_prediction(fake: FakeCometAPI, make_client: MakeClient) -> None:
    """A 2xx HTML page (a website at the base URL) is an unexpected answer, not a crash."""
    fake.fail_next(1, 200, "<!DOCTYPE html><html><body>Welcome</body></html>", route="get")
    with pytest.raises(UnexpectedResponseError) as caught:
        await make_client().get("abc")
    assert "COMETAPI_BASE_URL" in caught.value.message


async def test_redirect_is_not_followed(fake: FakeCometAPI, make_client: MakeClient) -> None:
    """A 301 means a misconfigured base URL: reported, and the Location is not requested."""
    target = f"{fake.base_url}/elsewhere/predictions"
    fake.fail_next(1, 301, "", headers={"Location": target})
    with pytest.raises(UnexpectedResponseError) as caught:
        await make_client().create(SCHNELL, PROMPT)
    assert (
        "redirect (HTTP 301" in caught.value.message and "COMETAPI_BASE_URL" in caught.value.message
    )
    assert [r.path for r in fake.requests] == [
        "/replicate/v1/models/black-forest-labs/flux-schnell/predictions"
    ]


async def test_gateway_html_5xx_is_provider_error_with_a_short_message(
    fake: FakeCometAPI, make_client: MakeClient, sleeps: RecordingSleep
) -> None:
    """A Cloudflare-style HTML 502, after the retries, is a provider error naming the page title."""
    page = "<html><head><title>502 Bad Gateway</title></head><body>" + "x" * 5000 + "</body></html>"
    fake.fail_next(5, 502, page, route="get")
    with pytest.raises(ProviderError) as caught:
        await make_client().get("abc")
    assert caught.value.kind == "provider" and caught.value.status == 502
    assert "502 Bad Gateway" in caught.value.message and len(caught.value.message) < 200
    assert len(sleeps.calls) == 4


async def test_rate_limited_after_the_retries(
    fake: FakeCometAPI, make_client: MakeClient, sleeps: RecordingSleep
) -> None:
    """429 on every try ends in RateLimitedError carrying the server's Retry-After."""
    fake.fail_next(10, 429, None, route="get", headers={"Retry-After": "2"})
    with pytest.raises(RateLimitedError) as caught:
        await make_client(max_retries=2).get("abc")
    assert caught.value.kind == "rate_limited" and caught.value.retry_after == 2.0
    assert sleeps.calls == [2.0, 2.0]


def test_every_error_is_a_comet_api_error() -> None:
    """Callers can catch the base class; each kind string is distinct."""
    kinds = {
        cls.kind
        for cls in (
            AccessDeniedError,
            AuthenticationError,
            InsufficientCreditError,
            InvalidInputError,
            ModelUnavailableError,
            PredictionNotFoundError,
            ProviderError,
            RateLimitedError,
            UnexpectedResponseError,
        )
        if issubclass(cls, CometAPIError)
    }
    assert len(kinds) == 9


def test_parse_body_tolerates_garbage() -> None:
    """Bodies that are empty, binary or odd JSON never raise."""
    for body in (b"", b"\xff\xfe\x00", b"[1,2]", b'"text"', b'{"error": 5}', b"null"):
        parsed = parse_body(body, "application/json", {})
        assert parsed.detail is None or isinstance(parsed.detail, str)


def test_parse_retry_after_seconds_and_dates() -> None:
    """Retry-After as seconds or as an HTTP-date; garbage gives None; the past gives 0."""
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("1.5") == 1.5
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:10 GMT", now=1445412480.0) == 10.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412490.0) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None
