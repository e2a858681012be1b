"""Prediction.from_json is defensive and its properties follow the API notes."""

from __future__ import annotations

from typing import Any

import pytest

from bot.cometapi import Prediction, PredictionStatus, UnexpectedResponseError

URL = "https://replicate.delivery/xezq/abc/out-0.webp"


def real_answer(**changes: Any) -> dict[str, Any]:
    """A succeeded flux-schnell answer as Replicate documents it."""
    body: dict[str, Any] = {
        "id": "gm3qorzdhgbfurvjtvhg6dckhu",
        "model": "black-forest-labs/flux-schnell",
        "version": "hidden",
        "input": {"prompt": "a cat", "seed": 7},
        "logs": "Using seed: 7\n100%|██████████| 4/4 [00:00<00:00,  3.79it/s]\nTotal safe images: 1 out of 1\n",
        "output": [URL],
        "data_removed": False,
        "error": None,
        "status": "succeeded",
        "created_at": "2024-11-01T10:00:00.123456789Z",
        "started_at": "2024-11-01T10:00:01Z",
        "completed_at": "2024-11-01T10:00:03.5Z",
        "urls": {"get": "https://api.replicate.com/v1/predictions/gm3q"},
        "metrics": {"predict_time": 2.5, "image_count": 1},
        "source": "api",
    }
    body.update(changes)
    return body


def test_a_real_answer_parses_completely() -> None:
    """Every documented field lands in the snapshot with the right type."""
    p = Prediction.from_json(real_answer())
    assert p.id == "gm3qorzdhgbfurvjtvhg6dckhu" and p.model == "black-forest-labs/flux-schnell"
    assert p.status is PredictionStatus.SUCCEEDED and p.raw_status == "succeeded"
    assert p.output == (URL,) and p.error is None
    assert p.input["prompt"] == "a cat"
    assert p.created_at == pytest.approx(1730455200.123456)
    assert p.started_at == 1730455201.0 and p.completed_at == 1730455203.5
    assert p.predict_time == 2.5 and p.image_count == 1 and p.data_removed is False
    assert p.is_terminal and p.succeeded and p.seed == 7 and p.progress == 1.0


def test_a_sparse_answer_does_not_raise() -> None:
    """Missing fields give neutral values, not exceptions."""
    p = Prediction.from_json({"id": "x"})
    assert p.status is PredictionStatus.UNKNOWN and p.raw_status == ""
    assert p.output == () and p.logs == "" and p.error is None and dict(p.input) == {}
    assert p.created_at is None and p.predict_time is None and p.image_count is None
    assert not p.is_terminal and p.progress is None and p.seed is None


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        (URL, (URL,)),
        ([URL, URL + "2"], (URL, URL + "2")),
        (None, ()),
        ("", ()),
        ([], ()),
        ([None, URL, ""], (URL,)),
        ({"image": URL}, (URL,)),
        ([[URL]], (URL,)),
    ],
)
def test_output_is_normalised_to_a_tuple_of_urls(output: Any, expected: tuple[str, ...]) -> None:
    """One string, a list, nothing, or odd shapes all become a tuple of URLs."""
    assert Prediction.from_json(real_answer(output=output)).output == expected


def test_single_and_double_data_wrappers_are_peeled() -> None:
    """{"data": {...}} and {"data": {"status": "SUCCESS", "data": {...}}} give the inner prediction."""
    inner = real_answer()
    once = Prediction.from_json({"data": inner})
    twice = Prediction.from_json({"code": "success", "data": {"status": "SUCCESS", "data": inner}})
    assert once == Prediction.from_json(inner) == twice


def test_a_prediction_with_a_data_field_is_not_peeled() -> None:
    """A top-level prediction (it has status and id) is read as is."""
    p = Prediction.from_json(real_answer(data={"status": "x"}))
    assert p.id == "gm3qorzdhgbfurvjtvhg6dckhu"


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        ("SUCCESS", PredictionStatus.SUCCEEDED),
        ("cancelled", PredictionStatus.CANCELED),
        ("Processing", PredictionStatus.PROCESSING),
        ("queued", PredictionStatus.STARTING),
        ("aborted", PredictionStatus.ABORTED),
        ("something-new", PredictionStatus.UNKNOWN),
    ],
)
def test_status_spellings(raw: str, status: PredictionStatus) -> None:
    """Gateway spellings map to the enum; an unknown one is UNKNOWN and keeps its raw text."""
    p = Prediction.from_json({"id": "x", "status": raw})
    assert p.status is status and p.raw_status == raw


