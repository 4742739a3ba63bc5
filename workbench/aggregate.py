"""Aggregation over the hierarchy from sufficient statistics.

For every unit's *own* members (not its children) and every key (factor or item) the data
are reduced once to sufficient statistics: persons with a value ``n``, the sum and the sum of
squares of their values, and the count of answers per scale point. A unit's subtree totals
are the sums of its descendants' own totals, which one sparse matrix product gives for all
units at once. The whole organisation's table so costs about one pass over the data.

These functions produce *unprotected* numbers. Nothing here reaches a person without
:func:`workbench.privacy.protect`; use :func:`workbench.stats.stats_table`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from workbench.instrument import Instrument
from workbench.org import Hierarchy

if TYPE_CHECKING:  # scipy is imported where it is used: start-up stays light
    from scipy import sparse

__all__ = ["Sums", "own_sums", "category_sums", "rollup", "describe", "fpc_factor",
           "rollup_matrix", "subtree_totals", "wilson", "STAT_COLUMNS", "stat_columns",
           "stat_columns_for", "pct_columns", "key_scales"]

STAT_COLUMNS = ("wave", "unit_id", "unit_name", "level", "key", "label", "n", "invited", "mean",
                "sd", "se", "ci_low", "ci_high", "moe")


def stat_columns(points: int) -> list[str]:
    """The ``stats`` columns of DESIGN.md for a 1-based scale of ``points`` points, in order.

    For any instrument (a 0-4 scale, or factors with scales of their own) use
    :func:`stat_columns_for`.
    """
    return [*STAT_COLUMNS, *(f"pct_{k}" for k in range(1, points + 1)), "top_box",
            "suppressed", "reason"]


def pct_columns(instrument: Instrument) -> list[str]:
    """``pct_<point>`` for every scale point of the instrument's factors, lowest first:
    ``pct_1 .. pct_5`` on a 1-5 scale, ``pct_0 .. pct_4`` on 0-4, ``pct_0 .. pct_5`` when
    0-4 and 1-5 factors share a table."""
    return [f"pct_{p}" for p in range(min(instrument.points), max(instrument.points) + 1)]


def stat_columns_for(instrument: Instrument) -> list[str]:
    """The ``stats`` columns of DESIGN.md for ``instrument``, in order (distribution columns
    named by the scale point they count)."""
    return [*STAT_COLUMNS, *pct_columns(instrument), "top_box", "suppressed", "reason"]


def key_scales(instrument: Instrument, keys: tuple[str, ...]) -> list:
    """The answer scale of each key (a factor id or an item id)."""
    factor_ids = {f.id for f in instrument.factors}
    return [instrument.factor_scale(k) if k in factor_ids else instrument.item_scale(k)
            for k in keys]


def fpc_factor(n: np.ndarray | float, invited: np.ndarray | float,
               form: str = "design") -> np.ndarray:
    """The finite population correction for a standard error, as a factor (0..1).

    Parameters
    ----------
    n
        Persons who answered.
    invited
        Population size N (persons invited); NaN or 0 when unknown: factor 1 (no correction).
    form
        ``"design"``: sqrt(1 - n/N), the form of DESIGN.md (used everywhere by default).
        ``"statpsych"``: sqrt((N - n)/(N - 1)), the form of R's statpsych ``ci.mean.fpc``.
        The two differ by a factor sqrt(N/(N-1)): under 1% once N > 50.

    Examples
    --------
    >>> float(fpc_factor(40, 300, "statpsych")) * 3.65 / 40 ** 0.5   # ci.mean.fpc's SE
    0.5381631...
    """
    n = np.asarray(n, dtype="float64")
    big = np.asarray(invited, dtype="float64")
    known = np.isfinite(big) & (big > 0)
    safe = np.where(known, big, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        if form == "design":
            share = 1.0 - n / safe
        elif form == "statpsych":
            share = np.where(safe > 1, (safe - n) / (safe - 1.0), 0.0)
        else:
            raise ValueError(f"unknown FPC form {form!r}; use 'design' or 'statpsych'")
    return np.where(known, np.sqrt(np.clip(share, 0.0, 1.0)), 1.0)


@dataclass(frozen=True, eq=False)
class Sums:
    """Sufficient statistics for cells (unit, or unit x group) and keys.

    Attributes
    ----------
    cells
        Cell labels: unit ids, or (unit id, group) pairs when grouped.
    keys
        Factor or item ids.
    n, s1, s2
        Persons with a value, sum and sum of squares of their values (cells x keys).
    counts
        Answers per scale point (cells x keys x points).
    answers
        Persons who answered at all (cells).
    invited
        Persons invited (cells); NaN when unknown.
    points
        The scale point each slot of ``counts`` counts (empty: 1, 2, ... as before).
    grid
        Per key, a whole number L such that every value times L is whole (0: none known).
        Where it is known, ``s1 * L`` and ``s2 * L**2`` are whole numbers summed exactly,
        so that a cell's sums, and every statistic made from them, are the same to the last
        bit however its persons are split between units (:func:`rollup`): the bits of a
        published mean tell nothing about how a hidden block is divided.
    """

    cells: tuple
    keys: tuple[str, ...]
    n: np.ndarray
    s1: np.ndarray
    s2: np.ndarray
    counts: np.ndarray
    answers: np.ndarray
    invited: np.ndarray
    points: tuple[int, ...] = ()
    grid: tuple[int, ...] = ()


def _positions(index: pd.Index, labels: pd.Series) -> np.ndarray:
    """Position of each label in ``index`` (-1 when absent), each distinct label looked up
    once."""
    codes, uniques = pd.factorize(labels)
    found = index.get_indexer(pd.Index(uniques, dtype=object))
    return np.append(found, -1)[codes]


def _item_column(data: pd.DataFrame, item: str, scale, flip: bool) -> np.ndarray:
    """One item's answers as floats: missing codes and skips NaN, reversed when ``flip``."""
    values = data[item].to_numpy(dtype="float64", na_value=np.nan)
    for code in scale.missing_codes:
        values[values == code] = np.nan
    if flip:
        values = scale.min + scale.max - values
    return values


