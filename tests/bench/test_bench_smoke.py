"""The benchmark machinery end to end, tiny: both bots as processes, N=2 or 3, every figure
reported, and the cold and mix variants."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

from PIL import Image

from bench.chart import draw_chart
from bench.e2e import MIX, RunOptions, Scenario, run_scenario
from bench.report import BEGIN, END, FIGURES, evaluate, group, markdown, write_docs
from tests.fakes.discord.spec import load_spec


async def test_both_bots_report_every_figure_without_errors(tmp_path: Path) -> None:
    """N=2 against the real bot and the naive bot: all figures present, no error, docs drawn."""
    spec = load_spec()
    options = RunOptions(settle=0.1, warmup=1, finish_margin=10)
    results = [
        await run_scenario(Scenario(bot, 2, duration=0.3, jitter=0.1), options=options, spec=spec)
        for bot in ("bot", "naive")
    ]
    for result in results:
        assert result.errors == [], (result.scenario.label, result.errors)
        figures = result.figures()
        missing = [name for name in FIGURES if figures[name] is None]
        assert missing == [], (result.scenario.label, missing)
        assert len(result.acks) == 2 and len(result.overheads) == 2
        assert result.creates == 2 and result.polls >= 0 and result.downloads == 2
        assert result.loop_lag_ms is not None and result.peak_rss_kb > 10_000
    assert results[0].job_statuses == {"succeeded": 3}  # the warm-up job and the two measured

    rows = group(results)
    assert [r.label for r in rows] == ["naive bot", "bot"]
    targets = evaluate(rows)
    assert any("N=2" in t.name and t.met is not None for t in targets)
    chart = draw_chart(rows, tmp_path / "benchmarks.png")
    with Image.open(chart) as image:
        assert image.size[0] > 1000
    doc = tmp_path / "benchmarks.md"
    doc.write_text(f"# Benchmarks\n\nHand-written intro.\n\n{BEGIN}\nold\n{END}\n\nNotes.\n")
    write_docs(doc, markdown(rows, targets, {"cpus": "2"}, "benchmarks.png"))
    text = doc.read_text()
    assert "Hand-written intro." in text and "Notes." in text and "\nold\n" not in text
    assert "| naive bot | 2 |" in text and "| bot | 2 |" in text


async def test_cold_and_mix_runs_ask_for_each_model_without_errors(tmp_path: Path) -> None:
    """A warm mix (its warm-up cycling the models) and a cold mix, at 0.05× durations: no error."""
    spec = load_spec()
    options = RunOptions(settle=0.1, warmup=3, finish_margin=10, keep_dir=tmp_path)
    scenarios = [
        Scenario("bot", 3, mix=True, mix_scale=0.05),
        Scenario("naive", 3, cold=True, mix=True, mix_scale=0.05),
    ]
    results = [await run_scenario(s, options=options, spec=spec) for s in scenarios]
    for result in results:
        assert result.errors == [], (result.scenario.label, result.errors)
        assert result.models == dict.fromkeys((m for m, _, _ in MIX), 1), result.scenario.label
        assert len(result.overheads) == 3
    # The bot's database: three warm-up jobs and three measured, one of each model in each.
    db = tmp_path / "bot,_mix-n3" / "bot.db"
    with contextlib.closing(sqlite3.connect(db)) as conn:
        by_model = dict(conn.execute("SELECT model, COUNT(*) FROM jobs GROUP BY model").fetchall())
    assert by_model == dict.fromkeys((m for m, _, _ in MIX), 2)
    assert results[0].job_statuses == {"succeeded": 6}
    rows = group(results)
    assert [r.label for r in rows] == ["bot, mix", "naive bot, cold, mix"]
