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

Privacy: a comparison is computed only when every group it shows is published. The unit,
its parent (for ``parent`` and ``siblings``) and, for ``previous``, the unit in the earlier
wave must be published by the privacy layer (:func:`workbench.privacy.protect`, the same
decision as the statistics table: at least ``min_n`` persons and the complement rule), and the
rest of the parent needs at least ``min_n`` persons with a value too. Since the rest is the
parent minus the unit, a comparison then shows nothing that the published statistics of the
unit and its parent do not. Suppressed rows keep the counts (as the statistics table does)
but no mean, difference, p or d.

Examples
--------
>>> from workbench.validate import load_survey
>>> from workbench.compare import compare
>>> survey = load_survey("data_samples/university")
>>> table = compare(survey, "NV-FYS", "parent", wave="2021")
>>> list(table.columns[:11])
['wave', 'unit_id', 'against', 'key', 'mean', 'other_mean', 'diff', 'p', 'p_adj', 'd', \
'verdict']
"""

from __future__ import annotations

import difflib
import warnings
import weakref
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats as st
from statsmodels.stats.multitest import multipletests

from workbench.aggregate import fpc_factor, own_sums, rollup
from workbench.errors import UsageError
from workbench.org import Hierarchy
from workbench.privacy import PrivacyPolicy, protect

__all__ = ["COMPARE_COLUMNS", "EXTRA_COLUMNS", "AGAINST", "ADJUST_METHODS", "ALPHA", "compare",
           "welch_test", "one_sample_test", "adjust_pvalues", "classify", "verdict_text"]

COMPARE_COLUMNS = ("wave", "unit_id", "against", "key", "mean", "other_mean", "diff", "p",
                   "p_adj", "d", "verdict")
EXTRA_COLUMNS = ("label", "n", "other_n", "other_id", "other_wave", "invited", "other_invited",
                 "se", "df", "t", "adjust", "finding", "suppressed", "reason", "verdict_nb",
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
    values[done] = _holm(values[done]) if method == "holm" else \
        multipletests(values[done], method=method)[1]
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


def classify(diff, p_adj, threshold: float = 0.2, alpha: float = ALPHA) -> np.ndarray:
    """The finding of each comparison, as a code.

    Returns
    -------
    ndarray of str
        ``higher`` / ``lower``: adjusted p below ``alpha`` and |diff| at least ``threshold``
        (a real difference); ``small``: significant but below the threshold; ``unclear``:
        not significant, whatever its size; ``suppressed``: no test (diff or p missing).
    """
    diff = np.atleast_1d(np.asarray(diff, dtype="float64"))
    p_adj = np.atleast_1d(np.asarray(p_adj, dtype="float64"))
    significant = p_adj < alpha
    big = np.abs(diff) >= threshold - _TOLERANCE
    out = np.where(significant, np.where(big, np.where(diff > 0, "higher", "lower"), "small"),
                   "unclear").astype(object)
    out[~(np.isfinite(diff) & np.isfinite(p_adj))] = "suppressed"
    return out


_TEXTS = {
    "small": {"nb": "Ingen reell forskjell (forskjellen er liten)",
              "en": "No real difference (the difference is small)"},
    "unclear": {"nb": "Ingen sikker forskjell (kan skyldes tilfeldigheter)",
                "en": "No clear difference (may be chance)"},
    "suppressed": {"nb": "skjult", "en": "suppressed"},
    "no_benchmark": {"nb": "Ingen sammenligningstall", "en": "No benchmark figure"},
}
_DIRECTION = {"higher": {"nb": "Høyere", "en": "Higher"},
              "lower": {"nb": "Lavere", "en": "Lower"}}


def verdict_text(finding: str, against: str, other: str = "", lang: str = "nb") -> str:
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
        return _TEXTS[finding][lang]
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
# One wave's subtree statistics and what may be shown of them


@dataclass(frozen=True, eq=False)
class _Wave:
    """Subtree sufficient statistics of every unit (units x keys) and what is shown."""

    wave: str
    hierarchy: Hierarchy
    keys: tuple[str, ...]
    pos: dict
    n: np.ndarray
    mean: np.ndarray
    sd: np.ndarray
    s1: np.ndarray
    s2: np.ndarray
    invited: np.ndarray
    shown: np.ndarray

    def rest(self, unit: str, parent: str) -> tuple[np.ndarray, ...]:
        """n, mean, sd and invited of the parent's subtree minus the unit's subtree."""
        u, p = self.pos[unit], self.pos[parent]
        n = self.n[p] - self.n[u]
        s1 = self.s1[p] - self.s1[u]
        s2 = self.s2[p] - self.s2[u]
        mean, sd = _mean_sd(n, s1, s2)
        return n, mean, sd, np.full(n.shape, self.invited[p] - self.invited[u])


def _mean_sd(n: np.ndarray, s1: np.ndarray, s2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.where(n > 0, s1 / n, np.nan)
        var = (s2 - s1 ** 2 / n) / (n - 1)
    sd = np.where(n > 1, np.sqrt(np.clip(var, 0.0, None)), np.nan)
    return mean, sd


#: Survey -> {(wave, level, min_n): _Wave}; a Survey is immutable, so its rolled-up waves
#: are computed once (the explorer compares unit after unit against the same waves).
_WAVES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _wave_data(survey, wave: str, level: str, min_n: int,
               published: pd.DataFrame | None) -> _Wave:
    """Roll one wave's answers up the tree and decide which (unit, key) may be shown."""
    if published is not None:  # a caller's own table: not cached
        return _roll_wave(survey, wave, level, min_n, published)
    cache = _WAVES.setdefault(survey, {})
    key = (wave, level, min_n)
    if key not in cache:
        data = _roll_wave(survey, wave, level, min_n, None)
        for array in (data.n, data.mean, data.sd, data.s1, data.s2, data.invited, data.shown):
            array.flags.writeable = False
        cache[key] = data
    return cache[key]


