"""Benchmarks: each figure printed beside its baseline and its target, measured in one process.

Run with ``make bench`` (or ``python benchmarks/run.py [NAME ...]``). Figures are medians of
several runs on this machine; put them in the issue note. These are measurements, not tests:
nothing here fails the suite.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "data_samples"


def timed(fn: Callable[[], object], repeat: int = 5) -> float:
    """Median wall time of ``fn`` in seconds (one warm-up run first)."""
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def peak_memory(fn: Callable[[], object]) -> float:
    """Peak Python-allocated memory of ``fn`` in MB (tracemalloc)."""
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 1e6


def report(name: str, figure: float, unit: str, baseline: float | None = None,
           baseline_name: str = "", target: str = "") -> None:
    line = f"{name:<42} {figure:9.3f} {unit}"
    if baseline is not None:
        line += f"   baseline {baseline_name}: {baseline:.3f} {unit} ({figure / baseline:.1f}x)"
    if target:
        line += f"   target {target}"
    print(line, flush=True)


def bench_load() -> None:
    """Issue 2: load + validate the university sample (all four waves) in under 2 s."""
    import pandas as pd

    from workbench.validate import validate_dataset

    dataset = SAMPLES / "university"
    result = validate_dataset(dataset)
    rows = len(result.survey.responses)
    load = timed(lambda: validate_dataset(dataset))
    read = timed(lambda: pd.read_csv(dataset / "responses.csv"))
    report(f"load university ({rows} answers, 4 waves)", load, "s", read,
           "bare pandas.read_csv", "< 2 s")
    municipality = SAMPLES / "municipality"
    report("load municipality", timed(lambda: validate_dataset(municipality)), "s")
    report("load university: peak memory", peak_memory(lambda: validate_dataset(dataset)), "MB")


BENCHMARKS = {"load": bench_load}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help=f"benchmarks to run: {', '.join(BENCHMARKS)} (default: all)")
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}")
    for name in args.names or list(BENCHMARKS):
        BENCHMARKS[name]()
    return 0


if __name__ == "__main__":
    sys.exit(main())
