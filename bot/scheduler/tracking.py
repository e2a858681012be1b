"""Tracking: from the create to a finished prediction, with one polling loop for them all.

A job granted a slot is submitted: its prediction created (a critical section, with the id
written right after). A create that may have arrived but got no answer (NetworkError with
may_have_arrived) is never repeated: the job ends `failed` with error_kind "network" (we
have no id to poll), since creating again could run (and bill) it twice.

A prediction whose id cannot be written is not left running: its id is logged at ERROR with
the job's, it is canceled at the provider (where the API can), and the job ends `failed`
with error_kind "internal", its user told and its slot freed. It is not written again and
kept: every moment it runs unrecorded, a crash would lose it for good (decision 019).

One polling loop owns every running prediction. It keeps each prediction's next poll time and
deadline, and starts one short task per HTTP request, so a slow or hanging answer never holds
back another job, and a deadline fires even while that job's query hangs. When to poll comes
from `bot.jobs.polling` (ETA from the model's past durations and from the progress in the
logs, else an interval that grows with the job's age). A finished prediction goes to delivery;
one that failed, or passed its deadline ("timed_out", with a cancel sent to the provider),
ends with its reason. Whenever the provider reports how a prediction ended, the images it says
it made are written with that state (`provider_images`): the job's cost is settled from them
when it ends (`bot.jobs.costs`, in `JobStore.transition`).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import math
from typing import TYPE_CHECKING, Any

from bot.cometapi.errors import (
    AccessDeniedError,
    AuthenticationError,
    CometAPIError,
    PredictionNotFoundError,
    RateLimitedError,
)
from bot.jobs import events as ev
from bot.jobs.eta import moved
from bot.jobs.model import JobStatus
from bot.jobs.polling import Scouts, next_delay, progress_step
from bot.scheduler.forecast import Forecast
from bot.scheduler.state import ONLY_RUNNING, ONLY_SUBMITTING, SUBMITTING_OR_RUNNING
from bot.scheduler.supervisor import Aborted, sleep_or_wake

if TYPE_CHECKING:
    from bot.cometapi import Prediction
    from bot.jobs.model import Job
    from bot.scheduler.config import Ports, SchedulerConfig
    from bot.scheduler.delivery import Delivery
    from bot.scheduler.dispatch import Dispatch
    from bot.scheduler.leases import Leases
    from bot.scheduler.pump import EventPump
    from bot.scheduler.state import Flight, SchedulerState
    from bot.scheduler.supervisor import Supervisor

log = logging.getLogger(__name__)

# Status queries started per round of the polling loop: a thousand jobs of one model come due
# together, and starting them all in one go held the loop for a third of a second (their
# requests, then their answers, each ran as one batch); between rounds the loop runs the rest.
_POLLS_PER_ROUND = 32

# Consecutive 404s on a status query before a running prediction is declared lost: a gateway
# may answer 404 for a moment right after the create.
_NOT_FOUND_LIMIT = 3


class Tracking:
    def __init__(
        self,
        ports: Ports,
        config: SchedulerConfig,
        state: SchedulerState,
        supervisor: Supervisor,
        pump: EventPump,
        dispatch: Dispatch,
        delivery: Delivery,
        leases: Leases,
    ) -> None:
        self._store = ports.store
        self._client = ports.client
        self._clock = ports.clock
        self._config = config
        self._policy = config.poll_policy
        self._state = state
        self._estimator = state.stats.estimator
        self._supervisor = supervisor
        self._pump = pump
        self._dispatch = dispatch
        self._delivery = delivery
        self._leases = leases
        self._forecast = Forecast(ports.clock, config, state)
        self._wake = asyncio.Event()  # the polling loop should look again
        self._scouts = Scouts(self._policy.scouts)

    async def submit(self, flight: Flight) -> None:
        """Create the prediction of a job whose slot was granted (it is `submitting`)."""
        job = submitting = flight.job
        try:
            if self._supervisor.stopping:
                return  # stays `submitting` without an id: recovery ends it as interrupted
            error: CometAPIError | None = None
            running: Job | None = None
            unrecorded: str | None = None  # why a created prediction was stopped
            prediction: Prediction | None = None
            async with self._supervisor.critical_section():
                try:
                    prediction = await self._supervisor.call(
                        self._client.create(submitting.model, submitting.input), critical=True
                    )
                except Aborted:
                    return  # shutting down: stays `submitting`; recovery decides
                except CometAPIError as exc:
                    error = exc
                except Exception as exc:
                    log.exception("job %d: create failed unexpectedly", job.id)
                    error = CometAPIError(f"unexpected error: {type(exc).__name__}")
                    error.kind = "internal"
                else:
                    self._state.stats.creates += 1
                    try:
                        running = await self._supervisor.write(
                            self._store.transition(
                                job.id,
                                JobStatus.RUNNING,
                                expected=ONLY_SUBMITTING,
                                prediction_id=prediction.id,
                                started_at=self._clock.now(),
                            )
                        )
                    except Exception as exc:
                        unrecorded = await self._stop_unrecorded(submitting, prediction, exc)
            if error is not None:
                # Nothing to poll. A create that may have arrived is never sent again.
                self._dispatch.release_slot(job.id)
                await self._delivery.end(
                    submitting, JobStatus.FAILED, ONLY_SUBMITTING, error.kind, error.message
                )
                return
            assert prediction is not None  # no error: the create answered
            if unrecorded is not None:
                self._dispatch.release_slot(job.id)
                await self._delivery.end(
                    submitting,
                    JobStatus.FAILED,
                    SUBMITTING_OR_RUNNING,  # the failed write may have landed after all
                    "internal",
                    unrecorded,
                    prediction_id=prediction.id,
                )
                return
            if running is None:
                log.error("job %d changed during its create; canceling the prediction", job.id)
                self._dispatch.release_slot(job.id)
                self._leases.settle(job.id)
                with contextlib.suppress(Exception):
                    await self._supervisor.call(self._client.cancel(prediction.id), critical=True)
                return
            flight.prediction_id = prediction.id
            flight.job = running
            self._state.record(running)
            flight.emitted_eta = self._forecast.running(flight)
            self._pump.emit(ev.STARTED, running, eta=flight.emitted_eta)
            if self._supervisor.stopping:
                return
            flight.closing = flight.cancel_requested  # cancel() takes over once settled
            if prediction.is_terminal and not flight.closing:
                flight.created_mono = self._clock.monotonic()
                await self._finished(flight, prediction, 0.0)
                return
            self.track(flight, recovered=False)
        finally:
            flight.settled.set()

    async def _stop_unrecorded(self, job: Job, prediction: Prediction, exc: Exception) -> str:
        """A prediction was created but its id not written: log it, cancel it; the reason."""
        log.error(
            "job %d: prediction %s was created but its id could not be written (%r); "
            "canceling it at the provider",
            job.id,
            prediction.id,
            exc,
        )
        canceled = await self._delivery.cancel_prediction(
            dataclasses.replace(job, prediction_id=prediction.id)
        )
        if not canceled:
            log.error(
                "job %d: prediction %s could not be canceled; the provider may still run it",
                job.id,
                prediction.id,
            )
        outcome = "canceled" if canceled else "could not be canceled"
        return f"prediction {prediction.id} was created but could not be recorded; {outcome}"

    # -- polling -------------------------------------------------------------------------

    def track(self, flight: Flight, *, recovered: bool) -> None:
        """Hand a running prediction to the polling loop, with its age and deadline."""
        job = flight.job
        now_mono, now = self._clock.monotonic(), self._clock.now()
        started = job.started_at or job.submitted_at or now
        flight.created_mono = now_mono - max(0.0, now - started)
        deadline = job.deadline_at or (job.submitted_at or now) + self._config.job_timeout
        flight.deadline_mono = now_mono + (deadline - now)
        if recovered:
            # Look at once, and give a job past its deadline one answer's time: it may have
            # finished while we were down, and then its result is still wanted.
            flight.next_poll = now_mono
            flight.deadline_mono = max(
                flight.deadline_mono, now_mono + self._config.poll_request_timeout
            )
        else:
            elapsed = now_mono - flight.created_mono
            flight.next_poll = now_mono + self._delay(flight, elapsed, None)
        self._state.poll(flight)
        self._wake.set()

    async def poll_loop(self) -> None:
        """The one owner of every running prediction: start due polls, enforce deadlines."""
        while True:
            try:
                await self._poll_round()
            except Exception:
                log.exception("the polling loop hit an error; going on")
                await self._clock.sleep(self._policy.overdue_interval)

    async def _poll_round(self) -> None:
        """One look at every running prediction, then sleep until the next thing is due.

        Linear in the running predictions, which are at most max_concurrent (plus recovered
        ones): a heap would buy nothing at that size.
        """
        now = self._clock.monotonic()
        wake_at = math.inf
        started = 0
        for flight in self._state.running():
            if flight.closing:
                continue
            if now >= flight.deadline_mono:
                flight.closing = True
                self._supervisor.spawn(
                    self._time_out(flight), f"job-{flight.job.id}-timeout", flight.job.id
                )
                continue
            wake_at = min(wake_at, flight.deadline_mono)
            if flight.poll_task is None:
                if now < flight.next_poll:
                    wake_at = min(wake_at, flight.next_poll)
                elif started < _POLLS_PER_ROUND:
                    started += 1
                    flight.poll_task = self._supervisor.spawn(
                        self._poll(flight), f"job-{flight.job.id}-poll", flight.job.id
                    )
                else:  # the rest in the next round, after the loop has run what is ready
                    wake_at = now
        self._wake.clear()
        await sleep_or_wake(self._clock, wake_at - now, self._wake)

    async def _poll(self, flight: Flight) -> None:
        job = flight.job
        try:
            self._state.stats.count_poll(job.id)
            assert flight.prediction_id is not None
            try:
                prediction = await self._supervisor.call(
                    self._client.get(
                        flight.prediction_id, timeout=self._config.poll_request_timeout
                    ),
                    flight=flight,
                )
            except Aborted:
                return
            except Exception as exc:
                if not (flight.closing or self._supervisor.stopping):
                    await self._poll_failed(flight, exc)
                return
            if flight.closing or self._supervisor.stopping:
                return
            flight.error_streak = flight.not_found_streak = 0
            await self._observe(flight, prediction)
        finally:
            flight.poll_task = None
            self._wake.set()

    async def _poll_failed(self, flight: Flight, exc: Exception) -> None:
        self._state.stats.poll_errors += 1
        flight.error_streak += 1
        job = flight.job
        if isinstance(exc, PredictionNotFoundError):
            flight.not_found_streak += 1
            if flight.not_found_streak >= _NOT_FOUND_LIMIT:
                await self._end_running(flight, JobStatus.FAILED, exc.kind, exc.message)
                return
        elif isinstance(exc, AuthenticationError | AccessDeniedError):
            await self._end_running(flight, JobStatus.FAILED, exc.kind, exc.message)
            return
        retry_after = exc.retry_after if isinstance(exc, RateLimitedError) else None
        if isinstance(exc, CometAPIError):
            log.warning("job %d: status query failed (%r); backing off", job.id, exc)
        else:
            log.error("job %d: status query failed unexpectedly", job.id, exc_info=exc)
        flight.next_poll = self._clock.monotonic() + self._policy.error_delay(
            flight.error_streak, retry_after
        )

    async def _observe(self, flight: Flight, prediction: Prediction) -> None:
        now = self._clock.monotonic()
        elapsed = now - flight.created_mono
        if prediction.is_terminal:
            await self._finished(flight, prediction, elapsed)
            return
        flight.last_running_elapsed = elapsed
        progress = prediction.progress
        flight.next_poll = now + self._delay(
            flight,
            elapsed,
            flight.track.update(elapsed, progress, progress_step(prediction.logs)),
        )
        # An event when the progress moved a percent, or the estimate more than the
        # presenter would let pass (it applies the same rule to what it shows).
        eta = self._forecast.running(flight)
        shown = flight.emitted_progress
        advanced = (
            progress is not None
            and progress < 1.0
            and (shown is None or abs(progress - shown) >= 0.01)
        )
        if advanced or moved(flight.emitted_eta, eta, self._clock.now()):
            if advanced:
                flight.emitted_progress = progress
            flight.emitted_eta = eta
            self._pump.emit(ev.PROGRESS, flight.job, progress=flight.emitted_progress, eta=eta)

    def _delay(self, flight: Flight, elapsed: float, progress_eta: float | None) -> float:
        """Seconds until the next poll; blind jobs beyond the model's scouts wait for them."""
        estimate = self._estimator.get(flight.key)
        delay = next_delay(
            self._policy, elapsed=elapsed, estimate=estimate, progress_eta=progress_eta
        )
        if (
            estimate is None
            and progress_eta is None
            and not self._scouts.admits(flight.key, flight.job.id, self._state.is_polled)
        ):
            return max(delay, self._policy.max_interval)
        return delay

    def _learned(self, key: str) -> None:
        """A model's first duration is known: plan the jobs that waited for it from it."""
        if not self._scouts.learned(key):
            return
        estimate = self._estimator.get(key)
        now = self._clock.monotonic()
        for flight in self._state.running():
            if flight.key == key and flight.poll_task is None and not flight.closing:
                # Aim where the estimate says; a job already past it may be done: look now.
                target = self._policy.overdue_target(estimate) if estimate else 0.0
                elapsed = now - flight.created_mono
                flight.next_poll = min(flight.next_poll, now + max(0.0, target - elapsed))
        self._wake.set()

    async def _finished(self, flight: Flight, prediction: Prediction, elapsed: float) -> None:
        """The prediction is terminal: deliver it, or end the job with the reason."""
        flight.closing = True
        job = flight.job
        self._state.stop_polling(job.id)
        if not prediction.succeeded:
            status, kind, message = _failure(prediction)
            await self._end_running(
                flight,
                status,
                kind,
                message,
                provider_seconds=prediction.predict_time,
                provider_images=provider_images(prediction),
            )
            return
        self._estimator.observe(flight.key, _duration(flight, prediction, elapsed))
        self._learned(flight.key)
        finished_at = self._clock.now()
        try:
            delivering = await self._supervisor.write_retrying(
                lambda: self._store.transition(
                    job.id,
                    JobStatus.DELIVERING,
                    expected=ONLY_RUNNING,
                    finished_at=finished_at,
                    provider_seconds=prediction.predict_time,
                    output_count=len(prediction.outputs_for(job.image_count)),
                    provider_images=provider_images(prediction),
                ),
                f"job {job.id}: recording its finished prediction",
            )
        finally:
            self._dispatch.release_slot(job.id)
        if delivering is None:
            return  # a cancel or the deadline got there first; it tells the user
        self._state.record(delivering)
        self._pump.emit(ev.DELIVERING, delivering)
        await self._delivery.deliver(delivering, prediction)

    async def _time_out(self, flight: Flight) -> None:
        job = flight.job
        self._state.stop_polling(job.id)
        if flight.http is not None:
            flight.http.cancel()
        message = f"no result after {self._config.job_timeout:g} seconds"
        finished_at = self._clock.now()
        try:
            done = await self._supervisor.write_retrying(
                lambda: self._store.transition(
                    job.id,
                    JobStatus.TIMED_OUT,
                    expected=ONLY_RUNNING,
                    error_kind="timed_out",
                    error_message=message,
                    finished_at=finished_at,
                ),
                f"job {job.id}: recording its timeout",
            )
        finally:
            self._dispatch.release_slot(job.id)
        if done is None:
            return
        await self._delivery.cancel_prediction(done)
        await self._delivery.announce_end(done)

    async def _end_running(
        self, flight: Flight, status: JobStatus, kind: str, message: str, **fields: Any
    ) -> None:
        flight.closing = True
        self._state.stop_polling(flight.job.id)
        try:
            await self._delivery.end(flight.job, status, ONLY_RUNNING, kind, message, **fields)
        finally:
            self._dispatch.release_slot(flight.job.id)


