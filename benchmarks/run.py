"""Benchmarks: each figure printed beside its baseline and its target.

Run with ``make bench`` (or ``python benchmarks/run.py [NAME ...]``). Figures are medians of
several runs on this machine; put them in the issue note. These are measurements, not tests:
nothing here fails the suite.

``national`` measures whole processes (``workbench --help``, ``validate``, ``stats``) on the
seeded national dataset of ``benchmarks/national.py`` (1,000,000 answers x 35 items, 5,000
units, 5 levels, Parquet with nullable integers; generated once into ``benchmarks/.cache/``,
which git ignores): wall time, CPU time and peak RSS of each child process, via
``/usr/bin/time`` (or ``getrusage`` of the children without it), each beside its baseline
measured in the same run.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Callable, Sequence

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
        faster = baseline / figure
        ratio = (f"{faster:.{0 if faster >= 10 else 2}f}x faster" if figure < baseline
                 else f"{figure / baseline:.2f}x the baseline's time")
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


#: The commit whose handouts the handouts figure is measured beside (the last one before the
#: release; its handouts computed and protected their own tables from the respondent rows).
HANDOUTS_BASELINE = "e8f0d95"


def _handouts_run(python: Path, cwd: Path, out: Path, env: dict, dataset: str,
                  units: Sequence[str] | None = None) -> dict:
    """One ``workbench handouts DATASET --all --format html,pdf`` as its own process tree
    (with ``units``: the same batch for those units only): wall seconds, CPU seconds (user +
    system of the whole tree), the largest resident set of any of its processes, and how
    many handouts it wrote."""
    import subprocess

    if units is None:
        run = ["-m", "workbench.cli", "handouts", dataset, "--all", "--format", "html,pdf",
               "--out", str(out), "--quiet"]
    else:
        run = ["-c", "import sys; from workbench.handouts.batch import make_handouts; "
               "make_handouts(sys.argv[1], sys.argv[2], units=sys.argv[3].split(','), "
               "formats='html,pdf', progress=False)", dataset, str(out), ",".join(units)]
    command = [str(python), "-c", "import resource, subprocess, sys, time; "
               "t = time.perf_counter(); subprocess.run(sys.argv[1:], check=True); "
               "w = time.perf_counter() - t; r = resource.getrusage(resource.RUSAGE_CHILDREN); "
               "print(w, r.ru_utime + r.ru_stime, r.ru_maxrss)", str(python), *run]
    done = subprocess.run(command, cwd=cwd, env=env, check=True, capture_output=True,
                          text=True)
    wall, cpu, rss = done.stdout.split()[-3:]
    return {"wall": float(wall), "cpu": float(cpu), "rss": float(rss) / 1024,
            "units": len(list(out.glob("*/handout-*.pdf")))}


def bench_handouts() -> None:
    """Issue 9: every university unit, HTML + PDF, read from the release, no slower than the
    handouts before the release (measured beside them, runs taking turns); peak memory."""
    import os
    import subprocess
    import tempfile

    python = Path(sys.executable)
    baseline = os.environ.get("WORKBENCH_HANDOUTS_BASELINE", HANDOUTS_BASELINE)
    repeat = int(os.environ.get("WORKBENCH_HANDOUTS_REPEAT", "1"))
    with tempfile.TemporaryDirectory(prefix="wb-bench-handouts-") as tmp:
        tmp = Path(tmp)
        old = tmp / "baseline"
        old.mkdir()
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", baseline],
                                 check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(old)], input=archive, check=True)
        start = time.perf_counter()
        subprocess.run([str(python), "-m", "workbench.cli", "release",
                        str(SAMPLES / "university")], check=True, capture_output=True,
                       cwd=ROOT)
        report("release: university (build, audit, write)", time.perf_counter() - start, "s")
        env_new = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        env_old = dict(env_new, PYTHONPATH=str(old))
        runs: dict[str, list[dict]] = {"new": [], "old": [], "same": []}
        for i in range(repeat):  # taking turns, so that other load on the machine hits both
            for name, cwd, env, dataset in (
                    ("old", old, env_old, "data_samples/university"),
                    ("new", ROOT, env_new, str(SAMPLES / "university"))):
                runs[name].append(_handouts_run(python, cwd, tmp / f"{name}-{i}", env,
                                                dataset))
            # the release publishes more units; these are the ones the baseline made
            made = [{p.parent.name for p in (tmp / f"{name}-{i}").glob("*/handout-*.pdf")}
                    for name in ("old", "new")]
            theirs = sorted(made[0] & made[1])
            runs["same"].append(_handouts_run(python, ROOT, tmp / f"same-{i}", env_new,
                                              str(SAMPLES / "university"), theirs))
        new, old_, same = runs["new"], runs["old"], runs["same"]

        def median(rows, key):
            return statistics.median(r[key] for r in rows)

        base = f"{baseline} (survey, {old_[0]['units']} units)"
        load = os.getloadavg()[0]
        ratio = median(new, "wall") / median(old_, "wall")
        report(f"handouts: university --all html,pdf from the release ({new[0]['units']} "
               f"units)", median(new, "wall"), "s", median(old_, "wall"), base,
               f"no slower than the baseline (now {ratio:.2f} of its time)")
        report(f"handouts: the baseline's {same[0]['units']} units only, from the release",
               median(same, "wall"), "s", median(old_, "wall"), base)
        report(f"handouts: all, CPU seconds (load avg now {load:.1f})",
               median(new, "cpu"), "s", median(old_, "cpu"), base)
        report("handouts: CPU seconds per handout", median(new, "cpu") / new[0]["units"], "s",
               median(old_, "cpu") / old_[0]["units"], base)
        report("handouts: peak RSS of one process", median(new, "rss"), "MB",
               median(old_, "rss"), base)


def bench_apps() -> None:
    """Issue 9: 30 leaders open their links at once (``benchmarks/leaders.py``): first views,
    p95 time to first view <= 3 s, no failed request, a leader kernel <= 150 MB."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import leaders

    figures = leaders.run(leaders=30, browser=5)
    report("apps: 30 leaders at once, first views shown", figures["first_view_shown"], "of 30",
           target="30")
    report("apps: time to first view, p95", figures["first_view_p95_s"], "s", target="<= 3 s")
    report("apps: failed requests", figures["failed_requests"], "", target="0")
    drawn = figures["kernel_memory_drawn_mb"]
    for kind in ("uss", "pss", "rss"):
        report(f"apps: leader kernel once drawn, {kind.upper()} (largest)", drawn[f"{kind}_max"],
               "MB", target="<= 150 MB" if kind == "uss" else "")


