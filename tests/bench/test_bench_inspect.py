"""The output-check benchmark runs and reports one CPU figure per format."""

from __future__ import annotations

import pytest

from bench import bench_inspect


def test_it_prints_a_figure_for_each_format(capsys: pytest.CaptureFixture[str]) -> None:
    """Each of WebP, JPEG and PNG gets a line with its CPU milliseconds per check."""
    assert bench_inspect.main(["--size", "64", "--repeat", "1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0].strip() for line in lines] == ["webp", "jpg", "png"]
    assert all(line.endswith("ms CPU per check") for line in lines)
