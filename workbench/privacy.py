"""Privacy: decide which cells of a statistics table may be published, and check a table.

Every number that reaches a person passes through :func:`protect` (DESIGN.md, Privacy
rules). It takes the raw statistics of one wave and one level (factor or item) for every unit
of the hierarchy and marks the cells that may not be shown:

1. *Primary*: a cell with fewer than ``min_n`` persons (``n``) is suppressed.
2. *Complement*: the published subtree totals of one key form a laminar family (two units
   are nested or disjoint), so the only sets anyone can isolate by subtracting published
   numbers are unions of *atoms*: for a published unit P, atom(P) = P minus its nearest
   published descendants. Every atom must hold 0 or at least ``min_n`` persons; while an
   atom holds 1 .. min_n - 1, its smallest nearest published descendant is suppressed too.
3. *Consistency*: a unit suppressed for one key is suppressed for every key of the table.
4. *Groups* (a background variable such as gender): only at the hierarchy levels of
   ``background_levels``; each group at least ``min_n``, and the unit total minus the
   published groups (persons with another or an empty value) 0 or at least ``min_n``.
   When nested levels are allowed, a unit below another unit that shows the groups shows
   none, not even their counts.

:func:`audit` checks any published table from its published ``n`` alone (what an outsider
has) and lists what an attacker could isolate.

Examples
--------
>>> from workbench.privacy import PrivacyPolicy
>>> PrivacyPolicy(min_n=5).min_n
5
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from workbench.errors import UsageError
from workbench.org import Hierarchy
from workbench.survey import MIN_N_DEFAULT, MIN_N_FLOOR

__all__ = ["PrivacyPolicy", "protect", "audit", "check_background", "REASONS", "AUDIT_COLUMNS",
           "VALUE_COLUMNS", "COUNT_COLUMNS", "value_columns"]

#: ``reason`` codes of :func:`protect` ("" = published). ``background_level``: group rows of a
#: unit below another unit that shows the groups (protect refuses group rows at levels the
#: policy does not allow: UsageError).
REASONS = ("min_n", "no_answers", "complement", "background_level")

#: Columns of :func:`audit`'s result.
AUDIT_COLUMNS = ("wave", "key", "unit_id", "group", "check", "n", "detail")

#: Statistics a suppressed row leaves empty (plus every ``pct_k``); ``n`` and ``invited`` stay.
VALUE_COLUMNS = ("mean", "sd", "se", "ci_low", "ci_high", "moe", "top_box")

#: Counts removed as well from group rows below a unit that shows the groups.
COUNT_COLUMNS = ("n", "invited", "answers")

_OTHER = "(other)"


def value_columns(table: pd.DataFrame) -> list[str]:
    """The columns of ``table`` that a suppressed row leaves empty (mean .. top_box)."""
    return [c for c in table.columns if c in VALUE_COLUMNS or str(c).startswith("pct_")]


@dataclass(frozen=True)
class PrivacyPolicy:
    """What may be published: the smallest group and where background variables are shown.

    Parameters
    ----------
    min_n
        No statistic from fewer persons is published (default 5; 3 and 4 are allowed, the
        dataset check warns about them; below 3 is refused).
    background_levels
        Hierarchy depths (0 = the whole organisation) where results by a background variable
        (gender, position, ...) may be shown.

    Raises
    ------
    UsageError
        When ``min_n`` is below 3 or not a whole number, or a level is negative.
    """

    min_n: int = MIN_N_DEFAULT
    background_levels: tuple[int, ...] = (0,)

    def __post_init__(self) -> None:
        try:
            if isinstance(self.min_n, bool):
                raise TypeError
            min_n = operator.index(self.min_n)
        except TypeError:
            raise UsageError(f"privacy min_n must be a whole number, got {self.min_n!r}; "
                             f"set privacy.min_n in survey.yaml (default {MIN_N_DEFAULT})"
                             ) from None
        if min_n < MIN_N_FLOOR:
            raise UsageError(f"privacy min_n {min_n} is refused: results from fewer than "
                             f"{MIN_N_FLOOR} persons are never published; set privacy.min_n "
                             f"to {MIN_N_FLOOR} or more (default {MIN_N_DEFAULT})")
        try:
            levels = tuple(sorted({operator.index(v) for v in self.background_levels}))
        except TypeError:
            raise UsageError(f"privacy background_levels must be a list of hierarchy depths "
                             f"such as [0], got {self.background_levels!r}") from None
        if any(v < 0 for v in levels):
            raise UsageError(f"privacy background_levels must be depths >= 0 (0 = the whole "
                             f"organisation), got {list(levels)}")
        object.__setattr__(self, "min_n", min_n)
        object.__setattr__(self, "background_levels", levels)

    @classmethod
    def from_config(cls, config: Any) -> "PrivacyPolicy":
        """The policy of a :class:`~workbench.survey.SurveyConfig` (``survey.yaml``)."""
        return cls(min_n=config.min_n, background_levels=tuple(config.background_levels))


def check_background(hierarchy: Hierarchy, unit_id: str, by: str | None,
                     policy: PrivacyPolicy) -> None:
    """Refuse results by a background variable at a unit whose level does not allow them.

    Parameters
    ----------
    hierarchy
        The wave's org tree.
    unit_id
        The unit asked for.
    by
        The background variable (None: no grouping, always allowed).
    policy
        The privacy policy.

    Raises
    ------
    UsageError
        When ``unit_id`` is unknown, or ``by`` is given and the unit's level is not in
        ``policy.background_levels``.
    """
    if by is None:
        return
    if unit_id not in hierarchy:
        raise UsageError(f"unknown unit {unit_id!r}; choose a unit_id from units.csv")
    level = hierarchy.level(unit_id)
    if level not in policy.background_levels:
        allowed = ", ".join(str(v) for v in policy.background_levels) or "none"
        raise UsageError(f"results by {by!r} are not shown for unit {unit_id!r} (level {level}): "
                         f"background variables are shown only at levels {allowed} (0 = the "
                         f"whole organisation); choose a unit at an allowed level, or change "
                         f"privacy.background_levels in survey.yaml")


# --------------------------------------------------------------------------------------------
# The tree as arrays


@dataclass(frozen=True, eq=False)
class _Tree:
    """Parent positions (``-1`` for the root) and units per depth, in ``hierarchy.ids`` order."""

    index: pd.Index
    parent: np.ndarray
    level: np.ndarray
    by_level: tuple[np.ndarray, ...]  # depth 1, 2, ...: positions of the units at that depth


def _tree(hierarchy: Hierarchy) -> _Tree:
    index = pd.Index(hierarchy.units["unit_id"])
    parent = index.get_indexer(hierarchy.units["parent_id"])  # "" (the root) -> -1
    level = hierarchy.units["level"].to_numpy(dtype=np.int64)
    depth = int(level.max()) if len(level) else 0
    by_level = tuple(np.flatnonzero(level == d) for d in range(1, depth + 1))
    return _Tree(index=index, parent=parent, level=level, by_level=by_level)


def _nearest_published(tree: _Tree, pub: np.ndarray) -> np.ndarray:
    """Nearest published proper ancestor of every unit, per column (-1: none).

    ``pub`` is (units x columns); one vectorised step per depth, top down.
    """
    npa = np.full(pub.shape, -1, dtype=np.int64)
    for idx in tree.by_level:
        p = tree.parent[idx]
        npa[idx] = np.where(pub[p], p[:, None], npa[p])
    return npa


def _atoms(n: np.ndarray, pub: np.ndarray, npa: np.ndarray) -> np.ndarray:
    """atom(P) = n_P minus the n of the published units whose nearest published ancestor is P.

    (units x columns); 0 where P is not published.
    """
    units, cols = n.shape
    inner = pub & (npa >= 0)
    flat = (npa * cols + np.arange(cols))[inner]
    taken = np.bincount(flat, weights=n[inner], minlength=units * cols).reshape(units, cols)
    return np.where(pub, n - taken, 0.0)


def _complement(n: np.ndarray, pub: np.ndarray, tree: _Tree, min_n: int) -> np.ndarray:
    """Rule 2: suppress further until every atom holds 0 or at least ``min_n`` persons.

    Each round handles every bad atom of every column at once: for a published P whose atom
    holds 1 .. min_n - 1, the smallest nearest published descendant D is suppressed, which
    moves atom(D) into atom(P) and D's nearest published descendants up to P. A D whose atom
    is empty (D is exactly the sum of its published descendants) is taken last: hiding it
    changes no atom, since anyone can add its parts up again. Every round suppresses at
    least one cell, so the loop ends; at worst every descendant of P is hidden and
    atom(P) = n_P >= min_n.
    """
    pub = pub.copy()
    cols = n.shape[1]
    while True:
        npa = _nearest_published(tree, pub)
        atom = _atoms(n, pub, npa)
        bad = pub & (atom > 0) & (atom < min_n)
        if not bad.any():
            return pub
        rows, ks = np.nonzero(pub & (npa >= 0))
        anc = npa[rows, ks]
        under_bad = bad[anc, ks]
        rows, ks, anc = rows[under_bad], ks[under_bad], anc[under_bad]
        group = anc * cols + ks
        order = np.lexsort((rows, n[rows, ks], atom[rows, ks] == 0, group))
        head = order[np.r_[True, group[order][1:] != group[order][:-1]]]
        pub[rows[head], ks[head]] = False
        # Not reachable with consistent subtree totals (a published P without published
        # descendants has atom(P) = n_P >= min_n), but hiding P itself is always safe.
        alone = bad.copy()
        alone[anc, ks] = False
        pub[alone] = False


# --------------------------------------------------------------------------------------------
# Reading the table


def _require(table: pd.DataFrame, columns: tuple[str, ...], what: str) -> None:
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise UsageError(f"{what}: the table lacks the column(s) {missing}; it needs "
                         f"{list(columns)} (a statistics table of workbench.stats)")


def _counts(table: pd.DataFrame, column: str = "n") -> np.ndarray:
    """The column as whole, non-negative numbers (float array), or a UsageError."""
    values = pd.to_numeric(table[column], errors="coerce").to_numpy(dtype="float64",
                                                                     na_value=np.nan)
    bad = ~np.isfinite(values) | (values < 0) | (values != np.round(values))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise UsageError(f"column {column!r} must hold counts of persons (0, 1, 2, ...); row "
                         f"{i} (unit {table['unit_id'].iloc[i]!r}) has "
                         f"{table[column].iloc[i]!r}")
    return values


def _flags(table: pd.DataFrame) -> np.ndarray:
    """Rows already marked suppressed (False when there is no ``suppressed`` column)."""
    if "suppressed" not in table.columns:
        return np.zeros(len(table), dtype=bool)
    return table["suppressed"].fillna(False).astype(bool).to_numpy()


def _unit_positions(table: pd.DataFrame, tree: _Tree) -> np.ndarray:
    pos = tree.index.get_indexer(table["unit_id"].astype(str))
    if (pos < 0).any():
        unknown = table["unit_id"].iloc[int(np.flatnonzero(pos < 0)[0])]
        raise UsageError(f"unit {unknown!r} is not in the hierarchy; the table and the "
                         f"hierarchy must belong to the same wave")
    return pos


def _group_rows(table: pd.DataFrame) -> np.ndarray:
    """Rows that belong to a background group (``by`` is set)."""
    if "by" not in table.columns:
        return np.zeros(len(table), dtype=bool)
    by = table["by"]
    return (by.notna() & (by.astype(str) != "")).to_numpy()


def _one_wave(table: pd.DataFrame, what: str) -> None:
    if "wave" in table.columns and table["wave"].astype(str).nunique() > 1:
        raise UsageError(f"{what} takes one wave at a time; the table holds waves "
                         f"{sorted(table['wave'].astype(str).unique())}")


@dataclass(frozen=True, eq=False)
class _Grid:
    """A unit table as (units x keys) arrays in hierarchy order."""

    keys: np.ndarray
    n: np.ndarray
    prior: np.ndarray  # already marked suppressed
    present: np.ndarray  # a row exists
    pos: np.ndarray  # per row: unit position
    kpos: np.ndarray  # per row: key position


def _grid(table: pd.DataFrame, tree: _Tree, complete: bool) -> _Grid:
    pos = _unit_positions(table, tree)
    kpos, keys = pd.factorize(table["key"].astype(str), sort=False)
    units, cols = len(tree.index), len(keys)
    flat = pos * cols + kpos
    seen = np.bincount(flat, minlength=units * cols).reshape(units, cols)
    if (seen > 1).any():
        u, k = np.argwhere(seen > 1)[0]
        raise UsageError(f"unit {tree.index[u]!r} has several rows for key {keys[k]!r}; "
                         f"protect one wave, one level and one background variable at a time")
    if complete and (seen == 0).any():
        u, k = np.argwhere(seen == 0)[0]
        raise UsageError(f"unit {tree.index[u]!r} has no row for key {keys[k]!r}: the table "
                         f"must cover every unit of the hierarchy (also units with n = 0), or "
                         f"the complement rule cannot see what subtracting reveals")
    n = np.zeros((units, cols))
    n[pos, kpos] = _counts(table)
    prior = np.zeros((units, cols), dtype=bool)
    prior[pos, kpos] = _flags(table)
    return _Grid(keys=np.asarray(keys), n=n, prior=prior, present=seen > 0, pos=pos,
                 kpos=kpos)


def _reasons(n: np.ndarray, pub: np.ndarray, min_n: int) -> np.ndarray:
    return np.select([n == 0, n < min_n, ~pub], ["no_answers", "min_n", "complement"], "")


# --------------------------------------------------------------------------------------------
# Unit tables


def _protect_units(table: pd.DataFrame, tree: _Tree, min_n: int) -> tuple[np.ndarray, ...]:
    """Suppressed flags and reasons per row of an ungrouped table."""
    grid = _grid(table, tree, complete=True)
    n = grid.n
    own = n.copy()
    np.subtract.at(own, tree.parent[tree.parent >= 0], n[tree.parent >= 0])
    if (own < 0).any():
        u, k = np.argwhere(own < 0)[0]
        raise UsageError(f"unit {tree.index[u]!r}, key {grid.keys[k]!r}: n = {n[u, k]:g} is "
                         f"smaller than the sum of its children's n; the table must hold "
                         f"subtree totals (a parent's numbers include its children)")
    pub = (n >= min_n) & ~grid.prior
    pub = _complement(n, pub, tree, min_n)
    # Rule 3 (one unit, one decision for all keys): hide a unit for every key once it is
    # hidden for any key. This is safe: per key, the published units after the union are a
    # subset Q of the units that key's own decision published (S). For a unit P in Q, every
    # person of atom_Q(P) lies in atom_S(R) of the smallest R in S containing that person,
    # and all of atom_S(R) shares the same smallest Q-superset, so atom_Q(P) is a union of
    # whole S-atoms. Each S-atom holds 0 or >= min_n persons, hence so does their sum.
    # Cells with n = 0 hold nobody and do not count as hidden.
    hidden = (~pub & (n > 0)).any(axis=1)
    pub &= ~hidden[:, None]
    reason = _reasons(n, pub, min_n)
    return ~pub[grid.pos, grid.kpos], reason[grid.pos, grid.kpos]


# --------------------------------------------------------------------------------------------
# Group tables (one background variable)


@dataclass(frozen=True, eq=False)
class _Groups:
    """Rows of one background variable as arrays: group units x values x keys."""

    units: np.ndarray  # hierarchy positions of the units with group rows
    values: np.ndarray
    keys: np.ndarray
    n: np.ndarray  # (units, values, keys)
    prior: np.ndarray
    present: np.ndarray  # a row exists
    total: np.ndarray  # (units, keys): the unit's n
    total_pub: np.ndarray  # (units, keys): the unit's total is published
    rows: tuple[np.ndarray, np.ndarray, np.ndarray]  # per row: unit, value, key index


def _groups(table: pd.DataFrame, tree: _Tree, totals: _Grid | None, by: str,
            complete: bool) -> _Groups:
    pos = _unit_positions(table, tree)
    gpos, units = pd.factorize(pos, sort=True)
    vpos, values = pd.factorize(table["group"].astype(str), sort=False)
    kpos, keys = pd.factorize(table["key"].astype(str), sort=False)
    shape = (len(units), len(values), len(keys))
    flat = np.ravel_multi_index((gpos, vpos, kpos), shape)
    seen = np.bincount(flat, minlength=int(np.prod(shape))).reshape(shape)
    if (seen > 1).any():
        g, v, k = np.argwhere(seen > 1)[0]
        raise UsageError(f"{by}: unit {tree.index[units[g]]!r}, group {values[v]!r}, key "
                         f"{keys[k]!r} has several rows")
    if complete and (seen == 0).any():
        g, v, k = np.argwhere(seen == 0)[0]
        raise UsageError(f"{by}: unit {tree.index[units[g]]!r} has no row for group "
                         f"{values[v]!r} and key {keys[k]!r}; give every group of every unit "
                         f"(also groups with n = 0)")
    n = np.zeros(shape)
    n[gpos, vpos, kpos] = _counts(table)
    prior = np.zeros(shape, dtype=bool)
    prior[gpos, vpos, kpos] = _flags(table)
    total = np.full((len(units), len(keys)), np.nan)
    total_pub = np.zeros((len(units), len(keys)), dtype=bool)
    if totals is not None:
        tk = pd.Index(totals.keys).get_indexer(np.asarray(keys))
        have = tk >= 0
        sub = np.ix_(units, tk[have])
        total[:, have] = np.where(totals.present[sub], totals.n[sub], np.nan)
        total_pub[:, have] = totals.present[sub] & ~totals.prior[sub] & (totals.n[sub] > 0)
    return _Groups(units=np.asarray(units), values=np.asarray(values), keys=np.asarray(keys),
                   n=n, prior=prior, present=seen > 0, total=total, total_pub=total_pub,
                   rows=(gpos, vpos, kpos))


def _ok(count: float, min_n: int) -> bool:
    return count == 0 or count >= min_n


def _below_claim(tree: _Tree, units: np.ndarray, claims: np.ndarray) -> np.ndarray:
    """Per unit of ``units``: a strict ancestor has ``claims`` true (hierarchy order)."""
    out = np.zeros(len(units), dtype=bool)
    for i, u in enumerate(units):
        p = tree.parent[u]
        while p >= 0 and not claims[p]:
            p = tree.parent[p]
        out[i] = p >= 0
    return out


def _decide_groups(g: _Groups, i: int, k: int, min_n: int) -> np.ndarray:
    """Published groups (values) of group unit ``i`` for key ``k``, the unit taken alone.

    Every group with n >= min_n, then the smallest published group goes while the rest of
    the total (other and empty values) holds 1 .. min_n - 1 persons. A group's own
    complement, total minus the group, is then the rest plus the other published groups,
    each 0 or >= min_n, so it needs no check of its own; nor does any other subset of the
    groups.
    """
    n, total = g.n[i, :, k], g.total[i, k]
    chosen = (n >= min_n) & ~g.prior[i, :, k]
    while chosen.any() and not _ok(total - n[chosen].sum(), min_n):
        cand = np.flatnonzero(chosen)
        chosen[cand[np.argmin(n[cand])]] = False
    return chosen


def _protect_groups(table: pd.DataFrame, tree: _Tree, policy: PrivacyPolicy,
                    totals: _Grid, by: str) -> tuple[np.ndarray, ...]:
    g = _groups(table, tree, totals, by, complete=True)
    wrong = ~np.isin(tree.level[g.units], policy.background_levels)
    if wrong.any():
        u = g.units[np.flatnonzero(wrong)[0]]
        raise UsageError(f"results by {by!r} are not shown for unit {tree.index[u]!r} (level "
                         f"{tree.level[u]}): background variables are shown only at levels "
                         f"{list(policy.background_levels)}; leave out the group rows of "
                         f"units at other levels (see check_background)")
    missing = np.isnan(g.total)
    if missing.any():
        i, k = np.argwhere(missing)[0]
        raise UsageError(f"{by}: no total for unit {tree.index[g.units[i]]!r} and key "
                         f"{g.keys[k]!r}; pass the unit table of the same wave and level as "
                         f"totals=")
    over = g.n.sum(axis=1) > g.total
    if over.any():
        i, k = np.argwhere(over)[0]
        raise UsageError(f"{by}: the groups of unit {tree.index[g.units[i]]!r} (key "
                         f"{g.keys[k]!r}) hold more persons than the unit's total; the totals "
                         f"must come from the same wave and level")
    min_n = policy.min_n
    # Groups only at the *top* group units: those with a published total and no unit above
    # them at an allowed level with a published total. Top units are disjoint, and all a
    # reader learns about one of them is its unit counts and sums, its group counts (the
    # margins of a table unit x group) and some group sums: with margins only, no cell of
    # that table is known to be empty, and the sums combine only additively (a group of the
    # top unit against the unit atoms inside it), so no subtraction isolates a unit's
    # persons of one value. Groups at nested units would: a group minus the same group
    # below, the rest outside some groups minus the same rest below, and even their counts
    # alone can show that all persons of a unit part share one value. So rows of other units
    # are suppressed *with their counts* (n, invited, answers): with nested background
    # levels the upper unit's groups win (simple and safe; DESIGN's default is the root).
    published = totals.present & ~totals.prior & (totals.n > 0)
    claims = published.any(axis=1) & np.isin(tree.level, policy.background_levels)
    top = g.total_pub.any(axis=1) & ~_below_claim(tree, g.units, claims)
    pub = np.zeros(g.n.shape, dtype=bool)
    for i in np.flatnonzero(top):
        for k in np.flatnonzero(g.total_pub[i]):
            pub[i, :, k] = _decide_groups(g, i, k, min_n)
    # Consistency over keys, as for units: a group hidden for one key is hidden for all.
    # The rest of a total then grows by hidden groups of >= min_n persons each, so it stays
    # 0 or >= min_n.
    hidden = (~pub & (g.n > 0)).any(axis=2)
    pub &= ~hidden[:, :, None]
    if _audit_group_cells(g, pub, tree, policy, by, totals):  # pragma: no cover - defensive
        pub[:] = False
    gi, vi, ki = g.rows
    n = g.n[gi, vi, ki]
    published = pub[gi, vi, ki]
    reason = _reasons(n, published, min_n).astype(object)
    # (a unit with nobody answering has nobody in any group: its zeros give nothing away)
    uncounted = ~top[gi] & (g.total[gi, ki] > 0)
    reason[uncounted] = np.where(g.total_pub[gi, ki][uncounted], "background_level",
                                 "complement")
    return ~published, reason, uncounted


# --------------------------------------------------------------------------------------------
# protect


def protect(table: pd.DataFrame, hierarchy: Hierarchy, policy: PrivacyPolicy,
            totals: pd.DataFrame | None = None) -> pd.DataFrame:
    """Mark the cells of a statistics table that may not be published, and empty them.

    Parameters
    ----------
    table
        Raw statistics of one wave and one level (factor or item): ``wave, unit_id, key, n``
        and the value columns ``mean .. top_box`` (see DESIGN.md, ``stats`` columns), one row
        per unit and key for *every* unit of the hierarchy (also units with n = 0), with
        ``n`` the subtree totals. Grouped by a background variable: also ``by, group``, one row
        per unit, group and key, only for units at ``policy.background_levels``; rows with an
        empty ``by`` are unit rows and serve as the totals. Rows already marked ``suppressed``
        stay suppressed.
    hierarchy
        The wave's org tree.
    policy
        The privacy policy.
    totals
        For group rows: the unit table of the same wave and level (protected or raw), whose
        ``n`` and published cells the groups are checked against.

    Returns
    -------
    DataFrame
        The same rows and columns, plus ``suppressed`` (bool) and ``reason`` ("" when
        published; else ``min_n``: fewer than ``min_n`` persons, ``no_answers``: n = 0,
        ``complement``: hidden so that no subtraction reveals a small group, or so that the
        unit is hidden for every key alike, ``background_level``: a group row of a unit
        below another unit that shows the groups). Suppressed rows have NaN in
        ``mean .. top_box``; ``n`` and ``invited`` stay, except in group rows of units that
        show no groups because they lie below a unit that does or because their total is
        hidden: there ``n``, ``invited`` and ``answers`` are NaN too (counts by group at
        nested units can tell that all persons of a unit part share one value). The input is
        not changed.

    Raises
    ------
    UsageError
        When the table lacks columns or units, mixes waves, holds duplicate rows, holds n
        that are not subtree totals, or holds groups at a level the policy does not allow.

    Examples
    --------
    >>> import pandas as pd
    >>> from workbench.org import Hierarchy
    >>> h = Hierarchy.from_frame(pd.DataFrame({"unit_id": ["R", "A", "B"],
    ...                                        "parent_id": ["", "R", "R"],
    ...                                        "name": ["R", "A", "B"]}))
    >>> raw = pd.DataFrame({"wave": "2021", "unit_id": ["R", "A", "B"], "key": "F1",
    ...                     "n": [12, 9, 3], "mean": [4.0, 4.1, 3.7]})
    >>> out = protect(raw, h, PrivacyPolicy(min_n=5))
    >>> out[["unit_id", "n", "mean", "suppressed"]]
      unit_id   n  mean  suppressed
    0       R  12   4.0       False
    1       A   9   NaN        True
    2       B   3   NaN        True
    >>> out["reason"].tolist()  # A is hidden too: R minus A would show B
    ['', 'complement', 'min_n']
    """
    if not isinstance(table, pd.DataFrame):
        raise UsageError(f"protect takes a DataFrame, got {type(table).__name__}")
    if not isinstance(policy, PrivacyPolicy):
        raise UsageError("protect needs a PrivacyPolicy, e.g. PrivacyPolicy.from_config("
                         "survey.config)")
    _require(table, ("unit_id", "key", "n"), "protect")
    _one_wave(table, "protect")
    tree = _tree(hierarchy)
    out = table.copy()
    suppressed = np.zeros(len(out), dtype=bool)
    reason = np.full(len(out), "", dtype=object)
    grouped = _group_rows(out)
    plain = ~grouped
    uncounted = np.zeros(len(out), dtype=bool)  # group rows whose counts are removed too
    total_grid = None
    if plain.any():
        s, r = _protect_units(out.loc[plain], tree, policy.min_n)
        suppressed[plain], reason[plain] = s, r
        if totals is None and grouped.any():
            units = out.loc[plain].assign(suppressed=s)
            total_grid = _grid(units, tree, complete=False)
    if grouped.any():
        _require(out, ("group",), "protect")
        if totals is not None:
            if "wave" in out.columns and "wave" in totals.columns:
                _one_wave(pd.concat([out["wave"], totals["wave"]]).to_frame(), "protect")
            if "suppressed" not in totals.columns:
                totals = protect(totals, hierarchy, policy)
            total_grid = _grid(totals.loc[~_group_rows(totals)], tree, complete=False)
        if total_grid is None:
            raise UsageError("protect: group rows need the unit totals; pass the unit table of "
                             "the same wave and level as totals= (or include its rows)")
        by = out["by"].astype(str)
        for var in pd.unique(by[grouped]):
            rows = grouped & (by == var).to_numpy()
            s, r, u = _protect_groups(out.loc[rows], tree, policy, total_grid, var)
            suppressed[rows], reason[rows] = s, r
            uncounted[np.flatnonzero(rows)[u]] = True
    out["suppressed"] = suppressed
    out["reason"] = pd.Series(reason, index=out.index, dtype="str")
    blank = value_columns(out)
    if blank and suppressed.any():
        out[blank] = out[blank].astype("float64")
        out.loc[suppressed, blank] = np.nan
    counts = [c for c in COUNT_COLUMNS if c in out.columns]
    if counts and uncounted.any():
        out[counts] = out[counts].astype("float64")
        out.loc[uncounted, counts] = np.nan
    return out


# --------------------------------------------------------------------------------------------
# audit


def _violation(wave: Any, key: str, unit: str, group: str, check: str, n: float,
               detail: str) -> dict:
    return {"wave": wave, "key": key, "unit_id": unit, "group": group, "check": check,
            "n": int(n), "detail": detail}


def _audit_units(table: pd.DataFrame, tree: _Tree, min_n: int, wave: Any) -> list[dict]:
    grid = _grid(table, tree, complete=False)
    n = grid.n
    pub = grid.present & ~grid.prior & (n > 0)
    found = []
    for u, k in np.argwhere(pub & (n < min_n)):
        found.append(_violation(wave, grid.keys[k], tree.index[u], "", "min_n", n[u, k],
                                f"published with n = {n[u, k]:g} < {min_n}"))
    npa = _nearest_published(tree, pub)
    atom = _atoms(n, pub, npa)
    for u, k in np.argwhere(pub & (atom > 0) & (atom < min_n)):
        found.append(_violation(wave, grid.keys[k], tree.index[u], "", "atom", atom[u, k],
                                f"n = {n[u, k]:g} minus its nearest published descendants "
                                f"leaves {atom[u, k]:g} persons"))
    return found


def _audit_group_cells(g: _Groups, pub: np.ndarray, tree: _Tree, policy: PrivacyPolicy,
                       by: str, totals: _Grid | None, wave: Any = None) -> list[dict]:
    """Violations of published group cells ``pub`` (units x values x keys)."""
    found = []
    name = tree.index
    min_n = policy.min_n
    cells = pub & (g.n > 0)
    for i, v, k in np.argwhere(cells & (g.n < min_n)):
        found.append(_violation(wave, g.keys[k], name[g.units[i]], g.values[v], "min_n",
                                g.n[i, v, k], f"{by} = {g.values[v]} published with n = "
                                f"{g.n[i, v, k]:g} < {min_n}"))
    allowed = np.isin(tree.level[g.units], policy.background_levels)
    for i, k in np.argwhere(cells.any(axis=1) & ~allowed[:, None]):
        found.append(_violation(wave, g.keys[k], name[g.units[i]], "", "background_level",
                                g.n[i, :, k].sum(), f"{by} groups published at level "
                                f"{tree.level[g.units[i]]}, outside background_levels "
                                f"{list(policy.background_levels)}"))
    for k in range(len(g.keys)):
        shows = cells[:, :, k].any(axis=1)
        known = ~np.isnan(g.total[:, k])
        rest = np.where(known, g.total[:, k], 0.0) - np.where(cells[:, :, k], g.n[:, :, k],
                                                              0).sum(axis=1)
        for i in np.flatnonzero(shows & known & ~g.total_pub[:, k]):
            found.append(_violation(wave, g.keys[k], name[g.units[i]], "", "group_complement",
                                    g.total[i, k], f"{by} groups published at a unit whose "
                                    f"total is suppressed"))
        for i in np.flatnonzero(shows & g.total_pub[:, k] & (rest > 0) & (rest < min_n)):
            found.append(_violation(wave, g.keys[k], name[g.units[i]], _OTHER,
                                    "group_complement", rest[i],
                                    f"total {g.total[i, k]:g} minus the published {by} groups "
                                    f"leaves {rest[i]:g} persons"))
        # A unit above at an allowed level claims the groups of its subtree when its total
        # is published (or, without totals, when it shows groups itself).
        claims = np.zeros(len(tree.index), dtype=bool)
        if totals is not None:
            tk = np.flatnonzero(totals.keys == g.keys[k])
            if len(tk):
                col = tk[0]
                claims = totals.present[:, col] & ~totals.prior[:, col] & (
                    totals.n[:, col] > 0)
        claims[g.units[shows]] = True
        claims &= np.isin(tree.level, policy.background_levels)
        for i in np.flatnonzero(shows & _below_claim(tree, g.units, claims)):
            found.append(_violation(wave, g.keys[k], name[g.units[i]], "", "group_nesting",
                                    g.n[i, :, k].sum(), f"{by} groups published below a unit "
                                    f"at an allowed level whose total or groups are published"
                                    f": differences of nested groups are not checked"))
    return found


def audit(table: pd.DataFrame, hierarchy: Hierarchy, policy: PrivacyPolicy,
          totals: pd.DataFrame | None = None) -> pd.DataFrame:
    """List what subtracting the published numbers of a table could reveal.

    Works from the published cells and their ``n`` alone (what a reader of the table has):
    rows with ``suppressed`` true (or missing rows) count as not published.

    Parameters
    ----------
    table
        A published table (e.g. :func:`protect`'s result, possibly filtered to some units or
        keys): ``unit_id, key, n`` (+ ``wave``, ``suppressed``, and ``by, group`` for groups).
        Several waves are audited one by one.
    hierarchy
        The org tree of the table's wave(s).
    policy
        The privacy policy.
    totals
        For group rows without unit rows in ``table``: the published unit table; without
        either, the rest-of-total checks are skipped.

    Returns
    -------
    DataFrame
        One row per violation, empty when the table is safe: ``wave, key, unit_id, group,
        check, n, detail``. ``check`` is ``min_n`` (a published cell with 0 < n < min_n),
        ``atom`` (a published unit minus its nearest published descendants leaves
        1 .. min_n - 1 persons), ``group_complement`` (a unit total minus its published
        groups leaves 1 .. min_n - 1 persons, ``group`` "(other)"; or groups shown under a
        hidden total), ``group_nesting`` (groups shown at a unit below another unit at an
        allowed level whose total is published: differences of nested groups are not
        checked, :func:`protect` never publishes them) or ``background_level`` (groups at a
        level the policy does not allow). ``n`` is the number of persons isolated (or shown).
    """
    if not isinstance(policy, PrivacyPolicy):
        raise UsageError("audit needs a PrivacyPolicy, e.g. PrivacyPolicy.from_config("
                         "survey.config)")
    _require(table, ("unit_id", "key", "n"), "audit")
    tree = _tree(hierarchy)
    found: list[dict] = []
    waves = table["wave"].astype(str) if "wave" in table.columns else pd.Series(
        [""] * len(table), index=table.index)
    for wave in pd.unique(waves):
        part = table.loc[(waves == wave).to_numpy()]
        label = part["wave"].iloc[0] if "wave" in part.columns else None
        grouped = _group_rows(part)
        plain = part.loc[~grouped]
        if len(plain):
            found += _audit_units(plain, tree, policy.min_n, label)
        if not grouped.any():
            continue
        source = plain
        if not len(plain) and totals is not None:
            source = totals.loc[~_group_rows(totals)]
            if "wave" in source.columns:
                source = source.loc[(source["wave"].astype(str) == wave).to_numpy()]
        total_grid = _grid(source, tree, complete=False) if len(source) else None
        rows = part.loc[grouped]
        by = rows["by"].astype(str)
        for var in pd.unique(by):
            sub = rows.loc[(by == var).to_numpy()]
            sub = sub.loc[sub["n"].notna() | ~_flags(sub)]  # counts removed by protect
            g = _groups(sub, tree, total_grid, var, complete=False)
            pub = g.present & ~g.prior & (g.n > 0)
            found += _audit_group_cells(g, pub, tree, policy, var, total_grid, label)
    return pd.DataFrame(found, columns=list(AUDIT_COLUMNS)).astype({"n": "int64"})
