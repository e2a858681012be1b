"""bot.jobs.eta: the estimate the pending message shows, from history, logs and the line."""

from __future__ import annotations

from bot.jobs.eta import (
    MIN_HISTORY,
    expected_total,
    has_history,
    moved,
    queue_finishes,
    running_left,
)
from bot.jobs.polling import ModelEstimate

TEN = ModelEstimate(duration=10.0, spread=1.0, samples=5)


def test_no_history_means_no_estimate() -> None:
    """A model key never finished has no estimate, running or queued."""
    assert not has_history(None)
    assert not has_history(ModelEstimate(3.0, 0.1, MIN_HISTORY - 1))
    assert has_history(ModelEstimate(3.0, 0.1, MIN_HISTORY))
    assert running_left(None, 2.0) is None


def test_history_alone_then_the_logs_in_proportion_to_progress() -> None:
    """At no progress the learned duration; at 3/4 mostly what the logs say."""
    assert expected_total(TEN) == 10.0
    assert expected_total(TEN, 0.0, 20.0) == 10.0
    assert expected_total(TEN, 0.75, 14.0) == 0.25 * 10 + 0.75 * 14
    assert running_left(TEN, 4.0) == 6.0
    assert running_left(TEN, 12.0) == -2.0  # late: the caller shows none


def test_the_line_is_list_scheduled_on_the_free_slots() -> None:
    """Two slots, one free and one busy for 3 s: jobs of 4, 4 and 2 s finish at 4, 7 and 6
    (the third starts when the first slot frees again, at 4)."""
    assert queue_finishes([3.0], [4.0, 4.0, 2.0], 2) == [4.0, 7.0, 6.0]
    assert queue_finishes([], [5.0], 1) == [5.0]  # a free slot: it starts at once
    assert queue_finishes([-1.0], [5.0], 1) == [5.0]  # a late job ahead counts as finishing now


def test_an_estimate_is_replaced_only_when_it_moves_more_than_a_fifth() -> None:
    """20 % of the time the shown estimate had left; appearing and vanishing always count."""
    now = 1000.0
    assert not moved(1010.0, 1011.9, now)
    assert moved(1010.0, 1012.1, now)
    assert moved(1010.0, 1007.9, now)
    assert moved(None, 1010.0, now) and moved(1010.0, None, now)
    assert not moved(None, None, now)
    assert not moved(1000.5, 1000.6, now)  # the last second: no edit per tenth
