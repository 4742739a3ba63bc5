"""Aggregation against hand calculations, published R outputs and direct computation."""

import math

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import REALDATA

from workbench.aggregate import describe, fpc_factor, own_sums, rollup
from workbench.instrument import parse_instrument
from workbench.org import Hierarchy
from workbench.scoring import person_scores

T975_DF3 = 3.182446305284263  # qt(0.975, 3) in R


def test_fpc_statpsych_reference():
    # R: statpsych::ci.mean.fpc(.05, 24.5, 3.65, 40, 300) -> SE 0.5381631
    se = 3.65 / math.sqrt(40) * float(fpc_factor(40, 300, form="statpsych"))
    assert se == pytest.approx(0.5381631, abs=5e-8)
    # the form of DESIGN.md, sqrt(1 - n/N), by hand
    design = 3.65 / math.sqrt(40) * math.sqrt(1 - 40 / 300)
    assert float(fpc_factor(40, 300)) * 3.65 / math.sqrt(40) == pytest.approx(design, abs=1e-12)
    assert design == pytest.approx(0.5372655, abs=1e-7)  # 0.57711626 x 0.93094934


def test_fpc_edges():
    assert fpc_factor(10, np.nan) == 1.0          # N unknown: no correction
    assert fpc_factor(12, 12) == 0.0              # a census
    assert fpc_factor(13, 12) == 0.0              # more answers than invited: clipped


MINI = parse_instrument(yaml.safe_load("""
id: mini
scale: {min: 1, max: 5, missing_codes: [6]}
factors: [{id: A, items: [{id: a1}, {id: a2, reverse: true}]}]
"""))
TREE = Hierarchy.from_frame(pd.DataFrame({"unit_id": ["R", "X", "Y"], "parent_id": ["", "R", "R"],
                                          "name": ["Root", "X", "Y"]}))


def _tiny():
    # X: four persons, Y: two persons, R: one person of its own
    data = pd.DataFrame({
        "unit_id": ["X", "X", "X", "X", "Y", "Y", "R"],
        "a1": [4, 5, 3, 4, 2, 1, 5],
        "a2": [2, 1, 3, 2, 6, 5, 1],     # reverse: 4, 5, 3, 4, -, 1, 5
    }).astype({"a1": "Int8", "a2": "Int8"})
    headcount = pd.DataFrame({"unit_id": ["X", "Y", "R"], "invited": [5, 4, 1]})
    return data, headcount


def test_hand_calculation():
    data, headcount = _tiny()
    table = describe(rollup(own_sums(data, MINI, TREE, headcount=headcount), TREE), MINI)
    x = table.iloc[1]
    # X scores: 4, 5, 3, 4 -> mean 4, sd sqrt(2/3), N = 5
    assert (x["n"], x["invited"], x["mean"]) == (4, 5, 4.0)
    assert x["sd"] == pytest.approx(math.sqrt(2 / 3), abs=1e-12)
    # one se, with the finite population correction: s/sqrt(n) x sqrt(1 - n/N)
    se = math.sqrt(2 / 3) / 2 * math.sqrt(1 - 4 / 5)
    assert x["se"] == pytest.approx(se, abs=1e-12)
    moe = T975_DF3 * se
    assert x["moe"] == pytest.approx(moe, abs=1e-9)
    assert (x["ci_low"], x["ci_high"]) == pytest.approx((4 - moe, 4 + moe), abs=1e-9)
    # X answers (reverse flipped): 4,4 5,5 3,3 4,4 -> 3: 2, 4: 4, 5: 2 of 8
    assert [x[f"pct_{k}"] for k in range(1, 6)] == [0, 0, 25, 50, 25]
    assert x["top_box"] == 75
    y = table.iloc[2]
    # Y: person 1 has a1 = 2 only (a2 "don't know"), person 2: 1 and 1 -> scores 2, 1
    assert (y["n"], y["mean"]) == (2, 1.5)
    root = table.iloc[0]
    # root = X + Y + its own person (score 5): n 7, mean (16 + 3 + 5) / 7, N 10
    assert (root["n"], root["invited"], root["answers"]) == (7, 10, 7)
    assert root["mean"] == pytest.approx(24 / 7, abs=1e-12)


