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
        ratio = (f"{baseline / figure:.0f}x faster" if figure < baseline
                 else f"{figure / baseline:.1f}x the baseline's time")
        line += f"   baseline {baseline_name}: {baseline:.3f} {unit} ({ratio})"
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


def national_survey(persons: int = 1_000_000, units: int = 5_000, seed: int = 7):
    """A synthetic national-scale 10-FAKTOR survey: 5 levels, ``units`` units, one wave."""
    import numpy as np
    import pandas as pd

    from workbench.instrument import Text, load_instrument
    from workbench.org import Hierarchy
    from workbench.survey import Survey, SurveyConfig
    from workbench.validate import Report

    rng = np.random.default_rng(seed)
    # levels of 1, 10, 100, 900 and the rest: every unit's parent lies one level up
    sizes = [1, 10, 100, 900, units - 1011]
    ids, parents, start = [], [], 0
    for depth, size in enumerate(sizes):
        level_ids = [f"L{depth}-{i}" for i in range(size)]
        if depth == 0:
            parents += [""]
        else:
            above = ids[start - sizes[depth - 1]:start]
            parents += [above[i % len(above)] for i in range(size)]
        ids += level_ids
        start += size
    tree = pd.DataFrame({"unit_id": ids, "parent_id": parents, "name": ids})
    hierarchy = Hierarchy.from_frame(tree)
    instrument = load_instrument("tifaktor")
    # persons sit in the two lowest levels, unevenly
    weights = np.r_[np.zeros(111), rng.gamma(1.5, 1.0, units - 111)]
    unit_of = rng.choice(units, size=persons, p=weights / weights.sum())
    latent = rng.normal(0, 0.8, persons)[:, None] + rng.normal(0, 0.7, (persons, 35))
    codes = np.clip(np.round(4.1 + latent), 1, 5).astype("float64")
    codes[rng.random(codes.shape) < 0.02] = np.nan
    frame = pd.DataFrame(codes, columns=list(instrument.item_ids)).astype("Int8")
    frame.insert(0, "unit_id", np.asarray(ids, dtype=object)[unit_of])
    frame.insert(0, "wave", pd.Categorical(["2025"] * persons, categories=["2025"]))
    frame.insert(0, "respondent_id", np.arange(persons).astype(str))
    invited = np.bincount(unit_of, minlength=units)
    invited = np.ceil(invited * 1.3).astype("int64")
    headcount = pd.DataFrame({"wave": "2025", "unit_id": ids, "invited": invited})
    headcount = headcount[headcount["invited"] > 0]
    config = SurveyConfig(name=Text("Nasjonal", "National"), instrument="tifaktor",
                          waves=("2025",))
    return Survey(path=ROOT, config=config, instrument=instrument, report=Report("national"),
                  _hierarchies={"2025": hierarchy}, _responses=frame, _headcount=headcount)


def _pandas_way(scores, hierarchy, factors, unit_ids, codes):
    """The straightforward approach: filter each unit's subtree, describe it, count answers."""
    for unit in unit_ids:
        sub = hierarchy.subtree(unit)
        mask = scores["unit_id"].isin(sub)
        scores.loc[mask, factors].describe()
        codes.loc[mask].apply(lambda c: c.value_counts())


def bench_stats() -> None:
    """Issue 3: the full stats table (all units, factors, one wave) under 3 s, 20x pandas."""
    import resource

    from workbench.scoring import person_scores
    from workbench.stats import stats_table
    from workbench.validate import load_survey

    university = load_survey(SAMPLES / "university")
    report("stats: university, all units, 2021", timed(
        lambda: stats_table(university, wave="2021")), "s", target="< 0.3 s")
    report("stats: university, all units, 4 waves", timed(
        lambda: stats_table(university)), "s")
    survey = national_survey()
    rows = len(survey.responses)
    ours = timed(lambda: stats_table(survey, wave="2025"), repeat=3)
    hierarchy = survey.hierarchy()
    scores = person_scores(survey.responses, survey.instrument)
    factors = [f.id for f in survey.instrument.factors]
    codes = survey.responses[list(survey.instrument.item_ids)]
    subset = list(hierarchy.ids[:: len(hierarchy) // 25])[:25]
    per_unit = timed(lambda: _pandas_way(scores, hierarchy, factors, subset, codes),
                     repeat=1) / len(subset)
    pandas_all = per_unit * len(hierarchy)
    report(f"stats: national ({rows:,} answers, {len(hierarchy):,} units)", ours, "s",
           pandas_all, f"pandas per subtree (x{len(hierarchy)} from {len(subset)} units)",
           "< 3 s and >= 20x")
    peak = peak_memory(lambda: stats_table(survey, wave="2025"))
    report("stats: national, peak traced memory", peak, "MB", target="< 3000 MB")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    report("whole benchmark process: peak RSS", rss, "MB", target="< 3000 MB")


BENCHMARKS = {"load": bench_load, "stats": bench_stats}


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
