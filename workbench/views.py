"""The views that reports, apps and handouts show, all cut from protected tables.

Every function here returns a tidy DataFrame built from tables that passed
:func:`workbench.privacy.protect`: a view never sees respondent rows, and a suppressed cell
stays suppressed (``suppressed`` True, ``reason`` set, values empty).

Examples
--------
>>> from workbench import load_survey
>>> from workbench.views import beside
>>> survey = load_survey("data_samples/municipality")
>>> table = beside(survey, "OPP-NOS", wave="2023", lang="en")
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.aggregate import Sums, describe, rollup
from workbench.compare import compare
from workbench.errors import UsageError
from workbench.privacy import PrivacyPolicy, protect
from workbench.scoring import factor_scores, scored_values
from workbench.stats import check_unit, check_wave, stats_table
from workbench.survey import Survey

__all__ = ["trend", "beside", "heatmap", "alike_different", "response_rates",
           "category_distribution", "appraisal", "score_distribution", "category_table",
           "SCORE_BINS"]

SCORE_BINS = np.array([1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5.0001])


def _wave(survey: Survey, wave: str | int | None) -> str:
    return survey.waves[-1] if wave is None else check_wave(survey, wave)[0]


def trend(survey: Survey, unit: str, level: str = "factor", lang: str = "nb") -> pd.DataFrame:
    """A unit's published statistics over every wave (the ``stats`` columns)."""
    return stats_table(survey, unit=unit, level=level, lang=lang)


def beside(survey: Survey, unit: str, wave: str | int | None = None,
           lang: str = "nb") -> pd.DataFrame:
    """The 10-FAKTOR table: the unit beside its parent and its benchmark, per factor.

    Returns
    -------
    DataFrame
        ``key, label, mean, n, suppressed, parent_id, parent_name, parent_mean,
        parent_suppressed, benchmark, benchmark_mean``; the parent columns are empty for the
        top unit, the benchmark columns when the survey has no benchmarks.
    """
    label = _wave(survey, wave)
    check_unit(survey, unit, label)
    table = stats_table(survey, wave=label, lang=lang)
    rows = table[table["unit_id"] == unit].set_index("key")
    out = rows[["label", "mean", "n", "suppressed"]].copy()
    parent = survey.hierarchy(label).parent(unit)
    if parent is not None:
        prow = table[table["unit_id"] == parent].set_index("key")
        out["parent_id"] = parent
        out["parent_name"] = prow["unit_name"]
        out["parent_mean"] = prow["mean"]
        out["parent_suppressed"] = prow["suppressed"]
    else:
        out["parent_id"], out["parent_name"] = "", ""
        out["parent_mean"], out["parent_suppressed"] = np.nan, True
    out["benchmark"], out["benchmark_mean"] = "", np.nan
    bench = survey.benchmarks
    if bench is not None:
        by = survey.config.benchmark_by
        units = survey.hierarchy(label).units.set_index("unit_id")
        kind = str(units.loc[unit, by]) if by and by in units.columns else "all"
        part = bench[bench["wave"] == label]
        own = part[part["benchmark"] == kind].set_index("factor")["mean"]
        fallback = part[part["benchmark"] == "all"].set_index("factor")["mean"]
        name = kind if len(own) else ("all" if len(fallback) else "")
        means = own if len(own) else fallback
        out["benchmark"] = name
        out["benchmark_mean"] = means.reindex(out.index).to_numpy()
    return out.reset_index()


def heatmap(survey: Survey, unit: str, wave: str | int | None = None,
            lang: str = "nb") -> pd.DataFrame:
    """Child units x factors, with the siblings comparison (Benjamini-Hochberg) per cell.

    Returns
    -------
    DataFrame
        ``unit_id, unit_name, key, label, n, mean, suppressed, reason, finding, verdict``
        for every child of ``unit`` (finding: higher, lower, small, unclear, suppressed).
    """
    label = _wave(survey, wave)
    check_unit(survey, unit, label)
    children = survey.hierarchy(label).children(unit)
    if not children:
        return pd.DataFrame(columns=["unit_id", "unit_name", "key", "label", "n", "mean",
                                     "suppressed", "reason", "finding", "verdict"])
    table = stats_table(survey, wave=label, lang=lang)
    rows = table[table["unit_id"].isin(children)][
        ["unit_id", "unit_name", "key", "label", "n", "mean", "suppressed", "reason"]]
    tested = compare(survey, children[0], "siblings", wave=label, lang=lang)
    found = tested[["unit_id", "key", "finding", "verdict"]]
    return rows.merge(found, on=["unit_id", "key"], how="left").reset_index(drop=True)


