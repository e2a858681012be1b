"""Retention: once a day, what members wrote is erased from jobs that ended RETENTION_DAYS ago.

The runner owns the task (`keep_erasing`) and cancels it on stop; 0 days keeps everything and
runs nothing. The first sweep runs a minute after start (the bot connects first), then one
every day; a sweep the database refused is tried again an hour later. What is erased and what
stays is in `bot.storage.retention`; why, in docs/decisions/017-retention.md.
"""

from __future__ import annotations

import logging

from bot.clock import Clock
from bot.storage.retention import JobRetention

log = logging.getLogger(__name__)

DAY = 86_400.0
FIRST_DELAY = 60.0
RETRY_DELAY = 3_600.0


async def erase_once(retention: JobRetention, days: int, clock: Clock) -> int:
    """One sweep: erase the jobs that ended more than `days` days ago; how many were."""
    erased = await retention.erase_ended_before(clock.now() - days * DAY)
    if erased:
        log.info(
            "retention: erased the prompts and inputs of %d jobs over %d days old", erased, days
        )
    return erased


async def keep_erasing(
    retention: JobRetention,
    days: int,
    clock: Clock,
    *,
    first_delay: float = FIRST_DELAY,
    interval: float = DAY,
    retry_delay: float = RETRY_DELAY,
) -> None:
    """Sweep after `first_delay`, then every `interval`; runs until cancelled."""
    delay = first_delay
    while True:
        await clock.sleep(delay)
        try:
            await erase_once(retention, days, clock)
            delay = interval
        except Exception:
            log.exception("retention: the sweep failed; trying again in an hour")
            delay = retry_delay


__all__ = ["DAY", "erase_once", "keep_erasing"]
