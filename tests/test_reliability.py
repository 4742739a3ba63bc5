"""Cronbach's alpha: published reference, hand calculations, sample data."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench.errors import UsageError
from workbench.reliability import RELIABILITY_COLUMNS, cronbach_alpha, reliability
from workbench.validate import load_survey

ROOT = Path(__file__).resolve().parents[1]
REALDATA = Path(__file__).resolve().parents[2] / "shared" / "realdata"


@pytest.mark.realdata
def test_bhr2000_listwise_alpha_matches_published():
    path = REALDATA / "multilevel_bhr2000.csv"
    if not path.is_file():
        pytest.skip(f"{path} is not there (real data are not shipped with the repository)")
    data = pd.read_csv(path)
    items = data.loc[:, "AF06":"AS17"]
    assert list(items.columns) == ["AF06", "AF07", "AP12", "AP17", "AP33", "AP34", "AS14",
                                   "AS15", "AS16", "AS17"]
    # multilevel::cronbach(bhr2000[, 2:11]) = 0.8798
    assert round(cronbach_alpha(items, pairwise=False), 4) == 0.8798
    # the file has no missing answers, so pairwise and listwise agree
    assert cronbach_alpha(items) == pytest.approx(cronbach_alpha(items, pairwise=False))


def test_pairwise_and_listwise_by_hand():
    items = pd.DataFrame({"a": [1, 2, 3, 4, 5.0],
                          "b": [2, 2, 4, 4, np.nan],
                          "c": [1, 3, 3, np.nan, 5.0]})
    # Listwise: rows 1-3 only. a = 1,2,3; b = 2,2,4; c = 1,3,3.
    #   deviations: a -1, 0, 1; b -2/3, -2/3, 4/3; c -4/3, 2/3, 2/3
    #   var a = 2/2 = 1, var b = (4/9 + 4/9 + 16/9)/2 = 4/3, var c = 4/3
    #   cov ab = (2/3 + 0 + 4/3)/2 = 1, cov ac = (4/3 + 0 + 2/3)/2 = 1,
    #   cov bc = (8/9 - 4/9 + 8/9)/2 = 2/3
    #   trace = 1 + 4/3 + 4/3 = 11/3; sum = 11/3 + 2 (1 + 1 + 2/3) = 11/3 + 16/3 = 9
    #   alpha = 3/2 (1 - (11/3)/9) = 3/2 x 16/27 = 8/9
    assert cronbach_alpha(items, pairwise=False) == pytest.approx(8 / 9, abs=1e-12)
    # Pairwise: each (co)variance from the rows where both items are answered.
    #   var a (rows 1-5) = 2.5; var b (rows 1-4: 2,2,4,4) = 4/3; var c (rows 1,2,3,5:
    #   1,3,3,5) = 8/3
    #   cov ab (rows 1-4: a 1,2,3,4 mean 2.5; b mean 3):
    #     ((-1.5)(-1) + (-0.5)(-1) + (0.5)(1) + (1.5)(1))/3 = 4/3
    #   cov ac (rows 1,2,3,5: a 1,2,3,5 mean 2.75; c mean 3):
    #     ((-1.75)(-2) + (-0.75)(0) + (0.25)(0) + (2.25)(2))/3 = 8/3
    #   cov bc (rows 1-3: b 2,2,4 mean 8/3; c 1,3,3 mean 7/3):
    #     ((-2/3)(-4/3) + (-2/3)(2/3) + (4/3)(2/3))/2 = 2/3
    #   trace = 2.5 + 4/3 + 8/3 = 6.5; sum = 6.5 + 2 (4/3 + 8/3 + 2/3) = 6.5 + 28/3
    trace = 2.5 + 4 / 3 + 8 / 3
    total = trace + 2 * (4 / 3 + 8 / 3 + 2 / 3)
    assert cronbach_alpha(items) == pytest.approx(1.5 * (1 - trace / total), abs=1e-12)
    assert cronbach_alpha(items) == pytest.approx(0.8842105263, abs=1e-9)


def test_alpha_edge_cases():
    assert math.isnan(cronbach_alpha(pd.DataFrame({"a": [1.0, 2, 3]})))  # one item
    assert math.isnan(cronbach_alpha(pd.DataFrame({"a": [1.0], "b": [2.0]})))  # one person
    # two items nobody answered together: the covariance is unknown
    assert math.isnan(cronbach_alpha(pd.DataFrame({"a": [1, 2, np.nan, np.nan],
                                                   "b": [np.nan, np.nan, 3, 4]})))


def test_sample_alphas_per_wave(university):
    table = reliability(university)
    assert list(table.columns[:5]) == list(RELIABILITY_COLUMNS)
    factors = university.instrument.factors
    assert len(table) == len(university.waves) * len(factors)
    assert list(table["wave"].unique()) == list(university.waves)
    last = table[table["wave"] == "2021"]
    assert last["alpha"].between(0.7, 0.9).all()
    assert list(last["items"]) == [len(f.items) for f in factors]
    answered = (university.responses["wave"] == "2021").sum()
    assert (last["n"] <= answered).all() and (last["n"] >= last["n_complete"]).all()
    assert (last["alpha_listwise"] - last["alpha"]).abs().max() < 0.02


def test_reverse_items_are_flipped_and_missing_codes_dropped(tiny_dataset):
    from workbench.instrument import load_instrument

    instrument = load_instrument("ark")
    factor = next(f for f in instrument.factors if any(i.reverse for i in f.items))
    reverse = [i.id for i in factor.items if i.reverse]
    missing = instrument.scale.missing_codes
    rng = np.random.default_rng(3)
    level = rng.integers(1, 6, 40)
    rows = []
    for r, base in enumerate(level):
        answers = {i: int(base) for i in instrument.item_ids}
        for i in reverse:
            answers[i] = 6 - int(base)  # a consistent person disagrees with reversed items
        if missing and r % 5 == 0:
            answers[factor.items[0].id] = missing[0]
        rows.append(f"r{r},2021,S1," + ",".join(str(answers[i]) for i in instrument.item_ids))
    header = ",".join(["respondent_id", "wave", "unit_id", *instrument.item_ids])
    survey = load_survey(tiny_dataset(
        **{"survey.yaml": "name: Tiny\ninstrument: ark\nwaves: [2021]\n"},
        headcount__csv="wave,unit_id,invited\n2021,S1,50\n",
        responses__csv=header + "\n" + "\n".join(rows) + "\n"))
    assert len(survey.responses) == 40
    table = reliability(survey, wave=2021).set_index("factor")
    # perfectly consistent answers once reversed items are flipped: alpha = 1 on complete
    # answers (unflipped, the reversed items would pull it far below 0); "don't know"
    # (code 6) counts as missing, not as a sixth scale point
    assert table.loc[factor.id, "alpha_listwise"] == pytest.approx(1.0)
    assert table.loc[factor.id, "alpha"] > 0.999
    assert table.loc[factor.id, "n"] == 40
    if missing:
        assert table.loc[factor.id, "n_complete"] == 40 - 8


def test_a_count_of_complete_answers_below_min_n_is_not_shown(tiny_dataset):
    # an outside attacker (helper-16): n_complete 4 told that exactly 4 answered every item
    from workbench.instrument import load_instrument

    instrument = load_instrument("ark")
    factor = instrument.factors[0]
    rows = []
    for r in range(20):
        answers = {i: 1 + (r + k) % 5 for k, i in enumerate(instrument.item_ids)}
        if r >= 4:  # 16 of 20 leave the factor's first item blank
            answers[factor.items[0].id] = ""
        rows.append(f"r{r},2021,S1," + ",".join(str(answers[i]) for i in instrument.item_ids))
    header = ",".join(["respondent_id", "wave", "unit_id", *instrument.item_ids])
    survey = load_survey(tiny_dataset(
        **{"survey.yaml": "name: Tiny\ninstrument: ark\nwaves: [2021]\n"},
        headcount__csv="wave,unit_id,invited\n2021,S1,50\n",
        responses__csv=header + "\n" + "\n".join(rows) + "\n"))
    table = reliability(survey, wave=2021).set_index("factor")
    assert table.loc[factor.id, "n"] == 20
    assert pd.isna(table.loc[factor.id, "n_complete"])
    assert np.isnan(table.loc[factor.id, "alpha_listwise"])


def test_too_few_persons_and_bad_wave(tiny_dataset, university):
    survey = load_survey(tiny_dataset())  # 10 persons, all answering 4: no variance
    table = reliability(survey, min_n=20)
    assert table["alpha"].isna().all() and (table["n"] == 10).all()
    with pytest.raises(UsageError, match="wave '2020'"):
        reliability(university, wave="2020")


def test_the_order_of_the_rows_changes_no_bit(university, tmp_path):
    # an outside attacker (helper-18): alpha and the ICCs moved in their last bits when the
    # rows of responses.csv were shuffled; a published number must follow from the answers
    import shutil

    shutil.copytree(university.path, tmp_path / "u", ignore=shutil.ignore_patterns(".workbench"))
    rows = pd.read_csv(tmp_path / "u" / "responses.csv", dtype=str, keep_default_na=False)
    rows.sample(frac=1.0, random_state=3).to_csv(tmp_path / "u" / "responses.csv", index=False)
    shuffled = load_survey(tmp_path / "u")
    pd.testing.assert_frame_equal(reliability(university), reliability(shuffled),
                                  check_exact=True)
