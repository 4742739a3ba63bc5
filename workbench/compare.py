"""Comparisons: is a unit really different from its parent, its past, a benchmark?

Rules (``DESIGN.md``, Statistics rules):

- ``parent``: the unit's subtree against the *rest* of its parent's subtree (the parent minus
  the unit), Welch's t-test with the finite population correction (FPC) on both sides;
- ``previous``: the unit in this wave against the same unit in the wave before it in
  ``survey.yaml``, Welch with the FPC per wave;
- ``benchmark``: a one-sample t-test against the benchmark mean, or, when the benchmark has
  ``sd`` and ``n``, Welch from summary statistics (FPC on the unit's side only);
- ``siblings``: every published child of the unit's parent against the rest of the parent.

Welch with the FPC: each side's squared standard error is ``s^2/n x (1 - n/N)`` (N = persons
invited to that side; no correction when N is unknown), and the Welch-Satterthwaite degrees
of freedom are computed from these corrected variances. Since Welch only ever uses ``s^2/n``,
this is Welch's test on the standard deviations ``s x sqrt(1 - n/N)``: the FPC is applied to
the sd and :func:`scipy.stats.ttest_ind_from_stats` does the rest. Without FPC the result is
exactly statsmodels' ``ttest_ind(..., usevar="unequal")``.

p-values are adjusted across the keys of one comparison (Holm) or, for ``siblings``, across
all siblings and keys (Benjamini-Hochberg, for heatmaps). A difference is called *real* only
when the adjusted p is below 0.05 *and* the difference is at least the practical threshold
(default 0.2 points).

Privacy: the engine (:func:`comparison_table`) reads published tables only. A comparison is
made between published cells of the release: the unit, its parent (for ``parent`` and
``siblings``) or the unit in the earlier wave; the rest of a parent is the parent's cell
minus the unit's, which the joint protection keeps at 0 or at least ``min_n`` persons. So a
comparison shows nothing that the published cells do not. Rows where a side is hidden say
why (``reason``) and show no statistic.

Examples
--------
>>> from workbench.release import open_release
>>> from workbench.compare import compare
>>> release = open_release("data_samples/university")
>>> table = compare(release, "NV-FYS", "parent", wave="2021")
>>> list(table.columns[:14])
['wave', 'unit_id', 'against', 'key', 'mean', 'other_mean', 'diff', 'ci_low', 'ci_high', \
'p', 'p_adj', 'd', 'finding', 'verdict']
"""

from __future__ import annotations

import warnings
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from workbench.errors import UsageError
from workbench.org import Hierarchy

__all__ = ["COMPARE_COLUMNS", "EXTRA_COLUMNS", "AGAINST", "ADJUST_METHODS", "ALPHA", "compare",
           "comparison_table", "predecessors", "detectable", "COMPARE_REASONS", "welch_test",
           "one_sample_test", "adjust_pvalues", "classify", "verdict_text"]

COMPARE_COLUMNS = ("wave", "unit_id", "against", "key", "mean", "other_mean", "diff", "ci_low",
                   "ci_high", "p", "p_adj", "d", "finding", "verdict")
EXTRA_COLUMNS = ("label", "n", "other_n", "other_id", "other_wave", "invited", "other_invited",
                 "se", "df", "t", "adjust", "detectable", "suppressed", "reason", "verdict_nb",
                 "verdict_en")
AGAINST = ("parent", "previous", "benchmark", "siblings")
ADJUST_METHODS = ("holm", "fdr_bh", "bonferroni", "none")
ALPHA = 0.05
# A difference computed from sums may miss 0.2 by a rounding error (4.1 - 3.9 < 0.2).
_TOLERANCE = 1e-9


# --------------------------------------------------------------------------------------------
# Tests from summary statistics


def welch_test(mean1, sd1, n1, mean2, sd2, n2, invited1=np.nan,
               invited2=np.nan) -> pd.DataFrame:
    """Welch's two-sample t-test from summary statistics, with the FPC on each side.

    Parameters
    ----------
    mean1, sd1, n1
        Mean, sd (denominator n - 1) and size of the first group (scalars or arrays).
    mean2, sd2, n2
        The same for the second group.
    invited1, invited2
        Population sizes N for the finite population correction sqrt(1 - n/N); NaN or 0:
        no correction on that side.

    Returns
    -------
    DataFrame
        ``diff, se, df, t, p, d``: diff = mean1 - mean2; se^2 = sd1^2/n1 x fpc1^2 +
        sd2^2/n2 x fpc2^2; df by Welch-Satterthwaite from those FPC-corrected variances;
        t = diff/se; two-sided p from Student's t. ``d`` = diff over the pooled sd
        sqrt(((n1-1) sd1^2 + (n2-1) sd2^2)/(n1 + n2 - 2)) (Cohen's d; no FPC). When se is
        0 (both sides a census, or no spread at all) p is 0 for a non-zero difference and 1
        for none.
    """
    from scipy import stats as st

    from workbench.aggregate import fpc_factor

    m1, s1, k1, m2, s2, k2 = np.broadcast_arrays(
        *(np.atleast_1d(np.asarray(x, dtype="float64")) for x in (mean1, sd1, n1, mean2, sd2,
                                                                   n2)))
    f1 = fpc_factor(k1, np.broadcast_to(np.asarray(invited1, dtype="float64"), k1.shape))
    f2 = fpc_factor(k2, np.broadcast_to(np.asarray(invited2, dtype="float64"), k2.shape))
    # The FPC is the only hand-written part: it scales each side's sd.
    c1, c2 = s1 * f1, s2 * f2
    with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        result = st.ttest_ind_from_stats(m1, c1, k1, m2, c2, k2, equal_var=False)
        v1, v2 = c1 ** 2 / k1, c2 ** 2 / k2
        se = np.sqrt(v1 + v2)
        df = (v1 + v2) ** 2 / (v1 ** 2 / (k1 - 1) + v2 ** 2 / (k2 - 1))
        pooled = np.sqrt(((k1 - 1) * s1 ** 2 + (k2 - 1) * s2 ** 2) / (k1 + k2 - 2))
        diff = m1 - m2
        d = np.where(pooled > 0, diff / pooled, np.nan)
    t = np.asarray(result.statistic, dtype="float64")
    p = np.asarray(result.pvalue, dtype="float64")
    exact = (se == 0) & np.isfinite(diff)
    t = np.where(exact, _infinite_t(diff), t)
    p = np.where(exact, np.where(diff != 0, 0.0, 1.0), p)
    return pd.DataFrame({"diff": diff, "se": se, "df": df, "t": t, "p": p, "d": d})


