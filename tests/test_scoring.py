import numpy as np
import pandas as pd
import yaml

from workbench.instrument import parse_instrument
from workbench.scoring import item_values, person_scores

MINI = parse_instrument(yaml.safe_load("""
id: mini
scale: {min: 1, max: 5, missing_codes: [6]}
min_answered: 0.5
factors:
  - {id: A, items: [{id: a1}, {id: a2, reverse: true}, {id: a3}]}
  - {id: B, items: [{id: b1}, {id: b2}, {id: b3}, {id: b4}, {id: b5}]}
"""))


def _data(rows):
    return pd.DataFrame(rows, columns=["respondent_id", "a1", "a2", "a3",
                                       "b1", "b2", "b3", "b4", "b5"]).astype(
        {c: "Int8" for c in ["a1", "a2", "a3", "b1", "b2", "b3", "b4", "b5"]})


def test_reverse_and_missing_codes():
    data = _data([["p", 4, 2, 6, 5, 5, 5, 5, 5]])
    values = item_values(data, MINI)
    # a2 reversed: 1 + 5 - 2 = 4; a3 "don't know" (6) -> missing
    assert values.iloc[0, :3].tolist()[:2] == [4.0, 4.0]
    assert np.isnan(values.iloc[0]["a3"])


def test_min_answered_rule():
    data = _data([
        ["p1", 4, 2, 6, 5, 4, None, None, None],   # A: 2 of 3 (needs 2) -> (4+4)/2; B: 2 of 5
        ["p2", 1, None, None, 5, 4, 3, None, 6],   # A: 1 of 3 -> missing; B: 3 of 5 -> 4.0
        ["p3", 6, 6, 6, 1, 2, 3, 4, 5],            # A: nothing answered -> missing; B: 3.0
    ])
    scores = person_scores(data, MINI)
    assert scores.columns.tolist() == ["respondent_id", "A", "B"]
    assert scores["A"].tolist()[0] == 4.0
    assert np.isnan(scores["A"][1]) and np.isnan(scores["A"][2])
    # B needs ceil(0.5 * 5) = 3 items
    assert np.isnan(scores["B"][0])
    assert scores["B"].tolist()[1:] == [4.0, 3.0]


TWO_SCALES = parse_instrument(yaml.safe_load("""
id: two
scale: {min: 1, max: 5, missing_codes: [9]}
factors:
  - {id: A, items: [{id: a1}, {id: a2, reverse: true}]}
  - id: H
    scale: {min: 0, max: 4}
    items: [{id: h1}, {id: h2, reverse: true}]
"""))


def test_reverse_coding_uses_the_factor_scale():
    """x' = min + max - x with the item's own scale: 1 + 5 - x on 1-5, 0 + 4 - x on 0-4;
    the factor's scale inherits the instrument's missing code 9."""
    data = pd.DataFrame([["p", 4, 2, 0, 1], ["q", 9, 5, 4, 9]],
                        columns=["respondent_id", "a1", "a2", "h1", "h2"]).astype(
        {c: "Int8" for c in ["a1", "a2", "h1", "h2"]})
    values = item_values(data, TWO_SCALES)
    assert values.iloc[0].tolist() == [4.0, 4.0, 0.0, 3.0]
    assert np.isnan(values.iloc[1]["a1"]) and np.isnan(values.iloc[1]["h2"])
    assert values.iloc[1][["a2", "h1"]].tolist() == [1.0, 4.0]
    scores = person_scores(data, TWO_SCALES)
    assert scores["H"].tolist() == [1.5, 4.0]
    assert TWO_SCALES.factor_scale("H").missing_codes == (9,)
    assert TWO_SCALES.factor_scale("A").points == (1, 2, 3, 4, 5)
