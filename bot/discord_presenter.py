"""The scheduler's window onto Discord: pending-message edits, delivery and failures.

Delivery order, so a result is never lost:
1. the interaction token, while it is valid (15 minutes less a margin) and Discord accepts it;
2. the channel message, edited with the bot's own token;
3. a new message in the channel that mentions the requester (and only them);
4. a direct message to the requester.
"""

from __future__ import annotations

import asyncio
import io
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import aiohttp
import discord

from bot.discord_render import failure_embed, pending_embed, result_embed
from bot.imagefit import ImageTooLarge, fit_image
from bot.jobs.model import Job, JobStatus

if TYPE_CHECKING:
    from bot.app import ImageBot
    from bot.cometapi import DownloadedImage

log = logging.getLogger(__name__)

DEFAULT_UPLOAD_LIMIT = 10 * 1024 * 1024
TOKEN_CODES = {50027, 10015}  # invalid webhook token, unknown webhook: the token is dead
GONE_CODES = {10008, 10003}  # unknown message, unknown channel
FORBIDDEN_CODES = {50013, 50001, 50007}  # missing permissions, missing access, cannot DM
TOO_LARGE_CODES = {40005}


@dataclass
class _EditState:
    last_at: float = 0.0
    last_key: tuple[Any, ...] = ()
    pending: asyncio.Task[None] | None = None
    latest: tuple[Job, int | None, float | None] | None = None


