"""The published statistics table, cut from the release.

:func:`stats_table` is what ``workbench stats`` prints and what views cut from: rows of the
release's ``factors``, ``items`` or ``groups`` tables with unit names and labels in the
language asked for, in the columns of DESIGN.md. It never aggregates respondent rows: the
numbers were decided once, jointly, by :func:`workbench.release.build_release`.

Examples
--------
>>> from workbench.release import open_release
>>> from workbench.stats import stats_table
>>> release = open_release("data_samples/municipality")
>>> table = stats_table(release, wave="2023", unit=release.hierarchy().root)
>>> list(table.columns[:8])
['wave', 'unit_id', 'unit_name', 'level', 'key', 'label', 'n', 'invited']
"""

from __future__ import annotations

import pandas as pd

from workbench.errors import UsageError
from workbench.privacy import check_background

__all__ = ["stats_table", "check_unit", "check_wave", "stat_columns", "STAT_COLUMNS",
           "EXTRA_COLUMNS"]

STAT_COLUMNS = ("wave", "unit_id", "unit_name", "level", "key", "label", "n", "invited", "mean",
                "sd", "se", "ci_low", "ci_high", "moe")

EXTRA_COLUMNS = ("answers", "depth", "parent_id")


def stat_columns(points) -> list[str]:
    """The ``stats`` columns of DESIGN.md for the scale points given (or a count of points
    starting at 1), in order."""
    points = range(1, points + 1) if isinstance(points, int) else points
    return [*STAT_COLUMNS, *(f"pct_{k}" for k in points), "top_box", "suppressed", "reason"]


def check_wave(source, wave: str | int | None) -> tuple[str, ...]:
    """The waves asked for (all when None); UsageError for a wave not in survey.yaml."""
    if wave is None:
        return source.waves
    label = str(wave)
    if label not in source.waves:
        raise UsageError(f"wave {label!r} is not in this survey; waves: "
                         f"{', '.join(source.waves)}")
    return (label,)


def check_unit(source, unit: str, wave: str) -> None:
    """UsageError naming the closest unit ids when ``unit`` is not in ``wave``'s hierarchy."""
    source.hierarchy(wave).require(unit, wave)


def _points(table: pd.DataFrame) -> list[str]:
    return [c for c in table.columns if str(c).startswith("pct_")]


def _labelled(release, frame: pd.DataFrame, level: str, lang: str) -> pd.DataFrame:
    """Add unit names, labels, level, depth and parent to rows of a release table."""
    units = release.tables["units"]
    name_column = "name_en" if lang == "en" and "name_en" in units.columns else "name"
    info = units.assign(wave=units["wave"].astype(str)).set_index(["wave", "unit_id"])
    index = pd.MultiIndex.from_arrays([frame["wave"].astype(str), frame["unit_id"]])
    found = info.reindex(index)
    instrument = release.instrument
    labels = {f.id: f.name(lang) for f in instrument.factors} if level == "factor" else \
        {i.id: i.text(lang) for i in instrument.items}
    out = frame.copy()
    out["unit_name"] = found[name_column].to_numpy()
    out["level"] = level
    out["label"] = out["key"].map(labels)
    out["depth"] = found["depth"].to_numpy()
    out["parent_id"] = found["parent_id"].to_numpy()
    return out


def stats_table(source, wave: str | int | None = None, level: str = "factor",
                by: str | None = None, unit: str | None = None,
                lang: str = "nb") -> pd.DataFrame:
    """The published statistics table of DESIGN.md.

    Parameters
    ----------
    source
        A :class:`workbench.release.Release`, a dataset or release folder, or a loaded
        :class:`workbench.survey.Survey` (its release is built in memory).
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

    Returns
    -------
    DataFrame
        ``wave, unit_id, unit_name, level, key, label, n, invited, mean, sd, se, ci_low,
        ci_high, moe, pct_<point> ..., top_box, suppressed, reason``, then ``answers``
        (persons who answered at all, where published), ``depth`` (0 = the top unit),
        ``parent_id``, ``rwg`` (agreement within the unit, factor rows), ``top_box_low,
        top_box_high`` (the top-box share's 95 % Wilson interval), ``dist_reason`` (factor
        rows: why the distribution, top box and rwg are empty, in ``reason``'s codes, also
        on a published row; empty where they are shown) and, with ``by``, ``by, group``.
        Hidden rows leave n, answers and mean .. top_box empty (privacy rule 5); se
        includes the finite population correction and moe = t(0.975, n - 1) x se.
    """
    if level not in ("factor", "item"):
        raise UsageError(f"level must be 'factor' or 'item', got {level!r}")
    if lang not in ("nb", "en"):
        raise UsageError(f"lang must be 'nb' or 'en', got {lang!r}")
    from workbench.release import as_release

    release = as_release(source)
    waves = check_wave(release, wave)
    if by is not None and by not in release.config.background:
        known = ", ".join(release.config.background) or "none in survey.yaml"
        raise UsageError(f"background variable {by!r} is not in this survey; known: {known}")
    for label in waves:
        if unit is not None:
            check_unit(release, unit, label)
            if by is not None:
                check_background(release.hierarchy(label), unit, by, release.policy)
    if by is None:
        table = release.tables["factors" if level == "factor" else "items"]
    else:
        groups = release.tables["groups"]
        table = groups.loc[(groups["by"] == by) & (groups["level"] == level)] if len(groups) \
            else groups
    mask = table["wave"].astype(str).isin(waves)
    if unit is not None:
        mask &= table["unit_id"] == unit
    part = table.loc[mask.to_numpy()]
    out = _labelled(release, part, level, lang)
    out["invited"] = out["invited"].round().astype("Int64")
    out["n"] = out["n"].round().astype("Int64")
    out["answers"] = out["answers"].round().astype("Int64")
    columns = stat_columns([c[4:] for c in _points(table)]) + list(EXTRA_COLUMNS)
    columns += [c for c in ("rwg", "top_box_low", "top_box_high", "dist_reason")
                if c in out.columns]
    columns += ["by", "group"] if by else []
    return out.loc[:, columns].reset_index(drop=True)