def alike_different(survey: Survey, unit: str, wave: str | int | None = None, k: int = 5,
                    lang: str = "nb") -> pd.DataFrame:
    """The items the unit answered most alike (lowest sd) and most differently (highest sd).

    Returns
    -------
    DataFrame
        ``kind`` (``alike`` or ``different``), ``key, label, mean, sd, n``; empty when the
        unit's item table is suppressed.
    """
    label = _wave(survey, wave)
    check_unit(survey, unit, label)
    items = stats_table(survey, wave=label, level="item", unit=unit, lang=lang)
    items = items[~items["suppressed"]].dropna(subset=["sd"])
    columns = ["key", "label", "mean", "sd", "n"]
    alike = items.nsmallest(k, "sd")[columns].assign(kind="alike")
    different = items.nlargest(k, "sd")[columns].assign(kind="different")
    return pd.concat([alike, different], ignore_index=True)[["kind", *columns]]


def response_rates(survey: Survey, unit: str | None = None, by: str | None = None,
                   lang: str = "nb") -> pd.DataFrame:
    """Answers, invited and response rate per unit (or group) and wave.

    With ``by``, only at the hierarchy levels the privacy settings allow; group rates follow
    the group cells' suppression.

    Returns
    -------
    DataFrame
        ``wave, unit_id, unit_name, answers, invited, rate`` (percent), ``suppressed, reason``
        (+ ``by, group``).
    """
    table = stats_table(survey, unit=unit, by=by, lang=lang)
    keys = ["wave", "unit_id"] + (["by", "group"] if by else [])
    first = table.groupby(keys, sort=False, observed=True).first().reset_index()
    columns = keys + ["unit_name", "answers", "invited", "suppressed", "reason"]
    out = first[columns].copy()
    out["answers"] = out["answers"].astype("Int64")
    invited = out["invited"].astype("float64")
    out["rate"] = np.where(invited > 0, 100.0 * out["answers"] / invited, np.nan)
    if by:
        # a hidden group's answers stay hidden: its rate is not published either
        out.loc[out["suppressed"], "answers"] = pd.NA
        out.loc[out["suppressed"], "rate"] = np.nan
    return out[keys + ["unit_name", "answers", "invited", "rate", "suppressed", "reason"]]


def category_table(survey: Survey, wave: str, codes: np.ndarray, categories: int, key: str,
                    values: np.ndarray | None = None, lang: str = "nb") -> pd.DataFrame:
    """Counts per category (0..categories-1) rolled up the tree and protected, all units.

    ``codes`` holds one category index (or NaN) per response of ``wave``; ``values`` the
    numbers whose mean and sd are reported (default: the codes).
    """
    hierarchy = survey.hierarchy(wave)
    responses = survey.responses
    data = responses[responses["wave"] == wave]
    units = len(hierarchy)
    unit_index = pd.Index(hierarchy.ids).get_indexer(data["unit_id"])
    ok = ~np.isnan(codes)
    counts = np.zeros((units, 1, categories))
    flat = unit_index[ok] * categories + codes[ok].astype(np.int64)
    counts[:, 0, :] = np.bincount(flat, minlength=units * categories).reshape(units, categories)
    numbers = values if values is not None else codes
    clean = np.where(ok, numbers, 0.0)
    n = np.bincount(unit_index, weights=ok, minlength=units)[:, None]
    s1 = np.bincount(unit_index, weights=clean, minlength=units)[:, None]
    s2 = np.bincount(unit_index, weights=clean ** 2, minlength=units)[:, None]
    answers = np.bincount(unit_index, minlength=units).astype("float64")
    own = Sums(cells=tuple(hierarchy.ids), keys=(key,), n=n, s1=s1, s2=s2, counts=counts,
               answers=answers, invited=np.full(units, np.nan))
    table = describe(rollup(own, hierarchy), survey.instrument, top_box=1)
    table["unit_id"] = np.asarray(hierarchy.ids, dtype=object)[table["cell"]]
    table["wave"] = wave
    table = table.drop(columns="cell")
    return protect(table, hierarchy, PrivacyPolicy.from_config(survey.config))


def _question(survey: Survey, question: str):
    for q in survey.instrument.extra:
        if q.id == question:
            return q
    known = ", ".join(survey.instrument.extra_ids) or "none in this instrument"
    raise UsageError(f"question {question!r} is not an extra question of this survey; "
                     f"known: {known}")