def _failure(prediction: Prediction) -> tuple[JobStatus, str, str]:
    """(status, error_kind, error_message) for a prediction that ended without a result."""
    kind = prediction.failure_kind
    if kind == "canceled":
        return (
            JobStatus.CANCELED,
            "canceled_by_provider",
            prediction.error or "the provider canceled the prediction",
        )
    if kind == "safety":
        return (
            JobStatus.FAILED,
            "safety",
            prediction.error or "the provider's safety filter refused the image",
        )
    return (
        JobStatus.FAILED,
        "prediction_failed",
        prediction.error or "the prediction ended without a result",
    )


def provider_images(prediction: Prediction) -> int:
    """How many images the provider says it made: its own `metrics.image_count` when the
    status carries one (what a price per image is charged on), else the outputs it returned."""
    if prediction.image_count is not None and prediction.image_count >= 0:
        return prediction.image_count
    return len(prediction.output)


def _duration(flight: Flight, prediction: Prediction, elapsed: float) -> float:
    """How long the prediction took, from create to finish, as best we can tell.

    It finished after the last answer that said "running" (`lo`) and before the one that
    said "done" (`hi`). The provider's own timestamps are more precise; they are trusted
    inside that bracket only (its clock is not ours).
    """
    lo, hi = flight.last_running_elapsed, elapsed
    created, completed = prediction.created_at, prediction.completed_at
    if created is not None and completed is not None and completed >= created:
        return min(hi, max(lo, completed - created))
    return (lo + hi) / 2
