"""Privacy: one joint decision per wave, tried by an attacker that reads the whole release.

The attacker (tests/attacker.py) shares no code with :mod:`workbench.privacy`: it reads only
the published tables of a release (all at once) and tries every subtraction within and across
tables and groups, and, on small datasets, an exact integer programme. It must find nothing
on the samples, on hand-built adversarial trees and on random trees with random skip
patterns; and it must find the leaks of a naive protection (so it is not blind).
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from attacker import (
    attack,
    brute_force_leaks,
    exact_leak,
    persons_of,
    pinned_skippers,
    subtraction_leaks,
)
from attacker import trees as attacker_trees
from conftest import SAMPLES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workbench.errors import UsageError
from workbench.org import Hierarchy
from workbench.privacy import (
    AUDIT_COLUMNS,
    LARGE_UNIT,
    Block,
    GroupCounts,
    PrivacyPolicy,
    audit,
    check_background,
    decide,
)
from workbench.release import build_release, open_release
from workbench.validate import load_survey

P5 = PrivacyPolicy(min_n=5)


# --------------------------------------------------------------------------------------------
# The decision on hand-built blocks


def tree(**parents: str) -> Hierarchy:
    ids = list(parents)
    return Hierarchy.from_frame(pd.DataFrame({"unit_id": ids, "name": ids,
                                              "parent_id": [parents[u] for u in ids]}))


def subtree_counts(h: Hierarchy, own: dict[str, list[int]]) -> np.ndarray:
    """Subtree totals (units x keys) from each unit's own counts."""
    keys = len(next(iter(own.values())))
    out = np.zeros((len(h), keys))
    for i, u in enumerate(h.ids):
        for v in h.subtree(u):
            out[i] += own.get(v, [0] * keys)
    return out


def published(decision, h: Hierarchy) -> dict[str, str]:
    return dict(zip(h.ids, decision.reason))


def test_a_small_unit_and_the_sibling_that_would_reveal_it():
    h = tree(R="", A="R", B="R")
    block = Block("factor:F", ("F",), subtree_counts(h, {"A": [9], "B": [3]}))
    d = decide(h, [block], P5)["factor:F"]
    assert published(d, h) == {"R": "", "A": "complement", "B": "min_n"}


def test_a_parent_with_two_own_members_hides_its_smallest_child_not_itself():
    h = tree(R="", A="R", B="R", C="R")
    block = Block("factor:F", ("F",), subtree_counts(h, {"R": [2], "A": [30], "B": [8],
                                                          "C": [12]}))
    d = decide(h, [block], P5)["factor:F"]
    assert published(d, h) == {"R": "", "A": "", "B": "complement", "C": ""}


def test_every_key_of_a_block_is_checked_and_decided_together():
    # the factor's atom at R is 6 - 5 - ... fine, but item I2 leaves 2 persons at R's own
    h = tree(R="", A="R", B="R")
    own = {"R": [1, 1, 2], "A": [6, 6, 6], "B": [7, 7, 5]}
    # R: F 14, I1 14, I2 13; A and B published; atom(R) = own: F 1 -> hide one child
    block = Block("factor:F", ("F", "I1", "I2"), subtree_counts(h, own))
    d = decide(h, [block], P5)["factor:F"]
    assert d.reason.tolist() == ["", "complement", ""]
    # an item that only 3 scored persons answered hides the whole cell
    own = {"A": [8, 3, 8], "B": [9, 9, 9]}
    block = Block("factor:F", ("F", "I1", "I2"), subtree_counts(h, own))
    d = decide(h, [block], P5)["factor:F"]
    assert published(d, h) == {"R": "", "A": "min_n", "B": "complement"}


def test_a_large_unit_is_never_hidden_wholly_while_other_cells_can_protect():
    # R has 2 own members in every factor; A (25) is the smallest child each time
    h = tree(R="", A="R", B="R", C="R")
    own = {"R": [2], "A": [25], "B": [40], "C": [60]}
    blocks = [Block(f"factor:F{k}", (f"F{k}",), subtree_counts(h, own)) for k in range(6)]
    answers = subtree_counts(h, own)[:, 0]
    out = decide(h, blocks, P5, answers=answers)
    hidden = {u: sum(not out[b.name].published[i] for b in blocks) for i, u in
              enumerate(h.ids)}
    assert hidden["R"] == 0 and sum(hidden.values()) == 6   # one cell per factor, no more
    assert hidden["A"] < 6 and hidden["B"] > 0               # spread over the children
    assert LARGE_UNIT == 20


