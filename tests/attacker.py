"""An attacker that reads a release and nothing else, written apart from workbench.privacy.

It knows the org tree (the release's ``units`` table) and every published row of every table
at once, and tries what DESIGN.md forbids:

* **Subtraction within a table**: a published unit minus any set of pairwise disjoint
  published units inside it (a small dynamic programme over the tree enumerates every such
  set, keeping only what is left below ``min_n``; :func:`brute_force_leaks` cross-checks it
  by plain enumeration), for every key of the factor, item, extra-question and response
  tables.
* **Groups**: a published total minus any subset of its published groups; the same group of
  nested units; the rest of a total (other and empty values) at nested units.
* **Across tables**: a factor's distribution against its items' (the factor counts every
  answer of its scored persons, so factor minus items isolates whoever an item table counts
  and the factor does not, or the reverse); items shown beside a hidden factor; comparisons,
  score distributions and usefulness shares of cells that are hidden; numbers on hidden rows.
* **Mean of means** (:func:`_mean_of_means`): a person's factor score is the mean of the items
  they answered, so in a set where the factor's sum and all its items' sums are known,
  factor sum - (item sums)/k is the weighted total of the persons who skipped items; where
  the items' n say that exactly one person skipped exactly one item, that person's score
  follows.
* **Score lists** (:func:`_score_lists`): a small cell's histogram of scores beside its n,
  mean and sd gives its scores one by one, a skipper's on another grid: it must not stand
  where the answers' distribution is hidden.
* **ICC** (:func:`_icc_beyond_cells`): the organisation's ICC(1)/ICC(2) must follow from the
  published cells; computed over hidden units, it splits a hidden group's sum between them.
* **Alpha** (:func:`_alpha_population`): the organisation's Cronbach's alpha must count the
  persons the factor's table counts; from more (everyone who answered an item), the published
  item means and sds let an attacker solve for what the unscored persons answered.
* **Exactly** (:func:`exact_leak`, for small datasets): every published sum and count of one
  key, from the factor, item and group tables together, as linear equations over the cells
  (own unit x background values); a linear programme finds the cells the counts force empty,
  an integer programme the smallest set of persons whose sum follows.

With the persons behind a release (:func:`persons_of`, which scores them by DESIGN.md's rules
without workbench code), every leak is checked: what the attacker computes for the persons it
isolates is their true sum.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict

import numpy as np
import pandas as pd

# --------------------------------------------------------------------------------------------
# The tree, from the release's units table


class Tree:
    def __init__(self, units: pd.DataFrame):
        self.ids = list(units["unit_id"].astype(str))
        self.parent = dict(zip(units["unit_id"].astype(str), units["parent_id"].astype(str)))
        self.children = defaultdict(list)
        for u, p in self.parent.items():
            if p:
                self.children[p].append(u)
        self.root = next(u for u, p in self.parent.items() if not p)

    def ancestors(self, unit: str) -> list[str]:
        out, p = [], self.parent[unit]
        while p:
            out.append(p)
            p = self.parent[p]
        return out

    def subtree(self, unit: str) -> list[str]:
        out, stack = [], [unit]
        while stack:
            u = stack.pop()
            out.append(u)
            stack.extend(self.children[u])
        return out

    def depth(self, unit: str) -> int:
        return len(self.ancestors(unit))


def trees(release) -> dict[str, Tree]:
    units = release.tables["units"]
    return {str(w): Tree(part) for w, part in units.groupby(units["wave"].astype(str))}


# --------------------------------------------------------------------------------------------
# Subtraction in a laminar family


def _nearest_node_above(t: Tree, nodes) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    stack: list[tuple[str, str | None]] = [(t.root, None)]
    while stack:
        unit, above = stack.pop()
        if unit in nodes:
            out[unit] = above
            above = unit
        stack.extend((child, above) for child in t.children[unit])
    return out


def subtraction_leaks(t: Tree, nodes: dict[str, float], min_n: int):
    """Every node P minus any set of pairwise disjoint nodes inside it, leaving 1..min_n-1.

    Returns (P, subtracted units, persons left), one witness per count left.
    """
    above = _nearest_node_above(t, nodes)
    below = defaultdict(list)
    for unit, parent in above.items():
        if parent is not None:
            below[parent].append(unit)
    depth = {u: t.depth(u) for u in nodes}
    left_over: dict[str, dict[float, tuple]] = {}
    leaks = []
    for unit in sorted(nodes, key=lambda u: -depth[u]):
        base = nodes[unit] - sum(nodes[c] for c in below[unit])
        ways = {base: ()} if base < min_n else {}
        for child in below[unit]:
            grown: dict[float, tuple] = {}
            for left, taken in ways.items():
                grown.setdefault(left, taken + (child,))
                for more, inner in left_over[child].items():
                    if left + more < min_n:
                        grown.setdefault(left + more, taken + inner)
            ways = grown
        left_over[unit] = ways
        leaks += [(unit, taken, left) for left, taken in ways.items() if left > 0]
    return leaks


def brute_force_leaks(t: Tree, nodes: dict[str, float], min_n: int, limit: int = 12):
    """Plain subset enumeration for the nodes with at most ``limit`` nodes inside."""
    found = {}
    for top in nodes:
        inside = [u for u in nodes if top in t.ancestors(u)]
        if len(inside) > limit:
            continue
        counts = set()
        for size in range(len(inside) + 1):
            for chosen in itertools.combinations(inside, size):
                if any(a in t.ancestors(b) or b in t.ancestors(a)
                       for a, b in itertools.combinations(chosen, 2)):
                    continue
                left = nodes[top] - sum(nodes[u] for u in chosen)
                if 0 < left < min_n:
                    counts.add(left)
        found[top] = counts
    return found


# --------------------------------------------------------------------------------------------
# What the release publishes


def _shown(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.loc[~frame["suppressed"].astype(bool)]


def _of(frame: pd.DataFrame, wave: str) -> pd.DataFrame:
    if frame is None or frame.empty:
        return pd.DataFrame()
    return frame.loc[frame["wave"].astype(str) == wave]


def _sum_of(row) -> float:
    return float(row["n"]) * float(row["mean"])


def attack(release, persons: dict[str, pd.DataFrame] | None = None) -> list[tuple]:
    """Every leak found in a release; with ``persons`` (per wave, from :func:`persons_of`)
    each subtraction leak is checked against the true values."""
    min_n = release.policy.min_n
    leaks: list[tuple] = []
    for wave, t in trees(release).items():
        who = None if persons is None else persons[wave]
        leaks += _unit_tables(release, t, wave, min_n, who)
        leaks += _group_tables(release, t, wave, min_n, who)
        leaks += _across_tables(release, wave)
        leaks += _mean_of_means(release, t, wave, who)
        leaks += _hidden_numbers(release, wave)
        leaks += _derived(release, t, wave, min_n)
        leaks += _score_lists(release, wave)
        leaks += _icc_beyond_cells(release, t, wave)
        leaks += _alpha_population(release, t, wave)
    return leaks


def _verify(t: Tree, who: pd.DataFrame | None, population: str, value: str, top: str,
            taken, left: float, table: pd.DataFrame, keep=None) -> None:
    """The attacker's sum for the persons it isolates is their true sum."""
    if who is None or value is None:
        return
    rows = table.set_index("unit_id")
    got = _sum_of(rows.loc[top]) - sum(_sum_of(rows.loc[u]) for u in taken)
    inside = who["unit_id"].isin(t.subtree(top))
    for u in taken:
        inside &= ~who["unit_id"].isin(t.subtree(u))
    inside &= who[population].notna()
    if keep is not None:
        inside &= keep
    true = who.loc[inside, value]
    assert len(true) == left, (top, taken, left, len(true))
    assert math.isclose(got, float(true.sum()), abs_tol=1e-6), (top, taken, got, true.sum())


