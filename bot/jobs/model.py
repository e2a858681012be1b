"""The job record: one request from a user, from acceptance to delivery."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from bot.jobs.costs import estimate_micros


class JobStatus(StrEnum):
    QUEUED = "queued"
    SUBMITTING = "submitting"
    RUNNING = "running"
    DELIVERING = "delivering"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"
    TIMED_OUT = "timed_out"
    EXPIRED = "expired"
    REFUSED = "refused"


ACTIVE_STATUSES = frozenset(
    {JobStatus.QUEUED, JobStatus.SUBMITTING, JobStatus.RUNNING, JobStatus.DELIVERING}
)
TERMINAL_STATUSES = frozenset(
    {
        JobStatus.SUCCEEDED,
        JobStatus.FAILED,
        JobStatus.CANCELED,
        JobStatus.TIMED_OUT,
        JobStatus.EXPIRED,
        JobStatus.REFUSED,
    }
)


@dataclass(frozen=True)
class NewJob:
    """What the Discord layer knows when a command is accepted (or refused)."""

    # How the request was made, and for a job made from another one, how it relates to its
    # parent: "imagine" | "edit" | "blend" | "reroll" | "edit_result" | "vary_subtle" |
    # "vary_strong" | "remix".
    kind: str
    user_id: int
    guild_id: int | None
    channel_id: int | None
    model: str
    prompt: str
    input: dict[str, Any]
    image_count: int
    locale: str = "en-US"
    application_id: int | None = None
    interaction_id: int | None = None
    interaction_token: str | None = None
    token_expires_at: float | None = None
    parent_id: int | None = None
    upload_limit: int | None = None
    parent_image: int | None = None  # which image of the parent's result (1 for the first)
    # The model's price when the request is made, in micro-dollars per "image" or "request"
    # (bot.money); None: unknown, and then so is the job's cost.
    price_micros: int | None = None
    price_unit: str | None = None

    @property
    def cost_estimate(self) -> int | None:
        """What this request will cost, in micro-dollars, from the images it asks for."""
        return estimate_micros(self.price_micros, self.price_unit, self.image_count)

    style: str | None = None  # the server style the request used, by name
    spoiler: bool = False  # the images are uploaded as spoilers
    # Preferences the request could not use, and why (`bot.policy.ladder.Note.as_dict`).
    notes: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class Job:
    id: int
    status: JobStatus
    kind: str
    user_id: int
    guild_id: int | None
    channel_id: int | None
    locale: str
    model: str
    prompt: str
    input: dict[str, Any]
    image_count: int
    created_at: float
    updated_at: float
    application_id: int | None = None
    interaction_id: int | None = None
    interaction_token: str | None = field(default=None, repr=False)
    token_expires_at: float | None = None
    message_id: int | None = None
    parent_id: int | None = None
    prediction_id: str | None = None
    attempts: int = 0
    submitted_at: float | None = None
    started_at: float | None = None
    finished_at: float | None = None
    delivered_at: float | None = None
    deadline_at: float | None = None
    provider_seconds: float | None = None
    output_count: int = 0
    error_kind: str | None = None
    error_message: str | None = None
    refusal_reason: str | None = None
    refusal_detail: str | None = None
    result_message_id: int | None = None
    result_attachments: list[dict[str, Any]] = field(default_factory=list)
    delivery_method: str | None = None
    notified: bool = False
    lease_owner: str | None = None
    lease_expires_at: float | None = None
    upload_limit: int | None = None
    parent_image: int | None = None
    erased_at: float | None = None  # prompt, input and details erased (RETENTION_DAYS)
    # Costs in micro-dollars (bot.jobs.costs): the price admitted at, the estimate made then,
    # and `cost_micros`, what the job counts now (the estimate while it runs, the settled
    # figure once it ended; None: unknown). `provider_images` is how many images the provider
    # said it made, once it said how the prediction ended.
    price_micros: int | None = None
    price_unit: str | None = None
    cost_estimated_micros: int | None = None
    cost_micros: int | None = None
    provider_images: int | None = None
    style: str | None = None
    spoiler: bool = False
    notes: tuple[dict[str, Any], ...] = ()

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES

    @property
    def seed(self) -> int | None:
        value = self.input.get("seed")
        return value if isinstance(value, int) else None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Job:
        data = dict(row)
        data["status"] = JobStatus(data["status"])
        data["input"] = json.loads(data.pop("input_json") or "{}")
        data["result_attachments"] = json.loads(data.pop("result_attachments_json") or "[]")
        data["notified"] = bool(data["notified"])
        data["spoiler"] = bool(data.get("spoiler") or 0)
        data["notes"] = tuple(json.loads(data.pop("notes_json", None) or "[]"))
        return cls(**data)
