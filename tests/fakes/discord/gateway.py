"""The fake gateway: HELLO, heartbeats, IDENTIFY → READY + GUILD_CREATE, RESUME, dispatches.

Sessions outlive connections the way Discord's do: when the fake drops a connection, events
dispatched meanwhile are kept and replayed when the client RESUMEs with its session id and
sequence number. Shards follow Discord's rule, guild on shard `(guild_id >> 22) % shard_count`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from .records import GatewayEvent

if TYPE_CHECKING:
    from .harness import FakeDiscord

# Opcodes
DISPATCH, HEARTBEAT, IDENTIFY, PRESENCE, VOICE_STATE = 0, 1, 2, 3, 4
RESUME, RECONNECT, REQUEST_MEMBERS, INVALID_SESSION, HELLO, HEARTBEAT_ACK = 6, 7, 8, 9, 10, 11

# Intents
GUILDS = 1 << 0
GUILD_MEMBERS = 1 << 1
GUILD_PRESENCES = 1 << 8
GUILD_MESSAGES = 1 << 9
DIRECT_MESSAGES = 1 << 12
MESSAGE_CONTENT = 1 << 15
PRIVILEGED = GUILD_MEMBERS | GUILD_PRESENCES | MESSAGE_CONTENT

HEARTBEAT_INTERVAL_MS = 41_250
REPLAY_BUFFER = 1000


class GatewayConnection:
    """One websocket; sends JSON text frames, or a zlib stream when the client asked for one."""

    def __init__(self, ws: web.WebSocketResponse, *, zlib_stream: bool) -> None:
        self.ws = ws
        self._zlib = zlib.compressobj() if zlib_stream else None
        self._lock = asyncio.Lock()
        self.dropped_by_server = False
        self.session: GatewaySession | None = None

    async def send(self, payload: dict[str, Any]) -> bool:
        text = json.dumps(payload, separators=(",", ":"))
        async with self._lock:
            if self.ws.closed:
                return False
            try:
                if self._zlib is not None:
                    data = self._zlib.compress(text.encode()) + self._zlib.flush(zlib.Z_SYNC_FLUSH)
                    await self.ws.send_bytes(data)
                else:
                    await self.ws.send_str(text)
            except (ConnectionError, RuntimeError):
                return False
        return True

    async def close(self, code: int, message: str = "") -> None:
        with contextlib.suppress(Exception):
            await self.ws.close(code=code, message=message.encode())


@dataclass(eq=False)
class GatewaySession:
    id: str
    shard: tuple[int, int]
    intents: int
    seq: int = 0
    sent: list[dict[str, Any]] = field(default_factory=list)
    conn: GatewayConnection | None = None
    resumable: bool = True
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def owns_guild(self, guild_id: int | None) -> bool:
        shard_id, count = self.shard
        if guild_id is None:
            return shard_id == 0  # DMs arrive on shard 0
        return (guild_id >> 22) % count == shard_id

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        """Number the event, keep it for a resume, and send it if a connection is attached."""
        async with self.lock:
            self.seq += 1
            payload = {"op": DISPATCH, "t": event, "s": self.seq, "d": data}
            self.sent.append(payload)
            del self.sent[:-REPLAY_BUFFER]
            if self.conn is not None:
                await self.conn.send(payload)


class Gateway:
    """Websocket endpoint plus the table of sessions, owned by a FakeDiscord."""

    def __init__(self, fake: FakeDiscord) -> None:
        self.fake = fake
        self.sessions: dict[str, GatewaySession] = {}
        self.connections: set[GatewayConnection] = set()
        self.allowed_intents = PRIVILEGED  # privileged intents enabled in the "developer portal"
        self._changed = asyncio.Condition()

    # -- bookkeeping ---------------------------------------------------------------------------

    async def _log(
        self, kind: str, session: GatewaySession | None, event: str | None = None
    ) -> None:
        self.fake.gateway_log.append(
            GatewayEvent(
                kind,
                session.shard if session else None,
                session.id if session else None,
                self.fake.clock(),
                event,
            )
        )
        async with self._changed:
            self._changed.notify_all()

    async def wait_for(
        self, predicate: Callable[[GatewayEvent], bool], timeout: float
    ) -> GatewayEvent:
        async def find() -> GatewayEvent:
            async with self._changed:
                while True:
                    for entry in self.fake.gateway_log:
                        if predicate(entry):
                            return entry
                    await self._changed.wait()

        return await asyncio.wait_for(find(), timeout)

    def live_sessions(self) -> list[GatewaySession]:
        return [s for s in self.sessions.values() if s.resumable]

    def sessions_for(self, guild_id: int | None) -> list[GatewaySession]:
        """The newest live session of each shard that owns this guild (one per shard count)."""
        newest: dict[tuple[int, int], GatewaySession] = {}
        for session in self.live_sessions():
            if session.owns_guild(guild_id):
                newest[session.shard] = session  # dicts keep insertion order: later wins
        return list(newest.values())

    async def dispatch(
        self, guild_id: int | None, event: str, data: dict[str, Any], *, intent: int | None = None
    ) -> int:
        """Send an event to every session owning the guild (filtered by intent); returns count."""
        count = 0
        for session in self.sessions_for(guild_id):
            if intent is not None and not session.intents & intent:
                continue
            payload = self.fake.shape_event_for(session.intents, event, data)
            await session.dispatch(event, payload)
            await self._log("DISPATCH", session, event)
            count += 1
        return count

    async def drop(
        self, *, shard_id: int | None = None, code: int = 4000, resumable: bool = True
    ) -> int:
        """Close the connections (the client should reconnect and RESUME); returns how many."""
        dropped = 0
        for session in list(self.sessions.values()):
            if shard_id is not None and session.shard[0] != shard_id:
                continue
            conn = session.conn
            if conn is None:
                continue
            session.resumable = resumable
            conn.dropped_by_server = True
            session.conn = None
            await conn.close(code, "fake gateway drop")
            await self._log("DROPPED", session)
            dropped += 1
        return dropped

    async def close(self) -> None:
        for conn in list(self.connections):
            conn.dropped_by_server = True
            await conn.close(1001, "fake discord shutting down")
        self.connections.clear()

    # -- the websocket -------------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(max_msg_size=0, autoping=True)
        await ws.prepare(request)
        conn = GatewayConnection(ws, zlib_stream=request.query.get("compress") == "zlib-stream")
        self.connections.add(conn)
        try:
            await conn.send(
                {
                    "op": HELLO,
                    "d": {"heartbeat_interval": HEARTBEAT_INTERVAL_MS, "_trace": ["fake-gateway"]},
                    "s": None,
                    "t": None,
                }
            )
            async for msg in ws:
                if msg.type is not WSMsgType.TEXT:
                    continue
                try:
                    packet = json.loads(msg.data)
                except ValueError:
                    await conn.close(4002, "Decode error")
                    break
                await self._on_packet(conn, packet)
        finally:
            self.connections.discard(conn)
            session = conn.session
            if session is not None and session.conn is conn:
                session.conn = None
                # A client that closes with 1000/1001 ends its session (Discord's rule).
                if not conn.dropped_by_server and ws.close_code in (1000, 1001):
                    session.resumable = False
                await self._log("CLOSED", session)
        return ws

    async def _on_packet(self, conn: GatewayConnection, packet: dict[str, Any]) -> None:
        op, data = packet.get("op"), packet.get("d")
        if op == HEARTBEAT:
            await conn.send({"op": HEARTBEAT_ACK, "d": None, "s": None, "t": None})
        elif op == IDENTIFY:
            await self._identify(conn, data or {})
        elif op == RESUME:
            await self._resume(conn, data or {})
        elif op == REQUEST_MEMBERS:
            await self._request_members(conn, data or {})
        elif op in (PRESENCE, VOICE_STATE):
            pass
        else:
            await conn.close(4001, "Unknown opcode")

    async def _identify(self, conn: GatewayConnection, data: dict[str, Any]) -> None:
        if conn.session is not None:
            await conn.close(4005, "Already authenticated")
            return
        if data.get("token") != self.fake.token:
            await conn.close(4004, "Authentication failed")
            return
        shard_id, count = data.get("shard") or [0, 1]
        if not (0 <= shard_id < count):
            await conn.close(4010, "Invalid shard")
            return
        intents = int(data.get("intents", 0))
        if intents & PRIVILEGED & ~self.allowed_intents:
            await conn.close(4014, "Disallowed intent(s)")
            return
        session = GatewaySession(id=secrets.token_hex(16), shard=(shard_id, count), intents=intents)
        self.sessions[session.id] = session
        conn.session = session
        session.conn = conn
        await self._log("IDENTIFY", session)
        guilds = [g for g in self.fake.guilds.values() if session.owns_guild(g.id)]
        ready = {
            "v": 10,
            "user": dict(
                self.fake.bot_user.payload(), verified=True, mfa_enabled=False, email=None
            ),
            "user_settings": {},
            "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
            "session_id": session.id,
            "session_type": "normal",
            "resume_gateway_url": self.fake.resume_gateway_url,
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": ["fake"],
            "auth": {},
            "application": {
                "id": str(self.fake.application_id),
                "flags": self.fake.application_flags,
            },
            "_trace": ["fake-gateway"],
        }
        if data.get("shard") is not None:
            ready["shard"] = [shard_id, count]
        await session.dispatch("READY", ready)
        await self._log("READY", session)
        for guild in guilds:
            await session.dispatch(
                "GUILD_CREATE",
                guild.payload(
                    include_members=bool(intents & GUILD_MEMBERS), bot_id=self.fake.bot_user.id
                ),
            )

    async def _resume(self, conn: GatewayConnection, data: dict[str, Any]) -> None:
        session = self.sessions.get(str(data.get("session_id")))
        await self._log("RESUME", session)
        if session is None or not session.resumable or data.get("token") != self.fake.token:
            await conn.send({"op": INVALID_SESSION, "d": False, "s": None, "t": None})
            await self._log("INVALID_SESSION", session)
            return
        last_seen = int(data.get("seq") or 0)
        async with session.lock:
            old = session.conn
            if old is not None and old is not conn:
                old.dropped_by_server = True
                await old.close(4000, "Session resumed elsewhere")
            session.conn = conn
            conn.session = session
            for payload in session.sent:
                if payload["s"] > last_seen:
                    await conn.send(payload)
            session.seq += 1
            resumed = {
                "op": DISPATCH,
                "t": "RESUMED",
                "s": session.seq,
                "d": {"_trace": ["fake-gateway"]},
            }
            session.sent.append(resumed)
            await conn.send(resumed)
        await self._log("RESUMED", session)

    async def _request_members(self, conn: GatewayConnection, data: dict[str, Any]) -> None:
        session = conn.session
        guild = self.fake.guilds.get(int(data.get("guild_id", 0)))
        if session is None or guild is None:
            return
        wanted = {int(u) for u in data.get("user_ids") or []}
        query = (data.get("query") or "").lower()
        members = [
            m
            for m in guild.members.values()
            if (not wanted or m.user.id in wanted) and m.user.username.lower().startswith(query)
        ]
        limit = int(data.get("limit") or 0)
        if limit:
            members = members[:limit]
        chunk: dict[str, Any] = {
            "guild_id": str(guild.id),
            "members": [m.payload() for m in members],
            "chunk_index": 0,
            "chunk_count": 1,
            "not_found": [str(u) for u in wanted - {m.user.id for m in members}],
        }
        if data.get("nonce"):
            chunk["nonce"] = data["nonce"]
        await session.dispatch("GUILD_MEMBERS_CHUNK", chunk)


__all__ = [
    "DIRECT_MESSAGES",
    "GUILDS",
    "GUILD_MEMBERS",
    "GUILD_MESSAGES",
    "MESSAGE_CONTENT",
    "PRIVILEGED",
    "Gateway",
    "GatewaySession",
]