def _unit_tables(release, t: Tree, wave: str, min_n: int, who) -> list[tuple]:
    leaks = []
    tables = [("factors", _of(release.tables["factors"], wave)),
              ("items", _of(release.tables["items"], wave))]
    extras = _of(release.tables["extras"], wave)
    if len(extras):
        tables.append(("extras", extras.drop_duplicates(["unit_id", "key"])))
    rates = _of(release.tables["rates"], wave)
    rates = rates.loc[rates["by"].fillna("") == ""]
    tables.append(("rates", rates.assign(key="answers", n=rates["answers"], mean=1.0)))
    for name, frame in tables:
        if frame.empty:
            continue
        shown = _shown(frame)
        shown = shown.loc[shown["n"] > 0]
        for key, part in shown.groupby("key"):
            nodes = dict(zip(part["unit_id"], part["n"].astype(float)))
            for top, taken, left in subtraction_leaks(t, nodes, min_n):
                leaks.append((wave, name, key, "subtraction", top, taken, left))
                if name in ("factors", "items"):
                    _verify(t, who, f"pop:{key}", f"val:{key}", top, taken, left, part)
    return leaks


def _group_tables(release, t: Tree, wave: str, min_n: int, who) -> list[tuple]:
    leaks = []
    groups = _of(release.tables["groups"], wave)
    rates = _of(release.tables["rates"], wave)
    sources = []
    if len(groups):
        for level, name in (("factor", "factors"), ("item", "items")):
            part = groups.loc[groups["level"] == level]
            sources.append((name, part, _shown(_of(release.tables[name], wave))))
    if len(rates):
        grouped = rates.loc[rates["by"].fillna("") != ""]
        plain = rates.loc[rates["by"].fillna("") == ""]
        sources.append(("rates", grouped.assign(key="answers", n=grouped["answers"], mean=1.0),
                        _shown(plain.assign(key="answers", n=plain["answers"], mean=1.0))))
    for name, frame, totals in sources:
        if frame.empty:
            continue
        total = {(u, k): (n, m) for u, k, n, m in
                 totals[["unit_id", "key", "n", "mean"]].itertuples(index=False)}
        for (by, key), part in frame.groupby(["by", "key"]):
            cells = {(r.unit_id, r.group): r for r in part.itertuples(index=False)}
            shown = defaultdict(list)
            for r in cells.values():
                if not r.suppressed and r.n > 0:
                    shown[r.unit_id].append(r)
            for unit, mine in shown.items():
                if (unit, key) not in total:
                    leaks.append((wave, name, key, "groups under a hidden total", unit))
                    continue
                whole = total[unit, key][0]
                for size in range(1, len(mine) + 1):
                    for chosen in itertools.combinations(mine, size):
                        left = whole - sum(c.n for c in chosen)
                        if 0 < left < min_n:
                            leaks.append((wave, name, key, "group rest", unit,
                                          [c.group for c in chosen], left))
            for value in {r.group for mine in shown.values() for r in mine}:
                nodes = {u: r.n for (u, g), r in cells.items()
                         if g == value and r.n > 0 and not r.suppressed}
                for top, taken, left in subtraction_leaks(t, nodes, min_n):
                    leaks.append((wave, name, key, "nested group", top, value, taken, left))
            names = sorted(set(part["group"]))
            for size in range(1, len(names) + 1):
                for chosen in itertools.combinations(names, size):
                    rest = {}
                    for unit in {u for u, _ in cells}:
                        known = [cells.get((unit, g)) for g in chosen]
                        if (unit, key) in total and all(
                                c is not None and not c.suppressed for c in known):
                            rest[unit] = total[unit, key][0] - sum(c.n for c in known)
                    if len(rest) < 2:
                        continue
                    for top, taken, left in subtraction_leaks(t, rest, min_n):
                        leaks.append((wave, name, key, "nested rest", top, chosen, taken, left))
    return leaks


