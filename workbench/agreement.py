"""Agreement within units: rwg(j) per unit and factor, ICC(1) and ICC(2) per factor.

The formulas are R multilevel's (Bliese):

- ``rwg.j``: the mean of the item variances within the unit, S, against the variance of a
  uniform answer on the scale, sigma^2 = (A^2 - 1)/12 for A scale points (2 on a 1-5 scale);
  S is capped at sigma^2, and rwg(j) = J (1 - S/sigma^2) / (J (1 - S/sigma^2) + S/sigma^2)
  for J items, so 0 (no more agreement than chance) .. 1 (everyone gave the same answers);
  a unit of one person has none.
- ``ICC1`` and ``ICC2`` from a one-way analysis of variance of person scores on the units
  the persons belong to: MSB and MSW the mean squares between and within units, and
  k = N / units the average group size; ICC(1) = (MSB - MSW) / (MSB + (k - 1) MSW) (the
  share of the variance that lies between units) and ICC(2) = (MSB - MSW) / MSB (the
  reliability of the unit means).

Examples
--------
>>> import numpy as np
>>> from workbench.agreement import rwg_j
>>> round(float(rwg_j(np.array([[0.5, 0.7, 0.6]]), points=5)[0]), 4)  # 3 (0.7) / 2.4
0.875
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["rwg_j", "null_variance", "icc", "icc_of_sums", "agreement_words", "relative_spread"]


def null_variance(points: int) -> float:
    """The variance of a uniform answer on a scale of ``points`` points: (A^2 - 1)/12."""
    return (points ** 2 - 1) / 12.0


def rwg_j(item_variances: np.ndarray, points: int = 5) -> np.ndarray:
    """rwg(j) per row from the item variances within each unit (units x items).

    Parameters
    ----------
    item_variances
        Sample variances (denominator n - 1) of each item within each unit; NaN where an
        item has fewer than two answers (the row's rwg is then NaN, as R's ``mean`` of
        them).
    points
        Scale points A (the null variance is (A^2 - 1)/12).

    Returns
    -------
    ndarray
        rwg(j) per unit, 0 .. 1.
    """
    variances = np.atleast_2d(np.asarray(item_variances, dtype="float64"))
    items = variances.shape[1]
    sigma2 = null_variance(points)
    mean = np.minimum(variances.mean(axis=1), sigma2)
    ratio = mean / sigma2
    with np.errstate(invalid="ignore", divide="ignore"):
        return items * (1 - ratio) / (items * (1 - ratio) + ratio)


def icc(values: np.ndarray, groups: np.ndarray) -> tuple[float, float]:
    """ICC(1) and ICC(2) of ``values`` (one per person) grouped by ``groups``; a person
    without a value or a group (NaN, None) is left out.

    Returns
    -------
    (icc1, icc2)
        NaN when fewer than two groups, no persons within them, or no variance.
    """
    frame = pd.DataFrame({"y": np.asarray(values, dtype="float64"),
                          "g": np.asarray(groups)}).dropna(subset=["y", "g"])
    if frame.empty:
        return float("nan"), float("nan")
    stats = frame.groupby("g")["y"].agg(["count", "mean", "var"])
    k = len(stats)
    n = int(stats["count"].sum())
    if k < 2 or n <= k:
        return float("nan"), float("nan")
    grand = frame["y"].mean()
    msb = float((stats["count"] * (stats["mean"] - grand) ** 2).sum()) / (k - 1)
    msw = float(((stats["count"] - 1) * stats["var"].fillna(0)).sum()) / (n - k)
    return _icc(msb, msw, n / k)


def icc_of_sums(groups: np.ndarray, total: np.ndarray) -> tuple[float, float]:
    """ICC(1) and ICC(2) from sums: ``groups`` holds one row ``n, sum, sum of squares`` per
    group, ``total`` the same for all persons of the groups together.

    What a published table gives (n, n x mean, (n - 1) x sd^2 + n x mean^2 per cell): the
    release's audit checks with it that an ICC tells nothing the cells do not.
    """
    groups = np.asarray(groups, dtype="float64").reshape(-1, 3)
    n, s, q = (float(v) for v in np.asarray(total, dtype="float64"))
    k = len(groups)
    if k < 2 or n <= k:
        return float("nan"), float("nan")
    grand = n * (s / n) ** 2
    between = float((groups[:, 1] ** 2 / groups[:, 0]).sum()) - grand
    return _icc(between / (k - 1), (q - grand - between) / (n - k), n / k)


def _icc(msb: float, msw: float, size: float) -> tuple[float, float]:
    """ICC(1) and ICC(2) from the mean squares between and within groups of mean size."""
    total = msb + (size - 1) * msw
    icc1 = (msb - msw) / total if total > 0 else float("nan")  # no variance at all
    icc2 = (msb - msw) / msb if msb > 0 else float("nan")
    return float(icc1), float(icc2)


def relative_spread(sd: np.ndarray, mean: np.ndarray, n: np.ndarray, low: float,
                    high: float) -> np.ndarray:
    """The sd as a share of the largest sd possible at that mean on a scale low .. high.

    Answers pile up at the ends of a scale, so the raw sd follows the mean: an item with a
    mean near 5 cannot spread much. The largest variance n values on [low, high] with mean m
    can have is (m - low)(high - m) n/(n - 1) (everyone at one end or the other); the sd
    over its square root compares items fairly whatever their mean.
    """
    sd = np.asarray(sd, dtype="float64")
    mean = np.asarray(mean, dtype="float64")
    n = np.asarray(n, dtype="float64")
    with np.errstate(invalid="ignore", divide="ignore"):
        largest = np.sqrt((mean - low) * (high - mean) * n / (n - 1))
        return np.where(largest > 0, sd / largest, np.nan)


#: Plain words for rwg(j): (lower bound, nb, en), the first that holds wins (LeBreton and
#: Senter's bands: 0.9 very strong, 0.7 strong, 0.5 moderate, below that weak).
_WORDS = ((0.9, "dere svarte svært likt", "you answered very much alike"),
          (0.7, "dere svarte ganske likt", "you answered fairly alike"),
          (0.5, "dere svarte noe ulikt", "your answers differed somewhat"),
          (0.0, "dere svarte svært ulikt", "your answers differed a lot"))


def agreement_words(rwg: float, lang: str = "nb") -> str:
    """The agreement of a unit in plain words ("" when rwg is missing).

    Examples
    --------
    >>> agreement_words(0.93)
    'dere svarte svært likt'
    >>> agreement_words(0.42, "en")
    'your answers differed a lot'
    """
    if rwg is None or not np.isfinite(rwg):
        return ""
    for bound, nb, en in _WORDS:
        if rwg >= bound:
            return nb if lang == "nb" else en
    return _WORDS[-1][1] if lang == "nb" else _WORDS[-1][2]
