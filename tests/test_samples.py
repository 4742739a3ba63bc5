"""Tests of the sample-data generator: bytes, format, contracts and realism.

Every figure is recomputed here with plain pandas/numpy (and scipy for the ANOVA), not with
the workbench's own statistics, so the samples are checked independently.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import stats

from workbench.instrument import load_instrument
from workbench.samples import DEFAULT_SEED, write_samples

COMMITTED = Path(__file__).resolve().parents[1] / "data_samples"
UNI_TARGETS = {"2014": 3900, "2017": 5070, "2019": 5220, "2021": 5890}


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("samples")
    return out, write_samples(out)


def _read(folder: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(folder / name, dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def uni(generated: tuple[Path, dict]) -> dict:
    folder = generated[0] / "university"
    return _dataset(folder, "ark")


@pytest.fixture(scope="module")
def mun(generated: tuple[Path, dict]) -> dict:
    folder = generated[0] / "municipality"
    return _dataset(folder, "tifaktor")


def _dataset(folder: Path, instrument: str) -> dict:
    inst = load_instrument(instrument)
    responses = _read(folder, "responses.csv")
    headcount = _read(folder, "headcount.csv")
    headcount["invited"] = headcount["invited"].astype(int)
    items = responses[list(inst.item_ids)].replace("", np.nan).astype(float)
    scored = items.where(items != 6)
    for item in inst.items:
        if item.reverse:
            scored[item.id] = 6 - scored[item.id]
    scores = {}
    for factor in inst.factors:
        cols = scored[list(factor.item_ids)]
        need = math.ceil(0.5 * len(factor.items))
        scores[factor.id] = cols.mean(axis=1).where(cols.notna().sum(axis=1) >= need)
    return {"folder": folder, "inst": inst, "responses": responses, "headcount": headcount,
            "units": _read(folder, "units.csv"), "items": items, "scored": scored,
            "scores": pd.DataFrame(scores),
            "survey": yaml.safe_load((folder / "survey.yaml").read_text(encoding="utf-8"))}


def _depths(units: pd.DataFrame) -> pd.Series:
    parent = dict(zip(units.unit_id, units.parent_id))
    depth = {}
    for uid in units.unit_id:
        d, current = 0, uid
        while parent[current]:
            d, current = d + 1, parent[current]
        depth[uid] = d
    return pd.Series(depth)


def _leaves(units: pd.DataFrame) -> set[str]:
    return set(units.unit_id) - set(units.parent_id)


def _alpha(frame: pd.DataFrame) -> float:
    """Cronbach's alpha, listwise: k/(k-1) * (1 - sum of item variances / variance of sum)."""
    data = frame.dropna()
    k = data.shape[1]
    return k / (k - 1) * (1 - data.var(ddof=1).sum() / data.sum(axis=1).var(ddof=1))


# --- bytes -----------------------------------------------------------------------------------


