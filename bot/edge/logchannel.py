"""The moderators' log channel: every finished generation mirrored with Delete / Block buttons.

The mirror listens to the scheduler's events, to admission's word that some of a server's
stored blocked terms could not be compiled (`bot.policy.moderation.TermsSkipped`: patterns
saved before RE2 that it refuses, or past the size budget), which it posts once so that
moderators know those terms are not being checked, and to admission's budget notices
(`bot.policy.budgets.BudgetNotice`: 80 % and 100 % of the server's monthly budget, a model
refused for having no price), each recorded once a month. The listeners only filter and queue; one
worker task posts, so a slow or rate-limited log channel never holds up the scheduler's
event pump (and with it everyone's progress messages). Everything here is best effort: a
post that fails is logged and dropped, and the user's own delivery is never affected.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import discord

from bot.edge.components import moderation_view
from bot.edge.render import (
    COLOR_DONE,
    COLOR_FAILED,
    code_span,
    message_link,
    model_label,
    truncate,
    user_text,
)
from bot.edge.settings_view import term_reason_key
from bot.i18n import resolve_locale
from bot.jobs.events import FAILED, SUCCEEDED, JobEvent
from bot.jobs.model import Job
from bot.money import format_usd
from bot.policy.budgets import BudgetNotice
from bot.policy.moderation import TermsSkipped

if TYPE_CHECKING:
    from bot.scheduler import JobScheduler
    from bot.services import Services

log = logging.getLogger(__name__)

EDIT_KINDS = ("edit", "edit_result")
# An invalid key fails every job at once: tell each server's admins once per this many seconds.
AUTH_NOTICE_INTERVAL = 600.0
MAX_BACKLOG = 1000
# A skipped term's reason is the sentence /settings gives when such a term is added.


class LogChannelMirror:
    def __init__(
        self,
        client: discord.Client,
        services: Services,
        *,
        auth_notice_interval: float = AUTH_NOTICE_INTERVAL,
        max_backlog: int = MAX_BACKLOG,
    ) -> None:
        self.client = client
        self.services = services
        self.auth_notice_interval = auth_notice_interval
        self._queue: asyncio.Queue[JobEvent | TermsSkipped | BudgetNotice] = asyncio.Queue(
            maxsize=max_backlog
        )
        self._worker: asyncio.Task[None] | None = None
        self._unsubscribe: list[Callable[[], None]] = []
        self._auth_noticed: dict[int, float] = {}  # guild id -> monotonic time of the last one

    # -- lifecycle -----------------------------------------------------------------------

    def attach(self, scheduler: JobScheduler) -> None:
        """Listen to the scheduler's events and admission's skipped terms; start the worker."""
        self._unsubscribe = [
            scheduler.subscribe(self.on_event),
            self.services.admission.terms.subscribe(self.on_terms_skipped),
            self.services.admission.budgets.subscribe(self.on_budget_notice),
        ]
        if self._worker is None:
            self._worker = asyncio.create_task(self._run(), name="log-channel-mirror")
            self._worker.add_done_callback(self._worker_done)

    async def close(self) -> None:
        """Stop listening and stop the worker; posts still queued are dropped (best effort)."""
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe = []
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker

    async def idle(self) -> None:
        """Return once every queued event has been handled (posted or given up)."""
        await self._queue.join()

    @staticmethod
    def _worker_done(task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error("the log channel mirror stopped", exc_info=task.exception())

    # -- events --------------------------------------------------------------------------

    async def on_event(self, event: JobEvent) -> None:
        """The scheduler's listener: keep what moderators should see, hand it to the worker."""
        job = event.job
        if job.guild_id is None:
            return
        wanted = event.kind == SUCCEEDED or (event.kind == FAILED and job.error_kind == "auth")
        if not wanted:
            return
        try:
            self._queue.put_nowait(event)
        except asyncio.QueueFull:
            log.warning("log channel mirror is behind; job %d not mirrored", job.id)

    def on_terms_skipped(self, notice: TermsSkipped) -> None:
        """Admission's listener (synchronous, on the request's path): queue the notice."""
        try:
            self._queue.put_nowait(notice)
        except asyncio.QueueFull:
            log.warning(
                "log channel mirror is behind; skipped terms of %s not posted", notice.guild_id
            )

    def on_budget_notice(self, notice: BudgetNotice) -> None:
        """Admission's listener (synchronous, after its commit): queue a server's notice."""
        if notice.guild_id is None:
            return  # the operator's budget: the core logged it; no server's channel to tell
        try:
            self._queue.put_nowait(notice)
        except asyncio.QueueFull:
            log.warning("log channel mirror is behind; budget notice of %s lost", notice.guild_id)

    async def _run(self) -> None:
        while True:
            item = await self._queue.get()
            try:
                if isinstance(item, TermsSkipped):
                    await self.post_terms_skipped(item)
                elif isinstance(item, BudgetNotice):
                    await self.post_budget_notice(item)
                else:
                    await self.mirror(item)
            except Exception as exc:
                if isinstance(item, TermsSkipped):
                    what = f"the skipped terms of {item.guild_id}"
                elif isinstance(item, BudgetNotice):
                    what = f"the budget notice {item.key} of {item.guild_id}"
                else:
                    what = f"job {item.job.id}"
                log.warning("%s was not posted to the log channel: %r", what, exc)
            finally:
                self._queue.task_done()

    async def mirror(self, event: JobEvent) -> None:
        """Post one event to its server's log channel, if the server has one."""
        job = event.job
        assert job.guild_id is not None
        config = await self.services.guild_config.get(job.guild_id)
        if not config.log_channel_id:
            return
        locale = self._locale(job.guild_id)
        if event.kind == SUCCEEDED:
            await self._post_generation(job, config.log_channel_id, locale)
        else:
            await self._post_auth_failure(job, config.log_channel_id, locale)

    # -- posts ---------------------------------------------------------------------------

    def _locale(self, guild_id: int) -> str:
        # Moderators share one channel: it speaks the server's language.
        guild = self.client.get_guild(guild_id)
        return resolve_locale(None, str(guild.preferred_locale) if guild is not None else None)

    def _channel(self, channel_id: int, guild_id: int) -> Any:
        return self.client.get_channel(channel_id) or self.client.get_partial_messageable(
            channel_id, guild_id=guild_id
        )

    async def _post_generation(self, job: Job, channel_id: int, locale: str) -> None:
        services = self.services
        t = services.messages.t
        sentence = "log.edit" if job.kind in EDIT_KINDS else "log.generation"
        embed = discord.Embed(
            description=t(
                locale,
                sentence,
                user=f"<@{job.user_id}>",
                channel=f"<#{job.channel_id}>" if job.channel_id else "—",
            ),
            color=COLOR_DONE,
        )
        prompt = user_text(job.prompt, 1020, empty="—")
        if job.spoiler:
            # The log has no image to blur; it follows the job's spoiler by hiding the prompt
            # behind a click, as the result hides its images (escaped: no way out of the pipes).
            prompt = f"||{prompt}||"
        embed.add_field(name=t(locale, "log.prompt"), value=prompt, inline=False)
        embed.add_field(name=t(locale, "log.model"), value=model_label(services.catalog, job.model))
        # A result sent by DM has no link moderators could open.
        target = job.message_id if job.delivery_method == "dm" else job.result_message_id
        link = message_link(job.guild_id, job.channel_id, target or job.message_id)
        if link:
            embed.add_field(name=t(locale, "log.result"), value=link)
        embed.set_footer(text=t(locale, "common.job", job_id=job.id))
        when = job.delivered_at or job.finished_at
        if when:
            embed.timestamp = dt.datetime.fromtimestamp(when, tz=dt.UTC)
        view = moderation_view(job, services.messages, locale)
        if link:
            view.add_item(discord.ui.Button(label=t(locale, "button.open_message"), url=link))
        assert job.guild_id is not None
        await self._channel(channel_id, job.guild_id).send(
            embed=embed, view=view, allowed_mentions=discord.AllowedMentions.none()
        )

    async def post_terms_skipped(self, notice: TermsSkipped) -> None:
        """Tell the server's moderators which stored terms are not checked, and why."""
        config = await self.services.guild_config.get(notice.guild_id)
        if not config.log_channel_id:
            return  # the core logged it; there is nowhere in the server to say it
        locale = self._locale(notice.guild_id)
        t = self.services.messages.t
        lines = [t(locale, "log.terms_skipped", count=len(notice.skipped)), ""]
        size = sum(len(line) + 1 for line in lines)
        for skipped in notice.skipped:
            key = term_reason_key(skipped.code)
            line = f"• {code_span(skipped.term.term, 300)} — {t(locale, key, **skipped.params)}"
            if size + len(line) + 2 > 4000:  # whole lines only: a cut code span would show raw
                lines.append("…")
                break
            lines.append(line)
            size += len(line) + 1
        embed = discord.Embed(description="\n".join(lines), color=COLOR_FAILED)
        await self._channel(config.log_channel_id, notice.guild_id).send(
            embed=embed, allowed_mentions=discord.AllowedMentions.none()
        )

    async def post_budget_notice(self, notice: BudgetNotice) -> None:
        """Tell the server's moderators where its monthly budget stands, or which model it
        refuses for want of a price."""
        assert notice.guild_id is not None
        config = await self.services.guild_config.get(notice.guild_id)
        if not config.log_channel_id:
            return  # the core logged it; there is nowhere in the server to say it
        locale = self._locale(notice.guild_id)
        t = self.services.messages.t
        if notice.kind == "unpriced":
            model = model_label(self.services.catalog, notice.model or "")
            text, color = t(locale, "log.budget_unpriced", model=model), COLOR_FAILED
        else:
            figures = {
                "spent": format_usd(notice.spent),
                "budget": format_usd(notice.budget),
                "reset": f"<t:{int(notice.reset)}:D>",
            }
            if notice.kind == "80":
                percent = notice.spent * 100 // notice.budget if notice.budget else 100
                text = t(locale, "log.budget_80", percent=percent, **figures)
                color = COLOR_DONE
            else:
                text, color = t(locale, "log.budget_100", **figures), COLOR_FAILED
        await self._channel(config.log_channel_id, notice.guild_id).send(
            embed=discord.Embed(description=truncate(text, 4096), color=color),
            allowed_mentions=discord.AllowedMentions.none(),
        )

    async def _post_auth_failure(self, job: Job, channel_id: int, locale: str) -> None:
        assert job.guild_id is not None
        now = self.services.clock.monotonic()
        last = self._auth_noticed.get(job.guild_id)
        if last is not None and now - last < self.auth_notice_interval:
            return
        self._auth_noticed[job.guild_id] = now
        log.error(
            "CometAPI refused the API key (job %d); told the admins of %s", job.id, job.guild_id
        )
        embed = discord.Embed(
            description=self.services.messages.t(locale, "error.auth_admin"),
            color=COLOR_FAILED,
        )
        embed.set_footer(text=self.services.messages.t(locale, "common.job", job_id=job.id))
        await self._channel(channel_id, job.guild_id).send(
            embed=embed, allowed_mentions=discord.AllowedMentions.none()
        )


__all__ = ["LogChannelMirror"]