def measure(argv: list[str], repeat: int = 3) -> dict[str, float]:
    """Run ``argv`` as a whole process ``repeat`` times; median wall and CPU seconds, largest
    peak RSS (MB). Output goes to /dev/null; a failing run raises."""
    import os
    import resource
    import subprocess
    import tempfile

    walls, cpus, rss = [], [], []
    gnu_time = Path("/usr/bin/time")
    for _ in range(repeat):
        with tempfile.NamedTemporaryFile("r", suffix=".time") as out:
            prefix = [str(gnu_time), "-f", "%e %U %S %M", "-o", out.name] \
                if gnu_time.exists() else []
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            done = subprocess.run(prefix + argv, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, text=True,
                                  env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"))
            wall = time.perf_counter() - start
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            if done.returncode not in (0, 1):
                raise RuntimeError(f"{' '.join(argv)} failed: {done.stderr[-2000:]}")
            if prefix:
                fields = out.read().split()[-4:]
                wall, user, system, peak = (float(f) for f in fields)
                cpus.append(user + system)
                rss.append(peak / 1024)
            else:
                cpus.append((after.ru_utime - before.ru_utime) +
                            (after.ru_stime - before.ru_stime))
                rss.append(after.ru_maxrss / 1024)
            walls.append(wall)
    return {"wall": statistics.median(walls), "cpu": statistics.median(cpus),
            "rss": max(rss)}


def bench_national() -> None:
    """Issue 10: whole processes on the national dataset: stats <= 8 s and >= 10x the
    straightforward pandas approach, peak RSS <= 3 GB; validate <= 4 s; --help <= 0.4 s."""
    import json
    import os
    import subprocess

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from national import national_dataset

    python = str(Path(sys.executable))
    workbench = str(Path(sys.executable).parent / "workbench")
    folder = national_dataset()
    load = os.getloadavg()[0]
    print(f"national dataset: {folder} (load average now {load:.1f} on {os.cpu_count()} "
          "cores; wall times stretch when the machine is busy, CPU times do not)", flush=True)

    def line(name: str, figure: dict, baseline: dict | None, baseline_name: str,
             target: str) -> None:
        report(name, figure["wall"], "s", None if baseline is None else baseline["wall"],
               baseline_name, f"{target}; CPU {figure['cpu']:.2f} s, peak RSS "
               f"{figure['rss']:.0f} MB")

    bare = measure([python, "-c", "pass"], repeat=5)
    eager = measure([python, "-c", "import workbench.compare"], repeat=5)
    helped = measure([workbench, "--help"], repeat=5)
    line("workbench --help", helped, eager, "importing pandas + scipy as before",
         f"<= 0.4 s (bare interpreter {bare['wall']:.3f} s)")

    read = measure([python, "-c", "import sys, pyarrow.parquet as pq; "
                    "pq.read_table(sys.argv[1]).to_pandas()",
                    str(folder / "responses.parquet")])
    validated = measure([workbench, "validate", str(folder)])
    line("workbench validate national (1,000,000 x 35)", validated, read,
         "bare pyarrow read + to_pandas", "<= 4 s")

    out = ROOT / "benchmarks" / ".cache" / "stats.csv"
    stats = measure([workbench, "stats", str(folder), "--out", str(out)])
    rows = sum(1 for _ in out.open()) - 1
    baseline = json.loads(subprocess.run(
        [python, str(ROOT / "benchmarks" / "national.py"), "--pandas-way"],
        capture_output=True, text=True, check=True).stdout)
    pandas_total = {"wall": baseline["total"], "cpu": float("nan"), "rss": float("nan")}
    line(f"workbench stats national ({rows:,} rows out)", stats, pandas_total,
         f"pandas per subtree ({baseline['per_unit']:.3f} s x {baseline['units']} units, "
         f"timed on 25, + {baseline['load']:.1f} s to read and score)",
         "<= 8 s, >= 10x, peak RSS <= 3000 MB")


def bench_release() -> None:
    """Issue 9: build, protect, audit and write the release of the university sample (4 waves,
    every table) as one process, beside loading alone; and the utility of the protection."""
    import json
    import tempfile

    dataset = SAMPLES / "university"
    cli = [sys.executable, "-m", "workbench.cli"]
    with tempfile.TemporaryDirectory() as tmp:
        built = measure([*cli, "release", str(dataset), "--out", f"{tmp}/r"])
        load = measure([*cli, "validate", str(dataset)])
        report("release university (process, wall)", built["wall"], "s", load["wall"],
               "validate alone (process)")
        report("release university (process, CPU)", built["cpu"], "s", load["cpu"],
               "validate alone (process)")
        report("release university: peak RSS", built["rss"], "MB", load["rss"],
               "validate alone")
        manifest = json.loads((Path(tmp) / "r" / "manifest.json").read_text())
    utility = manifest["utility"]
    # the first version (one table at a time, one decision per unit for all keys)
    report("factor cells >= min_n published", 100 * utility["factor_cells_published_share"],
           "%", target=">= 95 % (first version: 85.0 %)")
    report("unit-waves of 20+ answers wholly hidden", utility["large_units_wholly_hidden"],
           "", target="0 (first version: 52)")
    report("release audit findings", manifest["audit"]["findings"], "", target="0")
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from bound import utility_bound

    from workbench.validate import load_survey

    eligible, most = utility_bound(load_survey(dataset), manifest["policy"]["min_n"])
    report("factor cells >= min_n publishable at most", 100 * most / eligible, "%",
           target=f"the exact optimum of rules 1-2 ({most} of {eligible}; benchmarks/bound.py)")


def _cpu_process(argv: list[str]) -> tuple[float, float]:
    """Wall time and CPU time (user + system, s) of one whole ``workbench`` process: on a
    busy machine the CPU time says what the process itself costs."""
    import os
    import subprocess

    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "workbench.cli", *argv],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    if status != 0:
        raise RuntimeError(f"workbench {' '.join(argv)} failed ({status})")
    return time.perf_counter() - start, usage.ru_utime + usage.ru_stime


