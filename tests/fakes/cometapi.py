"""A fake CometAPI on 127.0.0.1 that behaves like the real Replicate-compatible routes.

Used by the client's tests, the scheduler's tests and the benchmarks. It answers the routes of
/work/shared/cometapi.md with the real JSON shapes, moves predictions through
`starting → processing → succeeded` by reading a clock (no task per prediction, so a thousand
predictions cost nothing), writes tqdm-like logs, serves outputs as real image bytes made with
Pillow, and can be scripted to fail: error statuses and bodies, hangs, dropped connections,
models that fail, wrap their answers, or give broken files. It also answers the two reads of
`check --online`: the authenticated model list (`/v1/models`) and the balance query service
(`/user/quota`, whose balance `no_credit()` empties; creates then get a 402).

    async with FakeCometAPI(duration=0.1) as fake:
        client = PredictionClient(session, base_url=fake.base_url, api_key=fake.api_key)
        ...
"""

from __future__ import annotations

import asyncio
import functools
import io
import json
import math
import os
import random
import string
import struct
import time
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from aiohttp import web
from PIL import Image, ImageDraw

from tests.fakes.cometapi_models import FLUX_MODELS, FakeModel, validate_input

Artwork = Callable[[int, int, tuple[int, int]], Image.Image]  # (seed, index, size) -> image
FaultRoute = Literal["create", "get", "cancel", "files", "models", "quota", "any"]
OutputKind = Literal["image", "huge", "not_image", "broken", "bomb"]