def _roll_wave(survey, wave: str, level: str, min_n: int,
               published: pd.DataFrame | None) -> _Wave:
    hierarchy = survey.hierarchy(wave)
    responses = survey.responses
    data = responses[responses["wave"].astype(str) == wave]
    headcount = survey.headcount
    if headcount is not None:
        headcount = headcount[headcount["wave"].astype(str) == wave]
    sums = rollup(own_sums(data, survey.instrument, hierarchy, level=level,
                           headcount=headcount), hierarchy)
    mean, sd = _mean_sd(sums.n, sums.s1, sums.s2)
    pos = {u: i for i, u in enumerate(hierarchy.ids)}
    if published is None:
        # the privacy layer decides from the subtree counts, as for the statistics table
        counts = pd.DataFrame({
            "wave": wave,
            "unit_id": np.repeat(np.asarray(hierarchy.ids, dtype=object), len(sums.keys)),
            "key": np.tile(np.asarray(sums.keys, dtype=object), len(hierarchy.ids)),
            "n": sums.n.reshape(-1)})
        published = protect(counts, hierarchy, PrivacyPolicy.from_config(survey.config))
    shown = _published_mask(published, wave, hierarchy, sums.keys, level) & (sums.n >= min_n)
    return _Wave(wave=wave, hierarchy=hierarchy, keys=sums.keys, pos=pos, n=sums.n, mean=mean,
                 sd=sd, s1=sums.s1, s2=sums.s2, invited=sums.invited, shown=shown)


