"""PredictionClient against the fake CometAPI over real HTTP: routes, status paths, cancel."""

from __future__ import annotations

import aiohttp
import pytest

from bot.cometapi import (
    InvalidInputError,
    PredictionClient,
    PredictionStatus,
)
from tests.bot.cometapi.conftest import MakeClient, RecordingSleep
from tests.fakes.cometapi import FakeCometAPI, ManualClock

SCHNELL = "black-forest-labs/flux-schnell"
PRO = "black-forest-labs/flux-1.1-pro"


async def test_create_uses_the_documented_route_headers_and_body(
    fake: FakeCometAPI, make_client: MakeClient
) -> None:
    """A create is POST /replicate/v1/models/owner/name/predictions with {"input": ...} and a Bearer key."""
    client = make_client()
    prediction = await client.create(SCHNELL, {"prompt": "a cat", "num_outputs": 2})

    (request,) = fake.requests
    assert request.method == "POST"
    assert request.path == "/replicate/v1/models/black-forest-labs/flux-schnell/predictions"
    assert request.headers["Authorization"] == "Bearer test-key"
    assert request.headers["Content-Type"] == "application/json"
    assert "Prefer" not in request.headers
    assert request.json == {"input": {"prompt": "a cat", "num_outputs": 2}}
    assert prediction.id in fake.predictions
    assert prediction.status is PredictionStatus.STARTING
    assert prediction.model == SCHNELL
    assert dict(prediction.input) == {"prompt": "a cat", "num_outputs": 2}
    assert client.request_count == 1


async def test_prefer_wait_header_is_sent_when_configured(
    fake: FakeCometAPI, make_client: MakeClient
) -> None:
    """prefer_wait=N adds `Prefer: wait=N` to creates only."""
    client = make_client(prefer_wait=5)
    fake.honour_prefer_wait = False  # the manual clock never moves: do not hold the answer
    prediction = await client.create(SCHNELL, {"prompt": "a cat"})
    await client.get(prediction.id)
    create, get = fake.requests
    assert create.headers["Prefer"] == "wait=5"
    assert "Prefer" not in get.headers


async def test_create_accepts_200_as_well_as_201(
    fake: FakeCometAPI, make_client: MakeClient
) -> None:
    """CometAPI documents 200 where Replicate answers 201: any 2xx is a created prediction."""
    fake.create_status = 200
    prediction = await make_client().create(SCHNELL, {"prompt": "a cat"})
    assert prediction.id in fake.predictions


async def test_a_malformed_model_id_is_refused_without_a_request(
    fake: FakeCometAPI, make_client: MakeClient
) -> None:
    """A model id that is not owner/name never reaches the network (no path tricks)."""
    with pytest.raises(InvalidInputError):
        await make_client().create("../../admin", {"prompt": "x"})
    assert fake.requests == []


async def test_succeeded_with_list_output(
    fake: FakeCometAPI, clock: ManualClock, make_client: MakeClient
) -> None:
    """starting → processing with progress → succeeded with a list of URLs, metrics and times."""
    client = make_client()
    created = await client.create(SCHNELL, {"prompt": "a cat", "num_outputs": 2, "seed": 42})
    assert not created.is_terminal

    clock.advance(1.5)  # 0.5 s starting + half of the 2 s run
    running = await client.get(created.id)
    assert running.status is PredictionStatus.PROCESSING
    assert running.progress == 0.5
    assert running.seed == 42
    assert not running.is_terminal and running.failure_kind is None

    clock.advance(2)
    done = await client.get(created.id)
    assert done.status is PredictionStatus.SUCCEEDED
    assert done.is_terminal and done.succeeded
    assert len(done.output) == 2
    assert all(url.startswith(fake.base_url + "/files/") for url in done.output)
    assert done.image_count == 2
    assert done.predict_time == pytest.approx(2.0)
    assert done.created_at is not None and done.started_at is not None
    assert done.completed_at is not None
    assert done.created_at < done.started_at < done.completed_at
    assert done.progress == 1.0
    assert done.failure_kind is None
    # urls.get points at api.replicate.com and is never followed: every request went to the fake.
    assert {r.path.split("/")[1] for r in fake.requests} == {"replicate"}


async def test_succeeded_with_string_output_is_normalised(
    fake: FakeCometAPI, clock: ManualClock, make_client: MakeClient
) -> None:
    """flux-1.1-pro gives one URL string; the snapshot holds a one-element tuple."""
    client = make_client()
    created = await client.create(PRO, {"prompt": "a cat"})
    clock.advance(5)
    done = await client.get(created.id)
    assert done.succeeded
    assert len(done.output) == 1 and done.output[0].endswith(".webp")


async def test_failed_prediction_carries_its_error(
    fake: FakeCometAPI, clock: ManualClock, make_client: MakeClient
) -> None:
    """A failed prediction is a snapshot with status failed and error set, not an HTTP error."""
    fake.set_model_behaviour(SCHNELL, fail_with="CUDA out of memory")
    client = make_client()
    created = await client.create(SCHNELL, {"prompt": "a cat"})
    clock.advance(5)
    done = await client.get(created.id)
    assert done.status is PredictionStatus.FAILED
    assert done.error == "CUDA out of memory"
    assert done.is_terminal and not done.succeeded
    assert done.failure_kind == "failed"