def one_sample_test(mean, sd, n, mu, invited=np.nan) -> pd.DataFrame:
    """One-sample t-test of a group's mean against a fixed value, with the FPC.

    Parameters
    ----------
    mean, sd, n
        The group's mean, sd (denominator n - 1) and size (scalars or arrays).
    mu
        The value tested against (e.g. a national average).
    invited
        Population size for the FPC sqrt(1 - n/N); NaN or 0: no correction.

    Returns
    -------
    DataFrame
        ``diff, se, df, t, p, d``: diff = mean - mu, se = sd/sqrt(n) x fpc, df = n - 1,
        two-sided p from Student's t, d = diff/sd (the group's own sd).
    """
    from scipy import stats as st

    from workbench.aggregate import fpc_factor

    m, s, k, mu = np.broadcast_arrays(
        *(np.atleast_1d(np.asarray(x, dtype="float64")) for x in (mean, sd, n, mu)))
    f = fpc_factor(k, np.broadcast_to(np.asarray(invited, dtype="float64"), k.shape))
    with np.errstate(divide="ignore", invalid="ignore"):
        diff = m - mu
        se = s / np.sqrt(k) * f
        df = k - 1
        t = np.where(se > 0, diff / se, _infinite_t(diff))
        p = np.where(se > 0, 2.0 * st.t.sf(np.abs(t), df), np.where(diff == 0, 1.0, 0.0))
        d = np.where(s > 0, diff / s, np.nan)
    p = np.where(np.isfinite(diff) & np.isfinite(s) & (k > 1), p, np.nan)
    return pd.DataFrame({"diff": diff, "se": se, "df": df, "t": t, "p": p, "d": d})


def _infinite_t(diff: np.ndarray) -> np.ndarray:
    """t when the standard error is 0: +-inf for a difference, 0 for none."""
    return np.where(diff > 0, np.inf, np.where(diff < 0, -np.inf, 0.0))


def adjust_pvalues(p, method: str = "holm") -> np.ndarray:
    """Adjust p-values for multiple testing; NaN p-values are left out of the family.

    Parameters
    ----------
    p
        p-values (NaN for tests not done, e.g. suppressed rows).
    method
        ``holm`` (step-down, family-wise error), ``fdr_bh`` (Benjamini-Hochberg, false
        discovery rate), ``bonferroni`` or ``none``; as :func:`statsmodels.stats.multitest.
        multipletests`.

    Returns
    -------
    ndarray
        Adjusted p-values, NaN where ``p`` is NaN.
    """
    method = _adjust_method(method)
    values = np.asarray(p, dtype="float64").copy()
    done = np.isfinite(values)
    if method == "none" or not done.any():
        return values
    if method == "holm":
        values[done] = _holm(values[done])
    else:
        from statsmodels.stats.multitest import multipletests

        values[done] = multipletests(values[done], method=method)[1]
    return values


def _holm(p: np.ndarray) -> np.ndarray:
    """Holm's step-down adjustment, as statsmodels' ``multipletests(p, method="holm")``.

    Written out because that function runs a full garbage collection on every call (after
    its Holm branch), which in the apps and a handout batch costs more than the comparisons
    themselves; the tests hold the two equal.
    """
    order = np.argsort(p, kind="stable")
    m = len(p)
    out = np.empty(m)
    out[order] = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    return out


