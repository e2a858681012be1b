"""The blocked-term benchmark, tiny: every term list is accepted by /settings' checks, none is
skipped, and the summary line carries the figure."""

from __future__ import annotations

import pytest

from bench.bench_terms import adversarial_prompts, adversarial_terms, main
from bot.storage.guild_config import validate_term
from bot.terms import MAX_PATTERNS_COST
from bot.terms.syntax import pattern_cost


def test_every_benchmark_list_is_one_a_server_could_hold() -> None:
    """200 valid terms per list; its patterns fill, and stay within, the server's budget."""
    for name, terms in adversarial_terms(200).items():
        assert len(terms) == 200, name
        assert all(validate_term(t.term).is_pattern == t.is_pattern for t in terms), name
        cost = sum(pattern_cost(t.term) for t in terms if t.is_pattern)
        assert cost <= MAX_PATTERNS_COST, name
        if name != "words only":
            assert cost > MAX_PATTERNS_COST * 0.8, (name, cost)
    assert all(len(p) == 2000 for p in adversarial_prompts(2000).values())


def test_the_summary_line_is_printed(capsys: pytest.CaptureFixture[str]) -> None:
    """A short run prints one row per list and the summary line."""
    main(["--terms", "20", "--length", "100", "--repeat", "1"])
    out = capsys.readouterr().out.splitlines()
    assert out[-1].startswith("blocked-term check, 20 terms, 100-char adversarial prompt: worst ")
    assert len(out) == 1 + len(adversarial_terms(20)) + 1
