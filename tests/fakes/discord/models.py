"""The fake Discord's world: users, guilds, channels, roles, messages and attachments.

Each model renders itself as the JSON Discord would send (`payload()`), so the REST answers and
gateway events built from them parse in discord.py exactly like the real thing.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

DISCORD_EPOCH_MS = 1_420_070_400_000
MIB = 1024 * 1024

# Permission bits (https://discord.com/developers/docs/topics/permissions).
CREATE_INSTANT_INVITE = 1 << 0
KICK_MEMBERS = 1 << 1
BAN_MEMBERS = 1 << 2
ADMINISTRATOR = 1 << 3
MANAGE_CHANNELS = 1 << 4
MANAGE_GUILD = 1 << 5
ADD_REACTIONS = 1 << 6
VIEW_AUDIT_LOG = 1 << 7
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
MANAGE_MESSAGES = 1 << 13
EMBED_LINKS = 1 << 14
ATTACH_FILES = 1 << 15
READ_MESSAGE_HISTORY = 1 << 16
MENTION_EVERYONE = 1 << 17
USE_EXTERNAL_EMOJIS = 1 << 18
CHANGE_NICKNAME = 1 << 26
USE_APPLICATION_COMMANDS = 1 << 31
MODERATE_MEMBERS = 1 << 40
SEND_MESSAGES_IN_THREADS = 1 << 38
USE_EXTERNAL_APPS = 1 << 50
ALL_PERMISSIONS = (1 << 51) - 1

EVERYONE_DEFAULT = (
    CREATE_INSTANT_INVITE
    | ADD_REACTIONS
    | VIEW_CHANNEL
    | SEND_MESSAGES
    | EMBED_LINKS
    | ATTACH_FILES
    | READ_MESSAGE_HISTORY
    | USE_EXTERNAL_EMOJIS
    | CHANGE_NICKNAME
    | USE_APPLICATION_COMMANDS
    | SEND_MESSAGES_IN_THREADS
    | USE_EXTERNAL_APPS
)
BOT_DEFAULT = (
    VIEW_CHANNEL
    | SEND_MESSAGES
    | EMBED_LINKS
    | ATTACH_FILES
    | READ_MESSAGE_HISTORY
    | USE_EXTERNAL_EMOJIS
    | ADD_REACTIONS
    | SEND_MESSAGES_IN_THREADS
)

# Channel types and message flags used here.
GUILD_TEXT = 0
DM = 1
EPHEMERAL = 1 << 6
LOADING = 1 << 7


def iso(timestamp: float) -> str:
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).isoformat()


def snowflake_time(snowflake: int) -> float:
    return ((snowflake >> 22) + DISCORD_EPOCH_MS) / 1000


class SnowflakeFactory:
    """Unique, increasing ids that carry the current time, like Discord's."""

    def __init__(self) -> None:
        self._last = 0

    def next(self, *, shard: tuple[int, int] | None = None) -> int:
        now_ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
        candidate = max(now_ms << 22, self._last + 1)
        if shard is not None:
            # A guild lives on shard (id >> 22) % count; step the timestamp part until it fits.
            shard_id, count = shard
            while (candidate >> 22) % count != shard_id:
                candidate = ((candidate >> 22) + 1) << 22
        self._last = candidate
        return candidate


def sniff_image(data: bytes) -> tuple[str | None, int | None, int | None]:
    """(content_type, width, height) the way Discord's media service reports them."""
    signatures = {
        b"\x89PNG\r\n\x1a\n": "image/png",
        b"\xff\xd8\xff": "image/jpeg",
        b"GIF8": "image/gif",
    }
    content_type = next((ct for sig, ct in signatures.items() if data.startswith(sig)), None)
    if content_type is None and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        content_type = "image/webp"
    if content_type is None:
        return None, None, None
    try:
        from PIL import Image

        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
    except Exception:  # not decodable: Discord still stores it, without dimensions
        return content_type, None, None
    return content_type, width, height


@dataclass(eq=False)
class FakeUser:
    id: int
    username: str
    global_name: str | None = None
    bot: bool = False

    @property
    def mention(self) -> str:
        return f"<@{self.id}>"

    def payload(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(self.id),
            "username": self.username,
            "discriminator": "0",
            "global_name": self.global_name,
            "avatar": None,
            "avatar_decoration_data": None,
            "banner": None,
            "accent_color": None,
            "public_flags": 0,
            "flags": 0,
            "collectibles": None,
            "primary_guild": None,
        }
        if self.bot:
            data["bot"] = True
        return data


