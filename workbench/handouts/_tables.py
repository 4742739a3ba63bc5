"""What a handout shows, cut from the release: which units get one, and a unit's tables.

Nothing here computes a statistic or decides what may be shown: the numbers, the hidden cells
and their reasons come from the release (:mod:`workbench.release`), cut by
:mod:`workbench.views` and tested by :func:`workbench.compare.compare`, the one comparison
engine. A unit gets a handout when at least one of its factor cells is published; its hidden
cells stay hidden and carry their reason.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from workbench import views
from workbench.compare import compare
from workbench.errors import UsageError
from workbench.plots import suppressed_text
from workbench.privacy import REASONS
from workbench.stats import check_unit, check_wave

__all__ = ["HandoutRefused", "as_release", "handout_units", "check_handout", "unit_tables",
           "UNIT_COLUMNS", "THRESHOLD"]

#: The smallest difference, in scale points, that a handout's comparisons call real.
THRESHOLD = 0.2

#: Columns of :func:`handout_units`.
UNIT_COLUMNS = ("unit_id", "unit_name", "level", "handout", "reason", "note")

_NO_HANDOUT = {"nb": "ingen rapport", "en": "no report"}


class HandoutRefused(UsageError):
    """The unit gets no handout: none of its factor cells is published in the wave."""


def as_release(source: Any):
    """The :class:`~workbench.release.Release` behind ``source``.

    ``source`` is a release, a dataset or release folder (:func:`~workbench.release.
    open_release`), or a loaded :class:`~workbench.survey.Survey` (its release is built in
    memory: the slow way, kept for callers that still hold a survey).
    """
    from workbench.release import Release, build_release, open_release
    from workbench.survey import Survey

    if isinstance(source, Release):
        return source
    if isinstance(source, Survey):
        return build_release(source)
    if isinstance(source, (str, Path)):
        return open_release(source)
    raise UsageError(f"handouts read a release (or a dataset or release folder), got "
                     f"{type(source).__name__}")


def wave_of(release, wave: str | int | None) -> str:
    """The wave asked for (default: the last); UsageError for an unknown one."""
    return release.waves[-1] if wave is None else check_wave(release, wave)[0]


def _reason(reasons: pd.Series) -> str:
    """The reason a wholly hidden unit is hidden: the one most of its cells give (ties go to
    the earlier code of :data:`workbench.privacy.REASONS`)."""
    counts = reasons[reasons != ""].value_counts()
    if counts.empty:
        return "no_answers"
    top = counts[counts == counts.max()].index
    return min(top, key=lambda r: REASONS.index(r) if r in REASONS else len(REASONS))


def handout_units(source, wave: str | int | None = None, lang: str = "nb") -> pd.DataFrame:
    """Every unit of the wave, in hierarchy order: does it get a handout, and if not, why.

    Parameters
    ----------
    source
        A release (or a dataset or release folder).
    wave
        The wave (default: the last).
    lang
        Language of ``unit_name`` and ``note``.

    Returns
    -------
    DataFrame
        ``unit_id, unit_name, level`` (0 = the top unit), ``handout`` (True when at least one
        of the unit's factor cells is published), ``reason`` ("" for a handout, else the
        privacy reason of its hidden cells: ``min_n``, ``no_answers``, ``complement``) and
        ``note``, a short text for a unit list, e.g. ``ingen rapport (vern av en liten
        gruppe)`` / ``no report (fewer than 5 answers)``.
    """
    release = as_release(source)
    label = wave_of(release, wave)
    if lang not in ("nb", "en"):
        raise UsageError(f"lang must be 'nb' or 'en', got {lang!r}")
    hierarchy = release.hierarchy(label)
    factors = release.tables["factors"]
    part = factors.loc[(factors["wave"].astype(str) == label).to_numpy(),
                       ["unit_id", "suppressed", "reason"]]
    shown = part.groupby("unit_id", sort=False)["suppressed"].all().map(lambda x: not x)
    why = part.groupby("unit_id", sort=False)["reason"].agg(_reason)
    min_n = release.policy.min_n
    rows = []
    for unit in hierarchy.ids:
        handout = bool(shown.get(unit, False))
        reason = "" if handout else str(why.get(unit, "no_answers"))
        note = "" if handout else \
            f"{_NO_HANDOUT[lang]} ({suppressed_text(lang, min_n, reason).split('(', 1)[-1]}"
        rows.append((unit, hierarchy.name(unit, lang), hierarchy.level(unit), handout, reason,
                     note))
    return pd.DataFrame(rows, columns=list(UNIT_COLUMNS))


def check_handout(release, unit: str, wave: str) -> None:
    """Raise :class:`HandoutRefused` (one clear line) when ``unit`` gets no handout."""
    check_unit(release, unit, wave)
    if release.published(unit, wave):
        return
    rows = release.cut("factors", unit, wave)
    reason = _reason(rows["reason"].astype(str)) if len(rows) else "no_answers"
    why = {"min_n": f"fewer than {release.policy.min_n} answers (min_n)",
           "no_answers": "no answers (no_answers)",
           "complement": "hidden so that no smaller group can be derived by subtraction "
                         "(complement)"}
    raise HandoutRefused(f"unit {unit!r} has no published figures in wave {wave}: "
                         f"{why.get(reason, reason)}; it gets no handout")


def _with_distribution(release, rows: pd.DataFrame, unit: str, wave: str) -> pd.DataFrame:
    """The unit's factor rows with ``dist_suppressed`` and ``dist_reason`` from the release:
    a factor whose mean is published may still have its distribution hidden (its shares are
    NaN then); a release without the columns hides a distribution whose shares are missing.
    """
    out = rows.copy()
    cut = release.cut("factors", unit, wave)
    if len(cut) and {"dist_suppressed", "dist_reason"} <= set(cut.columns):
        flags = cut.drop_duplicates("key").set_index("key")
        hidden = out["key"].map(flags["dist_suppressed"]).fillna(True).astype(bool)
        reason = out["key"].map(flags["dist_reason"]).fillna("").astype(str)
    else:
        pct = [c for c in out.columns if c.startswith("pct_")]
        hidden = out[pct].isna().any(axis=1) if pct else pd.Series(True, index=out.index)
        reason = pd.Series("", index=out.index)
    hidden = hidden | out["suppressed"].astype(bool)
    out["dist_suppressed"] = hidden.to_numpy()
    out["dist_reason"] = [r or (u if s else "") for r, u, s in
                          zip(reason, out["reason"].astype(str), out["suppressed"])]
    return out


def unit_tables(release, unit: str, wave: str, lang: str,
                threshold: float = THRESHOLD) -> dict[str, Any]:
    """The release's tables for one unit's handout (call :func:`check_handout` first).

    Returns
    -------
    dict
        ``unit``, ``parent`` (factor rows of the wave, ``stats`` columns; parent None for the
        top unit), ``trend`` (the unit's factor rows in the waves up to ``wave``),
        ``items``, ``alike`` (:func:`workbench.views.alike_different`), ``benchmark_id`` and
        ``benchmark`` (``factor, mean``; "" and None without one), ``hours`` and
        ``appraisal`` (None when the instrument has no such question), ``comparisons``
        (:func:`workbench.compare.compare` against the rest of the parent, the previous wave
        and the benchmark, where they exist), ``rates`` (the unit's answers, invited and
        response rate per wave up to ``wave``) and ``children`` (the same for the units
        below, in the wave).
    """
    hierarchy = release.hierarchy(wave)
    waves = release.waves[: release.waves.index(wave) + 1]
    parent_id = hierarchy.parent(unit)
    own = _with_distribution(release, views.rows(release, unit, wave, "factor", lang),
                             unit, wave)
    trend = views.trend(release, unit, "factor", lang)
    trend = trend.loc[trend["wave"].astype(str).isin(waves)].reset_index(drop=True)
    bench_id, benchmark = "", None
    if release.benchmarks is not None:
        beside = views.beside(release, unit, wave, lang)
        bench_id = str(beside["benchmark"].iloc[0]) if len(beside) else ""
    if bench_id:
        benchmark = pd.DataFrame({"factor": beside["key"].to_numpy(),
                                  "mean": beside["benchmark_mean"].to_numpy(dtype="float64")})
    against = (["parent"] if parent_id is not None else []) + \
        (["previous"] if len(waves) > 1 else []) + (["benchmark"] if bench_id else [])
    comparisons = [compare(release, unit, a, wave, threshold=threshold, lang=lang)
                   for a in against]
    extra = set(release.instrument.extra_ids)
    hours = None
    asked = release.cut("extras", unit, wave)
    if "hours" in extra and len(asked) and (asked["key"] == "hours").any():
        hours = views.category_distribution(release, unit, "hours", wave, lang)
    appraisal = None
    if {"appraisal", "appraisal_useful"} <= extra:
        appraisal = views.appraisal(release, unit, lang=lang)
        appraisal = appraisal.loc[appraisal["wave"].astype(str).isin(waves)]
        appraisal = appraisal.reset_index(drop=True)
    rates = pd.concat([views.unit_rates(release, [unit], w, lang).assign(wave=w)
                       for w in waves], ignore_index=True)
    return {
        "unit": own,
        "parent": views.rows(release, parent_id, wave, "factor", lang) if parent_id else None,
        "trend": trend,
        "items": views.rows(release, unit, wave, "item", lang),
        "alike": views.alike_different(release, unit, wave, lang=lang),
        "benchmark_id": bench_id, "benchmark": benchmark,
        "hours": hours, "appraisal": appraisal,
        "comparisons": (pd.concat(comparisons, ignore_index=True) if comparisons
                        else pd.DataFrame()),
        "rates": rates,
        "children": views.unit_rates(release, hierarchy.children(unit), wave, lang),
    }
