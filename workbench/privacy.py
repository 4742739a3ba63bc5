"""Privacy: one joint decision for everything a wave publishes, and an attacker-style audit.

The model (DESIGN.md, privacy rules)
------------------------------------
Every number the workbench publishes is a statistic of a *cell*: the persons of one *block*
in a unit's subtree, or in one background group of a unit. A block is a population together
with everything measured on it:

- a **factor block**: the persons with a score on the factor. Its keys are the factor and its
  items, and each item counts only the scored persons who answered it (one population per
  factor), so the factor's distribution is exactly the sum of its items' distributions and
  no table counts someone another table leaves out;
- an **extra-question block**: the persons who answered the question (a question asked only
  of some, such as the usefulness of an appraisal, is published only where the question it
  depends on is);
- the **respondents block**: everyone who answered at all (answers and response rates).

Values of different blocks are different numbers (another factor's scores, another
question's codes), so subtracting across blocks compares counts of persons at most, never
what anyone answered. Within a block one decision covers every key: a cell is published for
the factor and all its items, or not at all. The published unit cells of a key then form a
laminar family (two subtrees are nested or disjoint), and every linear combination of them
is a combination of *atoms*: for a published unit P, atom(P) = P minus its nearest published
descendants. Nobody can isolate a smaller set of persons than an atom.

Rules, per wave and block:

1. *Primary*: a cell is published only when its block's lead key has at least ``min_n``
   persons and every key has 0 or at least ``min_n`` (a factor with an item that only 3
   scored persons answered is hidden as a whole).
2. *Complement*: every atom of every key holds 0 or at least ``min_n`` persons.
3. *Least loss*: while an atom is too small, one of its nearest published descendants is
   hidden (its atom joins P's), the cheapest that makes progress: the smallest, and for a
   unit of 20 or more answers the cost grows with the number of blocks that already hide
   it, so that protecting a parent's few own members costs a large child one factor here
   and another there instead of its whole report; hiding it in every factor block costs
   most of all, and is chosen only when no other cell, nor a path of cells through one
   whose atom is empty (a unit without own members, hidden with one of its children),
   protects the same persons. A unit's own cell is never hidden to protect its members:
   hiding is always of a descendant, never of the unit the leader reports on.
4. *Groups* (gender, position, ...): only at the hierarchy levels of ``background_levels``,
   at the upper unit when nested levels are allowed; each group needs the rule 1 counts,
   and the unit total minus the published groups (persons with another or an empty value)
   must hold 0 or at least ``min_n`` persons for every key; the smallest group goes first.
   The groups also hold against a reader who knows who is where (:func:`_pure_safe`: an
   all-male unit taken from the top unit's men), and a group shows its factor means only:
   with its items and answer counts, the non-negative counts of who answered what bound a
   small hidden cell until its answers are pinned (reason ``group_detail``).
5. A hidden cell shows no statistic and no count (only its headcount ``invited``).

:func:`audit` is the attacker: it reads only published tables (what anyone has), and lists
every set of fewer than ``min_n`` persons that subtracting published numbers can isolate,
within and across tables.

Examples
--------
>>> from workbench.privacy import PrivacyPolicy
>>> PrivacyPolicy(min_n=5).min_n
5
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from workbench.agreement import icc_of_sums
from workbench.errors import UsageError
from workbench.org import Hierarchy
from workbench.survey import MIN_N_DEFAULT, MIN_N_FLOOR

__all__ = ["PrivacyPolicy", "Block", "GroupCounts", "Decision", "decide", "audit",
           "check_background", "REASONS", "AUDIT_COLUMNS", "VALUE_COLUMNS", "COUNT_COLUMNS",
           "value_columns", "LARGE_UNIT"]

#: ``reason`` codes ("" = published): ``no_answers`` nobody in the cell, ``min_n`` fewer than
#: ``min_n`` persons (for some key of the block), ``complement`` hidden so that no subtraction
#: reveals a smaller group, ``background_level`` group rows of a unit below another unit that
#: shows the groups, or of a unit whose own cell is hidden.
REASONS = ("min_n", "no_answers", "complement", "background_level", "group_detail")

#: Columns of :func:`audit`'s result.
AUDIT_COLUMNS = ("wave", "table", "key", "unit_id", "group", "check", "n", "detail")

#: Statistics a hidden row leaves empty (plus every ``pct_<point>``).
VALUE_COLUMNS = ("mean", "sd", "se", "ci_low", "ci_high", "moe", "top_box", "top_box_low",
                 "top_box_high", "rwg")

#: Counts a hidden row leaves empty too.
COUNT_COLUMNS = ("n", "answers")

#: A unit with at least this many answers is one a leader reports on: rule 3 spreads its
#: loss over blocks and hides it wholly only when nothing else can protect the same persons.
LARGE_UNIT = 20

#: How much each earlier hiding of a large unit adds to its cost (rule 3).
_SPREAD = 2.0

#: The cost of a large unit's last shown factor cell: taken only when nothing else will do.
_LAST = 1e12


def value_columns(table: pd.DataFrame) -> list[str]:
    """The columns of ``table`` that a hidden row leaves empty (mean .. top_box, rwg)."""
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
class Tree:
    """Parent positions (``-1`` for the root), depths and units per depth, in hierarchy order."""

    index: pd.Index
    parent: np.ndarray
    level: np.ndarray
    by_level: tuple[np.ndarray, ...]  # depth 1, 2, ...: positions of the units at that depth

    @classmethod
    def of(cls, hierarchy: Hierarchy) -> "Tree":
        index = pd.Index(hierarchy.units["unit_id"])
        parent = index.get_indexer(hierarchy.units["parent_id"])  # "" (the root) -> -1
        level = hierarchy.units["level"].to_numpy(dtype=np.int64)
        depth = int(level.max()) if len(level) else 0
        by_level = tuple(np.flatnonzero(level == d) for d in range(1, depth + 1))
        return cls(index=index, parent=parent, level=level, by_level=by_level)

    @property
    def root(self) -> int:
        """The position of the top unit."""
        return int(np.flatnonzero(self.parent < 0)[0])

    def subtree(self, unit: int) -> np.ndarray:
        """Per unit: it is ``unit`` or below it."""
        inside = np.zeros(len(self.parent), dtype=bool)
        inside[unit] = True
        for idx in self.by_level:
            inside[idx] |= inside[self.parent[idx]]
        return inside

    def nearest_published(self, pub: np.ndarray) -> np.ndarray:
        """Nearest published proper ancestor of every unit (-1: none); ``pub`` is (units,)."""
        npa = np.full(len(pub), -1, dtype=np.int64)
        for idx in self.by_level:
            p = self.parent[idx]
            npa[idx] = np.where(pub[p], p, npa[p])
        return npa

    def below(self, claims: np.ndarray) -> np.ndarray:
        """Per unit: some strict ancestor has ``claims`` true."""
        out = np.zeros(len(claims), dtype=bool)
        for idx in self.by_level:
            p = self.parent[idx]
            out[idx] = claims[p] | out[p]
        return out


def atoms(n: np.ndarray, pub: np.ndarray, npa: np.ndarray) -> np.ndarray:
    """atom(P) = n_P minus the n of the published units whose nearest published ancestor is P.

    ``n`` is (units x keys), ``pub`` and ``npa`` (units,); 0 where P is not published.
    """
    inner = pub & (npa >= 0)
    taken = np.zeros(n.shape)
    np.add.at(taken, npa[inner], n[inner])
    return np.where(pub[:, None], n - taken, 0.0)


def _deficit(atom: np.ndarray, min_n: int) -> np.ndarray:
    """How far each row's atoms are from safe: sum of min_n - a over keys with 0 < a < min_n."""
    small = (atom > 0) & (atom < min_n)
    return np.where(small, min_n - atom, 0.0).sum(axis=-1)