@dataclass(eq=False)
class FakeRole:
    id: int
    name: str
    permissions: int
    position: int = 0
    managed: bool = False
    mentionable: bool = False
    bot_id: int | None = None

    @property
    def mention(self) -> str:
        return f"<@&{self.id}>"

    def payload(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(self.id),
            "name": self.name,
            "description": None,
            "color": 0,
            "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
            "hoist": False,
            "icon": None,
            "unicode_emoji": None,
            "position": self.position,
            "permissions": str(self.permissions),
            "managed": self.managed,
            "mentionable": self.mentionable,
            "flags": 0,
        }
        if self.bot_id is not None:
            data["tags"] = {"bot_id": str(self.bot_id)}
        return data


@dataclass
class Overwrite:
    id: int
    type: int  # 0 role, 1 member
    allow: int = 0
    deny: int = 0

    def payload(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "type": self.type,
            "allow": str(self.allow),
            "deny": str(self.deny),
        }


@dataclass(eq=False)
class FakeChannel:
    id: int
    name: str
    type: int = GUILD_TEXT
    guild_id: int | None = None
    nsfw: bool = False
    position: int = 0
    topic: str | None = None
    overwrites: list[Overwrite] = field(default_factory=list)
    recipients: list[FakeUser] = field(default_factory=list)  # DMs only
    last_message_id: int | None = None

    @property
    def mention(self) -> str:
        return f"<#{self.id}>"

    def payload(self) -> dict[str, Any]:
        if self.type == DM:
            return {
                "id": str(self.id),
                "type": DM,
                "last_message_id": str(self.last_message_id) if self.last_message_id else None,
                "flags": 0,
                "recipients": [user.payload() for user in self.recipients],
            }
        return {
            "id": str(self.id),
            "type": self.type,
            "guild_id": str(self.guild_id),
            "name": self.name,
            "position": self.position,
            "parent_id": None,
            "topic": self.topic,
            "nsfw": self.nsfw,
            "rate_limit_per_user": 0,
            "last_message_id": str(self.last_message_id) if self.last_message_id else None,
            "permission_overwrites": [o.payload() for o in self.overwrites],
            "flags": 0,
        }


@dataclass(eq=False)
class FakeMember:
    user: FakeUser
    roles: list[int]
    joined_at: float
    nick: str | None = None

    def payload(self) -> dict[str, Any]:
        return {
            "user": self.user.payload(),
            "nick": self.nick,
            "avatar": None,
            "banner": None,
            "roles": [str(r) for r in self.roles],
            "joined_at": iso(self.joined_at),
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
            "communication_disabled_until": None,
            "unusual_dm_activity_until": None,
        }


@dataclass(eq=False)
class FakeGuild:
    id: int
    name: str
    owner_id: int
    preferred_locale: str = "en-US"
    roles: dict[int, FakeRole] = field(default_factory=dict)
    channels: dict[int, FakeChannel] = field(default_factory=dict)
    members: dict[int, FakeMember] = field(default_factory=dict)
    attachment_size_limit: int = 10 * MIB
    joined_at: float = field(default_factory=time.time)

    @property
    def everyone(self) -> FakeRole:
        return self.roles[self.id]

    def role_named(self, name: str) -> FakeRole:
        return next(role for role in self.roles.values() if role.name == name)

    def base_permissions(self, user_id: int) -> int:
        if user_id == self.owner_id:
            return ALL_PERMISSIONS
        member = self.members.get(user_id)
        perms = self.everyone.permissions
        for role_id in member.roles if member else []:
            perms |= self.roles[role_id].permissions
        return ALL_PERMISSIONS if perms & ADMINISTRATOR else perms

    def permissions_in(self, channel: FakeChannel, user_id: int) -> int:
        """Discord's algorithm: base, then @everyone, role and member overwrites in order."""
        perms = self.base_permissions(user_id)
        if perms & ADMINISTRATOR or user_id == self.owner_id:
            return ALL_PERMISSIONS
        member = self.members.get(user_id)
        member_roles = set(member.roles) if member else set()
        by_id = {o.id: o for o in channel.overwrites}
        if self.id in by_id:
            perms = (perms & ~by_id[self.id].deny) | by_id[self.id].allow
        allow = deny = 0
        for overwrite in channel.overwrites:
            if overwrite.type == 0 and overwrite.id in member_roles:
                allow |= overwrite.allow
                deny |= overwrite.deny
        perms = (perms & ~deny) | allow
        mine = next((o for o in channel.overwrites if o.type == 1 and o.id == user_id), None)
        if mine is not None:
            perms = (perms & ~mine.deny) | mine.allow
        return perms

    def payload(self, *, include_members: bool, bot_id: int) -> dict[str, Any]:
        """A GUILD_CREATE payload (members other than the bot only with the members intent)."""
        members = [
            m.payload() for m in self.members.values() if include_members or m.user.id == bot_id
        ]
        text_channels = [c for c in self.channels.values()]
        return {
            "id": str(self.id),
            "name": self.name,
            "icon": None,
            "icon_hash": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "owner_id": str(self.owner_id),
            "region": "deprecated",
            "afk_channel_id": None,
            "afk_timeout": 300,
            "widget_enabled": False,
            "widget_channel_id": None,
            "verification_level": 1,
            "default_message_notifications": 1,
            "explicit_content_filter": 2,
            "roles": [role.payload() for role in self.roles.values()],
            "emojis": [],
            "stickers": [],
            "features": [],
            "mfa_level": 0,
            "application_id": None,
            "system_channel_id": str(text_channels[0].id) if text_channels else None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "safety_alerts_channel_id": None,
            "max_members": 500000,
            "max_video_channel_users": 25,
            "max_stage_video_channel_users": 50,
            "vanity_url_code": None,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "premium_progress_bar_enabled": False,
            "preferred_locale": self.preferred_locale,
            "nsfw_level": 0,
            "nsfw": False,
            "hub_type": None,
            "incidents_data": None,
            "latest_onboarding_question_id": None,
            "home_header": None,
            "inventory_settings": None,
            "version": 0,
            # GUILD_CREATE extras
            "joined_at": iso(self.joined_at),
            "large": False,
            "unavailable": False,
            "lazy": True,
            "member_count": len(self.members),
            "voice_states": [],
            "members": members,
            "channels": [c.payload() for c in self.channels.values()],
            "threads": [],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
            "embedded_activities": [],
            "activity_instances": [],
            "application_command_counts": {},
        }

    def interaction_guild(self) -> dict[str, Any]:
        return {"id": str(self.id), "locale": self.preferred_locale, "features": []}