def _across_tables(release, wave: str) -> list[tuple]:
    """A factor's answers against its items' answers, cell by cell."""
    leaks = []
    factors = _of(release.tables["factors"], wave)
    items = _of(release.tables["items"], wave)
    if factors.empty or items.empty:
        return leaks
    points = [c for c in factors.columns if c.startswith("pct_")]
    # the factor counts reverse items flipped (the instrument is public, in the release)
    reverse = {i.id for i in release.instrument.items if i.reverse}
    f = factors.set_index(["unit_id", "key"])
    for (unit, factor), part in items.groupby(["unit_id", "factor"]):
        row = f.loc[(unit, factor)]
        shown = ~part["suppressed"].astype(bool) & (part["n"].fillna(0) > 0)
        if pd.isna(row[points[0]]):   # the factor's distribution is not published
            if shown.any():
                leaks.append((wave, "items", factor, "item shown, distribution hidden", unit))
            continue
        if not shown.all() and (part.loc[~shown, "reason"] != "no_answers").any():
            leaks.append((wave, "items", factor, "factor shown, an item hidden", unit))
            continue
        live = part.loc[shown]
        per_item = live[points].to_numpy() / 100.0 * live["n"].to_numpy()[:, None]
        flip = live["key"].isin(reverse).to_numpy()
        per_item[flip] = per_item[flip, ::-1]
        counts = per_item.sum(axis=0)
        # the factor's distribution: the same answers, by the same persons
        total = counts.sum()
        factor_counts = row[points].to_numpy(dtype=float) / 100.0 * total
        if not np.allclose(counts, factor_counts, atol=1e-6):
            leaks.append((wave, "factors", factor, "factor minus items", unit,
                          counts - factor_counts))
        if (live["n"] > row["n"]).any():
            leaks.append((wave, "items", factor, "an item counts someone the factor does not",
                          unit))
    return leaks