def _published_mask(published: pd.DataFrame, wave: str, hierarchy: Hierarchy,
                    keys: tuple[str, ...], level: str) -> np.ndarray:
    """Units x keys: True where the protected table has a row that is not suppressed.

    Rows are matched on ``wave``, ``level`` and ``key`` when the table has those columns;
    a unit or key missing from the table counts as not published.
    """
    if "unit_id" not in published.columns or "suppressed" not in published.columns:
        raise UsageError("published must be the protected statistics table with unit_id and "
                         "suppressed columns (workbench.stats.stats_table)")
    table = published
    if "wave" in table.columns:
        table = table[table["wave"].astype(str) == wave]
    if "level" in table.columns:
        table = table[table["level"].astype(str) == level]
    ok = ~table["suppressed"].astype("boolean").fillna(True).to_numpy(dtype=bool)
    unit_ids = table["unit_id"].astype(str).to_numpy()
    if "key" in table.columns:
        frame = pd.DataFrame({"unit_id": unit_ids, "key": table["key"].astype(str).to_numpy(),
                              "ok": ok})
        # a (unit, key) is published when every row of it is unsuppressed
        good = frame.groupby(["unit_id", "key"])["ok"].all()
        index = pd.MultiIndex.from_product([hierarchy.ids, keys])
        found = good.reindex(index, fill_value=False).to_numpy(dtype=bool)
        return found.reshape(len(hierarchy.ids), len(keys))
    good = pd.Series(ok).groupby(unit_ids).all()
    found = good.reindex(list(hierarchy.ids), fill_value=False).to_numpy(dtype=bool)
    return np.repeat(found[:, None], len(keys), axis=1)


# --------------------------------------------------------------------------------------------
# Checks of the arguments


def _check_wave(survey, wave) -> str:
    if wave is None:
        return survey.waves[-1]
    label = str(wave)
    if label not in survey.waves:
        raise UsageError(f"wave {label!r} is not in survey.yaml; the waves are "
                         f"{', '.join(survey.waves)}")
    return label


def _check_unit(hierarchy: Hierarchy, unit, wave: str) -> str:
    unit = str(unit)
    if unit not in hierarchy:
        close = difflib.get_close_matches(unit, hierarchy.ids, n=3, cutoff=0.6)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise UsageError(f"unit {unit!r} is not in the hierarchy of wave {wave}{hint}")
    return unit


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


