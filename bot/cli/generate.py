"""`python -m bot generate`: one prediction from the terminal, through the same client as the bot.

It is how an operator checks an API key: create, poll with a growing interval, show progress,
download the outputs and write them where asked. Every failure is one sentence on stderr and a
non-zero exit code (1 for the API and the files, 2 for the command line), never a traceback.
"""

from __future__ import annotations

import asyncio
import math
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

import aiohttp

from bot.cometapi import (
    ClientTuning,
    CometAPIError,
    DownloadedImage,
    NetworkError,
    Prediction,
    PredictionClient,
    ProviderError,
    RateLimitedError,
)

CatalogInput = Callable[[str, str, list[str]], dict[str, Any]]

_INT = re.compile(r"[+-]?\d+")
_FLOAT = re.compile(r"[+-]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?")
_SAFE_ID = re.compile(r"[^A-Za-z0-9_-]")


async def run_generate(
    *,
    prompt: str,
    model: str,
    out: Path | None,
    options: list[str],
    settings_base_url: str,
    api_key: str,
    prefer_wait: int | None,
    stdout: TextIO,
    stderr: TextIO,
    catalog_input: CatalogInput | None = None,
    timeout: float = 600.0,
    poll_interval: float = 0.5,
    max_poll_interval: float = 5.0,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> int:
    """Run one prediction and write its images; returns the process exit code."""
    try:
        if catalog_input is not None:
            model_input = catalog_input(model, prompt, list(options))
        else:
            model_input = {"prompt": prompt, **parse_options(options)}
    except (ValueError, LookupError) as exc:  # the catalog's InputValidationError / UnknownModel
        _fail(stderr, f"invalid input: {_one_line(str(exc))}")
        return 2

    async with aiohttp.ClientSession() as session:
        try:
            client = PredictionClient(
                session,
                base_url=settings_base_url,
                api_key=api_key,
                tuning=ClientTuning(prefer_wait=prefer_wait),
            )
        except ValueError as exc:
            _fail(stderr, f"COMETAPI_BASE_URL is not usable: {exc}")
            return 2
        run = _Run(client, stdout, stderr, sleep)
        try:
            return await run.execute(
                model, model_input, out, timeout, poll_interval, max_poll_interval
            )
        except CometAPIError as exc:
            run.progress.end()
            ref = f" (request id {exc.request_id})" if exc.request_id else ""
            _fail(stderr, f"{_one_line(exc.message)}{ref}")
            return 1
        except asyncio.CancelledError:
            # Ctrl-C: do not leave a billed prediction running for nobody.
            await run.cancel_quietly()
            raise


def parse_options(pairs: Sequence[str]) -> dict[str, Any]:
    """`key=value` strings → input fields; true/false, integers and decimals are converted."""
    fields: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ValueError(f"--option {pair!r} is not key=value")
        fields[key] = _convert(raw.strip())
    return fields


def output_path(out: Path | None, prediction_id: str, index: int, extension: str) -> Path:
    """Where the index-th (1-based) image goes; the extension follows the real image type.

    `--out cat.png` gives cat.png, cat-2.png ... (cat.webp for WebP bytes); no --out gives
    image-<prediction id>.<ext> in the current directory. Never derived from the prompt.
    """
    suffix = "" if index == 1 else f"-{index}"
    if out is None or out.is_dir():
        folder = out if out is not None else Path.cwd()
        stem = f"image-{_SAFE_ID.sub('', prediction_id) or 'output'}"
        return folder / f"{stem}{suffix}.{extension}"
    given = out.suffix.lower().lstrip(".")
    same_type = given == extension or (given in ("jpg", "jpeg") and extension == "jpg")
    ending = out.suffix if same_type else f".{extension}"
    return out.with_name(f"{out.stem if out.suffix else out.name}{suffix}{ending}")


class _Progress:
    """One status line: rewritten in place on a terminal, a line per change otherwise."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        isatty = getattr(stream, "isatty", None)
        self._tty = bool(isatty and isatty())
        self._last = ""
        self._open = False

    def show(self, prediction: Prediction, elapsed: float) -> None:
        state = prediction.status.value
        if state == "unknown":
            state = prediction.raw_status or state
        text = state
        if prediction.progress is not None:
            text += f" {math.floor(prediction.progress * 100)}%"
        if self._tty:
            line = f"{text} ({elapsed:.0f}s)"
            self._stream.write("\r" + line.ljust(len(self._last)))
            self._last, self._open = line, True
        elif text != self._last:
            self._stream.write(text + "\n")
            self._last = text
        self._stream.flush()

    def end(self) -> None:
        if self._open:
            self._stream.write("\n")
            self._stream.flush()
            self._open = False


class _Run:
    def __init__(
        self,
        client: PredictionClient,
        stdout: TextIO,
        stderr: TextIO,
        sleep: Callable[[float], Awaitable[None]],
    ) -> None:
        self.client = client
        self.stdout = stdout
        self.stderr = stderr
        self.sleep = sleep
        self.progress = _Progress(stdout)
        self.prediction_id: str | None = None

    async def execute(
        self,
        model: str,
        model_input: Mapping[str, Any],
        out: Path | None,
        timeout: float,
        poll_interval: float,
        max_poll_interval: float,
    ) -> int:
        loop = asyncio.get_running_loop()
        started = loop.time()
        deadline = started + timeout
        prediction = await self.client.create(model, model_input)
        self.prediction_id = prediction.id
        print(f"Prediction {prediction.id} created ({model}).", file=self.stdout)
        interval = poll_interval
        while not prediction.is_terminal:
            self.progress.show(prediction, loop.time() - started)
            remaining = deadline - loop.time()
            if remaining <= 0:
                self.progress.end()
                canceled = await self.cancel_quietly()
                note = "it was canceled" if canceled else "the provider may still finish it"
                _fail(
                    self.stderr,
                    f"prediction {prediction.id} did not finish within {timeout:g} s; {note}",
                )
                return 1
            await self.sleep(min(interval, remaining))
            interval = min(max_poll_interval, interval * 1.5)
            try:
                prediction = await self.client.get(
                    prediction.id, timeout=max(1.0, deadline - loop.time())
                )
            except (RateLimitedError, ProviderError, NetworkError) as exc:
                # Already retried by the client; keep polling until the deadline.
                self.progress.end()
                print(f"warning: {_one_line(exc.message)}; still polling", file=self.stderr)
        self.progress.show(prediction, loop.time() - started)
        self.progress.end()
        if not prediction.succeeded:
            _fail(self.stderr, _failure_sentence(prediction))
            return 1
        asked = model_input.get("num_outputs", 1)
        urls = prediction.outputs_for(asked if isinstance(asked, int) else 1)
        if len(urls) < len(prediction.output):
            print(
                f"warning: the API gave {len(prediction.output)} outputs; "
                f"{len(prediction.output) - len(urls)} ignored",
                file=self.stderr,
            )
        images = [await self.client.download(url) for url in urls]
        return await self._write(images, out, prediction.id)

    async def _write(self, images: list[DownloadedImage], out: Path | None, pred_id: str) -> int:
        for index, image in enumerate(images, start=1):
            path = output_path(out, pred_id, index, image.extension)
            try:
                await asyncio.to_thread(path.write_bytes, image.data)
            except OSError as exc:
                _fail(self.stderr, f"could not write {path}: {exc.strerror or exc}")
                return 1
            size = f"{image.width}x{image.height}" if image.width else "unknown size"
            print(
                f"Wrote {path} ({image.extension}, {size}, {len(image.data)} bytes)",
                file=self.stdout,
            )
        return 0

    async def cancel_quietly(self) -> bool:
        """Best-effort cancel; True when the API accepted it."""
        if self.prediction_id is None:
            return False
        try:
            return await asyncio.wait_for(self.client.cancel(self.prediction_id), 10)
        except (CometAPIError, TimeoutError):
            return False


def _failure_sentence(prediction: Prediction) -> str:
    kind = prediction.failure_kind
    reason = f": {_one_line(prediction.error)}" if prediction.error else ""
    if kind == "canceled":
        return f"prediction {prediction.id} was canceled"
    if kind == "safety":
        return f"prediction {prediction.id} was blocked by the provider's safety filter{reason}"
    if not prediction.output and prediction.status.value == "succeeded":
        return f"prediction {prediction.id} succeeded but gave no image"
    return f"prediction {prediction.id} {prediction.status.value}{reason}"


def _convert(raw: str) -> Any:
    lowered = raw.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if _INT.fullmatch(raw):
        return int(raw)
    if _FLOAT.fullmatch(raw):
        return float(raw)
    return raw


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _fail(stderr: TextIO, sentence: str) -> None:
    print(f"error: {sentence}", file=stderr)