def test_a_large_unit_keeps_a_factor_when_a_path_through_an_emptied_cell_protects():
    # an outside attacker's tree (min_n 3): P has 1 own member; of its children, A (21) has
    # no own members (hiding A alone protects nobody: its children still add up to it), B
    # (33) has 3. Hiding B is the one-cell answer in every factor, and hid B wholly; in the
    # last factor A and one of its children go instead
    h = tree(R="", P="R", A="P", A1="A", A2="A", B="P", B1="B", B2="B", B3="B", C="R")
    own = {"R": [5], "P": [1], "A1": [10], "A2": [11], "B": [3], "B1": [11], "B2": [3],
           "B3": [16], "C": [40]}
    blocks = [Block(f"factor:F{k}", (f"F{k}",), subtree_counts(h, own)) for k in range(2)]
    policy = PrivacyPolicy(min_n=3)
    out = decide(h, blocks, policy, answers=subtree_counts(h, own)[:, 0])
    shown = {u: sum(out[b.name].published[i] for b in blocks) for i, u in enumerate(h.ids)}
    assert all(shown[u] > 0 for u in ("P", "A", "B", "R", "C"))   # the units of 20+
    from attacker import Tree as Seen

    seen = Seen(pd.DataFrame({"unit_id": h.ids, "parent_id": [h.parent(u) or "" for u in
                                                                 h.ids]}))
    for b in blocks:  # and nothing below 3 persons by subtraction
        nodes = {u: b.n[i, 0] for i, u in enumerate(h.ids) if out[b.name].published[i]}
        assert subtraction_leaks(seen, nodes, 3) == []


def test_a_chain_of_small_parents_is_protected_by_hiding_a_small_middle_unit():
    # M (9 persons, 1 of its own) sits between R (1 own) and two groups: hiding M alone
    # protects both R's and M's own member with one cell
    h = tree(R="", M="R", A="M", B="M", C="R")
    own = {"R": [1], "M": [1], "A": [4], "B": [4], "C": [30]}
    d = decide(h, [Block("factor:F", ("F",), subtree_counts(h, own))], P5)["factor:F"]
    assert published(d, h)["M"] == "complement"
    assert sum(r == "complement" for r in d.reason) == 1


def test_blocks_that_depend_on_another_are_published_only_where_it_is():
    h = tree(R="", A="R", B="R")
    lead = Block("extra:had", ("had",), subtree_counts(h, {"R": [2], "A": [10], "B": [12]}),
                 kind="extra")
    useful = Block("extra:useful", ("useful",), subtree_counts(h, {"A": [6], "B": [8]}),
                   requires="extra:had", kind="extra")
    out = decide(h, [lead, useful], P5)
    assert out["extra:had"].reason.tolist() == ["", "complement", ""]
    assert out["extra:useful"].reason.tolist() == ["", "complement", ""]
    with pytest.raises(UsageError, match="must come before"):
        decide(h, [useful], P5)


def test_groups_drop_the_smallest_until_the_rest_is_safe():
    h = tree(R="", A="R")
    totals = subtree_counts(h, {"R": [2], "A": [40]})   # R: 42
    # female 20, male 19, blank 3: the rest (3) is too small: the smaller group goes
    g = np.zeros((2, 2, 1))
    g[0, :, 0] = [20, 19]
    block = Block("factor:F", ("F",), totals, {"gender": GroupCounts(("female", "male"), g)})
    d = decide(h, [block], P5)["factor:F"]
    pub, reason = d.groups["gender"]
    assert pub[0].tolist() == [True, False] and reason[0].tolist() == ["", "complement"]
    # nested allowed levels: the upper unit shows the groups, the lower one nothing
    g[1, :, 0] = [20, 18]
    policy = PrivacyPolicy(5, (0, 1))
    d = decide(h, [Block("factor:F", ("F",), totals,
                         {"gender": GroupCounts(("female", "male"), g)})], policy)["factor:F"]
    pub, reason = d.groups["gender"]
    assert not pub[1].any() and reason[1].tolist() == ["background_level"] * 2


def test_empty_units_never_force_suppression():
    h = tree(R="", A="R", B="R", C="B")
    d = decide(h, [Block("factor:F", ("F",), subtree_counts(h, {"A": [6], "B": [0],
                                                                "C": [7]}))], P5)
    assert published(d["factor:F"], h) == {"R": "", "A": "", "B": "", "C": ""}


def test_min_n_three_versus_five():
    h = tree(R="", A="R", B="R")
    block = Block("factor:F", ("F",), subtree_counts(h, {"A": [4], "B": [3]}))
    assert decide(h, [block], P5)["factor:F"].reason.tolist() == ["", "min_n", "min_n"]
    assert decide(h, [block], PrivacyPolicy(3))["factor:F"].reason.tolist() == ["", "", ""]


@pytest.mark.parametrize("bad", [2, 0, -1, 4.5, "5", True])
def test_min_n_below_three_or_not_a_count_is_refused(bad):
    with pytest.raises(UsageError):
        PrivacyPolicy(min_n=bad)


def test_background_only_at_allowed_levels():
    h = tree(R="", A="R")
    check_background(h, "R", "gender", P5)
    with pytest.raises(UsageError, match="only at levels 0"):
        check_background(h, "A", "gender", P5)


# --------------------------------------------------------------------------------------------
# Datasets written for the attacker


