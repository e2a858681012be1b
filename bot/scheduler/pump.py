"""EventPump: hands the scheduler's events to the presenter and the listeners, in order.

Collaborators `emit` without waiting; one task hands the events out one at a time, each call
bounded by `event_timeout`, so a slow or stuck listener never blocks a job.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from bot.jobs.events import JobEvent

if TYPE_CHECKING:
    from bot.jobs.events import EventListener, JobPresenter
    from bot.jobs.model import Job

log = logging.getLogger(__name__)


class EventPump:
    def __init__(self, presenter: JobPresenter, event_timeout: float) -> None:
        self._presenter = presenter
        self._event_timeout = event_timeout  # a stuck listener must not hold the others
        self._listeners: list[EventListener] = []
        self._events: asyncio.Queue[JobEvent] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    def emit(
        self,
        kind: str,
        job: Job,
        *,
        position: int | None = None,
        progress: float | None = None,
        eta: float | None = None,
    ) -> None:
        self._events.put_nowait(JobEvent(kind, job, position=position, progress=progress, eta=eta))

    def subscribe(self, listener: EventListener) -> Callable[[], None]:
        """Add a listener for every event; returns the function that removes it."""
        self._listeners.append(listener)

        def unsubscribe() -> None:
            with contextlib.suppress(ValueError):
                self._listeners.remove(listener)

        return unsubscribe

    def start(self) -> None:
        self._task = asyncio.create_task(self._pump(), name="jobs-events")
        self._task.add_done_callback(_pump_done)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def join(self) -> None:
        """Return once every event emitted so far was handed out."""
        await self._events.join()

    async def _pump(self) -> None:
        """Hand events out in order, one at a time; a slow listener never blocks a job."""
        while True:
            event = await self._events.get()
            try:
                try:
                    async with asyncio.timeout(self._event_timeout):
                        await self._presenter.progress(event.job, event)
                except Exception as exc:
                    log.warning("presenter.progress failed for job %d (%r)", event.job.id, exc)
                for listener in list(self._listeners):
                    try:
                        async with asyncio.timeout(self._event_timeout):
                            await listener(event)
                    except Exception:
                        log.exception("a job event listener failed")
            finally:
                self._events.task_done()


def _pump_done(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.critical("scheduler task %s died", task.get_name(), exc_info=task.exception())
