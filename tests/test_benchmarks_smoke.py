"""The benchmarks run (benchmarks/run.py): each once, on tiny inputs, returning numbers.

Nothing here looks at how fast anything is: benchmarks are run on demand and report
ratios; the test suite only keeps them from rotting.
"""

from __future__ import annotations

import importlib
import math
import resource
import sys
from pathlib import Path

import pytest

BENCHMARKS_DIR = Path(__file__).resolve().parent.parent / "benchmarks"


@pytest.fixture(scope="module")
def bench():
    sys.path.insert(0, str(BENCHMARKS_DIR))
    try:
        yield (
            importlib.import_module("bench_cases"),
            importlib.import_module("bench_util"),
            importlib.import_module("run"),
        )
    finally:
        sys.path.remove(str(BENCHMARKS_DIR))


@pytest.mark.parametrize("name", ["tui", "cli", "list", "mint", "signin"])
def test_each_benchmark_runs_once_and_returns_numbers(bench, name):
    cases, util, _ = bench
    _, function = cases.BENCHMARKS[name]

    rows = function(util.Settings.tiny())

    assert rows
    for row in rows:
        assert row.values, row.name
        for key, value in row.values.items():
            assert isinstance(value, float | int), (row.name, key)
            assert math.isfinite(value) and value > 0, (row.name, key, value)
        if row.ratio is not None:
            assert math.isfinite(row.ratio) and row.ratio > 0, row.name
        assert row.kopitui and row.kopitui != "failed", row.name


def test_every_benchmark_has_a_smoke_run(bench):
    cases, _, _ = bench
    assert set(cases.BENCHMARKS) == {"tui", "cli", "list", "mint", "signin"}


def test_run_prints_the_machine_and_a_markdown_table(bench, capsys):
    _, _, run = bench

    code = run.main(["--quick", "--only", "signin"])

    out = capsys.readouterr().out
    assert code == 0
    for fact in ("CPU", "Cores", "Python", "Textual"):
        assert f"**{fact}:**" in out
    lines = [line for line in out.splitlines() if line.startswith("|")]
    assert lines[0].startswith("| Benchmark | kopitui | baseline | ratio")
    assert any(line.startswith("| Sign-in") for line in lines[2:])
    assert "Total time:" in out


def test_child_memory_is_the_childs_own(bench, tmp_path):
    """A big parent must not inflate a small child's peak memory (Linux passes the
    forking parent's RSS on to the child's ru_maxrss; GNU time avoids that)."""
    _, util, _ = bench
    if util.GNU_TIME is None:
        pytest.skip("GNU time is not installed")
    ballast = bytearray(96 * 1024 * 1024)
    ballast[:: resource.getpagesize()] = b"\x01" * len(ballast[:: resource.getpagesize()])

    run = util.spawn([sys.executable, "-c", "pass"], util.isolated_env(tmp_path))

    assert run.returncode == 0
    assert 0 < run.maxrss_kib < 64 * 1024
    del ballast


def test_alternation_takes_turns(bench):
    _, util, _ = bench
    calls = []
    samples = util.interleave(
        {"a": lambda: calls.append("a") or 1.0, "b": lambda: calls.append("b") or 2.0},
        rounds=4,
        warmup=1,
    )
    assert samples == {"a": [1.0] * 4, "b": [2.0] * 4}
    assert calls == ["a", "b", "a", "b", "b", "a", "b", "a", "a", "b"]