T975_DF6 = 2.446911851144969  # qt(0.975, 6) in R


@pytest.mark.parametrize("case", ["no_row", "too_many"])
def test_unknown_headcount_keeps_answers_and_drops_the_correction(case):
    """DESIGN, the dataset folder: a unit with answers but no headcount row, or with more
    answers than invited, keeps its answers; its N and its ancestors' N are unknown, so no
    finite population correction there, and never a zero-width interval."""
    data, headcount = _tiny()
    if case == "no_row":
        headcount = headcount[headcount["unit_id"] != "Y"]
    else:
        headcount = headcount.assign(invited=[5, 1, 1])  # Y: 2 answers, 1 invited
    table = describe(rollup(own_sums(data, MINI, TREE, headcount=headcount), TREE), MINI)
    root, x, y = table.iloc[0], table.iloc[1], table.iloc[2]
    # every answer is kept: the root still counts all 7 persons
    assert (root["n"], y["n"], root["answers"]) == (7, 2, 7)
    # Y's N is unknown; so is the root's: 7 answered of 7 invited (a census by the
    # headcount, or, with Y, a wrong headcount): never a zero-width interval
    assert math.isnan(y["invited"]) and math.isnan(root["invited"])
    assert x["invited"] == 5  # a sibling's N stays known
    # root scores 4, 5, 3, 4, 2, 1, 5: mean 24/7, no correction -> t(6) x sd / sqrt(7)
    scores = np.array([4, 5, 3, 4, 2, 1, 5], dtype=float)
    moe = T975_DF6 * scores.std(ddof=1) / math.sqrt(7)
    assert root["moe"] == pytest.approx(moe, abs=1e-9) and root["moe"] > 0
    # Y: scores 2 and 1, sd sqrt(1/2), no correction -> qt(0.975, 1) = 12.7062047361747
    assert y["moe"] == pytest.approx(12.706204736174707 * math.sqrt(0.5) / math.sqrt(2),
                                     abs=1e-9)


def test_pisaitems_published_percentages():
    path = REALDATA / "pisaitems_ST24Q.csv"
    if not path.is_file():
        pytest.skip("../shared/realdata is absent")
    raw = pd.read_csv(path)
    items = [c for c in raw.columns if c.startswith("ST24Q")]
    # one answer is enough for a score, so every answer counts, as in the likert package (the
    # workbench counts an item's answers only from the persons scored on its factor)
    inst = parse_instrument({"id": "pisa", "scale": {"min": 1, "max": 4}, "min_answered": 0.01,
                             "factors": [{"id": "F", "items": [{"id": i} for i in items]}]})
    countries = sorted(raw["CNT"].unique())
    tree = Hierarchy.from_frame(pd.DataFrame({
        "unit_id": ["ALL", *countries], "parent_id": ["", *["ALL"] * len(countries)],
        "name": ["All", *countries]}))
    data = raw.rename(columns={"CNT": "unit_id"}).astype({i: "Int8" for i in items})
    table = describe(rollup(own_sums(data, inst, tree, level="item"), tree), inst)
    table["unit_id"] = np.asarray(tree.ids, dtype=object)[table["cell"]]
    row = table.set_index(["unit_id", "key"])
    pct = [f"pct_{k}" for k in range(1, 5)]
    # summary(likert(items24)) of the likert package (published, rounded as printed)
    assert row.loc[("ALL", "ST24Q01"), pct].round(1).tolist()[:3] == [22.8, 35.9, 30.5]
    assert row.loc[("ALL", "ST24Q01"), "pct_4"] == pytest.approx(10.73, abs=0.005)
    assert row.loc[("ALL", "ST24Q01"), "mean"] == pytest.approx(2.29, abs=0.005)
    assert row.loc[("ALL", "ST24Q01"), "sd"] == pytest.approx(0.937, abs=0.0005)
    assert row.loc[("ALL", "ST24Q06"), "pct_4"] == pytest.approx(6.14, abs=0.005)
    assert row.loc[("ALL", "ST24Q06"), "mean"] == pytest.approx(1.81, abs=0.005)
    assert row.loc[("ALL", "ST24Q06"), "sd"] == pytest.approx(0.861, abs=0.0005)
    assert row.loc[("United States", "ST24Q01"), pct].round(1).tolist()[:3] == [17.2, 33.0, 34.0]
    assert row.loc[("Canada", "ST24Q01"), "pct_4"] == pytest.approx(14.29, abs=0.005)


