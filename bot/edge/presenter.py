"""The scheduler's window onto Discord: pending-message edits, delivery and failures.

Delivery is one ladder, tried in order until a rung puts the message in front of the user, so
a result is never lost:

1. `token`: the interaction token edits the original message while the token is valid (15
   minutes less a margin) and Discord accepts it;
2. `channel`: the bot's own token edits the same message in its channel;
3. `new_message`: a new message in the channel that mentions the requester (and only them);
4. `dm`: a direct message to the requester.

A rung that does not apply, or that Discord answers with "token dead", "message gone" or
"no access", hands over to the next; any other error is the delivery's to retry. Progress
edits climb only the first two rungs: a pending message is never posted anew.
"""

from __future__ import annotations

import asyncio
import io
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import aiohttp
import discord

from bot.edge.components import can_vary, pending_view, result_view
from bot.edge.render import failure_embed, pending_embed, result_embed
from bot.imagefit import ImageTooLarge, fit_all
from bot.imagework import TooManyPixels
from bot.jobs.eta import moved
from bot.jobs.events import DeliveryError, DeliveryReceipt, JobEvent
from bot.jobs.model import Job, JobStatus

if TYPE_CHECKING:
    from bot.cometapi import DownloadedImage
    from bot.services import Services

log = logging.getLogger(__name__)

DEFAULT_UPLOAD_LIMIT = 10 * 1024 * 1024
TOKEN_CODES = {50027, 10015}  # invalid webhook token, unknown webhook: the token is dead
GONE_CODES = {10008, 10003}  # unknown message, unknown channel
FORBIDDEN_CODES = {50013, 50001, 50007}  # missing permissions, missing access, cannot DM
TOO_LARGE_CODES = {40005}
SPOILER_PREFIX = "SPOILER_"


@dataclass
class _EditState:
    last_at: float = 0.0
    last_key: tuple[Any, ...] = ()
    pending: asyncio.Task[None] | None = None
    latest: tuple[Job, int | None, float | None, float | None] | None = None
    # The estimate shown (or about to be): replaced only when a new one moved more than
    # bot.jobs.eta allows, so a wobble of a second never costs an edit.
    eta: float | None = None


def _key(
    job: Job, position: int | None, progress: float | None, eta: float | None
) -> tuple[Any, ...]:
    """What the pending message shows; an edit only when this changes."""
    percent = None if progress is None else int(progress * 100)
    return (job.status, position, percent, None if eta is None else round(eta))


@dataclass
class _Attempt:
    """One climb of the ladder: what to show, and what the rungs so far found out."""

    job: Job
    embed: discord.Embed
    view: discord.ui.View | None
    # A final state replaces whatever the message had attached (None: a progress edit, which
    # leaves the attachments alone).
    files: list[discord.File] | None = None
    message_gone: bool = False  # the original message no longer exists: only new ones help

    def rewind(self) -> None:
        for f in self.files or ():
            f.reset()


_Rung = Callable[["_Attempt"], Awaitable["discord.Message | None"]]


def _hands_over(exc: discord.HTTPException) -> bool:
    """Discord said the message, channel or access is gone: the next rung may still work."""
    return exc.code in GONE_CODES | FORBIDDEN_CODES or exc.status in (403, 404)


