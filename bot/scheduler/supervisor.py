"""Supervisor: owns every task, HTTP call and database write the scheduler starts.

Every task is in one of its sets, cancelled and awaited on stop, so nothing outlives the
scheduler. Two steps have an effect outside the process that the database must not miss:
creating a prediction (its id is written right after) and telling the user (the terminal
status and `notified` are written right after). Those run as critical sections: `shutdown()`
lets them finish for up to `stop_grace` seconds instead of cutting them in half. Database
writes themselves are shielded from cancellation, so nothing is ever half-written.

HTTP calls run as their own tasks (`call`), so stop, a cancel or a deadline can cut just the
call; the caller then gets `Aborted` and stops quietly.

A write that records an outside effect already made (a prediction created, a result or a
failure shown) must land: `write_retrying` retries it with backoff while the database fails
(`delivery_retries` times, about half a minute), then raises. Its caller's job task then dies,
and the job is let go with its lease left to lapse, so it is taken over and resumed from its
last written state (decision 019 says what that guarantees, and where it stops).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from bot.clock import Clock
    from bot.scheduler.state import Flight

log = logging.getLogger(__name__)

T = TypeVar("T")


class Aborted(Exception):
    """An HTTP call was cancelled by the scheduler itself (stop, cancel or deadline)."""


async def sleep_or_wake(clock: Clock, delay: float, wake: asyncio.Event) -> None:
    """Sleep `delay` seconds of `clock` (forever if infinite), or less if `wake` is set."""
    if math.isinf(delay):
        await wake.wait()
        return
    sleeper = asyncio.ensure_future(clock.sleep(max(0.0, delay)))
    waker = asyncio.ensure_future(wake.wait())
    try:
        await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        sleeper.cancel()
        waker.cancel()


class Supervisor:
    def __init__(
        self,
        *,
        stop_grace: float,
        changed: asyncio.Event,
        on_job_failed: Callable[[int], None],
        write_retries: int = 0,
        retry_delay: Callable[[int], float] = lambda attempt: 1.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        """`changed` is set whenever a task or a critical step ends; `on_job_failed(job_id)`
        lets go of a job whose task died on a bug or a database failure. `write_retrying`
        tries a write `write_retries` more times, `retry_delay(n)` apart (`sleep`)."""
        self._stop_grace = stop_grace
        self._write_retries = write_retries
        self._retry_delay = retry_delay
        self._sleep = sleep
        self._changed = changed
        self._on_job_failed = on_job_failed
        self._started = False
        self._stopping = False
        self._tasks: set[asyncio.Task[Any]] = set()  # per-job work
        self._job_tasks: dict[int, set[asyncio.Task[Any]]] = {}  # the same, by job
        self._service: set[asyncio.Task[Any]] = set()  # the loops: polling, dispatch, leases
        self._http: dict[asyncio.Future[Any], bool] = {}  # HTTP calls -> critical?
        self._writes: set[asyncio.Future[Any]] = set()  # shielded database writes
        self._critical: set[asyncio.Task[Any]] = set()  # tasks inside a critical section

    # -- lifecycle -----------------------------------------------------------------------

    def mark_started(self) -> None:
        self._started = True

    @property
    def started(self) -> bool:
        return self._started

    @property
    def stopping(self) -> bool:
        return self._stopping

    @property
    def busy(self) -> bool:
        """Some per-job task is still running."""
        return bool(self._tasks)

    # -- tasks ---------------------------------------------------------------------------

    def spawn(
        self, coro: Coroutine[Any, Any, Any], name: str, job_id: int | None = None
    ) -> asyncio.Task[Any]:
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        if job_id is not None:
            self._job_tasks.setdefault(job_id, set()).add(task)
        task.add_done_callback(lambda t: self._task_done(t, job_id))
        return task

    def _task_done(self, task: asyncio.Task[Any], job_id: int | None) -> None:
        self._tasks.discard(task)
        if job_id is not None:
            tasks = self._job_tasks.get(job_id)
            if tasks is not None:
                tasks.discard(task)
                if not tasks:
                    del self._job_tasks[job_id]
        self._changed.set()
        if task.cancelled() or task.exception() is None:
            return
        log.error("job task %s failed", task.get_name(), exc_info=task.exception())
        if job_id is not None and not self._stopping:
            # A bug or a database failure: let go of the job (its slot, its waiters). Its row
            # keeps the last state written, which the next start resumes from.
            log.error("job %d is left as stored until the next start", job_id)
            self._on_job_failed(job_id)

    def cancel_job_tasks(self, job_id: int) -> None:
        """Cancel a job's tasks, except the calling one and any inside a critical section."""
        current = asyncio.current_task()
        for task in list(self._job_tasks.get(job_id, ())):
            if task is not current and task not in self._critical:
                task.cancel()

    def start_service(self, coro: Coroutine[Any, Any, Any], name: str) -> None:
        task = asyncio.create_task(coro, name=name)
        self._service.add(task)
        task.add_done_callback(self._service_done)

    def _service_done(self, task: asyncio.Task[Any]) -> None:
        self._service.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.critical("scheduler task %s died", task.get_name(), exc_info=task.exception())

    # -- HTTP calls ----------------------------------------------------------------------

    def start_http(
        self, coro: Coroutine[Any, Any, T], *, critical: bool = False
    ) -> asyncio.Future[T]:
        future = asyncio.ensure_future(coro)
        self._http[future] = critical
        future.add_done_callback(self._http_done)
        return future

    def _http_done(self, future: asyncio.Future[Any]) -> None:
        self._http.pop(future, None)
        if not future.cancelled():
            future.exception()  # retrieved here; the caller re-raises it

    def cut(self, future: asyncio.Future[Any]) -> None:
        """Cancel an HTTP call unless it is critical (a create or a provider cancel)."""
        if not self._http.get(future, False):
            future.cancel()

    async def call(
        self,
        coro: Coroutine[Any, Any, T],
        *,
        critical: bool = False,
        flight: Flight | None = None,
    ) -> T:
        """Run one HTTP call as its own task, so stop/cancel/deadline can cut just the call.

        Raises Aborted when it was cut that way (the caller then stops quietly). With
        `flight`, the call is its `http` while it runs, for whoever must cut it.
        """
        future = self.start_http(coro, critical=critical)
        if flight is not None:
            flight.http = future
        try:
            await asyncio.wait({future})
        except asyncio.CancelledError:
            future.cancel()
            raise
        finally:
            if flight is not None and flight.http is future:
                flight.http = None
        if future.cancelled():
            raise Aborted
        return future.result()

    # -- database writes -----------------------------------------------------------------

    async def write(self, coro: Coroutine[Any, Any, T]) -> T:
        """A database write that cancellation cannot cut in half."""
        future = asyncio.ensure_future(coro)
        self._writes.add(future)
        future.add_done_callback(self._write_done)
        return await asyncio.shield(future)

    async def write_retrying(self, make: Callable[[], Coroutine[Any, Any, T]], what: str) -> T:
        """A write that records an effect already made: retried while the database fails.

        `make()` gives a fresh attempt (a compare-and-set, so a retry after a write that did
        land but failed to answer finds it done and returns None). Raises the last error
        after the retries, or at once when stopping.
        """
        attempt = 0
        while True:
            try:
                return await self.write(make())
            except Exception as exc:
                attempt += 1
                if attempt > self._write_retries or self._stopping:
                    log.error("%s: the database write failed for good (%r)", what, exc)
                    raise
                log.warning(
                    "%s: the database write failed (%r); retry %d/%d",
                    what,
                    exc,
                    attempt,
                    self._write_retries,
                )
                await self._sleep(self._retry_delay(attempt))

    def write_later(self, coro: Coroutine[Any, Any, Any]) -> None:
        """A write nobody waits for (still tracked, so stop() lets it finish)."""
        future = asyncio.ensure_future(coro)
        self._writes.add(future)
        future.add_done_callback(self._write_done)

    def _write_done(self, future: asyncio.Future[Any]) -> None:
        self._writes.discard(future)
        if not future.cancelled() and future.exception() is not None:
            log.warning("a job write failed: %r", future.exception())

    @contextlib.asynccontextmanager
    async def critical_section(self) -> AsyncIterator[None]:
        """A step whose outside effect must be recorded: stop() waits for it (stop_grace)."""
        task = asyncio.current_task()
        assert task is not None
        self._critical.add(task)
        try:
            yield
        finally:
            self._critical.discard(task)
            self._changed.set()

    # -- stop ----------------------------------------------------------------------------

    async def shutdown(self) -> None:
        """Cut what can be redone, let critical steps finish (up to stop_grace), then cancel
        every task and wait for them, and for every write already started."""
        self._stopping = True
        for task in list(self._service):
            task.cancel()
        for future, critical in list(self._http.items()):
            if not critical:
                future.cancel()  # status queries and downloads: idempotent, redone on start
        if self._critical:
            try:
                async with asyncio.timeout(self._stop_grace):
                    while self._critical:
                        self._changed.clear()
                        await self._changed.wait()
            except TimeoutError:
                log.warning("stopping with %d critical job steps unfinished", len(self._critical))
        for task in list(self._tasks):
            task.cancel()
        for future in list(self._http):
            future.cancel()
        await asyncio.gather(*self._tasks, *self._http, *self._service, return_exceptions=True)
        # Writes already started finish (they are shielded), so the database is consistent.
        while self._writes:
            await asyncio.gather(*list(self._writes), return_exceptions=True)