# --------------------------------------------------------------------------------------------
# Blocks and the decision


@dataclass(frozen=True, eq=False)
class GroupCounts:
    """Subtree counts of the groups of one background variable, for one block.

    Attributes
    ----------
    values
        The variable's codes.
    n
        Persons of the block per unit, group and key (units x values x keys), subtree totals,
        units in hierarchy order (only units at allowed levels are read).
    """

    values: tuple[str, ...]
    n: np.ndarray


@dataclass(frozen=True, eq=False)
class Block:
    """One population and the keys measured on it (see the module text).

    Attributes
    ----------
    name
        E.g. ``factor:AUT``, ``extra:hours``, ``respondents``.
    keys
        The keys published together; the first is the lead key (the factor, the question).
    n
        Persons per unit and key (units x keys), subtree totals, hierarchy order.
    groups
        Background variable -> its group counts (only where groups are published).
    requires
        The name of a block whose published cells bound this one's (a question asked only
        of some: published only where the question it depends on is).
    kind
        ``factor``, ``answers``, ``extra`` or ``respondents``; rule 3 spreads the loss over
        factor blocks.
    checked
        Keys whose counts are never shown but must not be isolated either: they are left
        out of rule 1 and held to rule 2 (every atom 0 or >= min_n), and a group cell, its
        own atom, holds 0 or >= min_n of them (e.g. the persons who skipped some items).
    """

    name: str
    keys: tuple[str, ...]
    n: np.ndarray
    groups: Mapping[str, GroupCounts] = field(default_factory=dict)
    requires: str | None = None
    kind: str = "factor"
    checked: tuple[str, ...] = ()


@dataclass(frozen=True, eq=False)
class Decision:
    """What one block publishes.

    Attributes
    ----------
    published
        Per unit (hierarchy order): the cell is published for every key of the block.
    reason
        Per unit: "" or a code of :data:`REASONS`.
    groups
        Background variable -> (published (units x values), reason (units x values)); group
        cells of units where the variable is not shown have reason ``background_level``
        (below an upper unit that shows it, or the unit's own cell hidden) or "" with
        published False for units at levels where groups are never shown.
    """

    published: np.ndarray
    reason: np.ndarray
    groups: Mapping[str, tuple[np.ndarray, np.ndarray]]


def _primary(n: np.ndarray, min_n: int, counted: np.ndarray | None = None) -> np.ndarray:
    """Rule 1: the lead key has at least min_n persons, every counted key 0 or >= min_n."""
    lead = n[:, 0]
    ok = (n >= min_n) | (n == 0)
    if counted is not None:
        ok = ok[:, counted]
    return (lead >= min_n) & ok.all(axis=1)


def _counted(block: "Block") -> np.ndarray:
    return np.array([k not in block.checked for k in block.keys], dtype=bool)


def _reasons(n: np.ndarray, pub: np.ndarray, min_n: int, counted: np.ndarray,
             size: np.ndarray) -> np.ndarray:
    primary = _primary(n, min_n, counted)
    # "no answers" only where nobody of the unit answered at all (``size``, the unit's
    # respondents): that none of a small unit's persons got a score, answered a question or
    # gave the answer a follow-up depends on is a count below min_n on a hidden cell
    none = (size == 0) & (n[:, counted].max(axis=1, initial=0) == 0)
    return np.select([pub, none, ~primary], ["", "no_answers", "min_n"],
                     "complement").astype(object)