def _mean_of_means(release, t: Tree, wave: str, who) -> list[tuple]:
    """Recover the score of the one person in an atom who skipped one item of a factor."""
    leaks = []
    factors = _shown(_of(release.tables["factors"], wave))
    items = _shown(_of(release.tables["items"], wave))
    if factors.empty or items.empty:
        return leaks
    f = factors.set_index(["unit_id", "key"])
    for factor, part in items.groupby("factor"):
        keys = sorted(set(part["key"]))
        k = len([i for i in release.instrument.factor(factor).items])
        if len(keys) < k:
            continue
        cells = part.pivot_table(index="unit_id", columns="key", values=["n", "mean"],
                                 aggfunc="first")
        units = [u for u in cells.index if (u, factor) in f.index
                 and cells.loc[u, "n"].notna().all()]
        nodes = set(units)
        above = _nearest_node_above(t, nodes)

        def own(u):   # the atom: u minus its nearest published descendants
            inner = [v for v, a in above.items() if a == u]
            n_f = f.loc[(u, factor), "n"] - sum(f.loc[(v, factor), "n"] for v in inner)
            s_f = _sum_of(f.loc[(u, factor)]) - sum(_sum_of(f.loc[(v, factor)]) for v in inner)
            n_i = {i: cells.loc[u, ("n", i)] - sum(cells.loc[v, ("n", i)] for v in inner)
                   for i in keys}
            s_i = {i: cells.loc[u, ("n", i)] * cells.loc[u, ("mean", i)]
                   - sum(cells.loc[v, ("n", i)] * cells.loc[v, ("mean", i)] for v in inner)
                   for i in keys}
            return n_f, s_f, n_i, s_i, inner

        for u in units:
            n_f, s_f, n_i, s_i, inner = own(u)
            shortfall = {i: n_f - n_i[i] for i in keys}
            if sum(shortfall.values()) != 1:
                continue
            y = s_f - sum(s_i.values()) / k
            score = y * k   # y = T (1/(k-1) - 1/k) = T / (k (k-1)), the score is T/(k-1)
            leaks.append((wave, "factors+items", factor, "mean of means", u, round(score, 6)))
            if who is not None:
                inside = who["unit_id"].isin(t.subtree(u))
                for v in inner:
                    inside &= ~who["unit_id"].isin(t.subtree(v))
                skipped = [i for i, c in shortfall.items() if c == 1][0]
                person = who.loc[inside & who[f"pop:{factor}"].notna()
                                 & who[f"pop:{skipped}"].isna()]
                assert len(person) == 1, (u, factor, len(person))
                assert math.isclose(float(person[f"val:{factor}"].iloc[0]), score,
                                    abs_tol=1e-6), (u, factor, score)
    return leaks


