"""The prediction snapshot: one immutable reading of a prediction's state, parsed defensively."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from bot.cometapi.errors import UnexpectedResponseError
from bot.cometapi.progress import mentions_safety_filter, parse_progress, parse_seed


class PredictionStatus(StrEnum):
    STARTING = "starting"
    PROCESSING = "processing"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"
    ABORTED = "aborted"
    UNKNOWN = "unknown"


TERMINAL_STATUSES = frozenset(
    {
        PredictionStatus.SUCCEEDED,
        PredictionStatus.FAILED,
        PredictionStatus.CANCELED,
        PredictionStatus.ABORTED,
    }
)

# Spellings used by gateways of this family besides Replicate's own; anything else is UNKNOWN
# (and so treated as still running until the job's deadline).
_STATUS_ALIASES = {
    "starting": PredictionStatus.STARTING,
    "queued": PredictionStatus.STARTING,
    "pending": PredictionStatus.STARTING,
    "submitted": PredictionStatus.STARTING,
    "not_start": PredictionStatus.STARTING,
    "processing": PredictionStatus.PROCESSING,
    "running": PredictionStatus.PROCESSING,
    "in_progress": PredictionStatus.PROCESSING,
    "succeeded": PredictionStatus.SUCCEEDED,
    "success": PredictionStatus.SUCCEEDED,
    "failed": PredictionStatus.FAILED,
    "failure": PredictionStatus.FAILED,
    "canceled": PredictionStatus.CANCELED,
    "cancelled": PredictionStatus.CANCELED,
    "aborted": PredictionStatus.ABORTED,
}

# The most outputs the bot ever takes from one prediction, whatever it asked for and whatever
# the API answers: a Discord message holds at most 10 attachments.
MAX_OUTPUTS = 10

_EMPTY: Mapping[str, Any] = MappingProxyType({})
_PREDICTION_KEYS = frozenset({"id", "status", "output", "input", "logs", "error"})


@dataclass(frozen=True)
class Prediction:
    id: str
    model: str | None
    status: PredictionStatus
    raw_status: str
    input: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
    output: tuple[str, ...] = ()
    error: str | None = None
    logs: str = ""
    created_at: float | None = None
    started_at: float | None = None
    completed_at: float | None = None
    predict_time: float | None = None
    image_count: int | None = None
    data_removed: bool = False

    @property
    def is_terminal(self) -> bool:
        """Stop polling: a terminal status, an error, or outputs (per the API notes)."""
        return self.status in TERMINAL_STATUSES or self.error is not None or bool(self.output)

    @property
    def succeeded(self) -> bool:
        """There is something to deliver: outputs, no error, and no failure status.

        A `succeeded` status with no output is not a success: there is nothing to show.
        """
        return (
            bool(self.output)
            and self.error is None
            and self.status
            not in (PredictionStatus.FAILED, PredictionStatus.CANCELED, PredictionStatus.ABORTED)
        )

    def outputs_for(self, requested: int) -> tuple[str, ...]:
        """The output URLs to fetch for a job that asked for `requested` images.

        The API is not trusted for the count: at most what was asked (at least one, at most
        MAX_OUTPUTS), first ones first; the caller logs how many it leaves.
        """
        return self.output[: max(1, min(requested, MAX_OUTPUTS))]

    @property
    def progress(self) -> float | None:
        """0..1 from the last `N/M` or `N%` in the logs; 1.0 once succeeded."""
        if self.succeeded:
            return 1.0
        value = parse_progress(self.logs)
        return None if value is None else min(1.0, max(0.0, value))

    @property
    def seed(self) -> int | None:
        """The seed the model used (`Using seed: N`), else the one asked for in the input."""
        seed = parse_seed(self.logs)
        if seed is None:
            asked = self.input.get("seed")
            if isinstance(asked, int) and not isinstance(asked, bool):
                seed = asked
        return seed

    @property
    def failure_kind(self) -> str | None:
        """None while running or on success; else "canceled", "safety" or "failed"."""
        if not self.is_terminal or self.succeeded:
            return None
        if self.status is PredictionStatus.CANCELED:
            return "canceled"
        if mentions_safety_filter(self.error or "") or mentions_safety_filter(self.logs):
            return "safety"
        return "failed"

    @classmethod
    def from_json(cls, body: Any) -> Prediction:
        """Build a snapshot from a decoded JSON answer, tolerating every known variation.

        Raises UnexpectedResponseError when the body is not an object at all.
        """
        obj = _unwrap(body)
        if not isinstance(obj, Mapping):
            raise UnexpectedResponseError(f"expected a prediction object, got {type(obj).__name__}")
        raw_status = _text(obj.get("status")) or ""
        status = _STATUS_ALIASES.get(raw_status.strip().lower(), PredictionStatus.UNKNOWN)
        metrics = obj.get("metrics")
        if not isinstance(metrics, Mapping):
            metrics = _EMPTY
        error = obj.get("error")
        raw_input = obj.get("input")
        image_count = _number(metrics.get("image_count"))
        return cls(
            id=_text(obj.get("id")) or "",
            model=_text(obj.get("model")),
            status=status,
            raw_status=raw_status,
            input=MappingProxyType(dict(raw_input)) if isinstance(raw_input, Mapping) else _EMPTY,
            output=_normalise_output(obj.get("output")),
            # An empty error string is no error; a structured error is kept readable.
            error=(_text(error) or None) if error is not None else None,
            logs=_text(obj.get("logs")) or "",
            created_at=_timestamp(obj.get("created_at")),
            started_at=_timestamp(obj.get("started_at")),
            completed_at=_timestamp(obj.get("completed_at")),
            predict_time=_number(metrics.get("predict_time")),
            image_count=int(image_count) if image_count is not None else None,
            data_removed=obj.get("data_removed") is True
            or str(obj.get("data_removed")).lower() == "true",
        )


def _unwrap(body: Any) -> Any:
    """Peel `{"data": {...}}` wrappers, including `{"data": {"status": "SUCCESS", "data": {...}}}`.

    A level is peeled when it has no `status` of its own, or when it lacks an `id` but its
    `data` looks like a prediction (the gateway's task status sits beside the prediction).
    """
    for _ in range(4):
        if not isinstance(body, Mapping):
            return body
        inner = body.get("data")
        if not isinstance(inner, Mapping):
            return body
        if "status" not in body or ("id" not in body and _PREDICTION_KEYS & inner.keys()):
            body = inner
            continue
        return body
    return body


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        # e.g. {"message": "..."} or {"detail": "..."}
        for key in ("message", "detail", "error"):
            if isinstance(value.get(key), str):
                return str(value[key])
    return str(value)


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _timestamp(value: Any) -> float | None:
    """Epoch seconds from ISO-8601 (with Z, any fraction digits) or a number (s or ms)."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
        return number / 1000 if number > 1e11 else number  # milliseconds since the epoch
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return _number(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def _normalise_output(value: Any) -> tuple[str, ...]:
    """A list of URLs (flux-schnell/dev) or one URL string (the others) → a tuple of URLs."""
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,) if value.strip() else ()
    if isinstance(value, Mapping):
        value = list(value.values())
    if isinstance(value, Iterable):
        urls: list[str] = []
        for item in value:
            if isinstance(item, str) and item.strip():
                urls.append(item)
            elif isinstance(item, list | tuple):
                urls.extend(x for x in item if isinstance(x, str) and x.strip())
        return tuple(urls)
    return ()