def _add_counts(out: np.ndarray, index: np.ndarray, values: np.ndarray, ok: np.ndarray,
                lowest: int, points: int) -> None:
    """Add the answers per scale point of one column to ``out`` (cells x points)."""
    flat = index[ok] * points + (values[ok].astype(np.intp) - lowest)
    out += np.bincount(flat, minlength=out.size).reshape(out.shape)


def _moments(index: np.ndarray, values: np.ndarray, size: int, grid: int = 0
             ) -> tuple[np.ndarray, ...]:
    """n, sum and sum of squares of ``values`` per cell (NaN skipped); with a ``grid`` L
    (every value times L whole) the sums are of whole numbers, exact in any order, and
    divided by L (L**2) once at the end."""
    ok = ~np.isnan(values)
    idx, v = index[ok], values[ok]
    scale = float(grid) if grid else 1.0
    v = np.rint(v * scale) if grid else v
    return (np.bincount(idx, minlength=size).astype("float64"),
            np.bincount(idx, weights=v, minlength=size) / scale,
            np.bincount(idx, weights=v * v, minlength=size) / scale ** 2)


def _whole(values: np.ndarray) -> bool:
    ok = np.isfinite(values)
    return bool(np.array_equal(values[ok], np.rint(values[ok])))


def _score_grid(low: int, high: int) -> int:
    """L for means of ``low`` to ``high`` whole numbers: the least common multiple."""
    return int(np.lcm.reduce(np.arange(max(low, 1), max(high, 1) + 1)))