def _complement(tree: Tree, n: np.ndarray, pub: np.ndarray, min_n: int,
                cost: np.ndarray, movable: np.ndarray) -> np.ndarray:
    """Rules 2 and 3: hide cells until every atom of every key is 0 or >= min_n.

    Each round takes every published P with a too-small atom whose nearest published
    descendants have safe atoms themselves (the deepest problems first) and hides one cell:
    one of those descendants (its atom joins P's), or P itself when P is ``movable`` (not a
    unit a leader reports on, never the root: P's atom then joins its nearest published
    ancestor's, which protects a chain of small parents with one cell). The choice leaves
    the least deficit (persons missing to min_n) in the atoms it touches, then costs least.
    A cell with an empty atom changes nothing by itself and is taken only to reach its
    descendants. Every round hides at least one cell, so the loop ends; at worst P's atom is
    all of P (>= min_n).
    """
    pub = pub.copy()
    while True:
        npa = tree.nearest_published(pub)
        atom = atoms(n, pub, npa)
        deficit = _deficit(atom, min_n)
        bad = pub & (deficit > 0)
        if not bad.any():
            return pub
        inner = np.flatnonzero(pub & (npa >= 0))
        owner = npa[inner]
        blocked = np.zeros(len(pub), dtype=bool)
        blocked[owner[bad[inner]]] = True  # P has a problem below it: that one first
        order = np.argsort(owner, kind="stable")
        inner, owner = inner[order], owner[order]
        todo = np.flatnonzero(bad & ~blocked)
        starts = np.searchsorted(owner, todo)
        for p, start in zip(todo, starts):
            stop = np.searchsorted(owner, p, side="right")
            kids = inner[start:stop]
            after = _deficit(atom[p][None, :] + atom[kids], min_n)
            cand, left, price = list(kids), list(after), list(cost[kids])
            empty = list(~(atom[kids] > 0).any(axis=1))
            q = npa[p]
            if movable[p] and q >= 0:
                cand.append(p)
                left.append(_deficit(atom[q] + atom[p], min_n) - deficit[q])
                price.append(cost[p])
                empty.append(False)
            if not cand:  # not reachable with subtree totals (primary holds); safe anyway
                pub[p] = False
                continue
            # a large unit's last shown cell goes only when no other cell, nor a path of
            # cells through an emptied one, can protect the same persons
            last = np.asarray(price) >= _LAST
            rank = np.lexsort((np.asarray(price), np.asarray(empty), np.asarray(left), last))
            pub[cand[rank[0]]] = False


def _safe(tree: Tree, n: np.ndarray, pub: np.ndarray, min_n: int) -> bool:
    atom = atoms(n, pub, tree.nearest_published(pub))
    return not ((atom > 0) & (atom < min_n)).any()


def _restore(tree: Tree, n: np.ndarray, pub: np.ndarray, eligible: np.ndarray, min_n: int,
             cost: np.ndarray) -> np.ndarray:
    """Rule 3's second half: publish again every hidden cell that the family can take back.

    Hiding bottom-up can hide a child for its parent's sake and then the parent itself for
    the grandparent's; the child was then hidden for nothing. Each complement-hidden cell,
    the most valuable first, is published again when every atom stays safe.
    """
    pub = pub.copy()
    for u in np.flatnonzero(eligible & ~pub)[np.argsort(-cost[eligible & ~pub],
                                                        kind="stable")]:
        pub[u] = True
        if not _safe(tree, n, pub, min_n):
            pub[u] = False
    return pub


def decide(hierarchy: Hierarchy, blocks: Sequence[Block], policy: "PrivacyPolicy",
           answers: np.ndarray | None = None) -> dict[str, Decision]:
    """One privacy decision for every block of one wave (rules 1-5 of the module text).

    Parameters
    ----------
    hierarchy
        The wave's org tree.
    blocks
        Every block the wave publishes; a block's ``requires`` must come before it.
    policy
        The privacy policy.
    answers
        Persons who answered at all per unit (subtree totals): the size rule 3 reads to
        tell a unit a leader reports on (default: each block's lead key).

    Returns
    -------
    dict
        Block name -> :class:`Decision`.

    Examples
    --------
    A faculty R with two own members and two departments: one department must be hidden,
    the smaller one (its own cell only; nothing else changes).

    >>> import numpy as np, pandas as pd
    >>> from workbench.org import Hierarchy
    >>> h = Hierarchy.from_frame(pd.DataFrame({"unit_id": ["R", "A", "B"],
    ...                                        "parent_id": ["", "R", "R"],
    ...                                        "name": ["R", "A", "B"]}))
    >>> block = Block("factor:F1", ("F1",), np.array([[32.0], [20.0], [10.0]]))
    >>> d = decide(h, [block], PrivacyPolicy(min_n=5))["factor:F1"]
    >>> d.published.tolist(), d.reason.tolist()
    ([True, True, False], ['', '', 'complement'])
    """
    tree = Tree.of(hierarchy)
    min_n = policy.min_n
    units = len(tree.index)
    allowed = np.isin(tree.level, policy.background_levels)
    factor_blocks = sum(1 for b in blocks if b.kind == "factor")
    hidden_count = np.zeros(units)
    out: dict[str, Decision] = {}
    for block in blocks:
        n = np.asarray(block.n, dtype="float64")
        if n.shape != (units, len(block.keys)):
            raise UsageError(f"block {block.name}: counts of shape {n.shape}, expected "
                             f"{(units, len(block.keys))} (units x keys)")
        size = n[:, 0] if answers is None else np.asarray(answers, dtype="float64")
        counted = _counted(block)
        pub = _primary(n, min_n, counted)
        if block.requires is not None:
            if block.requires not in out:
                raise UsageError(f"block {block.name} requires {block.requires}, which must "
                                 f"come before it")
            pub &= out[block.requires].published
        large = size >= LARGE_UNIT
        cost = n[:, 0].copy()
        if block.kind == "factor":
            # any large unit costs more than any small one; among large units, each factor
            # already hidden weighs more than size, so the loss is spread over them
            cost = np.where(large, LARGE_UNIT + np.sqrt(n[:, 0]) * (1.0 + _SPREAD *
                                                                    hidden_count), cost)
            # hiding a large unit in the last factor block that still shows it: only when
            # nothing else can protect the same persons
            cost = np.where(large & (hidden_count >= factor_blocks - 1), cost + _LAST, cost)
        # a unit may be hidden itself (its atom joining the one above) only when it is small
        movable = (tree.parent >= 0) & ~large
        pub = _restore(tree, n, _complement(tree, n, pub, min_n, cost, movable), pub, min_n,
                       cost)
        reason = _reasons(n, pub, min_n, counted, size)
        if block.requires is not None:
            # a question asked only of some: a hidden cell says why its lead is hidden
            lead = out[block.requires]
            reason = np.where(~pub & ~lead.published, lead.reason, reason)
        if block.kind == "factor":
            hidden_count += ~pub & (n[:, 0] > 0)
        groups = {}
        for var, counts in block.groups.items():
            groups[var] = _decide_groups(tree, counts, n, pub, allowed, min_n, counted,
                                         size)
        out[block.name] = Decision(published=pub, reason=reason, groups=groups)
    return out


