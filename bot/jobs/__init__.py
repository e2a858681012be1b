"""Jobs: what a job is: its record, its events, the fair queue and the poll planner.

Who runs jobs is `bot.scheduler`, a layer above storage; nothing here imports it, so storage
can import `bot.jobs.model` without a circle through this package.
"""

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
    "JobStatus",
    "NewJob",
    "PollPolicy",
]