def _factor_sums(data: pd.DataFrame, instrument: Instrument, index: np.ndarray, size: int,
                 lowest: int, points: int) -> tuple[np.ndarray, ...]:
    """Per cell and factor: n, sum, sum of squares of person scores, and the answers per
    scale point given by the persons with a score (reverse items flipped). One factor at a
    time, one item column at a time: no persons x items matrix."""
    factors = instrument.factors
    n = np.empty((size, len(factors)))
    s1, s2 = np.empty_like(n), np.empty_like(n)
    counts = np.zeros((size, len(factors), points))
    grid = []
    for k, factor in enumerate(factors):
        scale = instrument.factor_scale(factor)
        total = np.zeros(len(data))
        answered = np.zeros(len(data), dtype=np.int16)
        columns = []
        for item in factor.items:
            values = _item_column(data, item.id, scale, item.reverse)
            ok = ~np.isnan(values)
            np.add(total, values, out=total, where=ok)
            answered += ok
            columns.append((values, ok))
        with np.errstate(invalid="ignore", divide="ignore"):
            score = np.where(answered >= instrument.min_items(factor), total / answered, np.nan)
        # a score is a whole sum over 1 .. all items: on the grid of their common multiple
        grid.append(_score_grid(instrument.min_items(factor), len(factor.items))
                    if _whole(total) else 0)
        n[:, k], s1[:, k], s2[:, k] = _moments(index, score, size, grid[-1])
        # count only the answers of persons with a score, so that the distribution covers
        # exactly the n persons the privacy layer protects
        scored = ~np.isnan(score)
        for values, ok in columns:
            _add_counts(counts[:, k, :], index, values, ok & scored, lowest, points)
    return n, s1, s2, counts, tuple(grid)


def _item_sums(data: pd.DataFrame, instrument: Instrument, index: np.ndarray, size: int,
               lowest: int, points: int) -> tuple[np.ndarray, ...]:
    """Per cell and item: n, sum, sum of squares and answers per scale point (as given), by
    the persons with a score on the item's factor.

    One population per factor: an item counts only the persons its factor counts, so that
    no table counts someone another table leaves out.
    """
    items = instrument.items
    position = {item.id: k for k, item in enumerate(items)}
    n = np.empty((size, len(items)))
    s1, s2 = np.empty_like(n), np.empty_like(n)
    counts = np.zeros((size, len(items), points))
    grid = [0] * len(items)
    for factor in instrument.factors:
        scale = instrument.factor_scale(factor)
        columns = [_item_column(data, item.id, scale, False) for item in factor.items]
        answered = np.sum([~np.isnan(v) for v in columns], axis=0)
        scored = answered >= instrument.min_items(factor)
        for item, values in zip(factor.items, columns):
            values = np.where(scored, values, np.nan)
            k = position[item.id]
            grid[k] = 1 if _whole(values) else 0
            n[:, k], s1[:, k], s2[:, k] = _moments(index, values, size, grid[k])
            _add_counts(counts[:, k, :], index, values, ~np.isnan(values), lowest, points)
    return n, s1, s2, counts, tuple(grid)


