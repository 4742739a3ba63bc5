"""A seeded generator of a national-scale dataset folder, for the benchmarks.

``national_dataset()`` writes (once, into a cache folder kept out of git) a 10-FAKTOR survey
of ``persons`` answers x 35 items in ``units`` units over 5 levels (1 country, 10 regions,
100 municipalities, 900 sectors, the rest services), one wave, as a dataset folder a user
could have made: ``survey.yaml``, ``units.csv``, ``headcount.csv`` and ``responses.parquet``
with the item columns as pandas nullable integers (``Int64``, ``<NA>`` for a skipped item),
what ``DataFrame.to_parquet`` writes by default.

The same arguments give the same bytes (seeded), so a folder found in the cache is reused.

    python benchmarks/national.py [--persons N] [--units N] [--out DIR]
    python benchmarks/national.py --pandas-way     # the baseline of the stats benchmark
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "benchmarks" / ".cache"
LEVEL_SIZES = (1, 10, 100, 900)  # the fifth level takes the remaining units
WAVE = "2025"


def _tree(units: int) -> tuple[list[str], list[str]]:
    """Unit ids and parent ids over 5 levels; every unit's parent lies one level up."""
    sizes = [*LEVEL_SIZES, units - sum(LEVEL_SIZES)]
    if sizes[-1] < 1:
        raise ValueError(f"units must be more than {sum(LEVEL_SIZES)}, got {units}")
    ids: list[str] = []
    parents: list[str] = []
    above: list[str] = []
    for depth, size in enumerate(sizes):
        level = [f"L{depth}-{i:05d}" for i in range(size)]
        parents += [above[i % len(above)] if above else "" for i in range(size)]
        ids += level
        above = level
    return ids, parents


def write_national(folder: Path, persons: int = 1_000_000, units: int = 5_000,
                   seed: int = 7) -> Path:
    """Write the dataset folder (see the module docstring); return it."""
    import numpy as np
    import pandas as pd

    from workbench.instrument import load_instrument

    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    ids, parents = _tree(units)
    pd.DataFrame({"unit_id": ids, "parent_id": parents,
                  "name": [f"Enhet {u}" for u in ids],
                  "name_en": [f"Unit {u}" for u in ids]}).to_csv(folder / "units.csv",
                                                                 index=False)
    items = load_instrument("tifaktor").item_ids
    # persons sit in the two lowest levels, unevenly (gamma-distributed unit sizes)
    inner = sum(LEVEL_SIZES[:3])
    weights = np.r_[np.zeros(inner), rng.gamma(1.5, 1.0, units - inner)]
    unit_of = rng.choice(units, size=persons, p=weights / weights.sum())
    unit_effect = rng.normal(0, 0.3, units)[unit_of]
    latent = (unit_effect + rng.normal(0, 0.8, persons))[:, None]
    codes = np.clip(np.round(4.0 + latent + rng.normal(0, 0.7, (persons, len(items)))), 1, 5)
    codes[rng.random(codes.shape) < 0.01] = 6          # "vet ikke"
    codes[rng.random(codes.shape) < 0.02] = np.nan     # skipped
    frame = pd.DataFrame(codes, columns=list(items)).astype("Int64")
    frame.insert(0, "gender", pd.array(np.where(rng.random(persons) < 0.55, "female", "male"),
                                       dtype="string"))
    frame.insert(0, "unit_id", np.asarray(ids, dtype=object)[unit_of])
    frame.insert(0, "wave", WAVE)
    frame.insert(0, "respondent_id", [f"r{i:07d}" for i in range(persons)])
    frame.to_parquet(folder / "responses.parquet", index=False)
    answers = np.bincount(unit_of, minlength=units)
    invited = np.ceil(answers * rng.uniform(1.1, 1.6, units)).astype("int64")
    pd.DataFrame({"wave": WAVE, "unit_id": ids, "invited": invited})[invited > 0].to_csv(
        folder / "headcount.csv", index=False)
    (folder / "survey.yaml").write_text(
        "name: {nb: Nasjonal undersøkelse, en: National survey}\n"
        "instrument: tifaktor\n"
        f"waves: [{WAVE}]\n"
        "language: nb\n"
        "privacy: {min_n: 5, background_levels: [0]}\n"
        "background:\n"
        "  gender: {name: {nb: Kjønn, en: Gender}, values: {female: Kvinne, male: Mann}}\n",
        encoding="utf-8")
    return folder


def national_dataset(persons: int = 1_000_000, units: int = 5_000, seed: int = 7,
                     cache: Path = CACHE) -> Path:
    """The dataset folder in ``cache`` (written on first use; a finished folder is reused)."""
    folder = cache / f"national-{persons}-{units}-{seed}"
    done = folder / ".complete"
    if not done.is_file():
        write_national(folder, persons, units, seed)
        done.touch()
    return folder


def pandas_way(folder: Path, sample: int = 25) -> dict[str, float]:
    """The straightforward pandas approach to the statistics table, timed: read the answers,
    score persons (mean of the answered items of each factor, reverse items flipped, "don't
    know" as missing), then for each unit filter the rows of its subtree and describe the
    factors and count the answers per scale point. Timed on ``sample`` units spread over
    the hierarchy and scaled to all units.

    Returns ``load`` (read and score, s), ``per_unit`` (s) and ``total`` (load + per_unit x
    units, s).
    """
    import time

    import numpy as np
    import pandas as pd

    from workbench.instrument import load_instrument

    start = time.perf_counter()
    instrument = load_instrument("tifaktor")
    answers = pd.read_parquet(folder / "responses.parquet")
    units = pd.read_csv(folder / "units.csv", dtype=str, keep_default_na=False)
    scores = answers[["unit_id"]].copy()
    for factor in instrument.factors:
        block = answers[list(factor.item_ids)].astype("float64").replace(6, np.nan)
        for item in factor.items:
            if item.reverse:
                block[item.id] = 6 - block[item.id]
        enough = block.notna().sum(axis=1) >= instrument.min_items(factor)
        scores[factor.id] = block.mean(axis=1).where(enough)
    load = time.perf_counter() - start
    children: dict[str, list[str]] = {}
    for unit, parent in zip(units["unit_id"], units["parent_id"]):
        children.setdefault(parent, []).append(unit)

    def subtree(unit: str) -> list[str]:
        out, stack = [], [unit]
        while stack:
            node = stack.pop()
            out.append(node)
            stack.extend(children.get(node, []))
        return out

    ids = list(units["unit_id"])
    chosen = ids[:: max(1, len(ids) // sample)][:sample]
    factors = [f.id for f in instrument.factors]
    items = list(instrument.item_ids)
    start = time.perf_counter()
    for unit in chosen:
        mask = answers["unit_id"].isin(subtree(unit))
        scores.loc[mask, factors].describe()
        answers.loc[mask, items].apply(lambda column: column.value_counts())
    per_unit = (time.perf_counter() - start) / len(chosen)
    return {"load": load, "per_unit": per_unit, "units": len(ids),
            "total": load + per_unit * len(ids)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--units", type=int, default=5_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, help="folder (default: the benchmark cache)")
    parser.add_argument("--pandas-way", action="store_true",
                        help="time the straightforward pandas approach on the dataset and "
                             "print its figures as JSON")
    args = parser.parse_args(argv)
    if args.pandas_way:
        import json

        print(json.dumps(pandas_way(national_dataset(args.persons, args.units, args.seed))))
        return 0
    if args.out:
        print(write_national(args.out, args.persons, args.units, args.seed))
    else:
        print(national_dataset(args.persons, args.units, args.seed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