def _decide_groups(tree: Tree, counts: GroupCounts, total: np.ndarray, total_pub: np.ndarray,
                   allowed: np.ndarray, min_n: int, counted: np.ndarray,
                   size: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rule 4 for one variable: published group cells and their reasons (units x values).

    Groups are shown only at the *top* units: at an allowed level, with their own cell
    published, and no unit above them doing the same. Top units are disjoint, and all a
    reader learns about one is its cell and atoms, the group counts (margins of a unit x
    group table) and the group sums: with margins only, no cell of that table is known to be
    empty, so no subtraction isolates the persons of one value inside a unit part. Groups at
    nested units would (a group minus the same group below), so those rows show nothing.
    """
    g = np.asarray(counts.n, dtype="float64")
    units, values, keys = g.shape
    claims = allowed & total_pub
    top = claims & ~tree.below(claims)
    pub = np.zeros((units, values), dtype=bool)
    reason = np.full((units, values), "", dtype=object)
    npa = tree.nearest_published(total_pub)
    atom_total = atoms(total, total_pub, npa)
    atom_groups = atoms(g.reshape(units, -1), total_pub, npa).reshape(units, values, keys)
    for u in np.flatnonzero(top):
        cells = g[u]  # values x keys
        inside = tree.subtree(u) & total_pub
        # a group cell is its own atom: checked keys too hold 0 or >= min_n
        chosen = (cells[:, 0] >= min_n) & ((cells >= min_n) | (cells == 0)).all(axis=1)
        while chosen.any():
            rest = total[u] - cells[chosen].sum(axis=0)
            if not ((rest > 0) & (rest < min_n)).any() and _pure_safe(
                    atom_total[inside], atom_groups[inside][:, chosen], min_n):
                break
            candidates = np.flatnonzero(chosen)
            chosen[candidates[np.argmin(cells[candidates, 0])]] = False
        pub[u] = chosen
        ok = (cells >= min_n) | (cells == 0)
        primary = (cells[:, 0] >= min_n) & ok[:, counted].all(axis=1)
        reason[u] = np.select([chosen, cells[:, 0] == 0, ~primary],
                              ["", "no_answers", "min_n"], "complement")
    # as for the unit's own cells: "no answers" only where nobody of the unit answered at all
    nobody = size == 0
    reason[allowed & ~top & ~nobody] = "background_level"
    reason[allowed & ~top & nobody] = "no_answers"
    return pub, reason


def _pure_safe(total: np.ndarray, groups: np.ndarray, min_n: int) -> bool:
    """Whether a top unit's group cells hold against a reader who knows who is where.

    ``total`` (atoms x keys) and ``groups`` (atoms x chosen values x keys) count the persons
    of the atoms of the published units inside the top unit, and the chosen values among
    them. A reader who knows that an atom's persons all share one value (an all-male
    workshop) subtracts it from that value's group cell; what is left is the value's persons
    in mixed atoms, and where that is one atom, the rest of that atom too. Both must hold 0
    or at least ``min_n`` persons, for every chosen value and for the persons of the other
    values and none (the unit total minus the chosen groups).
    """
    parts = np.concatenate([groups, (total - groups.sum(axis=1))[:, None, :]], axis=1)
    mixed = (parts > 0) & (parts < total[:, None, :])
    left = np.where(mixed, parts, 0.0).sum(axis=0)  # values x keys
    if ((left > 0) & (left < min_n)).any():
        return False
    alone = mixed.sum(axis=0) == 1  # one mixed atom: its other persons follow as well
    others = np.where(mixed, total[:, None, :] - parts, 0.0).sum(axis=0)
    return not (alone & (others > 0) & (others < min_n)).any()


# --------------------------------------------------------------------------------------------
# The attacker: what the published tables give away


def _violation(wave: Any, table: str, key: str, unit: str, group: str, check: str, n: float,
               detail: str) -> dict:
    return {"wave": str(wave), "table": table, "key": str(key), "unit_id": str(unit),
            "group": str(group), "check": check, "n": int(round(float(n))), "detail": detail}


def _shown(table: pd.DataFrame) -> np.ndarray:
    """Rows that publish numbers: not suppressed (a missing column: every row)."""
    if "suppressed" not in table.columns:
        return np.ones(len(table), dtype=bool)
    return ~table["suppressed"].astype("boolean").fillna(True).to_numpy(dtype=bool)


def _hidden_rows(table: pd.DataFrame, name: str, wave: Any) -> list[dict]:
    """Rule 5: a hidden row shows no statistic and no count."""
    found = []
    hidden = ~_shown(table)
    # ``answers`` beside a hidden statistic is the respondents' count, checked in ``rates``
    counts = {"rates": ("answers",), "comparisons": ("n", "other_n")}.get(name, ("n",))
    columns = [c for c in [*counts, *value_columns(table), "share", "rate", "diff", "p", "d",
                           "other_mean", "other_sd"] if c in table.columns]
    for column in columns:
        values = pd.to_numeric(table[column], errors="coerce").to_numpy(dtype="float64",
                                                                        na_value=np.nan)
        leak = hidden & np.isfinite(values)
        if "n" == column:
            leak &= values != 0  # nobody there: a known zero
        for i in np.flatnonzero(leak)[:50]:
            row = table.iloc[i]
            found.append(_violation(wave, name, row.get("key", ""), row["unit_id"],
                                    row.get("group", ""), "hidden_value", values[i],
                                    f"hidden row shows {column} = {values[i]:g}"))
    return found


def _laminar(tree: Tree, table: pd.DataFrame, name: str, wave: Any, min_n: int,
             key_column: str = "key") -> list[dict]:
    """Rules 1-2 per key: published n >= min_n, every atom 0 or >= min_n."""
    found = []
    shown = _shown(table) & (pd.to_numeric(table["n"], errors="coerce").fillna(0) > 0
                             ).to_numpy()
    part = table.loc[shown]
    if part.empty:
        return found
    pos = tree.index.get_indexer(part["unit_id"].astype(str))
    if (pos < 0).any():
        unknown = part["unit_id"].iloc[int(np.flatnonzero(pos < 0)[0])]
        found.append(_violation(wave, name, "", unknown, "", "unknown_unit", 0,
                                "a published row names a unit that is not in the hierarchy"))
        keep = pos >= 0
        part, pos = part.loc[keep], pos[keep]
    n_all = part["n"].to_numpy(dtype="float64")
    keys = part[key_column].astype(str).to_numpy()
    for key in pd.unique(keys):
        rows = keys == key
        n = np.zeros(len(tree.index))
        pub = np.zeros(len(tree.index), dtype=bool)
        n[pos[rows]] = n_all[rows]
        pub[pos[rows]] = True
        for u in np.flatnonzero(pub & (n < min_n)):
            found.append(_violation(wave, name, key, tree.index[u], "", "min_n", n[u],
                                    f"published with n = {n[u]:g} < {min_n}"))
        atom = atoms(n[:, None], pub, tree.nearest_published(pub))[:, 0]
        for u in np.flatnonzero(pub & (atom > 0) & (atom < min_n)):
            found.append(_violation(wave, name, key, tree.index[u], "", "atom", atom[u],
                                    f"n = {n[u]:g} minus its nearest published descendants "
                                    f"leaves {atom[u]:g} persons"))
    return found


def _blocks(factors: pd.DataFrame, items: pd.DataFrame, wave: Any) -> list[dict]:
    """A factor's distribution and its items' cells go together.

    The factor's distribution is the sum of its items': shown beside some of its items it
    would give away the others; an item shown where the distribution is hidden would
    publish part of a hidden cell.
    """
    found = []
    if factors.empty or items.empty or "factor" not in items.columns:
        return found
    shown = _shown(factors)
    if "dist_suppressed" in factors.columns:
        shown &= ~factors["dist_suppressed"].astype("boolean").fillna(True).to_numpy(bool)
    f = pd.Series(shown, index=pd.MultiIndex.from_arrays([factors["unit_id"],
                                                          factors["key"]]))
    it = items.assign(_shown=_shown(items))
    empty = it.get("reason", pd.Series("", index=it.index)).astype(str) == "no_answers"
    it = it.assign(_empty=empty.to_numpy())
    lead = f.reindex(pd.MultiIndex.from_arrays([it["unit_id"], it["factor"]]),
                     fill_value=False).to_numpy(dtype=bool)
    orphan = it["_shown"].to_numpy() & ~lead
    missing = lead & ~it["_shown"].to_numpy() & ~it["_empty"].to_numpy()
    for i in np.flatnonzero(orphan | missing)[:100]:
        row = it.iloc[i]
        what = ("item shown while its factor's distribution is hidden" if orphan[i] else
                "factor's distribution shown while this item of it is hidden")
        found.append(_violation(wave, "items", row["key"], row["unit_id"], "", "block", 0,
                                what))
    return found


def _skippers(tree: Tree, factors: pd.DataFrame, items: pd.DataFrame, wave: Any,
              min_n: int) -> list[dict]:
    """The persons who skipped some of a factor's items, per atom of its answers.

    A factor's mean is over persons (each the mean of the items they answered) and its
    items' sums are over answers: in an atom where both are published, the two give away
    the weighted total of the persons who skipped items. Their number follows from the
    published n: each item's n falls short of the factor's by the persons who skipped it,
    so the atom holds at least the largest and at most the sum of those shortfalls. A
    finding when that is certainly 1 .. min_n - 1.
    """
    found = []
    if factors.empty or items.empty or "factor" not in items.columns:
        return found
    f_shown = factors.loc[_shown(factors)]
    factor_n = pd.Series(f_shown["n"].to_numpy(dtype="float64"),
                         index=pd.MultiIndex.from_arrays([f_shown["unit_id"], f_shown["key"]]))
    live = items.loc[_shown(items) | (items.get("reason", "") == "no_answers")]
    for factor, part in live.groupby("factor", sort=False):
        units = pd.unique(part["unit_id"])
        pos = tree.index.get_indexer(units)
        keep = pos >= 0
        units, pos = units[keep], pos[keep]
        pub = np.zeros(len(tree.index), dtype=bool)
        pub[pos] = True
        total = np.zeros((len(tree.index), 1))
        total[pos, 0] = factor_n.reindex(pd.MultiIndex.from_arrays(
            [units, np.full(len(units), factor)])).to_numpy()
        keys = pd.unique(part["key"])
        n = np.zeros((len(tree.index), len(keys)))
        table = part.pivot_table(index="unit_id", columns="key", values="n", aggfunc="first")
        n[pos] = table.reindex(index=units, columns=keys).fillna(0).to_numpy()
        npa = tree.nearest_published(pub)
        short = atoms(total, pub, npa) - atoms(n, pub, npa)
        low, high = short.max(axis=1), short.sum(axis=1)
        for u in np.flatnonzero(pub & (low > 0) & (high < min_n)):
            found.append(_violation(wave, "items", factor, tree.index[u], "", "skippers",
                                    high[u], f"the factor's mean and its items' sums give "
                                    f"away the total of the {low[u]:g}-{high[u]:g} persons "
                                    f"who skipped some of its items"))
    return found


def _group_checks(tree: Tree, groups: pd.DataFrame, totals: pd.DataFrame, name: str,
                  wave: Any, policy: "PrivacyPolicy") -> list[dict]:
    """Rule 4 from the published rows: group minimums, the rest of each total, nesting."""
    found = []
    min_n = policy.min_n
    if groups.empty:
        return found
    n = pd.to_numeric(groups["n"], errors="coerce").fillna(0).to_numpy()
    live = _shown(groups) & (n > 0)
    if not live.any():
        return found
    g = groups.loc[live].assign(n=n[live])
    g = g.assign(unit_id=g["unit_id"].astype(str), key=g["key"].astype(str))
    for r in g.loc[g["n"] < min_n].itertuples(index=False):
        found.append(_violation(wave, name, r.key, r.unit_id, r.group, "min_n", r.n,
                                f"{r.by} = {r.group} published with n = {r.n:g}"))
    level = pd.Series(tree.level, index=tree.index)
    depth = level.reindex(g["unit_id"]).fillna(-1).astype(int).to_numpy()
    for r in g.loc[~np.isin(depth, policy.background_levels)].itertuples(index=False):
        found.append(_violation(wave, name, r.key, r.unit_id, "", "background_level", r.n,
                                f"{r.by} groups at a level outside background_levels"))
    cells = g.groupby(["by", "unit_id", "key"], sort=False)["n"].sum().reset_index()
    t = totals.loc[_shown(totals)]
    t = pd.Series(t["n"].to_numpy(dtype="float64"),
                  index=pd.MultiIndex.from_arrays([t["unit_id"].astype(str),
                                                   t["key"].astype(str)]))
    total = t.reindex(pd.MultiIndex.from_arrays([cells["unit_id"], cells["key"]])).to_numpy()
    for r in cells.loc[np.isnan(total)].itertuples(index=False):
        found.append(_violation(wave, name, r.key, r.unit_id, "", "group_complement", r.n,
                                f"{r.by} groups under a hidden total"))
    rest = total - cells["n"].to_numpy()
    for i in np.flatnonzero((rest > 0) & (rest < min_n)):
        r = cells.iloc[i]
        found.append(_violation(wave, name, r["key"], r["unit_id"], "(other)",
                                "group_complement", rest[i], f"the total minus the published "
                                f"{r['by']} groups leaves {rest[i]:g} persons"))
    # per key: a group of one factor below another factor's groups subtracts nothing
    for (by, key), part in cells.groupby(["by", "key"], sort=False):
        pos = tree.index.get_indexer(part["unit_id"].unique())
        claims = np.zeros(len(tree.index), dtype=bool)
        claims[pos[pos >= 0]] = True
        nested = tree.below(claims)
        for u in pos[(pos >= 0)]:
            if nested[u]:
                found.append(_violation(wave, name, key, tree.index[u], "", "group_nesting", 0,
                                        f"{by} groups below a unit that shows {by} groups: "
                                        f"a group minus the same group below"))
    return found


def _derived(tree: Tree, derived: pd.DataFrame, base: pd.DataFrame, name: str, wave: Any,
             key_column: str = "key") -> list[dict]:
    """Rows of a derived table (distributions of scores, ...) only where the cell is shown."""
    found = []
    if derived.empty:
        return found
    shown = base.loc[_shown(base)]
    ok = pd.MultiIndex.from_frame(shown[["unit_id", "key"]].astype(str))
    index = pd.MultiIndex.from_arrays([derived["unit_id"].astype(str),
                                       derived[key_column].astype(str)])
    bad = _shown(derived) & ~index.isin(ok)
    for i in np.flatnonzero(bad)[:50]:
        row = derived.iloc[i]
        found.append(_violation(wave, name, row[key_column], row["unit_id"], "", "derived", 0,
                                "published for a cell that is hidden"))
    return found


def _group_detail(groups: pd.DataFrame, wave: Any) -> list[dict]:
    """A group shows its factor means only: no item rows, no answers' distribution."""
    found = []
    shown = _shown(groups)
    pct = [c for c in groups.columns if str(c).startswith("pct_")]
    counts = groups[pct].notna().any(axis=1).to_numpy() if pct else np.zeros(len(groups), bool)
    detail = shown & ((groups["level"] == "item").to_numpy() | counts)
    for r in groups.loc[detail].itertuples(index=False):
        found.append(_violation(wave, "groups", r.key, r.unit_id, r.group, "group_detail",
                                0 if pd.isna(r.n) else r.n, f"{r.by} = {r.group} shows its "
                                "items or its answers' distribution"))
    return found


