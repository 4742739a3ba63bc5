"""The views that the command line, the apps and the handouts show: pure cuts of the release.

Every function here takes a :class:`workbench.release.Release` and returns a tidy DataFrame
sliced from its tables; none aggregates respondent rows and none decides what may be shown:
a hidden cell stays hidden (``suppressed`` True, ``reason`` set, no numbers). The functions
keep what they compute in the release's own bounded memo, so an app redraw or a handout batch
slices instead of recomputing.

Examples
--------
>>> from workbench.release import open_release
>>> from workbench.views import beside
>>> release = open_release("data_samples/municipality")
>>> table = beside(release, "OPP-NOS", wave="2023", lang="en")
>>> list(table.columns[:4])
['key', 'label', 'mean', 'n']
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.compare import compare
from workbench.errors import UsageError
from workbench.stats import check_unit, check_wave, stats_table

__all__ = ["table", "rows", "trend", "beside", "heatmap", "alike_different", "response_rates",
           "category_distribution", "appraisal", "score_distribution", "comparison",
           "unit_name", "published_units", "unit_rates"]


def _wave(release, wave: str | int | None) -> str:
    return release.waves[-1] if wave is None else check_wave(release, wave)[0]


def table(release, wave: str, level: str = "factor", lang: str = "nb") -> pd.DataFrame:
    """The statistics table of every unit in one wave (``stats`` columns), kept."""
    return release.memo(("table", str(wave), level, lang),
                        lambda: stats_table(release, wave=wave, level=level, lang=lang))


def rows(release, unit: str, wave: str, level: str = "factor",
         lang: str = "nb") -> pd.DataFrame:
    """One unit's rows in one wave (empty when the unit is not in that wave)."""
    def split():
        whole = table(release, wave, level, lang)
        return {u: part.reset_index(drop=True) for u, part in
                whole.groupby("unit_id", sort=False)}

    parts = release.memo(("rows", str(wave), level, lang), split)
    if unit in parts:
        return parts[unit]
    return table(release, wave, level, lang).iloc[0:0]


def unit_name(release, unit: str, wave: str | None = None, lang: str = "nb") -> str:
    """The unit's name in ``lang`` (its id when it is not in that wave)."""
    hierarchy = release.hierarchy(wave)
    return hierarchy.name(unit, lang) if unit in hierarchy else unit


def trend(release, unit: str, level: str = "factor", lang: str = "nb") -> pd.DataFrame:
    """A unit's published statistics over the waves, following it back through
    reorganisations (``successors.csv``: renamed, merged, split).

    Returns
    -------
    DataFrame
        The ``stats`` columns, plus ``source_units`` (the unit id(s) each wave's row is cut
        from). In an earlier wave the row is the unit's predecessor's; where several units
        were merged into it, their cells combined (n, mean, sd, se and the interval from the
        sum of the published cells; no distribution), shown only when every one of them is
        published for that key.
    """
    lineage = release.lineage()
    waves = [w for w in release.waves if unit in release.hierarchy(w)]
    if not waves:
        return table(release, release.waves[-1], level, lang).iloc[0:0].assign(source_units="")
    earlier = list(release.waves[:release.waves.index(waves[-1]) + 1])
    members, frames = (unit,), []
    while members:
        wave = earlier.pop()
        part = _combined(release, members, wave, level, lang)
        frames.append(part.assign(unit_id=unit, source_units="+".join(members)))
        if not earlier:
            break
        members = tuple(sorted({p for m in members for p in lineage.previous(m, wave)}))
    return pd.concat(frames[::-1], ignore_index=True)