def own_sums(data: pd.DataFrame, instrument: Instrument, hierarchy: Hierarchy,
             level: str = "factor", by: str | None = None, groups: tuple[str, ...] = (),
             headcount: pd.DataFrame | None = None) -> Sums:
    """Sufficient statistics of each unit's own members (one wave's responses).

    Parameters
    ----------
    data
        One wave's responses (raw codes), e.g. ``survey.responses`` filtered on a wave.
    instrument, hierarchy
        The instrument and that wave's hierarchy.
    level
        ``factor`` (person factor scores; distribution of all answers to the factor's items
        given by the persons with a score, reverse items flipped so that a high point is a
        good result) or ``item`` (answers as given, by the persons with a score on the
        item's factor: one population per factor).
    by, groups
        A background column and its codes: cells become (unit, group); persons with an empty
        value there are left out of every group.
    headcount
        That wave's headcount rows (``unit_id``, background columns, ``invited``), or None.
        A unit with answers but no headcount row gets ``invited`` NaN (unknown);
        :func:`rollup` makes its ancestors' NaN too.
    """
    units = hierarchy.ids
    position = pd.Index(units)
    unit_index = _positions(position, data["unit_id"])
    n_groups = max(1, len(groups))
    if by is not None:
        group_index = pd.Index(groups).get_indexer(data[by].astype(object))
        keep = group_index >= 0
        data = data.loc[keep]
        unit_index = unit_index[keep] * n_groups + group_index[keep]
    size = len(units) * n_groups
    # one distribution slot per scale point of any factor (0..5 when 0-4 and 1-5 meet)
    lowest, highest = min(instrument.points), max(instrument.points)
    points = highest - lowest + 1
    if level == "factor":
        keys = tuple(f.id for f in instrument.factors)
        n, s1, s2, counts, grid = _factor_sums(data, instrument, unit_index, size, lowest,
                                               points)
    elif level == "item":
        keys = instrument.item_ids
        n, s1, s2, counts, grid = _item_sums(data, instrument, unit_index, size, lowest,
                                             points)
    else:
        raise ValueError(f"level must be 'factor' or 'item', got {level!r}")
    answers = np.bincount(unit_index, minlength=size).astype("float64")
    invited = np.full(size, np.nan)
    if headcount is not None and (by is None or by in headcount.columns):
        h_units = position.get_indexer(headcount["unit_id"])
        h_index = h_units
        ok = h_units >= 0
        if by is not None:
            g = pd.Index(groups).get_indexer(headcount[by].astype(object))
            ok &= g >= 0
            h_index = h_units * n_groups + g
        invited = np.bincount(h_index[ok], weights=headcount["invited"].to_numpy()[ok],
                              minlength=size).astype("float64")
        has = np.bincount(h_index[ok], minlength=size) > 0
        # A unit with no headcount row and no answers has 0 invited of its own; with answers
        # but no row, its N is unknown (NaN): no finite population correction there, nor
        # (through rollup) in any unit above it. A group without a row has 0 invited: that
        # a hidden unit has answers of a group the headcount does not list must not reach
        # the units above it. More answers than invited is judged cell by cell
        # (:func:`population`), from the cell's own totals only.
        if by is None:
            invited = np.where(has | (answers == 0), invited, np.nan)
    cells = tuple(units) if by is None else tuple((u, g) for u in units for g in groups)
    return Sums(cells=cells, keys=keys, n=n, s1=s1, s2=s2, counts=counts, answers=answers,
                invited=invited, points=tuple(range(lowest, highest + 1)), grid=grid)


def category_sums(data: pd.DataFrame, hierarchy: Hierarchy, codes: np.ndarray,
                  categories: int, key: str, values: np.ndarray | None = None) -> Sums:
    """Sufficient statistics of one categorical answer for each unit's own members.

    Parameters
    ----------
    data
        One wave's responses (for ``unit_id``).
    hierarchy
        That wave's hierarchy.
    codes
        One category position (0 .. categories - 1) or NaN per response.
    categories
        Number of categories; the counts become ``counts[:, 0, :]``.
    key
        The key of the single column (the question, the factor).
    values
        The numbers whose n, sum and sum of squares are kept (default: the positions).
    """
    units = len(hierarchy)
    unit_index = pd.Index(hierarchy.ids).get_indexer(data["unit_id"])
    ok = ~np.isnan(codes)
    counts = np.zeros((units, 1, categories))
    flat = unit_index[ok] * categories + codes[ok].astype(np.int64)
    counts[:, 0, :] = np.bincount(flat, minlength=units * categories).reshape(units, categories)
    numbers = np.where(ok, values if values is not None else codes, np.nan)
    grid = 1 if _whole(numbers) else 0
    n, s1, s2 = (m[:, None] for m in _moments(unit_index, numbers, units, grid))
    answers = np.bincount(unit_index, minlength=units).astype("float64")
    return Sums(cells=tuple(hierarchy.ids), keys=(key,), n=n, s1=s1, s2=s2, counts=counts,
                answers=answers, invited=np.full(units, np.nan), grid=(grid,))


def rollup_matrix(hierarchy: Hierarchy) -> "sparse.csr_matrix":
    """Sparse matrix A (units x units): A[a, d] = 1 when unit d lies in a's subtree."""
    from scipy import sparse

    pos = {u: i for i, u in enumerate(hierarchy.ids)}
    rows, cols = [], []
    for unit in hierarchy.ids:
        d = pos[unit]
        for ancestor in hierarchy.path(unit):
            rows.append(pos[ancestor])
            cols.append(d)
    size = len(pos)
    return sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(size, size))