@pytest.mark.parametrize("body", [None, [1, 2], "text", 5])
def test_not_an_object_is_an_unexpected_response(body: Any) -> None:
    """A body that is not a JSON object is a typed error, not an AttributeError."""
    with pytest.raises(UnexpectedResponseError):
        Prediction.from_json(body)


def test_terminal_rules() -> None:
    """Terminal on a terminal status, on an error, or on outputs — even if the status lags."""
    assert Prediction.from_json({"id": "x", "status": "processing", "output": URL}).is_terminal
    errored = Prediction.from_json({"id": "x", "status": "processing", "error": "boom"})
    assert errored.is_terminal and not errored.succeeded and errored.failure_kind == "failed"
    assert not Prediction.from_json({"id": "x", "status": "processing", "error": ""}).is_terminal
    assert Prediction.from_json({"id": "x", "status": "aborted"}).failure_kind == "failed"


def test_succeeded_without_output_is_not_a_success() -> None:
    """status succeeded with no output leaves nothing to deliver: a failure, of safety when the logs say so."""
    empty = Prediction.from_json({"id": "x", "status": "succeeded", "output": []})
    assert empty.is_terminal and not empty.succeeded and empty.failure_kind == "failed"
    filtered = Prediction.from_json(
        {"id": "x", "status": "succeeded", "output": [], "logs": "Total safe images: 0 out of 1"}
    )
    assert filtered.failure_kind == "safety"


@pytest.mark.parametrize(
    "error",
    [
        "All generated images contained NSFW content. Try running it again with a different prompt.",
        "Prediction failed: Your input was flagged as sensitive. Please try again. (E005)",
        "Output blocked by the safety filter",
    ],
)
def test_safety_failures(error: str) -> None:
    """The provider's NSFW / safety wordings are failure_kind "safety"."""
    p = Prediction.from_json({"id": "x", "status": "failed", "error": error})
    assert p.failure_kind == "safety"


def test_an_input_error_about_safety_tolerance_is_not_a_safety_failure() -> None:
    """A field named safety_tolerance in an error is an ordinary failure."""
    p = Prediction.from_json(
        {"id": "x", "status": "failed", "error": "safety_tolerance must be at most 2"}
    )
    assert p.failure_kind == "failed"


def test_timestamps_in_other_shapes() -> None:
    """Epoch seconds, epoch milliseconds, naive ISO (UTC) and garbage are handled."""
    p = Prediction.from_json(
        {"id": "x", "created_at": 1730455200, "started_at": 1730455201500, "completed_at": "soon"}
    )
    assert p.created_at == 1730455200.0 and p.started_at == 1730455201.5 and p.completed_at is None
    naive = Prediction.from_json({"id": "x", "created_at": "2024-11-01T10:00:00"})
    assert naive.created_at == 1730455200.0


def test_odd_field_types() -> None:
    """Metrics as strings, a structured error, data_removed as text: read sensibly."""
    p = Prediction.from_json(
        {
            "id": 12,
            "status": "failed",
            "error": {"message": "bad"},
            "metrics": {"predict_time": "1.5", "image_count": "2"},
            "data_removed": "true",
            "logs": None,
            "input": "not a dict",
        }
    )
    assert p.id == "12" and p.error == "bad"
    assert p.predict_time == 1.5 and p.image_count == 2 and p.data_removed is True
    assert p.logs == "" and dict(p.input) == {}


def test_seed_falls_back_to_the_input() -> None:
    """Without `Using seed:` in the logs, the asked seed is the seed."""
    assert Prediction.from_json({"id": "x", "input": {"seed": 99}}).seed == 99
    assert Prediction.from_json({"id": "x", "input": {"seed": True}}).seed is None


def test_the_snapshot_is_immutable() -> None:
    """A snapshot cannot be changed after the fact (frozen dataclass, read-only input)."""
    p = Prediction.from_json(real_answer())
    with pytest.raises(AttributeError):
        p.status = PredictionStatus.FAILED  # type: ignore[misc]
    with pytest.raises(TypeError):
        p.input["prompt"] = "other"  # type: ignore[index]