def test_manifest_describes_every_file(generated):
    out, manifest = generated
    assert manifest["generator"] == "workbench.samples"
    assert manifest["seed"] == DEFAULT_SEED
    on_disk = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert on_disk == manifest
    paths = [f["path"] for f in manifest["files"]]
    assert paths == sorted(paths)
    expected = {f"university/{n}" for n in
                ("survey.yaml", "units.csv", "headcount.csv", "responses.csv")}
    expected |= {f"municipality/{n}" for n in
                 ("survey.yaml", "units.csv", "headcount.csv", "responses.csv",
                  "benchmarks.csv")}
    assert set(paths) == expected
    for entry in manifest["files"]:
        data = (out / entry["path"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"]
        assert len(data) == entry["bytes"]
        if entry["path"].endswith(".csv"):
            assert entry["rows"] == data.count(b"\n") - 1


def test_reproduces_committed_samples_byte_for_byte(generated):
    out, manifest = generated
    committed = COMMITTED / "manifest.json"
    assert committed.is_file(), "data_samples/ is missing: run `workbench samples`"
    assert committed.read_bytes() == (out / "manifest.json").read_bytes(), (
        "data_samples/ is out of date: regenerate it with `workbench samples` and commit it")
    for entry in manifest["files"]:
        assert (COMMITTED / entry["path"]).read_bytes() == (out / entry["path"]).read_bytes(), \
            entry["path"]


def test_two_runs_give_the_same_bytes(generated, tmp_path):
    out, manifest = generated
    again = write_samples(tmp_path / "again")
    assert again == manifest
    for entry in manifest["files"]:
        assert (tmp_path / "again" / entry["path"]).read_bytes() == \
            (out / entry["path"]).read_bytes()


def test_another_seed_gives_other_answers(generated, tmp_path):
    _out, manifest = generated
    other = write_samples(tmp_path / "other", seed=DEFAULT_SEED + 1)
    digests = {f["path"]: f["sha256"] for f in manifest["files"]}
    assert other["seed"] == DEFAULT_SEED + 1
    assert all(f["sha256"] != digests[f["path"]] for f in other["files"]
               if f["path"].endswith("responses.csv"))


def test_files_have_a_fixed_plain_format(generated):
    out, manifest = generated
    for entry in manifest["files"]:
        data = (out / entry["path"]).read_bytes()
        assert not data.startswith(b"\xef\xbb\xbf")
        assert b"\r" not in data
        assert data.endswith(b"\n")
        data.decode("utf-8")
    cell = re.compile(r"^[1-6]?$")
    for name, instrument in (("university", "ark"), ("municipality", "tifaktor")):
        responses = _read(out / name, "responses.csv")
        inst = load_instrument(instrument)
        columns = [*inst.item_ids, *inst.extra_ids]
        values = pd.unique(responses[columns].to_numpy().ravel())
        assert all(cell.match(v) for v in values), "answers must be 1-6 or empty"
    bench = _read(out / "municipality", "benchmarks.csv")
    assert bench["mean"].str.fullmatch(r"\d\.\d\d").all()
    assert bench["sd"].str.fullmatch(r"\d\.\d\d").all()
    assert bench["n"].str.fullmatch(r"[1-9]\d*").all()


# --- contracts -------------------------------------------------------------------------------


def test_survey_yaml_matches_the_files(uni, mun):
    for ds, instrument in ((uni, "ark"), (mun, "tifaktor")):
        survey = ds["survey"]
        assert survey["instrument"] == instrument
        assert all(isinstance(w, str) for w in survey["waves"])
        assert sorted(ds["responses"]["wave"].unique()) == survey["waves"]
        assert survey["privacy"] == {"min_n": 5, "background_levels": [0]}
        for var, spec in survey["background"].items():
            codes = set(map(str, spec["values"]))
            assert set(ds["responses"][var]) <= codes
            assert set(ds["headcount"][var]) <= codes
        columns = ["respondent_id", "wave", "unit_id", *survey["background"],
                   *ds["inst"].item_ids, *ds["inst"].extra_ids]
        assert list(ds["responses"].columns) == columns
        assert list(ds["headcount"].columns) == ["wave", "unit_id", *survey["background"],
                                                 "invited"]
    assert list(uni["survey"]["background"]) == ["gender", "position", "job_fraction"]
    assert list(mun["survey"]["background"]) == ["gender", "age"]
    assert mun["survey"]["benchmark_by"] == "kind"
    assert uni["survey"]["name"]["en"] == "Example University"


def test_university_hierarchy_has_four_levels(uni):
    units = uni["units"]
    assert list(units.columns) == ["unit_id", "parent_id", "name", "name_en", "kind"]
    assert units.unit_id.is_unique
    assert units.unit_id.str.fullmatch(r"[A-Za-z0-9_-]+").all()
    assert (units.parent_id == "").sum() == 1
    assert set(units.parent_id) - {""} <= set(units.unit_id)
    counts = _depths(units).value_counts().sort_index()
    assert counts.index.tolist() == [0, 1, 2, 3]
    assert counts[1] == 9
    assert 55 <= counts[2] <= 65
    assert 230 <= counts[3] <= 270
    assert (units.name_en != "").all() and (units.name != "").all()
    assert "Fellesadministrasjonen" in set(units.name)


def test_municipality_hierarchy_and_kinds(mun):
    units = mun["units"]
    depth = _depths(units)
    assert depth.max() == 2
    leaves = units[units.unit_id.isin(_leaves(units))]
    kinds = {"school", "kindergarten", "nursing_home", "home_care", "administration",
             "technical"}
    assert set(leaves.kind) == kinds
    invited = mun["headcount"].groupby("wave").invited.sum()
    assert invited.between(1350, 1650).all()


def test_headcount_rows_are_positive_and_sorted(uni, mun):
    for ds in (uni, mun):
        head, units, survey = ds["headcount"], ds["units"], ds["survey"]
        assert (head.invited > 0).all()
        assert set(head.unit_id) <= set(units.unit_id)
        key = head[["wave", "unit_id", *survey["background"]]].copy()
        key["unit_id"] = key.unit_id.map({u: i for i, u in enumerate(units.unit_id)})
        for var, spec in survey["background"].items():
            key[var] = key[var].map({str(c): i for i, c in enumerate(spec["values"])})
        assert not key.duplicated().any()
        assert key.equals(key.sort_values(list(key.columns)))


def test_staff_sit_in_leaves_and_in_some_parents(uni):
    head, units = uni["headcount"], uni["units"]
    own = head[head.wave == "2021"].groupby("unit_id").invited.sum()
    parents = own[~own.index.isin(_leaves(units))]
    assert len(parents) > 30
    assert (parents <= 3).sum() >= 10
    total = head.groupby("wave").invited.sum()
    assert 7300 <= total["2014"] < total["2021"] <= 8500


def test_answer_counts_per_wave_hit_the_targets(uni, mun):
    counts = uni["responses"].wave.value_counts()
    for wave, target in UNI_TARGETS.items():
        assert abs(counts[wave] - target) <= 0.01 * target
    rates = mun["responses"].wave.value_counts() / mun["headcount"].groupby("wave").invited.sum()
    assert rates.between(0.68, 0.82).all()


def test_answers_never_exceed_invited(uni, mun):
    for ds in (uni, mun):
        background = list(ds["survey"]["background"])
        for keys in (["wave", "unit_id"], ["wave", "unit_id", *background]):
            answered = ds["responses"].groupby(keys).size().rename("answered")
            invited = ds["headcount"].groupby(keys).invited.sum()
            joined = pd.concat([answered, invited], axis=1).fillna(0)
            assert (joined.answered <= joined.invited).all(), keys


def test_respondent_ids_are_unique_within_a_wave(uni, mun):
    for ds in (uni, mun):
        responses = ds["responses"]
        assert not responses.duplicated(["wave", "respondent_id"]).any()
        prefix = responses.respondent_id.str[:2]
        assert (prefix == responses.wave.str[-2:]).all()
        assert responses.respondent_id.str.fullmatch(r"\d\d-\d{6}").all()


def test_units_of_every_size_in_every_wave(uni, mun):
    leaves = _leaves(uni["units"])
    for wave, frame in uni["responses"].groupby("wave"):
        per_group = frame[frame.unit_id.isin(leaves)].unit_id.value_counts()
        assert per_group.between(1, 4).sum() >= 3, wave
        assert per_group.between(5, 7).sum() >= 3, wave
        assert per_group.between(8, 40).sum() >= 100, wave
        assert (per_group >= 60).sum() >= 1, wave
    for wave, frame in mun["responses"].groupby("wave"):
        per_service = frame.unit_id.value_counts()
        assert per_service.between(1, 4).sum() >= 1, wave


# --- realism ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["uni", "mun"])
def test_factor_means_and_spread(name, request):
    ds = request.getfixturevalue(name)
    last = ds["responses"].wave.max()
    scores = ds["scores"][ds["responses"].wave == last]
    means, sds = scores.mean(), scores.std()
    assert means.between(3.0, 4.6).all(), means
    assert means.between(3.8, 4.4).mean() >= 0.5, means
    # Some factors are clearly lower (absence of stress; competence development).
    assert means.min() < (3.7 if name == "uni" else 3.9)
    assert sds.between(0.6, 0.9).mean() >= 0.75, sds
    assert sds.between(0.45, 1.0).all(), sds
    # Left-skewed: more answers above the midpoint than below it.
    answers = ds["scored"][ds["responses"].wave == last].stack()
    assert (answers >= 4).mean() > 0.6 and (answers <= 2).mean() < 0.12


@pytest.mark.parametrize("name", ["uni", "mun"])
def test_cronbach_alpha_per_factor(name, request):
    ds = request.getfixturevalue(name)
    last = ds["responses"].wave == ds["responses"].wave.max()
    for factor in ds["inst"].factors:
        alpha = _alpha(ds["scored"].loc[last, list(factor.item_ids)])
        assert 0.7 <= alpha <= 0.9, (factor.id, alpha)


@pytest.mark.parametrize("name", ["uni", "mun"])
def test_factors_correlate_moderately(name, request):
    ds = request.getfixturevalue(name)
    last = ds["responses"].wave == ds["responses"].wave.max()
    corr = ds["scores"][last].corr().to_numpy()
    upper = corr[np.triu_indices_from(corr, 1)]
    assert 0.3 <= upper.mean() <= 0.6, upper.mean()
    assert (upper > 0).all()


def test_reverse_items_behave_like_the_others_after_reversing(uni):
    scored = uni["scored"]
    for factor in uni["inst"].factors:
        if not any(item.reverse for item in factor.items):
            continue
        corr = scored[list(factor.item_ids)].corr().to_numpy()
        assert (corr[np.triu_indices_from(corr, 1)] > 0.3).all(), factor.id


def test_missing_answers(uni, mun):
    for ds in (uni, mun):
        items = ds["items"]
        skipped = items.isna().to_numpy().mean()
        dont_know = (items == 6).to_numpy().mean()
        assert 0.01 <= skipped <= 0.03, skipped
        assert 0.003 <= dont_know <= 0.02, dont_know
    inst = uni["inst"]
    items = uni["items"]
    leadership = [i.id for f in inst.factors if f.theme == "leadership" for i in f.items]
    others = [i for i in inst.item_ids if i not in leadership]
    assert (items[leadership] == 6).to_numpy().mean() > 2 * (items[others] == 6).to_numpy().mean()
    whole_factor = sum(items[list(f.item_ids)].isna().all(axis=1).sum() for f in inst.factors)
    assert whole_factor >= 100


def test_extra_questions(uni):
    responses = uni["responses"]
    assert set(responses.hours) <= {"", "1", "2", "3", "4", "5"}
    assert set(responses.appraisal) <= {"", "1", "2"}
    assert (responses.appraisal_useful[responses.appraisal != "1"] == "").all()
    yes = responses[responses.appraisal != ""].groupby("wave").appraisal.apply(
        lambda s: (s == "1").mean())
    assert yes.between(0.62, 0.78).all() and yes.is_monotonic_increasing, yes
    useful = pd.to_numeric(responses.appraisal_useful, errors="coerce")
    assert 3.0 <= useful.mean() <= 3.6
    hours = pd.to_numeric(responses.hours, errors="coerce")
    by_position = hours.groupby(responses.position).mean()
    assert by_position["academic"] > by_position["techadm"]
    assert by_position["leader"] > by_position["techadm"]


def test_response_rates_differ_by_background(uni):
    answered = uni["responses"].groupby("position").size()
    invited = uni["headcount"].groupby("position").invited.sum()
    rate = answered / invited
    assert rate["leader"] > rate["techadm"] > rate["academic"] > rate["phd"]
    answered = uni["responses"].groupby("job_fraction").size()
    rate = answered / uni["headcount"].groupby("job_fraction").invited.sum()
    assert rate.idxmin() == "lt50"
    assert rate["lt50"] < rate["100"] - 0.1


def test_units_really_differ(uni):
    """One-way ANOVA over groups: F well above 1 means more spread than sampling noise."""
    leaves = _leaves(uni["units"])
    wave = uni["responses"].wave == "2021"
    units = uni["responses"].unit_id[wave]
    f_values = {}
    for factor in uni["inst"].factors:
        frame = pd.DataFrame({"score": uni["scores"][factor.id][wave], "unit": units}).dropna()
        frame = frame[frame.unit.isin(leaves)]
        groups = [g.score.to_numpy() for _u, g in frame.groupby("unit") if len(g) >= 5]
        result = stats.f_oneway(*groups)
        f_values[factor.id] = (result.statistic, result.pvalue)
    assert sum(f > 1.5 and p < 1e-6 for f, p in f_values.values()) >= 5, f_values


def test_effects_of_position_and_wave(uni):
    scores, responses = uni["scores"], uni["responses"]
    by_position = scores.groupby(responses.position).mean()
    assert by_position.loc["phd", "ROL"] < by_position.loc["techadm", "ROL"] - 0.1
    assert by_position.loc["leader", "AUT"] > by_position.loc["techadm", "AUT"] + 0.2
    by_wave = scores.groupby(responses.wave).mean()
    assert by_wave.loc["2021", "LRE"] > by_wave.loc["2014", "LRE"] + 0.05


def test_benchmarks(mun):
    bench = _read(mun["folder"], "benchmarks.csv")
    units = mun["units"]
    kinds = set(units[units.unit_id.isin(_leaves(units))].kind)
    assert set(bench.benchmark) == kinds | {"all"}
    assert set(bench.factor) == set(mun["inst"].factors[i].id for i in range(10))
    assert set(bench.wave) == set(mun["survey"]["waves"])
    assert not bench.duplicated(["wave", "benchmark", "factor"]).any()
    mean, sd, n = (bench[c].astype(float) for c in ("mean", "sd", "n"))
    assert mean.between(3.3, 4.8).all() and sd.between(0.4, 1.0).all()
    assert (n >= 1000).all()
    assert (n[bench.benchmark == "all"] > 100000).all()
    # The municipality is comparable with the national level.
    ours = mun["scores"][mun["responses"].wave == "2023"].mean()
    national = bench[(bench.wave == "2023") & (bench.benchmark == "all")].set_index("factor")
    assert (ours - national["mean"].astype(float)).abs().max() < 0.4
