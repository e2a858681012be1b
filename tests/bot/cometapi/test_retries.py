"""The retry rules: idempotent calls retry on 429/5xx/network trouble; a create only when it surely did not arrive."""

from __future__ import annotations

import asyncio
import socket
import time
from email.utils import formatdate

import aiohttp
import pytest

from bot.cometapi import (
    ClientTuning,
    NetworkError,
    PredictionClient,
    ProviderError,
    RateLimitedError,
)
from tests.bot.cometapi.conftest import MakeClient, RecordingSleep
from tests.fakes.cometapi import FakeCometAPI

SCHNELL = "black-forest-labs/flux-schnell"
PROMPT = {"prompt": "a cat"}


async def _created(fake: FakeCometAPI, make_client: MakeClient) -> str:
    prediction = await make_client().create(SCHNELL, PROMPT)
    fake.requests.clear()
    return prediction.id


async def test_get_honours_retry_after_seconds(
    fake: FakeCometAPI, make_client: MakeClient, sleeps: RecordingSleep
) -> None:
    """A 429 with Retry-After: 7 makes the GET wait exactly 7 s, then succeed."""
    pred_id = await _created(fake, make_client)
    fake.fail_next(1, 429, None, route="get", headers={"Retry-After": "7"})
    prediction = await make_client().get(pred_id)
    assert prediction.id == pred_id
    assert sleeps.calls == [7.0]
    assert len(fake.requests_for("get")) == 2


async def test_get_honours_retry_after_http_date(
    fake: FakeCometAPI, make_client: MakeClient, sleeps: RecordingSleep
) -> None:
    """Retry-After as an HTTP-date is turned into the seconds left until then."""
    pred_id = await _created(fake, make_client)
    when = formatdate(time.time() + 5, usegmt=True)
    fake.fail_next(1, 429, None, route="get", headers={"Retry-After": when})
    await make_client().get(pred_id)
    (delay,) = sleeps.calls
    assert 3.0 <= delay <= 5.0


async def test_get_backs_off_exponentially_without_retry_after(
    fake: FakeCometAPI, make_client: MakeClient, sleeps: RecordingSleep
) -> None:
    """Without Retry-After: about 1 s doubling, capped at backoff_cap."""
    pred_id = await _created(fake, make_client)
    fake.fail_next(4, 429, None, route="get")
    await make_client(backoff_cap=3.0).get(pred_id)
    assert sleeps.calls == [1.0, 2.0, 3.0, 3.0]


async def test_backoff_has_jitter(
    fake: FakeCometAPI, make_client: MakeClient, sleeps: RecordingSleep
) -> None:
    """The random source spreads the delays (0.5x to 1.5x) so clients do not retry in lockstep."""
    pred_id = await _created(fake, make_client)
    fake.fail_next(2, 503, None, route="get")
    await make_client(random=lambda: 0.0).get(pred_id)
    fake.fail_next(1, 503, None, route="get")
    await make_client(random=lambda: 0.999).get(pred_id)
    assert sleeps.calls[:2] == [0.5, 1.0]
    assert sleeps.calls[2] == pytest.approx(1.499)


@pytest.mark.parametrize("status", [500, 502, 503, 504, 524])
async def test_get_retries_5xx(
    fake: FakeCometAPI, make_client: MakeClient, sleeps: RecordingSleep, status: int
) -> None:
    """Each provider-trouble status is retried on a status query."""
    pred_id = await _created(fake, make_client)
    fake.fail_next(2, status, None, route="get")
    prediction = await make_client().get(pred_id)
    assert prediction.id == pred_id and len(sleeps.calls) == 2


async def test_get_gives_up_after_max_retries(
    fake: FakeCometAPI, make_client: MakeClient, sleeps: RecordingSleep
) -> None:
    """max_retries=4 means five tries, then the last error."""
    fake.fail_next(100, 500, None, route="get")
    client = make_client()
    with pytest.raises(ProviderError):
        await client.get("abc")
    assert len(fake.requests_for("get")) == 5 and len(sleeps.calls) == 4
    assert client.request_count == 5


async def test_long_retry_after_is_handed_to_the_caller(
    fake: FakeCometAPI, make_client: MakeClient, sleeps: RecordingSleep
) -> None:
    """A Retry-After beyond backoff_cap is not slept through: the caller gets it at once."""
    fake.fail_next(1, 429, None, route="get", headers={"Retry-After": "3600"})
    with pytest.raises(RateLimitedError) as caught:
        await make_client().get("abc")
    assert caught.value.retry_after == 3600.0 and sleeps.calls == []