def compare(survey, unit: str, against: str, wave: str | None = None, threshold: float = 0.2,
            adjust: str | None = None, lang: str = "nb", level: str = "factor",
            published: pd.DataFrame | None = None, alpha: float = ALPHA) -> pd.DataFrame:
    """Test a unit against the rest of its parent, its previous wave, a benchmark or siblings.

    Parameters
    ----------
    survey
        A loaded :class:`workbench.survey.Survey`.
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
        ``factor`` (person factor scores) or ``item`` (answers to each item as given).
    published
        A protected statistics table (:func:`workbench.stats.stats_table`) covering the waves
        compared, when it was cut differently from the default; units suppressed there are
        not compared, and units missing from it count as suppressed. Default: protect the
        wave's counts with :func:`workbench.privacy.protect` and the survey's policy.
    alpha
        Significance level for the adjusted p (default 0.05).

    Returns
    -------
    DataFrame
        One row per key (per sibling and key for ``siblings``), columns ``wave, unit_id,
        against, key, mean, other_mean, diff, p, p_adj, d, verdict``, then ``label, n,
        other_n, other_id, other_wave, invited, other_invited, se, df, t, adjust, finding,
        suppressed, reason, verdict_nb, verdict_en``:

        - ``mean``, ``n``, ``invited``: the unit's subtree; ``other_*``: the other side (the
          rest of the parent, the unit in ``other_wave``, or the benchmark); ``other_id`` =
          the parent, the unit, or the benchmark id;
        - ``diff`` = mean - other_mean; ``se``, ``df``, ``t``: Welch with the FPC (one-sample
          t for a benchmark without sd and n); ``p`` two-sided, ``p_adj`` adjusted by the
          method in ``adjust``;
        - ``d``: diff over the pooled sd sqrt(((n1-1) s1^2 + (n2-1) s2^2)/(n1 + n2 - 2))
          (Cohen's d); for a one-sample test diff over the unit's sd;
        - ``finding``: ``higher``/``lower`` (real: p_adj < alpha and |diff| >= threshold),
          ``small``, ``unclear``, ``suppressed`` or ``no_benchmark``; ``verdict`` its plain
          text in ``lang``; ``verdict_nb``, ``verdict_en`` both languages;
        - ``suppressed`` True (with a ``reason``) where a side is not published: mean ..
          d are then empty.

    Raises
    ------
    UsageError
        Unknown unit, wave, ``against``, ``level``, ``lang`` or ``adjust``; the root against
        its parent; no previous wave; a unit that did not exist in the previous wave; no
        benchmarks.
    """
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
    wave = _check_wave(survey, wave)
    hierarchy = survey.hierarchy(wave)
    unit = _check_unit(hierarchy, unit, wave)
    min_n = survey.config.min_n
    if against == "benchmark" and level != "factor":
        raise UsageError("benchmarks are given per factor; compare against the benchmark with "
                         "level='factor'")

    if against == "parent":
        parent = _parent_of(hierarchy, unit, against)
        data = _wave_data(survey, wave, level, min_n, published)
        rows = [_against_rest(data, unit, parent, min_n, against)]
    elif against == "siblings":
        parent = _parent_of(hierarchy, unit, against)
        data = _wave_data(survey, wave, level, min_n, published)
        siblings = [c for c in hierarchy.children(parent) if data.shown[data.pos[c]].any()]
        rows = [_against_rest(data, s, parent, min_n, against) for s in siblings]
    elif against == "previous":
        rows = [_against_previous(survey, unit, wave, level, min_n, published)]
    else:
        rows = [_against_benchmark(survey, unit, wave, min_n, published)]

    table = pd.concat(rows, ignore_index=True) if rows else _empty()
    table["p_adj"] = adjust_pvalues(table["p"].to_numpy(dtype="float64"), method)
    table["adjust"] = method
    found = classify(table["diff"].to_numpy(dtype="float64"),
                     table["p_adj"].to_numpy(dtype="float64"), threshold, alpha)
    table["finding"] = np.where(table["finding"] == "no_benchmark", "no_benchmark", found)
    texts = {code: [verdict_text(f, against, o, code)
                    for f, o in zip(table["finding"], table[f"_other_{code}"])]
             for code in ("nb", "en")}
    table["verdict_nb"] = texts["nb"]
    table["verdict_en"] = texts["en"]
    table["verdict"] = table[f"verdict_{lang}"]
    labels = _labels(survey.instrument, level, lang)
    table["label"] = table["key"].map(labels)
    columns = [*COMPARE_COLUMNS, *EXTRA_COLUMNS]
    table = table.loc[:, columns].reset_index(drop=True)
    table["other_n"] = table["other_n"].round()  # a benchmark's n may be stored as 1.2e5
    return table.astype({"wave": "str", "unit_id": "str", "against": "str", "key": "str",
                         "n": "Int64", "other_n": "Int64", "other_id": "str",
                         "other_wave": "str", "suppressed": "bool"})


def _labels(instrument, level: str, lang: str) -> dict[str, str]:
    if level == "factor":
        return {f.id: f.name(lang) for f in instrument.factors}
    return {i.id: i.text(lang) for i in instrument.items}


def _empty() -> pd.DataFrame:
    names = ["wave", "unit_id", "against", "key", "mean", "other_mean", "diff", "p", "d", "n",
             "other_n", "other_id", "other_wave", "invited", "other_invited", "se", "df", "t",
             "finding", "suppressed", "reason", "_other_nb", "_other_en"]
    return pd.DataFrame({c: pd.Series(dtype="float64" if c in ("mean", "other_mean", "diff",
                                                                "p", "d", "se", "df", "t",
                                                                "invited", "other_invited")
                                      else "object") for c in names})


