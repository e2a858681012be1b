"""Delivery: how a job ends, with its images or with a reason, and its user told once.

A succeeded prediction's outputs are downloaded at once and concurrently, handed to the
presenter, and retried (without downloading again) on transient trouble. The API is not
trusted for their number: at most the images the job asked for are fetched (never more than
MAX_OUTPUTS), and the rest are logged and left. A job found
`delivering` at start (or taken over) has no fresh output URLs: the prediction is read again;
outputs gone (`data_removed`, 404) end the job `expired`.

Every other end is a compare-and-set write of the terminal status, then `presenter.finish`.

Users are told once: a success is written with notified=1 in the same transition that
records the delivery; a failure's notification sets notified=1 right after `presenter.finish`
returns. Both run as critical sections (stop lets them finish), and both writes, like every
terminal write, are retried while the database fails (`Supervisor.write_retrying`). Only a
crash, or a database down for longer than the retries, between Discord accepting the message
and that write can repeat it, and then the presenter edits the same pending message again. Before telling, the job's lease is renewed (`Leases.still_mine`): a
process that lost the job leaves the telling to its new owner.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from bot.cometapi.errors import (
    AccessDeniedError,
    AuthenticationError,
    CometAPIError,
    DownloadError,
    PredictionNotFoundError,
    RateLimitedError,
)
from bot.jobs import events as ev
from bot.jobs.events import DeliveryError, DeliveryReceipt
from bot.jobs.model import JobStatus
from bot.scheduler.state import ONLY_DELIVERING
from bot.scheduler.supervisor import Aborted

if TYPE_CHECKING:
    from bot.cometapi import DownloadedImage, Prediction
    from bot.jobs.model import Job
    from bot.scheduler.config import Ports, SchedulerConfig
    from bot.scheduler.leases import Leases
    from bot.scheduler.pump import EventPump
    from bot.scheduler.state import SchedulerState
    from bot.scheduler.supervisor import Supervisor

log = logging.getLogger(__name__)

_GONE = "the provider deleted the images before they could be delivered"


class Delivery:
    def __init__(
        self,
        ports: Ports,
        config: SchedulerConfig,
        state: SchedulerState,
        supervisor: Supervisor,
        pump: EventPump,
        leases: Leases,
    ) -> None:
        self._store = ports.store
        self._client = ports.client
        self._presenter = ports.presenter
        self._clock = ports.clock
        self._config = config
        self._state = state
        self._supervisor = supervisor
        self._pump = pump
        self._leases = leases

    async def deliver(self, job: Job, prediction: Prediction | None) -> None:
        """Download every output at once, then hand them to the presenter.

        `prediction` None: a job found delivering (restart or takeover); read it again.
        """
        recovered = prediction is None
        if prediction is None:
            try:
                prediction = await self._refetch(job)
            except Aborted:
                return
            except CometAPIError as exc:
                await self.end(job, JobStatus.FAILED, ONLY_DELIVERING, exc.kind, exc.message)
                return
            if prediction is None or prediction.data_removed or not prediction.succeeded:
                await self.end(job, JobStatus.EXPIRED, ONLY_DELIVERING, "expired", _GONE)
                return
        urls = prediction.outputs_for(job.image_count)
        if len(urls) < len(prediction.output):
            log.warning(
                "job %d: the API gave %d outputs for %d asked; %d ignored",
                job.id,
                len(prediction.output),
                job.image_count,
                len(prediction.output) - len(urls),
            )
        try:
            images = await self._download_all(urls)
        except Aborted:
            return
        except Exception as exc:
            if recovered and isinstance(exc, DownloadError) and exc.status in (404, 410):
                await self.end(job, JobStatus.EXPIRED, ONLY_DELIVERING, "expired", _GONE)
                return
            if not isinstance(exc, CometAPIError):
                log.error("job %d: download failed unexpectedly", job.id, exc_info=exc)
            message = exc.message if isinstance(exc, CometAPIError) else type(exc).__name__
            await self.end(job, JobStatus.FAILED, ONLY_DELIVERING, "download", message)
            return
        await self._send(job, images)

    async def _refetch(self, job: Job) -> Prediction | None:
        """The prediction again, for fresh output URLs; None when the API no longer knows it."""
        assert job.prediction_id is not None
        attempt = 0
        while True:
            try:
                return await self._supervisor.call(
                    self._client.get(job.prediction_id, timeout=self._config.poll_request_timeout)
                )
            except PredictionNotFoundError:
                return None
            except CometAPIError as exc:
                attempt += 1
                fatal = isinstance(exc, AuthenticationError | AccessDeniedError)
                if fatal or attempt > self._config.delivery_retries:
                    raise
                retry_after = exc.retry_after if isinstance(exc, RateLimitedError) else None
                await self._clock.sleep(self._config.poll_policy.error_delay(attempt, retry_after))

    async def _download_all(self, urls: Sequence[str]) -> list[DownloadedImage]:
        timeout = self._config.download_timeout
        futures = [
            self._supervisor.start_http(self._client.download(url, timeout=timeout)) for url in urls
        ]
        try:
            await asyncio.wait(futures)
        except asyncio.CancelledError:
            for future in futures:
                future.cancel()
            raise
        if any(f.cancelled() for f in futures):
            raise Aborted
        for future in futures:
            error = future.exception()
            if error is not None:
                raise error
        return [f.result() for f in futures]

    async def _send(self, job: Job, images: list[DownloadedImage]) -> None:
        """presenter.deliver with retries; the bytes stay in memory across attempts."""
        attempt = 0
        while True:
            if self._supervisor.stopping:
                return  # stays `delivering`: the next start delivers it
            if not await self._leases.still_mine(job.id):
                return  # another process delivers it
            error: DeliveryError | None = None
            delivered: Job | None = None
            async with self._supervisor.critical_section():
                try:
                    receipt = await self._presenter.deliver(job, images)
                except DeliveryError as exc:
                    error = exc
                except Exception as exc:
                    log.error("job %d: presenter.deliver raised", job.id, exc_info=exc)
                    error = DeliveryError(str(exc) or type(exc).__name__, kind="delivery_failed")
                else:
                    self._state.stats.deliveries += 1
                    # The user has the result: this write must land. If it never does, the
                    # job task dies, the job stays `delivering` and is delivered again (to
                    # the same message) by whoever takes it over.
                    delivered = await self._supervisor.write_retrying(
                        functools.partial(self._write_delivered, job.id, receipt),
                        f"job {job.id}: recording its delivery",
                    )
            if error is None:
                if delivered is not None:
                    self._pump.emit(ev.SUCCEEDED, delivered)
                else:
                    log.error("job %d: delivered, but its row was no longer delivering", job.id)
                self._leases.settle(job.id)
                return
            attempt += 1
            if error.permanent or attempt > self._config.delivery_retries:
                await self.end(job, JobStatus.FAILED, ONLY_DELIVERING, error.kind, error.message)
                return
            log.warning("job %d: delivery failed (%s); retry %d", job.id, error.kind, attempt)
            await self._clock.sleep(self._config.retry_delay(attempt))

    async def _write_delivered(self, job_id: int, receipt: DeliveryReceipt) -> Job | None:
        return await self._store.transition(
            job_id,
            JobStatus.SUCCEEDED,
            expected=ONLY_DELIVERING,
            delivered_at=self._clock.now(),
            result_message_id=receipt.message_id,
            result_attachments=list(receipt.attachments),
            delivery_method=receipt.method,
            notified=True,
            # The user has the final state: the token (a 15-minute credential) is not kept.
            interaction_token=None,
        )

    # -- ending and telling --------------------------------------------------------------

    async def end(
        self,
        job: Job,
        status: JobStatus,
        expected: frozenset[JobStatus],
        kind: str,
        message: str,
        **fields: Any,
    ) -> None:
        """A terminal non-success: write it (compare-and-set), then tell the user.

        The write is retried while the database fails; if it never lands, this raises (the
        job task dies and the job is resumed from its stored state by whoever takes it over).
        """
        finished_at = job.finished_at or self._clock.now()
        done = await self._supervisor.write_retrying(
            lambda: self._store.transition(
                job.id,
                status,
                expected=expected,
                detail=kind,
                error_kind=kind,
                error_message=message,
                finished_at=finished_at,
                **fields,
            ),
            f"job {job.id}: ending it {status.value}",
        )
        if done is None:
            return  # someone else ended it and tells the user
        await self.announce_end(done)

    async def announce_end(self, job: Job) -> None:
        """A job just written terminal (not a success): its event, then its user told."""
        self._state.record(job)
        self._pump.emit(job.status.value, job)
        await self.notify_finish(job)

    async def notify_finish(self, job: Job) -> None:
        """presenter.finish with retries; notified=1 once it returned."""
        attempt = 0
        try:
            while not self._supervisor.stopping:
                if not await self._leases.still_mine(job.id):
                    return  # another process tells the user
                told = False
                async with self._supervisor.critical_section():
                    try:
                        await self._presenter.finish(job)
                        told = True
                    except Exception as exc:
                        log.warning("job %d: presenter.finish failed (%r)", job.id, exc)
                    if told:
                        await self._mark_told(job)
                if told:
                    return
                attempt += 1
                if attempt > self._config.delivery_retries:
                    log.error("job %d: could not tell the user; will retry after a restart", job.id)
                    return
                await self._clock.sleep(self._config.retry_delay(attempt))
        finally:
            if not self._supervisor.stopping:
                self._leases.settle(job.id)

    async def _mark_told(self, job: Job) -> None:
        """notified=1, retried; if it never lands the user may be told again, after a restart
        or a takeover (a second message rather than silence)."""
        try:
            await self._supervisor.write_retrying(
                lambda: self._store.update(job.id, notified=True, interaction_token=None),
                f"job {job.id}: recording that its user was told",
            )
        except Exception:
            log.error("job %d: its user was told, but that is not recorded", job.id)

    async def cancel_prediction(self, job: Job) -> bool:
        """Stop the provider's work on a job ending early (canceled, timed out).

        Best effort; False when the API has no cancel route or the request failed.
        """
        if not job.prediction_id:
            return False
        try:
            return await self._supervisor.call(
                self._client.cancel(job.prediction_id), critical=True
            )
        except Aborted:
            return False
        except Exception as exc:
            log.warning("job %d: remote cancel failed (%r)", job.id, exc)
            return False