def _levels(hierarchy: Hierarchy) -> list[tuple[np.ndarray, np.ndarray]]:
    """(unit positions, parent positions) per depth, deepest first, the root left out."""
    units = hierarchy.units
    position = pd.Index(units["unit_id"])
    parents = position.get_indexer(units["parent_id"])
    depth = units["level"].to_numpy()
    return [(np.flatnonzero(depth == d), parents[depth == d])
            for d in range(int(depth.max()), 0, -1)]


def wilson(share: np.ndarray, n: np.ndarray, z: float = 1.959963984540054
           ) -> tuple[np.ndarray, np.ndarray]:
    """The Wilson score interval (95 % by default) of a share observed among n.

    Examples
    --------
    >>> low, high = wilson(np.array([0.75]), np.array([8]))
    >>> round(float(low[0]), 4), round(float(high[0]), 4)
    (0.4093, 0.9285)
    """
    share = np.asarray(share, dtype="float64")
    n = np.asarray(n, dtype="float64")
    with np.errstate(invalid="ignore", divide="ignore"):
        centre = (share + z ** 2 / (2 * n)) / (1 + z ** 2 / n)
        half = z / (1 + z ** 2 / n) * np.sqrt(share * (1 - share) / n + z ** 2 / (4 * n ** 2))
    ok = n > 0
    return np.where(ok, centre - half, np.nan), np.where(ok, centre + half, np.nan)


def subtree_totals(values: np.ndarray, hierarchy: Hierarchy,
                   levels: list[tuple[np.ndarray, np.ndarray]] | None = None) -> np.ndarray:
    """Subtree totals of per-unit values (units x ...), hierarchy order: each unit's own
    values plus everything below it, moved up one depth at a time."""
    levels = _levels(hierarchy) if levels is None else levels
    total = np.asarray(values, dtype="float64").reshape(len(hierarchy), -1).copy()
    for children, parents in levels:
        np.add.at(total, parents, total[children])
    return total.reshape(np.shape(values))


def rollup(own: Sums, hierarchy: Hierarchy, matrix: "sparse.csr_matrix | None" = None) -> Sums:
    """Subtree totals for every unit (or unit x group) from the units' own totals.

    Without ``matrix`` the totals move up the tree one depth at a time (each unit adds its
    subtree total to its parent's); with a :func:`rollup_matrix` they come from one matrix
    product. Both give the same sums.
    """
    units = len(hierarchy)
    groups = len(own.cells) // units
    if matrix is None:
        levels = _levels(hierarchy)

        def up(values: np.ndarray) -> np.ndarray:
            return subtree_totals(values, hierarchy, levels)
    else:
        def up(values: np.ndarray) -> np.ndarray:
            flat = values.reshape(units, -1)
            return np.asarray(matrix @ flat).reshape(values.shape)

    invited = own.invited
    known = np.isfinite(invited).reshape(units, groups)
    # N of a subtree is known only when it is known for every unit in it
    unknown_below = up((~known).astype("float64")) > 0
    invited_up = np.where(unknown_below, np.nan, up(np.nan_to_num(invited).reshape(units, groups)))
    # on a grid the sums move up as the whole numbers they are: exact, in any order
    grid = np.asarray(own.grid if own.grid else [0] * len(own.keys), dtype="float64")
    scale = np.where(grid > 0, grid, 1.0)

    def exact(values: np.ndarray, power: int) -> np.ndarray:
        whole = np.where(grid > 0, np.rint(values * scale ** power), values * scale ** power)
        return up(whole) / scale ** power

    return Sums(cells=own.cells, keys=own.keys, n=up(own.n), s1=exact(own.s1, 1),
                s2=exact(own.s2, 2), counts=up(own.counts), answers=up(own.answers),
                invited=invited_up.reshape(-1), points=own.points, grid=own.grid)