def _hidden_numbers(release, wave: str) -> list[tuple]:
    leaks = []
    columns = {"factors": ("n", "mean", "sd", "pct_1", "top_box"),
               "items": ("n", "mean", "sd", "pct_1"),
               "groups": ("n", "invited", "mean", "pct_1"),
               "extras": ("n", "share", "mean"), "scores": ("share",),
               "rates": ("answers", "rate"),
               "comparisons": ("n", "other_n", "mean", "other_mean", "diff", "p")}
    for name, cols in columns.items():
        frame = _of(release.tables[name], wave)
        if frame.empty:
            continue
        hidden = frame.loc[frame["suppressed"].astype(bool)]
        for c in cols:
            if c in hidden.columns:
                values = pd.to_numeric(hidden[c], errors="coerce")
                bad = values.notna() & ~((c == "n") & (values == 0))
                if bad.any():
                    leaks.append((wave, name, c, "number on a hidden row", int(bad.sum())))
    return leaks


def _score_lists(release, wave: str) -> list[tuple]:
    """A score histogram beside the cell's exact n, mean and sd pins down a small cell's
    scores, one by one (a person who skipped items on another grid: 5/2 among thirds); shown
    where the cell's answers' distribution is hidden, it gives away whom that protects."""
    leaks = []
    scores = _of(release.tables["scores"], wave)
    factors = _of(release.tables["factors"], wave)
    if scores.empty or factors.empty:
        return leaks
    shown = _shown(scores)[["unit_id", "key"]].drop_duplicates()
    hidden = factors.loc[factors["pct_1"].isna(), ["unit_id", "key"]]
    both = shown.merge(hidden, on=["unit_id", "key"])
    for unit, key in both.itertuples(index=False):
        leaks.append((wave, "scores", key, "score histogram beside a hidden distribution", unit))
    return leaks


def _icc_beyond_cells(release, t: Tree, wave: str) -> list[tuple]:
    """ICC(1) and ICC(2) from the published cells alone: the persons grouped by the part of
    each published cell that no published cell below it holds (its n, sum and sum of squares
    by subtraction). A published ICC that differs carries the means of groups that are not
    published (it was computed over hidden units, whose means it lets an attacker split)."""
    leaks = []
    table = release.tables.get("reliability")
    factors = _of(release.tables["factors"], wave)
    if table is None or table.empty or factors.empty:
        return leaks
    for row in _of(table, wave).itertuples(index=False):
        if pd.isna(row.icc1) and pd.isna(row.icc2):
            continue
        cells = _shown(factors.loc[factors["key"] == row.factor]).set_index("unit_id")
        if t.root not in cells.index:
            leaks.append((wave, "reliability", row.factor, "ICC with the top unit hidden"))
            continue
        n = cells["n"].astype(float)
        total = n * cells["mean"].astype(float)
        square = (n - 1) * cells["sd"].astype(float).fillna(0) ** 2 + total ** 2 / n
        own = pd.DataFrame({"n": n, "sum": total, "square": square})
        for unit, above in _nearest_node_above(t, set(cells.index)).items():
            if above is not None:
                own.loc[above] -= own.loc[unit]
        own = own.loc[own["n"] > 0.5]
        size, k = float(n[t.root]), len(own)
        grand = float(total[t.root]) / size
        between = float((own["sum"] ** 2 / own["n"]).sum()) - size * grand ** 2
        within = float(square[t.root]) - size * grand ** 2 - between
        with np.errstate(divide="ignore", invalid="ignore"):
            msb, msw = np.float64(between) / (k - 1), np.float64(within) / (size - k)
            icc1 = (msb - msw) / (msb + (size / k - 1) * msw)
            icc2 = (msb - msw) / msb   # no spread between the groups: undefined

        def same(mine: float, theirs: float) -> bool:
            if not np.isfinite(mine):
                return pd.isna(theirs) or not np.isfinite(theirs)
            return math.isclose(mine, theirs, rel_tol=1e-6, abs_tol=1e-9)

        if not (same(icc1, row.icc1) and same(icc2, row.icc2)):
            leaks.append((wave, "reliability", row.factor, "ICC beyond the published cells",
                          (icc1, row.icc1), (icc2, row.icc2)))
    return leaks


