"""What `python -m bench` runs (cold and mix runs by default, none on request) and what a cold
or mix run asks of the bot and of the fake API."""

from __future__ import annotations

from collections import Counter

import pytest

from bench.__main__ import parse_args, scenarios
from bench.e2e import MIX, JitteryCometAPI, RunOptions, Scenario
from tests.fakes.cometapi_models import FLUX_MODELS


def _kinds(plan: list[Scenario]) -> Counter[tuple[str, int, bool, bool, int]]:
    return Counter((s.bot, s.n, s.cold, s.mix, s.prefer_wait) for s in plan)


def test_the_default_plan_adds_cold_and_mix_runs_to_the_warm_ones() -> None:
    """Warm N=1,50,200,1000 as before; cold 20, 200, 1000 and mix 200, 1000, both bots."""
    kinds = _kinds(scenarios(parse_args([])))
    warm = {k: c for k, c in kinds.items() if not k[2] and not k[3]}
    assert warm == {
        **{(bot, n, False, False, 0): 3 for bot in ("bot", "naive") for n in (1, 50, 200)},
        ("bot", 1000, False, False, 0): 1,
        ("naive", 1000, False, False, 0): 1,
        **{("bot", n, False, False, 6): 1 for n in (1, 50, 200, 1000)},
    }
    cold = {k: c for k, c in kinds.items() if k[2]}
    assert cold == {
        ("bot", 20, True, False, 0): 3,
        ("naive", 20, True, False, 0): 3,
        ("bot", 200, True, False, 0): 3,
        ("naive", 200, True, False, 0): 3,
        ("bot", 1000, True, False, 0): 1,
        ("naive", 1000, True, False, 0): 1,
    }
    mix = {k: c for k, c in kinds.items() if k[3]}
    assert mix == {
        ("bot", 200, False, True, 0): 3,
        ("naive", 200, False, True, 0): 3,
        ("bot", 1000, False, True, 0): 1,
        ("naive", 1000, False, True, 0): 1,
    }


def test_empty_flags_plan_no_cold_and_no_mix_run() -> None:
    """`--cold '' --mix ''`: only the warm runs of --n."""
    plan = scenarios(parse_args(["--n", "50", "--cold", "", "--mix", ""]))
    assert plan and all(not s.cold and not s.mix and s.n == 50 for s in plan)


def test_the_flags_choose_the_cold_and_mix_n() -> None:
    """`--cold 20 --mix 20`: one cold pair and one mix pair at N=20, bot and naive alternating."""
    plan = scenarios(
        parse_args(
            ["--n", "", "--cold", "20", "--mix", "20", "--repeat", "2", "--mix-scale", "0.5"]
        )
    )
    assert [(s.bot, s.cold, s.mix, s.seed) for s in plan] == [
        ("bot", True, False, 10),
        ("naive", True, False, 10),
        ("naive", True, False, 11),
        ("bot", True, False, 11),
        ("bot", False, True, 10),
        ("naive", False, True, 10),
        ("naive", False, True, 11),
        ("bot", False, True, 11),
    ]
    assert all(s.n == 20 and s.mix_scale == 0.5 for s in plan)


def test_quick_has_a_small_cold_run_and_nothing_slow() -> None:
    """`--quick`: N=1 and 20 warm, a cold N=20 pair, no mix (10-20 s), each once."""
    plan = scenarios(parse_args(["--quick"]))
    assert ("bot", 20, True, False, 0) in _kinds(plan)
    assert ("naive", 20, True, False, 0) in _kinds(plan)
    assert not any(s.mix for s in plan)
    assert max(s.n for s in plan) == 20 and max(s.longest for s in plan) <= 1.5


def test_a_cold_run_has_no_warm_up_and_a_mix_run_cycles_the_three_models() -> None:
    """Cold: 0 warm-up jobs; mix: member i gets MIX[i % 3]; timeouts wait for the 20 s model."""
    options = RunOptions(warmup=4)
    assert Scenario("bot", 20, cold=True).warmup(options) == 0
    assert Scenario("naive", 20, cold=True).warmup(options) == 0
    assert Scenario("bot", 20).warmup(options) == 4
    mix = Scenario("bot", 200, mix=True)
    assert [mix.model_for(i) for i in range(4)] == [
        "black-forest-labs/flux-schnell",
        "black-forest-labs/flux-1.1-pro",
        "black-forest-labs/flux-1.1-pro-ultra",
        "black-forest-labs/flux-schnell",
    ]
    assert Scenario("bot", 200).model_for(1) is None  # the bot's default model
    assert mix.longest == 20.0
    assert Scenario("bot", 3, duration=3).longest == pytest.approx(3.6)
    assert Scenario("bot", 3, mix=True, mix_scale=0.05).longest == pytest.approx(1.0)
    assert all(model in FLUX_MODELS for model, _, _ in MIX)  # the fake API knows them


def test_the_fake_api_draws_a_mix_model_s_duration_from_its_range() -> None:
    """A model in the table: uniform in its range; any other: duration ± jitter."""
    table = {"black-forest-labs/flux-1.1-pro": (4.0, 8.0)}
    api = JitteryCometAPI(jitter=0.2, seed=3, duration=3.0, durations=table)
    spans: dict[str, list[float]] = {}
    for model_id in ("black-forest-labs/flux-1.1-pro", "black-forest-labs/flux-schnell"):
        for i in range(200):
            pred = api._new_prediction(model_id, FLUX_MODELS[model_id], {"prompt": f"p{i}"})
            spans.setdefault(model_id, []).append(pred.finish_at - pred.start_at)
    pro, schnell = spans["black-forest-labs/flux-1.1-pro"], spans["black-forest-labs/flux-schnell"]
    assert 4.0 <= min(pro) < 4.5 and 7.5 < max(pro) <= 8.0
    assert min(schnell) >= 2.4 - 1e-9 and max(schnell) <= 3.6 + 1e-9
