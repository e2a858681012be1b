"""The message store: creates messages, applies edits the way Discord does, keeps file bytes.

A test reads `fake.messages[id]` and sees the message as a user would see it now: edits
applied, attachments kept or replaced according to the request's `attachments` array, new
files appended, the loading state of a deferred response cleared by its first edit.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from .models import (
    EPHEMERAL,
    LOADING,
    FakeAttachment,
    FakeMessage,
    FakeUser,
    SnowflakeFactory,
    compute_pings,
    sniff_image,
)
from .records import DiscordError, UploadedFile

MAX_ATTACHMENTS = 10
SUPPRESS_EMBEDS = 1 << 2
SUPPRESS_NOTIFICATIONS = 1 << 12
IS_COMPONENTS_V2 = 1 << 15
_SETTABLE_FLAGS = SUPPRESS_EMBEDS | SUPPRESS_NOTIFICATIONS | IS_COMPONENTS_V2


def _form_error(path: list[str | int], code: str, message: str) -> DiscordError:
    errors: dict[str, Any] = {}
    node = errors
    for part in path:
        node = node.setdefault(str(part), {})
    node["_errors"] = [{"code": code, "message": message}]
    return DiscordError(400, 50035, "Invalid Form Body", errors=errors)


def _safe_filename(name: str) -> str:
    # Discord replaces characters it does not keep in attachment names with underscores.
    cleaned = re.sub(r"[^\w.\-]", "_", name.strip()) or "unknown"
    return cleaned[:1024]


class MessageStore:
    """Messages by id, deleted ones kept aside, and every attachment's bytes for the CDN."""

    def __init__(self, ids: SnowflakeFactory, sign_url: Callable[[str], str]) -> None:
        self._ids = ids
        self._sign = sign_url
        self.messages: dict[int, FakeMessage] = {}
        self.deleted: dict[int, FakeMessage] = {}
        self.blobs: dict[int, FakeAttachment] = {}

    # -- attachments ---------------------------------------------------------------------------

    def new_attachment(
        self,
        *,
        scope: str,
        scope_id: int,
        filename: str,
        data: bytes,
        content_type: str | None = None,
        description: str | None = None,
        ephemeral: bool = False,
    ) -> FakeAttachment:
        """Store bytes under a CDN path (`attachments/...` or `ephemeral-attachments/...`)."""
        attachment_id = self._ids.next()
        name = _safe_filename(filename)
        sniffed, width, height = sniff_image(data)
        path = f"/{scope}/{scope_id}/{attachment_id}/{quote(name)}"
        attachment = FakeAttachment(
            id=attachment_id,
            filename=name,
            data=data,
            # Discord reports the type it detects; the multipart header is usually octet-stream.
            content_type=sniffed
            or (content_type if content_type != "application/octet-stream" else None),
            path=path,
            signer=self._sign,
            description=description,
            width=width,
            height=height,
            ephemeral=ephemeral,
        )
        self.blobs[attachment_id] = attachment
        return attachment

    def _uploads(
        self,
        channel_id: int,
        body: dict[str, Any],
        files: list[UploadedFile],
        *,
        editing: FakeMessage | None,
    ) -> list[FakeAttachment]:
        """The attachments after this request, per the `attachments` array semantics."""
        by_index = {f.index: f for f in files if f.index is not None}
        entries = body.get("attachments")
        existing = list(editing.attachments) if editing else []

        def upload(upload: UploadedFile, entry: dict[str, Any] | None) -> FakeAttachment:
            entry = entry or {}
            return self.new_attachment(
                scope="attachments",
                scope_id=channel_id,
                filename=entry.get("filename") or upload.filename,
                data=upload.data,
                content_type=upload.content_type,
                description=entry.get("description"),
            )

        if entries is None:
            # No array: existing attachments stay and every uploaded file is appended.
            return existing + [upload(f, None) for f in files]
        result: list[FakeAttachment] = []
        used: set[int] = set()
        for position, entry in enumerate(entries):
            raw_id = entry.get("id")
            try:
                wanted = int(raw_id)
            except (TypeError, ValueError):
                raise _form_error(
                    ["attachments", position, "id"], "BASE_TYPE_REQUIRED", "This field is required"
                ) from None
            kept = next((a for a in existing if a.id == wanted), None)
            if kept is not None:
                result.append(kept)
            elif wanted in by_index:
                result.append(upload(by_index[wanted], entry))
                used.add(wanted)
            else:
                raise _form_error(
                    ["attachments", position, "id"],
                    "ATTACHMENT_NOT_FOUND",
                    f"Unknown attachment {raw_id}: neither a file of this request nor kept from the message.",
                )
        if editing is None:
            # When creating, files the array does not describe are still attached.
            result += [upload(f, None) for i, f in by_index.items() if i not in used]
        return result

    # -- messages ------------------------------------------------------------------------------

    def create(
        self,
        *,
        channel_id: int,
        guild_id: int | None,
        author: FakeUser,
        body: dict[str, Any],
        files: list[UploadedFile],
        loading: bool = False,
        replied_author: int | None = None,
        **extra: Any,
    ) -> FakeMessage:
        """A new message from a create request (channel, webhook, or interaction response)."""
        attachments = self._uploads(channel_id, body, files, editing=None)
        self._check_count(attachments)
        flags = int(body.get("flags") or 0)
        message = FakeMessage(
            id=self._ids.next(),
            channel_id=channel_id,
            guild_id=guild_id,
            author=author,
            content=body.get("content") or "",
            embeds=list(body.get("embeds") or []),
            components=list(body.get("components") or []),
            attachments=attachments,
            flags=(flags & (_SETTABLE_FLAGS | EPHEMERAL)) | (LOADING if loading else 0),
            allowed_mentions=body.get("allowed_mentions"),
            tts=bool(body.get("tts")),
            **extra,
        )
        if not loading:
            self._check_not_empty(message)
            message.pings = compute_pings(
                message.content, message.allowed_mentions, replied_author=replied_author
            )
        message.revisions.append(message.snapshot())
        self.messages[message.id] = message
        return message

    def edit(
        self, message: FakeMessage, body: dict[str, Any], files: list[UploadedFile], *, now: float
    ) -> None:
        """Apply an edit; fields absent from the body are left as they are."""
        attachments = self._uploads(message.channel_id, body, files, editing=message)
        self._check_count(attachments)
        before = (
            message.content,
            message.embeds,
            message.components,
            message.attachments,
            message.flags,
        )
        if "content" in body:
            message.content = body["content"] or ""
        if "embeds" in body:
            message.embeds = list(body["embeds"] or [])
        if "components" in body:
            message.components = list(body["components"] or [])
        if "allowed_mentions" in body:
            message.allowed_mentions = body["allowed_mentions"]
        if body.get("flags") is not None:
            message.flags = (message.flags & ~_SETTABLE_FLAGS) | (
                int(body["flags"]) & _SETTABLE_FLAGS
            )
        message.attachments = attachments
        was_loading = message.loading
        message.flags &= ~LOADING
        try:
            self._check_not_empty(message)
        except DiscordError:
            (
                message.content,
                message.embeds,
                message.components,
                message.attachments,
                message.flags,
            ) = before
            raise
        if was_loading:
            # The first edit of a deferred response is when the message is really sent, so it
            # is the one that notifies; later edits never ping anyone.
            message.pings = compute_pings(message.content, message.allowed_mentions)
        else:
            message.edited_at = now
            message.edit_count += 1
        message.revisions.append(message.snapshot())

    def delete(self, message_id: int) -> FakeMessage | None:
        message = self.messages.pop(message_id, None)
        if message is not None:
            self.deleted[message_id] = message
        return message

    @staticmethod
    def _check_count(attachments: list[FakeAttachment]) -> None:
        if len(attachments) > MAX_ATTACHMENTS:
            raise _form_error(
                ["attachments"],
                "BASE_TYPE_MAX_LENGTH",
                f"Must be {MAX_ATTACHMENTS} or fewer in length.",
            )

    @staticmethod
    def _check_not_empty(message: FakeMessage) -> None:
        if not (message.content or message.embeds or message.attachments or message.components):
            raise DiscordError(400, 50006, "Cannot send an empty message")


__all__ = ["MAX_ATTACHMENTS", "MessageStore"]
