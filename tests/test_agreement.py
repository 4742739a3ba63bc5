"""Agreement within units (rwg), ICC(1)/ICC(2), Wilson intervals, findings and their words.

References are independent of the code under test: hand calculations, statsmodels' one-way
ANOVA and proportion intervals, and R multilevel's formulas written out on the real data of
its own package (../shared/realdata, skipped when absent).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from conftest import REALDATA

from workbench.aggregate import wilson
from workbench.agreement import agreement_words, icc, icc_of_sums, relative_spread, rwg_j
from workbench.compare import classify, verdict_text


def _realdata(name: str) -> pd.DataFrame:
    path = REALDATA / name
    if not path.is_file():
        pytest.skip("../shared/realdata is absent")
    return pd.read_csv(path)


def _rwg_by_hand(frame: pd.DataFrame, items: list[str], group: str, ranvar: float) -> pd.Series:
    """R multilevel's rwg.j, line by line: mean of the item variances per group (na.rm),
    capped at ranvar, J (1 - S/ranvar) / (J (1 - S/ranvar) + S/ranvar); NA for one row."""
    out = {}
    for g, part in frame.groupby(group):
        if len(part) < 2:
            out[g] = np.nan
            continue
        s = part[items].var(ddof=1, skipna=True).mean(skipna=False)
        s = min(s, ranvar)
        j = len(items)
        out[g] = j * (1 - s / ranvar) / (j * (1 - s / ranvar) + s / ranvar)
    return pd.Series(out)


def test_rwg_hand_example():
    # three items with variances 0.5, 0.7, 0.6 on a 1-5 scale: S = 0.6, sigma^2 = 2
    assert rwg_j(np.array([[0.5, 0.7, 0.6]]), 5)[0] == pytest.approx(3 * 0.7 / (3 * 0.7 + 0.3))
    # more disagreement than a uniform answer: capped at 0
    assert rwg_j(np.array([[2.5, 3.0]]), 5)[0] == 0.0
    # full agreement
    assert rwg_j(np.array([[0.0, 0.0]]), 5)[0] == 1.0
    # a 0-4 scale has 5 points too: sigma^2 = 2
    assert rwg_j(np.array([[1.0]]), 5)[0] == pytest.approx(0.5)


@pytest.mark.realdata
def test_rwg_on_lq2002_as_r_multilevel():
    raw = _realdata("multilevel_lq2002.csv")
    items = [f"LEAD{k:02d}" for k in range(1, 12)]
    # the package's own example: rwg.j(lq2002[,3:13], lq2002$COMPID)
    expected = _rwg_by_hand(raw, items, "COMPID", 2.0)
    variances = raw.groupby("COMPID")[items].var(ddof=1)
    got = pd.Series(rwg_j(variances.to_numpy(), 5), index=variances.index)
    pd.testing.assert_series_equal(got, expected.reindex(got.index), check_names=False,
                                   atol=1e-12)
    assert 0.7 < got.mean() < 1.0


def _icc_by_statsmodels(values, groups):
    import statsmodels.api as sm
    from statsmodels.formula.api import ols

    frame = pd.DataFrame({"y": values, "g": groups}).dropna()
    table = sm.stats.anova_lm(ols("y ~ C(g)", data=frame).fit())
    msb, msw = table["mean_sq"].iloc[0], table["mean_sq"].iloc[1]
    k = frame["g"].nunique()
    size = len(frame) / k
    return (msb - msw) / (msb + (size - 1) * msw), (msb - msw) / msb


@pytest.mark.realdata
def test_icc_on_bhr2000_against_an_anova():
    raw = _realdata("multilevel_bhr2000.csv")
    # the package's ICC1/ICC2 examples run aov(HRS ~ as.factor(GRP))
    got = icc(raw["HRS"].to_numpy(), raw["GRP"].to_numpy())
    expected = _icc_by_statsmodels(raw["HRS"].to_numpy(), raw["GRP"].to_numpy())
    assert got == pytest.approx(expected, rel=1e-10)
    assert 0 < got[0] < got[1] < 1


@pytest.mark.realdata
def test_icc_of_group_sums_on_bhr2000_against_an_anova():
    # what a published table holds per group: n, sum, sum of squares
    raw = _realdata("multilevel_bhr2000.csv")
    y = raw["HRS"].astype(float)
    sums = pd.DataFrame({"n": 1.0, "s": y, "q": y ** 2}).groupby(raw["GRP"]).sum()
    got = icc_of_sums(sums.to_numpy(), sums.sum().to_numpy())
    expected = _icc_by_statsmodels(y.to_numpy(), raw["GRP"].to_numpy())
    assert got == pytest.approx(expected, rel=1e-8)


def test_icc_leaves_out_a_person_without_a_group():
    y = np.array([1, 2, 3, 4, 5, 6, 1], dtype=float)
    g = np.array(["a", "a", "a", "b", "b", "b", None], dtype=object)
    assert icc(y, g) == pytest.approx(icc(y[:6], g[:6]))


def test_icc_hand_example():
    # two groups: (1, 2, 3) and (4, 5, 6): MSB = 3 x 3^2 x 2 / 2... by hand
    y = np.array([1, 2, 3, 4, 5, 6], dtype=float)
    g = np.array(["a", "a", "a", "b", "b", "b"])
    msb = 3 * ((2 - 3.5) ** 2 + (5 - 3.5) ** 2) / 1
    msw = (2 + 2) / 4
    assert icc(y, g) == pytest.approx(((msb - msw) / (msb + 2 * msw), (msb - msw) / msb))
    sums = np.array([[3, 6, 14], [3, 15, 77]], dtype=float)
    assert icc_of_sums(sums, sums.sum(axis=0)) == pytest.approx(
        ((msb - msw) / (msb + 2 * msw), (msb - msw) / msb))


def test_reliability_carries_icc(university_release):
    table = university_release.tables["reliability"]
    assert list(table.columns[:7]) == ["wave", "factor", "n", "items", "alpha", "icc1", "icc2"]
    assert table["icc1"].between(-0.1, 0.5).all() and table["icc2"].between(-1, 1).all()


def test_rwg_in_the_release_equals_a_hand_calculation(university, university_release):
    from workbench.scoring import factor_scores, scored_values

    factors = university_release.tables["factors"]
    row = factors[(factors["wave"] == "2021") & (factors["unit_id"] == "NV-FYS") &
                  ~factors["dist_suppressed"]].iloc[0]
    instrument = university.instrument
    factor = instrument.factor(row["key"])
    data = university.responses
    h = university.hierarchy("2021")
    data = data[(data["wave"] == "2021") & data["unit_id"].isin(h.subtree("NV-FYS"))]
    values = scored_values(data, instrument)
    scored = ~np.isnan(factor_scores(values, instrument)[:, instrument.factors.index(factor)])
    position = [instrument.item_ids.index(i) for i in factor.item_ids]
    frame = pd.DataFrame(values[scored][:, position], columns=factor.item_ids)
    frame["g"] = "x"
    expected = _rwg_by_hand(frame, list(factor.item_ids), "g", 2.0)["x"]
    # the release counts reverse items as given in the item tables: variances are the same
    assert row["rwg"] == pytest.approx(expected, abs=1e-9)
    hidden = factors[factors["dist_suppressed"]]
    assert hidden["rwg"].isna().all()


def test_wilson_against_statsmodels():
    from statsmodels.stats.proportion import proportion_confint

    for count, n in ((6, 8), (0, 5), (5, 5), (412, 700)):
        low, high = wilson(np.array([count / n]), np.array([n]))
        ref = proportion_confint(count, n, method="wilson")
        assert (low[0], high[0]) == pytest.approx(ref, abs=1e-12)


def test_findings_and_their_words():
    # 0.197 points with p = 1e-5: significant but under the threshold: "small", not "no
    # real difference"; a tight interval around 0.05: "similar"; a wide one: "unclear"
    found = classify([0.197, 0.05, 0.05, -0.5], [1e-5, 0.9, 0.9, 0.001], 0.2, 0.05,
                     se=[0.01, 0.02, 0.3, 0.1], df=[100, 100, 5, 50])
    assert found.tolist() == ["small", "similar", "unclear", "lower"]
    assert verdict_text("small", "parent", lang="en") == \
        "A small difference (under 0.2 points)"
    assert verdict_text("similar", "parent") == \
        "Omtrent likt (forskjellen er sikkert mindre enn 0,2 poeng)"
    assert "too few answers" in verdict_text("unclear", "parent", lang="en")
    assert agreement_words(0.95) == "dere svarte svært likt"
    assert agreement_words(0.3, "en") == "your answers differed a lot"


def test_spread_does_not_follow_the_mean(university_release):
    items = university_release.tables["items"]
    shown = items[~items["suppressed"] & items["sd"].notna() & (items["n"] >= 10)]
    spread = relative_spread(shown["sd"], shown["mean"], shown["n"], 1, 5)
    ok = np.isfinite(spread)
    distance = (shown["mean"] - 3).abs()[ok]
    raw = np.corrcoef(shown["sd"][ok], distance)[0, 1]
    fair = np.corrcoef(spread[ok], distance)[0, 1]
    assert raw < -0.5 and abs(fair) < abs(raw) / 2


def test_json_carries_the_values_csv_has(tmp_path, capsys):
    from workbench.cli import _emit

    table = pd.DataFrame({"key": ["A"], "p": [1.2e-15], "mean": [4.123456], "n": [7]})
    _emit(table, "json", None)
    records = json.loads(capsys.readouterr().out)
    assert records == [{"key": "A", "p": 1.2e-15, "mean": 4.1235, "n": 7}]
    _emit(table, "csv", None)
    assert capsys.readouterr().out.splitlines()[1] == "A,1.2e-15,4.1235,7"