def _combined(release, members: tuple[str, ...], wave: str, level: str,
              lang: str) -> pd.DataFrame:
    """One unit's rows, or several units' rows combined into one per key."""
    parts = [rows(release, m, wave, level, lang) for m in members]
    if len(parts) == 1:
        return parts[0]
    from workbench.aggregate import fpc_factor
    from workbench.compare import _sums

    both = pd.concat(parts, ignore_index=True)
    first = parts[0].copy()
    out = first.set_index("key")
    grouped = both.groupby("key", sort=False)
    s1, s2 = _sums(both["n"].astype("float64"), both["mean"], both["sd"])
    both = both.assign(_s1=s1, _s2=s2, _n=both["n"].astype("float64"),
                       _invited=both["invited"].astype("float64"))
    grouped = both.groupby("key", sort=False)
    shown = ~grouped["suppressed"].any()
    n = grouped["_n"].sum()
    s1, s2 = grouped["_s1"].sum(), grouped["_s2"].sum()
    invited = grouped["_invited"].sum(min_count=1).where(grouped["_invited"].apply(
        lambda v: v.notna().all()))
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = s1 / n
        sd = np.sqrt(((s2 - s1 ** 2 / n) / (n - 1)).clip(lower=0))
    from scipy import stats as st

    se = sd / np.sqrt(n) * fpc_factor(n.to_numpy(), invited.to_numpy())
    moe = st.t.ppf(0.975, n - 1) * se
    out["n"] = n.where(shown).round().astype("Int64")
    out["invited"] = invited.round().astype("Int64")
    out["mean"], out["sd"], out["se"] = mean.where(shown), sd.where(shown), se.where(shown)
    out["moe"] = moe.where(shown)
    out["ci_low"], out["ci_high"] = out["mean"] - out["moe"], out["mean"] + out["moe"]
    for column in [c for c in out.columns if str(c).startswith("pct_")] + ["top_box"]:
        out[column] = np.nan
    out["suppressed"] = ~shown
    out["reason"] = np.where(shown, "", "complement")
    out["unit_name"] = " + ".join(p["unit_name"].iloc[0] for p in parts if len(p))
    return out.reset_index()[first.columns]


def beside(release, unit: str, wave: str | int | None = None,
           lang: str = "nb") -> pd.DataFrame:
    """The 10-FAKTOR table: the unit beside its parent and its benchmark, per factor.

    Returns
    -------
    DataFrame
        ``key, label, mean, n, suppressed, reason, parent_id, parent_name, parent_mean,
        parent_suppressed, benchmark, benchmark_mean``; the parent columns are empty for the
        top unit, the benchmark columns when the survey has no benchmarks.
    """
    label = _wave(release, wave)
    check_unit(release, unit, label)
    own = rows(release, unit, label, "factor", lang).set_index("key")
    out = own[["label", "mean", "n", "suppressed", "reason"]].copy()
    parent = release.hierarchy(label).parent(unit)
    if parent is not None:
        prow = rows(release, parent, label, "factor", lang).set_index("key")
        out["parent_id"] = parent
        out["parent_name"] = prow["unit_name"]
        out["parent_mean"] = prow["mean"]
        out["parent_suppressed"] = prow["suppressed"]
    else:
        out["parent_id"], out["parent_name"] = "", ""
        out["parent_mean"], out["parent_suppressed"] = np.nan, True
    out["benchmark"], out["benchmark_mean"] = "", np.nan
    bench = release.benchmarks
    if bench is not None:
        by = release.config.benchmark_by
        units = release.hierarchy(label).units.set_index("unit_id")
        kind = str(units.loc[unit, by]) if by and by in units.columns else "all"
        part = bench[bench["wave"].astype(str) == label]
        own_bench = part[part["benchmark"].astype(str) == kind].set_index("factor")["mean"]
        fallback = part[part["benchmark"].astype(str) == "all"].set_index("factor")["mean"]
        name = kind if len(own_bench) else ("all" if len(fallback) else "")
        means = own_bench if len(own_bench) else fallback
        out["benchmark"] = name
        out["benchmark_mean"] = means.reindex(out.index).to_numpy()
    return out.reset_index()


def comparison(release, unit: str, against: str, wave: str | None = None,
               lang: str = "nb", threshold: float = 0.2) -> pd.DataFrame:
    """:func:`workbench.compare.compare` of a unit, kept."""
    return release.memo(("compare", unit, against, wave, lang, threshold),
                        lambda: compare(release, unit, against, wave=wave, lang=lang,
                                        threshold=threshold))


