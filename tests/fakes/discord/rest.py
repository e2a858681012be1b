"""The fake REST API under /api/v10, and the attachment CDN.

Every request goes through the same pipeline: parse (JSON or multipart), match the route in
Discord's OpenAPI description, check the bot token where the spec requires it, apply injected
faults, validate the body against the route's schema, then run the handler. Each request is
recorded with what was answered and what was wrong with it.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import BodyPartReader, web

from . import faults as F
from .models import (
    ATTACH_FILES,
    DM,
    EPHEMERAL,
    MANAGE_MESSAGES,
    READ_MESSAGE_HISTORY,
    SEND_MESSAGES,
    VIEW_CHANNEL,
    FakeChannel,
    FakeMessage,
)
from .records import (
    APPLICATION_COMMAND,
    AUTOCOMPLETE,
    AUTOCOMPLETE_RESULT,
    CHANNEL_MESSAGE,
    DEFERRED_CHANNEL_MESSAGE,
    DEFERRED_UPDATE_MESSAGE,
    MESSAGE_COMPONENT,
    MODAL,
    MODAL_SUBMIT,
    UPDATE_MESSAGE,
    DiscordError,
    FakeInteraction,
    RecordedRequest,
    UploadedFile,
)
from .spec import RouteMatch, discord_form_errors

if TYPE_CHECKING:
    from .harness import FakeDiscord

Handler = Callable[[RecordedRequest], Awaitable[tuple[int, Any]]]

MAX_REQUEST_BYTES = 25 * 1024 * 1024  # Discord's cap on a whole upload request (non-boosted)
_ALLOWED_CALLBACKS = {
    APPLICATION_COMMAND: {CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE, MODAL},
    MESSAGE_COMPONENT: {
        CHANNEL_MESSAGE,
        DEFERRED_CHANNEL_MESSAGE,
        DEFERRED_UPDATE_MESSAGE,
        UPDATE_MESSAGE,
        MODAL,
    },
    AUTOCOMPLETE: {AUTOCOMPLETE_RESULT},
    MODAL_SUBMIT: {
        CHANNEL_MESSAGE,
        DEFERRED_CHANNEL_MESSAGE,
        DEFERRED_UPDATE_MESSAGE,
        UPDATE_MESSAGE,
    },
}
_COMMAND_NAME = re.compile(r"^[-_'\w]{1,32}$")


def json_response(
    status: int, body: Any = None, headers: dict[str, str] | None = None
) -> web.Response:
    """Discord's JSON answers carry exactly `Content-Type: application/json` (no charset)."""
    if status == 204:
        return web.Response(status=204, headers=headers)
    out = dict(headers or {})
    out["Content-Type"] = "application/json"
    return web.Response(status=status, body=json.dumps(body).encode(), headers=out)


def _truthy(value: str | None) -> bool:
    return value is not None and value.lower() in ("1", "true", "yes")


