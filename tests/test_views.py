"""Views for reports and apps: cut from protected tables, checked by hand and by the audit."""

import numpy as np
import pandas as pd
import pytest

from workbench import views
from workbench.errors import UsageError
from workbench.privacy import PrivacyPolicy, audit
from workbench.scoring import person_scores
from workbench.stats import stats_table


def _small_unit(survey, wave="2021"):
    table = stats_table(survey, wave=wave)
    return table.loc[table["reason"] == "min_n", "unit_id"].iloc[0]


def test_beside(municipality):
    table = views.beside(municipality, "OPP-NOS", wave="2023", lang="en")
    stats = stats_table(municipality, wave="2023", lang="en").set_index(["unit_id", "key"])
    assert len(table) == 10
    first = table.iloc[0]
    assert first["mean"] == stats.loc[("OPP-NOS", "F1"), "mean"]
    assert first["parent_mean"] == stats.loc[("OPP", "F1"), "mean"]
    bench = municipality.benchmarks
    expected = bench[(bench["wave"] == "2023") & (bench["benchmark"] == "school") &
                     (bench["factor"] == "F1")]["mean"].iloc[0]
    assert (first["benchmark"], first["benchmark_mean"]) == ("school", expected)


def test_trend(university):
    rows = views.trend(university, "NV-FYS")
    assert rows["wave"].unique().tolist() == ["2014", "2017", "2019", "2021"]


def test_heatmap(university):
    table = views.heatmap(university, "NV", wave="2021")
    children = university.hierarchy("2021").children("NV")
    assert set(table["unit_id"]) == set(children)
    assert table.loc[table["suppressed"], "mean"].isna().all()
    assert set(table.loc[table["suppressed"], "finding"].dropna()) <= {"suppressed"}


def test_alike_different(university):
    table = views.alike_different(university, "NV-FYS", wave="2021", k=3)
    assert table["kind"].tolist() == ["alike"] * 3 + ["different"] * 3
    alike, different = table.iloc[:3], table.iloc[3:]
    assert alike["sd"].is_monotonic_increasing and different["sd"].is_monotonic_decreasing
    assert alike["sd"].max() <= different["sd"].min()
    assert views.alike_different(university, _small_unit(university)).empty


def test_response_rates(university):
    table = views.response_rates(university, unit="NV-FYS")
    head = university.headcount
    answers = university.responses
    subtree = university.hierarchy().subtree("NV-FYS")
    for row in table.itertuples():
        invited = head[(head["wave"] == row.wave) & head["unit_id"].isin(subtree)]["invited"]
        n = ((answers["wave"] == row.wave) & answers["unit_id"].isin(subtree)).sum()
        assert (row.answers, row.invited) == (n, invited.sum())
        assert row.rate == pytest.approx(100 * n / invited.sum())
    by = views.response_rates(university, by="gender")
    assert set(by["unit_id"]) == {university.hierarchy().root}
    with pytest.raises(UsageError):
        views.response_rates(university, unit="NV", by="gender")


def test_category_distribution(university):
    table = views.category_distribution(university, "NV-FYS", "hours", wave="2021", lang="en")
    assert table["share"].sum() == pytest.approx(100)
    raw = university.responses
    mask = (raw["wave"] == "2021") & raw["unit_id"].isin(university.hierarchy().subtree("NV-FYS"))
    counts = raw.loc[mask, "hours"].value_counts(normalize=True).sort_index() * 100
    assert np.allclose(table["share"].to_numpy(), counts.to_numpy())
    small = views.category_distribution(university, _small_unit(university), "hours")
    assert small["suppressed"].all() and small["share"].isna().all()
    with pytest.raises(UsageError, match="not an extra question"):
        views.category_distribution(university, "NV-FYS", "AUT1")


def test_category_tables_pass_the_audit(university):
    policy = PrivacyPolicy.from_config(university.config)
    for question in ("hours", "appraisal", "appraisal_useful"):
        for wave in university.waves:
            raw = university.responses
            raw = raw.loc[raw["wave"] == wave, question].to_numpy(dtype="float64",
                                                                    na_value=np.nan)
            order = sorted(next(q for q in university.instrument.extra if q.id == question).codes)
            codes = np.array([order.index(int(v)) if v == v else np.nan for v in raw])
            table = views.category_table(university, wave, codes, len(order), question)
            assert audit(table, university.hierarchy(wave), policy).empty


def test_appraisal(university, municipality):
    table = views.appraisal(university, "NV-FYS")
    assert table["wave"].tolist() == list(university.waves)
    raw = university.responses
    mask = (raw["wave"] == "2021") & raw["unit_id"].isin(university.hierarchy().subtree("NV-FYS"))
    useful = raw.loc[mask, "appraisal_useful"].dropna().astype(float)
    assert table.iloc[-1]["useful_mean"] == pytest.approx(useful.mean())
    assert views.appraisal(municipality, "EK").empty


def test_score_distribution(university):
    table = views.score_distribution(university, "NV-FYS", "STR", wave="2021")
    assert table["share"].sum() == pytest.approx(100)
    scores = person_scores(university.responses, university.instrument)
    mask = (scores["wave"] == "2021") & \
        scores["unit_id"].isin(university.hierarchy().subtree("NV-FYS"))
    assert table["n"].iloc[0] == scores.loc[mask, "STR"].notna().sum()
    expected = pd.cut(scores.loc[mask, "STR"].dropna(), views.SCORE_BINS, right=False)
    shares = expected.value_counts(normalize=True, sort=False).to_numpy() * 100
    assert np.allclose(table["share"].to_numpy(), shares)