@dataclass(eq=False)
class FakeAttachment:
    id: int
    filename: str
    data: bytes
    content_type: str | None
    path: str  # on the fake CDN, e.g. /attachments/{channel_id}/{id}/{filename}
    signer: Callable[[str], str] = field(repr=False)  # path -> signed URL, current generation
    description: str | None = None
    width: int | None = None
    height: int | None = None
    ephemeral: bool = False

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def url(self) -> str:
        """A signed URL as Discord hands out now; it stops working after `expire_cdn_links()`."""
        return self.signer(self.path)

    @property
    def proxy_url(self) -> str:
        return self.signer("/media" + self.path)

    def payload(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(self.id),
            "filename": self.filename,
            "size": self.size,
            "url": self.url,
            "proxy_url": self.proxy_url,
            "placeholder": None,
            "placeholder_version": 1,
            "flags": 0,
        }
        if self.content_type:
            data["content_type"] = self.content_type
        if self.width is not None:
            data["width"] = self.width
            data["height"] = self.height
        if self.description is not None:
            data["description"] = self.description
        if self.ephemeral:
            data["ephemeral"] = True
        return data


@dataclass(frozen=True)
class Pings:
    """Who a message notified when it was sent (Discord notifies on send, never on edit)."""

    users: frozenset[int] = frozenset()
    roles: frozenset[int] = frozenset()
    everyone: bool = False

    @property
    def nobody(self) -> bool:
        return not (self.users or self.roles or self.everyone)


_USER_MENTION = re.compile(r"<@!?(\d+)>")
_ROLE_MENTION = re.compile(r"<@&(\d+)>")


def compute_pings(
    content: str,
    allowed_mentions: dict[str, Any] | None,
    *,
    replied_author: int | None = None,
) -> Pings:
    """Discord's rule: mentions in `content`, filtered by `allowed_mentions` (absent = parse all)."""
    users = {int(u) for u in _USER_MENTION.findall(content or "")}
    roles = {int(r) for r in _ROLE_MENTION.findall(content or "")}
    everyone = "@everyone" in (content or "") or "@here" in (content or "")
    if allowed_mentions is None:
        if replied_author is not None:
            users.add(replied_author)
        return Pings(frozenset(users), frozenset(roles), everyone)
    parse = set(allowed_mentions.get("parse") or [])
    allowed_users = {int(u) for u in allowed_mentions.get("users") or []}
    allowed_roles = {int(r) for r in allowed_mentions.get("roles") or []}
    pinged_users = users if "users" in parse else users & allowed_users
    pinged_roles = roles if "roles" in parse else roles & allowed_roles
    if replied_author is not None and allowed_mentions.get("replied_user"):
        pinged_users = pinged_users | {replied_author}
    return Pings(frozenset(pinged_users), frozenset(pinged_roles), everyone and "everyone" in parse)