def _alpha(tree: Tree, reliability: pd.DataFrame, factors: pd.DataFrame, wave: Any,
           min_n: int) -> list[dict]:
    """Alpha and its counts are over the persons of the top unit's published factor cell:
    over more (the unscored who answered some items), the top unit's item means and sds let
    an attacker solve alpha for what those persons answered; beside a hidden cell, the count
    is one a hidden cell must not show."""
    found = []
    root = tree.index[tree.root]
    top = factors.loc[_shown(factors)] if not factors.empty else factors
    top = top.loc[top["unit_id"].astype(str) == root].set_index("key")["n"] if len(top) else \
        pd.Series(dtype="float64")
    for row in reliability.itertuples(index=False):
        numbers = [getattr(row, c, np.nan) for c in ("n", "n_complete", "alpha",
                                                     "alpha_listwise", "icc1", "icc2")]
        if all(pd.isna(v) for v in numbers):
            continue
        if row.factor not in top.index or pd.isna(row.n) or int(row.n) != int(top[row.factor]):
            found.append(_violation(wave, "reliability", row.factor, root, "", "alpha",
                                    0 if pd.isna(row.n) else int(row.n),
                                    "reliability counts other persons than the top unit's "
                                    "published factor cell"))
        complete = getattr(row, "n_complete", np.nan)
        if pd.notna(row.n) and pd.notna(complete) and 0 < row.n - complete < min_n:
            found.append(_violation(wave, "reliability", row.factor, root, "", "alpha",
                                    row.n - complete, "the complete answers tell how many "
                                    "(fewer than min_n) skipped some items"))
        if pd.notna(complete) and 0 < complete < min_n:
            found.append(_violation(wave, "reliability", row.factor, root, "", "alpha",
                                    complete, "fewer than min_n answered every item"))
    return found