def classify(diff, p_adj, threshold: float = 0.2, alpha: float = ALPHA, se=None,
             df=None, t90=None) -> np.ndarray:
    """The finding of each comparison, as a code.

    Parameters
    ----------
    diff, p_adj
        The differences and their adjusted p-values.
    threshold
        The smallest difference, in points, that matters in practice.
    alpha
        Significance level of the adjusted p.
    se, df
        Standard error and degrees of freedom of each difference, for the equivalence test
        (without them nothing is called ``similar``).
    t90
        t(0.95, df), when known (a release keeps it): no quantile is computed then.

    Returns
    -------
    ndarray of str
        ``higher`` / ``lower``: adjusted p below ``alpha`` and |diff| at least ``threshold``
        (a real difference); ``small``: significant but below the threshold; ``similar``:
        not significant and the 90 % interval of the difference lies inside +- threshold
        (two one-sided tests at 5 %: the two are about the same, and we can tell);
        ``unclear``: neither (too few answers to tell); ``suppressed``: no test.
    """
    diff = np.atleast_1d(np.asarray(diff, dtype="float64"))
    p_adj = np.atleast_1d(np.asarray(p_adj, dtype="float64"))
    significant = p_adj < alpha
    big = np.abs(diff) >= threshold - _TOLERANCE
    same = np.zeros(diff.shape, dtype=bool)
    if se is not None and df is not None:
        se = np.atleast_1d(np.asarray(se, dtype="float64"))
        if t90 is None:
            from scipy.special import stdtrit

            with np.errstate(invalid="ignore"):
                t90 = stdtrit(np.atleast_1d(np.asarray(df, dtype="float64")), 0.95)
        with np.errstate(invalid="ignore"):
            half = np.atleast_1d(np.asarray(t90, dtype="float64")) * se
            same = np.abs(diff) + half < threshold - _TOLERANCE
    out = np.where(significant, np.where(big, np.where(diff > 0, "higher", "lower"), "small"),
                   np.where(same, "similar", "unclear")).astype(object)
    out[~(np.isfinite(diff) & np.isfinite(p_adj))] = "suppressed"
    return out


def detectable(se, df, tests: int, alpha: float = ALPHA, threshold: float = 0.2, t=None):
    """The smallest difference a comparison could call real: at least ``threshold``, and
    large enough to be significant after adjusting for ``tests`` tests (Bonferroni's bound,
    which Holm never needs more than): t(1 - alpha / (2 tests), df) x se.

    Examples
    --------
    >>> round(float(detectable(0.25, 6, 17)), 2)   # 7 answers, 17 factors
    1.2

    ``t``, when known (a release keeps it), is that quantile: none is computed then.
    """
    se = np.asarray(se, dtype="float64")
    if t is None:
        from scipy.special import stdtrit

        with np.errstate(invalid="ignore"):
            t = stdtrit(np.asarray(df, dtype="float64"),
                        1.0 - alpha / (2.0 * max(int(tests), 1)))
    with np.errstate(invalid="ignore"):
        return np.maximum(np.asarray(t, dtype="float64") * se, threshold)


_TEXTS = {
    "small": {"nb": "En liten forskjell (mindre enn {threshold} poeng)",
              "en": "A small difference (under {threshold} points)"},
    "similar": {"nb": "Omtrent likt (forskjellen er sikkert mindre enn {threshold} poeng)",
                "en": "About the same (the difference is surely under {threshold} points)"},
    "unclear": {"nb": "Kan ikke avgjøres (for få svar til å skille fra tilfeldigheter)",
                "en": "Cannot tell (too few answers to tell from chance)"},
    "suppressed": {"nb": "skjult", "en": "suppressed"},
    "no_benchmark": {"nb": "Ingen sammenligningstall", "en": "No benchmark figure"},
}
_DIRECTION = {"higher": {"nb": "Høyere", "en": "Higher"},
              "lower": {"nb": "Lavere", "en": "Lower"}}


def verdict_text(finding: str, against: str, other: str = "", lang: str = "nb",
                 threshold: float = 0.2) -> str:
    """The plain verdict for a finding code (see :func:`classify`).

    Parameters
    ----------
    finding
        ``higher``, ``lower``, ``small``, ``unclear``, ``suppressed`` or ``no_benchmark``.
    against
        ``parent``, ``siblings``, ``previous`` or ``benchmark``.
    other
        What the unit is compared with: the parent's name, the earlier wave, or the
        benchmark (``all`` = the national average for everyone).
    lang
        ``nb`` or ``en``.

    Examples
    --------
    >>> verdict_text("higher", "parent", "Fakultet for naturvitenskap")
    'Høyere enn resten av Fakultet for naturvitenskap'
    >>> verdict_text("lower", "previous", "2019", lang="en")
    'Lower than in 2019'
    """
    if finding in _TEXTS:
        from workbench.i18n import number

        return _TEXTS[finding][lang].format(threshold=number(threshold, lang, 1))
    word = _DIRECTION[finding][lang]
    if against in ("parent", "siblings"):
        tail = {"nb": f"enn resten av {other}", "en": f"than the rest of {other}"}
    elif against == "previous":
        tail = {"nb": f"enn i {other}", "en": f"than in {other}"}
    elif other in ("", "all"):
        tail = {"nb": "enn landsgjennomsnittet", "en": "than the national average"}
    else:
        tail = {"nb": f"enn landsgjennomsnittet for {other}",
                "en": f"than the national average for {other}"}
    return f"{word} {tail[lang]}"


# --------------------------------------------------------------------------------------------
# The engine: tests between published cells


#: Why a comparison row shows no test (``reason``).
COMPARE_REASONS = ("unit_suppressed", "parent_suppressed", "no_rest", "previous_suppressed",
                   "not_in_previous", "no_benchmark")

_RAW_COLUMNS = ("wave", "unit_id", "against", "level", "key", "mean", "other_mean", "n",
                "other_n", "invited", "other_invited", "other_id", "other_wave", "sd",
                "other_sd", "diff", "se", "df", "t", "p", "d", "ci_low", "ci_high", "suppressed",
                "reason", "tests", "t90", "t_detect")