@dataclass(eq=False)
class FakeMessage:
    """A message as users see it now: every edit the bot made is already applied."""

    id: int
    channel_id: int
    guild_id: int | None
    author: FakeUser
    content: str = ""
    embeds: list[dict[str, Any]] = field(default_factory=list)
    components: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[FakeAttachment] = field(default_factory=list)
    flags: int = 0
    type: int = 0
    allowed_mentions: dict[str, Any] | None = None
    tts: bool = False
    webhook_id: int | None = None
    application_id: int | None = None
    interaction_token: str | None = None
    interaction_metadata: dict[str, Any] | None = None
    message_reference: dict[str, Any] | None = None
    pings: Pings | None = None  # set when the message is really sent (after a defer: on the edit)
    created_at: float = field(default_factory=time.time)
    edited_at: float | None = None
    edit_count: int = 0
    revisions: list[dict[str, Any]] = field(default_factory=list)  # content/embeds/... per edit

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & EPHEMERAL)

    @property
    def loading(self) -> bool:
        return bool(self.flags & LOADING)

    @property
    def custom_ids(self) -> list[str]:
        """Every component custom_id on the message, in order (buttons, selects)."""
        found: list[str] = []

        def walk(items: list[dict[str, Any]]) -> None:
            for item in items:
                if "custom_id" in item:
                    found.append(item["custom_id"])
                walk(item.get("components") or [])
                if isinstance(item.get("accessory"), dict):
                    walk([item["accessory"]])

        walk(self.components)
        return found

    def find_component(self, custom_id: str) -> dict[str, Any] | None:
        stack = list(self.components)
        while stack:
            item = stack.pop(0)
            if item.get("custom_id") == custom_id:
                return item
            stack.extend(item.get("components") or [])
            if isinstance(item.get("accessory"), dict):
                stack.append(item["accessory"])
        return None

    def snapshot(self) -> dict[str, Any]:
        return {
            "content": self.content,
            "embeds": list(self.embeds),
            "components": list(self.components),
            "attachments": [a.filename for a in self.attachments],
            "flags": self.flags,
        }

    def payload(self, users: dict[int, FakeUser] | None = None) -> dict[str, Any]:
        """The message object; `users` resolves `<@id>` in the content into `mentions`."""
        known = users or {}
        mentioned = compute_pings(self.content, {"parse": ["users"]}).users
        data: dict[str, Any] = {
            "id": str(self.id),
            "type": self.type,
            "channel_id": str(self.channel_id),
            "author": self.author.payload(),
            "content": self.content,
            "timestamp": iso(self.created_at),
            "edited_timestamp": iso(self.edited_at) if self.edited_at else None,
            "tts": self.tts,
            "mention_everyone": bool(self.pings and self.pings.everyone),
            "mentions": [known[u].payload() for u in sorted(mentioned) if u in known],
            "mention_roles": [
                str(r) for r in sorted(compute_pings(self.content, {"parse": ["roles"]}).roles)
            ],
            "mention_channels": [],
            "attachments": [a.payload() for a in self.attachments],
            "embeds": [dict({"type": "rich"}, **e) for e in self.embeds],
            "components": _with_component_ids(self.components),
            "pinned": False,
            "flags": self.flags,
        }
        if self.guild_id is not None:
            data["guild_id"] = str(self.guild_id)
        if self.webhook_id is not None:
            data["webhook_id"] = str(self.webhook_id)
        if self.application_id is not None:
            data["application_id"] = str(self.application_id)
        if self.interaction_metadata is not None:
            data["interaction_metadata"] = self.interaction_metadata
        if self.message_reference is not None:
            data["message_reference"] = self.message_reference
        return data


def _with_component_ids(components: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Discord numbers every component in its answers (`id`); requests may leave them out."""
    counter = 0

    def number(item: dict[str, Any]) -> dict[str, Any]:
        nonlocal counter
        counter += 1
        out = dict(item)
        out.setdefault("id", counter)
        if isinstance(out.get("components"), list):
            out["components"] = [number(child) for child in out["components"]]
        if isinstance(out.get("accessory"), dict):
            out["accessory"] = number(out["accessory"])
        return out

    return [number(item) for item in components]


__all__ = [
    "ADMINISTRATOR",
    "ALL_PERMISSIONS",
    "ATTACH_FILES",
    "BOT_DEFAULT",
    "DM",
    "EMBED_LINKS",
    "EPHEMERAL",
    "EVERYONE_DEFAULT",
    "GUILD_TEXT",
    "LOADING",
    "MANAGE_GUILD",
    "MANAGE_MESSAGES",
    "MIB",
    "SEND_MESSAGES",
    "VIEW_CHANNEL",
    "FakeAttachment",
    "FakeChannel",
    "FakeGuild",
    "FakeMember",
    "FakeMessage",
    "FakeRole",
    "FakeUser",
    "Overwrite",
    "Pings",
    "SnowflakeFactory",
    "compute_pings",
    "iso",
    "sniff_image",
    "snowflake_time",
]