def _icc(tree: Tree, reliability: pd.DataFrame, factors: pd.DataFrame, wave: Any
         ) -> list[dict]:
    """The ICCs follow from the published cells: the persons grouped by the atoms of a
    factor's published cells (n, sum and sum of squares by subtraction). Computed over
    other groups (hidden units), an ICC splits a hidden atom's sum between them."""
    found = []
    for row in reliability.itertuples(index=False):
        if pd.isna(row.icc1) and pd.isna(row.icc2):
            continue
        cells = factors.loc[(factors["key"] == row.factor).to_numpy() & _shown(factors)]
        pos = tree.index.get_indexer(cells["unit_id"].astype(str))
        pub = np.zeros(len(tree.index), dtype=bool)
        pub[pos[pos >= 0]] = True
        expected = (np.nan, np.nan)
        root = tree.root
        if pub[root] and (pos >= 0).all():
            n = np.zeros(len(tree.index))
            total, square = n.copy(), n.copy()
            n[pos] = cells["n"].to_numpy(dtype="float64")
            mean = cells["mean"].to_numpy(dtype="float64")
            sd = np.nan_to_num(cells["sd"].to_numpy(dtype="float64"))
            total[pos] = n[pos] * mean
            square[pos] = (n[pos] - 1) * sd ** 2 + n[pos] * mean ** 2
            stats = np.column_stack([n, total, square])
            npa = tree.nearest_published(pub)
            own = atoms(stats, pub, npa)
            expected = icc_of_sums(own[pub & (own[:, 0] > 0.5)], stats[root])
        if not (np.allclose(expected, (row.icc1, row.icc2), rtol=1e-6, atol=1e-9,
                            equal_nan=True)):
            found.append(_violation(wave, "reliability", row.factor, tree.index[root], "", "icc",
                                    0, "the ICC does not follow from the published cells (it "
                                    "was computed over hidden groups)"))
    return found