def _sums(n, mean, sd) -> tuple[np.ndarray, np.ndarray]:
    """Sums of values and of squares from published n, mean and sd (denominator n - 1)."""
    n = np.asarray(n, dtype="float64")
    mean = np.asarray(mean, dtype="float64")
    sd = np.nan_to_num(np.asarray(sd, dtype="float64"))
    s1 = mean * n
    return s1, (n - 1) * sd ** 2 + s1 * mean


def _rest(n_p, mean_p, sd_p, n_u, mean_u, sd_u) -> tuple[np.ndarray, ...]:
    """n, mean and sd of a parent's cell minus a unit's cell inside it."""
    s1p, s2p = _sums(n_p, mean_p, sd_p)
    s1u, s2u = _sums(n_u, mean_u, sd_u)
    n = np.asarray(n_p, dtype="float64") - np.asarray(n_u, dtype="float64")
    s1, s2 = s1p - s1u, s2p - s2u
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.where(n > 0, s1 / n, np.nan)
        var = (s2 - s1 ** 2 / n) / (n - 1)
    sd = np.where(n > 1, np.sqrt(np.clip(var, 0.0, None)), np.nan)
    return n, mean, sd


def _cells(table: pd.DataFrame) -> pd.DataFrame:
    """The published cells of a statistics table, indexed by (wave, unit_id, key)."""
    shown = table.loc[~table["suppressed"].astype(bool)]
    return shown.set_index([shown["wave"].astype(str), shown["unit_id"].astype(str),
                            shown["key"].astype(str)])[["n", "mean", "sd", "invited"]]


def _lookup(cells: pd.DataFrame, wave, unit, key) -> pd.DataFrame:
    index = pd.MultiIndex.from_arrays([np.asarray(wave, dtype=object),
                                       np.asarray(unit, dtype=object),
                                       np.asarray(key, dtype=object)])
    return cells.reindex(index)


def predecessors(tables: Mapping[str, pd.DataFrame], before: Mapping[str, str]) -> pd.DataFrame:
    """``wave, unit_id, previous``: the unit(s) of the wave before that each unit continues.

    From ``successors`` (unit X of a wave lives on as Y in the next: renamed, merged, split)
    and, for a unit with no row there, the unit of the same id in the wave before.
    """
    units = tables["units"][["wave", "unit_id"]].astype(str)
    successors = tables.get("successors")
    if successors is None or successors.empty:
        successors = pd.DataFrame({c: pd.Series([], dtype=object)
                                   for c in ("wave", "unit_id", "successor_id")})
    successors = successors.astype(str)
    after = {b: w for w, b in before.items()}
    explicit = pd.DataFrame({"wave": successors["wave"].map(after),
                             "unit_id": successors["successor_id"],
                             "previous": successors["unit_id"]}).dropna(subset=["wave"])
    same = units.assign(previous=units["unit_id"], then=units["wave"].map(before))
    same = same.dropna(subset=["then"])
    listed = pd.MultiIndex.from_frame(successors[["wave", "unit_id"]])
    existed = pd.MultiIndex.from_frame(units)
    key = pd.MultiIndex.from_arrays([same["then"], same["previous"]])
    same = same.loc[key.isin(existed) & ~key.isin(listed), ["wave", "unit_id", "previous"]]
    return pd.concat([explicit, same], ignore_index=True).drop_duplicates()


def _previous_cells(cells: pd.DataFrame, tables: Mapping[str, pd.DataFrame],
                    before: Mapping[str, str], wave, unit, key) -> dict[str, np.ndarray]:
    """n, mean, sd and invited of each unit's predecessors in the wave before, combined
    (the sum of disjoint published cells is as public as the cells), with how many there
    are (``found``) and how many are published (``shown``)."""
    pairs = predecessors(tables, before)
    ask = pd.DataFrame({"wave": np.asarray(wave, dtype=object),
                        "unit_id": np.asarray(unit, dtype=object),
                        "key": np.asarray(key, dtype=object)})
    ask["row"] = np.arange(len(ask))
    long = ask.merge(pairs, on=["wave", "unit_id"], how="inner")
    found = _lookup(cells, long["wave"].map(before), long["previous"], long["key"])
    s1, s2 = _sums(found["n"], found["mean"], found["sd"])
    long = long.assign(n=found["n"].to_numpy(), s1=s1, s2=s2,
                       invited=found["invited"].to_numpy(),
                       shown=found["n"].notna().to_numpy())
    grouped = long.groupby("row")
    size = len(ask)

    def total(column: str) -> np.ndarray:
        out = np.zeros(size)
        sums = grouped[column].sum(min_count=1)
        out[sums.index] = sums.to_numpy()
        return out

    count = np.zeros(size)
    count[grouped.size().index] = grouped.size().to_numpy()
    shown = total("shown")
    n, s1, s2 = total("n"), total("s1"), total("s2")
    invited = np.full(size, np.nan)
    known = grouped["invited"].apply(lambda v: v.notna().all())
    inv = grouped["invited"].sum()
    invited[inv.index] = np.where(known.reindex(inv.index).to_numpy(), inv.to_numpy(), np.nan)
    ids = np.full(size, "", dtype=object)
    joined = grouped["previous"].agg(lambda v: "+".join(sorted(v)))
    ids[joined.index] = joined.to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.where(n > 0, s1 / n, np.nan)
        var = (s2 - s1 ** 2 / n) / (n - 1)
    sd = np.where(n > 1, np.sqrt(np.clip(var, 0.0, None)), np.nan)
    hidden = shown < count
    return {"n": np.where(hidden, np.nan, n), "mean": np.where(hidden, np.nan, mean),
            "sd": np.where(hidden, np.nan, sd), "invited": invited, "other_id": ids,
            "found": count, "shown": shown}