def _alpha_population(release, t: Tree, wave: str) -> list[tuple]:
    """A published alpha counts exactly the persons of the top unit's published factor cell.

    Over more persons (the unscored who answered some items), the top unit's item means and
    sds and the factor's sd give every term of alpha but the unscored persons' answers, which
    the published alpha then pins down (one person who answered one item: that answer)."""
    leaks = []
    table = release.tables.get("reliability")
    if table is None or table.empty:
        return leaks
    factors = _shown(_of(release.tables["factors"], wave))
    top = factors.loc[factors["unit_id"] == t.root].set_index("key")["n"]
    for row in _of(table, wave).itertuples(index=False):
        shown = [c for c in ("alpha", "alpha_listwise") if pd.notna(getattr(row, c, np.nan))]
        if shown and (row.factor not in top.index or int(row.n) != int(top[row.factor])):
            leaks.append((wave, "reliability", row.factor, "alpha over other persons than "
                          "the factor's", int(row.n), top.get(row.factor)))
        complete = getattr(row, "n_complete", np.nan)
        if pd.notna(row.n) and pd.notna(complete) and \
                0 < int(row.n) - int(complete) < release.policy.min_n:
            leaks.append((wave, "reliability", row.factor, "a few who skipped items counted",
                          int(row.n) - int(complete)))
        if pd.notna(complete) and 0 < int(complete) < release.policy.min_n:
            leaks.append((wave, "reliability", row.factor, "a few who answered every item "
                          "counted", int(complete)))
    return leaks


def pinned_skippers(release, wave: str, most: int = 8) -> list[tuple]:
    """Small published cells whose n, mean and sd alone pin a skipper's score.

    A person who answered k of a factor's m items has a score on the 1/k grid. Every
    multiset of n possible scores with the cell's sum (n x mean) and sum of squares
    ((n - 1) sd^2 + n mean^2) is listed; where all of them hold the same score off the 1/m
    grid, the attacker knows that someone scored that, not who. Not part of :func:`attack`:
    exact n, mean and sd tell a cell's scores whenever nearly everyone answered alike (a
    disclosure about the group, which the rules accept); what must stay unpublished is who
    skipped which item (see the test that calls this).
    """
    found = []
    factors = _shown(_of(release.tables["factors"], wave))
    instrument = release.instrument
    for row in factors.itertuples(index=False):
        n = int(row.n)
        if n > most or pd.isna(row.mean):
            continue
        factor = instrument.factor(row.key)
        m = len(factor.item_ids)
        scale = instrument.factor_scale(row.key)
        lo, hi = int(scale.min), int(scale.max)
        fewest = max(1, math.ceil(instrument.min_answered * m))
        values = sorted({j / k for k in range(fewest, m + 1) for j in range(lo * k, hi * k + 1)})
        total = n * float(row.mean)
        square = (n - 1) * float(row.sd if pd.notna(row.sd) else 0.0) ** 2 + n * row.mean ** 2
        solutions = []

        def search(start: int, left: int, s: float, q: float, picked: list[float]) -> None:
            if left == 0:
                if abs(s) < 1e-6 and abs(q) < 1e-6:
                    solutions.append(tuple(picked))
                return
            for i in range(start, len(values)):
                v = values[i]
                if left * v > s + 1e-6 or left * v * v > q + 1e-6:
                    break
                if left * values[-1] < s - 1e-6:
                    return
                search(i, left - 1, s - v, q - v * v, picked + [v])

        search(0, n, total, square, [])
        if not solutions:
            continue

        def off_grid(solution):
            return sorted(round(v, 9) for v in solution if abs(v * m - round(v * m)) > 1e-9)

        common = set(off_grid(solutions[0]))
        for solution in solutions[1:]:
            common &= set(off_grid(solution))
        if common:
            found.append((wave, "factors", row.key, "skipper's score pinned", row.unit_id,
                          sorted(common)))
    return found