def bench_workshop() -> None:
    """Issue 12: saving a record < 200 ms (SQLite, and PostgreSQL when its test server runs),
    the follow-up view < 300 ms, ``workshop export`` of 300 units' plans < 2 s (process)."""
    import os
    import shutil
    import tempfile
    from dataclasses import replace

    from workbench.actionplan import export_actions
    from workbench.followup import followup
    from workbench.release import open_release, read_release
    from workbench.workshop import Access, Action, Votes, Workshop, open_store

    release = open_release(SAMPLES / "municipality")
    urls = {"SQLite": None}
    pg = os.environ.get("WORKBENCH_TEST_PG",
                        "postgresql://workbench:workbench@127.0.0.1:54329/workbench_test")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "dataset"
        folder.mkdir()
        shutil.copy(SAMPLES / "municipality" / "survey.yaml", folder / "survey.yaml")
        try:
            import sqlalchemy as sa

            schema = f"bench_{os.getpid()}"
            admin = sa.create_engine(pg.replace("postgresql://", "postgresql+psycopg://", 1),
                                     connect_args={"connect_timeout": 3})
            with admin.begin() as conn:
                conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
            urls["PostgreSQL"] = f"{pg}?options=-csearch_path%3D{schema}"
        except Exception:  # no test server: SQLite only
            admin = None
        try:
            for name, url in urls.items():
                store = open_store(folder, url=url)
                ws = Workshop(store, Access.analyst("bench"), release)
                held = [ws.save_votes(Votes("2023", "OPP-NOS", "F1", pleased=1))]

                def save_votes():
                    held[0] = ws.save_votes(replace(held[0], pleased=held[0].pleased + 1))

                counter = iter(range(10**6))

                def save_action():
                    ws.save_action(Action("2023", "OPP-NOS", f"Tiltak {next(counter)}",
                                          factor="F6", responsible="Rektor",
                                          deadline="2024-06-30"))

                report(f"save a record, {name} (votes, new version)", 1000 * timed(save_votes,
                       repeat=20), "ms", target="< 200 ms")
                report(f"save a record, {name} (new action)", 1000 * timed(save_action,
                       repeat=20), "ms", target="< 200 ms")
                store.close()
            store = open_store(folder)
            ws = Workshop(store, Access.analyst("bench"), release)
            for i, key in enumerate(("F1", "F3", "F6", "F9", "")):
                ws.save_action(Action("2021", "OPP-HAU", f"Tiltak {i}", factor=key,
                                      status="done"))
            fresh = read_release(release.path)
            start, cpu = time.perf_counter(), time.process_time()
            followup(fresh, store, "OPP-HAU", "2023")
            cold, cold_cpu = time.perf_counter() - start, time.process_time() - cpu
            warm = timed(lambda: followup(release, store, "OPP-HAU", "2023"), repeat=20)
            report("follow-up view (first, fresh release)", 1000 * cold, "ms",
                   target="< 300 ms")
            report("follow-up view (first, fresh release): CPU", 1000 * cold_cpu, "ms")
            report("follow-up view (again)", 1000 * warm, "ms", target="< 300 ms")
            # 300 units' plans: 5 measures each, in one import transaction
            plans = [Action("2023", f"U{u:03d}", f"Tiltak {i} for enhet {u}", factor=f"F{i + 1}",
                            area="Samarbeid", goal="Bedre flyt", responsible="Leder",
                            deadline="2024-06-30", status=("planned", "started", "done")[i % 3],
                            impact="large", feasibility="easy")
                     for u in range(300) for i in range(5)]
            Workshop(store, Access.analyst("bench"), None).import_actions(plans)
            store.close()
            startup = [_cpu_process(["--version"]) for _ in range(3)]
            report("workbench --version (process)", statistics.median(w for w, _ in startup),
                   "s")
            report("workbench --version (process): CPU", statistics.median(c for _, c in
                                                                          startup), "s")
            for fmt in ("csv", "xlsx"):
                out = Path(tmp) / f"actions.{fmt}"
                runs = [_cpu_process(["workshop", str(folder), "export", "--format", fmt,
                                      "--out", str(out)]) for _ in range(3)]
                report(f"workshop export, 300 units x 5 ({fmt}, process)",
                       statistics.median(w for w, _ in runs), "s", target="< 2 s")
                report(f"workshop export, 300 units x 5 ({fmt}, process): CPU",
                       statistics.median(c for _, c in runs), "s")
            store = open_store(folder)
            start, cpu = time.perf_counter(), time.process_time()
            export_actions(store, Path(tmp) / "again.csv")
            report("workshop export, 300 units x 5 (csv, in a process)",
                   time.perf_counter() - start, "s")
            report("workshop export, 300 units x 5 (csv, in a process): CPU",
                   time.process_time() - cpu, "s")
            store.close()
        finally:
            if admin is not None:
                with admin.begin() as conn:
                    conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
                admin.dispose()


BENCHMARKS = {"load": bench_load, "stats": bench_stats, "national": bench_national,
              "handouts": bench_handouts, "apps": bench_apps, "release": bench_release,
              "workshop": bench_workshop}


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