def _frame(wave: str, unit: str, against: str, keys, mean, n, invited, other_mean, other_n,
           other_invited, other_id, other_wave: str, other_label: dict,
           test: pd.DataFrame, reason: np.ndarray) -> pd.DataFrame:
    """Assemble rows; blank every statistic where ``reason`` is set (a side is hidden).

    ``other_label`` names the other side in the verdicts: ``{"nb": ..., "en": ...}``.
    """
    hide = reason != ""
    size = len(keys)

    def blank(values) -> np.ndarray:
        values = np.broadcast_to(np.asarray(values, dtype="float64"), (size,)).copy()
        values[hide] = np.nan
        return values

    return pd.DataFrame({
        "wave": wave, "unit_id": unit, "against": against, "key": list(keys),
        "mean": blank(mean), "other_mean": blank(other_mean), "diff": blank(test["diff"]),
        "p": blank(test["p"]), "d": blank(test["d"]),
        "n": np.broadcast_to(np.asarray(n, dtype="float64"), (size,)),
        "other_n": np.broadcast_to(np.asarray(other_n, dtype="float64"), (size,)),
        "other_id": other_id, "other_wave": other_wave,
        "invited": np.broadcast_to(np.asarray(invited, dtype="float64"), (size,)),
        "other_invited": np.broadcast_to(np.asarray(other_invited, dtype="float64"), (size,)),
        "se": blank(test["se"]), "df": blank(test["df"]), "t": blank(test["t"]),
        "finding": "", "suppressed": hide, "reason": reason,
        "_other_nb": other_label["nb"], "_other_en": other_label["en"],
    })


def _reasons(size: int, *conditions: tuple[np.ndarray, str]) -> np.ndarray:
    """The first reason whose condition holds, per key ('' = nothing hidden)."""
    reason = np.full(size, "", dtype=object)
    for condition, text in reversed(conditions):
        reason = np.where(np.broadcast_to(condition, (size,)), text, reason)
    return reason.astype(object)


def _hidden(data: _Wave, unit: str, min_n: int, side: str) -> list[tuple[np.ndarray, str]]:
    """Why ``unit`` may not be shown in ``data``'s wave: too few persons, or suppressed."""
    i = data.pos[unit]
    return [(data.n[i] < min_n, f"{side}_too_few: {unit} has fewer than {min_n} persons with "
                                f"a value in {data.wave}"),
            (~data.shown[i], f"{side}_suppressed: {unit} is suppressed in {data.wave} so that "
                             "no hidden group can be derived")]


def _against_rest(data: _Wave, unit: str, parent: str, min_n: int,
                  against: str) -> pd.DataFrame:
    u, p = data.pos[unit], data.pos[parent]
    rest_n, rest_mean, rest_sd, rest_invited = data.rest(unit, parent)
    test = welch_test(data.mean[u], data.sd[u], data.n[u], rest_mean, rest_sd, rest_n,
                      data.invited[u], rest_invited)
    reason = _reasons(
        len(data.keys),
        *_hidden(data, unit, min_n, "unit"),
        (~data.shown[p], f"parent_suppressed: {parent} is suppressed"),
        (rest_n == 0, f"no_rest: {unit} is all of {parent}"),
        (rest_n < min_n, f"rest_too_few: the rest of {parent} has fewer than {min_n} persons "
                         "with a value"),
    )
    names = {code: data.hierarchy.name(parent, code) for code in ("nb", "en")}
    return _frame(data.wave, unit, against, data.keys, data.mean[u], data.n[u],
                  data.invited[u], rest_mean, rest_n, rest_invited, parent, data.wave, names,
                  test, reason)