def _derived(release, t: Tree, wave: str, min_n: int) -> list[tuple]:
    leaks = []
    factors = _of(release.tables["factors"], wave)
    shown = set(map(tuple, _shown(factors)[["unit_id", "key"]].to_numpy()))
    comparisons = _shown(_of(release.tables["comparisons"], wave))
    n = _shown(factors).set_index(["unit_id", "key"])["n"]
    for r in comparisons.itertuples(index=False):
        if (r.unit_id, r.key) not in shown:
            leaks.append((wave, "comparisons", r.key, "hidden unit compared", r.unit_id))
        if r.against == "parent":
            if (r.other_id, r.key) not in shown:
                leaks.append((wave, "comparisons", r.key, "hidden parent", r.unit_id))
            else:
                rest = n[(r.other_id, r.key)] - n[(r.unit_id, r.key)]
                if 0 < rest < min_n or rest != r.other_n:
                    leaks.append((wave, "comparisons", r.key, "small rest", r.unit_id, rest))
    scores = _shown(_of(release.tables["scores"], wave))
    for unit, key in set(map(tuple, scores[["unit_id", "key"]].to_numpy())) - shown:
        leaks.append((wave, "scores", key, "scores of a hidden cell", unit))
    extras = _of(release.tables["extras"], wave)
    if len(extras):
        lead = _shown(extras.loc[extras["block"] == extras["key"]])
        ok = set(map(tuple, lead[["unit_id", "block"]].to_numpy()))
        dep = _shown(extras.loc[extras["block"] != extras["key"]])
        for unit, block in set(map(tuple, dep[["unit_id", "block"]].to_numpy())) - ok:
            leaks.append((wave, "extras", block, "dependent question of a hidden cell", unit))
    return leaks


# --------------------------------------------------------------------------------------------
# The persons behind a release (DESIGN.md's scoring rules, no workbench code)


def persons_of(responses: pd.DataFrame, factors: dict[str, list[tuple[str, bool]]],
               scale=(1, 5), missing=(6,), min_answered=0.5) -> pd.DataFrame:
    """Per person: ``pop:<key>`` (1 where the person has a value for the key in the
    release's sense, else NaN) and ``val:<key>`` (the value) for each factor and item.

    ``factors``: factor id -> [(item id, reverse), ...].
    """
    items = {i for f in factors.values() for i, _ in f}
    out = responses[[c for c in responses.columns if c not in items]].copy()
    columns = {}
    lo, hi = scale
    for factor, items in factors.items():
        values = []
        for item, reverse in items:
            x = pd.to_numeric(responses[item], errors="coerce").astype(float)
            x[x.isin(missing)] = np.nan
            values.append((item, x, lo + hi - x if reverse else x))
        answered = sum(v[2].notna().astype(int) for v in values)
        need = max(1, math.ceil(min_answered * len(items) - 1e-9))
        scored = answered >= need
        total = sum(v[2].fillna(0) for v in values)
        score = np.where(scored, total / answered.replace(0, np.nan), np.nan)
        columns[f"pop:{factor}"] = np.where(scored, 1.0, np.nan)
        columns[f"val:{factor}"] = score
        for item, raw, _ in values:
            has = scored & raw.notna()
            columns[f"pop:{item}"] = np.where(has, 1.0, np.nan)
            columns[f"val:{item}"] = np.where(has, raw, np.nan)
    return pd.concat([out, pd.DataFrame(columns, index=out.index)], axis=1)


