"""The OpenAPI checks the fake applies to every request."""

from __future__ import annotations

from tests.fakes.discord.spec import (
    KNOWN_DISCREPANCIES,
    discord_form_errors,
    load_spec,
    normalise,
)

CALLBACK = "/interactions/{interaction_id}/{interaction_token}/callback"


def test_routes_prefer_literal_segments() -> None:
    """`/messages/@original` matches its own route, not `/messages/{message_id}`."""
    spec = load_spec()
    original = spec.match("PATCH", "/webhooks/1/tok/messages/@original")
    by_id = spec.match("PATCH", "/webhooks/1/tok/messages/55")
    assert original is not None and original.template.endswith("/@original")
    assert by_id is not None and by_id.params["message_id"] == "55"
    assert spec.match("GET", "/no/such/route") is None
    assert spec.match("PUT", "/gateway") is None and spec.path_exists("/gateway")


def test_union_errors_point_at_the_bad_field() -> None:
    """A bad callback body is explained at the field, not as 'matches no anyOf branch'."""
    spec = load_spec()
    route = spec.match("POST", "/interactions/1/tok/callback")
    assert route is not None and route.template == CALLBACK
    [violation] = spec.validate(route, {"type": 4, "data": {"content": "x" * 2001}})
    assert violation.path == ("data", "content") and violation.code == "BASE_TYPE_MAX_LENGTH"
    assert spec.validate(route, {"type": 4, "data": {"content": "fine"}}) == []
    errors = discord_form_errors([violation])
    assert errors["data"]["content"]["_errors"][0]["code"] == "BASE_TYPE_MAX_LENGTH"


def test_known_discrepancies_are_normalised_and_nothing_else() -> None:
    """Integer snowflakes where discord.py sends them pass; elsewhere they still fail."""
    spec = load_spec()
    create = spec.match("POST", "/channels/1/messages")
    assert create is not None
    body = {
        "content": "hi",
        "attachments": [{"id": 0, "filename": "a.png"}],
        "allowed_mentions": {"parse": [], "users": [123]},
        "message_reference": {"message_id": 5, "channel_id": 1},
    }
    assert spec.validate(create, body) == []
    raw = {v.path for v in spec.validate(create, body, discrepancies=())}
    assert raw == {
        ("attachments", 0, "id"),
        ("allowed_mentions", "users", 0),
        ("message_reference", "message_id"),
        ("message_reference", "channel_id"),
    }
    # Not on the allow-list: an integer sticker id is still a violation.
    assert spec.validate(create, {"content": "hi", "sticker_ids": [5]})
    assert all(d.why for d in KNOWN_DISCREPANCIES)
    assert normalise("POST /users/@me/channels", {"recipient_id": 7}) == {"recipient_id": "7"}
    assert normalise("GET /users/@me", {"recipient_id": 7}) == {"recipient_id": 7}