async def test_nsfw_failure_is_reported_as_safety(
    fake: FakeCometAPI, clock: ManualClock, make_client: MakeClient
) -> None:
    """The provider's NSFW refusal is told apart from other failures."""
    fake.set_model_behaviour(
        SCHNELL,
        fail_with="All generated images contained NSFW content. Try running it again with a different prompt.",
    )
    client = make_client()
    created = await client.create(SCHNELL, {"prompt": "a cat"})
    clock.advance(5)
    done = await client.get(created.id)
    assert done.failure_kind == "safety"


async def test_cancel_present_cancels(
    fake: FakeCometAPI, clock: ManualClock, make_client: MakeClient
) -> None:
    """cancel() POSTs the CometAPI cancel route, returns True, and the prediction ends canceled."""
    client = make_client()
    created = await client.create(SCHNELL, {"prompt": "a cat"})
    clock.advance(1)
    assert await client.cancel(created.id) is True
    clock.advance(5)
    done = await client.get(created.id)
    assert done.status is PredictionStatus.CANCELED
    assert done.is_terminal and done.failure_kind == "canceled"
    cancel = fake.requests_for("cancel")
    assert [r.path for r in cancel] == [f"/replicate/v1/predictions/{created.id}/cancel"]
    assert cancel[0].headers["Authorization"] == "Bearer test-key"


@pytest.mark.parametrize("absent_status", [404, 405])
async def test_cancel_absent_returns_false(
    fake: FakeCometAPI, make_client: MakeClient, sleeps: RecordingSleep, absent_status: int
) -> None:
    """Without a cancel route (404/405) cancel() is False, once: the caller stops locally."""
    fake.cancel_route = False
    fake.cancel_absent_status = absent_status
    client = make_client()
    created = await client.create(SCHNELL, {"prompt": "a cat"})
    assert await client.cancel(created.id) is False
    assert len(fake.requests_for("cancel")) == 1
    assert sleeps.calls == []


async def test_unknown_status_stays_running(fake: FakeCometAPI, make_client: MakeClient) -> None:
    """A status the client does not know is kept raw and treated as still running."""
    fake.fail_next(
        1, 200, {"id": "abc", "status": "warming_up", "output": None, "error": None}, route="get"
    )
    prediction = await make_client().get("abc")
    assert prediction.status is PredictionStatus.UNKNOWN
    assert prediction.raw_status == "warming_up"
    assert not prediction.is_terminal


@pytest.mark.parametrize("wrapped", [True, "double"])
async def test_wrapped_status_answers_are_unwrapped(
    fake: FakeCometAPI,
    clock: ManualClock,
    make_client: MakeClient,
    session: aiohttp.ClientSession,
    wrapped: bool | str,
) -> None:
    """{"data": {...}} and {"data": {"status": "SUCCESS", "data": {...}}} read as the inner prediction."""
    fake.set_model_behaviour(SCHNELL, wrapped=wrapped)  # type: ignore[arg-type]
    client = make_client()
    created = await client.create(SCHNELL, {"prompt": "a cat"})
    clock.advance(1.5)
    running = await client.get(created.id)
    assert running.id == created.id and running.status is PredictionStatus.PROCESSING
    clock.advance(5)
    done = await client.get(created.id)
    assert done.succeeded and len(done.output) == 1 and done.image_count == 1

    # The answer on the wire really was wrapped (so the test above can fail).
    url = f"{fake.base_url}/replicate/v1/predictions/{created.id}"
    async with session.get(url, headers={"Authorization": "Bearer test-key"}) as response:
        raw = await response.json()
    assert "status" not in raw and "id" not in raw
    if wrapped == "double":
        assert raw["data"]["status"] == "SUCCESS" and raw["data"]["data"]["id"] == created.id
    else:
        assert raw["data"]["id"] == created.id


async def test_get_without_id_in_the_answer_keeps_the_asked_id(
    fake: FakeCometAPI, make_client: MakeClient
) -> None:
    """An answer that omits the id still yields a snapshot for the prediction asked about."""
    fake.fail_next(1, 200, {"status": "processing", "logs": "1/4"}, route="get")
    prediction = await make_client().get("p123")
    assert prediction.id == "p123" and prediction.progress == 0.25


async def test_one_session_is_used_for_everything(
    fake: FakeCometAPI, clock: ManualClock, session: aiohttp.ClientSession
) -> None:
    """The client rides on the session it is given and does not close it."""
    client = PredictionClient(session, base_url=fake.base_url + "/", api_key=fake.api_key)
    created = await client.create(SCHNELL, {"prompt": "a cat"})
    clock.advance(5)
    done = await client.get(created.id)
    await client.download(done.output[0])
    assert not session.closed
    assert client.request_count == 2 and client.download_count == 1
    # the trailing slash of the base URL does not double up
    assert all("//" not in r.path for r in fake.requests)


def test_base_url_must_be_http() -> None:
    """A base URL that is not http(s) is refused when the client is built."""
    with pytest.raises(ValueError):
        PredictionClient(None, base_url="ftp://example.com", api_key="k")  # type: ignore[arg-type]
