"""Jobs: the job model and the scheduler that owns every job until its result is delivered."""

from bot.jobs.events import (
    CancelResult,
    DeliveryError,
    DeliveryReceipt,
    EventListener,
    JobEvent,
    JobPresenter,
)
from bot.jobs.model import ACTIVE_STATUSES, TERMINAL_STATUSES, Job, JobStatus, NewJob
from bot.jobs.polling import DurationEstimator, PollPolicy
from bot.jobs.scheduler import JobScheduler, SchedulerStats

__all__ = [
    "ACTIVE_STATUSES",
    "TERMINAL_STATUSES",
    "CancelResult",
    "DeliveryError",
    "DeliveryReceipt",
    "DurationEstimator",
    "EventListener",
    "Job",
    "JobEvent",
    "JobPresenter",
    "JobScheduler",
    "JobStatus",
    "NewJob",
    "PollPolicy",
    "SchedulerStats",
]