class RestApi:
    """Route handlers bound to one FakeDiscord."""

    def __init__(self, fake: FakeDiscord) -> None:
        self.fake = fake
        app, guild = (
            "/applications/{application_id}",
            "/applications/{application_id}/guilds/{guild_id}",
        )
        webhook = "/webhooks/{webhook_id}/{webhook_token}"
        self.handlers: dict[str, Handler] = {
            "GET /users/@me": self.get_me,
            "GET /oauth2/applications/@me": self.get_application,
            "GET /gateway": self.get_gateway,
            "GET /gateway/bot": self.get_gateway_bot,
            f"GET {app}/commands": self.list_commands,
            f"PUT {app}/commands": self.put_commands,
            f"POST {app}/commands": self.upsert_command,
            f"GET {app}/commands/{{command_id}}": self.get_command,
            f"PATCH {app}/commands/{{command_id}}": self.patch_command,
            f"DELETE {app}/commands/{{command_id}}": self.delete_command,
            f"GET {guild}/commands": self.list_commands,
            f"PUT {guild}/commands": self.put_commands,
            f"POST {guild}/commands": self.upsert_command,
            f"GET {guild}/commands/{{command_id}}": self.get_command,
            f"PATCH {guild}/commands/{{command_id}}": self.patch_command,
            f"DELETE {guild}/commands/{{command_id}}": self.delete_command,
            "POST /interactions/{interaction_id}/{interaction_token}/callback": self.interaction_callback,
            f"GET {webhook}/messages/@original": self.get_webhook_message,
            f"PATCH {webhook}/messages/@original": self.edit_webhook_message,
            f"DELETE {webhook}/messages/@original": self.delete_webhook_message,
            f"GET {webhook}/messages/{{message_id}}": self.get_webhook_message,
            f"PATCH {webhook}/messages/{{message_id}}": self.edit_webhook_message,
            f"DELETE {webhook}/messages/{{message_id}}": self.delete_webhook_message,
            f"POST {webhook}": self.execute_webhook,
            "GET /channels/{channel_id}": self.get_channel,
            "GET /channels/{channel_id}/messages": self.list_messages,
            "POST /channels/{channel_id}/messages": self.create_message,
            "GET /channels/{channel_id}/messages/{message_id}": self.get_message,
            "PATCH /channels/{channel_id}/messages/{message_id}": self.edit_message,
            "DELETE /channels/{channel_id}/messages/{message_id}": self.delete_message,
            "POST /channels/{channel_id}/typing": self.typing,
            "POST /users/@me/channels": self.open_dm,
            "GET /users/{user_id}": self.get_user,
            "GET /guilds/{guild_id}": self.get_guild,
            "GET /guilds/{guild_id}/channels": self.get_guild_channels,
            "GET /guilds/{guild_id}/roles": self.get_guild_roles,
            "GET /guilds/{guild_id}/members/{user_id}": self.get_member,
        }

    # -- pipeline ------------------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.StreamResponse:
        fake = self.fake
        path = "/" + request.match_info["tail"]
        record = RecordedRequest(
            method=request.method,
            path=path,
            route=None,
            query=dict(request.query),
            json=None,
            files=[],
            time=fake.clock(),
            authorized=request.headers.get("Authorization") == f"Bot {fake.token}",
        )
        fake._arrived(record)
        headers: dict[str, str] = {}
        try:
            record.json, record.files = await self._read_body(request)
            status, body = await self._process(request, record)
        except DiscordError as error:
            status, body, headers = error.status, error.body(), error.headers
        record.status, record.response = status, body
        await fake._completed(record)
        return json_response(status, body, headers)

    async def _read_body(self, request: web.Request) -> tuple[Any, list[UploadedFile]]:
        if request.content_type.startswith("multipart/"):
            payload: Any = None
            files: list[UploadedFile] = []
            reader = await request.multipart()
            async for part in reader:
                if not isinstance(part, BodyPartReader):
                    continue  # nested multipart: Discord does not take it either
                name = part.name or ""
                if name == "payload_json":
                    text = await part.text()
                    try:
                        payload = json.loads(text)
                    except ValueError:
                        raise DiscordError(
                            400, 50109, "The request body contains invalid JSON."
                        ) from None
                elif name.startswith("files[") or name == "file":
                    data = await part.read(decode=False)
                    files.append(
                        UploadedFile(
                            name,
                            part.filename or "unknown",
                            bytes(data),
                            part.headers.get("Content-Type"),
                        )
                    )
            return payload, files
        raw = await request.read()
        if not raw:
            return None, []
        try:
            return json.loads(raw), []
        except ValueError:
            raise DiscordError(400, 50109, "The request body contains invalid JSON.") from None

    async def _process(self, request: web.Request, record: RecordedRequest) -> tuple[int, Any]:
        fake = self.fake
        route = fake.spec.match(record.method, record.path)
        if route is None:
            record.violations.append(
                f"{record.method} {record.path} is not a route of Discord's API"
            )
            if fake.spec.path_exists(record.path):
                raise DiscordError(405, 0, "405: Method Not Allowed")
            raise F.not_found()
        record.route, record.params = route.template, route.params
        self._check_auth(request, record, route)
        limited = fake.faults.take_rate_limit(record.method, route.template, record.path)
        if limited is not None:
            record.fault = "rate_limit"
            raise limited.error()
        self._validate(record, route)
        handler = self.handlers.get(route.key)
        if handler is None:
            record.fault = "unimplemented"
            raise F.not_found()
        return await handler(record)

    def _check_auth(self, request: web.Request, record: RecordedRequest, route: RouteMatch) -> None:
        operation = self.fake.spec.document["paths"][route.template][route.method.lower()]
        security = operation.get("security")
        needs_bot = security is not None and {} not in security
        sent = request.headers.get("Authorization")
        if (needs_bot and not record.authorized) or (sent is not None and not record.authorized):
            raise DiscordError(401, 0, "401: Unauthorized")

    def _validate(self, record: RecordedRequest, route: RouteMatch) -> None:
        spec = self.fake.spec
        if record.json is None:
            if spec.body_required(route):
                record.violations.append(f"{route.key}: a request body is required")
                raise DiscordError(
                    400,
                    50035,
                    "Invalid Form Body",
                    errors={
                        "_errors": [
                            {"code": "BASE_TYPE_REQUIRED", "message": "This field is required"}
                        ]
                    },
                )
            return
        violations = spec.validate(route, record.json)
        record.violations.extend(f"{route.key}: {v}" for v in violations)
        extra = _semantic_problems(route.key, record.json)
        record.violations.extend(f"{route.key}: {p}" for p in extra)
        if violations or extra:
            errors = discord_form_errors(violations)
            if extra:
                errors.setdefault("_errors", []).extend(
                    {"code": "INVALID", "message": p} for p in extra
                )
            raise DiscordError(400, 50035, "Invalid Form Body", errors=errors)

    # -- login ---------------------------------------------------------------------------------

    async def get_me(self, record: RecordedRequest) -> tuple[int, Any]:
        me = self.fake.bot_user.payload()
        me.update(verified=True, mfa_enabled=False, email=None, locale="en-US", premium_type=0)
        return 200, me

    async def get_application(self, record: RecordedRequest) -> tuple[int, Any]:
        return 200, self.fake.application_payload()

    async def get_gateway(self, record: RecordedRequest) -> tuple[int, Any]:
        return 200, {"url": self.fake.gateway_url}

    async def get_gateway_bot(self, record: RecordedRequest) -> tuple[int, Any]:
        return 200, {
            "url": self.fake.gateway_url,
            "shards": self.fake.recommended_shards,
            "session_start_limit": {
                "total": 1000,
                "remaining": 999,
                "reset_after": 14_400_000,
                "max_concurrency": 1,
            },
        }

    # -- application commands ------------------------------------------------------------------

    def _scope(self, record: RecordedRequest) -> int | None:
        if int(record.params["application_id"]) != self.fake.application_id:
            raise DiscordError(403, 50001, "Missing Access")
        guild_id = record.params.get("guild_id")
        if guild_id is None:
            return None
        if int(guild_id) not in self.fake.guilds:
            raise DiscordError(403, 50001, "Missing Access")
        return int(guild_id)

    def _echo_command(
        self, scope: int | None, body: dict[str, Any], existing: list[dict[str, Any]]
    ) -> dict[str, Any]:
        kind = body.get("type") or 1
        same = next((c for c in existing if c["name"] == body["name"] and c["type"] == kind), None)
        permissions = body.get("default_member_permissions")
        echoed: dict[str, Any] = {
            "id": same["id"] if same else str(self.fake.ids.next()),
            "application_id": str(self.fake.application_id),
            "version": str(self.fake.ids.next()),
            "type": kind,
            "name": body["name"],
            "name_localizations": body.get("name_localizations"),
            "description": body.get("description") or "",
            "description_localizations": body.get("description_localizations"),
            "options": body.get("options") or [],
            "default_member_permissions": None if permissions is None else str(permissions),
            "nsfw": bool(body.get("nsfw", False)),
            "contexts": body.get("contexts"),
            "integration_types": body.get("integration_types") or [0],
        }
        if scope is None:
            echoed["dm_permission"] = body.get("dm_permission", True) is not False
        else:
            echoed["guild_id"] = str(scope)
        return echoed

    async def list_commands(self, record: RecordedRequest) -> tuple[int, Any]:
        return 200, self.fake.commands_synced.get(self._scope(record), [])

    async def put_commands(self, record: RecordedRequest) -> tuple[int, Any]:
        scope = self._scope(record)
        problems = _command_problems(record.json or [])
        if problems:
            record.violations.extend(f"{record.key}: {p}" for p in problems)
            raise DiscordError(
                400,
                50035,
                "Invalid Form Body",
                errors={
                    "_errors": [
                        {"code": "APPLICATION_COMMAND_INVALID", "message": p} for p in problems
                    ]
                },
            )
        existing = self.fake.commands_synced.get(scope, [])
        echoed = [self._echo_command(scope, c, existing) for c in record.json or []]
        self.fake.commands_synced[scope] = echoed
        self.fake.sync_count += 1
        return 200, echoed

    async def upsert_command(self, record: RecordedRequest) -> tuple[int, Any]:
        scope = self._scope(record)
        problems = _command_problems([record.json])
        if problems:
            record.violations.extend(f"{record.key}: {p}" for p in problems)
            raise DiscordError(
                400,
                50035,
                "Invalid Form Body",
                errors={
                    "_errors": [
                        {"code": "APPLICATION_COMMAND_INVALID", "message": p} for p in problems
                    ]
                },
            )
        existing = self.fake.commands_synced.get(scope, [])
        echoed = self._echo_command(scope, record.json, existing)
        rest = [c for c in existing if c["id"] != echoed["id"]]
        self.fake.commands_synced[scope] = [*rest, echoed]
        return (200 if len(rest) < len(existing) else 201), echoed

    def _command(self, record: RecordedRequest) -> tuple[int | None, dict[str, Any]]:
        scope = self._scope(record)
        found = next(
            (
                c
                for c in self.fake.commands_synced.get(scope, [])
                if c["id"] == record.params["command_id"]
            ),
            None,
        )
        if found is None:
            raise DiscordError(404, 10063, "Unknown application command")
        return scope, found

    async def get_command(self, record: RecordedRequest) -> tuple[int, Any]:
        return 200, self._command(record)[1]

    async def patch_command(self, record: RecordedRequest) -> tuple[int, Any]:
        scope, found = self._command(record)
        merged = {**found, **(record.json or {})}
        echoed = self._echo_command(scope, merged, [found])
        self.fake.commands_synced[scope] = [
            echoed if c is found else c for c in self.fake.commands_synced[scope]
        ]
        return 200, echoed

    async def delete_command(self, record: RecordedRequest) -> tuple[int, Any]:
        scope, found = self._command(record)
        self.fake.commands_synced[scope] = [
            c for c in self.fake.commands_synced[scope] if c is not found
        ]
        return 204, None

    # -- interactions --------------------------------------------------------------------------

    async def interaction_callback(self, record: RecordedRequest) -> tuple[int, Any]:
        fake = self.fake
        interaction = fake.interactions.get(record.params["interaction_token"])
        if interaction is None or str(interaction.id) != record.params["interaction_id"]:
            raise F.unknown_interaction()
        record.interaction = interaction
        now = record.time
        if interaction.acknowledged_at is not None:
            raise DiscordError(400, 40060, "Interaction has already been acknowledged.")
        started = interaction.dispatched_at
        if (
            fake.callback_deadline is not None
            and started is not None
            and now - started > fake.callback_deadline
        ):
            interaction.missed_deadline = True
            record.violations.append(
                f"interaction {interaction.id} answered after {now - started:.2f}s; Discord allows {fake.callback_deadline:.1f}s"
            )
            raise F.unknown_interaction()
        body = record.json or {}
        kind = int(body.get("type", 0))
        if kind not in _ALLOWED_CALLBACKS.get(interaction.type, set()) or (
            kind in (DEFERRED_UPDATE_MESSAGE, UPDATE_MESSAGE)
            and interaction.component_message_id is None
        ):
            record.violations.append(
                f"callback type {kind} is not valid for an interaction of type {interaction.type}"
            )
            raise DiscordError(
                400,
                50035,
                "Invalid Form Body",
                errors={
                    "type": {
                        "_errors": [
                            {
                                "code": "INTERACTION_RESPONSE_TYPE_INVALID",
                                "message": "Invalid interaction response type",
                            }
                        ]
                    }
                },
            )
        data = body.get("data") or {}
        message: FakeMessage | None = None
        if kind in (CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE):
            self._check_upload_size(record.files, interaction.attachment_size_limit)
            message = await fake._create_interaction_message(
                interaction, data, record.files, loading=kind == DEFERRED_CHANNEL_MESSAGE
            )
            interaction.original_message_id = message.id
        elif kind in (DEFERRED_UPDATE_MESSAGE, UPDATE_MESSAGE):
            interaction.original_message_id = interaction.component_message_id
            target = fake.messages.get(interaction.component_message_id or 0)
            if kind == UPDATE_MESSAGE:
                if target is None:
                    raise F.unknown_message()
                self._check_upload_size(record.files, interaction.attachment_size_limit)
                fake.store.edit(target, data, record.files, now=time.time())
                await fake._message_event("MESSAGE_UPDATE", target)
                message = target
        elif kind == MODAL:
            interaction.modal = data
        elif kind == AUTOCOMPLETE_RESULT:
            interaction.autocomplete_choices = list(data.get("choices") or [])
        fake._acknowledge(interaction, kind, record)
        if not _truthy(record.query.get("with_response")):
            return 204, None
        callback: dict[str, Any] = {
            "interaction": {
                "id": str(interaction.id),
                "type": interaction.type,
                "response_message_loading": kind == DEFERRED_CHANNEL_MESSAGE,
                "response_message_ephemeral": bool(message and message.ephemeral),
            }
        }
        if message is not None:
            callback["interaction"]["response_message_id"] = str(message.id)
            callback["resource"] = {"type": kind, "message": fake.message_payload(message)}
        return 200, callback

    def _interaction_for_webhook(self, record: RecordedRequest) -> FakeInteraction:
        fake = self.fake
        token = record.params["webhook_token"]
        interaction = fake.interactions.get(token)
        if interaction is None or fake.token_expired(interaction, record.time):
            record.fault = record.fault or ("expired_token" if interaction else None)
            raise F.invalid_webhook_token()
        if int(record.params["webhook_id"]) != fake.application_id:
            raise F.unknown_webhook()
        record.interaction = interaction
        return interaction

    def _webhook_target(self, record: RecordedRequest, interaction: FakeInteraction) -> FakeMessage:
        wanted = record.params.get("message_id")
        if wanted is None:  # @original
            message_id = interaction.original_message_id
        else:
            message_id = int(wanted)
            if message_id not in (interaction.original_message_id, *interaction.followup_ids):
                raise F.unknown_message()
        message = self.fake.messages.get(message_id or 0)
        if message is None:
            if message_id in self.fake.store.deleted:
                record.fault = record.fault or "deleted_message"
            raise F.unknown_message()
        return message

    async def get_webhook_message(self, record: RecordedRequest) -> tuple[int, Any]:
        interaction = self._interaction_for_webhook(record)
        return 200, self.fake.message_payload(self._webhook_target(record, interaction))

    async def edit_webhook_message(self, record: RecordedRequest) -> tuple[int, Any]:
        interaction = self._interaction_for_webhook(record)
        message = self._webhook_target(record, interaction)
        self._check_upload_size(record.files, interaction.attachment_size_limit)
        self.fake.store.edit(message, record.json or {}, record.files, now=time.time())
        await self.fake._message_event("MESSAGE_UPDATE", message)
        return 200, self.fake.message_payload(message)

    async def delete_webhook_message(self, record: RecordedRequest) -> tuple[int, Any]:
        interaction = self._interaction_for_webhook(record)
        message = self._webhook_target(record, interaction)
        await self.fake._delete(message.id)
        return 204, None

    async def execute_webhook(self, record: RecordedRequest) -> tuple[int, Any]:
        fake = self.fake
        interaction = self._interaction_for_webhook(record)
        if interaction.acknowledged_at is None:
            raise F.unknown_webhook()
        self._check_upload_size(record.files, interaction.attachment_size_limit)
        body = record.json or {}
        original = interaction.original_message
        if original is not None and original.loading:
            # Discord: the first follow-up after a deferred response replaces the "thinking"
            # message (and keeps the defer's ephemerality), it does not create a new one.
            fake.store.edit(original, body, record.files, now=time.time())
            await fake._message_event("MESSAGE_UPDATE", original)
            message = original
        else:
            message = await fake._create_interaction_message(
                interaction, body, record.files, loading=False, followup=True
            )
            interaction.followup_ids.append(message.id)
        if not _truthy(record.query.get("wait")):
            return 204, None
        return 200, fake.message_payload(message)

    # -- channels and messages (bot token) -----------------------------------------------------

    def _channel(self, record: RecordedRequest) -> FakeChannel:
        channel = self.fake.channel(int(record.params["channel_id"]))
        if channel is None:
            raise F.unknown_channel()
        return channel

    def _require(
        self, record: RecordedRequest, channel: FakeChannel, needed: int, *, write: bool
    ) -> None:
        fake = self.fake
        if write and channel.id in fake.faults.denied_channels:
            record.fault = "missing_permissions"
            raise F.missing_permissions()
        if channel.type == DM:
            return
        have = fake.bot_permissions_in(channel)
        if not have & VIEW_CHANNEL:
            raise DiscordError(403, 50001, "Missing Access")
        if needed & ~have:
            raise F.missing_permissions()

    def _visible_message(self, record: RecordedRequest, channel: FakeChannel) -> FakeMessage:
        message_id = int(record.params["message_id"])
        message = self.fake.messages.get(message_id)
        # Ephemeral messages exist only for their user; the bot token cannot see them.
        if message is None or message.channel_id != channel.id or message.flags & EPHEMERAL:
            if message_id in self.fake.store.deleted:
                record.fault = record.fault or "deleted_message"
            raise F.unknown_message()
        return message

    def _check_upload_size(self, files: list[UploadedFile], limit: int) -> None:
        total = sum(len(f.data) for f in files)
        if any(len(f.data) > limit for f in files) or total > max(limit, MAX_REQUEST_BYTES):
            raise DiscordError(413, 40005, "Request entity too large")

    async def get_channel(self, record: RecordedRequest) -> tuple[int, Any]:
        channel = self._channel(record)
        self._require(record, channel, 0, write=False)
        return 200, channel.payload()

    async def list_messages(self, record: RecordedRequest) -> tuple[int, Any]:
        channel = self._channel(record)
        self._require(record, channel, READ_MESSAGE_HISTORY, write=False)
        limit = max(1, min(100, int(record.query.get("limit", 50))))
        before = int(record.query.get("before", 0)) or None
        after = int(record.query.get("after", 0)) or None
        found = [
            m
            for m in self.fake.messages.values()
            if m.channel_id == channel.id
            and not m.flags & EPHEMERAL
            and (before is None or m.id < before)
            and (after is None or m.id > after)
        ]
        found.sort(key=lambda m: m.id, reverse=True)
        return 200, [self.fake.message_payload(m) for m in found[:limit]]

    async def create_message(self, record: RecordedRequest) -> tuple[int, Any]:
        fake = self.fake
        channel = self._channel(record)
        self._require(
            record, channel, SEND_MESSAGES | (ATTACH_FILES if record.files else 0), write=True
        )
        if channel.type == DM and any(u.id in fake.faults.closed_dms for u in channel.recipients):
            record.fault = "dms_closed"
            raise DiscordError(403, 50007, "Cannot send messages to this user")
        self._check_upload_size(record.files, fake.attachment_size_limit)
        body = dict(record.json or {})
        body.pop("flags", None) if body.get(
            "flags", 0
        ) & EPHEMERAL else None  # ephemeral is interaction-only
        replied_author = None
        reference = body.get("message_reference")
        if reference:
            target = fake.messages.get(int(reference.get("message_id", 0)))
            if target is None and reference.get("fail_if_not_exists", True):
                raise DiscordError(
                    400,
                    50035,
                    "Invalid Form Body",
                    errors={
                        "message_reference": {
                            "_errors": [
                                {
                                    "code": "MESSAGE_REFERENCE_UNKNOWN_MESSAGE",
                                    "message": "Unknown message",
                                }
                            ]
                        }
                    },
                )
            replied_author = target.author.id if target else None
        message = fake.store.create(
            channel_id=channel.id,
            guild_id=channel.guild_id,
            author=fake.bot_user,
            body=body,
            files=record.files,
            replied_author=replied_author,
            type=19 if reference else 0,
            message_reference=(
                {
                    "type": 0,
                    "message_id": str(reference["message_id"]),
                    "channel_id": str(channel.id),
                }
                if reference
                else None
            ),
        )
        channel.last_message_id = message.id
        await fake._message_event("MESSAGE_CREATE", message)
        return 200, fake.message_payload(message)

    async def get_message(self, record: RecordedRequest) -> tuple[int, Any]:
        channel = self._channel(record)
        self._require(record, channel, READ_MESSAGE_HISTORY, write=False)
        return 200, self.fake.message_payload(self._visible_message(record, channel))

    async def edit_message(self, record: RecordedRequest) -> tuple[int, Any]:
        fake = self.fake
        channel = self._channel(record)
        self._require(record, channel, 0, write=True)
        message = self._visible_message(record, channel)
        if message.author.id != fake.bot_user.id:
            raise DiscordError(403, 50005, "Cannot edit a message authored by another user")
        self._check_upload_size(record.files, fake.attachment_size_limit)
        fake.store.edit(message, record.json or {}, record.files, now=time.time())
        await fake._message_event("MESSAGE_UPDATE", message)
        return 200, fake.message_payload(message)

    async def delete_message(self, record: RecordedRequest) -> tuple[int, Any]:
        fake = self.fake
        channel = self._channel(record)
        message = self._visible_message(record, channel)
        own = message.author.id == fake.bot_user.id
        self._require(record, channel, 0 if own else MANAGE_MESSAGES, write=True)
        await fake._delete(message.id)
        return 204, None

    async def typing(self, record: RecordedRequest) -> tuple[int, Any]:
        channel = self._channel(record)
        self._require(record, channel, SEND_MESSAGES, write=True)
        return 204, None

    async def open_dm(self, record: RecordedRequest) -> tuple[int, Any]:
        user = self.fake.user(int((record.json or {}).get("recipient_id", 0)))
        if user is None:
            raise DiscordError(
                400,
                50035,
                "Invalid Form Body",
                errors={
                    "recipient_id": {
                        "_errors": [{"code": "USER_UNKNOWN", "message": "Unknown user"}]
                    }
                },
            )
        return 200, self.fake.dm_channel(user).payload()

    async def get_user(self, record: RecordedRequest) -> tuple[int, Any]:
        user = self.fake.user(
            int(record.params["user_id"]) if record.params["user_id"].isdigit() else 0
        )
        if user is None:
            raise DiscordError(404, 10013, "Unknown User")
        return 200, user.payload()

    def _guild(self, record: RecordedRequest) -> Any:
        guild = self.fake.guilds.get(int(record.params["guild_id"]))
        if guild is None:
            raise DiscordError(404, 10004, "Unknown Guild")
        return guild

    async def get_guild(self, record: RecordedRequest) -> tuple[int, Any]:
        guild = self._guild(record)
        payload = guild.payload(include_members=False, bot_id=self.fake.bot_user.id)
        for key in (
            "members",
            "channels",
            "threads",
            "presences",
            "voice_states",
            "joined_at",
            "large",
            "member_count",
        ):
            payload.pop(key, None)
        return 200, payload

    async def get_guild_channels(self, record: RecordedRequest) -> tuple[int, Any]:
        return 200, [c.payload() for c in self._guild(record).channels.values()]

    async def get_guild_roles(self, record: RecordedRequest) -> tuple[int, Any]:
        return 200, [r.payload() for r in self._guild(record).roles.values()]

    async def get_member(self, record: RecordedRequest) -> tuple[int, Any]:
        member = self._guild(record).members.get(int(record.params["user_id"]))
        if member is None:
            raise DiscordError(404, 10007, "Unknown Member")
        return 200, member.payload()


