"""Scoring: answers to item values, and person factor scores.

Rules (``DESIGN.md``, Statistics rules): missing codes ("don't know") become missing before
anything else; reverse items are flipped, x' = min + max - x with the min and max of the
item's own scale (its factor's, e.g. 0-4 beside 1-5); a person's factor score is the
mean of the factor's answered items when at least ``ceil(min_answered x items)`` are
answered, otherwise missing.

Examples
--------
>>> from workbench import load_survey
>>> from workbench.scoring import person_scores
>>> survey = load_survey("data_samples/municipality")
>>> scores = person_scores(survey.responses, survey.instrument)
>>> round(float(scores["F1"].mean()), 2)  # doctest: +SKIP
4.32
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.instrument import Instrument

__all__ = ["item_values", "person_scores", "answer_codes", "scored_values", "factor_scores"]


def answer_codes(data: pd.DataFrame, instrument: Instrument) -> np.ndarray:
    """Raw answers as a float matrix (persons x items), missing codes and skips as NaN.

    Not reversed: these are the codes the respondents ticked, as the distributions count them.
    """
    items = instrument.item_ids
    # column by column into one array: much faster than interleaving nullable columns
    codes = np.empty((len(data), len(items)), dtype="float64", order="F")
    for k, item in enumerate(items):
        column = codes[:, k]
        column[:] = data[item].to_numpy(dtype="float64", na_value=np.nan)
        for missing in instrument.item_scale(item).missing_codes:
            column[column == missing] = np.nan
    return codes


def scored_values(data: pd.DataFrame, instrument: Instrument) -> np.ndarray:
    """:func:`answer_codes` with reverse items flipped (persons x items)."""
    values = answer_codes(data, instrument)
    for k, item in enumerate(instrument.items):
        if item.reverse:
            scale = instrument.item_scale(item.id)
            values[:, k] = scale.min + scale.max - values[:, k]
    return values


def factor_scores(values: np.ndarray, instrument: Instrument) -> np.ndarray:
    """Person factor scores (persons x factors) from scored item values (persons x items)."""
    position = {item_id: i for i, item_id in enumerate(instrument.item_ids)}
    out = np.empty((values.shape[0], len(instrument.factors)))
    for k, factor in enumerate(instrument.factors):
        block = values[:, [position[i] for i in factor.item_ids]]
        answered = np.sum(~np.isnan(block), axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.nansum(block, axis=1) / answered
        out[:, k] = np.where(answered >= instrument.min_items(factor), mean, np.nan)
    return out


def item_values(data: pd.DataFrame, instrument: Instrument) -> pd.DataFrame:
    """Item values ready for scoring: missing codes as NaN, reverse items flipped.

    Parameters
    ----------
    data
        Responses with one column per item id (raw codes), e.g. ``Survey.responses``.
    instrument
        The instrument the answers belong to.

    Returns
    -------
    DataFrame
        One float column per item id, same index as ``data``.
    """
    return pd.DataFrame(scored_values(data, instrument), index=data.index,
                        columns=list(instrument.item_ids))


def person_scores(data: pd.DataFrame, instrument: Instrument,
                  keep: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Person factor scores: the mean of answered items, when enough are answered.

    Parameters
    ----------
    data
        Responses (raw codes), e.g. ``Survey.responses``.
    instrument
        The instrument.
    keep
        Columns of ``data`` to carry over (default: every column that is not an item or an
        extra question: ``respondent_id, wave, unit_id`` and the background columns).

    Returns
    -------
    DataFrame
        The ``keep`` columns, then one float column per factor id (NaN when the person
        answered fewer than ``instrument.min_items(factor)`` of its items).
    """
    scores = factor_scores(scored_values(data, instrument), instrument)
    if keep is None:
        skip = set(instrument.item_ids) | set(instrument.extra_ids)
        keep = tuple(c for c in data.columns if c not in skip)
    out = data.loc[:, list(keep)].copy()
    for k, factor in enumerate(instrument.factors):
        out[factor.id] = scores[:, k]
    return out