def _against_previous(survey, unit: str, wave: str, level: str, min_n: int,
                      published: pd.DataFrame | None) -> pd.DataFrame:
    index = survey.waves.index(wave)
    if index == 0:
        raise UsageError(f"wave {wave} is the first wave in survey.yaml; there is no previous "
                         "wave to compare with")
    before = survey.waves[index - 1]
    if unit not in survey.hierarchy(before):
        raise UsageError(f"unit {unit!r} did not exist in wave {before} (the wave before "
                         f"{wave}); compare it against its parent or a benchmark instead")
    now = _wave_data(survey, wave, level, min_n, published)
    then = _wave_data(survey, before, level, min_n, published)
    u, v = now.pos[unit], then.pos[unit]
    test = welch_test(now.mean[u], now.sd[u], now.n[u], then.mean[v], then.sd[v], then.n[v],
                      now.invited[u], then.invited[v])
    reason = _reasons(len(now.keys), *_hidden(now, unit, min_n, "unit"),
                      *_hidden(then, unit, min_n, "previous"))
    return _frame(wave, unit, "previous", now.keys, now.mean[u], now.n[u], now.invited[u],
                  then.mean[v], then.n[v], then.invited[v], unit, before,
                  {"nb": before, "en": before}, test, reason)


def _benchmark_rows(survey, unit: str, wave: str, keys: tuple[str, ...]) -> pd.DataFrame:
    """The benchmark row for each key: the unit's own benchmark, else ``all``."""
    benchmarks = survey.benchmarks
    if benchmarks is None or benchmarks.empty:
        raise UsageError("this survey has no benchmarks: add a benchmarks file (wave, benchmark, "
                         "factor, mean) and name it under 'benchmarks' in survey.yaml")
    rows = benchmarks[benchmarks["wave"].astype(str) == wave]
    if rows.empty:
        waves = ", ".join(sorted(benchmarks["wave"].astype(str).unique()))
        raise UsageError(f"the benchmarks file has no rows for wave {wave}; it has waves {waves}")
    units = survey.hierarchy(wave).units.set_index("unit_id")
    by = survey.config.benchmark_by
    own = ""
    if by and by in units.columns:
        own = str(units.at[unit, by])
    out = []
    table = rows.assign(benchmark=rows["benchmark"].astype(str),
                        factor=rows["factor"].astype(str)).set_index(["benchmark", "factor"])
    for key in keys:
        for name in (own, "all"):
            if name and (name, key) in table.index:
                row = table.loc[(name, key)]
                row = row.iloc[0] if isinstance(row, pd.DataFrame) else row
                out.append({"benchmark": name, "mean": float(row["mean"]),
                            "sd": float(row["sd"]) if "sd" in row.index else np.nan,
                            "n": float(row["n"]) if "n" in row.index else np.nan})
                break
        else:
            out.append({"benchmark": "", "mean": np.nan, "sd": np.nan, "n": np.nan})
    return pd.DataFrame(out)


def _against_benchmark(survey, unit: str, wave: str, min_n: int,
                       published: pd.DataFrame | None) -> pd.DataFrame:
    data = _wave_data(survey, wave, "factor", min_n, published)
    u = data.pos[unit]
    bench = _benchmark_rows(survey, unit, wave, data.keys)
    two_sample = (np.isfinite(bench["sd"]) & np.isfinite(bench["n"]) & (bench["n"] > 1)
                  ).to_numpy()
    welch = welch_test(data.mean[u], data.sd[u], data.n[u], bench["mean"], bench["sd"],
                       bench["n"], data.invited[u], np.nan)
    single = one_sample_test(data.mean[u], data.sd[u], data.n[u], bench["mean"],
                             data.invited[u])
    test = single.copy()
    test.loc[two_sample, :] = welch.loc[two_sample, :]
    missing = bench["benchmark"].to_numpy() == ""
    reason = _reasons(len(data.keys), *_hidden(data, unit, min_n, "unit"))
    names = bench["benchmark"].to_numpy(dtype=object)
    frame = _frame(wave, unit, "benchmark", data.keys, data.mean[u], data.n[u],
                   data.invited[u], bench["mean"], bench["n"], np.nan, names, wave,
                   {"nb": names, "en": names}, test, reason)
    frame.loc[missing & (reason == ""), "finding"] = "no_benchmark"
    for column in ("mean", "other_mean", "diff", "p", "d", "se", "df", "t"):
        frame.loc[missing, column] = np.nan
    return frame