def _semantic_problems(route_key: str, body: Any) -> list[str]:
    """Rules Discord enforces that the schema cannot express."""
    problems: list[str] = []
    messages = [body, body.get("data")] if isinstance(body, dict) else []
    for message in messages:
        if not isinstance(message, dict):
            continue
        mentions = message.get("allowed_mentions")
        if isinstance(mentions, dict):
            parse = mentions.get("parse") or []
            for kind in ("users", "roles"):
                if kind in parse and mentions.get(kind):
                    problems.append(
                        f"allowed_mentions: parse contains {kind!r} and {kind} is a list; Discord rejects both together"
                    )
    return problems


def _command_problems(commands: list[Any]) -> list[str]:
    """Discord's own checks on command definitions: names, descriptions, option order."""
    problems: list[str] = []
    seen: set[tuple[int, str]] = set()

    def check_name(where: str, name: str, *, chat_input: bool) -> None:
        if chat_input and (not _COMMAND_NAME.match(name) or name != name.lower()):
            problems.append(
                f"{where}: {name!r} is not a valid name (lowercase letters, digits, - _ ', 1-32)"
            )

    def check_options(where: str, options: list[dict[str, Any]]) -> None:
        optional_seen = False
        names: set[str] = set()
        for option in options:
            name = option.get("name", "")
            check_name(f"{where}.{name}", name, chat_input=True)
            for locale, localized in (option.get("name_localizations") or {}).items():
                check_name(f"{where}.{name}[{locale}]", localized, chat_input=True)
            if not (1 <= len(option.get("description") or "") <= 100):
                problems.append(f"{where}.{name}: description must be 1-100 characters")
            if name in names:
                problems.append(f"{where}: duplicate option {name!r}")
            names.add(name)
            if option.get("type") in (1, 2):
                check_options(f"{where}.{name}", option.get("options") or [])
            elif option.get("required"):
                if optional_seen:
                    problems.append(
                        f"{where}.{name}: required options must come before optional ones"
                    )
            else:
                optional_seen = True
            if len(option.get("choices") or []) > 25:
                problems.append(f"{where}.{name}: at most 25 choices")

    for command in commands:
        if not isinstance(command, dict):
            continue
        kind = command.get("type") or 1
        name = command.get("name", "")
        if (kind, name) in seen:
            problems.append(f"duplicate command {name!r} of type {kind}")
        seen.add((kind, name))
        check_name(name, name, chat_input=kind == 1)
        for locale, localized in (command.get("name_localizations") or {}).items():
            check_name(f"{name}[{locale}]", localized, chat_input=kind == 1)
        description = command.get("description") or ""
        if kind == 1 and not (1 <= len(description) <= 100):
            problems.append(f"{name}: a slash command needs a 1-100 character description")
        if kind != 1 and description:
            problems.append(f"{name}: context menu commands take no description")
        check_options(name, command.get("options") or [])
    return problems


__all__ = ["RestApi", "json_response"]