def category_distribution(survey: Survey, unit: str, question: str,
                          wave: str | int | None = None, lang: str = "nb") -> pd.DataFrame:
    """Shares of the answers to an extra question (e.g. working hours) in a unit's subtree.

    Returns
    -------
    DataFrame
        ``code, label, share`` (percent), ``n`` (persons answering), ``suppressed, reason``;
        shares empty when suppressed.
    """
    label = _wave(survey, wave)
    check_unit(survey, unit, label)
    q = _question(survey, question)
    if question not in survey.responses.columns:
        raise UsageError(f"the answers have no column {question!r}")
    order = sorted(q.codes)
    raw = survey.responses
    raw = raw.loc[raw["wave"] == label, question].to_numpy(dtype="float64", na_value=np.nan)
    position = {c: i for i, c in enumerate(order)}
    codes = np.array([position.get(int(v), np.nan) if v == v else np.nan for v in raw])
    table = category_table(survey, label, codes, len(order), question, lang=lang)
    row = table[table["unit_id"] == unit].iloc[0]
    return pd.DataFrame({
        "code": order,
        "label": [q.codes[c](lang) for c in order],
        "share": [row[f"pct_{i + 1}"] for i in range(len(order))],
        "n": int(row["n"]),
        "suppressed": bool(row["suppressed"]),
        "reason": row["reason"],
    })


def appraisal(survey: Survey, unit: str, wave: str | int | None = None,
              lang: str = "nb") -> pd.DataFrame:
    """Share who had an appraisal interview and its mean usefulness, over the waves.

    Returns
    -------
    DataFrame
        ``wave, had_share`` (percent yes), ``had_n, useful_mean, useful_n, suppressed,
        reason``; empty for instruments without these questions.
    """
    ids = survey.instrument.extra_ids
    if "appraisal" not in ids or "appraisal_useful" not in ids:
        return pd.DataFrame(columns=["wave", "had_share", "had_n", "useful_mean", "useful_n",
                                     "suppressed", "reason"])
    waves = survey.waves if wave is None else check_wave(survey, wave)
    rows = []
    for label in waves:
        had = category_distribution(survey, unit, "appraisal", label, lang)
        yes = had[had["code"] == 1].iloc[0]
        useful = category_distribution(survey, unit, "appraisal_useful", label, lang)
        shares = useful["share"].to_numpy() / 100.0
        mean = float(np.dot(shares, useful["code"].to_numpy())) if not \
            useful["suppressed"].iloc[0] else np.nan
        hidden = bool(yes["suppressed"] or useful["suppressed"].iloc[0])
        rows.append({"wave": label, "had_share": yes["share"], "had_n": int(yes["n"]),
                     "useful_mean": np.nan if hidden else mean,
                     "useful_n": int(useful["n"].iloc[0]), "suppressed": hidden,
                     "reason": yes["reason"] or useful["reason"].iloc[0]})
    frame = pd.DataFrame(rows)
    frame.loc[frame["suppressed"], "had_share"] = np.nan
    return frame


def score_distribution(survey: Survey, unit: str, factor: str, wave: str | int | None = None,
                       lang: str = "nb") -> pd.DataFrame:
    """Person scores of one factor in half-point bins (shares of persons).

    Returns
    -------
    DataFrame
        ``low, high, share`` (percent), ``n, suppressed, reason``.
    """
    label = _wave(survey, wave)
    check_unit(survey, unit, label)
    instrument = survey.instrument
    k = [f.id for f in instrument.factors].index(instrument.factor(factor).id)
    responses = survey.responses
    data = responses[responses["wave"] == label]
    scores = factor_scores(scored_values(data, instrument), instrument)[:, k]
    bins = np.digitize(scores, SCORE_BINS) - 1.0
    bins[np.isnan(scores)] = np.nan
    table = category_table(survey, label, bins, len(SCORE_BINS) - 1, factor, scores, lang)
    row = table[table["unit_id"] == unit].iloc[0]
    # shares of persons: every person adds exactly one count, so the counts' shares are theirs
    return pd.DataFrame({
        "low": SCORE_BINS[:-1],
        "high": np.r_[SCORE_BINS[1:-1], 5.0],
        "share": [row[f"pct_{i + 1}"] for i in range(len(SCORE_BINS) - 1)],
        "n": int(row["n"]),
        "suppressed": bool(row["suppressed"]),
        "reason": row["reason"],
    })
