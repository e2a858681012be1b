"""The fake CometAPI behaves like the documented API, so tests built on it mean something."""

from __future__ import annotations

import asyncio
import io
import re
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from PIL import Image

from tests.fakes.cometapi import FakeCometAPI, ManualClock

SCHNELL = "black-forest-labs/flux-schnell"
AUTH = {"Authorization": "Bearer test-key"}
ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def fake(clock: ManualClock) -> AsyncIterator[FakeCometAPI]:
    async with FakeCometAPI(clock=clock, duration=2.0, start_delay=0.5) as server:
        yield server


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def call(
    http: aiohttp.ClientSession,
    method: str,
    url: str,
    *,
    json: Any = None,
    data: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, Any, Any]:
    async with http.request(
        method, url, json=json, data=data, headers=AUTH if headers is None else headers
    ) as response:
        body = await response.read()
        try:
            decoded: Any = await response.json(content_type=None)
        except ValueError:
            decoded = body
        return response.status, decoded, response.headers


async def create(
    fake: FakeCometAPI, http: aiohttp.ClientSession, model: str = SCHNELL, **input: Any
) -> dict[str, Any]:
    status, body, _ = await call(
        http,
        "POST",
        f"{fake.base_url}/replicate/v1/models/{model}/predictions",
        json={"input": {"prompt": "a cat", **input}},
    )
    assert status == 201, body
    return body


async def test_create_answers_the_real_shape(
    fake: FakeCometAPI, http: aiohttp.ClientSession
) -> None:
    """201 with id, model, version hidden, input echoed, empty logs, null output/error, starting, ISO Z times, replicate urls."""
    body = await create(fake, http, seed=5)
    assert re.fullmatch(r"[a-z0-9]{26}", body["id"])
    assert body["model"] == SCHNELL and body["version"] == "hidden"
    assert body["input"] == {"prompt": "a cat", "seed": 5}
    assert (body["logs"], body["output"], body["error"], body["status"]) == (
        "",
        None,
        None,
        "starting",
    )
    assert ISO_Z.match(body["created_at"]) and body["started_at"] is None
    assert body["urls"]["get"] == f"https://api.replicate.com/v1/predictions/{body['id']}"
    assert body["data_removed"] is False and body["metrics"] == {}


async def test_lifecycle_logs_and_outputs(
    fake: FakeCometAPI, clock: ManualClock, http: aiohttp.ClientSession
) -> None:
    """The clock drives starting → processing (growing tqdm logs) → succeeded with metrics and image files."""
    body = await create(fake, http, seed=5, num_outputs=2, output_format="png", aspect_ratio="2:3")
    url = f"{fake.base_url}/replicate/v1/predictions/{body['id']}"
    clock.advance(1.5)
    _, running, _ = await call(http, "GET", url)
    assert running["status"] == "processing" and ISO_Z.match(running["started_at"])
    assert running["logs"].startswith("Using seed: 5\n")
    assert " 50%|█████     | 2/4 [" in running["logs"] and "3/4" not in running["logs"]
    clock.advance(1.0)
    _, done, _ = await call(http, "GET", url)
    assert done["status"] == "succeeded" and ISO_Z.match(done["completed_at"])
    assert "100%|██████████| 4/4" in done["logs"]
    assert done["logs"].endswith("Total safe images: 2 out of 2\n")
    assert done["metrics"] == {"predict_time": 2.0, "image_count": 2}
    assert isinstance(done["output"], list) and len(done["output"]) == 2
    for output in done["output"]:
        status, data, headers = await call(http, "GET", output, headers={})
        assert status == 200 and headers["Content-Type"] == "image/png"
        with Image.open(io.BytesIO(data)) as image:
            assert image.format == "PNG" and image.size == (64, 96)
    assert fake.finished_at(body["id"]) == 1002.5


async def test_single_output_models_answer_a_string(
    fake: FakeCometAPI, clock: ManualClock, http: aiohttp.ClientSession
) -> None:
    """flux-kontext-pro gives one URL string, in its default format (png)."""
    body = await create(fake, http, "black-forest-labs/flux-kontext-pro")
    clock.advance(5)
    _, done, _ = await call(http, "GET", f"{fake.base_url}/replicate/v1/predictions/{body['id']}")
    assert isinstance(done["output"], str) and done["output"].endswith(".png")


async def test_bearer_check(fake: FakeCometAPI, http: aiohttp.ClientSession) -> None:
    """A wrong key gets 401 in CometAPI's envelope, with a request id."""
    status, body, _ = await call(
        http,
        "POST",
        f"{fake.base_url}/replicate/v1/models/{SCHNELL}/predictions",
        json={"input": {"prompt": "x"}},
        headers={"Authorization": "Bearer nope"},
    )
    assert status == 401 and body["error"]["type"] == "comet_api_error"
    assert "(request id: " in body["error"]["message"]
    assert fake.predictions == {}


@pytest.mark.parametrize("payload", [b"not json", b'{"prompt": "x"}', b'{"input": "x"}', b"[]"])
async def test_body_must_be_json_with_an_input_object(
    fake: FakeCometAPI, http: aiohttp.ClientSession, payload: bytes
) -> None:
    """Anything but {"input": {...}} is a 400 envelope."""
    status, body, _ = await call(
        http,
        "POST",
        f"{fake.base_url}/replicate/v1/models/{SCHNELL}/predictions",
        data=payload,
        headers={**AUTH, "Content-Type": "application/json"},
    )
    assert status == 400 and body["error"]["code"] == "invalid_request"