def _comparisons(tree: Tree, table: pd.DataFrame, cells: Mapping[tuple[str, str], pd.Series],
                 wave: Any, min_n: int) -> list[dict]:
    """Every tested difference only between published cells; the rest of a parent is safe."""
    found = []
    if table.empty:
        return found
    live = table.loc[_shown(table)]
    if live.empty:
        return found
    n = np.full(len(live), np.nan)
    other = np.full(len(live), np.nan)
    level = live["level"].astype(str).to_numpy()
    for lev in pd.unique(level):
        rows = level == lev
        here = cells.get((str(wave), lev))
        if here is None:
            continue
        part = live.loc[rows]
        n[rows] = here.reindex(pd.MultiIndex.from_arrays(
            [part["unit_id"].astype(str), part["key"].astype(str)])).to_numpy()
        side = part["against"].isin(["parent", "siblings"]).to_numpy()
        mine = np.full(rows.sum(), np.nan)
        mine[side] = here.reindex(pd.MultiIndex.from_arrays(
            [part["other_id"].astype(str)[side], part["key"].astype(str)[side]])).to_numpy()
        for then in pd.unique(part.loc[part["against"] == "previous", "other_wave"]):
            there = cells.get((str(then), lev))
            sel = ((part["against"] == "previous") & (part["other_wave"] == then)).to_numpy()
            if there is not None:
                # the unit's predecessors (one, or several merged into it: "A+B"), combined
                ids = part["other_id"].astype(str)[sel].str.split("+")
                keys = part["key"].astype(str)[sel]
                long = pd.DataFrame({"row": np.repeat(np.arange(sel.sum()), ids.str.len()),
                                     "unit": np.concatenate(ids.to_list()),
                                     "key": np.repeat(keys.to_numpy(), ids.str.len())})
                n_then = there.reindex(pd.MultiIndex.from_arrays(
                    [long["unit"], long["key"]])).to_numpy()
                which = long["row"].to_numpy()
                total = pd.Series(n_then).groupby(which).sum(min_count=1)
                every = pd.Series(np.isfinite(n_then)).groupby(which).all()
                mine[sel] = total.where(every).to_numpy()
        other[rows] = mine
    against = live["against"].to_numpy()
    checks = [(np.isnan(n), "the unit's cell is hidden"),
              (np.isin(against, ["parent", "siblings", "previous"]) & np.isnan(other),
               "the other cell is hidden")]
    rest = other - n
    checks.append((np.isin(against, ["parent", "siblings"]) & (rest > 0) & (rest < min_n),
                   "the rest of the parent holds fewer than min_n persons"))
    for bad, what in checks:
        for i in np.flatnonzero(bad)[:50]:
            r = live.iloc[i]
            found.append(_violation(wave, "comparisons", r["key"], r["unit_id"], "", "derived",
                                    0 if np.isnan(rest[i]) else rest[i],
                                    f"{r['against']}: {what}"))
    return found


