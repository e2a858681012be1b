"""What the scheduler tells the outside world, and what it asks of the Discord layer.

No Discord here: the Discord layer implements `JobPresenter`; tests use a recording one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

from bot.jobs.model import Job

if TYPE_CHECKING:
    from bot.cometapi import DownloadedImage

# JobEvent.kind values.
QUEUED = "queued"  # with the job's new queue position
STARTED = "started"  # the prediction was created
PROGRESS = "progress"  # with progress 0..1 (emitted on changes of at least 1%)
DELIVERING = "delivering"  # the prediction succeeded; outputs are being downloaded and sent
SUCCEEDED = "succeeded"
FAILED = "failed"
CANCELED = "canceled"
TIMED_OUT = "timed_out"
EXPIRED = "expired"
EVENT_KINDS = frozenset(
    {QUEUED, STARTED, PROGRESS, DELIVERING, SUCCEEDED, FAILED, CANCELED, TIMED_OUT, EXPIRED}
)


@dataclass(frozen=True)
class JobEvent:
    kind: str
    job: Job
    position: int | None = None
    progress: float | None = None
    # When the image is expected (epoch seconds), on queued, started and progress events;
    # None when there is no honest estimate (`bot.jobs.eta`).
    eta: float | None = None


@dataclass(frozen=True)
class DeliveryReceipt:
    """Where the result landed; the scheduler stores it on the job."""

    message_id: int | None
    attachments: list[dict[str, Any]] = field(default_factory=list)  # [{"id", "filename"}]
    method: str = "token"  # "token" | "channel" | "new_message" | "dm"


class DeliveryError(Exception):
    """The presenter could not deliver. Transient ones are retried with backoff.

    `kind` becomes the job's error_kind when the delivery is given up (e.g.
    "too_large_to_upload", permanent; or "discord_unavailable", transient).
    """

    def __init__(
        self, message: str, *, kind: str = "delivery_failed", permanent: bool = False
    ) -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind
        self.permanent = permanent


class CancelResult(StrEnum):
    DEQUEUED = "dequeued"  # it was still queued: nothing reached the provider
    CANCELED_REMOTE = "canceled_remote"  # the provider accepted the cancel
    CANCELED_LOCAL = "canceled_local"  # no cancel route: we stopped, the provider may finish
    ALREADY_FINISHED = "already_finished"  # finished (or being delivered) before the cancel
    NOT_FOUND = "not_found"


class JobPresenter(Protocol):
    """Implemented by the Discord layer: how a job's state reaches its user."""

    async def progress(self, job: Job, event: JobEvent) -> None:
        """Best effort (queue position, started, progress %); exceptions are logged."""
        ...

    async def deliver(self, job: Job, images: Sequence[DownloadedImage]) -> DeliveryReceipt:
        """Send the result; raise DeliveryError (transient ones are retried)."""
        ...

    async def finish(self, job: Job) -> None:
        """A terminal non-success (failed/canceled/timed_out/expired); raise to be retried."""
        ...


EventListener = Callable[[JobEvent], Awaitable[None]]