def _tests(frame: pd.DataFrame, one_sample: np.ndarray | None = None) -> pd.DataFrame:
    """Welch with the FPC on both sides (one-sample against a fixed mean where asked)."""
    test = welch_test(frame["mean"], frame["sd"], frame["n"], frame["other_mean"],
                      frame["other_sd"], frame["other_n"], frame["invited"],
                      frame["other_invited"])
    if one_sample is not None and one_sample.any():
        single = one_sample_test(frame["mean"], frame["sd"], frame["n"], frame["other_mean"],
                                 frame["invited"])
        test.loc[one_sample, :] = single.loc[one_sample, :].to_numpy()
    return test


def _assemble(frame: pd.DataFrame, reason: np.ndarray, one_sample=None) -> pd.DataFrame:
    from scipy import stats as st

    test = _tests(frame, one_sample)
    # the 95% interval of the difference goes into the table, so that showing a comparison
    # needs no statistics library (a leader's kernel shows the release, it tests nothing)
    with np.errstate(invalid="ignore"):
        half = st.t.ppf(0.975, test["df"].to_numpy(dtype="float64")) * \
            test["se"].to_numpy(dtype="float64")
    test["ci_low"], test["ci_high"] = test["diff"] - half, test["diff"] + half
    hide = reason != ""
    for column in ("diff", "se", "df", "t", "p", "d", "ci_low", "ci_high"):
        values = test[column].to_numpy(dtype="float64").copy()
        values[hide] = np.nan
        frame[column] = values
    # a hidden side shows no number at all, not even its count
    for column in ("mean", "other_mean", "sd", "other_sd", "n", "other_n"):
        frame.loc[hide, column] = np.nan
    frame["suppressed"] = hide
    frame["reason"] = reason
    return frame