@pytest.mark.parametrize("status", [404, 503])
async def test_unknown_model(fake: FakeCometAPI, http: aiohttp.ClientSession, status: int) -> None:
    """An unknown model answers 404 or 503 with code model_not_found."""
    fake.unknown_model_status = status
    got, body, _ = await call(
        http,
        "POST",
        f"{fake.base_url}/replicate/v1/models/acme/unknown/predictions",
        json={"input": {"prompt": "x"}},
    )
    assert got == status and body["error"]["code"] == "model_not_found"


async def test_invalid_input_is_422_problem_details(
    fake: FakeCometAPI, http: aiohttp.ClientSession
) -> None:
    """A missing prompt or a bad choice gets Replicate's 422 problem details."""
    status, body, _ = await call(
        http,
        "POST",
        f"{fake.base_url}/replicate/v1/models/black-forest-labs/flux-1.1-pro-ultra/predictions",
        json={"input": {"output_format": "webp"}},
    )
    assert status == 422 and body["title"] == "Input validation failed"
    assert "prompt is required" in body["detail"] and "output_format" in body["detail"]


async def test_fail_next_is_consumed_then_normal(
    fake: FakeCometAPI, http: aiohttp.ClientSession
) -> None:
    """fail_next(n) answers n requests of its route, with the given headers, then the API is normal again."""
    fake.fail_next(2, 429, None, route="create", headers={"Retry-After": "3"})
    url = f"{fake.base_url}/replicate/v1/models/{SCHNELL}/predictions"
    answers = [await call(http, "POST", url, json={"input": {"prompt": "x"}}) for _ in range(3)]
    assert [a[0] for a in answers] == [429, 429, 201]
    assert answers[0][2]["Retry-After"] == "3"
    assert len(fake.requests_for("create")) == 3 and len(fake.predictions) == 1


async def test_hung_create_still_creates(fake: FakeCometAPI, http: aiohttp.ClientSession) -> None:
    """A hung create never answers but the prediction exists: the request did arrive."""
    fake.hang("create", 1)
    with pytest.raises(asyncio.TimeoutError):
        async with http.post(
            f"{fake.base_url}/replicate/v1/models/{SCHNELL}/predictions",
            json={"input": {"prompt": "x"}},
            headers=AUTH,
            timeout=aiohttp.ClientTimeout(total=0.1),
        ):
            pass
    assert len(fake.predictions) == 1


async def test_cancel_route_present_and_absent(
    fake: FakeCometAPI, clock: ManualClock, http: aiohttp.ClientSession
) -> None:
    """Cancel sets canceled (and finished_at); without the route it is a 404 envelope."""
    body = await create(fake, http)
    clock.advance(1)
    status, canceled, _ = await call(
        http, "POST", f"{fake.base_url}/replicate/v1/predictions/{body['id']}/cancel"
    )
    assert status == 200 and canceled["status"] == "canceled"
    assert fake.finished_at(body["id"]) == 1001.0
    fake.cancel_route = False
    status, refused, _ = await call(
        http, "POST", f"{fake.base_url}/replicate/v1/predictions/{body['id']}/cancel"
    )
    assert status == 404 and "Invalid URL" in refused["error"]["message"]


async def test_file_ttl_removes_data(
    fake: FakeCometAPI, clock: ManualClock, http: aiohttp.ClientSession
) -> None:
    """After file_ttl the outputs 404 and data_removed is true, like the real one-hour expiry."""
    fake.file_ttl = 60
    body = await create(fake, http)
    clock.advance(3)
    url = f"{fake.base_url}/replicate/v1/predictions/{body['id']}"
    _, done, _ = await call(http, "GET", url)
    assert (await call(http, "GET", done["output"][0], headers={}))[0] == 200
    clock.advance(60)
    _, later, _ = await call(http, "GET", url)
    assert later["data_removed"] is True
    assert (await call(http, "GET", done["output"][0], headers={}))[0] == 404


async def test_wrong_path_is_an_html_404(fake: FakeCometAPI, http: aiohttp.ClientSession) -> None:
    """Paths outside the API get an HTML page, like a web server in front of a wrong base URL."""
    status, body, headers = await call(
        http, "GET", f"{fake.base_url}/v1/replicate/v1/predictions/x"
    )
    assert status == 404 and headers["Content-Type"].startswith("text/html")
    assert b"<title>404 Not Found</title>" in body


async def test_many_predictions_are_cheap(http: aiohttp.ClientSession) -> None:
    """Hundreds of predictions run on the clock alone, and wait_finished/finished_at agree with it."""
    async with FakeCometAPI(duration=0.05, start_delay=0.01) as fake:
        started = time.monotonic()
        bodies = await asyncio.gather(*(create(fake, http) for _ in range(300)))
        assert fake.running_count() <= 300
        await fake.wait_finished(bodies[-1]["id"])
        assert time.monotonic() >= fake.finished_at(bodies[-1]["id"])
        assert fake.status(bodies[-1]["id"]) == "succeeded"
        # no task per prediction: only the test itself and aiohttp's per-connection handlers
        others = [t for t in asyncio.all_tasks() if "RequestHandler" not in repr(t.get_coro())]
        assert len(others) < 5
        assert time.monotonic() - started < 10


async def test_prefer_wait_holds_the_answer_until_done(http: aiohttp.ClientSession) -> None:
    """`Prefer: wait=N` returns the finished prediction when it finishes within N seconds."""
    async with FakeCometAPI(duration=0.05, start_delay=0.01) as fake:
        status, body, _ = await call(
            http,
            "POST",
            f"{fake.base_url}/replicate/v1/models/{SCHNELL}/predictions",
            json={"input": {"prompt": "x"}},
            headers={**AUTH, "Prefer": "wait=5"},
        )
        assert status == 201 and body["status"] == "succeeded" and len(body["output"]) == 1
