"""What the fake remembers: every request the bot made, and every interaction a test injected."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .harness import FakeDiscord
    from .models import FakeMessage, FakeUser

# Interaction types and callback types (https://discord.com/developers/docs/interactions).
PING, APPLICATION_COMMAND, MESSAGE_COMPONENT, AUTOCOMPLETE, MODAL_SUBMIT = 1, 2, 3, 4, 5
CHANNEL_MESSAGE = 4
DEFERRED_CHANNEL_MESSAGE = 5
DEFERRED_UPDATE_MESSAGE = 6
UPDATE_MESSAGE = 7
AUTOCOMPLETE_RESULT = 8
MODAL = 9


class DiscordError(Exception):
    """An error answer in Discord's shape: `{"code": ..., "message": ..., "errors"?: ...}`."""

    def __init__(
        self,
        status: int,
        code: int,
        message: str,
        *,
        errors: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        body: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(f"{status} {code} {message}")
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors
        self.headers = headers or {}
        self._body = body

    def body(self) -> dict[str, Any]:
        if self._body is not None:
            return self._body
        data: dict[str, Any] = {"message": self.message, "code": self.code}
        if self.errors is not None:
            data["errors"] = self.errors
        return data


@dataclass(frozen=True)
class UploadedFile:
    """One `files[n]` part of a multipart request, bytes kept."""

    field: str
    filename: str
    data: bytes
    content_type: str | None

    @property
    def index(self) -> int | None:
        if self.field.startswith("files[") and self.field.endswith("]"):
            inner = self.field[6:-1]
            return int(inner) if inner.isdigit() else None
        return None


@dataclass(eq=False)
class RecordedRequest:
    """One REST request the bot made, what the fake answered, and what was wrong with it."""

    method: str
    path: str  # relative to /api/v10, e.g. /channels/123/messages
    route: str | None  # the spec's template, e.g. /channels/{channel_id}/messages
    query: dict[str, str]
    json: Any  # the JSON body, or the multipart payload_json
    files: list[UploadedFile]
    time: float  # monotonic, when it arrived
    authorized: bool  # carried the bot token
    params: dict[str, str] = field(default_factory=dict)
    status: int = 0
    response: Any = None
    violations: list[str] = field(default_factory=list)
    fault: str | None = None  # the injected fault that answered it, if any
    interaction: FakeInteraction | None = None
    completed: bool = False  # answered (status and response are final)

    @property
    def key(self) -> str:
        return f"{self.method} {self.route or self.path}"

    @property
    def token(self) -> str | None:
        return self.params.get("webhook_token") or self.params.get("interaction_token")

    @property
    def message_body(self) -> dict[str, Any] | None:
        """The message fields sent: the body itself, or an interaction callback's `data`."""
        if not isinstance(self.json, dict):
            return None
        if self.route and self.route.endswith("/callback"):
            data = self.json.get("data")
            return data if isinstance(data, dict) else None
        return self.json

    @property
    def allowed_mentions(self) -> dict[str, Any] | None:
        body = self.message_body
        return None if body is None else body.get("allowed_mentions")

    def __repr__(self) -> str:
        extra = f" violations={self.violations}" if self.violations else ""
        fault = f" fault={self.fault}" if self.fault else ""
        token = self.token
        path = self.path.replace(token, token[:12] + "…") if token else self.path
        return f"<RecordedRequest {self.method} {path} -> {self.status}{fault}{extra}>"


@dataclass(eq=False)
class GatewayEvent:
    """Something that happened on the gateway: identify, resume, a dispatch, a drop."""

    kind: str  # IDENTIFY, RESUME, READY, RESUMED, INVALID_SESSION, DISPATCH, CLOSED, DROPPED
    shard: tuple[int, int] | None
    session_id: str | None
    time: float
    event: str | None = None  # the dispatch name, for DISPATCH


@dataclass(eq=False)
class FakeInteraction:
    """An interaction the test injected, and everything the bot did with its token."""

    id: int
    token: str
    type: int
    payload: dict[str, Any]
    user: FakeUser
    channel_id: int
    guild_id: int | None
    injected_at: float
    fake: FakeDiscord = field(repr=False)
    # Resolves with the first successful callback request (created inside the running loop).
    first_callback: asyncio.Future[RecordedRequest] = field(
        repr=False, default_factory=lambda: asyncio.get_running_loop().create_future()
    )
    dispatched_at: float | None = None
    acknowledged_at: float | None = None
    callback_type: int | None = None
    callback: RecordedRequest | None = None
    original_message_id: int | None = None
    component_message_id: int | None = None  # the message a button/select/modal came from
    modal: dict[str, Any] | None = None  # the modal the bot answered with (callback type 9)
    autocomplete_choices: list[dict[str, Any]] | None = None
    followup_ids: list[int] = field(default_factory=list)
    expires_at: float | None = None  # monotonic; webhook calls after it get 401 50027
    attachment_size_limit: int = 10 * 1024 * 1024
    missed_deadline: bool = False  # the first callback came after Discord's 3 seconds

    @property
    def data(self) -> dict[str, Any]:
        return self.payload.get("data", {})

    @property
    def callback_latency(self) -> float | None:
        """Seconds from injection to the first callback, or None while unanswered."""
        if self.acknowledged_at is None:
            return None
        return self.acknowledged_at - self.injected_at

    def responses(self) -> list[RecordedRequest]:
        """Every request made with this interaction's token (callback, edits, follow-ups)."""
        return [r for r in self.fake.requests if r.token == self.token]

    @property
    def original_message(self) -> FakeMessage | None:
        """The message the response created (or, for a component, the message it updated)."""
        if self.original_message_id is None:
            return None
        return self.fake.messages.get(self.original_message_id)

    @property
    def followups(self) -> list[FakeMessage]:
        return [self.fake.messages[m] for m in self.followup_ids if m in self.fake.messages]

    async def wait_callback(self, timeout: float = 10) -> RecordedRequest:
        return await asyncio.wait_for(asyncio.shield(self.first_callback), timeout)

    async def wait_for(
        self, predicate: Callable[[RecordedRequest], bool], *, timeout: float = 10
    ) -> RecordedRequest:
        """The first request with this token that satisfies `predicate` (waits for it)."""
        return await self.fake.wait_for(
            lambda r: r.token == self.token and predicate(r), timeout=timeout
        )

    async def wait_original_edit(self, timeout: float = 10) -> RecordedRequest:
        """The first successful edit of the original response (after a defer, the result)."""
        return await self.wait_for(
            lambda r: (
                r.method == "PATCH"
                and r.route is not None
                and r.route.endswith("@original")
                and r.status == 200
            ),
            timeout=timeout,
        )


__all__ = [
    "APPLICATION_COMMAND",
    "AUTOCOMPLETE",
    "AUTOCOMPLETE_RESULT",
    "CHANNEL_MESSAGE",
    "DEFERRED_CHANNEL_MESSAGE",
    "DEFERRED_UPDATE_MESSAGE",
    "MESSAGE_COMPONENT",
    "MODAL",
    "MODAL_SUBMIT",
    "UPDATE_MESSAGE",
    "DiscordError",
    "FakeInteraction",
    "GatewayEvent",
    "RecordedRequest",
    "UploadedFile",
]
