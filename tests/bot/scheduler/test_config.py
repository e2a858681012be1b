"""SchedulerConfig: today's defaults, and the values it refuses or evens out."""

from __future__ import annotations

import pytest

from bot.jobs.polling import PollPolicy
from bot.scheduler import SchedulerConfig


def test_defaults_are_the_schedulers_long_standing_ones() -> None:
    """Only the cap and the timeout are required; everything else has its usual default."""
    config = SchedulerConfig(max_concurrent=4, job_timeout=600)
    assert config.owner_id == "local" and config.lease_seconds is None
    assert config.poll_policy == PollPolicy()
    assert (config.delivery_retries, config.retry_backoff, config.retry_backoff_cap) == (5, 1, 30)
    assert (config.stop_grace, config.event_timeout, config.remote_cancel_wait) == (5, 30, 10)


def test_a_cap_below_one_is_refused_and_negative_retries_mean_none() -> None:
    """max_concurrent < 1 raises; a negative delivery_retries counts as zero."""
    with pytest.raises(ValueError, match="at least 1"):
        SchedulerConfig(max_concurrent=0, job_timeout=600)
    assert (
        SchedulerConfig(max_concurrent=1, job_timeout=1, delivery_retries=-3).delivery_retries == 0
    )


def test_retry_delay_doubles_up_to_the_cap_and_leases_end_after_lease_seconds() -> None:
    """Backoff 1, 2, 4 ... capped; a lease ends lease_seconds after now, or never without one."""
    config = SchedulerConfig(max_concurrent=1, job_timeout=1, retry_backoff_cap=5)
    assert [config.retry_delay(n) for n in (1, 2, 3, 4)] == [1, 2, 4, 5]
    assert config.lease_until(100.0) is None
    assert (
        SchedulerConfig(max_concurrent=1, job_timeout=1, lease_seconds=30).lease_until(100.0) == 130
    )
