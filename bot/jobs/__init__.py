"""Jobs: the job model and the scheduler that owns every job until its result is delivered."""

from bot.jobs.model import ACTIVE_STATUSES, TERMINAL_STATUSES, Job, JobStatus, NewJob

__all__ = ["ACTIVE_STATUSES", "TERMINAL_STATUSES", "Job", "JobStatus", "NewJob"]
