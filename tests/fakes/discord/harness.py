"""FakeDiscord: a local Discord (REST + gateway + CDN) that the real discord.py client talks to.

A test starts it, runs a real client against it (see `client.running_client`), injects what a
user would do (a slash command, a click, a modal, a message with an image) and asserts what the
bot sent over the wire: `fake.requests` (each checked against Discord's OpenAPI description) and
`fake.messages` (the messages as users see them now).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from .faults import Faults, RateLimitFault
from .gateway import DIRECT_MESSAGES, GUILD_MESSAGES, MESSAGE_CONTENT, Gateway
from .models import (
    ATTACH_FILES,
    BOT_DEFAULT,
    DM,
    EMBED_LINKS,
    EPHEMERAL,
    EVERYONE_DEFAULT,
    MANAGE_GUILD,
    MANAGE_MESSAGES,
    MIB,
    SEND_MESSAGES,
    VIEW_CHANNEL,
    FakeAttachment,
    FakeChannel,
    FakeGuild,
    FakeMember,
    FakeMessage,
    FakeRole,
    FakeUser,
    Overwrite,
    SnowflakeFactory,
    compute_pings,
)
from .records import (
    APPLICATION_COMMAND,
    AUTOCOMPLETE,
    MESSAGE_COMPONENT,
    MODAL_SUBMIT,
    FakeInteraction,
    GatewayEvent,
    RecordedRequest,
    UploadedFile,
)
from .rest import RestApi
from .spec import OpenAPISpec, load_spec
from .store import MessageStore

AttachmentSpec = tuple[str, bytes, str | None]  # (filename, bytes, content_type)


@dataclass(frozen=True)
class Users:
    owner: FakeUser
    moderator: FakeUser
    member: FakeUser
    other_member: FakeUser


@dataclass(frozen=True)
class Channels:
    normal: FakeChannel
    nsfw: FakeChannel
    log: FakeChannel


class FakeDiscord:
    """One fake Discord on 127.0.0.1; `await start()` before use, `await close()` after."""

    def __init__(
        self,
        *,
        token: str = "ZmFrZS1ib3Q.fake.discord-token-for-tests",
        attachment_size_limit: int = 10 * MIB,
        callback_deadline: float | None = 3.0,
        token_lifetime: float = 15 * 60,
        require_registered_commands: bool = True,
        preferred_locale: str = "en-US",
        spec: OpenAPISpec | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        # `clock` times requests, the 3-second window and token expiry; a test that advances a
        # fake clock (shared with the bot) sees a 15-minute token expire in no time.
        self.clock = clock
        self.token = token
        self.attachment_size_limit = attachment_size_limit
        self.callback_deadline = callback_deadline
        self.token_lifetime = token_lifetime
        self.require_registered_commands = require_registered_commands
        self.spec = spec or load_spec()
        self.ids = SnowflakeFactory()
        self.faults = Faults()
        self.requests: list[RecordedRequest] = []
        self.gateway_log: list[GatewayEvent] = []
        self.cdn_requests: list[tuple[str, int]] = []  # (path, status)
        self.interactions: dict[str, FakeInteraction] = {}  # by token
        self.commands_synced: dict[int | None, list[dict[str, Any]]] = {}  # None = global
        self.sync_count = 0
        self.recommended_shards = 1
        self.application_flags = (1 << 15) | (1 << 19) | (1 << 23)  # intents enabled, badge
        self.interactions_endpoint_url: str | None = None  # set: interactions go to a URL
        self.base_url = ""
        self._cdn_generation = 0
        self._cdn_secret = secrets.token_bytes(16)
        self._taken_violations: set[int] = set()
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self._tasks: set[asyncio.Task[None]] = set()  # background gateway events, ended on close

        self.application_id = self.ids.next()
        self.bot_user = FakeUser(self.application_id, "ImageBot", "Image Bot", bot=True)
        self.developer = FakeUser(self.ids.next(), "bot_developer", "Developer")
        self.users = Users(
            owner=FakeUser(self.ids.next(), "guild_owner", "Owner"),
            moderator=FakeUser(self.ids.next(), "moderator", "Moderator"),
            member=FakeUser(self.ids.next(), "member", "Member"),
            other_member=FakeUser(self.ids.next(), "other_member", "Other Member"),
        )
        self._users: dict[int, FakeUser] = {
            u.id: u for u in (self.bot_user, self.developer, *vars(self.users).values())
        }
        self.guilds: dict[int, FakeGuild] = {}
        self.dm_channels: dict[int, FakeChannel] = {}  # by recipient id
        self.guild = self._build_main_guild(preferred_locale)
        self.channels = Channels(
            normal=self.guild.channels[self._channel_ids["general"]],
            nsfw=self.guild.channels[self._channel_ids["nsfw-art"]],
            log=self.guild.channels[self._channel_ids["bot-log"]],
        )
        self.store = MessageStore(self.ids, self._sign_url)
        self.gateway = Gateway(self)
        self.rest = RestApi(self)

    # -- world ---------------------------------------------------------------------------------

    def _build_main_guild(self, preferred_locale: str) -> FakeGuild:
        guild = FakeGuild(
            self.ids.next(), "Fake Guild", self.users.owner.id, preferred_locale=preferred_locale
        )
        everyone = FakeRole(guild.id, "@everyone", EVERYONE_DEFAULT, position=0)
        bot_role = FakeRole(
            self.ids.next(),
            "ImageBot",
            BOT_DEFAULT,
            position=1,
            managed=True,
            bot_id=self.bot_user.id,
        )
        artist = FakeRole(self.ids.next(), "Artist", 0, position=2, mentionable=True)
        moderator = FakeRole(
            self.ids.next(), "Moderator", MANAGE_GUILD | MANAGE_MESSAGES, position=3
        )
        guild.roles = {r.id: r for r in (everyone, bot_role, artist, moderator)}
        self._channel_ids: dict[str, int] = {}
        for position, (name, nsfw) in enumerate(
            (("general", False), ("nsfw-art", True), ("bot-log", False))
        ):
            channel = FakeChannel(
                self.ids.next(), name, guild_id=guild.id, nsfw=nsfw, position=position
            )
            if name == "bot-log":
                # Only moderators (and the bot) can read the log channel.
                channel.overwrites = [
                    Overwrite(guild.id, 0, deny=VIEW_CHANNEL),
                    Overwrite(moderator.id, 0, allow=VIEW_CHANNEL),
                    Overwrite(
                        self.bot_user.id,
                        1,
                        allow=VIEW_CHANNEL | SEND_MESSAGES | EMBED_LINKS | ATTACH_FILES,
                    ),
                ]
            guild.channels[channel.id] = channel
            self._channel_ids[name] = channel.id
        now = time.time()
        roles = {
            self.users.owner.id: [],
            self.users.moderator.id: [moderator.id],
            self.users.member.id: [artist.id],
            self.users.other_member.id: [],
            self.bot_user.id: [bot_role.id],
        }
        for user_id, member_roles in roles.items():
            guild.members[user_id] = FakeMember(self._users[user_id], member_roles, now)
        self.guilds[guild.id] = guild
        return guild

    def add_guild(
        self, name: str, *, on_shard: tuple[int, int] | None = None, preferred_locale: str = "en-US"
    ) -> FakeGuild:
        """Another guild (one text channel, the same users); `on_shard=(id, count)` places it."""
        guild = FakeGuild(
            self.ids.next(shard=on_shard),
            name,
            self.users.owner.id,
            preferred_locale=preferred_locale,
        )
        guild.roles = {
            guild.id: FakeRole(guild.id, "@everyone", EVERYONE_DEFAULT),
            (bot_role := self.ids.next()): FakeRole(
                bot_role, "ImageBot", BOT_DEFAULT, position=1, managed=True, bot_id=self.bot_user.id
            ),
        }
        channel = FakeChannel(self.ids.next(), "general", guild_id=guild.id)
        guild.channels[channel.id] = channel
        now = time.time()
        for user in (*vars(self.users).values(), self.bot_user):
            guild.members[user.id] = FakeMember(
                user, [bot_role] if user is self.bot_user else [], now
            )
        self.guilds[guild.id] = guild
        return guild

    def add_user(
        self, username: str, *, guild: FakeGuild | None = None, roles: Sequence[FakeRole] = ()
    ) -> FakeUser:
        """A new user, member of `guild` (the main guild by default) with `roles`."""
        user = FakeUser(self.ids.next(), username, username.title())
        self._users[user.id] = user
        target = guild or self.guild
        target.members[user.id] = FakeMember(user, [r.id for r in roles], time.time())
        return user

    def bot_role(self, guild: FakeGuild | None = None) -> FakeRole:
        """The bot's managed role in `guild` (the main guild by default)."""
        target = guild or self.guild
        return next(r for r in target.roles.values() if r.bot_id == self.bot_user.id)

    def restrict_bot(self, permissions: int, guild: FakeGuild | None = None) -> None:
        """The bot's base permissions in `guild` become at most `permissions`.

        Its managed role gets exactly these, and @everyone keeps only those of its own that are
        also in them: a server that invited the bot with fewer permissions and lets only some
        roles attach files.
        """
        target = guild or self.guild
        self.bot_role(target).permissions = permissions
        target.everyone.permissions &= permissions

    def user(self, user_id: int) -> FakeUser | None:
        return self._users.get(user_id)

    def channel(self, channel_id: int) -> FakeChannel | None:
        for guild in self.guilds.values():
            if channel_id in guild.channels:
                return guild.channels[channel_id]
        return next((c for c in self.dm_channels.values() if c.id == channel_id), None)

    def dm_channel(self, user: FakeUser) -> FakeChannel:
        """The bot's DM channel with `user` (created on first use, like Discord)."""
        if user.id not in self.dm_channels:
            self.dm_channels[user.id] = FakeChannel(self.ids.next(), "", type=DM, recipients=[user])
        return self.dm_channels[user.id]

    def dm_messages(self, user: FakeUser) -> list[FakeMessage]:
        channel = self.dm_channels.get(user.id)
        return (
            []
            if channel is None
            else [m for m in self.messages.values() if m.channel_id == channel.id]
        )

    def channel_messages(self, channel: FakeChannel | int) -> list[FakeMessage]:
        """Messages currently in a channel, oldest first (ephemeral ones included)."""
        channel_id = channel if isinstance(channel, int) else channel.id
        return sorted(
            (m for m in self.messages.values() if m.channel_id == channel_id), key=lambda m: m.id
        )

    def bot_permissions_in(self, channel: FakeChannel) -> int:
        if channel.guild_id is None:
            return VIEW_CHANNEL | SEND_MESSAGES | EMBED_LINKS | ATTACH_FILES
        perms = self.guilds[channel.guild_id].permissions_in(channel, self.bot_user.id)
        if channel.id in self.faults.denied_channels:
            perms &= ~(SEND_MESSAGES | ATTACH_FILES | EMBED_LINKS)
        return perms

    @property
    def messages(self) -> dict[int, FakeMessage]:
        return self.store.messages

    @property
    def api_base(self) -> str:
        return f"{self.base_url}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"{self.base_url.replace('http://', 'ws://')}/gateway"

    @property
    def resume_gateway_url(self) -> str:
        return f"{self.base_url.replace('http://', 'ws://')}/resume"

    def env(self) -> dict[str, str]:
        """Environment for a bot run as a subprocess against this fake."""
        return {
            "DISCORD_TOKEN": self.token,
            "DISCORD_API_BASE_URL": self.api_base,
            "DISCORD_GATEWAY_URL": self.gateway_url,
        }

    def application_payload(self) -> dict[str, Any]:
        return {
            "id": str(self.application_id),
            "name": self.bot_user.username,
            "icon": None,
            "description": "",
            "summary": "",
            "type": None,
            "hook": True,
            "bot_public": True,
            "bot_require_code_grant": False,
            "verify_key": "0" * 64,
            "flags": self.application_flags,
            "owner": self.developer.payload(),
            "team": None,
            "bot": self.bot_user.payload(),
            "redirect_uris": [],
            "interactions_endpoint_url": self.interactions_endpoint_url,
            "role_connections_verification_url": None,
            "tags": [],
            "integration_types_config": {"0": {}},
            "approximate_guild_count": len(self.guilds),
            "approximate_user_install_count": 0,
            "is_monetized": False,
            "rpc_origins": [],
        }

    def message_payload(self, message: FakeMessage) -> dict[str, Any]:
        return message.payload(self._users)

    # -- lifecycle -----------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application(client_max_size=64 * MIB)
        app.router.add_route("*", "/api/v10/{tail:.*}", self.rest.handle)
        app.router.add_get("/gateway", self.gateway.handle)
        app.router.add_get("/resume", self.gateway.handle)
        app.router.add_get(
            r"/{kind:(media/)?(ephemeral-)?attachments}/{scope}/{attachment_id:\d+}/{filename}",
            self._cdn,
        )
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        self.base_url = f"http://{host}:{port}"
        self._runner = runner

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.gateway.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeDiscord:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- CDN -----------------------------------------------------------------------------------

    def _signature(self, path: str, expires: str, issued: str) -> str:
        return hmac.new(
            self._cdn_secret, f"{path}|{expires}|{issued}".encode(), hashlib.sha256
        ).hexdigest()

    def _sign_url(self, path: str) -> str:
        expires = format(int(time.time()) + 24 * 3600, "x")
        issued = format(self._cdn_generation, "x")
        return f"{self.base_url}{path}?ex={expires}&is={issued}&hm={self._signature(path, expires, issued)}&"

    def expire_cdn_links(self) -> None:
        """Every attachment URL handed out so far stops working; payloads served later carry new ones."""
        self._cdn_generation += 1

    async def _cdn(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        expires, issued, signature = (request.query.get(k, "") for k in ("ex", "is", "hm"))
        blob = self.store.blobs.get(int(request.match_info["attachment_id"]))
        plain_path = path.removeprefix("/media")
        valid = (
            blob is not None
            and blob.path == plain_path
            and hmac.compare_digest(signature, self._signature(path, expires, issued))
            and issued.isalnum()
            and int(issued, 16) >= self._cdn_generation
        )
        self.cdn_requests.append((path, 200 if valid else 404))
        if not valid or blob is None:
            return web.Response(status=404, text="This content is no longer available.")
        return web.Response(
            body=blob.data,
            headers={"Content-Type": blob.content_type or "application/octet-stream"},
        )

    # -- recording -----------------------------------------------------------------------------

    def _arrived(self, record: RecordedRequest) -> None:
        self.requests.append(record)

    async def _completed(self, record: RecordedRequest) -> None:
        record.completed = True
        interaction = record.interaction
        if (
            interaction is not None
            and record.route is not None
            and record.route.endswith("/callback")
            and 200 <= record.status < 300
            and not interaction.first_callback.done()
        ):
            interaction.first_callback.set_result(record)
        async with self._changed:
            self._changed.notify_all()

    async def wait_for(
        self,
        predicate: Callable[[RecordedRequest], bool],
        *,
        timeout: float = 10,
        since: float | None = None,
    ) -> RecordedRequest:
        """The first answered request (arrival order) matching `predicate`; waits, no polling."""

        async def find() -> RecordedRequest:
            async with self._changed:
                while True:
                    for record in self.requests:
                        if (
                            record.completed
                            and (since is None or record.time >= since)
                            and predicate(record)
                        ):
                            return record
                    await self._changed.wait()

        try:
            return await asyncio.wait_for(find(), timeout)
        except TimeoutError:
            seen = "\n  ".join(repr(r) for r in self.requests[-20:]) or "(none)"
            raise AssertionError(
                f"no request matched within {timeout}s; last requests:\n  {seen}"
            ) from None

    async def wait_for_gateway(
        self, predicate: Callable[[GatewayEvent], bool], *, timeout: float = 10
    ) -> GatewayEvent:
        try:
            return await self.gateway.wait_for(predicate, timeout)
        except TimeoutError:
            raise AssertionError(
                f"no gateway event matched within {timeout}s: {self.gateway_log[-10:]}"
            ) from None

    def violations(self) -> list[tuple[RecordedRequest, str]]:
        """Spec violations not yet taken by `take_violations()`."""
        return [
            (r, v)
            for r in self.requests
            if id(r) not in self._taken_violations
            for v in r.violations
        ]

    def take_violations(self) -> list[str]:
        """Return and clear the violations (for tests that provoke one on purpose)."""
        found = [v for _, v in self.violations()]
        self._taken_violations.update(id(r) for r in self.requests if r.violations)
        return found

    def unhandled(self) -> list[RecordedRequest]:
        """Requests to real Discord routes that this fake does not implement (answered 404)."""
        return [r for r in self.requests if r.fault == "unimplemented"]

    def assert_clean(self, *, allow_unhandled: bool = False) -> None:
        """Fail if the bot sent anything Discord would reject (or that the fake cannot answer)."""
        problems = [f"{r.method} {r.path}: {v}" for r, v in self.violations()]
        if not allow_unhandled:
            problems += [
                f"{r.method} {r.path}: route not implemented by the fake" for r in self.unhandled()
            ]
        if problems:
            raise AssertionError("requests Discord would reject:\n  " + "\n  ".join(problems))

    # -- messages and events -------------------------------------------------------------------

    def shape_event_for(self, intents: int, event: str, data: dict[str, Any]) -> dict[str, Any]:
        """Without the message content intent, other people's messages arrive without content."""
        if event not in ("MESSAGE_CREATE", "MESSAGE_UPDATE") or intents & MESSAGE_CONTENT:
            return data
        author = int(data.get("author", {}).get("id", 0))
        mentioned = any(int(u["id"]) == self.bot_user.id for u in data.get("mentions", []))
        if author == self.bot_user.id or "guild_id" not in data or mentioned:
            return data
        return dict(data, content="", embeds=[], attachments=[], components=[])

    async def _message_event(self, event: str, message: FakeMessage) -> None:
        if message.ephemeral:
            return  # ephemeral messages never reach the gateway
        payload = self.message_payload(message)
        if message.guild_id is not None:
            member = self.guilds[message.guild_id].members.get(message.author.id)
            if member is not None:
                payload["member"] = {k: v for k, v in member.payload().items() if k != "user"}
        intent = GUILD_MESSAGES if message.guild_id is not None else DIRECT_MESSAGES
        await self.gateway.dispatch(message.guild_id, event, payload, intent=intent)

    async def _delete(self, message_id: int) -> FakeMessage | None:
        message = self.store.delete(message_id)
        if message is not None:
            await self._deleted_event(message)
        return message

    async def _deleted_event(self, message: FakeMessage) -> None:
        if message.ephemeral:
            return
        data: dict[str, Any] = {"id": str(message.id), "channel_id": str(message.channel_id)}
        if message.guild_id is not None:
            data["guild_id"] = str(message.guild_id)
        intent = GUILD_MESSAGES if message.guild_id is not None else DIRECT_MESSAGES
        await self.gateway.dispatch(message.guild_id, "MESSAGE_DELETE", data, intent=intent)

    async def _create_interaction_message(
        self,
        interaction: FakeInteraction,
        body: dict[str, Any],
        files: list[UploadedFile],
        *,
        loading: bool,
        followup: bool = False,
    ) -> FakeMessage:
        if loading:
            body = {"flags": int(body.get("flags") or 0) & EPHEMERAL}
        if interaction.type == APPLICATION_COMMAND and not followup:
            kind = 20 if interaction.data.get("type", 1) == 1 else 23
        else:
            kind = 0 if followup else 19
        metadata: dict[str, Any] = {
            "id": str(interaction.id),
            "type": interaction.type,
            "user": interaction.user.payload(),
            "authorizing_integration_owners": interaction.payload.get(
                "authorizing_integration_owners", {}
            ),
        }
        if interaction.type == APPLICATION_COMMAND:
            metadata["name"] = interaction.data.get("name")
            if interaction.data.get("target_id"):
                metadata["target_message_id"] = interaction.data["target_id"]
        if interaction.component_message_id is not None:
            metadata["interacted_message_id"] = str(interaction.component_message_id)
        reference = None
        if kind == 19 and interaction.component_message_id is not None:
            reference = {
                "type": 0,
                "message_id": str(interaction.component_message_id),
                "channel_id": str(interaction.channel_id),
            }
        message = self.store.create(
            channel_id=interaction.channel_id,
            guild_id=interaction.guild_id,
            author=self.bot_user,
            body=body,
            files=files,
            loading=loading,
            type=kind,
            webhook_id=self.application_id,
            application_id=self.application_id,
            interaction_token=interaction.token,
            interaction_metadata=metadata,
            message_reference=reference,
        )
        await self._message_event("MESSAGE_CREATE", message)
        return message

    def _acknowledge(
        self, interaction: FakeInteraction, kind: int, record: RecordedRequest
    ) -> None:
        interaction.acknowledged_at = record.time
        interaction.callback_type = kind
        interaction.callback = record

    def token_expired(self, interaction: FakeInteraction, now: float) -> bool:
        if self.faults.token_expired(interaction.token, now):
            return True
        return now >= interaction.injected_at + self.token_lifetime

    # -- faults --------------------------------------------------------------------------------

    def inject_rate_limit(
        self,
        route_pattern: str,
        count: int = 1,
        retry_after: float = 0.05,
        *,
        is_global: bool = False,
    ) -> RateLimitFault:
        """The next `count` requests matching the pattern get a 429.

        The pattern is an fnmatch glob over "METHOD /route/template" or "METHOD /actual/path"
        (e.g. "PATCH /webhooks/*/messages/@original"); starting with "/" it matches any method.
        """
        fault = RateLimitFault(route_pattern, count, retry_after, is_global=is_global)
        self.faults.rate_limits.append(fault)
        return fault

    def expire_token(self, token: str | FakeInteraction, at: float | None = None) -> None:
        """Webhook calls with this interaction token get 401 50027 from `at` (fake.clock()) on."""
        value = token.token if isinstance(token, FakeInteraction) else token
        self.faults.expired_tokens[value] = self.clock() if at is None else at

    def delete_message(self, message: FakeMessage | int) -> None:
        """A user or moderator deletes the message: later calls on it get 404 10008.

        The store changes at once; MESSAGE_DELETE goes out on the gateway in the background.
        """
        removed = self.store.delete(message if isinstance(message, int) else message.id)
        if removed is not None:
            task = asyncio.get_running_loop().create_task(self._deleted_event(removed))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def deny_permission(self, channel: FakeChannel | int) -> None:
        """The bot loses send/edit/delete rights in the channel: its writes there get 403 50013."""
        self.faults.denied_channels.add(channel if isinstance(channel, int) else channel.id)

    def restore_permission(self, channel: FakeChannel | int) -> None:
        self.faults.denied_channels.discard(channel if isinstance(channel, int) else channel.id)

    def close_dms(self, user: FakeUser) -> None:
        """The user does not accept DMs from the bot: sends get 403 50007."""
        self.faults.closed_dms.add(user.id)

    async def drop_gateway(
        self, *, shard_id: int | None = None, resumable: bool = True, code: int = 4000
    ) -> int:
        """Close the gateway connection(s); discord.py reconnects (RESUME when resumable)."""
        return await self.gateway.drop(shard_id=shard_id, code=code, resumable=resumable)

    # -- commands ------------------------------------------------------------------------------

    def registered_command(
        self, name: str, *, type: int = 1, guild_id: int | None = None
    ) -> tuple[dict[str, Any], int | None] | None:
        """The command a user in `guild_id` would see (guild commands first), and its scope."""
        scopes: list[int | None] = [guild_id, None] if guild_id is not None else [None]
        for scope in scopes:
            for command in self.commands_synced.get(scope, []):
                if command["name"] == name and command.get("type", 1) == type:
                    return command, scope
        return None

    def preload_commands(
        self, commands: Sequence[Mapping[str, Any]], *, guild_id: int | None = None
    ) -> None:
        """Register commands as if synced earlier (a bot that does not sync at start)."""
        self.commands_synced[guild_id] = [
            self.rest._echo_command(guild_id, dict(c), self.commands_synced.get(guild_id, []))
            for c in commands
        ]

    # -- injecting interactions ----------------------------------------------------------------

    def _interaction_base(
        self,
        kind: int,
        data: dict[str, Any],
        *,
        user: FakeUser,
        channel: FakeChannel,
        locale: str,
        attachment_size_limit: int | None,
    ) -> tuple[int, str, dict[str, Any]]:
        interaction_id = self.ids.next()
        token = "aW50ZXJhY3Rpb24" + secrets.token_urlsafe(120)
        payload: dict[str, Any] = {
            "id": str(interaction_id),
            "application_id": str(self.application_id),
            "type": kind,
            "data": data,
            "token": token,
            "version": 1,
            "locale": locale,
            "app_permissions": str(self.bot_permissions_in(channel)),
            "entitlements": [],
            "entitlement_sku_ids": [],
            "attachment_size_limit": attachment_size_limit or self.attachment_size_limit,
            "channel_id": str(channel.id),
        }
        if channel.guild_id is not None:
            guild = self.guilds[channel.guild_id]
            member = guild.members.get(user.id)
            if member is None:
                raise LookupError(f"{user.username} is not a member of {guild.name}")
            permissions = guild.permissions_in(channel, user.id)
            if not permissions & VIEW_CHANNEL:
                raise PermissionError(
                    f"{user.username} cannot see #{channel.name}, so cannot interact there"
                )
            payload.update(
                guild_id=str(guild.id),
                guild=guild.interaction_guild(),
                guild_locale=guild.preferred_locale,
                member=dict(member.payload(), permissions=str(permissions)),
                channel=dict(channel.payload(), permissions=str(permissions)),
                authorizing_integration_owners={"0": str(guild.id)},
                context=0,
            )
        else:
            payload.update(
                user=user.payload(),
                channel=dict(channel.payload(), permissions=str(VIEW_CHANNEL | SEND_MESSAGES)),
                authorizing_integration_owners={"0": "0"},
                context=1,
            )
        return interaction_id, token, payload

    async def _inject(
        self,
        kind: int,
        data: dict[str, Any],
        *,
        user: FakeUser,
        channel: FakeChannel,
        locale: str,
        attachment_size_limit: int | None = None,
        message: FakeMessage | None = None,
        component_message_id: int | None = None,
    ) -> FakeInteraction:
        interaction_id, token, payload = self._interaction_base(
            kind,
            data,
            user=user,
            channel=channel,
            locale=locale,
            attachment_size_limit=attachment_size_limit,
        )
        if message is not None:
            payload["message"] = self.message_payload(message)
        interaction = FakeInteraction(
            id=interaction_id,
            token=token,
            type=kind,
            payload=payload,
            user=user,
            channel_id=channel.id,
            guild_id=channel.guild_id,
            injected_at=self.clock(),
            fake=self,
            component_message_id=component_message_id,
            attachment_size_limit=payload["attachment_size_limit"],
        )
        self.interactions[token] = interaction
        sessions = self.gateway.sessions_for(channel.guild_id)
        if not sessions:
            raise RuntimeError(
                f"no gateway session owns guild {channel.guild_id}; is a client connected?"
            )
        # The 3-second window starts when Discord delivers the event; one buffered for a resume
        # is delivered later, so only a live connection starts the clock here.
        if all(s.conn is not None for s in sessions):
            interaction.dispatched_at = self.clock()
        await self.gateway.dispatch(channel.guild_id, "INTERACTION_CREATE", payload)
        return interaction

    def _resolve_option(
        self,
        name: str,
        value: Any,
        definition: dict[str, Any] | None,
        resolved: dict[str, dict[str, Any]],
        guild: FakeGuild | None,
        channel: FakeChannel,
    ) -> dict[str, Any]:
        kind = definition["type"] if definition else _infer_type(value)
        if definition:
            _check_choice(name, value, definition)
        if kind == 11:
            attachment = self._user_upload(value)
            resolved.setdefault("attachments", {})[str(attachment.id)] = attachment.payload()
            return {"name": name, "type": 11, "value": str(attachment.id)}
        if kind in (6, 9) and isinstance(value, FakeUser):
            resolved.setdefault("users", {})[str(value.id)] = value.payload()
            if guild is not None and value.id in guild.members:
                member = guild.members[value.id].payload()
                member.pop("user")
                member["permissions"] = str(guild.permissions_in(channel, value.id))
                resolved.setdefault("members", {})[str(value.id)] = member
            return {"name": name, "type": kind, "value": str(value.id)}
        if kind in (8, 9) and isinstance(value, FakeRole):
            resolved.setdefault("roles", {})[str(value.id)] = value.payload()
            return {"name": name, "type": kind, "value": str(value.id)}
        if kind == 7 and isinstance(value, FakeChannel):
            data = value.payload()
            data["permissions"] = str(guild.permissions_in(value, self.bot_user.id) if guild else 0)
            resolved.setdefault("channels", {})[str(value.id)] = data
            return {"name": name, "type": 7, "value": str(value.id)}
        if kind == 4:
            value = int(value)
        elif kind == 10:
            value = float(value)
        elif kind == 5:
            value = bool(value)
        elif kind == 3:
            value = str(value)
        return {"name": name, "type": kind, "value": value}

    def _user_upload(self, value: Any) -> FakeAttachment:
        if isinstance(value, FakeAttachment):
            return value
        filename, data, content_type = value
        return self.store.new_attachment(
            scope="ephemeral-attachments",
            scope_id=self.application_id,
            filename=filename,
            data=data,
            content_type=content_type,
            ephemeral=True,
        )

    def _command_data(
        self,
        name: str,
        kind: int,
        channel: FakeChannel,
        *,
        path: Sequence[str] = (),
        values: Mapping[str, Any],
        focused: str | None = None,
    ) -> dict[str, Any]:
        found = self.registered_command(name, type=kind, guild_id=channel.guild_id)
        if found is None and self.require_registered_commands:
            raise LookupError(
                f"command {name!r} (type {kind}) is not registered for guild {channel.guild_id}; the bot never synced it "
                "(or use preload_commands / require_registered_commands=False)"
            )
        command: dict[str, Any] = {"id": str(self.ids.next())}
        scope: int | None = None
        # Without a registered definition, option types are inferred from the Python values.
        top_level: list[dict[str, Any]] | None = None
        if found is not None:
            command, scope = found
            top_level = list(command.get("options") or [])
        definitions = top_level
        for part in path:
            if definitions is not None:
                sub = next(
                    (o for o in definitions if o["name"] == part and o["type"] in (1, 2)), None
                )
                if sub is None:
                    raise LookupError(f"/{name} has no subcommand (group) {part!r}")
                definitions = sub.get("options") or []
        guild = self.guilds.get(channel.guild_id) if channel.guild_id else None
        resolved: dict[str, dict[str, Any]] = {}
        options = []
        for option_name, value in values.items():
            definition = None
            if definitions is not None:
                definition = next((o for o in definitions if o["name"] == option_name), None)
                if definition is None:
                    known = [o["name"] for o in definitions]
                    raise LookupError(
                        f"/{name} {' '.join(path)} has no option {option_name!r} (it has {known})"
                    )
            if option_name == focused:
                option = {
                    "name": option_name,
                    "type": definition["type"] if definition else 3,
                    "value": value,
                    "focused": True,
                }
            else:
                option = self._resolve_option(
                    option_name, value, definition, resolved, guild, channel
                )
            options.append(option)
        if definitions is not None and focused is None:
            missing = [
                o["name"]
                for o in definitions
                if o.get("required") and o["name"] not in values and o["type"] not in (1, 2)
            ]
            if missing:
                raise ValueError(f"/{name}: required option(s) missing: {missing}")
        if definitions is not None and not path and any(o["type"] in (1, 2) for o in definitions):
            raise ValueError(f"/{name} has subcommands; pass subcommand=")
        nested: list[dict[str, Any]] = options
        kinds = _path_kinds(top_level, path)
        for part, part_kind in reversed(list(zip(path, kinds, strict=True))):
            nested = [{"name": part, "type": part_kind, "options": nested}]
        data: dict[str, Any] = {"id": str(command["id"]), "name": name, "type": kind}
        if nested:
            data["options"] = nested
        if resolved:
            data["resolved"] = resolved
        if scope is not None:
            data["guild_id"] = str(scope)
        return data

    async def slash(
        self,
        name: str,
        *,
        user: FakeUser | None = None,
        channel: FakeChannel | None = None,
        locale: str = "en-US",
        subcommand: str | None = None,
        group: str | None = None,
        attachments: Mapping[str, AttachmentSpec | FakeAttachment] | None = None,
        values: Mapping[str, Any] | None = None,
        attachment_size_limit: int | None = None,
        **options: Any,
    ) -> FakeInteraction:
        """A user runs `/name [group] [subcommand] option:value ...`.

        Options come as keywords (or `values=` for names that clash with these parameters);
        attachment options as `attachments={"image": ("cat.png", data, "image/png")}`.
        """
        channel = channel or self.channels.normal
        merged = {**options, **(values or {}), **(attachments or {})}
        path = [p for p in (group, subcommand) if p]
        data = self._command_data(name, 1, channel, path=path, values=merged)
        return await self._inject(
            APPLICATION_COMMAND,
            data,
            user=user or self.users.member,
            channel=channel,
            locale=locale,
            attachment_size_limit=attachment_size_limit,
        )

    async def autocomplete(
        self,
        name: str,
        focused: str,
        value: str,
        *,
        user: FakeUser | None = None,
        channel: FakeChannel | None = None,
        locale: str = "en-US",
        subcommand: str | None = None,
        group: str | None = None,
        **options: Any,
    ) -> FakeInteraction:
        """A user types `value` into option `focused`; the answer lands in `autocomplete_choices`."""
        channel = channel or self.channels.normal
        path = [p for p in (group, subcommand) if p]
        data = self._command_data(
            name, 1, channel, path=path, values={**options, focused: value}, focused=focused
        )
        return await self._inject(
            AUTOCOMPLETE, data, user=user or self.users.member, channel=channel, locale=locale
        )

    def _message(self, message: FakeMessage | int) -> FakeMessage:
        message_id = message if isinstance(message, int) else message.id
        found = self.messages.get(message_id)
        if found is None:
            raise LookupError(f"message {message_id} does not exist (deleted?)")
        return found

    async def context_menu(
        self,
        name: str,
        message: FakeMessage | int,
        *,
        user: FakeUser | None = None,
        locale: str = "en-US",
    ) -> FakeInteraction:
        """A user picks Apps → `name` on a message."""
        target = self._message(message)
        channel = self.channel(target.channel_id)
        assert channel is not None
        data = self._command_data(name, 3, channel, values={})
        data.pop("options", None)
        data["target_id"] = str(target.id)
        data["resolved"] = {"messages": {str(target.id): self.message_payload(target)}}
        return await self._inject(
            APPLICATION_COMMAND,
            data,
            user=user or self.users.member,
            channel=channel,
            locale=locale,
        )

    async def click(
        self,
        message: FakeMessage | int,
        custom_id: str,
        *,
        user: FakeUser | None = None,
        locale: str = "en-US",
        values: Sequence[str] | None = None,
    ) -> FakeInteraction:
        """A user clicks the button (or picks `values` in the select) with `custom_id`."""
        target = self._message(message)
        component = target.find_component(custom_id)
        if component is None:
            raise LookupError(
                f"message {target.id} has no component {custom_id!r}; it has {target.custom_ids}"
            )
        if component.get("disabled"):
            raise ValueError(f"component {custom_id!r} is disabled; a user cannot use it")
        channel = self.channel(target.channel_id)
        assert channel is not None
        data: dict[str, Any] = {"custom_id": custom_id, "component_type": component["type"]}
        if component["type"] != 2:
            data["values"] = list(values or [])
        return await self._inject(
            MESSAGE_COMPONENT,
            data,
            user=user or self.users.member,
            channel=channel,
            locale=locale,
            message=target,
            component_message_id=target.id,
        )

    async def submit_modal(
        self,
        custom_id: str,
        values: Mapping[str, str],
        *,
        user: FakeUser | None = None,
        channel: FakeChannel | None = None,
        message: FakeMessage | int | None = None,
        locale: str = "en-US",
    ) -> FakeInteraction:
        """A user fills in and submits the modal the bot showed with `custom_id`.

        The submission mirrors the modal's layout (action rows or labels) and is checked
        against it: unknown fields and missing required fields raise before anything is sent.
        """
        origin = next(
            (
                i
                for i in reversed(list(self.interactions.values()))
                if i.modal
                and i.modal.get("custom_id") == custom_id
                and (user is None or i.user.id == user.id)
            ),
            None,
        )
        if origin is None:
            raise LookupError(f"the bot never showed a modal with custom_id {custom_id!r}")
        assert origin.modal is not None
        components = _modal_submission(origin.modal, dict(values))
        target_channel = channel or self.channel(origin.channel_id)
        assert target_channel is not None
        source = (
            self._message(message)
            if message is not None
            else (
                self.messages.get(origin.component_message_id)
                if origin.component_message_id
                else None
            )
        )
        return await self._inject(
            MODAL_SUBMIT,
            {"custom_id": custom_id, "components": components},
            user=user or origin.user,
            channel=target_channel,
            locale=locale,
            message=source,
            component_message_id=source.id if source else None,
        )

    async def post_user_message(
        self,
        channel: FakeChannel | None = None,
        *,
        user: FakeUser | None = None,
        content: str = "",
        attachments: Sequence[AttachmentSpec] = (),
    ) -> FakeMessage:
        """A user posts a message (e.g. an image) in the channel; the bot sees MESSAGE_CREATE."""
        channel = channel or self.channels.normal
        if not content and not attachments:
            raise ValueError("a user message needs content or attachments")
        message = FakeMessage(
            self.ids.next(),
            channel.id,
            channel.guild_id,
            user or self.users.member,
            content=content,
        )
        message.attachments = [
            self.store.new_attachment(
                scope="attachments", scope_id=channel.id, filename=f, data=d, content_type=ct
            )
            for f, d, ct in attachments
        ]
        message.pings = compute_pings(content, None)
        message.revisions.append(message.snapshot())
        self.store.messages[message.id] = message
        channel.last_message_id = message.id
        await self._message_event("MESSAGE_CREATE", message)
        return message


def _infer_type(value: Any) -> int:
    if isinstance(value, bool):
        return 5
    if isinstance(value, int):
        return 4
    if isinstance(value, float):
        return 10
    if isinstance(value, FakeUser):
        return 6
    if isinstance(value, FakeChannel):
        return 7
    if isinstance(value, FakeRole):
        return 8
    if isinstance(value, (tuple, FakeAttachment)):
        return 11
    return 3


def _path_kinds(options: list[dict[str, Any]] | None, path: Sequence[str]) -> list[int]:
    """Option types (1 subcommand, 2 group) for each element of the subcommand path."""
    if not path:
        return []
    if options is None:
        return [2, 1] if len(path) == 2 else [1]
    kinds = []
    for part in path:
        option = next(o for o in options if o["name"] == part)
        kinds.append(option["type"])
        options = option.get("options") or []
    return kinds


def _check_choice(name: str, value: Any, definition: dict[str, Any]) -> None:
    """What Discord's client enforces before sending: choices, ranges, lengths."""
    choices = definition.get("choices")
    if choices and value not in [c["value"] for c in choices]:
        raise ValueError(
            f"option {name!r}: {value!r} is not one of {[c['value'] for c in choices]}"
        )
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        low, high = definition.get("min_value"), definition.get("max_value")
        if (low is not None and value < low) or (high is not None and value > high):
            raise ValueError(f"option {name!r}: {value} is outside [{low}, {high}]")
    if isinstance(value, str):
        low, high = definition.get("min_length"), definition.get("max_length")
        if (low is not None and len(value) < low) or (high is not None and len(value) > high):
            raise ValueError(f"option {name!r}: length {len(value)} is outside [{low}, {high}]")


def _modal_submission(modal: dict[str, Any], values: dict[str, str]) -> list[dict[str, Any]]:
    """The `components` of a MODAL_SUBMIT, shaped like the modal the bot sent."""
    submitted: list[dict[str, Any]] = []
    remaining = dict(values)

    def text_input(component: dict[str, Any]) -> dict[str, Any] | None:
        if component.get("type") != 4:
            return None
        custom_id = component["custom_id"]
        # A field the user leaves alone is submitted with what the bot filled in, as Discord's
        # client does.
        value = remaining.pop(custom_id, component.get("value"))
        if value is None:
            if component.get("required", True):
                raise ValueError(f"modal field {custom_id!r} is required")
            value = ""
        if len(value) > int(component.get("max_length", 4000)) or len(value) < int(
            component.get("min_length", 0)
        ):
            raise ValueError(f"modal field {custom_id!r}: length {len(value)} out of range")
        return {"type": 4, "custom_id": custom_id, "value": value}

    for row in modal.get("components", []):
        if row.get("type") == 1:
            inner = [c for c in (text_input(x) for x in row.get("components", [])) if c]
            if inner:
                submitted.append({"type": 1, "components": inner})
        elif row.get("type") == 18:
            inner_component = text_input(row.get("component", {}))
            if inner_component:
                entry = {"type": 18, "component": inner_component}
                if "id" in row:
                    entry["id"] = row["id"]
                submitted.append(entry)
    if remaining:
        raise LookupError(f"the modal has no field(s) {sorted(remaining)}")
    return submitted


__all__ = ["AttachmentSpec", "Channels", "FakeDiscord", "Users"]