# --------------------------------------------------------------------------------------------
# The exact attacker


def exact_leak(release, who: pd.DataFrame, wave: str, key: str, background: list[str],
               known_support: bool = False):
    """The smallest set of persons whose sum of ``key`` follows from the release, if it is
    smaller than min_n: (persons, cells), else None.

    Persons fall into cells by own unit and their values of every background variable ("" =
    none). A reader knows the n of every published row of ``key`` (factor or item table and
    the group tables) and its sum; a cell the counts force to 0 (a linear programme per cell)
    is known to be empty; with ``known_support`` every empty cell is (a colleague knows that
    the workshop is all men). Any 0/1 combination of the other cells that is a linear
    combination of published rows gives away the sum of its persons: an integer programme
    finds the smallest.
    """
    from scipy.optimize import Bounds, LinearConstraint, linprog, milp

    min_n = release.policy.min_n
    t = trees(release)[wave]
    values = {b: sorted(set(who[b].fillna("").astype(str)) |
                        set(release.config.background[b].values) | {""})
              for b in background}
    combos = list(itertools.product(*[values[b] for b in background])) if background else [()]
    cells = [(u, c) for u in t.ids for c in combos]
    index = {c: i for i, c in enumerate(cells)}
    size = np.zeros(len(cells))
    mine = who.loc[who[f"pop:{key}"].notna()]
    keys = ["unit_id", *background]
    for label, count in mine.assign(**{b: mine[b].fillna("").astype(str) for b in background}
                                    ).groupby(keys).size().items():
        label = label if isinstance(label, tuple) else (label,)
        size[index[(label[0], tuple(label[1:]))]] = count

    def vector(unit, by=None, group=None):
        vec = np.zeros(len(cells))
        for u in t.subtree(unit):
            for c in combos:
                if by is None or c[background.index(by)] == group:
                    vec[index[(u, c)]] = 1
        return vec

    rows = []
    level = "factor" if key in set(release.tables["factors"]["key"]) else "item"
    table = release.tables["factors" if level == "factor" else "items"]
    for r in _shown(_of(table, wave)).itertuples(index=False):
        if r.key == key and r.n > 0:
            rows.append((vector(r.unit_id), r.n))
    groups = _of(release.tables["groups"], wave)
    if len(groups):
        for r in _shown(groups).itertuples(index=False):
            if r.key == key and r.n > 0 and r.by in background:
                rows.append((vector(r.unit_id, r.by, r.group), r.n))
    if not rows:
        return None
    a = np.array([v for v, _ in rows])
    b = np.array([n for _, n in rows], dtype=float)
    assert np.allclose(a @ size, b)          # the release holds the true counts
    empty = size == 0 if known_support else np.zeros(len(cells), dtype=bool)
    for c in range(len(cells)):
        if known_support or not a[:, c].any():
            continue
        most = linprog(-np.eye(len(cells))[c], A_eq=a, b_eq=b, bounds=(0, None))
        empty[c] = most.status == 0 and -most.fun < 0.5
    live = np.flatnonzero(~empty & a.any(axis=0))
    basis = a.T[live]
    m, r = len(live), basis.shape[1]
    objective = np.r_[size[live], np.zeros(r)]
    found = milp(objective, integrality=np.r_[np.ones(m), np.zeros(r)],
                 bounds=Bounds(np.r_[np.zeros(m), np.full(r, -1e3)],
                               np.r_[np.ones(m), np.full(r, 1e3)]),
                 constraints=[LinearConstraint(np.hstack([np.eye(m), -basis]), 0, 0),
                              LinearConstraint(objective[None, :], 1, np.inf)])
    if found.status != 0 or found.fun > min_n - 0.5:
        return None
    chosen = live[np.round(found.x[:m]) == 1]
    return int(round(found.fun)), [cells[i] for i in chosen if size[i] > 0]
