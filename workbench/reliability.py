"""Reliability of the factors: Cronbach's alpha for the whole organisation, per wave.

Alpha is computed the way R's ``psych::alpha`` does by default: from the covariance matrix
of pairwise-complete observations, alpha = k/(k-1) x (1 - trace(C)/sum(C)), where C is the
k x k item covariance matrix and k the number of items. Items are taken as scored: missing
codes ("don't know") are missing and reverse items are flipped before anything else.

Alpha is reported for the whole organisation only, never per unit: a small unit's alpha is
noise, and it would be a statistic about a group that may be hidden.

Examples
--------
>>> from workbench.validate import load_survey
>>> from workbench.reliability import reliability
>>> survey = load_survey("data_samples/university")
>>> table = reliability(survey, wave="2021")
>>> list(table.columns[:5])
['wave', 'factor', 'n', 'items', 'alpha']
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.errors import UsageError
from workbench.scoring import item_values

__all__ = ["RELIABILITY_COLUMNS", "cronbach_alpha", "reliability"]

RELIABILITY_COLUMNS = ("wave", "factor", "n", "items", "alpha")


def cronbach_alpha(items: pd.DataFrame, pairwise: bool = True) -> float:
    """Cronbach's alpha of a set of items (psych-compatible).

    Parameters
    ----------
    items
        One column per item, one row per person; missing answers as NaN.
    pairwise
        True (default, as ``psych::alpha``): each covariance from the persons who answered
        both items (pairwise-complete). False: listwise, only persons who answered every
        item (as ``multilevel::cronbach`` after dropping incomplete rows).

    Returns
    -------
    float
        k/(k-1) x (1 - trace(C)/sum(C)) with C the item covariance matrix (denominator
        n - 1); NaN with fewer than two items, fewer than two usable persons, or when C
        cannot be estimated (an item pair nobody answered together).

    Examples
    --------
    >>> import pandas as pd
    >>> data = pd.DataFrame({"a": [1, 2, 3, 4], "b": [2, 2, 3, 5], "c": [1, 3, 3, 4]})
    >>> round(cronbach_alpha(data), 4)
    0.9474
    """
    frame = pd.DataFrame(items).astype("float64")
    k = frame.shape[1]
    if k < 2:
        return float("nan")
    if not pairwise:
        frame = frame.dropna()
    if len(frame) < 2:
        return float("nan")
    # DataFrame.cov uses pairwise-complete observations, as cov(x, use = "pairwise") in R
    cov = frame.cov(min_periods=2).to_numpy()
    if not np.all(np.isfinite(cov)):
        return float("nan")
    total = cov.sum()
    if total <= 0:
        return float("nan")
    return float(k / (k - 1) * (1.0 - np.trace(cov) / total))


def reliability(survey, wave: str | None = None, min_n: int | None = None,
                cells: pd.DataFrame | None = None) -> pd.DataFrame:
    """Cronbach's alpha of every factor for the whole organisation, one row per wave.

    Parameters
    ----------
    survey
        A loaded :class:`workbench.survey.Survey`.
    wave
        One wave label; None (default): every wave of ``survey.yaml``, in its order.
    min_n
        Fewest persons behind a published alpha (default: the survey's ``privacy.min_n``);
        with fewer, ``alpha`` is left empty.
    cells
        ``wave, unit_id, key, atom``: per wave, unit and factor, the published cell that
        holds the unit's own persons (the release's; "" for none). The ICCs then group the
        persons by these cells, so that they follow from published numbers (a hidden group's
        mean cannot be split off from its neighbours'); without it, by their own units.

    Returns
    -------
    DataFrame
        ``wave, factor, n, items, alpha``, then ``icc1, icc2, n_complete, alpha_listwise``:

        - ``n``: persons with a score on the factor (the persons whose answers enter the
          pairwise covariances: as in every table, a person counts in a factor's numbers
          only when scored, so that no difference of two tables is one unscored person);
        - ``items``: the number of items of the factor (k);
        - ``alpha``: pairwise-complete alpha, as ``psych::alpha``;
        - ``icc1``, ``icc2``: ICC(1) and ICC(2) of the person scores across the units the
          persons belong to, or the published cells of ``cells`` (R multilevel's ``ICC1``,
          ``ICC2``; :mod:`workbench.agreement`);
        - ``n_complete``: of those, the persons who answered every item of the factor;
          empty when 1 to min_n - 1 persons answered some items but not all (it would tell
          how many);
        - ``alpha_listwise``: alpha from the complete answers only; empty then too (it would
          tell the pairwise alpha's difference they make).

    Raises
    ------
    UsageError
        When ``wave`` is not a wave of the survey.
    """
    waves = _waves(survey, wave)
    limit = survey.config.min_n if min_n is None else int(min_n)
    instrument = survey.instrument
    responses = survey.responses
    wave_column = responses["wave"].astype(str)
    rows = []
    from workbench.agreement import icc
    from workbench.scoring import factor_scores

    for label in waves:
        data = responses.loc[wave_column == label]
        values = item_values(data, instrument)
        # persons in the order of their answers, not of the file: the sums' last bits then
        # depend on the answers alone, not on where a row sits (an outside attacker,
        # helper-18, saw them move when the rows were shuffled)
        order = np.lexsort(np.nan_to_num(values.to_numpy(dtype="float64"), nan=-1.0).T[::-1])
        data, values = data.iloc[order], values.iloc[order]
        scores = factor_scores(values.to_numpy(), instrument)
        units = data["unit_id"].astype(str).to_numpy()
        for k, factor in enumerate(instrument.factors):
            # one population per factor: the persons with a score, as in every other table
            block = values.loc[~np.isnan(scores[:, k]), list(factor.item_ids)]
            answered = block.notna()
            n = int(answered.any(axis=1).sum())
            n_complete = int(answered.all(axis=1).sum())
            shown = n >= limit
            complete_shown = not (0 < n_complete < limit or 0 < n - n_complete < limit)
            groups = units if cells is None else _cells(cells, label, factor.id, units)
            icc1, icc2 = icc(scores[:, k], groups) if shown else (float("nan"), float("nan"))
            rows.append({
                "wave": label,
                "factor": factor.id,
                "n": n,
                "items": len(factor.item_ids),
                "alpha": cronbach_alpha(block) if shown else float("nan"),
                "icc1": icc1,
                "icc2": icc2,
                # a count, so 0 or at least min_n; beside n it tells how many skipped items:
                # not when they are 1 to min_n - 1, nor the alpha they would shift
                "n_complete": n_complete if complete_shown else pd.NA,
                "alpha_listwise": (cronbach_alpha(block, pairwise=False)
                                   if n_complete >= limit and complete_shown
                                   else float("nan")),
            })
    columns = [*RELIABILITY_COLUMNS, "icc1", "icc2", "n_complete", "alpha_listwise"]
    table = pd.DataFrame(rows, columns=columns)
    return table.astype({"wave": "str", "factor": "str", "n": "int64", "items": "int64",
                         "alpha": "float64", "icc1": "float64", "icc2": "float64",
                         "n_complete": "Int64", "alpha_listwise": "float64"})


def _cells(cells: pd.DataFrame, wave: str, factor: str, units: np.ndarray) -> np.ndarray:
    """The published cell of each person's unit (None where no published cell holds it)."""
    part = cells.loc[(cells["wave"].astype(str) == wave) & (cells["key"] == factor)]
    cell = dict(zip(part["unit_id"].astype(str), part["atom"].astype(str)))
    return np.array([cell.get(u) or None for u in units], dtype=object)


def _waves(survey, wave: str | None) -> tuple[str, ...]:
    if wave is None:
        return tuple(survey.waves)
    label = str(wave)
    if label not in survey.waves:
        raise UsageError(f"wave {label!r} is not in survey.yaml; the waves are "
                         f"{', '.join(survey.waves)}")
    return (label,)