class DiscordPresenter:
    """Implements the scheduler's JobPresenter protocol with discord.py."""

    def __init__(
        self,
        client: discord.Client,
        services: Services,
        *,
        min_edit_interval: float = 3.0,
        token_margin: float = 60.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.services = services
        self.min_edit_interval = min_edit_interval
        self.token_margin = token_margin
        self._monotonic = monotonic
        self._edits: dict[int, _EditState] = {}
        self._dead_tokens: set[int] = set()  # jobs whose token Discord refused (until final)
        self._ladder: tuple[tuple[str, _Rung], ...] = (
            ("token", self._by_token),
            ("channel", self._by_channel),
            ("new_message", self._by_new_message),
            ("dm", self._by_dm),
        )

    # -- progress ---------------------------------------------------------------------------

    async def progress(self, job: Job, event: JobEvent) -> None:
        """Edit the pending message when its text changes, at most once per interval."""
        if job.is_terminal or job.status is JobStatus.DELIVERING:
            # Delivering: the result replaces the message in a moment; an edit to say so
            # would be one more Discord request per job, in a burst at the worst time.
            return
        position = event.position
        progress = event.progress
        state = self._edits.get(job.id)
        if state is None:
            # Posting the pending message was its first write: the interval starts there, so
            # a short job is not edited to "Generating…" a moment after it appeared (in a burst
            # that was one extra Discord request and database read per job, at the worst time).
            age = max(0.0, time.time() - job.created_at)
            state = self._edits[job.id] = _EditState(last_at=self._monotonic() - age)
        if moved(state.eta, event.eta, time.time()):
            state.eta = event.eta
        key = _key(job, position, progress, state.eta)
        state.latest = (job, position, progress, state.eta)
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
        job, position, progress, eta = state.latest
        if eta is not None and eta - time.time() < self.min_edit_interval:
            # Due within the edit interval: the result will replace whatever this edit says,
            # so it is not worth a request (a late job's next event asks again).
            return
        if self._edits.get(job_id) is not state:
            return  # forgotten: its final state is being (or was) delivered
        key = _key(job, position, progress, eta)
        if key == state.last_key:
            return
        state.last_key = key
        state.last_at = self._monotonic()
        embed = pending_embed(
            self.services.messages,
            self.services.catalog,
            job,
            position=position,
            progress=progress,
            eta=eta,
        )
        attempt = _Attempt(job, embed, pending_view(job, self.services.messages))
        try:
            await self._climb(attempt, self._ladder[:2])
        except Exception as exc:  # progress is best effort; delivery is what must not fail
            log.info("pending edit for job %s skipped: %s", job_id, exc)

    def _forget(self, job_id: int) -> None:
        state = self._edits.pop(job_id, None)
        if state and state.pending and not state.pending.done():
            state.pending.cancel()

    # -- delivery ---------------------------------------------------------------------------

    async def deliver(self, job: Job, images: Sequence[DownloadedImage]) -> DeliveryReceipt:
        self._forget(job.id)
        limit = job.upload_limit or DEFAULT_UPLOAD_LIMIT
        try:
            fitted = await fit_all(images, limit)
        except (ImageTooLarge, TooManyPixels) as exc:
            raise DeliveryError(str(exc), permanent=True, kind="too_large_to_upload") from None
        # A spoiler is decided with the request and kept on the job, so a delivery after a
        # restart still hides the images; Discord blurs a file whose name starts SPOILER_.
        prefix = SPOILER_PREFIX if job.spoiler else ""
        files = [
            discord.File(io.BytesIO(f.data), filename=f"{prefix}job-{job.id}-{n}.{f.extension}")
            for n, f in enumerate(fitted, start=1)
        ]
        embed = result_embed(self.services.messages, self.services.catalog, job)
        vary = can_vary(self.services.catalog, job)
        view = result_view(job, self.services.messages, images=len(files), vary=vary)
        return await self._final(job, embed, view, files)

    async def finish(self, job: Job) -> None:
        self._forget(job.id)
        embed = failure_embed(self.services.messages, self.services.catalog, job)
        await self._final(job, embed, None, [])

    async def _final(
        self,
        job: Job,
        embed: discord.Embed,
        view: discord.ui.View | None,
        files: list[discord.File],
    ) -> DeliveryReceipt:
        """Put the final state in front of the user by the first rung that works."""
        # The scheduler's snapshot is fresh (its last write returned it); a token found dead
        # since is remembered here (`_dead_tokens`), so nothing is read again.
        try:
            message, method = await self._climb(_Attempt(job, embed, view, files), self._ladder)
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
        self._dead_tokens.discard(job.id)
        # (The scheduler forgets the token with the write that records this final state.)
        if message is not None and method == "token" and not job.message_id:
            # The pending message's id was never written (see `_by_token`): it is known now.
            # Best effort: a failed write must not turn a shown result into a failed one.
            try:
                await self.services.jobs.update(job.id, message_id=message.id)
            except Exception as exc:
                log.warning("job %d: could not record its message id (%r)", job.id, exc)
        attachments = (
            [{"id": a.id, "filename": a.filename} for a in message.attachments] if message else []
        )
        return DeliveryReceipt(
            message_id=message.id if message else None, attachments=attachments, method=method
        )

    async def _climb(
        self, attempt: _Attempt, rungs: Sequence[tuple[str, _Rung]]
    ) -> tuple[discord.Message | None, str]:
        """The first rung that delivers, and its name; (None, "none") if none applied."""
        for name, rung in rungs:
            attempt.rewind()
            message = await rung(attempt)
            if message is not None:
                return message, name
        return None, "none"

    # -- the rungs: each returns the message, or None to hand over to the next --------------

    def _token_usable(self, job: Job) -> bool:
        if not (job.interaction_token and job.application_id) or job.id in self._dead_tokens:
            return False
        expires = job.token_expires_at or 0
        return time.time() < expires - self.token_margin

    def _payload(self, attempt: _Attempt) -> dict[str, Any]:
        payload: dict[str, Any] = {"embed": attempt.embed, "view": attempt.view}
        if attempt.files is not None:
            payload["attachments"] = attempt.files
        return payload

    async def _by_token(self, attempt: _Attempt) -> discord.Message | None:
        job = attempt.job
        if not self._token_usable(job):
            return None
        assert job.application_id and job.interaction_token
        webhook = discord.Webhook.partial(
            job.application_id, job.interaction_token, client=self.client
        )
        # A process that stopped between answering the command and writing the pending
        # message's id left none: the token still names that message as its original response.
        target: Any = job.message_id or "@original"
        try:
            return await webhook.edit_message(target, content=None, **self._payload(attempt))
        except discord.HTTPException as exc:
            if exc.code in GONE_CODES:
                attempt.message_gone = True
                return None
            if exc.code in TOKEN_CODES or exc.status == 401:
                self._dead_tokens.add(job.id)
                await self.services.jobs.update(job.id, interaction_token=None)
                return None
            raise

    async def _by_channel(self, attempt: _Attempt) -> discord.Message | None:
        job = attempt.job
        if attempt.message_gone or not (job.channel_id and job.message_id):
            return None
        partial = self.client.get_partial_messageable(job.channel_id).get_partial_message(
            job.message_id
        )
        try:
            return await partial.edit(content=None, **self._payload(attempt))
        except discord.HTTPException as exc:
            if _hands_over(exc):
                return None
            raise

    async def _by_new_message(self, attempt: _Attempt) -> discord.Message | None:
        job = attempt.job
        if not job.channel_id:
            return None
        messages = self.services.messages
        only_requester = discord.AllowedMentions(
            everyone=False, roles=False, users=[discord.Object(id=job.user_id)], replied_user=False
        )
        try:
            return await self.client.get_partial_messageable(job.channel_id).send(
                content=messages.t(job.locale, "delivery.new_message", mention=f"<@{job.user_id}>"),
                embed=attempt.embed,
                files=attempt.files or [],
                view=attempt.view or discord.utils.MISSING,
                allowed_mentions=only_requester,
            )
        except discord.HTTPException as exc:
            if _hands_over(exc):
                return None
            raise

    async def _by_dm(self, attempt: _Attempt) -> discord.Message | None:
        job = attempt.job
        user = self.client.get_user(job.user_id) or await self.client.fetch_user(job.user_id)
        return await user.send(
            content=self.services.messages.t(
                job.locale, "delivery.dm_fallback", channel=f"<#{job.channel_id}>"
            ),
            embed=attempt.embed,
            files=attempt.files or [],
            view=attempt.view or discord.utils.MISSING,
            allowed_mentions=discord.AllowedMentions.none(),
        )


__all__ = ["DEFAULT_UPLOAD_LIMIT", "SPOILER_PREFIX", "DiscordPresenter"]