def comparison_table(tables: Mapping[str, pd.DataFrame], config, level: str = "factor",
                     units: Sequence[str] | None = None) -> pd.DataFrame:
    """Every unit against the rest of its parent, its previous wave and its benchmark.

    The engine reads published tables only (a release's ``factors`` or ``items``, ``units``
    and ``benchmarks``): a comparison is made between published cells, and the rest of a
    parent is the parent's cell minus the unit's, so a comparison shows nothing that the
    published cells do not. Tests are raw: :func:`compare` adjusts them and words the
    finding.

    Parameters
    ----------
    tables
        ``units``, ``factors`` or ``items``, and ``benchmarks`` (may be empty).
    config
        The survey's settings (``waves``, ``benchmark_by``).
    level
        ``factor`` or ``item`` (no benchmarks at item level).
    units
        Only these units (default: every unit).

    Returns
    -------
    DataFrame
        ``wave, unit_id, against, level, key, mean, other_mean, n, other_n, invited,
        other_invited, other_id, other_wave, sd, other_sd, diff, se, df, t, p, d, ci_low,
        ci_high, suppressed, reason`` (see :func:`compare`; ``ci_low .. ci_high`` = diff +-
        t(0.975, df) x se; ``reason`` one of :data:`COMPARE_REASONS`).
    """
    name = {"factor": "factors", "item": "items"}[level]
    stats = tables[name]
    hierarchy = tables["units"]
    if units is not None:
        wanted = set(units)
        hierarchy = hierarchy.loc[hierarchy["unit_id"].isin(wanted)]
    keys = pd.unique(stats["key"].astype(str))
    cells = _cells(stats)
    base = hierarchy[["wave", "unit_id", "parent_id"]].astype(str)
    grid = base.loc[base.index.repeat(len(keys))].reset_index(drop=True)
    grid["key"] = np.tile(keys, len(base))
    own = _lookup(cells, grid["wave"], grid["unit_id"], grid["key"])
    frames = []

    def start(against: str) -> pd.DataFrame:
        frame = pd.DataFrame({"wave": grid["wave"], "unit_id": grid["unit_id"],
                              "against": against, "level": level, "key": grid["key"],
                              "mean": own["mean"].to_numpy(), "n": own["n"].to_numpy(),
                              "invited": own["invited"].to_numpy(),
                              "sd": own["sd"].to_numpy()})
        return frame

    unit_hidden = own["n"].isna().to_numpy()

    # against the rest of the parent
    child = (grid["parent_id"] != "").to_numpy()
    frame = start("parent").loc[child].reset_index(drop=True)
    parent = _lookup(cells, grid["wave"][child], grid["parent_id"][child], grid["key"][child])
    n, mean, sd = _rest(parent["n"], parent["mean"], parent["sd"], frame["n"], frame["mean"],
                        frame["sd"])
    frame["other_mean"], frame["other_n"], frame["other_sd"] = mean, n, sd
    frame["other_invited"] = parent["invited"].to_numpy() - frame["invited"].to_numpy()
    frame["other_id"] = grid["parent_id"][child].to_numpy()
    frame["other_wave"] = frame["wave"]
    reason = np.select([unit_hidden[child], parent["n"].isna().to_numpy(), n == 0],
                       ["unit_suppressed", "parent_suppressed", "no_rest"], "")
    frames.append(_assemble(frame, reason))

    # against the previous wave: the unit's predecessors there (successors.csv), combined
    waves = list(config.waves)
    before = {w: waves[i - 1] for i, w in enumerate(waves) if i > 0}
    later = grid["wave"].map(before).notna().to_numpy()
    if later.any():
        frame = start("previous").loc[later].reset_index(drop=True)
        earlier = grid["wave"][later].map(before).to_numpy()
        then = _previous_cells(cells, tables, before, frame["wave"], frame["unit_id"],
                               frame["key"])
        frame["other_mean"], frame["other_n"] = then["mean"], then["n"]
        frame["other_sd"], frame["other_invited"] = then["sd"], then["invited"]
        frame["other_id"], frame["other_wave"] = then["other_id"], earlier
        reason = np.select([unit_hidden[later], then["found"] == 0,
                            then["shown"] < then["found"]],
                           ["unit_suppressed", "not_in_previous", "previous_suppressed"], "")
        frames.append(_assemble(frame, reason))

    # against the benchmark
    benchmarks = tables.get("benchmarks")
    if level == "factor" and benchmarks is not None and len(benchmarks):
        frame = start("benchmark")
        bench = benchmarks.assign(wave=benchmarks["wave"].astype(str),
                                  benchmark=benchmarks["benchmark"].astype(str),
                                  factor=benchmarks["factor"].astype(str))
        bench = bench.drop_duplicates(["wave", "benchmark", "factor"]).set_index(
            ["wave", "benchmark", "factor"])
        by = getattr(config, "benchmark_by", None)
        kind = hierarchy[by].fillna("").astype(str).to_numpy() if by and by in \
            hierarchy.columns else np.full(len(hierarchy), "")
        kind = np.repeat(kind, len(keys))
        mine = bench.reindex(pd.MultiIndex.from_arrays([frame["wave"], kind, frame["key"]]))
        common = bench.reindex(pd.MultiIndex.from_arrays([frame["wave"],
                                                          np.full(len(frame), "all"),
                                                          frame["key"]]))
        has_own = mine["mean"].notna().to_numpy()
        chosen = pd.DataFrame(np.where(has_own[:, None], mine.to_numpy(dtype=object),
                                       common.to_numpy(dtype=object)), columns=bench.columns)
        for column in ("sd", "n"):
            if column not in chosen.columns:
                chosen[column] = np.nan
        frame["other_mean"] = pd.to_numeric(chosen["mean"]).to_numpy(dtype="float64")
        frame["other_sd"] = pd.to_numeric(chosen["sd"]).to_numpy(dtype="float64")
        frame["other_n"] = pd.to_numeric(chosen["n"]).round().to_numpy(dtype="float64")
        frame["other_invited"] = np.nan
        frame["other_id"] = np.where(has_own, kind, np.where(common["mean"].notna(), "all",
                                                            ""))
        frame["other_wave"] = frame["wave"]
        one_sample = ~(np.isfinite(frame["other_sd"]) & (frame["other_n"] > 1)).to_numpy()
        reason = np.select([unit_hidden, frame["other_id"].to_numpy() == ""],
                           ["unit_suppressed", "no_benchmark"], "")
        frame = _assemble(frame, reason, one_sample)
        # one effect size for every benchmark row, whatever the test: the difference in
        # units of the unit's own sd (a national sd would mix two populations' spread)
        with np.errstate(divide="ignore", invalid="ignore"):
            frame["d"] = np.where(frame["sd"] > 0, frame["diff"] / frame["sd"], np.nan)
        frames.append(frame)

    out = pd.concat(frames, ignore_index=True)
    _quantiles(out)
    return out.loc[:, list(_RAW_COLUMNS)]


def _quantiles(table: pd.DataFrame) -> None:
    """The t quantiles that wording a comparison needs, kept in the table so that a page
    showing a release loads no statistics library: ``t90`` = t(0.95, df) for the equivalence
    test, ``t_detect`` = t(1 - alpha / (2 tests), df) for :func:`detectable`, where
    ``tests`` counts the tested rows of the row's comparison (one unit, wave and kind)."""
    from scipy.special import stdtrit

    tested = pd.Series(np.isfinite(table["p"].to_numpy(dtype="float64")), index=table.index)
    tests = tested.groupby([table["wave"], table["unit_id"], table["against"]]).transform("sum")
    table["tests"] = tests.clip(lower=1).astype("int64")
    df = table["df"].to_numpy(dtype="float64")
    with np.errstate(invalid="ignore"):
        table["t90"] = stdtrit(df, 0.95)
        table["t_detect"] = stdtrit(df, 1.0 - ALPHA / (2.0 * table["tests"].to_numpy()))


# --------------------------------------------------------------------------------------------
# Checks of the arguments


def _check_wave(source, wave) -> str:
    if wave is None:
        return source.waves[-1]
    label = str(wave)
    if label not in source.waves:
        raise UsageError(f"wave {label!r} is not in survey.yaml; the waves are "
                         f"{', '.join(source.waves)}")
    return label


