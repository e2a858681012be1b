"""The poll planner: quick when young, slower when old, and aimed at the predicted finish."""

from __future__ import annotations

import pytest

from bot.jobs.polling import (
    DurationEstimator,
    ModelEstimate,
    PollPolicy,
    ProgressTrack,
    Scouts,
    next_delay,
    progress_step,
)

POLICY = PollPolicy()


def test_no_estimate_polls_quickly_then_slower_up_to_the_cap() -> None:
    """Without any estimate the wait grows with the job's age and stops at max_interval."""
    waits = [next_delay(POLICY, elapsed=t) for t in (0.0, 1.0, 5.0, 10.0, 20.0, 100.0)]
    assert waits[0] == POLICY.min_interval
    assert waits == sorted(waits)
    assert waits[-1] == POLICY.max_interval
    assert 1.0 <= waits[3] <= 3.0


def test_model_estimate_aims_just_before_the_usual_finish() -> None:
    """With a model estimate the next poll lands one spread before the mean finish."""
    estimate = ModelEstimate(duration=3.0, spread=0.2, samples=5)
    assert next_delay(POLICY, elapsed=0.5, estimate=estimate) == pytest.approx(2.3)


def test_long_estimate_is_capped() -> None:
    """An estimate far away never pushes the next poll beyond max_interval."""
    estimate = ModelEstimate(duration=60.0, spread=1.0, samples=5)
    assert next_delay(POLICY, elapsed=1.0, estimate=estimate) == POLICY.max_interval


def test_overdue_job_is_polled_often_then_less_often() -> None:
    """Past the predicted finish: short waits that grow with the time overdue."""
    estimate = ModelEstimate(duration=3.0, spread=0.0, samples=5)
    just_late = next_delay(POLICY, elapsed=3.05, estimate=estimate)
    very_late = next_delay(POLICY, elapsed=9.0, estimate=estimate)
    assert just_late == POLICY.overdue_interval
    assert POLICY.overdue_interval < very_late <= POLICY.max_interval


def test_history_wins_over_coarse_progress() -> None:
    """With a model estimate, the logs' guess does not move the next poll."""
    estimate = ModelEstimate(duration=6.0, spread=0.0, samples=5)
    wait = next_delay(POLICY, elapsed=4.0, estimate=estimate, progress_eta=4.5)
    assert wait == pytest.approx(2.0)


def test_progress_without_history_sets_the_target() -> None:
    """With no history, the poll is aimed just after the finish the logs predict."""
    wait = next_delay(POLICY, elapsed=4.0, progress_eta=5.0)
    assert wait == pytest.approx(1.0 + POLICY.finish_margin)


def test_progress_alone_is_trusted_only_so_far() -> None:
    """With no history, a far progress ETA waits at most a fraction of the job's age."""
    wait = next_delay(POLICY, elapsed=2.0, progress_eta=30.0)
    assert wait == pytest.approx(2.0 * POLICY.progress_trust)


def test_progress_track_extrapolates_and_ignores_stalls() -> None:
    """p at age t gives a finish near t/p; a stalled bar keeps the previous estimate."""
    track = ProgressTrack()
    assert track.update(1.0, None) is None
    eta = track.update(2.0, 0.5)
    assert eta == pytest.approx(4.0)
    assert track.update(3.0, 0.5) == eta  # no advance: nothing new
    later = track.update(4.0, 0.75)
    assert later is not None and 4.0 < later <= 6.0


def test_progress_track_reads_a_bar_as_half_a_step_further() -> None:
    """N/M is N steps done plus part of the next: read as N/M + 1/(2M)."""
    track = ProgressTrack()
    assert track.update(3.0, 0.25, step=0.25) == pytest.approx(3.0 / 0.375)


def test_progress_step_reads_the_last_bar() -> None:
    """The step size comes from the last N/M in the logs."""
    logs = (
        "Using seed: 5\n  0%|          | 0/4 [00:00<?, ?it/s]\n 50%|#####     | 2/4 [00:01<00:01]"
    )
    assert progress_step(logs) == pytest.approx(0.25)
    assert progress_step("Generating image...") is None


def test_estimator_is_an_ewma_per_model() -> None:
    """Durations are averaged per model; the newest weighs alpha."""
    est = DurationEstimator(alpha=0.5)
    assert est.get("a/b") is None
    est.observe("a/b", 2.0)
    est.observe("a/b", 4.0)
    est.observe("c/d", 10.0)
    got = est.get("a/b")
    assert got is not None and got.duration == pytest.approx(3.0) and got.samples == 2
    assert got.spread > 0
    assert set(est.snapshot()) == {"a/b", "c/d"}


def test_error_delay_doubles_and_honours_retry_after() -> None:
    """Failed polls back off exponentially; a server's Retry-After wins."""
    policy = PollPolicy(error_backoff=1.0, error_backoff_cap=5.0)
    assert [policy.error_delay(n) for n in (1, 2, 3, 4)] == [1.0, 2.0, 4.0, 5.0]
    assert policy.error_delay(1, retry_after=7.0) == 7.0


def test_scaled_policy_scales_durations_not_ratios() -> None:
    """scaled() multiplies the intervals, leaving the ratios alone."""
    scaled = POLICY.scaled(0.1)
    assert scaled.max_interval == pytest.approx(POLICY.max_interval * 0.1)
    assert scaled.age_ratio == POLICY.age_ratio


def test_scouts_are_the_first_few_jobs_of_a_model_and_a_gone_one_is_replaced() -> None:
    """A model's first `size` jobs scout; the next waits, and takes the place of one that ended."""
    scouts = Scouts(2)
    alive = {1, 2, 3}
    assert scouts.admits("m", 1, alive.__contains__)
    assert scouts.admits("m", 2, alive.__contains__)
    assert not scouts.admits("m", 3, alive.__contains__)
    assert scouts.admits("other", 9, alive.__contains__)  # each model has its own
    assert scouts.admits("m", 1, alive.__contains__)  # a scout stays one
    alive.discard(2)
    assert scouts.admits("m", 3, alive.__contains__)


def test_learning_a_duration_ends_the_scouting_once() -> None:
    """The first duration learned says jobs were waiting; after that there is nothing to plan."""
    scouts = Scouts(1)
    assert scouts.admits("m", 1, lambda _id: True)
    assert not scouts.admits("m", 2, lambda _id: True)
    assert scouts.learned("m") is True
    assert scouts.learned("m") is False
    assert scouts.learned("never-seen") is False