INSTRUMENT = """\
id: mini
name: {nb: Mini, en: Mini}
scale:
  min: 1
  max: 5
  missing_codes: [6]
  top_box: 2
min_answered: 0.5
factors:
  - id: F1
    name: {nb: En, en: One}
    items:
      - {id: A1, text: a1}
      - {id: A2, text: a2}
      - {id: A3, text: a3}
  - id: F2
    name: {nb: To, en: Two}
    items:
      - {id: B1, text: b1}
      - {id: B2, text: b2, reverse: true}
extra:
  - id: had
    name: {nb: Hatt, en: Had}
    text: {nb: Hatt samtale?, en: Had a talk?}
    type: category
    categories:
      - {code: 1, label: {nb: Ja, en: "Yes"}}
      - {code: 2, label: {nb: Nei, en: "No"}}
  - id: useful
    name: {nb: Nytte, en: Use}
    text: {nb: Nytte?, en: Use?}
    type: scale
    min: 1
    max: 5
    only_if: {had: 1}
"""

FACTORS = {"F1": [("A1", False), ("A2", False), ("A3", False)],
           "F2": [("B1", False), ("B2", True)]}
ITEMS = ["A1", "A2", "A3", "B1", "B2"]


def write_dataset(folder: Path, parents: dict[str, str], responses: pd.DataFrame,
                  min_n: int = 5, levels=(0,)) -> Path:
    """A dataset folder with the mini instrument, gender as background, one wave."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "mini.yaml").write_text(INSTRUMENT, encoding="utf-8")
    (folder / "survey.yaml").write_text(
        "name: Test\ninstrument: mini.yaml\nwaves: ['2021']\n"
        f"privacy:\n  min_n: {min_n}\n  background_levels: {list(levels)}\n"
        "background:\n  gender:\n    name: Gender\n    values:\n      female: F\n"
        "      male: M\n", encoding="utf-8")
    units = pd.DataFrame({"unit_id": list(parents), "parent_id": list(parents.values()),
                          "name": list(parents)})
    units.to_csv(folder / "units.csv", index=False)
    head = responses.groupby("unit_id").size().rename("invited").reset_index()
    head["invited"] += 2
    head.insert(0, "wave", "2021")
    head.to_csv(folder / "headcount.csv", index=False)
    out = responses.copy()
    out.insert(0, "wave", "2021")
    out.insert(0, "respondent_id", [f"r{i}" for i in range(len(out))])
    out.to_csv(folder / "responses.csv", index=False)
    return folder


def persons(folder: Path) -> dict[str, pd.DataFrame]:
    raw = pd.read_csv(folder / "responses.csv", dtype={"gender": str}, keep_default_na=False,
                      na_values=[""])
    raw["gender"] = raw["gender"].fillna("")
    return {"2021": persons_of(raw, FACTORS)}


def answers(rng, n: int, skip: float) -> dict[str, np.ndarray]:
    out = {}
    for item in ITEMS:
        values = rng.integers(1, 6, n).astype(float)
        values[rng.random(n) < skip] = np.nan
        values[rng.random(n) < skip / 3] = 6           # "don't know"
        out[item] = values
    return out


def responses_for(own: dict[str, int], seed: int, skip: float = 0.1,
                  blank_gender: float = 0.1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    units = [u for u, k in own.items() for _ in range(k)]
    frame = pd.DataFrame({"unit_id": units})
    frame["gender"] = rng.choice(["female", "male", ""], size=len(frame),
                                 p=[0.5, 0.5 - blank_gender, blank_gender])
    for item, values in answers(rng, len(frame), skip).items():
        frame[item] = pd.array(np.where(np.isnan(values), pd.NA, values), dtype="Int64")
    had = rng.choice([1.0, 2.0, np.nan], size=len(frame), p=[0.6, 0.35, 0.05])
    frame["had"] = pd.array(np.where(np.isnan(had), pd.NA, had), dtype="Int64")
    useful = np.where(had == 1, rng.integers(1, 6, len(frame)), np.nan)
    frame["useful"] = pd.array(np.where(np.isnan(useful), pd.NA, useful), dtype="Int64")
    return frame


def release_of(folder: Path):
    return build_release(load_survey(folder))


def assert_safe(release, who) -> None:
    assert release.manifest["audit"]["ok"], release.manifest["audit"]
    assert audit(release.tables, release.policy).empty
    assert attack(release, who) == []


# --------------------------------------------------------------------------------------------
# Hand-built adversarial datasets


def test_a_parent_with_own_members_whose_children_skip_items_differently(tmp_path):
    # P has 2 own members; A's persons skip A3, B's skip A1: per item, P minus A minus B
    # would leave the 2 own members (and per-item counts differ from the factor's)
    parents = {"R": "", "P": "R", "A": "P", "B": "P", "C": "R"}
    frame = responses_for({"P": 2, "A": 7, "B": 8, "C": 30}, seed=1, skip=0.0)
    frame.loc[frame["unit_id"] == "A", "A3"] = pd.NA
    frame.loc[frame["unit_id"] == "B", "A1"] = pd.NA
    frame.loc[frame["unit_id"] == "P", "A2"] = 6
    folder = write_dataset(tmp_path / "d", parents, frame)
    release = release_of(folder)
    who = persons(folder)
    assert_safe(release, who)
    for key in ("F1", "A1", "A2", "A3", "F2"):
        assert exact_leak(release, who["2021"], "2021", key, ["gender"]) is None
    factors = release.tables["factors"].set_index(["unit_id", "key"])
    # P itself stays published: a child is hidden for its own members' sake
    assert not factors.loc[("P", "F1"), "suppressed"]


def test_a_group_of_two_with_a_blank_background_value(tmp_path):
    parents = {"R": "", "A": "R", "B": "R"}
    frame = responses_for({"R": 0, "A": 20, "B": 21}, seed=2, blank_gender=0.0)
    frame.loc[[0, 25], "gender"] = ""                        # two persons without gender
    folder = write_dataset(tmp_path / "d", parents, frame)
    release = release_of(folder)
    who = persons(folder)
    assert_safe(release, who)
    for key in ("F1", "F2", "A1", "B2"):
        assert exact_leak(release, who["2021"], "2021", key, ["gender"]) is None
    groups = release.tables["groups"]
    shown = groups.loc[~groups["suppressed"] & (groups["key"] == "F1")]
    assert len(shown) == 1          # one gender group shown, the other hidden with the blanks


def test_a_unit_of_one_gender_is_no_way_into_a_gender_group(tmp_path):
    # an outside attacker's finding: P2 (D and E) is all men, P1 has 12 women and one man.
    # Whoever knows that (a colleague) subtracts P2 from the top unit's men and is left with
    # the one man of P1; P1 minus the women gives him too
    parents = {"R": "", "P1": "R", "A": "P1", "B": "P1", "P2": "R", "D": "P2", "E": "P2"}
    frame = responses_for({"R": 0, "A": 7, "B": 6, "D": 8, "E": 10}, seed=4, skip=0.0,
                          blank_gender=0.0)
    frame["gender"] = "female"
    frame.loc[frame["unit_id"].isin(["D", "E"]), "gender"] = "male"
    frame.loc[frame.index[frame["unit_id"] == "A"][0], "gender"] = "male"
    folder = write_dataset(tmp_path / "d", parents, frame)
    release = release_of(folder)
    who = persons(folder)
    assert_safe(release, who)
    for key in ("F1", "A1", "F2"):
        assert exact_leak(release, who["2021"], "2021", key, ["gender"],
                          known_support=True) is None, key
    groups = release.tables["groups"]
    assert groups.loc[groups["unit_id"] == "R", "suppressed"].all()
    factors = release.tables["factors"]
    assert not factors["suppressed"].any()          # the units themselves all stay
    # the attacker that knows who is where is not blind: with the groups shown, it finds him
    tables = dict(release.tables)
    shown = groups.copy()
    shown["suppressed"] = False
    for (unit, group, key), part in shown.groupby(["unit_id", "group", "key"]):
        mine = who["2021"].loc[(who["2021"]["gender"] == group) &
                               who["2021"][f"pop:{key}"].notna()]
        shown.loc[part.index, ["n", "mean"]] = [len(mine), mine[f"val:{key}"].mean()]
    tables["groups"] = shown
    leaky = type(release)(tables=tables, manifest=release.manifest,
                          instrument=release.instrument, config=release.config)
    persons_found, cells = exact_leak(leaky, who["2021"], "2021", "F1", ["gender"],
                                      known_support=True)
    assert persons_found == 1 and cells == [("A", ("male",))]


def test_min_n_three(tmp_path):
    parents = {"R": "", "A": "R", "B": "R", "C": "A", "D": "A"}
    frame = responses_for({"R": 1, "A": 1, "B": 4, "C": 3, "D": 3}, seed=3, skip=0.15)
    folder = write_dataset(tmp_path / "d", parents, frame, min_n=3)
    release = release_of(folder)
    who = persons(folder)
    assert_safe(release, who)
    for key in ("F1", "F2", "A2", "B1"):
        assert exact_leak(release, who["2021"], "2021", key, ["gender"]) is None
    assert not release.tables["factors"]["suppressed"].all()


def test_the_attacker_finds_the_leaks_of_tables_protected_one_by_one(tmp_path):
    # the first version's failure: the factor and item tables decided apart; items counted
    # every answer, factors only scored persons. The attacker must see both.
    parents = {"R": "", "P": "R", "A": "P", "B": "P", "C": "R"}
    frame = responses_for({"P": 2, "A": 7, "B": 8, "C": 30}, seed=1, skip=0.0)
    folder = write_dataset(tmp_path / "d", parents, frame)
    release = release_of(folder)
    tables = dict(release.tables)
    items = tables["items"].copy()
    hidden = items["suppressed"] & (items["unit_id"] == "A") & (items["reason"] == "complement")
    assert hidden.any()
    # publish A's items while A's factor stays hidden: a subtraction and a cross-table leak
    factors = tables["factors"].set_index(["unit_id", "key"])
    naive = items.copy()
    naive.loc[hidden, "suppressed"] = False
    naive.loc[hidden, "n"] = 7.0
    naive.loc[hidden, "mean"] = 3.0
    tables["items"] = naive
    leaky = type(release)(tables=tables, manifest=release.manifest,
                          instrument=release.instrument, config=release.config)
    found = attack(leaky)
    kinds = {leak[3] for leak in found}
    assert "item shown, distribution hidden" in kinds and "subtraction" in kinds
    assert set(audit(tables, release.policy)["check"]) >= {"atom", "block"}
    assert factors.loc[("A", "F1"), "suppressed"]


def test_the_attacker_finds_an_icc_over_hidden_units_and_scores_beside_a_hidden_distribution(
        tmp_path):
    # an outside attacker's two findings: P's 2 own members and the hidden child A, told
    # apart by an ICC over every unit; a skipper's score read off a small cell's histogram
    from workbench.reliability import reliability

    parents = {"R": "", "P": "R", "A": "P", "B": "P", "C": "R"}
    frame = responses_for({"P": 2, "A": 7, "B": 8, "C": 30}, seed=1, skip=0.0)
    b = frame.index[frame["unit_id"] == "B"]
    frame.loc[b[0], "A2"] = pd.NA             # one person of B skipped an item
    folder = write_dataset(tmp_path / "d", parents, frame)
    release = release_of(folder)
    assert_safe(release, persons(folder))
    factors = release.tables["factors"].set_index(["unit_id", "key"])
    assert factors.loc[("A", "F1"), "suppressed"] and factors.loc[("B", "F1"), "dist_suppressed"]
    scores = release.tables["scores"]
    assert scores.loc[(scores["unit_id"] == "B") & (scores["key"] == "F1"), "share"].isna().all()

    tables = dict(release.tables)
    tables["reliability"] = reliability(load_survey(folder))    # by own units
    naive = tables["scores"].copy()
    cell = (naive["unit_id"] == "B") & (naive["key"] == "F1")
    naive.loc[cell, "suppressed"] = False
    naive.loc[cell, "share"] = 100.0 / cell.sum()
    tables["scores"] = naive
    leaky = type(release)(tables=tables, manifest=release.manifest,
                          instrument=release.instrument, config=release.config)
    kinds = {leak[3] for leak in attack(leaky)}
    assert {"ICC beyond the published cells",
            "score histogram beside a hidden distribution"} <= kinds
    assert {"icc", "derived"} <= set(audit(tables, release.policy)["check"])


def test_alpha_counts_the_scored_persons_only(tmp_path):
    # an outside attacker's finding: where every scored person answered all of F1's items, the
    # top unit's item means and sds and the factor's sd give every term of alpha; an alpha
    # over everyone who answered an item then told what a person who was not scored answered
    parents = {"R": "", "A": "R", "B": "R"}
    frame = responses_for({"R": 0, "A": 6, "B": 30}, seed=3, skip=0.0)
    a = frame.index[frame["unit_id"] == "A"]
    frame.loc[a[0], ["A2", "A3"]] = pd.NA      # answered A1 only: not scored on F1
    folder = write_dataset(tmp_path / "d", parents, frame)
    release = release_of(folder)
    assert_safe(release, persons(folder))
    table = release.tables["reliability"].set_index("factor")
    factors = release.tables["factors"].set_index(["unit_id", "key"])
    assert table.loc["F1", "n"] == factors.loc[("R", "F1"), "n"] == 35
    # Cronbach's alpha of the 35 scored persons by hand: k/(k-1) (1 - sum of item variances /
    # variance of the sum)
    items = frame.drop(index=a[0])[["A1", "A2", "A3"]].astype(float)
    k = 3
    by_hand = k / (k - 1) * (1 - items.var().sum() / items.sum(axis=1).var())
    assert table.loc["F1", "alpha"] == pytest.approx(by_hand, abs=1e-12)
    # an alpha over one person more is what the attacker and the audit look for
    tables = dict(release.tables)
    naive = tables["reliability"].copy()
    naive.loc[naive["factor"] == "F1", "n"] += 1
    tables["reliability"] = naive
    leaky = type(release)(tables=tables, manifest=release.manifest,
                          instrument=release.instrument, config=release.config)
    assert "alpha over other persons than the factor's" in {leak[3] for leak in attack(leaky)}
    assert "alpha" in set(audit(tables, release.policy)["check"])


def test_a_small_cells_mean_and_sd_tell_its_scores_not_whose_they_are(tmp_path):
    # A: four persons answer 5, 5, 5; one answers 4 and 5 and skips A3 (score 9/2). Sum 49/2
    # and sum of squares 481/4 leave one multiset of scores: {9/2, 5, 5, 5, 5}. Exact n, mean
    # and sd of a cell where nearly everyone answered alike always tell its scores (a mean of
    # 5.0 tells that everyone scored 5); the rules accept that group disclosure (README,
    # "what is left and accepted"). What they must not publish is whose score is which: here,
    # that one person skipped A3 (A's item answers and distributions are hidden).
    parents = {"R": "", "A": "R", "B": "R"}
    frame = responses_for({"R": 0, "A": 5, "B": 30}, seed=7, skip=0.0)
    a = frame.index[frame["unit_id"] == "A"]
    frame.loc[a, ["A1", "A2", "A3"]] = 5
    frame.loc[a[0], ["A1", "A3"]] = [4, pd.NA]
    folder = write_dataset(tmp_path / "d", parents, frame)
    release = release_of(folder)
    assert_safe(release, persons(folder))   # every attack of attack() finds nothing
    assert pinned_skippers(release, "2021") == [
        ("2021", "factors", "F1", "skipper's score pinned", "A", [4.5])]
    items = release.tables["items"].set_index(["unit_id", "key"])
    for item in ("A1", "A2", "A3"):
        assert items.loc[("A", item), "suppressed"]
        assert pd.isna(items.loc[("A", item), "mean"])
        assert pd.isna(items.loc[("A", item), "n"]) or items.loc[("A", item), "n"] >= 5
    factors = release.tables["factors"].set_index(["unit_id", "key"])
    assert factors.loc[("A", "F1"), "dist_suppressed"]
    # nor does the reliability table say that one person skipped an item (a second attacker)
    table = release.tables["reliability"].set_index("factor")
    assert pd.isna(table.loc["F1", "n_complete"]) and pd.isna(table.loc["F1", "alpha_listwise"])
    assert table.loc["F2", "n_complete"] == table.loc["F2", "n"]


def test_one_person_who_skipped_an_item_is_protected(tmp_path, monkeypatch):
    # group A: 8 persons, exactly one of whom skipped A2 (still scored on F1: 2 of 3 items)
    parents = {"R": "", "A": "R", "B": "R"}
    frame = responses_for({"R": 0, "A": 8, "B": 30}, seed=5, skip=0.0)
    a = frame.index[frame["unit_id"] == "A"]
    frame.loc[a[0], "A2"] = pd.NA
    folder = write_dataset(tmp_path / "d", parents, frame)
    release = release_of(folder)
    who = persons(folder)
    assert_safe(release, who)
    factors = release.tables["factors"].set_index(["unit_id", "key"])
    # A keeps its mean; its distribution and items are hidden (they would single her out)
    assert not factors.loc[("A", "F1"), "suppressed"]
    assert factors.loc[("A", "F1"), "dist_suppressed"]
    assert np.isnan(factors.loc[("A", "F1"), "pct_3"])
    items = release.tables["items"].set_index(["unit_id", "key"])
    assert items.loc[("A", "A1"), "suppressed"] and np.isnan(items.loc[("A", "A1"), "mean"])
    # without that protection the attacker recovers her score from the mean and the items
    import workbench.release as module

    plain = module._blocks

    def unprotected(*args):
        out = []
        for b in plain(*args):
            if b.checked:
                keep = [i for i, k in enumerate(b.keys) if k not in b.checked]
                b = Block(b.name, tuple(b.keys[i] for i in keep), b.n[:, keep],
                          {v: GroupCounts(g.values, g.n[:, :, keep]) for v, g in
                           b.groups.items()}, b.requires, b.kind)
            out.append(b)
        return out

    monkeypatch.setattr(module, "_blocks", unprotected)
    leaky = release_of(folder)
    found = [leak for leak in attack(leaky, who) if leak[3] == "mean of means"]
    assert ("2021", "factors+items", "F1", "mean of means", "A") in {f[:5] for f in found}
    assert not leaky.manifest["audit"]["ok"]
    assert "skippers" in set(audit(leaky.tables, leaky.policy)["check"])


# --------------------------------------------------------------------------------------------
# The samples


@pytest.fixture(scope="module")
def sample_releases():
    out = {}
    for name in ("university", "municipality"):
        survey = load_survey(SAMPLES / name)
        release = build_release(survey)
        raw = survey.responses
        factors = {f.id: [(i.id, i.reverse) for i in f.items] for f in survey.instrument.factors}
        who = {w: persons_of(raw.loc[raw["wave"] == w].reset_index(drop=True), factors,
                             missing=survey.instrument.scale.missing_codes,
                             min_answered=survey.instrument.min_answered)
               for w in survey.waves}
        out[name] = (release, who)
    return out


@pytest.mark.parametrize("name", ["university", "municipality"])
def test_the_samples_are_safe_against_the_attacker(sample_releases, name):
    release, who = sample_releases[name]
    assert_safe(release, who)


def test_utility_on_the_university_sample(sample_releases):
    release, _ = sample_releases["university"]
    utility = release.manifest["utility"]
    # the first version published 85.0 % and hid 52 unit-waves of 20+ answers wholly
    assert utility["large_units_wholly_hidden"] == 0
    assert utility["factor_cells_published_share"] >= 0.85
    # the geoscience department (51 answers in 2021) is shown for most factors
    factors = release.tables["factors"]
    geo = factors.loc[(factors["unit_id"] == "NV-GEO") & (factors["wave"] == "2021")]
    assert (~geo["suppressed"]).sum() >= 12


def test_the_audit_names_what_a_naive_protection_leaks(sample_releases):
    release, who = sample_releases["university"]
    tables = dict(release.tables)
    # publish every cell with n >= min_n (primary suppression alone)
    raw = who["2021"]
    t = attacker_trees(release)["2021"]
    naive_rows = []
    for unit in t.ids:
        inside = raw["unit_id"].isin(t.subtree(unit))
        values = raw.loc[inside & raw["pop:AUT"].notna(), "val:AUT"]
        naive_rows.append({"wave": "2021", "unit_id": unit, "key": "AUT",
                           "n": float(len(values)), "mean": values.mean(),
                           "suppressed": len(values) < 5})
    naive = pd.DataFrame(naive_rows)
    naive.loc[naive["suppressed"], ["n", "mean"]] = np.nan     # hidden rows show nothing
    found = audit({"units": tables["units"], "factors": naive}, release.policy)
    assert list(found.columns) == list(AUDIT_COLUMNS)
    assert set(found["check"]) == {"atom"}
    nodes = {r.unit_id: r.n for r in naive.itertuples() if not r.suppressed and r.n > 0}
    leaks = subtraction_leaks(t, nodes, 5)
    assert leaks and {top for top, _, _ in leaks} >= set(found["unit_id"])


def test_release_folder_round_trip_and_the_audit_command(tmp_path, sample_releases):
    from workbench.cli import main
    from workbench.release import read_release, write_release

    release, who = sample_releases["municipality"]
    folder = write_release(release, tmp_path / "rel")
    again = read_release(folder)
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["audit"]["ok"] and manifest["policy"]["min_n"] == 5
    assert set(manifest["checksums"]) >= {"responses.csv", "units.csv", "survey.yaml"}
    pd.testing.assert_frame_equal(again.tables["factors"], release.tables["factors"])
    assert attack(again, who) == []
    assert main(["audit", str(folder)]) == 0
    # a tampered release: one hidden cell shows its mean
    factors = again.tables["factors"].copy()
    i = factors.index[factors["suppressed"] & (factors["reason"] == "complement")][0]
    factors.loc[i, ["mean", "n"]] = [4.0, 9.0]
    factors.to_parquet(folder / "factors.parquet", index=False)
    assert main(["audit", str(folder)]) == 1


# --------------------------------------------------------------------------------------------
# Random trees with random skip patterns


@st.composite
def organisations(draw, max_size: int = 12):
    size = draw(st.integers(3, max_size))
    parents = {"u0": ""}
    for i in range(1, size):
        parents[f"u{i}"] = f"u{draw(st.integers(max(0, i - 4), i - 1))}"
    own = {u: draw(st.sampled_from([0, 1, 2, 3, 4, 5, 6, 8, 12])) for u in parents}
    if sum(own.values()) < 6:
        own["u0"] += 6
    skip = draw(st.sampled_from([0.0, 0.1, 0.3]))
    blank = draw(st.sampled_from([0.0, 0.1]))
    min_n = draw(st.sampled_from([3, 5]))
    levels = draw(st.sampled_from([(0,), (0, 1), (1,)]))
    seed = draw(st.integers(0, 2**32 - 1))
    return parents, own, skip, blank, min_n, levels, seed


RANDOM = settings(max_examples=30, deadline=None, derandomize=True,
                  suppress_health_check=[HealthCheck.too_slow,
                                         HealthCheck.function_scoped_fixture])


@RANDOM
@given(organisations())
def test_random_trees_with_random_skips_are_safe(tmp_path_factory, org):
    parents, own, skip, blank, min_n, levels, seed = org
    folder = tmp_path_factory.mktemp("random")
    frame = responses_for(own, seed, skip=skip, blank_gender=blank)
    write_dataset(folder, parents, frame, min_n=min_n, levels=levels)
    release = release_of(folder)
    who = persons(folder)
    assert_safe(release, who)
    for key in ("F1", "A1", "A3", "F2", "B2"):
        assert exact_leak(release, who["2021"], "2021", key, ["gender"]) is None, key
        # and for a reader who knows who is where (which units are all men)
        assert exact_leak(release, who["2021"], "2021", key, ["gender"],
                          known_support=True) is None, key


@settings(max_examples=40, deadline=None, derandomize=True)
@given(organisations(max_size=14))
def test_the_subtraction_search_agrees_with_plain_enumeration(org):
    parents, own, *_ = org
    t = attacker_trees_of(parents)
    counts = {u: float(sum(own[v] for v in t.subtree(u))) for u in parents}
    nodes = {u: n for u, n in counts.items() if n >= 1}
    found: dict[str, set] = {}
    for top, _, left in subtraction_leaks(t, nodes, 5):
        found.setdefault(top, set()).add(left)
    for top, counts_left in brute_force_leaks(t, nodes, 5).items():
        assert found.get(top, set()) == counts_left


def attacker_trees_of(parents: dict[str, str]):
    from attacker import Tree

    return Tree(pd.DataFrame({"unit_id": list(parents), "parent_id": list(parents.values())}))


def test_open_release_reuses_a_fresh_release_and_rebuilds_a_stale_one(tmp_path):
    parents = {"R": "", "A": "R", "B": "R"}
    folder = write_dataset(tmp_path / "d", parents, responses_for({"A": 8, "B": 9}, seed=4))
    first = open_release(folder)
    assert first.path == folder / ".workbench" / "release"
    stamp = (first.path / "manifest.json").stat().st_mtime_ns
    assert open_release(folder).manifest["created"] == first.manifest["created"]
    assert (first.path / "manifest.json").stat().st_mtime_ns == stamp
    frame = responses_for({"A": 8, "B": 10}, seed=4)
    write_dataset(folder, parents, frame)
    again = open_release(folder)
    assert again.tables["factors"].loc[lambda f: f["unit_id"] == "B", "n"].max() >= 9
    assert again.manifest["checksums"] != first.manifest["checksums"]


def test_the_manifest_tests_no_guess_of_an_answer(tmp_path):
    # a plain hash of responses.csv lets a reader who knows every other byte try each
    # answer of one person against the manifest; a keyed one needs the dataset's own key
    import hashlib
    import hmac

    folder = write_dataset(tmp_path / "d", {"R": "", "A": "R", "B": "R"},
                           responses_for({"A": 8, "B": 9}, seed=4))
    manifest = open_release(folder).manifest
    data = (folder / "responses.csv").read_bytes()
    assert manifest["checksums"]["responses.csv"] != hashlib.sha256(data).hexdigest()
    key_file = folder / ".workbench" / "checksum-key"
    assert key_file.stat().st_mode & 0o077 == 0
    key = bytes.fromhex(key_file.read_text().strip())
    assert manifest["checksums"]["responses.csv"] == hmac.new(key, data, "sha256").hexdigest()
    assert manifest["dataset"] == "d" and str(tmp_path) not in json.dumps(manifest)
    # how long the protection took depends on the hidden data (helper-14: 30 s against 2 s
    # for a group of 2): it is never published
    assert "seconds" not in manifest


def test_groups_show_their_factor_means_only(university_release):
    # an outside attacker's linear programme: a group's item rows and answer counts, with
    # who works where, bound a small hidden cell's counts until single answers are pinned
    groups = university_release.tables["groups"]
    shown = groups.loc[~groups["suppressed"]]
    assert len(shown) and set(shown["level"]) == {"factor"}
    assert shown.filter(like="pct_").isna().all().all()
    assert shown["mean"].notna().all()
    items = groups.loc[groups["level"] == "item"]
    assert items["suppressed"].all() and "group_detail" in set(items["reason"])
    leaky = dict(university_release.tables)
    more = groups.copy()
    more.loc[items.index[:1], "suppressed"] = False
    leaky["groups"] = more
    assert "group_detail" in set(audit(leaky, university_release.policy)["check"])


def test_published_numbers_are_the_same_to_the_last_bit_however_a_hidden_block_is_split(
        tmp_path):
    # outside attackers (helper-14, helper-15) split a hidden block of 5 (P's own members and
    # P2) every way and compared the releases: summed in floating point unit by unit, a
    # parent's mean ended in other bits for each split (which narrowed P2's sum to a few
    # values); where P2 held more answers than invited, the parents' N became unknown (a
    # count on P2); where none of P2 was scored, its cells said "no answers"
    parents = {"R": "", "A": "R", "B": "R", "P": "R", "P1": "P", "P2": "P"}
    frame = responses_for({"A": 20, "B": 7, "P": 2, "P1": 6, "P2": 3}, seed=14, skip=0.15)
    block = frame.index[frame["unit_id"].isin(["P", "P2"])]
    # P2's persons skip every item of F2 in one split: nobody there has an F2 score
    frame.loc[block[:2], ["B1", "B2"]] = pd.NA
    seen = set()
    splits = [c for size in (1, 2, 3, 4) for c in list(itertools.combinations(block, size))[:3]]
    splits.append(tuple(block[:2]))
    for k, chosen in enumerate(splits):
        split = frame.copy()
        split.loc[block, "unit_id"] = "P"
        split.loc[list(chosen), "unit_id"] = "P2"
        folder = write_dataset(tmp_path / f"d{k}", parents, split)
        head = pd.read_csv(folder / "headcount.csv")
        invited = {"A": 22, "B": 9, "P": 3, "P1": 8, "P2": 2}  # not the split's: the dataset's
        head["invited"] = head["unit_id"].map(invited)
        head.to_csv(folder / "headcount.csv", index=False)
        tables = release_of(folder).tables
        assert tables["factors"].set_index("unit_id").loc["P2", "suppressed"].all()
        # beside "too few answers", P2's headcount of 2 would narrow its count (helper-17)
        for name in ("rates", "factors", "items"):
            assert tables[name].loc[tables[name]["suppressed"], "invited"].isna().all()
        seen.add(tuple(pd.util.hash_pandas_object(tables[name], index=False).sum()
                       for name in sorted(tables) if len(tables[name])))
    assert len(seen) == 1