def _adjust_method(method: str) -> str:
    aliases = {"bh": "fdr_bh", "fdr": "fdr_bh", "benjamini-hochberg": "fdr_bh"}
    name = aliases.get(str(method).lower(), str(method).lower())
    if name not in ADJUST_METHODS:
        raise UsageError(f"adjust {method!r} is not known; use one of "
                         f"{', '.join(ADJUST_METHODS)}")
    return name


def _parent_of(hierarchy: Hierarchy, unit: str, against: str) -> str:
    parent = hierarchy.parent(unit)
    if parent is None:
        raise UsageError(f"unit {unit!r} is the whole organisation (the root) and has no parent; "
                         f"--against {against} needs a unit below the root")
    return parent


# --------------------------------------------------------------------------------------------
# The comparison table


def _raw(release, level: str, units: Sequence[str] | None = None) -> pd.DataFrame:
    """The engine's raw tests: the release's own at factor level, computed for items."""
    if level == "factor" and len(release.tables.get("comparisons", ())):
        return release.tables["comparisons"]
    key = ("comparisons", level, None if units is None else tuple(sorted(units)))
    return release.memo(key, lambda: comparison_table(release.tables, release.config, level,
                                                      units))


def compare(release, unit: str, against: str, wave: str | None = None, threshold: float = 0.2,
            adjust: str | None = None, lang: str = "nb", level: str = "factor",
            alpha: float = ALPHA) -> pd.DataFrame:
    """Test a unit against the rest of its parent, its previous wave, a benchmark or siblings.

    Parameters
    ----------
    release
        A :class:`workbench.release.Release` (or a dataset or release folder, or a loaded
        Survey, whose release is then built in memory).
    unit
        The unit id (its whole subtree is one group).
    against
        ``parent`` (the rest of the parent's subtree), ``previous`` (the same unit in the wave
        before, as listed in survey.yaml), ``benchmark`` (the benchmark of the unit's
        ``benchmark_by`` column, e.g. its kind; ``all`` when there is none) or ``siblings``
        (every published child of the parent, the unit included, each against the rest of
        the parent).
    wave
        The wave (default: the last wave).
    threshold
        The smallest difference, in scale points, called real (default 0.2).
    adjust
        Multiple-testing adjustment: ``holm``, ``fdr_bh``, ``bonferroni`` or ``none``.
        Default: Holm across the keys of the comparison; Benjamini-Hochberg across all rows
        for ``siblings``.
    lang
        Language of ``verdict`` (``nb`` or ``en``).
    level
        ``factor`` (person factor scores) or ``item`` (answers to each item).
    alpha
        Significance level for the adjusted p (default 0.05).

    Returns
    -------
    DataFrame
        One row per key (per sibling and key for ``siblings``), columns ``wave, unit_id,
        against, key, mean, other_mean, diff, ci_low, ci_high, p, p_adj, d, finding,
        verdict``, then ``label, n, other_n, other_id, other_wave, invited, other_invited,
        se, df, t, adjust, suppressed, reason, verdict_nb, verdict_en``:

        - ``mean``, ``n``, ``invited``: the unit's subtree; ``other_*``: the other side (the
          rest of the parent, the unit in ``other_wave``, or the benchmark); ``other_id`` =
          the parent, the unit, or the benchmark id;
        - ``diff`` = mean - other_mean with its 95% interval ``ci_low .. ci_high``
          (diff +- t(0.975, df) x se); ``se``, ``df``, ``t``: Welch with the FPC on both
          sides (one-sample t for a benchmark without sd and n); ``p`` two-sided, ``p_adj``
          adjusted by the method in ``adjust``;
        - ``d``: diff over the pooled sd (Cohen's d); against a benchmark diff over the
          unit's own sd, whether the benchmark has an sd or not;
        - ``finding``: ``higher``/``lower`` (real: p_adj < alpha and |diff| >= threshold),
          ``small`` (significant, under the threshold), ``similar`` (the 90% interval of
          the difference inside +- threshold), ``unclear`` (too few answers to tell),
          ``suppressed`` or ``no_benchmark``; ``verdict`` its plain text in ``lang``;
        - ``detectable``: the smallest difference this comparison could call real (at
          least the threshold; t(1 - alpha/(2m), df) x se for m tests);
        - ``suppressed`` True (with a ``reason``) where a side is not published: the
          statistics are then empty.

    Raises
    ------
    UsageError
        Unknown unit, wave, ``against``, ``level``, ``lang`` or ``adjust``; the root against
        its parent; no previous wave; no benchmarks.
    """
    from workbench.release import as_release

    release = as_release(release)
    if against not in AGAINST:
        raise UsageError(f"against {against!r} is not known; use one of {', '.join(AGAINST)}")
    if level not in ("factor", "item"):
        raise UsageError(f"level must be 'factor' or 'item', got {level!r}")
    if lang not in ("nb", "en"):
        raise UsageError(f"lang must be 'nb' or 'en', got {lang!r}")
    try:
        threshold, alpha = float(threshold), float(alpha)
    except (TypeError, ValueError):
        raise UsageError(f"threshold and alpha must be numbers, got {threshold!r} and "
                         f"{alpha!r}") from None
    if not (np.isfinite(threshold) and threshold >= 0):
        raise UsageError(f"threshold must be a number of points >= 0, got {threshold!r}")
    if not (0 < alpha < 1):
        raise UsageError(f"alpha must lie between 0 and 1, got {alpha!r}")
    method = _adjust_method(adjust or ("fdr_bh" if against == "siblings" else "holm"))
    wave = _check_wave(release, wave)
    hierarchy = release.hierarchy(wave)
    unit = str(unit)
    hierarchy.require(unit, wave)
    if against == "benchmark" and level != "factor":
        raise UsageError("benchmarks are given per factor; compare against the benchmark with "
                         "level='factor'")
    if against == "previous" and release.waves.index(wave) == 0:
        raise UsageError(f"wave {wave} is the first wave in survey.yaml; there is no previous "
                         "wave to compare with")
    if against == "previous":
        before = release.waves[release.waves.index(wave) - 1]
        if not release.lineage().previous(unit, wave):
            raise UsageError(f"unit {unit!r} did not exist in wave {before} (the wave before "
                             f"{wave}) and continues no unit of it (successors.csv); compare "
                             f"it against its parent or a benchmark instead")
    if against == "benchmark" and release.benchmarks is None:
        raise UsageError("this survey has no benchmarks: add a benchmarks file (wave, benchmark, "
                         "factor, mean) and name it under 'benchmarks' in survey.yaml")
    if against in ("parent", "siblings"):
        parent = _parent_of(hierarchy, unit, against)
        members = list(hierarchy.children(parent)) if against == "siblings" else [unit]
    else:
        members = [unit]
    raw = _raw(release, level, None if level == "factor" else members)
    kind = "parent" if against == "siblings" else against
    table = raw.loc[(raw["wave"] == wave) & (raw["against"] == kind) &
                    raw["unit_id"].isin(members)]
    if against == "siblings":
        table = table.loc[table.groupby("unit_id")["suppressed"].transform("all").eq(False) |
                          (table["unit_id"] == unit)]
    table = table.copy().reset_index(drop=True)
    table["against"] = against
    return _finish(release, table, against, method, threshold, alpha, lang, level)