@pytest.mark.parametrize("level", ["factor", "item"])
def test_rollup_equals_direct_for_every_unit(university, level):
    wave = "2021"
    data = university.responses[university.responses["wave"] == wave]
    tree = university.hierarchy(wave)
    head = university.headcount[university.headcount["wave"] == wave]
    own = own_sums(data, university.instrument, tree, level=level, headcount=head)
    table = describe(rollup(own, tree), university.instrument)
    table["unit_id"] = np.asarray(tree.ids, dtype=object)[table["cell"]]
    key = university.instrument.factors[5].id if level == "factor" else "STR2"
    mine = table[table["key"] == key].set_index("unit_id")
    if level == "factor":
        values = person_scores(data, university.instrument)[["unit_id", key]]
    else:
        values = data[["unit_id", key]].astype({key: "float64"})
        values.loc[values[key] == 6, key] = np.nan
    for unit in tree.ids:
        direct = values.loc[values["unit_id"].isin(tree.subtree(unit)), key].dropna()
        row = mine.loc[unit]
        assert row["n"] == len(direct), unit
        if len(direct) > 1:
            assert row["mean"] == pytest.approx(direct.mean(), abs=1e-10), unit
            assert row["sd"] == pytest.approx(direct.std(), abs=1e-9), unit
        invited = head.loc[head["unit_id"].isin(tree.subtree(unit)), "invited"].sum()
        answered = data["unit_id"].isin(tree.subtree(unit)).sum()
        # N for the correction: the headcount, where it holds more persons than answered
        if answered < invited:
            assert row["invited"] == invited, unit
        else:
            assert np.isnan(row["invited"]), unit


def test_properties(university):
    wave = "2019"
    data = university.responses[university.responses["wave"] == wave]
    tree = university.hierarchy(wave)
    own = own_sums(data, university.instrument, tree)
    up = rollup(own, tree)
    pos = {u: i for i, u in enumerate(tree.ids)}
    for unit in tree.ids:
        i = pos[unit]
        children = [pos[c] for c in tree.children(unit)]
        # a parent's n is the sum of its children's plus its own members'
        assert np.array_equal(up.n[i], own.n[i] + up.n[children].sum(axis=0))
    pct = describe(up, university.instrument)
    filled = pct[pct["n"] > 0]
    total = filled[[f"pct_{k}" for k in range(1, 6)]].sum(axis=1)
    assert np.allclose(total, 100.0)


def test_rollup_by_depth_equals_the_matrix_product(university):
    from workbench.aggregate import rollup_matrix

    hierarchy = university.hierarchy("2021")
    data = university.responses[university.responses["wave"] == "2021"]
    own = own_sums(data, university.instrument, hierarchy, headcount=university.headcount[
        university.headcount["wave"] == "2021"])
    by_depth = rollup(own, hierarchy)
    by_matrix = rollup(own, hierarchy, rollup_matrix(hierarchy))
    for name in ("n", "s1", "s2", "counts", "answers", "invited"):
        np.testing.assert_allclose(getattr(by_depth, name), getattr(by_matrix, name),
                                   rtol=0, atol=1e-9, equal_nan=True)
