"""Assertions about mentions: what a request allowed, and whom a message really pinged.

Two questions, two kinds of helper:
- did the bot *ask* Discord not to parse mentions? (`allowed_mentions` on the request)
- did anyone actually get *pinged*? (`FakeMessage.pings`, computed from the content and the
  allowed_mentions the way Discord does, at the moment the message was really sent)
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .harness import FakeDiscord
from .models import FakeMessage, FakeRole, FakeUser, Pings
from .records import RecordedRequest

_MESSAGE_ROUTES = (
    "POST /channels/{channel_id}/messages",
    "PATCH /channels/{channel_id}/messages/{message_id}",
    "POST /webhooks/{webhook_id}/{webhook_token}",
    "PATCH /webhooks/{webhook_id}/{webhook_token}/messages/@original",
    "PATCH /webhooks/{webhook_id}/{webhook_token}/messages/{message_id}",
    "POST /interactions/{interaction_id}/{interaction_token}/callback",
)


def _ids(items: Iterable[FakeUser | FakeRole | int]) -> set[int]:
    return {i if isinstance(i, int) else i.id for i in items}


def _allowed(subject: RecordedRequest | FakeMessage) -> dict[str, Any] | None:
    if isinstance(subject, FakeMessage):
        return subject.allowed_mentions
    return subject.allowed_mentions


def assert_allows_no_mentions(subject: RecordedRequest | FakeMessage) -> None:
    """The request (or the message's last request) parsed no mentions at all."""
    allowed = _allowed(subject)
    assert allowed is not None, (
        f"{subject!r} sent no allowed_mentions, so Discord parses every mention"
    )
    assert not allowed.get("parse"), f"{subject!r} lets Discord parse {allowed.get('parse')}"
    assert not allowed.get("users") and not allowed.get("roles"), f"{subject!r} allows {allowed}"
    assert not allowed.get("replied_user"), f"{subject!r} pings the replied user"


def assert_allows_only(
    subject: RecordedRequest | FakeMessage,
    *,
    users: Iterable[FakeUser | int] = (),
    roles: Iterable[FakeRole | int] = (),
) -> None:
    """The request allowed exactly these users/roles to be pinged and parsed nothing else."""
    allowed = _allowed(subject)
    assert allowed is not None, (
        f"{subject!r} sent no allowed_mentions, so Discord parses every mention"
    )
    assert not allowed.get("parse"), f"{subject!r} lets Discord parse {allowed.get('parse')}"
    assert {int(u) for u in allowed.get("users") or []} == _ids(users), (
        f"{subject!r} allows users {allowed.get('users')}"
    )
    assert {int(r) for r in allowed.get("roles") or []} == _ids(roles), (
        f"{subject!r} allows roles {allowed.get('roles')}"
    )


def assert_pinged(
    message: FakeMessage,
    *,
    users: Iterable[FakeUser | int] = (),
    roles: Iterable[FakeRole | int] = (),
    everyone: bool = False,
) -> None:
    """The message notified exactly these users/roles (and @everyone only if `everyone`)."""
    expected = Pings(frozenset(_ids(users)), frozenset(_ids(roles)), everyone)
    assert message.pings is not None, f"message {message.id} was never sent (still loading?)"
    assert message.pings == expected, (
        f"message {message.id} pinged {message.pings}, expected {expected}"
    )


def assert_pinged_nobody(message: FakeMessage) -> None:
    assert_pinged(message)


def message_requests(fake: FakeDiscord) -> list[RecordedRequest]:
    """Every successful request that created or edited a message."""
    return [
        r
        for r in fake.requests
        if r.route is not None
        and f"{r.method} {r.route}" in _MESSAGE_ROUTES
        and 200 <= r.status < 300
        and r.message_body is not None
    ]


def assert_no_mass_mentions(
    fake: FakeDiscord, *, allowed_users: Iterable[FakeUser | int] = ()
) -> None:
    """No message request parsed @everyone or roles, or allowed users outside `allowed_users`."""
    permitted = _ids(allowed_users)
    for request in message_requests(fake):
        allowed = request.allowed_mentions
        assert allowed is not None, (
            f"{request!r} sent no allowed_mentions (Discord would parse everything)"
        )
        assert not allowed.get("parse"), f"{request!r} lets Discord parse {allowed.get('parse')}"
        assert not allowed.get("roles"), f"{request!r} allows role pings {allowed.get('roles')}"
        extra = {int(u) for u in allowed.get("users") or []} - permitted
        assert not extra, f"{request!r} allows pings of users {sorted(extra)}"
    for message in fake.messages.values():
        if message.author.id == fake.bot_user.id and message.pings is not None:
            assert not message.pings.everyone and not message.pings.roles, (
                f"message {message.id} pinged {message.pings}"
            )
            assert message.pings.users <= permitted, f"message {message.id} pinged {message.pings}"


__all__ = [
    "assert_allows_no_mentions",
    "assert_allows_only",
    "assert_no_mass_mentions",
    "assert_pinged",
    "assert_pinged_nobody",
    "message_requests",
]
