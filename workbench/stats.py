"""The published statistics table: aggregation behind the privacy layer.

:func:`stats_table` is what apps, handouts and ``workbench stats`` use. It aggregates one
wave at a time for *all* units (so that suppression is decided once, consistently, for every
table cut from it), protects it, then selects what was asked for.

Examples
--------
>>> from workbench import load_survey
>>> from workbench.stats import stats_table
>>> survey = load_survey("data_samples/municipality")
>>> table = stats_table(survey, wave="2023", unit=survey.hierarchy().root)
>>> list(table.columns[:8])
['wave', 'unit_id', 'unit_name', 'level', 'key', 'label', 'n', 'invited']
"""

from __future__ import annotations

import difflib

import numpy as np
import pandas as pd

from workbench.aggregate import describe, own_sums, rollup, stat_columns
from workbench.errors import UsageError
from workbench.privacy import PrivacyPolicy, check_background, protect
from workbench.survey import Survey

__all__ = ["stats_table", "check_unit", "check_wave", "EXTRA_COLUMNS"]

EXTRA_COLUMNS = ("answers", "depth", "parent_id")


def check_wave(survey: Survey, wave: str | int | None) -> tuple[str, ...]:
    """The waves asked for (all when None); UsageError for a wave not in survey.yaml."""
    if wave is None:
        return survey.waves
    label = str(wave)
    if label not in survey.waves:
        raise UsageError(f"wave {label!r} is not in this survey; waves: "
                         f"{', '.join(survey.waves)}")
    return (label,)


def check_unit(survey: Survey, unit: str, wave: str) -> None:
    """UsageError naming the closest unit ids when ``unit`` is not in ``wave``'s hierarchy."""
    ids = survey.hierarchy(wave).ids
    if unit not in ids:
        close = difflib.get_close_matches(unit, ids, n=3, cutoff=0.6)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise UsageError(f"unit {unit!r} is not in the hierarchy of wave {wave}{hint}")


def _one_wave(survey: Survey, wave: str, level: str, by: str | None, lang: str,
              policy: PrivacyPolicy) -> pd.DataFrame:
    instrument = survey.instrument
    hierarchy = survey.hierarchy(wave)
    responses = survey.responses
    data = responses[responses["wave"] == wave]
    headcount = survey.headcount
    if headcount is not None:
        headcount = headcount[headcount["wave"] == wave]
    groups = tuple(survey.config.background[by].values) if by else ()
    own = own_sums(data, instrument, hierarchy, level=level, by=by, groups=groups,
                   headcount=headcount)
    table = describe(rollup(own, hierarchy), instrument)
    units = hierarchy.units.set_index("unit_id")
    if by is None:
        unit_ids = np.asarray(hierarchy.ids, dtype=object)[table["cell"]]
    else:
        cells = np.asarray(own.cells, dtype=object)
        unit_ids = np.array([c[0] for c in cells], dtype=object)[table["cell"]]
        table.insert(0, "group", np.array([c[1] for c in cells], dtype=object)[table["cell"]])
        table.insert(0, "by", by)
    labels = {f.id: f.name(lang) for f in instrument.factors} if level == "factor" else \
        {i.id: i.text(lang) for i in instrument.items}
    name_column = "name_en" if lang == "en" else "name"
    table["wave"] = wave
    table["unit_id"] = unit_ids
    table["unit_name"] = units.loc[unit_ids, name_column].to_numpy()
    table["level"] = level
    table["label"] = table["key"].map(labels)
    table["depth"] = units.loc[unit_ids, "level"].to_numpy()
    table["parent_id"] = units.loc[unit_ids, "parent_id"].to_numpy()
    table = table.drop(columns="cell")
    if by is None:
        return protect(table, hierarchy, policy)
    allowed = table["depth"].isin(policy.background_levels)
    # groups are checked against the published unit totals of the same wave and level
    totals = _one_wave(survey, wave, level, None, lang, policy)
    return protect(table[allowed].reset_index(drop=True), hierarchy, policy, totals=totals)


def stats_table(survey: Survey, wave: str | int | None = None, level: str = "factor",
                by: str | None = None, unit: str | None = None, lang: str = "nb",
                policy: PrivacyPolicy | None = None) -> pd.DataFrame:
    """The protected statistics table of DESIGN.md.

    Parameters
    ----------
    survey
        A loaded survey.
    wave
        One wave (default: every wave).
    level
        ``factor`` or ``item``.
    by
        A background variable (only at the hierarchy levels the privacy settings allow).
    unit
        Keep only this unit (its whole subtree as one group); default: every unit.
    lang
        Language of unit names and labels (``nb`` or ``en``).
    policy
        Privacy settings (default: from survey.yaml).

    Returns
    -------
    DataFrame
        ``wave, unit_id, unit_name, level, key, label, n, invited, mean, sd, se, ci_low,
        ci_high, moe, pct_1 .. pct_K, top_box, suppressed, reason``, then ``answers``
        (persons who answered at all), ``depth`` (0 = the top unit), ``parent_id`` and,
        with ``by``, ``by, group``. Suppressed rows leave mean .. top_box empty.
    """
    if level not in ("factor", "item"):
        raise UsageError(f"level must be 'factor' or 'item', got {level!r}")
    if lang not in ("nb", "en"):
        raise UsageError(f"lang must be 'nb' or 'en', got {lang!r}")
    policy = policy or PrivacyPolicy.from_config(survey.config)
    waves = check_wave(survey, wave)
    if by is not None and by not in survey.config.background:
        known = ", ".join(survey.config.background) or "none in survey.yaml"
        raise UsageError(f"background variable {by!r} is not in this survey; known: {known}")
    frames = []
    for label in waves:
        if unit is not None:
            check_unit(survey, unit, label)
            if by is not None:
                check_background(survey.hierarchy(label), unit, by, policy)
        table = _one_wave(survey, label, level, by, lang, policy)
        if unit is not None:
            table = table[table["unit_id"] == unit]
        frames.append(table)
    table = pd.concat(frames, ignore_index=True)
    table["invited"] = table["invited"].round().astype("Int64")
    points = survey.instrument.scale.max - survey.instrument.scale.min + 1
    columns = stat_columns(points) + list(EXTRA_COLUMNS) + (["by", "group"] if by else [])
    return table.loc[:, columns].reset_index(drop=True)