def _finish(release, table: pd.DataFrame, against: str, method: str, threshold: float,
            alpha: float, lang: str, level: str) -> pd.DataFrame:
    """Adjust, bound and word the raw tests of one comparison."""
    table["p_adj"] = adjust_pvalues(table["p"].to_numpy(dtype="float64"), method)
    table["adjust"] = method
    if not {"ci_low", "ci_high"} <= set(table.columns):  # a release written before they were
        from scipy import stats as st

        with np.errstate(invalid="ignore"):
            half = st.t.ppf(0.975, table["df"].to_numpy(dtype="float64")) * \
                table["se"].to_numpy(dtype="float64")
        table["ci_low"] = table["diff"] - half
        table["ci_high"] = table["diff"] + half
    se = table["se"].to_numpy(dtype="float64")
    df = table["df"].to_numpy(dtype="float64")
    # the release keeps the t quantiles at the default alpha (see _quantiles)
    tests = int(np.isfinite(table["p"].to_numpy(dtype="float64")).sum()) or 1
    kept = alpha == ALPHA and {"t90", "t_detect", "tests"} <= set(table.columns)
    t90 = table["t90"].to_numpy(dtype="float64") if kept else None
    t_detect = (table["t_detect"].to_numpy(dtype="float64")
                if kept and (table["tests"] == tests).all() else None)
    found = classify(table["diff"].to_numpy(dtype="float64"),
                     table["p_adj"].to_numpy(dtype="float64"), threshold, alpha, se, df, t90)
    found = np.where(table["reason"] == "no_benchmark", "no_benchmark", found)
    table["finding"] = found
    # the smallest difference each row could call real, for the plain-words explanation
    table["detectable"] = detectable(se, df, tests, alpha, threshold, t_detect)
    for code in ("nb", "en"):
        table[f"verdict_{code}"] = [
            verdict_text(f, against, _other_name(release, against, o, w, code), code,
                         threshold)
            for f, o, w in zip(table["finding"], table["other_id"], table["other_wave"])]
    table["verdict"] = table[f"verdict_{lang}"]
    table["label"] = table["key"].map(_labels(release.instrument, level, lang))
    columns = [*COMPARE_COLUMNS, *EXTRA_COLUMNS]
    table = table.loc[:, columns].reset_index(drop=True)
    for column, dtype in _TYPES.items():  # column by column: a frame's astype costs more
        if str(table[column].dtype) != dtype:
            table[column] = table[column].astype(dtype)
    return table


_TYPES = {"wave": "str", "unit_id": "str", "against": "str", "key": "str", "n": "Int64",
          "other_n": "Int64", "other_id": "str", "other_wave": "str", "suppressed": "bool"}


def _other_name(release, against: str, other: str, wave: str, lang: str) -> str:
    if against in ("parent", "siblings"):
        hierarchy = release.hierarchy(wave)
        return hierarchy.name(other, lang) if other in hierarchy else other
    if against == "previous":
        return str(wave)
    return str(other)


def _labels(instrument, level: str, lang: str) -> dict[str, str]:
    if level == "factor":
        return {f.id: f.name(lang) for f in instrument.factors}
    return {i.id: i.text(lang) for i in instrument.items}