def audit(tables: Mapping[str, pd.DataFrame], policy: "PrivacyPolicy") -> pd.DataFrame:
    """Everything an attacker can isolate from a set of published tables read together.

    Works from the published rows alone (what anyone holding the tables has): per wave, the
    unit rows of every key (factors, items, extra questions, response counts) as laminar
    families (linear differencing reaches exactly their atoms), the factor blocks across the
    factor and item tables, the background groups against their totals, and every derived
    table (comparisons, score distributions) against the cells it comes from.

    Parameters
    ----------
    tables
        ``units`` (``wave, unit_id, parent_id``: the hierarchy per wave) and any of
        ``factors``, ``items``, ``groups``, ``extras``, ``rates``, ``scores``,
        ``comparisons`` as a release writes them.
    policy
        The privacy policy.

    Returns
    -------
    DataFrame
        One row per finding, empty when nothing leaks: ``wave, table, key, unit_id, group,
        check, n, detail``. ``check``: ``min_n`` (a published cell under min_n), ``atom`` (a
        subtraction isolates 1 .. min_n - 1 persons), ``hidden_value`` (a hidden row shows a
        number), ``block`` (a factor's distribution and its items decided apart),
        ``skippers`` (a factor's mean beside its items' sums in an atom where fewer than
        min_n persons skipped some of its items), ``group_complement``,
        ``group_nesting``, ``background_level``, ``derived`` (a derived number from a hidden
        cell, or a score histogram beside a hidden distribution), ``icc`` (an ICC computed
        over groups that are not published), ``alpha`` (reliability over other persons than
        the top unit's published factor cell), ``group_detail`` (a group's items or answer
        distribution shown), ``unknown_unit``.
    """
    if not isinstance(policy, PrivacyPolicy):
        raise UsageError("audit needs a PrivacyPolicy, e.g. PrivacyPolicy.from_config("
                         "survey.config)")
    units = tables.get("units")
    if units is None or units.empty:
        raise UsageError("audit needs the units table (the hierarchy of every wave)")
    found: list[dict] = []
    empty = pd.DataFrame()

    def of_wave(name: str, wave: str) -> pd.DataFrame:
        frame = tables.get(name)
        if frame is None or frame.empty:
            return empty
        return frame.loc[(frame["wave"].astype(str) == wave).to_numpy()]

    cells: dict[tuple[str, str], pd.Series] = {}
    for name, level in (("factors", "factor"), ("items", "item")):
        frame = tables.get(name)
        if frame is None or frame.empty:
            continue
        shown = frame.loc[_shown(frame)]
        for wave, part in shown.groupby(shown["wave"].astype(str), sort=False):
            cells[(wave, level)] = part.set_index(["unit_id", "key"])["n"]
    for wave in pd.unique(units["wave"].astype(str)):
        tree = Tree.of(Hierarchy.from_frame(of_wave("units", wave)))
        factors, items = of_wave("factors", wave), of_wave("items", wave)
        for name in ("factors", "items", "rates", "extras", "groups", "scores", "comparisons"):
            frame = of_wave(name, wave)
            if not frame.empty:
                found += _hidden_rows(frame, name, wave)
        for name, frame in (("factors", factors), ("items", items)):
            if not frame.empty:
                found += _laminar(tree, frame, name, wave, policy.min_n)
        rates = of_wave("rates", wave)
        if not rates.empty:
            plain = rates.loc[rates["by"].fillna("").astype(str) == ""]
            found += _laminar(tree, plain.assign(key="answers", n=plain["answers"]), "rates",
                              wave, policy.min_n)
            grouped = rates.loc[rates["by"].fillna("").astype(str) != ""]
            if not grouped.empty:
                found += _group_checks(tree, grouped.assign(key="answers",
                                                            n=grouped["answers"]),
                                       plain.assign(key="answers", n=plain["answers"]),
                                       "rates", wave, policy)
        extras = of_wave("extras", wave)
        if not extras.empty:
            one = extras.drop_duplicates(["unit_id", "key"])
            found += _laminar(tree, one, "extras", wave, policy.min_n)
            if "block" in one.columns:
                lead = one.loc[one["block"] == one["key"]].assign(key=lambda f: f["block"])
                dependent = one.loc[one["block"] != one["key"]]
                found += _derived(tree, dependent.assign(key=dependent["block"]), lead,
                                  "extras", wave)
        found += _blocks(factors, items, wave)
        found += _skippers(tree, factors, items, wave, policy.min_n)
        groups = of_wave("groups", wave)
        if not groups.empty:
            found += _group_detail(groups, wave)
            for level, totals in (("factor", factors), ("item", items)):
                part = groups.loc[groups["level"] == level]
                if not part.empty:
                    found += _group_checks(tree, part, totals, "groups", wave, policy)
        scores = of_wave("scores", wave)
        if not scores.empty and not factors.empty:
            # beside the exact n, mean and sd a histogram gives a small cell's scores one by
            # one: only where the answers' distribution is published
            dist = factors["dist_suppressed"] if "dist_suppressed" in factors.columns else \
                factors["suppressed"]
            found += _derived(tree, scores, factors.assign(suppressed=dist), "scores", wave)
        reliability = of_wave("reliability", wave)
        if not reliability.empty:
            found += _alpha(tree, reliability, factors, wave, policy.min_n)
            if not factors.empty:
                found += _icc(tree, reliability, factors, wave)
        comparisons = of_wave("comparisons", wave)
        if not comparisons.empty:
            found += _comparisons(tree, comparisons, cells, wave, policy.min_n)
    return pd.DataFrame(found, columns=list(AUDIT_COLUMNS)).astype({"n": "int64"})