async def test_get_retries_a_read_timeout(
    fake: FakeCometAPI, make_client: MakeClient, sleeps: RecordingSleep
) -> None:
    """A status query that hangs is abandoned at the read timeout and tried again."""
    pred_id = await _created(fake, make_client)
    fake.hang("get", 1)
    prediction = await make_client(read_timeout=0.2).get(pred_id)
    assert prediction.id == pred_id
    assert len(fake.requests_for("get")) == 2 and len(sleeps.calls) == 1


async def test_get_timeout_bounds_the_whole_call(
    fake: FakeCometAPI, make_client: MakeClient
) -> None:
    """get(timeout=) cuts a hanging status query short, whatever the read timeout."""
    fake.set_model_behaviour(SCHNELL, hang_get=True)
    pred_id = await _created(fake, make_client)
    client = make_client(read_timeout=60, sleep=asyncio.sleep)
    started = time.monotonic()
    with pytest.raises(NetworkError):
        await client.get(pred_id, timeout=0.3)
    assert time.monotonic() - started < 2.0


@pytest.mark.parametrize("status", [429, 500, 502, 503])
async def test_create_retried_when_refused_with_429_or_5xx(
    fake: FakeCometAPI, make_client: MakeClient, sleeps: RecordingSleep, status: int
) -> None:
    """A create answered 429/500/502/503 was not run: it is retried, and one prediction exists."""
    fake.fail_next(2, status, None)
    prediction = await make_client().create(SCHNELL, PROMPT)
    assert len(fake.requests_for("create")) == 3 and len(sleeps.calls) == 2
    assert list(fake.predictions) == [prediction.id]


@pytest.mark.parametrize("status", [504, 524])
async def test_create_not_retried_after_a_gateway_timeout(
    fake: FakeCometAPI, make_client: MakeClient, sleeps: RecordingSleep, status: int
) -> None:
    """504/524 mean a gateway passed the create on and gave up waiting: it may be running, so no retry."""
    fake.fail_next(1, status, None)
    with pytest.raises(ProviderError) as caught:
        await make_client().create(SCHNELL, PROMPT)
    assert caught.value.may_have_arrived is True
    assert len(fake.requests_for("create")) == 1 and sleeps.calls == []


async def test_create_not_retried_after_a_read_timeout(
    fake: FakeCometAPI, make_client: MakeClient, sleeps: RecordingSleep
) -> None:
    """After a read timeout the create may have arrived: NetworkError(may_have_arrived=True), exactly one create."""
    fake.hang("create", 1)
    with pytest.raises(NetworkError) as caught:
        await make_client(read_timeout=0.2).create(SCHNELL, PROMPT)
    assert caught.value.may_have_arrived is True
    assert len(fake.requests_for("create")) == 1
    assert sleeps.calls == []
    # ...and it did arrive: the provider is running it. A retry would have run it twice.
    assert len(fake.predictions) == 1


async def test_create_not_retried_after_a_dropped_connection(
    fake: FakeCometAPI, make_client: MakeClient, sleeps: RecordingSleep
) -> None:
    """A connection closed after the request was sent is not retried either."""
    fake.drop("create", 1)
    with pytest.raises(NetworkError) as caught:
        await make_client().create(SCHNELL, PROMPT)
    assert caught.value.may_have_arrived is True
    assert len(fake.requests_for("create")) == 1 and sleeps.calls == []


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_create_retried_after_connection_refused(
    session: aiohttp.ClientSession, sleeps: RecordingSleep
) -> None:
    """Connection refused means the create never left: it is retried, here onto a server that came up."""
    port = _free_port()
    late = FakeCometAPI(duration=0.01, start_delay=0.0)
    started: list[str] = []

    async def bring_up(_: float) -> None:
        if not started:
            started.append(await late.start(port=port))

    sleeps.hooks.append(bring_up)
    client = PredictionClient(
        session, base_url=f"http://127.0.0.1:{port}", api_key="test-key", sleep=sleeps
    )
    try:
        prediction = await client.create(SCHNELL, PROMPT)
    finally:
        await late.close()
    assert len(sleeps.calls) == 1 and client.request_count == 2
    assert list(late.predictions) == [prediction.id]


async def test_connection_refused_everywhere_ends_in_network_error(
    session: aiohttp.ClientSession, sleeps: RecordingSleep
) -> None:
    """After max_retries refused connections the create fails with may_have_arrived=False."""
    client = PredictionClient(
        session,
        base_url=f"http://127.0.0.1:{_free_port()}",
        api_key="test-key",
        sleep=sleeps,
        tuning=ClientTuning(max_retries=3),
    )
    with pytest.raises(NetworkError) as caught:
        await client.create(SCHNELL, PROMPT)
    assert caught.value.may_have_arrived is False
    assert len(sleeps.calls) == 3 and client.request_count == 4
    assert "test-key" not in caught.value.message
