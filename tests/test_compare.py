"""Comparisons: Welch with the FPC, multiple testing, verdicts and privacy.

References are independent of the code under test: statsmodels' Welch test, hand
calculations written out below, R's statpsych output, and recomputation from person scores
with plain formulas.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats as st
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW, ttest_ind

from workbench.aggregate import fpc_factor
from workbench.compare import (
    COMPARE_COLUMNS,
    adjust_pvalues,
    classify,
    compare,
    one_sample_test,
    verdict_text,
    welch_test,
)
from workbench.errors import UsageError
from workbench.instrument import load_instrument
from workbench.scoring import person_scores
from workbench.validate import load_survey

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "data_samples"
STATS = ["mean", "other_mean", "diff", "p", "p_adj", "d", "se", "df", "t"]


def _responses(sizes: dict[str, int], shift: dict[str, float], seed: int = 7,
               waves: tuple[str, ...] = ("2021",)) -> str:
    """responses.csv for the tifaktor instrument: random answers 1-5, shifted per unit."""
    items = load_instrument("tifaktor").item_ids
    rng = np.random.default_rng(seed)
    lines = [",".join(["respondent_id", "wave", "unit_id", *items])]
    count = 0
    for wave in waves:
        for unit, size in sizes.items():
            for _ in range(size):
                raw = rng.normal(3.2 + shift.get(unit, 0.0), 0.9, len(items))
                answers = np.clip(np.rint(raw), 1, 5).astype(int)
                lines.append(f"r{count},{wave},{unit}," + ",".join(map(str, answers)))
                count += 1
    return "\n".join(lines) + "\n"


UNITS = "unit_id,parent_id,name,name_en\nK,,Kommune,Municipality\nS1,K,Skole,School\n" \
        "S2,K,Barnehage,Kindergarten\nS3,K,Sykehjem,Nursing home\n"


def _welch_fpc_by_hand(x1, x2, big1, big2):
    """Welch with FPC, written with plain formulas (the reference for the sample data)."""
    n1, n2 = len(x1), len(x2)
    m1, m2 = sum(x1) / n1, sum(x2) / n2
    var1 = sum((v - m1) ** 2 for v in x1) / (n1 - 1)
    var2 = sum((v - m2) ** 2 for v in x2) / (n2 - 1)
    a = var1 / n1 * (1 - n1 / big1)
    b = var2 / n2 * (1 - n2 / big2)
    se = math.sqrt(a + b)
    df = (a + b) ** 2 / (a ** 2 / (n1 - 1) + b ** 2 / (n2 - 1))
    t = (m1 - m2) / se
    pooled = math.sqrt(((n1 - 1) * var1 + (n2 - 1) * var2) / (n1 + n2 - 2))
    return {"mean": m1, "other_mean": m2, "diff": m1 - m2, "se": se, "df": df, "t": t,
            "p": 2 * st.t.sf(abs(t), df), "d": (m1 - m2) / pooled}


# ------------------------------------------------------------------------------------------
# The tests from summary statistics


def test_welch_without_fpc_equals_statsmodels():
    rng = np.random.default_rng(2024)
    for n1, n2, sd1, sd2 in [(23, 41, 0.7, 1.1), (5, 300, 0.4, 0.9), (120, 8, 1.0, 0.3)]:
        x1 = rng.normal(3.8, sd1, n1)
        x2 = rng.normal(3.5, sd2, n2)
        ours = welch_test(x1.mean(), x1.std(ddof=1), n1, x2.mean(), x2.std(ddof=1), n2)
        t, p, df = ttest_ind(x1, x2, usevar="unequal")
        cm = CompareMeans(DescrStatsW(x1), DescrStatsW(x2))
        assert ours["t"][0] == pytest.approx(t, abs=1e-10)
        assert ours["p"][0] == pytest.approx(p, abs=1e-10)
        assert ours["df"][0] == pytest.approx(df, abs=1e-10)
        assert ours["se"][0] == pytest.approx(cm.std_meandiff_separatevar, abs=1e-10)


def test_welch_fpc_hand_example_census_like_unit():
    # Unit: 10 of 12 answered, mean 4.1, sd 0.6; rest: 40 of 60, mean 3.7, sd 0.8.
    #   v1 = 0.6^2/10 x (1 - 10/12) = 0.036 x 1/6   = 0.006
    #   v2 = 0.8^2/40 x (1 - 40/60) = 0.016 x 1/3   = 0.00533333...
    #   se = sqrt(0.006 + 0.0053333) = sqrt(0.0113333) = 0.10645813
    #   t  = (4.1 - 3.7)/0.10645813 = 3.75735
    #   df = 0.0113333^2/(0.006^2/9 + 0.0053333^2/39) = 1.284444e-4/4.729345e-6 = 27.15904
    v1 = 0.6 ** 2 / 10 * (1 - 10 / 12)
    v2 = 0.8 ** 2 / 40 * (1 - 40 / 60)
    assert v1 == pytest.approx(0.006)
    assert v2 == pytest.approx(0.0053333333)
    se = math.sqrt(v1 + v2)
    df = (v1 + v2) ** 2 / (v1 ** 2 / 9 + v2 ** 2 / 39)
    t = 0.4 / se
    assert se == pytest.approx(0.10645813, abs=1e-8)
    assert df == pytest.approx(27.15904, abs=1e-5)
    ours = welch_test(4.1, 0.6, 10, 3.7, 0.8, 40, invited1=12, invited2=60).iloc[0]
    assert ours["se"] == pytest.approx(se, abs=1e-12)
    assert ours["df"] == pytest.approx(df, abs=1e-10)
    assert ours["t"] == pytest.approx(t, abs=1e-10)
    assert ours["p"] == pytest.approx(2 * st.t.sf(t, df), abs=1e-12)
    # pooled sd = sqrt((9 x 0.36 + 39 x 0.64)/48) = sqrt(0.5875); d = 0.4/0.76649
    assert ours["d"] == pytest.approx(0.4 / math.sqrt(0.5875), abs=1e-12)
    # Without the FPC the census-like unit looks far less certain: se 0.1934, not 0.1065.
    plain = welch_test(4.1, 0.6, 10, 3.7, 0.8, 40).iloc[0]
    assert plain["se"] == pytest.approx(math.sqrt(0.036 + 0.016), abs=1e-12)
    assert ours["se"] < 0.6 * plain["se"]
    assert ours["p"] < plain["p"] / 10


def test_fpc_statpsych_reference_and_design_form():
    # R: statpsych::ci.mean.fpc(.05, 24.5, 3.65, 40, 300) gives SE 0.5381631
    statpsych = float(fpc_factor(40, 300, form="statpsych")) * 3.65 / math.sqrt(40)
    assert statpsych == pytest.approx(0.5381631, abs=5e-8)
    # The design form sqrt(1 - n/N): 3.65/sqrt(40) = 0.57711567, sqrt(1 - 40/300) = 0.93094934
    design = 3.65 / math.sqrt(40) * math.sqrt(1 - 40 / 300)
    assert design == pytest.approx(0.57711567 * 0.93094934, abs=1e-8)
    ours = one_sample_test(24.5, 3.65, 40, 24.0, invited=300).iloc[0]
    assert ours["se"] == pytest.approx(design, abs=1e-12)
    assert ours["df"] == 39
    assert ours["t"] == pytest.approx(0.5 / design, abs=1e-10)
    assert ours["d"] == pytest.approx(0.5 / 3.65, abs=1e-12)


def test_one_sample_without_fpc_equals_scipy():
    rng = np.random.default_rng(5)
    x = rng.normal(3.9, 0.8, 37)
    ours = one_sample_test(x.mean(), x.std(ddof=1), len(x), 3.6).iloc[0]
    ref = st.ttest_1samp(x, 3.6)
    assert ours["t"] == pytest.approx(ref.statistic, abs=1e-10)
    assert ours["p"] == pytest.approx(ref.pvalue, abs=1e-10)


def test_census_on_both_sides_is_exact():
    # n = N on both sides: no sampling error, any difference is a fact.
    result = welch_test([4.0, 4.0], [0.5, 0.5], [12, 12], [3.5, 4.0], [0.7, 0.7], [20, 20],
                        invited1=12, invited2=20)
    assert list(result["se"]) == [0.0, 0.0]
    assert list(result["p"]) == [0.0, 1.0]


# ------------------------------------------------------------------------------------------
# Multiple testing and verdicts


def test_holm_and_bh_by_hand():
    p = [0.01, 0.04, 0.03, 0.005]
    # Holm: sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1 = 0.02, 0.03, 0.06, 0.04;
    # running maximum: 0.02, 0.03, 0.06, 0.06.
    assert adjust_pvalues(p, "holm") == pytest.approx([0.03, 0.06, 0.06, 0.02], abs=1e-12)
    # BH: sorted p x 4/rank = 0.02, 0.02, 0.04, 0.04; running minimum from the top: same.
    assert adjust_pvalues(p, "fdr_bh") == pytest.approx([0.02, 0.04, 0.04, 0.02], abs=1e-12)
    assert adjust_pvalues(p, "none") == pytest.approx(p)
    # Tests not done (NaN) are not in the family: Holm on 0.01, 0.04 = 0.02, 0.04
    adjusted = adjust_pvalues([0.01, np.nan, 0.04], "holm")
    assert adjusted[[0, 2]] == pytest.approx([0.02, 0.04], abs=1e-12)
    assert np.isnan(adjusted[1])
    with pytest.raises(UsageError, match="'sidak2'"):
        adjust_pvalues(p, "sidak2")


def test_verdict_logic_table():
    diff = [0.35, 0.10, 0.50, -0.30, 0.05, np.nan]
    p_adj = [0.001, 0.001, 0.20, 0.01, 0.60, np.nan]
    # significant & big -> real; significant & small -> not real; big & not significant
    # -> not clear; neither -> not clear; no test -> suppressed
    assert list(classify(diff, p_adj)) == ["higher", "small", "unclear", "lower", "unclear",
                                           "suppressed"]
    # the threshold is configurable, and 4.1 - 3.9 counts as 0.2 despite rounding
    assert list(classify([0.10], [0.001], threshold=0.05)) == ["higher"]
    assert list(classify([4.1 - 3.9], [0.001])) == ["higher"]
    assert list(classify([0.3], [0.05])) == ["unclear"]  # p_adj must be below 0.05


def test_verdict_texts():
    assert verdict_text("small", "parent") == "En liten forskjell (mindre enn 0,2 poeng)"
    assert verdict_text("small", "parent", lang="en", threshold=0.3) == \
        "A small difference (under 0.3 points)"
    assert verdict_text("unclear", "previous") == \
        "Kan ikke avgjøres (for få svar til å skille fra tilfeldigheter)"
    assert verdict_text("unclear", "previous", lang="en") == \
        "Cannot tell (too few answers to tell from chance)"
    assert verdict_text("higher", "parent", "Oppvekst") == "Høyere enn resten av Oppvekst"
    assert verdict_text("lower", "siblings", "Health", "en") == "Lower than the rest of Health"
    assert verdict_text("higher", "previous", "2019") == "Høyere enn i 2019"
    assert verdict_text("higher", "benchmark", "school") == \
        "Høyere enn landsgjennomsnittet for school"
    assert verdict_text("lower", "benchmark", "all", "en") == "Lower than the national average"
    assert verdict_text("suppressed", "parent") == "skjult"


# ------------------------------------------------------------------------------------------
# compare() on small made-up datasets


def test_compare_without_headcount_equals_statsmodels(tiny_dataset):
    folder = tiny_dataset(units__csv=UNITS, headcount__csv=None,
                          responses__csv=_responses({"S1": 14, "S2": 30, "S3": 9},
                                                    {"S1": 0.5}))
    survey = load_survey(folder)
    assert survey.headcount is None
    table = compare(survey, "S1", "parent", adjust="none")
    scores = person_scores(survey.responses, survey.instrument)
    unit = scores[scores["unit_id"] == "S1"]
    rest = scores[scores["unit_id"] != "S1"]
    assert list(table["key"]) == [f.id for f in survey.instrument.factors]
    for row in table.itertuples():
        x1, x2 = unit[row.key].dropna(), rest[row.key].dropna()
        t, p, df = ttest_ind(x1, x2, usevar="unequal")
        assert row.t == pytest.approx(t, abs=1e-10)
        assert row.p == pytest.approx(p, abs=1e-10)
        assert row.p_adj == row.p
        assert row.df == pytest.approx(df, abs=1e-10)
        assert row.mean == pytest.approx(x1.mean(), abs=1e-12)
        assert row.other_mean == pytest.approx(x2.mean(), abs=1e-12)
        assert (row.n, row.other_n) == (len(x1), len(x2))
        assert math.isnan(row.invited) and math.isnan(row.other_invited)


def test_compare_census_like_unit_gets_small_se(tiny_dataset):
    # S1: 10 of 12 answered; the rest (S2 + S3): 39 of 80.
    responses = _responses({"S1": 10, "S2": 30, "S3": 9}, {"S1": 0.4})
    with_fpc = load_survey(tiny_dataset(
        units__csv=UNITS, responses__csv=responses,
        headcount__csv="wave,unit_id,invited\n2021,S1,12\n2021,S2,60\n2021,S3,20\n"))
    table = compare(with_fpc, "S1", "parent")
    assert set(table["invited"]) == {12.0}
    assert set(table["other_invited"]) == {80.0}
    scores = person_scores(with_fpc.responses, with_fpc.instrument)
    for row in table.itertuples():
        x1 = list(scores.loc[scores["unit_id"] == "S1", row.key].dropna())
        x2 = list(scores.loc[scores["unit_id"] != "S1", row.key].dropna())
        ref = _welch_fpc_by_hand(x1, x2, 12, 80)
        for column in ("mean", "other_mean", "diff", "se", "df", "t", "p", "d"):
            assert getattr(row, column) == pytest.approx(ref[column], rel=1e-9, abs=1e-12)
        plain = _welch_fpc_by_hand(x1, x2, math.inf, math.inf)
        # the unit's own variance shrinks by 1 - 10/12: the se is much smaller
        assert row.se < 0.85 * plain["se"]


def test_rest_of_parent_too_small_is_suppressed(tiny_dataset):
    # S2 + S3 hold 3 + 0 persons: the rest of K beside S1 would be 3 < 5. The joint protection
    # hides S1 (K - S1 = S2), so no comparison shows it.
    folder = tiny_dataset(units__csv=UNITS, headcount__csv=None,
                          responses__csv=_responses({"S1": 20, "S2": 3}, {}))
    survey = load_survey(folder)
    table = compare(survey, "S1", "parent", lang="en")
    assert table["reason"].eq("unit_suppressed").all()
    assert set(table["verdict"]) == {"suppressed"} and table[STATS].isna().all().all()
    assert table[["n", "other_n"]].isna().all().all()      # not even the counts
    assert compare(survey, "S1", "siblings")["suppressed"].all()
    # S2 itself: too few
    table = compare(survey, "S2", "parent")
    assert table["reason"].eq("unit_suppressed").all()
    assert table[STATS].isna().all().all()


def test_previous_wave_unit_that_did_not_exist(tiny_dataset):
    units = "wave,unit_id,parent_id,name\n2019,K,,Kommune\n2019,S1,K,Skole\n" \
            "2019,S2,K,Barnehage\n2021,K,,Kommune\n2021,S1,K,Skole\n2021,S2,K,Barnehage\n" \
            "2021,S3,K,Sykehjem\n"
    folder = tiny_dataset(
        **{"survey.yaml": "name: Tiny\ninstrument: tifaktor\nwaves: [2019, 2021]\n"},
        units__csv=units, headcount__csv=None,
        responses__csv=_responses({"S1": 12, "S2": 20}, {}, waves=("2019", "2021")))
    survey = load_survey(folder)
    with pytest.raises(UsageError, match="'S3' did not exist in wave 2019"):
        compare(survey, "S3", "previous")
    with pytest.raises(UsageError, match="2019 is the first wave"):
        compare(survey, "S1", "previous", wave="2019")
    table = compare(survey, "S1", "previous", lang="en")
    assert set(table["other_wave"]) == {"2019"} and set(table["wave"]) == {"2021"}
    assert (table["verdict"] == table["verdict_en"]).all()


def test_benchmark_one_sample_without_sd(tiny_dataset):
    survey_yaml = "name: Tiny\ninstrument: tifaktor\nwaves: [2021]\nbenchmarks: b.csv\n" \
                  "benchmark_by: kind\n"
    units = "unit_id,parent_id,name,kind\nK,,Kommune,municipality\nS1,K,Skole,school\n" \
            "S2,K,Barnehage,kindergarten\n"
    bench = "wave,benchmark,factor,mean\n2021,school,F1,2.9\n2021,all,F1,3.0\n2021,all,F2,3.1\n"
    folder = tiny_dataset(**{"survey.yaml": survey_yaml, "b.csv": bench}, units__csv=units,
                          headcount__csv="wave,unit_id,invited\n2021,S1,30\n2021,S2,30\n",
                          responses__csv=_responses({"S1": 25, "S2": 20}, {"S1": 0.6}))
    survey = load_survey(folder)
    table = compare(survey, "S1", "benchmark").set_index("key")
    assert table.loc["F1", "other_id"] == "school" and table.loc["F1", "other_mean"] == 2.9
    assert table.loc["F2", "other_id"] == "all"  # no school figure for F2: fall back to all
    scores = person_scores(survey.responses, survey.instrument)
    x = scores.loc[scores["unit_id"] == "S1", "F1"].dropna().to_numpy()
    se = x.std(ddof=1) / math.sqrt(len(x)) * math.sqrt(1 - len(x) / 30)
    t = (x.mean() - 2.9) / se
    assert table.loc["F1", "se"] == pytest.approx(se, rel=1e-10)
    assert table.loc["F1", "p"] == pytest.approx(2 * st.t.sf(abs(t), len(x) - 1), rel=1e-8)
    assert table.loc["F1", "d"] == pytest.approx((x.mean() - 2.9) / x.std(ddof=1), rel=1e-10)
    assert table.loc["F1", "verdict"] == "Høyere enn landsgjennomsnittet for school"
    assert table.loc["F3", "finding"] == "no_benchmark"
    assert math.isnan(table.loc["F3", "diff"])


# ------------------------------------------------------------------------------------------
# compare() on the sample data


def _subtree_scores(survey, wave, unit):
    hierarchy = survey.hierarchy(wave)
    responses = survey.responses
    data = responses[responses["wave"] == wave]
    scores = person_scores(data, survey.instrument)
    inside = scores["unit_id"].isin(hierarchy.subtree(unit))
    return scores, inside


def _invited(survey, wave, units):
    head = survey.headcount
    head = head[(head["wave"] == wave) & head["unit_id"].isin(units)]
    return float(head["invited"].sum())


@pytest.mark.parametrize("unit", ["NV-FYS", "IE", "NV-FYS-1"])
def test_unit_vs_parent_on_sample(university, university_release, unit):
    wave = "2021"
    hierarchy = university.hierarchy(wave)
    parent = hierarchy.parent(unit)
    table = compare(university_release, unit, "parent", wave=wave)
    assert list(table.columns[:14]) == list(COMPARE_COLUMNS)
    assert len(table) == len(university.instrument.factors)
    scores, inside = _subtree_scores(university, wave, unit)
    in_parent = scores["unit_id"].isin(hierarchy.subtree(parent))
    big1 = _invited(university, wave, hierarchy.subtree(unit))
    big2 = _invited(university, wave, hierarchy.subtree(parent)) - big1
    for row in table.itertuples():
        if row.suppressed:   # hidden for this factor by the joint protection
            assert math.isnan(row.mean) and math.isnan(row.p)
            continue
        x1 = list(scores.loc[inside, row.key].dropna())
        x2 = list(scores.loc[in_parent & ~inside, row.key].dropna())
        ref = _welch_fpc_by_hand(x1, x2, big1, big2)
        for column in ("mean", "other_mean", "diff", "se", "df", "t", "p", "d"):
            assert getattr(row, column) == pytest.approx(ref[column], rel=1e-8, abs=1e-13)
        # the 95 % interval of the difference: diff +- t(0.975, df) x se
        half = st.t.ppf(0.975, ref["df"]) * ref["se"]
        assert (row.ci_low, row.ci_high) == pytest.approx(
            (ref["diff"] - half, ref["diff"] + half), rel=1e-8)
    # Holm across the factors of this one comparison that are tested
    done = table["p"].notna()
    assert table.loc[done, "p_adj"].to_numpy() == pytest.approx(
        multipletests(table.loc[done, "p"], method="holm")[1], abs=1e-14)
    assert set(table["verdict"]) <= {
        "skjult", "En liten forskjell (mindre enn 0,2 poeng)",
        "Kan ikke avgjøres (for få svar til å skille fra tilfeldigheter)",
        "Omtrent likt (forskjellen er sikkert mindre enn 0,2 poeng)",
        f"Høyere enn resten av {hierarchy.name(parent)}",
        f"Lavere enn resten av {hierarchy.name(parent)}"}
    real = table["finding"].isin(["higher", "lower"])
    assert ((table.loc[real, "p_adj"] < 0.05) & (table.loc[real, "diff"].abs() >= 0.2)).all()


def test_siblings_one_row_per_published_sibling_and_factor(university, university_release):
    wave = "2021"
    hierarchy = university.hierarchy(wave)
    keys = [f.id for f in university.instrument.factors]
    for parent in ("NV", "NV-BIO", "IE"):
        unit = hierarchy.children(parent)[0]
        table = compare(university_release, unit, "siblings", wave=wave)
        units = list(dict.fromkeys(table["unit_id"]))
        assert len(units) >= 3
        assert set(units) <= set(hierarchy.children(parent))
        assert len(table) == len(units) * len(keys)
        assert table.groupby("unit_id")["key"].apply(list).to_dict() == {u: keys for u in units}
        # each sibling's row equals the same unit compared with the rest of the parent
        one = compare(university_release, units[-1], "parent", wave=wave)
        mine = table[table["unit_id"] == units[-1]].reset_index(drop=True)
        for column in ("mean", "other_mean", "p", "d", "n", "other_n"):
            assert mine[column].equals(one[column])
        scores, _ = _subtree_scores(university, wave, parent)
        for child in hierarchy.children(parent):
            n = scores["unit_id"].isin(hierarchy.subtree(child)).sum()
            if n < university.config.min_n:
                assert child not in units
        # Benjamini-Hochberg across every sibling and factor together
        done = table["p"].notna()
        assert table.loc[done, "p_adj"].to_numpy() == pytest.approx(
            multipletests(table.loc[done, "p"], method="fdr_bh")[1], abs=1e-14)
        assert set(table["adjust"]) == {"fdr_bh"}


def test_hidden_units_never_produce_numbers(university, municipality, university_release,
                                           municipality_release):
    releases = {id(university): university_release, id(municipality): municipality_release}
    for survey in (university, municipality):
        release = releases[id(survey)]
        for wave in survey.waves:
            hierarchy = survey.hierarchy(wave)
            scores = person_scores(survey.responses[survey.responses["wave"] == wave],
                                   survey.instrument)
            small = [u for u in hierarchy.ids
                     if 0 < scores["unit_id"].isin(hierarchy.subtree(u)).sum()
                     < survey.config.min_n]
            assert small or survey is municipality
            for unit in small[:3]:
                table = compare(release, unit, "parent", wave=wave)
                assert table["suppressed"].all()
                assert table[STATS].isna().all().all()
                assert set(table["verdict"]) == {"skjult"}
            # siblings tables over the whole tree: no small unit, no small rest
            parents = {hierarchy.parent(u) for u in hierarchy.ids if hierarchy.parent(u)}
            for parent in sorted(parents)[:12]:
                table = compare(release, hierarchy.children(parent)[0], "siblings", wave=wave)
                shown = table[~table["suppressed"]]
                assert not shown["unit_id"].isin(small).any()
                assert (shown["n"] >= survey.config.min_n).all()
                assert (shown["other_n"] >= survey.config.min_n).all()
                assert table.loc[table["suppressed"], STATS].isna().all().all()


def test_comparisons_only_between_published_cells(university_release, municipality_release):
    from workbench.stats import stats_table

    for release, wave, parents in ((university_release, "2021", ("NV", "NV-GEO", "IE-ELK")),
                                   (municipality_release, "2021", ("EK", "ADM", "HO"))):
        hierarchy = release.hierarchy(wave)
        published = stats_table(release, wave=wave).set_index(["unit_id", "key"])["suppressed"]
        for parent in parents:
            first = hierarchy.children(parent)[0]
            table = compare(release, first, "siblings", wave=wave)
            shown = table[~table["suppressed"]]
            # the unit and its parent are published for that very factor
            assert not published.reindex(list(zip(shown["unit_id"], shown["key"]))).any()
            assert not published.reindex([(parent, k) for k in shown["key"]]).any()
            hidden = table[table["suppressed"]]
            assert hidden[STATS].isna().all().all()
            assert set(hidden["reason"]) <= {"unit_suppressed", "parent_suppressed", "no_rest"}
    # a unit hidden for a factor by the complement rule: no comparison shows that factor
    table = stats_table(municipality_release, wave="2021")
    hidden = table[(table["reason"] == "complement") & (table["depth"] > 0)].iloc[0]
    rows = compare(municipality_release, hidden["unit_id"], "parent", wave="2021")
    row = rows.set_index("key").loc[hidden["key"]]
    assert row["suppressed"] and row["reason"] == "unit_suppressed" and pd.isna(row["mean"])


def test_diff_is_mean_minus_other_mean(university_release, municipality_release):
    tables = [compare(university_release, "NV-FYS", a, wave="2021")
              for a in ("parent", "previous", "siblings")]
    tables += [compare(municipality_release, u, "benchmark") for u in ("OPP-NOS", "HO", "EK")]
    tables += [compare(university_release, "NV-FYS-2", "parent", level="item")]
    for table in tables:
        assert len(table) > 0
        assert table["diff"].to_numpy() == pytest.approx(
            (table["mean"] - table["other_mean"]).to_numpy(), abs=1e-12, nan_ok=True)


def test_benchmark_two_sample_from_summary(municipality, municipality_release):
    wave = "2023"
    table = compare(municipality_release, "OPP-NOS", "benchmark", wave=wave).set_index("key")
    bench = municipality.benchmarks
    row = bench[(bench["wave"] == wave) & (bench["benchmark"] == "school")
                & (bench["factor"] == "F7")].iloc[0]
    scores, inside = _subtree_scores(municipality, wave, "OPP-NOS")
    x = scores.loc[inside, "F7"].dropna().to_numpy()
    big = _invited(municipality, wave, ["OPP-NOS"])
    a = x.var(ddof=1) / len(x) * (1 - len(x) / big)  # the unit, with FPC
    b = row["sd"] ** 2 / row["n"]  # the national figure, no FPC
    se = math.sqrt(a + b)
    df = (a + b) ** 2 / (a ** 2 / (len(x) - 1) + b ** 2 / (row["n"] - 1))
    t = (x.mean() - row["mean"]) / se
    assert table.loc["F7", "se"] == pytest.approx(se, rel=1e-10)
    assert table.loc["F7", "df"] == pytest.approx(df, rel=1e-10)
    assert table.loc["F7", "p"] == pytest.approx(2 * st.t.sf(abs(t), df), rel=1e-8)
    assert table.loc["F7", "other_id"] == "school"
    assert table.loc["F7", "other_n"] == row["n"]
    for key in table.index[table["finding"] == "higher"]:
        assert table.loc[key, "verdict"] == "Høyere enn landsgjennomsnittet for school"
        assert table.loc[key, "verdict_en"] == "Higher than the national average for school"


def test_previous_verdicts_name_the_wave(university_release):
    table = compare(university_release, "NV-FYS", "previous", wave="2021")
    assert set(table["other_wave"]) == {"2019"}
    texts = {"higher": "Høyere enn i 2019", "lower": "Lavere enn i 2019"}
    for row in table.itertuples():
        if row.finding in texts:
            assert row.verdict == texts[row.finding]


def test_usage_errors(university_release):
    with pytest.raises(UsageError, match=r"unit 'NV-FYZ' is not in the hierarchy of wave "
                                         r"2021; did you mean NV-FYS"):
        compare(university_release, "NV-FYZ", "parent")
    with pytest.raises(UsageError, match="wave '2020'"):
        compare(university_release, "NV-FYS", "parent", wave="2020")
    with pytest.raises(UsageError, match="against 'grandparent'"):
        compare(university_release, "NV-FYS", "grandparent")
    with pytest.raises(UsageError, match="'EU' is the whole organisation"):
        compare(university_release, "EU", "parent")
    with pytest.raises(UsageError, match="no benchmarks"):
        compare(university_release, "NV-FYS", "benchmark")
    with pytest.raises(UsageError, match="lang"):
        compare(university_release, "NV-FYS", "parent", lang="de")
    with pytest.raises(UsageError, match="threshold"):
        compare(university_release, "NV-FYS", "parent", threshold=-1)


def test_english_verdicts_and_threshold(university_release):
    strict = compare(university_release, "NV-FYS", "parent", wave="2021", lang="en", threshold=0.35)
    assert (strict["verdict"] == strict["verdict_en"]).all()
    loose = compare(university_release, "NV-FYS", "parent", wave="2021", lang="en")
    # a larger threshold can only turn real differences into "small" ones
    assert (strict["finding"].isin(["higher", "lower"]).sum()
            <= loose["finding"].isin(["higher", "lower"]).sum())
    moved = loose["finding"].isin(["higher", "lower"]) & (strict["finding"] == "small")
    assert (loose.loc[moved, "diff"].abs() < 0.35).all()
    assert "Lower than the rest of Faculty of Natural Sciences" in set(loose["verdict"])


def test_holm_is_statsmodels_holm():
    """adjust_pvalues' own Holm (statsmodels' collects garbage on every call) against
    statsmodels itself, NaN left out of the family."""
    rng = np.random.default_rng(11)
    for size in (1, 2, 5, 17, 60):
        p = rng.uniform(0, 0.2, size) ** 2
        p[rng.random(size) < 0.2] = np.nan
        p[: min(2, size)] = p[0]  # ties
        done = np.isfinite(p)
        expected = np.full(size, np.nan)
        if done.any():
            expected[done] = multipletests(p[done], method="holm")[1]
        np.testing.assert_allclose(adjust_pvalues(p, "holm"), expected, rtol=0, atol=1e-15,
                                   equal_nan=True)


def test_previous_wave_follows_reorganisations():
    # tests/exports/questback: skole_nord and skole_sor (2022) merged into skolen (2024);
    # helse (2022) split into omsorg and hjemme (2024)
    from conftest import ROOT

    from workbench import views
    from workbench.release import build_release

    survey = load_survey(ROOT / "tests" / "exports" / "questback")
    release = build_release(survey)
    scores = person_scores(survey.responses, survey.instrument)
    before = scores[scores["wave"] == "2022"]
    merged = compare(release, "skolen", "previous", wave="2024", adjust="none")
    assert set(merged["other_id"]) == {"skole_nord+skole_sor"}
    for row in merged.itertuples():
        x = before.loc[before["unit_id"].isin(["skole_nord", "skole_sor"]), row.key].dropna()
        if row.suppressed:
            continue
        assert row.other_n == len(x)
        assert row.other_mean == pytest.approx(x.mean(), abs=1e-10)
    split = compare(release, "omsorg", "previous", wave="2024")
    assert set(split["other_id"]) == {"helse"}
    subtree = survey.hierarchy("2022").subtree("helse")
    whole = before.loc[before["unit_id"].isin(subtree), "MEST"].dropna()
    row = split.set_index("key").loc["MEST"]
    assert row["other_mean"] == pytest.approx(whole.mean(), abs=1e-10)
    # the trend follows the same lineage back
    trend = views.trend(release, "skolen")
    first = trend[(trend["wave"] == "2022") & (trend["key"] == "MEST")].iloc[0]
    x = before.loc[before["unit_id"].isin(["skole_nord", "skole_sor"]), "MEST"].dropna()
    assert first["source_units"] == "skole_nord+skole_sor"
    assert (first["n"], first["mean"]) == (len(x), pytest.approx(x.mean(), abs=1e-10))
