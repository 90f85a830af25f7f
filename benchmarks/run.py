"""Run kopitui's benchmarks and print a Markdown table of medians and ratios.

    .venv/bin/python benchmarks/run.py            # everything (about a minute)
    .venv/bin/python benchmarks/run.py --quick    # fewer rounds: a smoke run (~15 s)
    .venv/bin/python benchmarks/run.py --only tui --only cli
    .venv/bin/python benchmarks/run.py --output benchmarks/results/latest.md

Benchmarks: tui (start to Sign in, time and memory), cli (``kopitui token verify``),
list (Token List with 100,000 tokens vs 10), mint (tokens per second), signin (one
argon2id password check). See bench_cases.py for what each compares against.

Each benchmark alternates kopitui and a baseline measured in the same run, after a
warm-up, and reports medians and the ratio kopitui ÷ baseline. On a shared or noisy
machine compare ratios, not times. Nothing here asserts on time; the test suite only
checks that each benchmark runs (tests/test_benchmarks_smoke.py).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_cases import BENCHMARKS  # noqa: E402
from bench_util import Row, Settings, machine  # noqa: E402


def markdown(rows: list[Row]) -> str:
    lines = [
        "| Benchmark | kopitui | baseline | ratio | target | met | notes |",
        "|---|--:|--:|--:|:-:|:-:|---|",
    ]
    for row in rows:
        ratio = "" if row.ratio is None else f"{row.ratio:.2f}×"
        cells = [row.name, row.kopitui, row.baseline, ratio, row.target, row.verdict, row.note]
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(lines)


def describe(settings: Settings, mode: str) -> str:
    facts = machine()
    lines = [f"- **{key}:** {value}" for key, value in facts.items()]
    lines.append(
        f"- **Run:** {mode}; {settings.warmup} warm-up + {settings.rounds} alternating rounds "
        "per benchmark; medians; ratio = kopitui ÷ baseline (lower is better)"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="kopitui benchmarks: medians and ratios against a baseline.",
        allow_abbrev=False,
    )
    parser.add_argument("--quick", action="store_true", help="fewer rounds, for a smoke run")
    parser.add_argument(
        "--only",
        action="append",
        choices=list(BENCHMARKS),
        metavar="NAME",
        help=f"run only this benchmark (repeatable): {', '.join(BENCHMARKS)}",
    )
    parser.add_argument(
        "--output",
        metavar="FILE",
        type=Path,
        help="also write the report to FILE (benchmarks/results/ is git-ignored)",
    )
    args = parser.parse_args(argv)
    try:
        import kopitui  # noqa: F401
    except ImportError:
        parser.error("kopitui is not importable: run with the project's venv Python.")

    settings = Settings.quick() if args.quick else Settings.full()
    names = args.only or list(BENCHMARKS)
    started = time.perf_counter()
    rows: list[Row] = []
    failed = False
    for name in names:
        title, function = BENCHMARKS[name]
        print(f"… {title}", file=sys.stderr, flush=True)
        t0 = time.perf_counter()
        try:
            rows.extend(function(settings))
        except Exception as exc:  # noqa: BLE001 - report and go on with the others
            failed = True
            rows.append(Row(title, "failed", "", None, "", False, f"{type(exc).__name__}: {exc}"))
        print(f"  done in {time.perf_counter() - t0:.1f} s", file=sys.stderr, flush=True)
    total = time.perf_counter() - started

    report = "\n\n".join(
        [
            describe(settings, "quick" if args.quick else "full"),
            markdown(rows),
            f"Total time: {total:.0f} s",
        ]
    )
    print(report)
    if args.output is not None:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(report + "\n", encoding="utf-8")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