def population(answers: np.ndarray, invited: np.ndarray) -> np.ndarray:
    """N for the finite population correction of cells with these totals: NaN (unknown, no
    correction) where the headcount is missing or holds no more persons than answered.

    More answers than invited means the headcount is wrong there; as many means a census by
    the headcount, whose zero-width interval nobody should trust either. The rule reads the
    cell's own totals only: a hidden unit below never changes a published cell's N.
    """
    answers = np.asarray(answers, dtype="float64")
    invited = np.asarray(invited, dtype="float64")
    with np.errstate(invalid="ignore"):
        return np.where(answers < invited, invited, np.nan)


def describe(sums: Sums, instrument: Instrument, top_box: int | None = None) -> pd.DataFrame:
    """Turn sufficient statistics into the statistics columns, one row per cell and key.

    Returns
    -------
    DataFrame
        ``cell, key, n, invited, mean, sd, se, ci_low, ci_high, moe, pct_<point> ...,
        top_box, answers``: mean and sd of the values; se = sd/sqrt(n) x sqrt(1 - n/N)
        (N = invited, see :func:`population`; no correction when N is unknown), moe =
        t(0.975, n-1) x se and the
        95% interval mean +- moe (one se, used everywhere); ``pct_<p>`` = share of answers
        at scale point p (percent), named by the point it counts (``pct_0 .. pct_4`` on a
        0-4 scale), NaN at a point outside the key's own scale; top_box = the share of the
        top ``top_box`` points of the key's scale (default: that scale's ``top_box``).
    """
    from scipy.special import stdtrit

    n = sums.n
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = sums.s1 / n
        var = (sums.s2 - sums.s1 ** 2 / n) / (n - 1)
        sd = np.sqrt(np.clip(var, 0.0, None))
        invited = np.repeat(population(sums.answers, sums.invited)[:, None], n.shape[1],
                            axis=1)
        se = sd / np.sqrt(n) * fpc_factor(n, invited)
        t = stdtrit(np.where(n > 1, n - 1, np.nan), 0.975)  # = scipy.stats.t.ppf
        moe = t * se
        total = sums.counts.sum(axis=2, keepdims=True)
        pct = 100.0 * sums.counts / total
    sd = np.where(n > 1, sd, np.nan)
    points = sums.counts.shape[2]
    labels = sums.points or tuple(range(1, points + 1))
    cells, keys = len(sums.cells), len(sums.keys)
    # per key: which slots lie on its own scale, and which are its top box
    on_scale = np.ones((keys, points), dtype=bool)
    in_top = np.zeros((keys, points), dtype=bool)
    if sums.points:
        for k, scale in enumerate(key_scales(instrument, sums.keys)):
            top = top_box if top_box is not None else scale.top_box
            on_scale[k] = [scale.min <= p <= scale.max for p in labels]
            in_top[k] = [scale.max - top < p <= scale.max for p in labels]
    else:
        in_top[:, points - (top_box if top_box is not None else instrument.scale.top_box):] = 1
    frame = pd.DataFrame({
        "cell": np.repeat(np.arange(cells), keys),
        "key": np.tile(np.array(sums.keys, dtype=object), cells),
        "n": n.reshape(-1).astype("int64"),
        "invited": invited.reshape(-1),
        "mean": mean.reshape(-1),
        "sd": sd.reshape(-1),
        "se": np.where(n > 1, se, np.nan).reshape(-1),
        "ci_low": (mean - moe).reshape(-1),
        "ci_high": (mean + moe).reshape(-1),
        "moe": moe.reshape(-1),
    })
    flat_pct = pct.reshape(-1, points)
    on_rows = np.tile(on_scale, (cells, 1))
    for k, point in enumerate(labels):
        frame[f"pct_{point}"] = np.where(on_rows[:, k], flat_pct[:, k], np.nan)
    frame["top_box"] = np.where(np.tile(in_top, (cells, 1)), flat_pct, 0.0).sum(axis=1)
    frame.loc[~np.isfinite(flat_pct).any(axis=1), "top_box"] = np.nan
    low, high = wilson(frame["top_box"].to_numpy() / 100.0, total.reshape(-1))
    frame["top_box_low"], frame["top_box_high"] = 100.0 * low, 100.0 * high
    frame["answers"] = np.repeat(sums.answers, keys).astype("int64")
    return frame
