"""The analyst's overview of the workshops: who has held theirs, how many measures, how many
done, per faculty or sector.

Counting apart from drawing: :func:`workshop_status` (one row per unit) and
:func:`workshop_overview` (one row per group of a hierarchy level) return tidy tables;
:func:`plot_workshop_overview` draws the overview on an Axes.

A unit has *held* its workshop when the store has votes, chosen factors or an action plan for
it in that wave. A unit *counts* in its group when its results were published in that wave
(so it could hold a workshop) or when it has held one anyway.

Examples
--------
>>> import tempfile
>>> from workbench.release import open_release
>>> from workbench.workshop import open_store
>>> release = open_release("data_samples/municipality")
>>> store = open_store(tempfile.mkdtemp())
>>> table = workshop_overview(store, release, wave="2023", level=1)
>>> list(table.columns)
['wave', 'group_id', 'group_name', 'units', 'held', 'share_held', 'measures', 'done', \
'share_done']
>>> int(table["held"].sum())
0
>>> store.close()
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.errors import UsageError

__all__ = ["STATUS_COLUMNS", "OVERVIEW_COLUMNS", "workshop_status", "workshop_overview",
           "plot_workshop_overview"]

STATUS_COLUMNS = ("wave", "unit_id", "unit_name", "level", "group_id", "published", "held",
                  "votes", "chosen", "measures", "planned", "started", "done", "dropped",
                  "parking")
OVERVIEW_COLUMNS = ("wave", "group_id", "group_name", "units", "held", "share_held",
                    "measures", "done", "share_done")
_COUNTS = ("votes", "chosen", "measures", "planned", "started", "done", "dropped", "parking")


def _wave(release, wave) -> str:
    from workbench.stats import check_wave

    return release.waves[-1] if wave is None else check_wave(release, wave)[0]


def workshop_status(store, release, wave: str | None = None, level: int = 1,
                    lang: str = "nb") -> pd.DataFrame:
    """What every unit of the hierarchy has recorded in one wave.

    Parameters
    ----------
    store
        The workshop store (or a table like :meth:`workbench.workshop.Store.counts`).
    release
        The release: the hierarchy and which units were published.
    wave
        The wave (default: the last).
    level
        The hierarchy level that groups the units (1: faculties or sectors); a unit above
        it is its own group.
    lang
        Language of the unit names.

    Returns
    -------
    DataFrame
        One row per unit in hierarchy order: ``wave, unit_id, unit_name, level, group_id,
        published, held, votes, chosen, measures, planned, started, done, dropped,
        parking``. Records of units that are not in the wave's hierarchy are left out.
    """
    wave = _wave(release, wave)
    if not isinstance(level, (int, np.integer)) or level < 0:
        raise UsageError(f"level must be a hierarchy level 0, 1, 2, ..., got {level!r}")
    hierarchy = release.hierarchy(wave)
    counts = store.counts(wave) if hasattr(store, "counts") else store
    counts = counts.loc[counts["wave"].astype(str) == wave].set_index("unit_id")
    ids = list(hierarchy.ids)
    found = counts.reindex(ids)
    out = pd.DataFrame({"wave": wave, "unit_id": ids,
                        "unit_name": [hierarchy.name(u, lang) for u in ids],
                        "level": [hierarchy.level(u) for u in ids]})
    out["group_id"] = [path[min(level, len(path) - 1)] for path in map(hierarchy.path, ids)]
    out["published"] = [release.published(u, wave) for u in ids]
    for column in _COUNTS:
        out[column] = found[column].fillna(0).astype("int64").to_numpy() if column in \
            found.columns else 0
    out["held"] = (out["votes"] > 0) | (out["chosen"] > 0) | (out["measures"] > 0)
    return out.loc[:, list(STATUS_COLUMNS)]


def workshop_overview(store, release, wave: str | None = None, level: int = 1,
                      lang: str = "nb") -> pd.DataFrame:
    """Workshops held, measures and measures done per group of a hierarchy level.

    Parameters
    ----------
    store, release, wave, level, lang
        As :func:`workshop_status`.

    Returns
    -------
    DataFrame
        One row per group in hierarchy order: ``wave, group_id, group_name, units`` (units
        published or with a workshop held), ``held`` (units that held theirs),
        ``share_held`` (held / units, NaN for none), ``measures``, ``done`` (measures with
        status done) and ``share_done`` (done / measures, NaN for none).
    """
    status = workshop_status(store, release, wave, level, lang)
    wave = status["wave"].iloc[0] if len(status) else _wave(release, wave)
    status["counts"] = status["published"] | status["held"]
    groups = pd.unique(status["group_id"])
    by = status.groupby("group_id", sort=False)
    hierarchy = release.hierarchy(wave)
    out = pd.DataFrame({
        "wave": wave, "group_id": groups,
        "group_name": [hierarchy.name(g, lang) for g in groups],
        "units": by["counts"].sum().reindex(groups).to_numpy(dtype="int64"),
        "held": by["held"].sum().reindex(groups).to_numpy(dtype="int64"),
        "measures": by["measures"].sum().reindex(groups).to_numpy(dtype="int64"),
        "done": by["done"].sum().reindex(groups).to_numpy(dtype="int64")})
    with np.errstate(invalid="ignore", divide="ignore"):
        out["share_held"] = np.where(out["units"] > 0, out["held"] / out["units"], np.nan)
        out["share_done"] = np.where(out["measures"] > 0, out["done"] / out["measures"],
                                     np.nan)
    return out.loc[:, list(OVERVIEW_COLUMNS)]


_TEXTS = {
    "title": ("Arbeidsmøter holdt, runde {wave}", "Workshops held, wave {wave}"),
    "axis": ("Andel enheter som har holdt arbeidsmøtet", "Share of units that held their "
             "workshop"),
    "label": ("{held} av {units} enheter · {done} av {measures} tiltak gjennomført",
              "{held} of {units} units · {done} of {measures} measures done"),
}


def plot_workshop_overview(overview: pd.DataFrame, ax=None, lang: str = "nb"):
    """Draw :func:`workshop_overview` as horizontal bars: the share of units that held their
    workshop per group, with the counts of units and of measures done beside each bar.

    Parameters
    ----------
    overview
        The table of :func:`workshop_overview`.
    ax
        The Axes to draw on (default: a new figure, outside pyplot).
    lang
        Language of the texts.

    Returns
    -------
    matplotlib.axes.Axes
    """
    def say(key: str, **fields) -> str:
        nb, en = _TEXTS[key]
        return (en if lang == "en" else nb).format(**fields)

    if ax is None:
        from matplotlib.figure import Figure

        rows = max(len(overview), 1)
        ax = Figure(figsize=(9, 1.0 + 0.45 * rows)).add_subplot()
    names = list(overview["group_name"])[::-1]
    share = np.nan_to_num(overview["share_held"].to_numpy(dtype="float64"))[::-1]
    position = np.arange(len(names))
    ax.barh(position, np.ones(len(names)), color="#e5e5e5", height=0.6)
    ax.barh(position, share, color="#1f5f8b", height=0.6)
    for y, (_, row) in zip(position, overview.iloc[::-1].iterrows()):
        ax.text(1.02, y, say("label", held=int(row["held"]), units=int(row["units"]),
                             done=int(row["done"]), measures=int(row["measures"])),
                va="center", fontsize=8)
    ax.set_yticks(position, names)
    ax.set_xlim(0, 1)
    ax.set_xticks([0, 0.25, 0.5, 0.75, 1], ["0 %", "25 %", "50 %", "75 %", "100 %"])
    ax.set_xlabel(say("axis"))
    wave = overview["wave"].iloc[0] if len(overview) else ""
    ax.set_title(say("title", wave=wave), loc="left")
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.figure.subplots_adjust(left=0.3, right=0.62)
    return ax
