"""Views for reports and apps: pure cuts of the release, checked by hand against the persons."""

import numpy as np
import pandas as pd
import pytest

from workbench import views
from workbench.errors import UsageError
from workbench.release import SCORE_BINS
from workbench.scoring import person_scores
from workbench.stats import stats_table


def _small_unit(release, wave="2021"):
    table = stats_table(release, wave=wave)
    small = table.groupby("unit_id")["reason"].agg(lambda r: (r == "min_n").all())
    return small[small].index[0]


def test_beside(municipality, municipality_release):
    table = views.beside(municipality_release, "OPP-NOS", wave="2023", lang="en")
    stats = stats_table(municipality_release, wave="2023", lang="en").set_index(
        ["unit_id", "key"])
    assert len(table) == 10
    first = table.iloc[0]
    assert first["mean"] == stats.loc[("OPP-NOS", "F1"), "mean"]
    assert first["parent_mean"] == stats.loc[("OPP", "F1"), "mean"]
    bench = municipality.benchmarks
    expected = bench[(bench["wave"] == "2023") & (bench["benchmark"] == "school") &
                     (bench["factor"] == "F1")]["mean"].iloc[0]
    assert (first["benchmark"], first["benchmark_mean"]) == ("school", expected)


def test_trend(university_release):
    rows = views.trend(university_release, "NV-FYS")
    assert rows["wave"].unique().tolist() == ["2014", "2017", "2019", "2021"]


def test_heatmap(university_release):
    table = views.heatmap(university_release, "NV", wave="2021")
    children = university_release.hierarchy("2021").children("NV")
    assert set(table["unit_id"]) == set(children)
    assert table.loc[table["suppressed"], "mean"].isna().all()
    assert set(table.loc[table["suppressed"], "finding"].dropna()) <= {"suppressed"}


def test_alike_different(university_release):
    table = views.alike_different(university_release, "NV-FYS", wave="2021", k=3)
    assert table["kind"].tolist() == ["alike"] * 3 + ["different"] * 3
    alike, different = table.iloc[:3], table.iloc[3:]
    # ranked by the sd relative to the largest sd possible at each item's mean
    assert alike["spread"].is_monotonic_increasing
    assert different["spread"].is_monotonic_decreasing
    assert alike["spread"].max() <= different["spread"].min()
    largest = ((table["mean"] - 1) * (5 - table["mean"]) * table["n"] / (table["n"] - 1))
    assert np.allclose(table["spread"], table["sd"] / largest ** 0.5)
    assert views.alike_different(university_release, _small_unit(university_release)).empty
    # a newcomer (helper-19): with fewer than 2k items published, one statement stood in
    # both lists; now each takes half (7 items: 3 and 3)
    few = views.alike_different(university_release, "AD-ADM-1", wave="2014", k=5)
    assert few["kind"].value_counts().to_dict() == {"alike": 3, "different": 3}
    assert few["key"].is_unique


def test_response_rates(university, university_release):
    table = views.response_rates(university_release, unit="NV-FYS")
    head = university.headcount
    answers = university.responses
    subtree = university.hierarchy().subtree("NV-FYS")
    for row in table.itertuples():
        if row.suppressed:
            assert pd.isna(row.answers) and pd.isna(row.rate)
            continue
        invited = head[(head["wave"] == row.wave) & head["unit_id"].isin(subtree)]["invited"]
        n = ((answers["wave"] == row.wave) & answers["unit_id"].isin(subtree)).sum()
        assert (row.answers, row.invited) == (n, invited.sum())
        assert row.rate == pytest.approx(100 * n / invited.sum())
    by = views.response_rates(university_release, by="gender")
    assert set(by["unit_id"]) == {university.hierarchy().root}
    with pytest.raises(UsageError):
        views.response_rates(university_release, unit="NV", by="gender")


def test_category_distribution(university, university_release):
    table = views.category_distribution(university_release, "NV-FYS", "hours", wave="2021",
                                        lang="en")
    assert table["share"].sum() == pytest.approx(100)
    raw = university.responses
    mask = (raw["wave"] == "2021") & raw["unit_id"].isin(university.hierarchy().subtree("NV-FYS"))
    counts = raw.loc[mask, "hours"].value_counts(normalize=True).sort_index() * 100
    assert np.allclose(table["share"].to_numpy(), counts.to_numpy())
    small = views.category_distribution(university_release, _small_unit(university_release),
                                        "hours")
    assert small["suppressed"].all() and small["share"].isna().all() and small["n"].isna().all()
    with pytest.raises(UsageError, match="not an extra question"):
        views.category_distribution(university_release, "NV-FYS", "AUT1")


def test_appraisal(university, university_release, municipality_release):
    table = views.appraisal(university_release, "NV-FYS")
    assert table["wave"].tolist() == list(university.waves)
    raw = university.responses
    mask = (raw["wave"] == "2021") & raw["unit_id"].isin(university.hierarchy().subtree("NV-FYS"))
    useful = raw.loc[mask, "appraisal_useful"].dropna().astype(float)
    assert table.iloc[-1]["useful_mean"] == pytest.approx(useful.mean())
    assert views.appraisal(municipality_release, "EK").empty
    # a hidden wave shows no share, mean or count
    hidden = table[table["suppressed"]]
    assert hidden[["had_share", "useful_mean"]].isna().all().all()
    assert hidden["had_n"].isna().all()


def test_score_distribution(university, university_release):
    cells = views.rows(university_release, "NV-FYS", "2021")
    hidden = cells.loc[cells["suppressed"], "key"].iloc[0]
    assert views.score_distribution(university_release, "NV-FYS", hidden, "2021")[
        "share"].isna().all()
    key = "STR" if "STR" not in set(cells.loc[cells["suppressed"], "key"]) else "AUT"
    table = views.score_distribution(university_release, "NV-FYS", key, wave="2021")
    assert table["share"].sum() == pytest.approx(100)
    scores = person_scores(university.responses, university.instrument)
    mask = (scores["wave"] == "2021") & \
        scores["unit_id"].isin(university.hierarchy().subtree("NV-FYS"))
    assert table["n"].iloc[0] == scores.loc[mask, key].notna().sum()
    expected = pd.cut(scores.loc[mask, key].dropna(), SCORE_BINS, right=False)
    shares = expected.value_counts(normalize=True, sort=False).to_numpy() * 100
    assert np.allclose(table["share"].to_numpy(), shares)