class DiscordPresenter:
    """Implements the scheduler's JobPresenter protocol with discord.py."""

    def __init__(
        self,
        bot: ImageBot,
        *,
        min_edit_interval: float = 3.0,
        token_margin: float = 60.0,
        monotonic: Any = time.monotonic,
    ) -> None:
        self.bot = bot
        self.min_edit_interval = min_edit_interval
        self.token_margin = token_margin
        self._monotonic = monotonic
        self._edits: dict[int, _EditState] = {}

    @property
    def _services(self):  # type: ignore[no-untyped-def]
        return self.bot.services

    # -- progress ---------------------------------------------------------------------------

    async def progress(self, job: Job, event: Any) -> None:
        """Edit the pending message when its text changes, at most once per interval."""
        if job.is_terminal:
            return
        position = getattr(event, "position", None)
        progress = getattr(event, "progress", None)
        state = self._edits.get(job.id)
        if state is None:
            # Posting the pending message was its first write: the interval starts there, so
            # a short job is not edited to "Generating…" a moment after it appeared (in a burst
            # that was one extra Discord request and database read per job, at the worst time).
            age = max(0.0, time.time() - job.created_at)
            state = self._edits[job.id] = _EditState(last_at=self._monotonic() - age)
        key = (job.status, position, None if progress is None else int(progress * 100))
        state.latest = (job, position, progress)
        if key == state.last_key:
            return
        wait = state.last_at + self.min_edit_interval - self._monotonic()
        if wait > 0:
            # A trailing edit carries the newest state once the interval has passed.
            if state.pending is None or state.pending.done():
                state.pending = asyncio.create_task(self._trailing_edit(job.id, wait))
            return
        await self._edit_pending(job.id, state)

    async def _trailing_edit(self, job_id: int, wait: float) -> None:
        await asyncio.sleep(wait)
        state = self._edits.get(job_id)
        if state is not None:
            await self._edit_pending(job_id, state)

    async def _edit_pending(self, job_id: int, state: _EditState) -> None:
        if state.latest is None:
            return
        job, position, progress = state.latest
        fresh = await self._services.jobs.get(job_id)
        if fresh is None or fresh.is_terminal:
            return
        key = (job.status, position, None if progress is None else int(progress * 100))
        if key == state.last_key:
            return
        state.last_key = key
        state.last_at = self._monotonic()
        from bot.discord_views import pending_view

        embed = pending_embed(
            self._services.messages,
            self._services.catalog,
            _merge(fresh, job),
            position=position,
            progress=progress,
        )
        try:
            await self._edit_existing(
                fresh, embed=embed, view=pending_view(fresh, self._services.messages)
            )
        except Exception as exc:  # progress is best effort; delivery is what must not fail
            log.info("pending edit for job %s skipped: %s", job_id, exc)

    def _forget(self, job_id: int) -> None:
        state = self._edits.pop(job_id, None)
        if state and state.pending and not state.pending.done():
            state.pending.cancel()

    # -- delivery ---------------------------------------------------------------------------

    async def deliver(self, job: Job, images: Sequence[DownloadedImage]) -> Any:
        from bot.discord_views import result_view
        from bot.jobs import DeliveryError

        self._forget(job.id)
        limit = job.upload_limit or DEFAULT_UPLOAD_LIMIT
        try:
            fitted = await asyncio.to_thread(_fit_all, images, limit)
        except ImageTooLarge as exc:
            raise DeliveryError(str(exc), permanent=True, kind="too_large_to_upload") from None
        services = self._services
        files = [
            discord.File(io.BytesIO(data), filename=f"job-{job.id}-{n}.{ext}")
            for n, (data, ext) in enumerate(fitted, start=1)
        ]
        embed = result_embed(services.messages, services.catalog, job)
        view = result_view(job, services.messages)
        return await self._final(job, embed=embed, view=view, files=files)

    async def finish(self, job: Job) -> None:
        self._forget(job.id)
        services = self._services
        embed = failure_embed(services.messages, services.catalog, job)
        await self._final(job, embed=embed, view=None, files=[])

    async def _final(
        self,
        job: Job,
        *,
        embed: discord.Embed,
        view: discord.ui.View | None,
        files: list[discord.File],
    ) -> Any:
        """Put the final state in front of the user by the first path that works."""
        from bot.jobs import DeliveryError, DeliveryReceipt

        fresh = await self._services.jobs.get(job.id) or job
        try:
            message, method = await self._edit_or_post(fresh, embed=embed, view=view, files=files)
        except discord.HTTPException as exc:
            if exc.code in TOO_LARGE_CODES or exc.status == 413:
                raise DeliveryError(str(exc), permanent=True, kind="too_large_to_upload") from None
            raise DeliveryError(
                f"Discord answered {exc.status}", permanent=False, kind="delivery_failed"
            ) from None
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise DeliveryError(
                f"network: {exc}", permanent=False, kind="delivery_failed"
            ) from None
        if fresh.interaction_token:
            # The user has the final state: the token (a 15-minute credential) is not kept.
            await self._services.jobs.update(job.id, interaction_token=None)
        attachments = (
            [{"id": a.id, "filename": a.filename} for a in message.attachments] if message else []
        )
        return DeliveryReceipt(
            message_id=message.id if message else None, attachments=attachments, method=method
        )

    def _token_usable(self, job: Job) -> bool:
        if not (job.interaction_token and job.application_id and job.message_id):
            return False
        expires = job.token_expires_at or 0
        return time.time() < expires - self.token_margin

    async def _edit_existing(
        self, job: Job, *, embed: discord.Embed, view: discord.ui.View | None
    ) -> discord.Message | None:
        """Edit the job's message (token first, then channel); None if neither works."""
        if self._token_usable(job):
            try:
                assert job.message_id is not None
                return await self._webhook(job).edit_message(
                    job.message_id,
                    content=None,
                    embed=embed,
                    view=view,  # type: ignore[arg-type]
                )
            except discord.HTTPException as exc:
                if exc.code not in TOKEN_CODES and exc.status != 401:
                    raise
                await self._services.jobs.update(job.id, interaction_token=None)
        if job.channel_id and job.message_id:
            partial = self.bot.get_partial_messageable(job.channel_id).get_partial_message(
                job.message_id
            )
            return await partial.edit(content=None, embed=embed, view=view)
        return None

    async def _edit_or_post(
        self,
        job: Job,
        *,
        embed: discord.Embed,
        view: discord.ui.View | None,
        files: list[discord.File],
    ) -> tuple[discord.Message | None, str]:
        kwargs: dict[str, Any] = {"embed": embed, "attachments": files}
        if view is not None:
            kwargs["view"] = view
        else:
            kwargs["view"] = None
        # 1. the interaction token
        if self._token_usable(job):
            try:
                assert job.message_id is not None
                message: discord.Message = await self._webhook(job).edit_message(
                    job.message_id,
                    content=None,
                    **kwargs,  # type: ignore[arg-type]
                )
                return message, "token"
            except discord.HTTPException as exc:
                if exc.code in GONE_CODES:
                    pass  # the message is gone: post anew below
                elif exc.code in TOKEN_CODES or exc.status == 401:
                    await self._services.jobs.update(job.id, interaction_token=None)
                    _rewind(files)
                    try:
                        return await self._edit_channel(job, kwargs), "channel"
                    except discord.HTTPException as exc2:
                        if exc2.code not in GONE_CODES | FORBIDDEN_CODES and exc2.status not in (
                            403,
                            404,
                        ):
                            raise
                else:
                    raise
        # 2. the channel message with the bot token
        elif job.channel_id and job.message_id:
            try:
                return await self._edit_channel(job, kwargs), "channel"
            except discord.HTTPException as exc:
                if exc.code not in GONE_CODES | FORBIDDEN_CODES and exc.status not in (403, 404):
                    raise
        _rewind(files)
        # 3. a new message in the channel, mentioning the requester only
        mention = f"<@{job.user_id}>"
        text = self._services.messages.t(job.locale, "delivery.new_message", mention=mention)
        only_requester = discord.AllowedMentions(
            everyone=False, roles=False, users=[discord.Object(id=job.user_id)], replied_user=False
        )
        if job.channel_id:
            try:
                channel = self.bot.get_partial_messageable(job.channel_id)
                sent = await channel.send(
                    content=text,
                    embed=embed,
                    files=files,
                    view=view or discord.utils.MISSING,
                    allowed_mentions=only_requester,
                )
                return sent, "new_message"
            except discord.HTTPException as exc:
                if exc.code not in GONE_CODES | FORBIDDEN_CODES and exc.status not in (403, 404):
                    raise
        _rewind(files)
        # 4. a direct message
        user = self.bot.get_user(job.user_id) or await self.bot.fetch_user(job.user_id)
        direct = await user.send(
            content=self._services.messages.t(
                job.locale, "delivery.dm_fallback", channel=f"<#{job.channel_id}>"
            ),
            embed=embed,
            files=files,
            view=view or discord.utils.MISSING,
            allowed_mentions=discord.AllowedMentions.none(),
        )
        return direct, "dm"

    async def _edit_channel(self, job: Job, kwargs: dict[str, Any]) -> discord.Message:
        assert job.channel_id and job.message_id
        partial = self.bot.get_partial_messageable(job.channel_id).get_partial_message(
            job.message_id
        )
        return await partial.edit(content=None, **kwargs)

    def _webhook(self, job: Job) -> discord.Webhook:
        assert job.application_id and job.interaction_token
        return discord.Webhook.partial(job.application_id, job.interaction_token, client=self.bot)


def _merge(fresh: Job, event_job: Job) -> Job:
    """The event's status with the database's message ids (set after the response)."""
    return event_job if event_job.message_id == fresh.message_id else fresh


def _rewind(files: list[discord.File]) -> None:
    for f in files:
        f.reset()


def _fit_all(images: Sequence[DownloadedImage], limit: int) -> list[tuple[bytes, str]]:
    out = []
    for image in images:
        fitted = fit_image(image.data, image.extension, limit)
        out.append((fitted.data, fitted.extension))
    return out


__all__ = ["DEFAULT_UPLOAD_LIMIT", "DiscordPresenter", "JobStatus"]