_PIL_FORMAT = {"webp": "WEBP", "jpg": "JPEG", "jpeg": "JPEG", "png": "PNG", "gif": "GIF"}
_MIME = {"webp": "image/webp", "jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png"}
_NOT_IMAGE = b"<!DOCTYPE html><html><head><title>Access denied</title></head><body>no</body></html>"
_HTML_404 = (
    "<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n"
    "<center><h1>404 Not Found</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)


@dataclass(frozen=True)
class ModelBehaviour:
    """How the fake runs one model's predictions (snapshotted into each prediction)."""

    duration: float | None = None  # processing time; None: the server's default
    fail_with: str | None = None  # the prediction ends "failed" with this error
    output_kind: OutputKind = "image"
    hang_get: bool = False  # status queries for this model never answer (read live)
    wrapped: bool | Literal["double"] = False  # {"data": ...} / {"data": {"status", "data"}}
    output_as_string: bool | None = None  # None: as the real model does
    data_removed: bool = False  # output files already gone (404) and data_removed true
    image_size: int | None = None  # short side in pixels; None: the server's default
    output_count: int | None = None  # outputs given whatever was asked; None: as asked
    # The safety checker drops all but this many of the images asked for (FLUX's "Total safe
    # images: k out of n"): the prediction succeeds with fewer outputs. None: none dropped.
    safe_images: int | None = None


@dataclass
class RecordedRequest:
    method: str
    path: str
    route: str  # "create" | "get" | "cancel" | "files" | "other"
    headers: dict[str, str]
    json: Any  # the decoded body, or None
    body: bytes
    time: float  # the fake's clock


@dataclass
class FakePrediction:
    id: str
    model: str
    input: dict[str, Any]
    created: float
    start_at: float
    finish_at: float
    wall_offset: float  # add to the clock for epoch seconds
    seed: int
    num_outputs: int
    output_format: str
    steps: int | None
    output_list: bool
    behaviour: ModelBehaviour
    canceled_at: float | None = None

    @property
    def finished_at(self) -> float:
        """Clock time at which the prediction is (or will be) terminal."""
        if self.canceled_at is not None:
            return min(self.canceled_at, self.finish_at)
        return self.finish_at

    def status_at(self, now: float) -> str:
        if self.canceled_at is not None:  # only ever set before the natural finish
            return "canceled"
        if now < self.start_at:
            return "starting"
        if now < self.finish_at:
            return "processing"
        return "failed" if self.behaviour.fail_with is not None else "succeeded"

    @property
    def made(self) -> int:
        """How many images the prediction returns (the safety checker may drop some)."""
        safe = self.behaviour.safe_images
        return self.num_outputs if safe is None else min(safe, self.num_outputs)

    def output_names(self) -> list[str]:
        return [f"{i}.{self.output_format}" for i in range(self.made)]


@dataclass
class _Fault:
    route: FaultRoute
    remaining: int
    action: Literal["respond", "hang", "drop"]
    status: int = 500
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


class ManualClock:
    """A clock the test moves by hand: `FakeCometAPI(clock=clock)`, then `clock.advance(1)`."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def envelope(
    message: str,
    *,
    code: str = "",
    type: str = "comet_api_error",
    request_id: str | None = "20250101000000000000000fake0001",
) -> dict[str, Any]:
    """CometAPI's error envelope; the request id rides at the end of the message."""
    if request_id:
        message = f"{message} (request id: {request_id})"
    return {"error": {"message": message, "type": type, "param": "", "code": code}}


def problem(detail: str, *, status: int = 422, title: str = "Input validation failed") -> dict:
    """Replicate's problem-details body."""
    return {"title": title, "detail": detail, "status": status}


_DEFAULT_BODIES: dict[int, tuple[str, str]] = {
    400: ("invalid request", "invalid_request"),
    401: ("Invalid token", ""),
    402: ("insufficient credit", "insufficient_user_quota"),
    403: ("access to this resource is forbidden", "forbidden"),
    404: ("not found", "not_found"),
    429: ("Too many requests, please retry later", "rate_limit_exceeded"),
    500: ("internal server error", "internal_error"),
    502: ("bad gateway", "bad_gateway"),
    503: ("service temporarily unavailable", "service_unavailable"),
}


class FakeCometAPI:
    def __init__(
        self,
        *,
        api_key: str = "test-key",
        duration: float = 0.2,
        start_delay: float = 0.05,
        create_status: int = 201,
        unknown_model_status: int = 404,
        cancel_route: bool = True,
        cancel_absent_status: int = 404,
        image_base: int = 64,
        huge_size: int = 1024,
        file_ttl: float | None = None,
        honour_prefer_wait: bool = True,
        clock: Callable[[], float] = time.monotonic,
        seed: int = 1234,
        chunked_files: bool = False,
        balance: float = 25.0,
        artwork: Artwork | None = None,
    ) -> None:
        self.api_key = api_key
        self.duration = duration
        self.start_delay = start_delay
        self.create_status = create_status
        self.unknown_model_status = unknown_model_status
        self.cancel_route = cancel_route
        self.cancel_absent_status = cancel_absent_status
        self.image_base = image_base
        self.huge_size = huge_size
        self.file_ttl = file_ttl
        self.honour_prefer_wait = honour_prefer_wait
        self.clock = clock
        self.chunked_files = chunked_files  # stream files without Content-Length
        # The account's balance in USD, as the query service reports it (`/user/quota`); at 0
        # or below, creates are refused with 402 like a spent key. `no_credit()` sets it.
        self.balance = balance
        # Draws the output images (seed, index, size) instead of the plain test squares.
        self.artwork = artwork
        self.models: dict[str, FakeModel] = dict(FLUX_MODELS)
        self.behaviours: dict[str, ModelBehaviour] = {}
        self.requests: list[RecordedRequest] = []
        self.predictions: dict[str, FakePrediction] = {}
        self.base_url = ""
        self._random = random.Random(seed)
        self._faults: list[_Fault] = []
        self._files: dict[tuple[str, int], bytes] = {}
        self._release = asyncio.Event()
        self._request_counter = 0
        self._runner: web.AppRunner | None = None

    # -- lifecycle -----------------------------------------------------------------------

    async def start(self, port: int = 0) -> str:
        """Listen on 127.0.0.1 (a free port unless given); returns the base URL."""
        app = web.Application(middlewares=[self._middleware], client_max_size=8 * 1024 * 1024)
        app.router.add_post(
            "/replicate/v1/models/{owner}/{name}/predictions", self._create, name="create"
        )
        app.router.add_get("/replicate/v1/predictions/{id}", self._get, name="get")
        app.router.add_post("/replicate/v1/predictions/{id}/cancel", self._cancel, name="cancel")
        app.router.add_get("/files/{id}/{file}", self._file, name="files")
        # The key checks of `python -m bot check --online`: the OpenAI-compatible model list
        # (Bearer auth) and the balance query service (the key as a query parameter; on the real
        # service it lives at https://query.cometapi.com/user/quota).
        app.router.add_get("/v1/models", self._models, name="models")
        app.router.add_get("/user/quota", self._quota, name="quota")
        app.router.add_route("*", "/{tail:.*}", self._not_found, name="other")
        # handler_cancellation: a hung handler ends when the client gives up on it.
        self._runner = web.AppRunner(
            app, handler_cancellation=True, access_log=None, shutdown_timeout=1.0
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        bound_port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{bound_port}"
        return self.base_url

    async def close(self) -> None:
        self._release.set()  # let hung handlers finish
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeCometAPI:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- scripting -----------------------------------------------------------------------

    def fail_next(
        self,
        n: int,
        status: int,
        body: Any = None,
        *,
        route: FaultRoute = "create",
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """Answer the next n requests of `route` with this status and body.

        `body`: a dict/list (sent as JSON), a str (HTML when it starts with "<", else plain
        text), bytes, or None for a CometAPI envelope that suits the status.
        """
        self._faults.append(_Fault(route, n, "respond", status, body, dict(headers or {})))

    def hang(self, route: FaultRoute, n: int = 1) -> None:
        """The next n requests of `route` get no answer until the client gives up.

        A hung create still creates its prediction: the request arrived, only the answer is
        lost, which is exactly why a create must not be retried after a read timeout.
        """
        self._faults.append(_Fault(route, n, "hang"))

    def drop(self, route: FaultRoute, n: int = 1) -> None:
        """The next n requests of `route` see the connection closed without an answer."""
        self._faults.append(_Fault(route, n, "drop"))

    def set_model_behaviour(
        self,
        model: str,
        *,
        duration: float | None = None,
        fail_with: str | None = None,
        output_kind: OutputKind = "image",
        hang_get: bool = False,
        wrapped: bool | Literal["double"] = False,
        output_as_string: bool | None = None,
        data_removed: bool = False,
        image_size: int | None = None,
        output_count: int | None = None,
        safe_images: int | None = None,
    ) -> None:
        """How predictions of `model` run from now on; an unknown model becomes known.

        `output_kind="bomb"`: every output is a 0.14 MB PNG of 12,000 x 12,000 pixels.
        `output_count`: that many output URLs, whatever the input asked (a misbehaving API).
        """
        if model not in self.models:
            self.models[model] = FakeModel(True, "webp", ("webp", "jpg", "png"), None, 4, 50, True)
        self.behaviours[model] = ModelBehaviour(
            duration=duration,
            fail_with=fail_with,
            output_kind=output_kind,
            hang_get=hang_get,
            wrapped=wrapped,
            output_as_string=output_as_string,
            data_removed=data_removed,
            image_size=image_size,
            output_count=output_count,
            safe_images=safe_images,
        )

    def no_credit(self) -> None:
        """The account's balance is spent: the query service says 0 and creates get a 402."""
        self.balance = 0.0

    def finish_now(self, pred_id: str) -> None:
        """Make a prediction finish at the current clock time."""
        pred = self.predictions[pred_id]
        now = self.clock()
        pred.start_at = min(pred.start_at, now)
        pred.finish_at = min(pred.finish_at, now)

    # -- observing -----------------------------------------------------------------------

    def finished_at(self, pred_id: str) -> float:
        """Clock time at which the prediction became (or will become) terminal."""
        return self.predictions[pred_id].finished_at

    def status(self, pred_id: str) -> str:
        return self.predictions[pred_id].status_at(self.clock())

    async def wait_finished(self, pred_id: str, timeout: float = 30.0) -> None:
        """Return once the prediction is terminal (real time; polls a custom clock)."""
        deadline = time.monotonic() + timeout
        while (remaining := self.finished_at(pred_id) - self.clock()) > 0:
            if time.monotonic() > deadline:
                raise TimeoutError(f"prediction {pred_id} not finished after {timeout}s")
            await asyncio.sleep(min(remaining, 0.02))

    def requests_for(self, route: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.route == route]

    def running_count(self) -> int:
        """Predictions not yet terminal: what the provider is running for us right now."""
        now = self.clock()
        return sum(1 for p in self.predictions.values() if p.finished_at > now)

    # -- HTTP ----------------------------------------------------------------------------

    @web.middleware
    async def _middleware(
        self, request: web.Request, handler: Callable[[web.Request], Any]
    ) -> web.StreamResponse:
        route = request.match_info.route.name or "other"
        body = await request.read()
        try:
            decoded = json.loads(body) if body else None
        except ValueError:
            decoded = None
        self.requests.append(
            RecordedRequest(
                method=request.method,
                path=request.path,
                route=route,
                headers=dict(request.headers),
                json=decoded,
                body=body,
                time=self.clock(),
            )
        )
        fault = self._take_fault(route)
        if fault is not None and fault.action == "respond":
            return self._fault_response(fault)
        authorized = request.headers.get("Authorization") == f"Bearer {self.api_key}"
        if route in ("create", "get", "cancel", "models") and not authorized:
            return self._json(401, envelope("Invalid token", request_id=self._request_id()))
        if fault is not None and route == "create":
            # The request arrived: the prediction exists even though no answer will come.
            response = await handler(request)
            if response.status >= 300:
                return response
        if fault is not None and fault.action == "hang":
            await self._release.wait()
            return self._json(503, envelope("server shutting down"))
        if fault is not None and fault.action == "drop":
            if request.transport is not None:
                request.transport.abort()
            return web.Response(status=500)
        response = await handler(request)
        assert isinstance(response, web.StreamResponse)
        return response

    def _take_fault(self, route: str) -> _Fault | None:
        for fault in self._faults:
            if fault.route == route or (
                fault.route == "any" and route in ("create", "get", "cancel")
            ):
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
                return fault
        return None

    def _fault_response(self, fault: _Fault) -> web.Response:
        body = fault.body
        headers = dict(fault.headers)
        if body is None:
            message, code = _DEFAULT_BODIES.get(fault.status, ("error", ""))
            body = envelope(message, code=code, request_id=self._request_id())
        if isinstance(body, dict | list):
            return self._json(fault.status, body, headers)
        if isinstance(body, str):
            headers.setdefault(
                "Content-Type",
                "text/html; charset=utf-8" if body.lstrip().startswith("<") else "text/plain",
            )
            return web.Response(status=fault.status, text=body, headers=headers)
        return web.Response(status=fault.status, body=body, headers=headers)

    def _json(
        self, status: int, body: Any, headers: Mapping[str, str] | None = None
    ) -> web.Response:
        return web.Response(
            status=status,
            text=json.dumps(body),
            content_type="application/json",
            headers={"X-Oneapi-Request-Id": self._request_id(), **(headers or {})},
        )

    def _request_id(self) -> str:
        self._request_counter += 1
        return f"{datetime.now(UTC):%Y%m%d%H%M%S}{self._request_counter:09d}fake"

    async def _create(self, request: web.Request) -> web.Response:
        model_id = f"{request.match_info['owner']}/{request.match_info['name']}"
        try:
            payload = json.loads(await request.read())
        except ValueError:
            return self._json(
                400, envelope("request body is not valid JSON", code="invalid_request")
            )
        if not isinstance(payload, dict) or not isinstance(payload.get("input"), dict):
            return self._json(
                400,
                envelope("the body must be an object with an input object", code="invalid_request"),
            )
        if self.balance <= 0:
            message, code = _DEFAULT_BODIES[402]
            return self._json(402, envelope(message, code=code, request_id=self._request_id()))
        model = self.models.get(model_id)
        if model is None:
            return self._json(
                self.unknown_model_status,
                envelope(
                    f"No available channel for model {model_id} under group default",
                    code="model_not_found",
                    type="comet_api_error",
                    request_id=self._request_id(),
                ),
            )
        inputs: dict[str, Any] = payload["input"]
        problems = validate_input(model, inputs)
        if problems:
            body = problem("\n".join(f"- input: {p}" for p in problems))
            body["invalid_fields"] = [
                {"type": "invalid", "field": "input", "description": p} for p in problems
            ]
            return self._json(422, body)
        pred = self._new_prediction(model_id, model, inputs)
        prefer = request.headers.get("Prefer", "")
        if self.honour_prefer_wait and prefer.startswith("wait"):
            try:
                wait = min(60.0, float(prefer.partition("=")[2] or 60))
            except ValueError:
                wait = 0.0
            remaining = min(wait, pred.finished_at - self.clock())
            if remaining > 0:
                await asyncio.sleep(remaining)
        return self._json(self.create_status, self._render(pred))

    def _new_prediction(
        self, model_id: str, model: FakeModel, inputs: dict[str, Any]
    ) -> FakePrediction:
        behaviour = self.behaviours.get(model_id, ModelBehaviour())
        now = self.clock()
        duration = self.duration if behaviour.duration is None else behaviour.duration
        seed = inputs.get("seed")
        if not isinstance(seed, int) or isinstance(seed, bool):
            seed = self._random.randrange(1, 2**31)
        num_outputs = inputs.get("num_outputs", 1) if model.multi_output else 1
        if behaviour.output_count is not None:
            num_outputs = behaviour.output_count
        steps = model.steps
        if steps is not None and isinstance(inputs.get("num_inference_steps"), int):
            steps = max(1, inputs["num_inference_steps"])
        output_list = model.output_list
        if behaviour.output_as_string is not None:
            output_list = not behaviour.output_as_string
        pred = FakePrediction(
            id=_prediction_id(self._random),
            model=model_id,
            input=dict(inputs),
            created=now,
            start_at=now + self.start_delay,
            finish_at=now + self.start_delay + duration,
            wall_offset=time.time() - now,
            seed=seed,
            num_outputs=int(num_outputs),
            output_format=str(inputs.get("output_format") or model.default_format),
            steps=steps,
            output_list=output_list,
            behaviour=behaviour,
        )
        self.predictions[pred.id] = pred
        return pred

    async def _get(self, request: web.Request) -> web.Response:
        pred = self.predictions.get(request.match_info["id"])
        if pred is None:
            return self._json(
                404,
                envelope("prediction not found", code="not_found", request_id=self._request_id()),
            )
        if self._live_behaviour(pred).hang_get:
            await self._release.wait()
        return self._json(200, self._render(pred, wrap=True))

    async def _cancel(self, request: web.Request) -> web.Response:
        if not self.cancel_route:
            return self._json(
                self.cancel_absent_status,
                envelope(
                    f"Invalid URL ({request.method} {request.path})",
                    type="invalid_request_error",
                    request_id=self._request_id(),
                ),
            )
        pred = self.predictions.get(request.match_info["id"])
        if pred is None:
            return self._json(404, envelope("prediction not found", code="not_found"))
        now = self.clock()
        if pred.finished_at > now:
            pred.canceled_at = now
        return self._json(200, self._render(pred))

    async def _file(self, request: web.Request) -> web.StreamResponse:
        pred = self.predictions.get(request.match_info["id"])
        name = request.match_info["file"]
        now = self.clock()
        if pred is None or name not in pred.output_names() or pred.status_at(now) != "succeeded":
            return web.Response(status=404, text="Not Found")
        if self._data_removed(pred, now):
            return web.Response(status=404, text="Not Found")
        index = pred.output_names().index(name)
        data = self._files.get((pred.id, index))
        if data is None:
            data = await asyncio.to_thread(self._make_file, pred, index)
            self._files[(pred.id, index)] = data
        kind = pred.behaviour.output_kind
        if self.chunked_files:
            response = web.StreamResponse()
            response.enable_chunked_encoding()
            await response.prepare(request)
            for start in range(0, len(data), 16 * 1024):
                await response.write(data[start : start + 16 * 1024])
            await response.write_eof()
            return response
        content_type = (
            "text/html"
            if kind == "not_image"
            else _MIME.get(pred.output_format, "application/octet-stream")
        )
        return web.Response(body=data, content_type=content_type)

    async def _models(self, request: web.Request) -> web.Response:
        """OpenAI's model list shape, as CometAPI's authenticated `/v1/models` gives it."""
        created = int(time.time())
        data = [
            {
                "id": model_id,
                "object": "model",
                "created": created,
                "owned_by": model_id.split("/")[0],
            }
            for model_id in sorted(self.models)
        ]
        return self._json(200, {"object": "list", "data": data})

    async def _quota(self, request: web.Request) -> web.Response:
        """The balance query service: account balance and per-key quota, in USD.

        Documented: `GET /user/quota?key=...` answers `username`, `total_quota` (the balance),
        `total_used_quota`, `request_count` and `keys` (`remain_quota` -1 = unlimited). What it
        answers for a wrong key is not documented; this fake answers 401 with a message.
        """
        if request.query.get("key") != self.api_key:
            return self._json(401, {"success": False, "message": "invalid key"})
        creates = len(self.requests_for("create"))
        return self._json(
            200,
            {
                "username": "fake_user",
                "total_quota": round(self.balance, 6),
                "total_used_quota": round(0.003 * creates, 6),
                "request_count": len(self.requests),
                "keys": [{"name": "discord-bot", "remain_quota": -1, "used_quota": -1}],
            },
        )

    async def _not_found(self, request: web.Request) -> web.Response:
        # What a web server in front of the API gives for a wrong base URL: HTML, not JSON.
        return web.Response(status=404, text=_HTML_404, content_type="text/html")

    # -- rendering -----------------------------------------------------------------------

    def _live_behaviour(self, pred: FakePrediction) -> ModelBehaviour:
        return self.behaviours.get(pred.model, pred.behaviour)

    def _data_removed(self, pred: FakePrediction, now: float) -> bool:
        if pred.status_at(now) not in ("succeeded", "failed", "canceled"):
            return False
        if pred.behaviour.data_removed:
            return True
        return self.file_ttl is not None and now >= pred.finished_at + self.file_ttl

    def _render(self, pred: FakePrediction, *, wrap: bool = False) -> Any:
        now = self.clock()
        status = pred.status_at(now)
        terminal = status in ("succeeded", "failed", "canceled")

        def iso(t: float | None) -> str | None:
            if t is None:
                return None
            stamp = datetime.fromtimestamp(pred.wall_offset + t, UTC)
            return stamp.strftime("%Y-%m-%dT%H:%M:%S.%fZ")

        output: Any = None
        metrics: dict[str, Any] = {}
        if status == "succeeded":
            urls = [f"{self.base_url}/files/{pred.id}/{name}" for name in pred.output_names()]
            output = urls if pred.output_list else urls[0]
            metrics = {
                "predict_time": round(pred.finish_at - pred.start_at, 6),
                "image_count": pred.made,
            }
        api = "https://api.replicate.com/v1/predictions"
        body = {
            "id": pred.id,
            "model": pred.model,
            "version": "hidden",
            "input": pred.input,
            "logs": self._logs(pred, now, status),
            "output": output,
            "data_removed": self._data_removed(pred, now),
            "error": pred.behaviour.fail_with if status == "failed" else None,
            "source": "api",
            "status": status,
            "created_at": iso(pred.created),
            "started_at": iso(pred.start_at) if now >= pred.start_at else None,
            "completed_at": iso(pred.finished_at) if terminal else None,
            "urls": {
                "cancel": f"{api}/{pred.id}/cancel",
                "get": f"{api}/{pred.id}",
                "stream": f"https://stream.replicate.com/v1/files/{pred.id}",
                "web": f"https://replicate.com/p/{pred.id}",
            },
            "metrics": metrics,
        }
        wrapped = self._live_behaviour(pred).wrapped if wrap else False
        if wrapped == "double":
            gateway = {"succeeded": "SUCCESS", "failed": "FAILURE"}.get(status, "IN_PROGRESS")
            return {"code": "success", "message": "", "data": {"status": gateway, "data": body}}
        if wrapped:
            return {"data": body}
        return body

    def _logs(self, pred: FakePrediction, now: float, status: str) -> str:
        if status == "starting":
            return ""
        end = min(now, pred.finished_at)
        lines = [f"Using seed: {pred.seed}", "Running prediction"]
        if pred.steps is None:
            lines.append("Generating image...")
        else:
            span = max(pred.finish_at - pred.start_at, 1e-9)
            fraction = min(1.0, max(0.0, (end - pred.start_at) / span))
            done = min(pred.steps, math.floor(fraction * pred.steps + 1e-9))
            for step in range(done + 1):
                lines.append(_tqdm_line(step, pred.steps, span))
        if status == "succeeded":
            if pred.steps is None:
                lines.append(f"Generated image in {pred.finish_at - pred.start_at:.2f}sec")
            else:
                lines.append(f"Total safe images: {pred.made} out of {pred.num_outputs}")
        elif status == "failed" and "nsfw" in (pred.behaviour.fail_with or "").lower():
            lines.append(f"Total safe images: 0 out of {pred.num_outputs}")
        return "\n".join(lines) + "\n"

    def _make_file(self, pred: FakePrediction, index: int) -> bytes:
        kind = pred.behaviour.output_kind
        if kind == "not_image":
            return _NOT_IMAGE
        if kind == "bomb":
            return pixel_bomb()
        fmt = _PIL_FORMAT.get(pred.output_format, "PNG")
        if kind == "huge":
            side = self.huge_size
            image = Image.frombytes("RGB", (side, side), os.urandom(side * side * 3))
            buffer = io.BytesIO()
            image.save(buffer, fmt, **({"quality": 95} if fmt in ("JPEG", "WEBP") else {}))
            return buffer.getvalue()
        width, height = _size(
            str(pred.input.get("aspect_ratio", "1:1")), pred.behaviour.image_size or self.image_base
        )
        if self.artwork is not None:
            buffer = io.BytesIO()
            self.artwork(pred.seed, index, (width, height)).convert("RGB").save(buffer, fmt)
            return buffer.getvalue()
        rng = random.Random(pred.seed * 31 + index)
        colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
        image = Image.new("RGB", (width, height), colour)
        draw = ImageDraw.Draw(image)
        draw.rectangle(
            (width // 4, height // 4, 3 * width // 4, 3 * height // 4),
            fill=(255 - colour[0], 255 - colour[1], 255 - colour[2]),
        )
        buffer = io.BytesIO()
        image.save(buffer, fmt)
        data = buffer.getvalue()
        if kind == "broken":
            return data[: max(16, len(data) // 2)]
        return data


def pixel_bomb() -> bytes:
    """A valid grey PNG of 12,000 x 12,000 pixels that weighs 0.14 MB."""
    return blank_png(12_000, 12_000)


@functools.cache
def blank_png(width: int, height: int) -> bytes:
    """A valid black greyscale PNG of any size, tiny on the wire (zeros compress ~1000:1).

    Written row by row, so making it never holds the pixels it decodes to.
    """
    deflate = zlib.compressobj(9)
    row = b"\x00" * (width + 1)  # filter byte 0, then one byte per grey pixel
    body = b"".join(deflate.compress(row) for _ in range(height)) + deflate.flush()

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")
    )


def _size(aspect_ratio: str, base: int) -> tuple[int, int]:
    """Short side `base`, long side from the ratio; unknown ratios give a square."""
    try:
        a, b = (float(x) for x in aspect_ratio.split(":"))
    except ValueError:
        return base, base
    if a <= 0 or b <= 0:
        return base, base
    if a >= b:
        return round(base * a / b), base
    return base, round(base * b / a)


def _tqdm_line(step: int, steps: int, span: float) -> str:
    """`  50%|█████     | 2/4 [00:01<00:01,  1.90it/s]`, as tqdm prints it."""
    pct = int(100 * step / steps)
    filled = int(10 * step / steps)
    bar = "█" * filled + " " * (10 - filled)
    per_step = span / steps
    if step == 0:
        return f"{pct:3d}%|{bar}| {step}/{steps} [00:00<?, ?it/s]"
    elapsed, left = step * per_step, (steps - step) * per_step
    rate = 1 / per_step if per_step > 0 else 0.0
    return f"{pct:3d}%|{bar}| {step}/{steps} [{_mmss(elapsed)}<{_mmss(left)}, {rate:5.2f}it/s]"


def _mmss(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 60:02d}:{seconds % 60:02d}"


def _prediction_id(rng: random.Random) -> str:
    """26 lowercase letters and digits, like Replicate's ids."""
    return "".join(rng.choice(string.ascii_lowercase + string.digits) for _ in range(26))


__all__ = [
    "FLUX_MODELS",
    "FakeCometAPI",
    "FakeModel",
    "FakePrediction",
    "ManualClock",
    "ModelBehaviour",
    "RecordedRequest",
    "blank_png",
    "envelope",
    "pixel_bomb",
    "problem",
]