def heatmap(release, unit: str, wave: str | int | None = None,
            lang: str = "nb") -> pd.DataFrame:
    """Child units x factors, with the siblings comparison (Benjamini-Hochberg) per cell.

    Returns
    -------
    DataFrame
        ``unit_id, unit_name, key, label, n, mean, suppressed, reason, finding, verdict``
        for every child of ``unit`` (finding: higher, lower, small, unclear, suppressed).
    """
    label = _wave(release, wave)
    check_unit(release, unit, label)
    children = release.hierarchy(label).children(unit)
    columns = ["unit_id", "unit_name", "key", "label", "n", "mean", "suppressed", "reason"]
    if not children:
        return pd.DataFrame(columns=columns + ["finding", "verdict"])
    frames = [rows(release, c, label, "factor", lang)[columns] for c in children]
    cells = pd.concat(frames, ignore_index=True)
    tested = comparison(release, children[0], "siblings", label, lang)
    found = tested[["unit_id", "key", "finding", "verdict"]]
    return cells.merge(found, on=["unit_id", "key"], how="left").reset_index(drop=True)


def alike_different(release, unit: str, wave: str | int | None = None, k: int = 5,
                    lang: str = "nb") -> pd.DataFrame:
    """The items the unit answered most alike and most differently.

    Ranked by ``spread``: the sd as a share of the largest sd possible at the item's mean
    (:func:`workbench.agreement.relative_spread`), so that the ranking does not simply
    follow the mean (an item everyone rates near the top cannot spread much).

    Returns
    -------
    DataFrame
        ``kind`` (``alike`` or ``different``), ``key, label, mean, sd, spread, n``: at most
        ``k`` of each, never one item in both (with fewer than ``2k`` published items each
        takes half); empty when fewer than two of the unit's item cells are published.
    """
    from workbench.agreement import relative_spread

    label = _wave(release, wave)
    check_unit(release, unit, label)
    items = rows(release, unit, label, "item", lang)
    items = items[~items["suppressed"]].dropna(subset=["sd"])
    scales = [release.instrument.item_scale(key) for key in items["key"]]
    items = items.assign(spread=relative_spread(
        items["sd"], items["mean"], items["n"].astype("float64"),
        np.array([s.min for s in scales], dtype="float64"),
        np.array([s.max for s in scales], dtype="float64")))
    items = items.dropna(subset=["spread"])
    # with fewer than 2k items, each list takes half, so that no item is in both
    k = min(k, len(items) // 2)
    columns = ["key", "label", "mean", "sd", "spread", "n"]
    alike = items.nsmallest(k, "spread")[columns].assign(kind="alike")
    different = items.nlargest(k, "spread")[columns].assign(kind="different")
    return pd.concat([alike, different], ignore_index=True)[["kind", *columns]]


def response_rates(release, unit: str | None = None, by: str | None = None,
                   lang: str = "nb") -> pd.DataFrame:
    """Answers, invited and response rate per unit (or group) and wave.

    With ``by``, only at the hierarchy levels the privacy settings allow.

    Returns
    -------
    DataFrame
        ``wave, unit_id, unit_name, answers, invited, rate`` (percent), ``suppressed, reason``
        (+ ``by, group``); hidden rows show no answers and no rate.
    """
    rates = release.tables["rates"]
    if by is not None and by not in release.config.background:
        known = ", ".join(release.config.background) or "none in survey.yaml"
        raise UsageError(f"background variable {by!r} is not in this survey; known: {known}")
    part = rates.loc[rates["by"] == (by or "")]
    if unit is not None:
        for wave in release.waves:
            if unit in release.hierarchy(wave) and by is not None:
                from workbench.privacy import check_background

                check_background(release.hierarchy(wave), unit, by, release.policy)
        part = part.loc[part["unit_id"] == unit]
    names = release.tables["units"]
    name_column = "name_en" if lang == "en" and "name_en" in names.columns else "name"
    names = names.assign(wave=names["wave"].astype(str)).set_index(["wave", "unit_id"])
    index = pd.MultiIndex.from_arrays([part["wave"].astype(str), part["unit_id"]])
    out = part.copy()
    out["unit_name"] = names[name_column].reindex(index).to_numpy()
    out["answers"] = out["answers"].round().astype("Int64")
    out["invited"] = out["invited"].round().astype("Int64")
    keys = ["wave", "unit_id"] + (["by", "group"] if by else [])
    return out[keys + ["unit_name", "answers", "invited", "rate", "suppressed", "reason"]
               ].reset_index(drop=True)


def _question(release, question: str):
    for q in release.instrument.extra:
        if q.id == question:
            return q
    known = ", ".join(release.instrument.extra_ids) or "none in this instrument"
    raise UsageError(f"question {question!r} is not an extra question of this survey; "
                     f"known: {known}")


def _extra_rows(release, unit: str, question: str, wave: str) -> pd.DataFrame:
    """The release's rows of an extra question for a unit in a wave (UsageError: none)."""
    part = release.cut("extras", unit, wave)
    part = part.loc[part["key"] == question] if len(part) else part
    if not len(part):
        raise UsageError(f"the answers have no column {question!r}")
    return part


def category_distribution(release, unit: str, question: str,
                          wave: str | int | None = None, lang: str = "nb") -> pd.DataFrame:
    """Shares of the answers to an extra question (e.g. working hours) in a unit's subtree.

    Returns
    -------
    DataFrame
        ``code, label, share`` (percent), ``n`` (persons answering), ``mean, suppressed,
        reason``; shares, n and mean empty when hidden.
    """
    label = _wave(release, wave)
    check_unit(release, unit, label)
    q = _question(release, question)
    part = _extra_rows(release, unit, question, label)
    return pd.DataFrame({
        "code": part["code"].astype("int64").to_numpy(),
        "label": [q.codes[int(c)](lang) for c in part["code"]],
        "share": part["share"].to_numpy(dtype="float64"),
        "n": part["n"].round().astype("Int64").to_numpy(),
        "mean": part["mean"].to_numpy(dtype="float64"),
        "suppressed": part["suppressed"].astype(bool).to_numpy(),
        "reason": part["reason"].astype(str).to_numpy(),
    })


def _count(value) -> int | None:
    """A published count as an int (None where hidden), as ``round().astype("Int64")``."""
    return None if pd.isna(value) else int(round(float(value)))


def _number(value) -> float:
    """A published share or mean as a float (NaN where hidden)."""
    return float("nan") if pd.isna(value) else float(value)


def appraisal(release, unit: str, wave: str | int | None = None,
              lang: str = "nb") -> pd.DataFrame:
    """Share who had an appraisal interview and its mean usefulness, over the waves.

    Returns
    -------
    DataFrame
        ``wave, had_share`` (percent yes), ``had_n, useful_mean, useful_n, suppressed,
        reason``; empty for instruments without these questions. A hidden wave shows no
        share, mean or count; usefulness is shown only where the question it depends on is.
    """
    ids = release.instrument.extra_ids
    columns = ["wave", "had_share", "had_n", "useful_mean", "useful_n", "suppressed",
               "reason"]
    if "appraisal" not in ids or "appraisal_useful" not in ids:
        return pd.DataFrame(columns=columns)
    waves = release.waves if wave is None else check_wave(release, wave)
    out = []
    for label in waves:
        if unit not in release.hierarchy(label):
            continue
        # the release's rows themselves: no frame per question through category_distribution
        had = _extra_rows(release, unit, "appraisal", label)
        yes = had.loc[had["code"] == 1].iloc[0]
        first = _extra_rows(release, unit, "appraisal_useful", label).iloc[0]
        out.append({"wave": label, "had_share": _number(yes["share"]),
                    "had_n": _count(yes["n"]), "useful_mean": _number(first["mean"]),
                    "useful_n": _count(first["n"]), "suppressed": bool(yes["suppressed"]),
                    "reason": str(yes["reason"]) or (str(first["reason"])
                                                     if first["suppressed"] else "")})
    frame = pd.DataFrame(out, columns=columns)
    for column in ("had_n", "useful_n"):
        frame[column] = frame[column].astype("Int64")
    return frame


def score_distribution(release, unit: str, factor: str, wave: str | int | None = None,
                       lang: str = "nb") -> pd.DataFrame:
    """Person scores of one factor in half-point bins (shares of persons).

    Returns
    -------
    DataFrame
        ``low, high, share`` (percent), ``n, suppressed, reason``.
    """
    label = _wave(release, wave)
    check_unit(release, unit, label)
    key = release.instrument.factor(factor).id
    part = release.cut("scores", unit, label)
    part = part.loc[part["key"] == key]
    cell = rows(release, unit, label, "factor", lang)
    cell = cell.loc[cell["key"] == key].iloc[0]
    return pd.DataFrame({
        "low": part["low"].to_numpy(), "high": part["high"].to_numpy(),
        "share": part["share"].to_numpy(dtype="float64"), "n": cell["n"],
        "suppressed": part["suppressed"].astype(bool).to_numpy(),
        "reason": part["reason"].astype(str).to_numpy(),
    })


def published_units(release, wave: str | int | None = None) -> frozenset[str]:
    """The units with at least one published factor cell in ``wave`` (kept): the units a
    page, a link or a handout may be made for.

    Examples
    --------
    >>> from workbench.release import open_release
    >>> release = open_release("data_samples/municipality")
    >>> "EK" in published_units(release, "2023")
    True
    """
    label = _wave(release, wave)

    def compute() -> frozenset[str]:
        factors = release.tables["factors"]
        part = factors.loc[factors["wave"].astype(str) == label, ["unit_id", "suppressed"]]
        shown = part.loc[~part["suppressed"].astype(bool), "unit_id"]
        return frozenset(shown.astype(str))

    return release.memo(("published_units", label), compute)


def unit_rates(release, units, wave: str | int | None = None, lang: str = "nb") -> pd.DataFrame:
    """Answers, invited and response rate of some units (each its whole subtree) in one wave.

    Parameters
    ----------
    units
        Unit ids, in the order wanted (e.g. a unit's children); ids not in the wave are left
        out.

    Returns
    -------
    DataFrame
        ``unit_id, unit_name, answers, invited, rate`` (percent), ``suppressed, reason`` in the
        order of ``units``; a hidden row shows no answers and no rate (the number invited is
        the headcount, published for every unit).
    """
    label = _wave(release, wave)
    hierarchy = release.hierarchy(label)

    def index():
        rates = release.tables["rates"]
        part = rates.loc[(rates["wave"].astype(str) == label).to_numpy() &
                         (rates["by"] == "").to_numpy()]
        values = zip(part["answers"].to_numpy(dtype="float64"),
                     part["invited"].to_numpy(dtype="float64"),
                     part["rate"].to_numpy(dtype="float64"),
                     part["suppressed"].to_numpy(dtype=bool),
                     part["reason"].astype(str).to_numpy(dtype=object))
        return dict(zip(part["unit_id"].astype(str).to_numpy(dtype=object), values))

    found = release.memo(("unit_rates", label), index)
    missing = (np.nan, np.nan, np.nan, True, "no_answers")
    ids = [u for u in units if u in hierarchy]
    values = [found.get(u, missing) for u in ids]
    hidden = np.array([v[3] for v in values], dtype=bool)

    def counts(position: int) -> pd.arrays.IntegerArray:
        x = np.array([v[position] for v in values], dtype="float64")
        return pd.array(np.round(x), dtype="Int64")

    answers = counts(0)
    answers[hidden] = pd.NA
    rate = np.array([v[2] for v in values], dtype="float64")
    rate[hidden] = np.nan
    return pd.DataFrame({"unit_id": pd.Series(ids, dtype=object),
                         "unit_name": pd.Series([hierarchy.name(u, lang) for u in ids],
                                                dtype=object),
                         "answers": answers, "invited": counts(1), "rate": rate,
                         "suppressed": hidden,
                         "reason": pd.Series([v[4] for v in values], dtype=object)})
