"""The scheduler: who runs jobs, from the queue to the user's notification (above storage)."""

from bot.scheduler.config import SchedulerConfig
from bot.scheduler.scheduler import JobScheduler, SchedulerStats

__all__ = ["JobScheduler", "SchedulerConfig", "SchedulerStats"]
