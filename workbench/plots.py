"""Plots of published tables: factor overviews, Likert bars, trends, heatmaps, small tables.

Every function here takes rows of the *published* statistics table
(:func:`workbench.stats.stats_table`) or a small frame computed from it, never respondent
rows. Computing is kept apart from drawing, as in seaborn and plot-likert:
:func:`likert_counts` and :func:`factor_table` return DataFrames, the ``plot_*`` functions
take ``ax=None``, draw on it (a new figure when None) and return the Axes.

Suppressed rows (``suppressed`` true, mean .. top_box empty) are always *shown* as suppressed:
a grey hatched placeholder with the text of :func:`suppressed_text`, never as zero or blank.

Colours are neutral on purpose (greys and one muted blue, no red/green judgement); texts are
at least 11 pt so a slide stays readable on a projector. Styles are passed per artist: the
module never touches global ``rcParams`` and does no work at import time.

Examples
--------
>>> from workbench.validate import load_survey
>>> from workbench.stats import stats_table
>>> from workbench.plots import factor_themes, plot_factor_overview
>>> survey = load_survey("data_samples/university")
>>> table = stats_table(survey, wave="2021")
>>> ax = plot_factor_overview(table[table["unit_id"] == "NV-FYS"],
...                           table[table["unit_id"] == "NV"],
...                           themes=factor_themes(survey.instrument))
"""

from __future__ import annotations

import functools
import io
import math
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from workbench.errors import WorkbenchError
from workbench.i18n import number, percent

if TYPE_CHECKING:  # pragma: no cover - imports for type hints only
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from workbench.instrument import Instrument

__all__ = [
    "COLOURS",
    "FONT_SIZE",
    "number",
    "percent",
    "suppressed_text",
    "factor_themes",
    "scale_labels",
    "likert_palette",
    "plot_factor_overview",
    "factor_table",
    "plot_factor_table",
    "likert_counts",
    "plot_likert",
    "plot_trend",
    "heatmap_table",
    "plot_heatmap",
    "plot_distribution",
    "fit_options",
    "figure_to_png",
    "figure_to_svg",
]

#: Base font size in points for every text a plot draws (tick labels, values, legends).
FONT_SIZE = 12

#: The neutral palette: one muted blue for the unit, greys for context and placeholders.
COLOURS: Mapping[str, str] = {
    "unit": "#3D6A8E",         # muted steel blue
    "parent": "#B4B4B4",       # light grey, the context behind the unit
    "ink": "#222222",          # text and the sd whisker
    "muted": "#5E5E5E",        # secondary text (parent values, notes)
    "grid": "#DEDEDE",
    "suppressed": "#EEEEEE",   # placeholder face
    "hatch": "#9A9A9A",        # placeholder hatch and edge
}

# Several lines in one trend plot: blues, greys, a muted purple and an ochre; no red, no green.
_SERIES = ("#3D6A8E", "#6E6E6E", "#8DB0CF", "#5B4E8C", "#A88A52", "#1F3B57", "#A8A8A8",
           "#8C7BB5")
_MARKERS = ("o", "s", "D", "^", "v", "P", "X", "h")
_HATCH = "///"
_DASH = "\u2013"  # en dash: a value that is not there

_TEXTS = {
    "mean": ("Gjennomsnitt", "Mean"),
    "sd": ("\u00b1 standardavvik", "\u00b1 standard deviation"),
    "factor": ("Faktor", "Factor"),
    "benchmark": ("Referansetall", "Benchmark"),
    "share": ("Andel av svarene", "Share of answers"),
    "top": ("Andel", "Share"),
    "ci": ("95 % konfidensintervall", "95% confidence interval"),
    "wave": ("Runde", "Wave"),
    "dash": (f"{_DASH} = ", f"{_DASH} = "),
}

_SUPPRESSED = {
    "min_n": ("skjult (færre enn {min_n} svar)", "suppressed (fewer than {min_n} answers)"),
    "no_answers": ("skjult (ingen svar)", "suppressed (no answers)"),
    "complement": ("skjult (vern av en liten gruppe)", "suppressed (protects a small group)"),
    "background_level": ("ikke vist på dette nivået", "not shown at this level"),
    "group_detail": ("grupper vises bare med faktorenes snitt",
                     "groups show the factor means only"),
    "": ("skjult (personvern)", "suppressed (privacy)"),
}

_TABLE_NOTE = (
    "{word}: ikke vist av personvernhensyn (færre enn {min_n} svar, eller for å verne en liten "
    "gruppe)",
    "{word}: not shown to protect anonymity (fewer than {min_n} answers, or to protect a small "
    "group)",
)

_DEFAULT_LABELS = {
    5: (("Svært uenig", "Uenig", "Verken enig eller uenig", "Enig", "Svært enig"),
        ("Strongly disagree", "Disagree", "Neither agree nor disagree", "Agree",
         "Strongly agree")),
}


# ---------------------------------------------------------------------------------------------
# formatting


def _check_lang(lang: str) -> str:
    if lang not in ("nb", "en"):
        raise WorkbenchError(f"lang must be 'nb' or 'en', got {lang!r}")
    return lang


def _t(key: str, lang: str) -> str:
    nb, en = _TEXTS[key]
    return en if lang == "en" else nb


def _missing(value: object) -> bool:
    if value is None or value is pd.NA:
        return True
    try:
        return bool(np.isnan(value))  # type: ignore[arg-type]
    except TypeError:
        return False


def suppressed_text(lang: str = "nb", min_n: int = 5, reason: str | None = "min_n") -> str:
    """The text shown in place of a suppressed number.

    Parameters
    ----------
    lang
        ``nb`` or ``en``.
    min_n
        The smallest group published (the privacy policy's ``min_n``).
    reason
        The ``reason`` of the published table (``min_n``, ``no_answers``, ``complement``,
        ``background_level``); None or ``""`` for a general "privacy" text (several reasons).

    Returns
    -------
    str
        E.g. ``skjult (færre enn 5 svar)`` / ``suppressed (fewer than 5 answers)``.

    Examples
    --------
    >>> suppressed_text("en")
    'suppressed (fewer than 5 answers)'
    """
    _check_lang(lang)
    nb, en = _SUPPRESSED.get(reason or "", _SUPPRESSED[""])
    return (en if lang == "en" else nb).format(min_n=min_n)


def _suppressed_word(lang: str) -> str:
    return "suppressed" if lang == "en" else "skjult"


def _reason_of(rows: pd.DataFrame) -> str:
    """The one reason shared by the suppressed rows, or "" when they differ (or are unknown)."""
    if "reason" not in rows.columns:
        return "min_n"
    reasons = {str(r) for r in rows.loc[_suppressed_mask(rows), "reason"] if isinstance(r, str)}
    reasons.discard("")
    return reasons.pop() if len(reasons) == 1 else ("min_n" if not reasons else "")


def _wrap(text: object, width: int = 34) -> str:
    return "\n".join(textwrap.wrap(str(text), width)) or str(text)


# ---------------------------------------------------------------------------------------------
# instrument helpers (labels only; no data)


def factor_themes(instrument: Instrument, lang: str = "nb") -> dict[str, str]:
    """Factor id -> theme name, for ``plot_factor_overview(themes=...)``; empty without themes.

    Examples
    --------
    >>> from workbench.instrument import load_instrument
    >>> factor_themes(load_instrument("ark"))["AUT"]
    'Den enkelte og jobben'
    """
    _check_lang(lang)
    names = {t.id: t.name(lang) for t in instrument.themes}
    return {f.id: names[f.theme] for f in instrument.factors if f.theme in names}


def scale_labels(instrument: Instrument, lang: str = "nb") -> dict[int, str]:
    """Scale point -> label (``1: "Svært uenig"`` ...), for ``plot_likert(labels=...)``."""
    _check_lang(lang)
    return {k: instrument.scale.labels[k](lang) for k in instrument.scale.points
            if k in instrument.scale.labels}


def likert_palette(points: int = 5) -> list[str]:
    """Colours for the scale points, lowest first: greys below the middle, blues above.

    The neutral middle (odd scales) is a light grey. Muted on purpose: disagreeing is not
    painted as alarming, agreeing not as a success.
    """
    from matplotlib.colors import LinearSegmentedColormap, to_hex

    if points < 2:
        raise WorkbenchError(f"a Likert scale needs at least 2 points, got {points}")
    cmap = LinearSegmentedColormap.from_list("wb_likert", ["#6A6A6A", "#E4E4E4", "#2F5F86"])
    if points % 2:
        stops = np.linspace(0.0, 1.0, points)
    else:  # no neutral point: keep clear of the grey middle
        half = np.linspace(0.0, 0.38, points // 2)
        stops = np.concatenate([half, 1.0 - half[::-1]])
    return [to_hex(cmap(s)) for s in stops]


# ---------------------------------------------------------------------------------------------
# shared drawing helpers


def _require(frame: pd.DataFrame, columns: Iterable[str], what: str, hint: str) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise WorkbenchError(f"{what} needs a DataFrame, got {type(frame).__name__}; {hint}")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise WorkbenchError(f"{what} needs the column(s) {', '.join(missing)}; {hint}")


_STATS_HINT = "pass rows of workbench.stats.stats_table(...)"


def _one(rows: pd.DataFrame, column: str, what: str) -> str | None:
    """The single value of ``column`` in ``rows`` (None when the column is absent)."""
    if column not in rows.columns:
        return None
    values = pd.unique(rows[column].dropna())
    if len(values) > 1:
        shown = ", ".join(map(str, values[:5]))
        raise WorkbenchError(f"{what} draws one {column.replace('_id', '')} at a time, got "
                             f"{column} {shown}; select one, e.g. rows[rows['{column}'] == "
                             f"{str(values[0])!r}]")
    return str(values[0]) if len(values) else None


def _suppressed_mask(rows: pd.DataFrame) -> np.ndarray:
    """Suppressed rows: flagged, or (tables without the flag) an empty mean."""
    if "suppressed" in rows.columns:
        flag = rows["suppressed"].fillna(False).astype(bool).to_numpy()
    else:
        flag = np.zeros(len(rows), dtype=bool)
    if "mean" in rows.columns:
        flag = flag | rows["mean"].isna().to_numpy()
    return flag


def _new_axes(width: float, height: float, layout: str | None = "constrained") -> Axes:
    """A new figure's axes; ``layout=None`` for a plot that sets its margins itself with
    :func:`_set_margins` (constrained layout measures every text of the figure at each draw,
    up to half the time of an explorer redraw)."""
    from matplotlib.figure import Figure

    # not through pyplot: no figure manager to register (and none to forget to close)
    return Figure(figsize=(width, height), layout=layout).subplots()


@functools.lru_cache(maxsize=8192)
def _text_inches(text: str, size: float, weight: str = "normal") -> tuple[float, float]:
    """(width, height) of a possibly multi-line text in inches.

    Cached: factor names, items and legend entries repeat from one unit to the next.
    """
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import text_to_path

    prop = FontProperties(size=size, weight=weight)
    lines = str(text).split("\n")
    width = max(text_to_path.get_text_width_height_descent(line, prop, ismath=False)[0]
                for line in lines)
    # drawn text comes out a few percent wider than its outline (hinting, kerning off)
    return 1.06 * width / 72 + 0.02, len(lines) * size * 1.25 / 72


def _widest(texts: Iterable[object], size: float, weight: str = "normal") -> float:
    return max((_text_inches(str(t), size, weight)[0] for t in texts), default=0.0)


def _set_margins(ax: Axes, left: float, right: float, top: float, bottom: float,
                 pad: float = 0.12) -> None:
    """Place the axes with these margins (inches, each plus ``pad``) around it.

    The figure then carries a do-nothing layout engine: the sign for :func:`figure_to_svg`
    and the apps that the margins are set (no "tight" box, which would draw it twice).
    """
    from matplotlib.layout_engine import PlaceHolderLayoutEngine

    fig = ax.figure
    width, height = fig.get_size_inches()
    fig.subplots_adjust(left=(left + pad) / width, right=1 - (right + pad) / width,
                        top=1 - (top + pad) / height, bottom=(bottom + pad) / height)
    fig.set_layout_engine(PlaceHolderLayoutEngine(adjust_compatible=True,
                                                  colorbar_gridspec=True))


def _legend_inches(rows: int, size: float) -> float:
    """Height of a legend with ``rows`` rows of ``size``-point text (matplotlib's spacings)."""
    return (rows * size * 1.25 + (rows - 1) * 0.5 * size + 2 * 0.4 * size) / 72


def _placeholder(ax: Axes, x0: float, x1: float, y: float, height: float, text: str | None,
                 fontsize: float = FONT_SIZE - 1) -> None:
    """A grey hatched band from x0 to x1 with the suppressed text on it (never a bar at 0)."""
    from matplotlib.patches import Rectangle

    band = Rectangle((x0, y - height / 2), x1 - x0, height, facecolor=COLOURS["suppressed"],
                     edgecolor=COLOURS["hatch"], hatch=_HATCH, linewidth=0.8, zorder=2)
    band.set_gid("suppressed")
    ax.add_patch(band)
    if text:
        ax.text((x0 + x1) / 2, y, text, ha="center", va="center", fontsize=fontsize,
                color=COLOURS["ink"], zorder=4, gid="suppressed-text",
                bbox={"boxstyle": "round,pad=0.2", "facecolor": "white", "edgecolor": "none",
                      "alpha": 0.9})


def _suppressed_handle(text: str):
    from matplotlib.patches import Patch

    return Patch(facecolor=COLOURS["suppressed"], edgecolor=COLOURS["hatch"], hatch=_HATCH,
                 label=text)


def _style_axes(ax: Axes, grid_axis: str | None = "x") -> None:
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.tick_params(labelsize=FONT_SIZE, colors=COLOURS["ink"])
    if grid_axis:
        ax.grid(axis=grid_axis, color=COLOURS["grid"], linewidth=0.8, zorder=0)
        ax.set_axisbelow(True)


def _decimal_formatter(lang: str, digits: int):
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda v, _pos: number(v, lang, digits))


def _text_colour(face) -> str:
    """White on dark faces, ink on light ones (relative luminance)."""
    from matplotlib.colors import to_rgb

    r, g, b = to_rgb(face)
    return "white" if 0.2126 * r + 0.7152 * g + 0.0722 * b < 0.5 else COLOURS["ink"]


def _right_column(ax: Axes, y: float, text: str, x: float = 1.015, **kwargs) -> None:
    """Text in a column just right of the plotting area (axes x, data y)."""
    kwargs.setdefault("fontsize", FONT_SIZE)
    kwargs.setdefault("color", COLOURS["ink"])
    ax.text(x, y, text, transform=ax.get_yaxis_transform(), ha="left", va="center",
            clip_on=False, **kwargs)


# ---------------------------------------------------------------------------------------------
# 1. factor overview (the NTNU report style)


def plot_factor_overview(unit_rows: pd.DataFrame, parent_rows: pd.DataFrame | None = None,
                         ax: Axes | None = None, lang: str = "nb",
                         scale: tuple[float, float] = (1, 5),
                         themes: Mapping[str, str] | None = None, show_sd: bool = True,
                         min_n: int = 5, size: tuple[float, float] | None = None) -> Axes:
    """One horizontal bar per factor ending at the unit's mean, the parent's mean beneath.

    Parameters
    ----------
    unit_rows
        Published rows (``stats_table``) of one unit in one wave: ``key, label, mean, sd,
        suppressed`` (+ ``unit_name``, ``reason``). Drawn top to bottom in this order.
    parent_rows
        The nearest parent unit's rows of the same wave (matched on ``key``); None for none.
    ax
        Axes to draw on; a new figure sized to the number of factors when None.
    lang
        Language of the texts and the decimal mark (``nb`` or ``en``).
    scale
        The answer scale's (min, max): the x axis and where every bar starts.
    themes
        Factor key -> theme name (see :func:`factor_themes`); factors are then grouped under
        a bold theme heading, themes in order of first appearance.
    show_sd
        Draw a thin black whisker from mean - sd to mean + sd (clipped to the scale).
    min_n
        The privacy policy's smallest group, for the suppressed text.
    size
        (width, height) in inches of the new figure (e.g. a slide's); default: 10.5 inches
        wide, as tall as the factors need. Ignored when ``ax`` is given.

    Returns
    -------
    Axes
        Patches carry a gid: ``unit`` (x = scale min, width = mean - scale min), ``parent``
        and ``suppressed`` (hatched placeholders); the unit's value is printed bold in a
        column right of the axes, the parent's in grey beneath it.
    """
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    _check_lang(lang)
    what = "plot_factor_overview"
    _require(unit_rows, ("key", "label", "mean"), what, _STATS_HINT)
    _one(unit_rows, "unit_id", what)
    _one(unit_rows, "wave", what)
    lo, hi = float(scale[0]), float(scale[1])
    if not hi > lo:
        raise WorkbenchError(f"scale must be (min, max) with max > min, got {scale!r}")
    rows = unit_rows.reset_index(drop=True)
    if rows["key"].duplicated().any():
        raise WorkbenchError(f"{what}: a key appears twice in unit_rows; pass one unit, one "
                             "wave and one level")
    parent = None
    if parent_rows is not None and len(parent_rows):
        _require(parent_rows, ("key", "mean"), what, _STATS_HINT)
        _one(parent_rows, "unit_id", what)
        parent = parent_rows.drop_duplicates("key").set_index("key")

    # layout: optional theme headings, then one row per factor (y grows downwards)
    order: list[tuple[str, object]] = []
    if themes:
        groups: dict[str, list[int]] = {}
        for i, key in enumerate(rows["key"]):
            groups.setdefault(themes.get(key, ""), []).append(i)
        for theme, members in groups.items():
            if theme:
                order.append(("theme", theme))
            order.extend(("factor", i) for i in members)
    else:
        order = [("factor", i) for i in range(len(rows))]

    own = ax is None
    if own:
        ax = _new_axes(*(size or (10.5, 1.6 + 0.52 * len(order))), layout=None)
    suppressed = _suppressed_mask(rows)
    p_suppressed = _suppressed_mask(parent) if parent is not None else None
    reason = _reason_of(rows)
    unit_h, parent_h, gap = 0.5, 0.2, 0.02
    y_ticks, y_labels = [], []
    any_suppressed = False
    # collected, then drawn in one call each (a call per bar costs a redraw its time)
    unit_bars: list[tuple[float, float]] = []
    parent_bars: list[tuple[float, float]] = []
    whiskers: list[tuple[float, float, float, float]] = []
    for y, (kind, payload) in enumerate(order):
        if kind == "theme":
            ax.text(lo + 0.01 * (hi - lo), y + 0.15, str(payload), ha="left", va="center",
                    fontsize=FONT_SIZE, fontweight="bold", color=COLOURS["ink"], gid="theme")
            continue
        i = int(payload)  # type: ignore[arg-type]
        row = rows.iloc[i]
        y_unit = y - (parent_h + gap) / 2 if parent is not None else y
        y_ticks.append(y)
        y_labels.append(_wrap(row["label"], 40))
        if suppressed[i]:
            any_suppressed = True
            _placeholder(ax, lo, hi, y_unit, unit_h,
                         suppressed_text(lang, min_n, _reason_of(rows.iloc[[i]])))
            _right_column(ax, y_unit, _DASH, fontweight="bold")
        else:
            mean = float(row["mean"])
            unit_bars.append((y_unit, mean))
            _right_column(ax, y_unit, number(mean, lang), fontweight="bold")
            sd = float(row["sd"]) if "sd" in rows.columns else float("nan")
            if show_sd and not math.isnan(sd):
                whiskers.append((y_unit, mean, max(lo, mean - sd), min(hi, mean + sd)))
        if parent is None:
            continue
        key = row["key"]
        y_parent = y + (unit_h + gap) / 2
        if key not in parent.index:
            continue
        prow = parent.loc[key]
        if p_suppressed[parent.index.get_loc(key)]:
            any_suppressed = True
            _placeholder(ax, lo, hi, y_parent, parent_h, None)
            _right_column(ax, y_parent, _DASH, color=COLOURS["muted"], fontsize=FONT_SIZE - 1)
        else:
            pmean = float(prow["mean"])
            parent_bars.append((y_parent, pmean))
            _right_column(ax, y_parent, number(pmean, lang), color=COLOURS["muted"],
                          fontsize=FONT_SIZE - 1)

    for bars, height, colour, gid in ((unit_bars, unit_h, COLOURS["unit"], "unit"),
                                      (parent_bars, parent_h, COLOURS["parent"], "parent")):
        if bars:
            ys, means = np.array(bars).T
            for patch in ax.barh(ys, means - lo, left=lo, height=height, color=colour,
                                 zorder=3).patches:
                patch.set_gid(gid)
    any_sd = bool(whiskers)
    if whiskers:
        ys, means, left, right = np.array(whiskers).T
        ax.errorbar(means, ys, xerr=[means - left, right - means], fmt="none", ecolor="black",
                    elinewidth=1.2, capsize=4, capthick=1.2, zorder=5)
    ax.set_xlim(lo, hi)
    ax.set_ylim(len(order) - 0.5, -0.6)
    ax.set_yticks(y_ticks, y_labels)
    ticks = np.arange(math.ceil(lo), math.floor(hi) + 1)
    ax.set_xticks(ticks, [number(t, lang, 0) for t in ticks])
    ax.set_xlabel(f"{_t('mean', lang)} ({number(lo, lang, 0)}{_DASH}{number(hi, lang, 0)})",
                  fontsize=FONT_SIZE)
    _style_axes(ax, "x")
    ax.tick_params(axis="y", length=0)

    unit_name = _one(rows, "unit_name", what) or _t("mean", lang)
    handles = [Patch(color=COLOURS["unit"], label=unit_name)]
    if parent is not None:
        parent_name = _one(parent_rows, "unit_name", what) or ""
        handles.append(Patch(color=COLOURS["parent"], label=parent_name))
    if any_sd:
        handles.append(Line2D([], [], color="black", linewidth=1.2, marker="|", markersize=9,
                              label=_t("sd", lang)))
    if any_suppressed:
        handles.append(_suppressed_handle(suppressed_text(lang, min_n, reason)))
    ax.legend(handles=handles, loc="lower left", bbox_to_anchor=(0.0, 1.01), ncol=2,
              frameon=False, fontsize=FONT_SIZE - 1, borderaxespad=0.2)
    if own:  # labels left, values right, legend above, ticks and axis label below
        value = _widest(["5,00", _DASH], FONT_SIZE, "bold")
        _set_margins(ax, left=_widest(y_labels, FONT_SIZE) + 4 / 72, right=0.12 + value,
                     top=_legend_inches(math.ceil(len(handles) / 2), FONT_SIZE - 1) + 0.05,
                     bottom=(2 * FONT_SIZE * 1.25 + 11) / 72)
    return ax


# ---------------------------------------------------------------------------------------------
# 2. the 10-FAKTOR style table


def factor_table(unit_rows: pd.DataFrame, parent_rows: pd.DataFrame | None = None,
                 benchmark: pd.Series | None = None, lang: str = "nb", digits: int = 2,
                 benchmark_label: str | None = None) -> pd.DataFrame:
    """Unit, parent and benchmark means per factor as formatted text (the 10-FAKTOR table).

    Parameters
    ----------
    unit_rows
        Published rows of one unit in one wave (``key, label, mean, suppressed, unit_name``).
    parent_rows
        The parent unit's rows of the same wave; None leaves the column out.
    benchmark
        Benchmark mean per factor key, e.g.
        ``survey.benchmarks.query("wave == '2023' and benchmark == 'school'")
        .set_index("factor")["mean"]``; None leaves the column out.
    lang
        ``nb`` (decimal comma) or ``en``.
    digits
        Digits after the decimal mark.
    benchmark_label
        Header of the benchmark column (default ``Referansetall`` / ``Benchmark``).

    Returns
    -------
    DataFrame
        Index ``key``; columns ``Faktor``/``Factor`` (the label), then one column per unit
        named after it (the unit, its parent) and the benchmark column; every cell is text:
        a number, ``skjult``/``suppressed`` for a suppressed mean, ``–`` when there is none.
    """
    _check_lang(lang)
    what = "factor_table"
    _require(unit_rows, ("key", "label", "mean"), what, _STATS_HINT)
    _one(unit_rows, "unit_id", what)
    _one(unit_rows, "wave", what)
    rows = unit_rows.drop_duplicates("key").reset_index(drop=True)

    def column(frame: pd.DataFrame) -> list[str]:
        by_key = frame.drop_duplicates("key").set_index("key")
        hidden = pd.Series(_suppressed_mask(by_key), index=by_key.index)
        out = []
        for key in rows["key"]:
            if key not in by_key.index:
                out.append(_DASH)
            elif hidden[key]:
                out.append(_suppressed_word(lang))
            else:
                out.append(number(by_key.at[key, "mean"], lang, digits))
        return out

    data = {_t("factor", lang): rows["label"].astype(str).to_list()}
    unit_name = _one(rows, "unit_name", what) or _t("mean", lang)
    data[unit_name] = column(rows)
    if parent_rows is not None:
        _require(parent_rows, ("key", "mean"), what, _STATS_HINT)
        parent_name = _one(parent_rows, "unit_name", what) or "parent"
        if parent_name == unit_name:
            parent_name += " "  # two equal headers would collapse into one column
        data[parent_name] = column(parent_rows)
    if benchmark is not None:
        if not isinstance(benchmark, pd.Series):
            raise WorkbenchError("benchmark must be a Series of means indexed by factor key, "
                                 "e.g. benchmarks.set_index('factor')['mean']")
        bench = benchmark[~benchmark.index.duplicated()]
        data[benchmark_label or _t("benchmark", lang)] = [
            number(bench.get(key), lang, digits) for key in rows["key"]]
    return pd.DataFrame(data, index=pd.Index(rows["key"].astype(str), name="key"))


def plot_factor_table(table: pd.DataFrame, ax: Axes | None = None, lang: str = "nb",
                      title: str | None = None, min_n: int = 5) -> Axes:
    """Draw a :func:`factor_table` as a clean table (horizontal rules only) for handouts.

    Parameters
    ----------
    table
        A frame of texts, e.g. from :func:`factor_table`; the index is not drawn.
    ax
        Axes to draw on (its frame is switched off); a new figure when None.
    lang
        Language of the note under the table.
    title
        Optional title above the table.
    min_n
        For the note explaining ``skjult``/``suppressed`` cells.

    Returns
    -------
    Axes
        Holding one matplotlib ``Table`` (``ax.tables[0]``); numbers right-aligned.
    """
    from matplotlib.table import Table

    _check_lang(lang)
    if not isinstance(table, pd.DataFrame) or table.shape[1] == 0:
        raise WorkbenchError("plot_factor_table needs a DataFrame of texts, e.g. from "
                             "factor_table(...)")
    cells = table.astype(str).to_numpy()
    headers = [str(table.columns[0])] + [_wrap(c, 16) for c in table.columns[1:]]
    header_lines = max(h.count("\n") + 1 for h in headers)
    n_rows = len(cells)
    # column widths from the longest text (bold headers run a little wider)
    chars = np.array([max([len(str(x)) for x in cells[:, c]]
                          + [1.1 * len(line) for line in headers[c].split("\n")])
                      for c in range(cells.shape[1])], dtype=float)
    inches = 0.105 * chars + 0.35
    if ax is None:
        ax = _new_axes(float(inches.sum()), 0.3 + 0.4 * (n_rows + header_lines)
                       + (0.4 if title else 0) + 0.3)
    ax.set_axis_off()
    widths = inches / inches.sum()
    tab = Table(ax, bbox=[0, 0, 1, 1])
    row_h = 1.0 / (n_rows + header_lines)
    hidden = {_suppressed_word("nb"), _suppressed_word("en")}
    any_hidden = False
    for r, texts in enumerate([headers, *cells.tolist()]):
        for c, text in enumerate(texts):
            cell = tab.add_cell(r, c, width=widths[c],
                                height=row_h * (header_lines if r == 0 else 1), text=text,
                                loc="left" if c == 0 else "right", edgecolor=COLOURS["grid"],
                                facecolor="#FAFAFA" if r and r % 2 == 0 else "white")
            cell.visible_edges = "B"
            cell.PAD = 0.03  # fraction of the column width; the default 0.1 wastes room
            cell.set_linewidth(0.8)
            label = cell.get_text()
            label.set_fontsize(FONT_SIZE)
            label.set_color(COLOURS["ink"])
            if r == 0:
                label.set_fontweight("bold")
                cell.set_facecolor("#F2F2F2")
                cell.set_edgecolor(COLOURS["muted"])
                cell.set_linewidth(1.2)
            elif text in hidden:
                any_hidden = True
                label.set_color(COLOURS["muted"])
                label.set_fontstyle("italic")
    tab.auto_set_font_size(False)
    tab.set_fontsize(FONT_SIZE)
    ax.add_table(tab)
    if title:
        ax.set_title(title, fontsize=FONT_SIZE + 1, fontweight="bold", loc="left")
    if any_hidden:
        note = _TABLE_NOTE[lang == "en"].format(word=_suppressed_word(lang), min_n=min_n)
        ax.text(0, -0.02, note, transform=ax.transAxes, ha="left", va="top",
                fontsize=FONT_SIZE - 1, color=COLOURS["muted"])
    return ax


# ---------------------------------------------------------------------------------------------
# 3. Likert distributions


def _points_of(frame: pd.DataFrame) -> int:
    k = 0
    while f"pct_{k + 1}" in frame.columns:
        k += 1
    return k


def likert_counts(rows: pd.DataFrame, points: int | None = 5) -> pd.DataFrame:
    """Shares of answers per scale point, one row per key (counting apart from plotting).

    Parameters
    ----------
    rows
        Published rows (``stats_table``, factor or item level) with ``key, label, pct_1 ..
        pct_K`` (+ ``top_box, suppressed, reason, n``).
    points
        Scale points K; None reads them from the ``pct_`` columns.

    Returns
    -------
    DataFrame
        ``key, label, pct_1 .. pct_K, top_box, suppressed, reason`` in the order of ``rows``:
        ``pct_k`` in percent, each published row rescaled to sum to exactly 100; suppressed
        rows keep NaN shares (never zeros).

    Raises
    ------
    WorkbenchError
        When a ``pct_k`` column is missing, or a published row's shares are far from 100.
    """
    points = points or _points_of(rows)
    pct = [f"pct_{k}" for k in range(1, points + 1)]
    _require(rows, ("key", "label", *pct), "likert_counts",
             f"pass rows of stats_table(...) of a {points}-point scale (or set points=)")
    out = rows.reset_index(drop=True)
    hidden = _suppressed_mask(out.assign(mean=out[pct[0]]) if "mean" not in out else out)
    shares = np.array(out[pct], dtype=float)
    hidden = hidden | np.isnan(shares).any(axis=1)
    total = shares.sum(axis=1)
    bad = ~hidden & (np.abs(total - 100) > 1.0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise WorkbenchError(f"likert_counts: the shares of key {out.at[i, 'key']!r} sum to "
                             f"{total[i]:.1f}, not 100; pct_1 .. pct_{points} must be percent "
                             "of answers (0-100)")
    shares[~hidden] = shares[~hidden] / total[~hidden, None] * 100
    shares[hidden] = np.nan
    result = pd.DataFrame({"key": out["key"].to_numpy(), "label": out["label"].to_numpy()})
    for k, name in enumerate(pct):
        result[name] = shares[:, k]
    top = out["top_box"].to_numpy(dtype=float) if "top_box" in out else np.full(len(out), np.nan)
    result["top_box"] = np.where(hidden, np.nan, top)
    result["suppressed"] = hidden
    reason = out["reason"].astype(str).to_numpy() if "reason" in out else np.full(len(out), "")
    result["reason"] = np.where(hidden, reason, "")
    return result


def plot_likert(counts: pd.DataFrame, ax: Axes | None = None, lang: str = "nb",
                labels: Mapping[int, str] | None = None, palette: Sequence[str] | None = None,
                min_share_label: float = 7.0, min_n: int = 5,
                size: tuple[float, float] | None = None) -> Axes:
    """Diverging stacked bars centred on the neutral point, top-box share on the right.

    For 5 points: 1-2 left of zero, 3 split across zero, 4-5 right of it.

    Parameters
    ----------
    counts
        From :func:`likert_counts` (published ``stats_table`` rows work too).
    ax
        Axes to draw on; a new figure when None.
    lang
        Language of the texts and the decimal mark.
    labels
        Scale point -> label for the legend (see :func:`scale_labels`); default the 5-point
        agreement scale, else the point numbers.
    palette
        One colour per point, lowest first (default :func:`likert_palette`).
    min_share_label
        Shares (percent) at least this wide are printed inside their segment.
    min_n
        For the suppressed text.
    size
        (width, height) in inches of the new figure; default: sized to the labels and rows.
        Ignored when ``ax`` is given.

    Returns
    -------
    Axes
        One collection (gid ``likert``) per scale point with a rectangle per published row
        (widths in percent summing to 100 over a row), one hatched placeholder patch (gid
        ``suppressed``) per suppressed row.
    """
    from matplotlib.collections import PolyCollection
    from matplotlib.patches import Patch

    _check_lang(lang)
    points = _points_of(counts)
    if points < 2:
        raise WorkbenchError("plot_likert needs the columns pct_1 .. pct_K; pass "
                             "likert_counts(stats_table(...))")
    data = likert_counts(counts, points)
    colours = list(palette) if palette is not None else likert_palette(points)
    if len(colours) != points:
        raise WorkbenchError(f"palette has {len(colours)} colours for {points} scale points")
    if labels is None:
        default = _DEFAULT_LABELS.get(points)
        labels = ({k + 1: t for k, t in enumerate(default[lang == "en"])} if default
                  else {k: str(k) for k in range(1, points + 1)})
    pct = data[[f"pct_{k}" for k in range(1, points + 1)]].to_numpy(dtype=float)
    half = points // 2
    if points % 2:  # odd: the neutral point straddles zero
        left = -(pct[:, :half].sum(axis=1) + pct[:, half] / 2)
    else:
        left = -pct[:, :half].sum(axis=1)
    right = left + pct.sum(axis=1)
    published = ~data["suppressed"].to_numpy()
    # limits hug the bars (zero need not be in the middle) with room for a 10-point margin
    x_lo = -min(100.0, math.ceil(max([10.0, *(-left[published])]) / 10) * 10)
    x_hi = min(100.0, math.ceil(max([10.0, *right[published]]) / 10) * 10)

    n = len(data)
    own = ax is None
    if own:
        longest = max([len(str(x)) for x in data["label"]] + [10])
        ax = _new_axes(*(size or (7.5 + min(longest, 40) * 0.075, 1.9 + 0.55 * n)),
                       layout=None)
    height = 0.68
    # segment k of every published row in one collection (a patch per segment draws and
    # builds several times slower: the explorer redraws this on every change of unit)
    starts = left[:, None] + np.cumsum(pct, axis=1) - pct
    shown = np.flatnonzero(published)
    y0, y1 = shown - height / 2, shown + height / 2
    for k in range(points):
        if len(shown):
            x0, x1 = starts[shown, k], starts[shown, k] + pct[shown, k]
            boxes = np.stack([np.c_[x0, y0], np.c_[x0, y1], np.c_[x1, y1], np.c_[x1, y0]],
                             axis=1)
            ax.add_collection(PolyCollection(boxes, facecolors=colours[k], edgecolors="white",
                                             linewidths=0.8, zorder=3, gid="likert",
                                             in_layout=False), autolim=False)
    for i in range(n):
        if not published[i]:
            _placeholder(ax, x_lo, x_hi, i, height,
                         suppressed_text(lang, min_n, data.at[i, "reason"] or "min_n"))
            _right_column(ax, i, _DASH, fontweight="bold")
            continue
        for k in range(points):
            width = pct[i, k]
            if width >= min_share_label:
                ax.text(starts[i, k] + width / 2, i, number(width, lang, 0), ha="center",
                        va="center", fontsize=FONT_SIZE - 1, color=_text_colour(colours[k]),
                        zorder=4, in_layout=False)  # inside the axes: no margin to make
        _right_column(ax, i, percent(data.at[i, "top_box"], lang), fontweight="bold")
    ax.axvline(0, color=COLOURS["muted"], linewidth=1.2, zorder=1)  # behind: seen between bars
    ax.set_xlim(x_lo, x_hi)
    ax.set_ylim(n - 0.5, -0.5)
    y_labels = [_wrap(x, 40) for x in data["label"]]
    ax.set_yticks(range(n), y_labels)
    ax.set_xticks([])
    _style_axes(ax, None)
    for side in ("left", "bottom"):
        ax.spines[side].set_visible(False)
    ax.tick_params(axis="y", length=0)
    top_points = _top_box_points(pct[published], data["top_box"].to_numpy()[published])
    header = _t("top", lang) + (f"\n{top_points[0]}{_DASH}{top_points[1]}" if top_points else "")
    ax.text(1.015, 1.0, header, transform=ax.transAxes, ha="left", va="bottom",
            fontsize=FONT_SIZE - 1, color=COLOURS["muted"], clip_on=False)
    handles = [Patch(facecolor=colours[k], edgecolor="white", label=labels.get(k + 1, str(k + 1)))
               for k in range(points)]
    if (~published).any():
        handles.append(_suppressed_handle(suppressed_text(lang, min_n, _reason_of(data))))
    total = sum(len(h.get_label()) for h in handles)
    ncol = len(handles) if total <= 70 else math.ceil(len(handles) / 2)
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=ncol,
              frameon=False, fontsize=FONT_SIZE - 1, handlelength=1.4, columnspacing=1.2)
    if own:  # labels left, shares and their heading right, legend below
        small = FONT_SIZE - 1
        left = _widest(y_labels, FONT_SIZE) + 4 / 72
        right = 0.15 + max(_widest(["100 %"], FONT_SIZE, "bold"), _widest([header], small))
        columns = [[h.get_label() for h in handles[c::ncol]] for c in range(ncol)]
        legend = (sum(_widest(c, small) for c in columns)
                  + ncol * (1.4 + 0.8) * small / 72 + (ncol - 1) * 1.2 * small / 72)
        fig = ax.figure
        width, height_in = fig.get_size_inches()
        room = width - left - right - 0.24
        if legend + 0.1 > room:  # the legend sits under the bars: widen the figure for it
            fig.set_size_inches(width + legend + 0.1 - room, height_in)
        _set_margins(ax, left=left, right=right, top=_text_inches(header, small)[1],
                     bottom=_legend_inches(math.ceil(len(handles) / ncol), small) + 0.05)
    return ax


def _top_box_points(pct: np.ndarray, top: np.ndarray) -> tuple[int, int] | None:
    """Which top points the top-box share covers (e.g. (4, 5)), read from the numbers."""
    if not len(pct) or np.isnan(top).all():
        return None
    points = pct.shape[1]
    for k in range(1, points):
        if np.allclose(pct[:, points - k:].sum(axis=1), top, atol=0.6, equal_nan=True):
            return (points - k + 1, points)
    return None


# ---------------------------------------------------------------------------------------------
# 4. trends over waves


def plot_trend(rows: pd.DataFrame, ax: Axes | None = None, lang: str = "nb",
               keys: Sequence[str] | None = None, scale: tuple[float, float] = (1, 5),
               min_span: float = 1.0, min_n: int = 5) -> Axes:
    """Mean per wave for one unit, one line per key, 95 % CI as error bars.

    Parameters
    ----------
    rows
        Published rows of one unit over several waves (``wave, key, label, mean, ci_low,
        ci_high, suppressed``); waves in the order given.
    ax
        Axes to draw on; a new figure when None.
    lang
        Language of the texts and the decimal mark.
    keys
        Keys to draw (default all, in order of appearance). With one key every mean is
        printed beside its point. More than 4 lines get crowded: use small multiples, one
        axes per key.
    scale
        The answer scale: the y axis never leaves it.
    min_span
        The y axis spans at least this many scale points, so that small changes do not look
        dramatic.
    min_n
        For the suppressed text.

    Returns
    -------
    Axes
        One line per key (gid ``trend-<key>``, NaN where a wave is suppressed, so the line has
        a gap there); a wave suppressed for every key is a hatched grey band (gid
        ``suppressed``) with the suppressed text; a wave suppressed for only some keys gets an
        ``x`` marker at the foot of the axes in the key's colour.
    """
    from matplotlib.lines import Line2D

    _check_lang(lang)
    what = "plot_trend"
    _require(rows, ("wave", "key", "label", "mean"), what, _STATS_HINT + " over several waves")
    _one(rows, "unit_id", what)
    waves = list(pd.unique(rows["wave"].astype(str)))
    all_keys = list(pd.unique(rows["key"].astype(str)))
    keys = list(keys) if keys is not None else all_keys
    unknown = [k for k in keys if k not in all_keys]
    if unknown:
        raise WorkbenchError(f"{what}: key(s) {', '.join(unknown)} not in rows; keys: "
                             f"{', '.join(all_keys)}")
    frame = rows.assign(wave=rows["wave"].astype(str), key=rows["key"].astype(str))
    frame = frame.assign(_hidden=_suppressed_mask(frame))
    if frame.duplicated(["wave", "key"]).any():
        raise WorkbenchError(f"{what}: a (wave, key) pair appears twice; pass one unit and "
                             "one level")
    numeric = all(w.lstrip("-").isdigit() for w in waves)
    xs = np.array([int(w) for w in waves], dtype=float) if numeric else np.arange(len(waves),
                                                                                 dtype=float)
    step = float(np.min(np.diff(np.sort(xs)))) if len(xs) > 1 else 1.0
    if ax is None:
        ax = _new_axes(max(6.5, 2.2 + 1.4 * len(waves)), 5.0)

    lo_all, hi_all = [], []
    hidden_by_wave = {w: [] for w in waves}
    dodge = 0.06 * step
    for j, key in enumerate(keys):
        part = frame[frame["key"] == key].set_index("wave").reindex(waves)
        hidden = part["_hidden"].fillna(False).astype(bool).to_numpy()
        mean = np.array(part["mean"], dtype=float)
        mean[hidden] = np.nan
        x = xs + (j - (len(keys) - 1) / 2) * dodge
        colour = _SERIES[j % len(_SERIES)]
        label = str(part["label"].dropna().iloc[0]) if part["label"].notna().any() else key
        yerr = None
        if {"ci_low", "ci_high"} <= set(part.columns):
            low = part["ci_low"].to_numpy(dtype=float)
            high = part["ci_high"].to_numpy(dtype=float)
            yerr = np.vstack([mean - low, high - mean])
            lo_all.extend(low[~np.isnan(low)])
            hi_all.extend(high[~np.isnan(high)])
        lines = ax.errorbar(x, mean, yerr=yerr, color=colour, marker=_MARKERS[j % len(_MARKERS)],
                            markersize=7, linewidth=2.2, elinewidth=1.2, capsize=4, label=label,
                            zorder=3)
        lines.lines[0].set_gid(f"trend-{key}")
        lo_all.extend(mean[~np.isnan(mean)])
        hi_all.extend(mean[~np.isnan(mean)])
        if len(keys) == 1:
            for xi, m in zip(x, mean):
                if not np.isnan(m):
                    ax.annotate(number(m, lang), (xi, m), xytext=(9, 0),
                                textcoords="offset points", ha="left", va="center",
                                fontsize=FONT_SIZE, color=COLOURS["ink"], zorder=4)
        for w, h in zip(waves, hidden):
            if h:
                hidden_by_wave[w].append((j, x[waves.index(w)], colour))

    lo, hi = float(scale[0]), float(scale[1])
    if lo_all:
        bottom, top = min(lo_all) - 0.15, max(hi_all) + 0.15
        if top - bottom < min_span:
            middle = (top + bottom) / 2
            bottom, top = middle - min_span / 2, middle + min_span / 2
        bottom, top = max(lo, bottom), min(hi, top)
    else:
        bottom, top = lo, hi
    ax.set_ylim(bottom, top)
    reason = _reason_of(frame[frame["key"].isin(keys)])
    text = suppressed_text(lang, min_n, reason)
    partial = False
    for w, marks in hidden_by_wave.items():
        xw = xs[waves.index(w)]
        if marks and len(marks) == len(keys):
            from matplotlib.patches import Rectangle

            band = Rectangle((xw - 0.3 * step, bottom), 0.6 * step, top - bottom,
                             facecolor=COLOURS["suppressed"], edgecolor=COLOURS["hatch"],
                             hatch=_HATCH, linewidth=0.8, zorder=1, gid="suppressed")
            ax.add_patch(band)
            ax.text(xw, (bottom + top) / 2, _wrap(text, 30), rotation=90, ha="center",
                    va="center", fontsize=FONT_SIZE - 1, color=COLOURS["ink"], zorder=2,
                    gid="suppressed-text", bbox={"boxstyle": "round,pad=0.2",
                                                 "facecolor": "white", "edgecolor": "none",
                                                 "alpha": 0.9})
        else:
            for _, xm, colour in marks:
                partial = True
                ax.plot([xm], [0.03], marker="x", markersize=9, markeredgewidth=2,
                        color=colour, transform=ax.get_xaxis_transform(), clip_on=False,
                        gid="suppressed", zorder=4)
    pad = 0.45 * step if len(keys) == 1 else 0.35 * step
    ax.set_xlim(xs.min() - 0.35 * step, xs.max() + pad)
    ax.set_xticks(xs, waves)
    ax.yaxis.set_major_formatter(_decimal_formatter(lang, 1))
    ax.set_ylabel(_t("mean", lang), fontsize=FONT_SIZE)
    _style_axes(ax, "y")
    handles, _ = ax.get_legend_handles_labels()
    if partial:
        handles.append(Line2D([], [], linestyle="none", marker="x", markersize=9,
                              markeredgewidth=2, color=COLOURS["muted"], label=text))
    handles.append(Line2D([], [], color=COLOURS["muted"], marker="|", markersize=12,
                          linestyle="none", label=_t("ci", lang)))
    ax.legend(handles=handles, loc="lower left", bbox_to_anchor=(0.0, 1.01),
              ncol=2 if len(handles) > 2 else len(handles), frameon=False,
              fontsize=FONT_SIZE - 1, borderaxespad=0.2)
    return ax


# ---------------------------------------------------------------------------------------------
# 5. heatmap of child units x factors


def heatmap_table(rows: pd.DataFrame, index: str = "unit_name",
                  columns: str = "label") -> pd.DataFrame:
    """Means as a units x factors grid (NaN where suppressed), rows and columns in input order.

    Parameters
    ----------
    rows
        Published rows of several units in one wave (``stats_table``).
    index, columns
        The columns naming the grid's rows (units) and columns (factors).

    Returns
    -------
    DataFrame
        Means, NaN for a suppressed or missing cell.
    """
    _require(rows, (index, columns, "mean"), "heatmap_table", _STATS_HINT)
    _one(rows, "wave", "heatmap_table")
    frame = rows.assign(mean=np.where(_suppressed_mask(rows), np.nan, rows["mean"]))
    if frame.duplicated([index, columns]).any():
        raise WorkbenchError(f"heatmap_table: a ({index}, {columns}) pair appears twice; pass "
                             "one wave and one level")
    grid = frame.pivot(index=index, columns=columns, values="mean")
    grid = grid.reindex(index=pd.unique(frame[index]), columns=pd.unique(frame[columns]))
    grid.index.name, grid.columns.name = None, None
    return grid


def plot_heatmap(table: pd.DataFrame, ax: Axes | None = None, lang: str = "nb",
                 cmap: str = "Blues", vmin: float | None = None, vmax: float | None = None,
                 colorbar: bool = True, min_n: int = 5) -> Axes:
    """Units (rows) x factors (columns) of means, each cell annotated with its value.

    Parameters
    ----------
    table
        A grid from :func:`heatmap_table` (NaN = suppressed), or published ``stats_table``
        rows of several units in one wave (then the suppressed reasons are known too).
    ax
        Axes to draw on; a new figure when None.
    lang
        Language of the texts and the decimal mark.
    cmap
        A sequential, neutral colormap (default ``Blues``; ``Greys`` prints well).
    vmin, vmax
        Colour range (default: the smallest and largest published mean).
    colorbar
        Add a colour bar beside the axes.
    min_n
        For the suppressed text.

    Returns
    -------
    Axes
        An image of the means and one text per published cell (gid ``value``); suppressed
        cells are grey and hatched (gid ``suppressed``) with ``–`` (explained under the axes),
        or, for a wholly suppressed unit, one suppressed text across its row.
    """
    import matplotlib as mpl
    from matplotlib.patches import Rectangle

    _check_lang(lang)
    reason = "min_n"
    if isinstance(table, pd.DataFrame) and {"mean", "unit_name", "label"} <= set(table.columns):
        reason = _reason_of(table)
        table = heatmap_table(table)
    if not isinstance(table, pd.DataFrame) or table.empty:
        raise WorkbenchError("plot_heatmap needs a units x factors grid from heatmap_table(...) "
                             "or stats_table rows of several units")
    values = table.to_numpy(dtype=float)
    n_rows, n_cols = values.shape
    if ax is None:
        longest = max(len(str(i)) for i in table.index)
        ax = _new_axes(2.0 + min(longest, 40) * 0.085 + 0.62 * n_cols,
                       1.6 + 0.45 * n_rows + 0.075 * max(len(str(c)) for c in table.columns))
    published = values[~np.isnan(values)]
    lo = vmin if vmin is not None else (float(published.min()) if published.size else 1.0)
    hi = vmax if vmax is not None else (float(published.max()) if published.size else 5.0)
    if hi <= lo:
        lo, hi = lo - 0.5, hi + 0.5
    colormap = mpl.colormaps[cmap]
    norm = mpl.colors.Normalize(lo, hi)
    image = ax.imshow(np.ma.masked_invalid(values), cmap=colormap, norm=norm, aspect="auto",
                      interpolation="nearest")
    text = suppressed_text(lang, min_n, reason)
    box = {"boxstyle": "round,pad=0.2", "facecolor": "white", "edgecolor": "none"}
    partly = False
    for i in range(n_rows):
        whole_row = bool(np.isnan(values[i]).all())
        if whole_row:  # a hidden unit: one text across the row, not a dash per cell
            ax.text((n_cols - 1) / 2, i, text, ha="center", va="center", fontsize=FONT_SIZE - 1,
                    color=COLOURS["ink"], gid="suppressed-text", bbox=box, zorder=4)
        for j in range(n_cols):
            v = values[i, j]
            if np.isnan(v):
                ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, facecolor=COLOURS["suppressed"],
                                       edgecolor=COLOURS["hatch"], hatch=_HATCH, linewidth=0,
                                       gid="suppressed"))
                if not whole_row:
                    partly = True
                    ax.text(j, i, _DASH, ha="center", va="center", fontsize=FONT_SIZE,
                            color=COLOURS["ink"], gid="suppressed-text", bbox=box)
            else:
                ax.text(j, i, number(v, lang), ha="center", va="center", fontsize=FONT_SIZE - 1,
                        color=_text_colour(colormap(norm(v))), gid="value")
    # one line per rotated label: wrapped rotated labels run into their neighbours
    ax.set_xticks(range(n_cols), [str(c) for c in table.columns], rotation=45, ha="right",
                  rotation_mode="anchor")
    ax.set_yticks(range(n_rows), [_wrap(i, 40) for i in table.index])
    ax.tick_params(labelsize=FONT_SIZE - 1, length=0, colors=COLOURS["ink"])
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.set_xticks(np.arange(n_cols + 1) - 0.5, minor=True)
    ax.set_yticks(np.arange(n_rows + 1) - 0.5, minor=True)
    ax.grid(which="minor", color="white", linewidth=1.5)
    ax.tick_params(which="minor", length=0)
    if partly:
        ax.set_xlabel(f"{_DASH} = {text}", fontsize=FONT_SIZE - 1, color=COLOURS["muted"],
                      loc="left")
    if colorbar:
        bar = ax.figure.colorbar(image, ax=ax, fraction=0.04, pad=0.02, shrink=0.8,
                                 format=_decimal_formatter(lang, 1))
        bar.ax.tick_params(labelsize=FONT_SIZE - 1)
        bar.set_label(_t("mean", lang), fontsize=FONT_SIZE - 1)
        bar.outline.set_visible(False)
    return ax


# ---------------------------------------------------------------------------------------------
# 6. distribution of one categorical question


def plot_distribution(table: pd.DataFrame, ax: Axes | None = None, lang: str = "nb",
                      title: str | None = None, min_n: int = 5) -> Axes:
    """Horizontal bars of a published category distribution (e.g. working-hours bands).

    Parameters
    ----------
    table
        ``category, share`` (percent of answers, 0-100), optional ``n`` and ``suppressed``,
        ``reason``; a NaN share is suppressed. Categories are drawn top to bottom in the
        order given (or the categorical order). No ``n`` is printed: a total next to a
        hidden category would reveal it.
    ax
        Axes to draw on; a new figure when None.
    lang
        Language of the texts and the decimal mark.
    title
        Optional title.
    min_n
        For the suppressed text.

    Returns
    -------
    Axes
        One bar per published category (gid ``share``; x = 0, width = share) with its share
        printed beside it; a suppressed category gets the suppressed text and no bar.
    """
    _check_lang(lang)
    _require(table, ("category", "share"), "plot_distribution",
             "pass a published frame with category, share (percent) and n")
    data = table.reset_index(drop=True)
    if isinstance(data["category"].dtype, pd.CategoricalDtype):
        data = data.sort_values("category").reset_index(drop=True)
    share = data["share"].to_numpy(dtype=float)
    hidden = np.isnan(share)
    if "suppressed" in data.columns:
        hidden |= data["suppressed"].fillna(False).astype(bool).to_numpy()
    if (share[~hidden] < 0).any() or (share[~hidden] > 100).any():
        raise WorkbenchError("plot_distribution: share must be percent (0-100)")
    top = float(share[~hidden].max()) if (~hidden).any() else 50.0
    lim = min(100.0, max(20.0, math.ceil(top * 1.18 / 10) * 10))
    n = len(data)
    if ax is None:
        longest = max([len(str(c)) for c in data["category"]] + [8])
        ax = _new_axes(6.0 + min(longest, 40) * 0.075, 1.5 + 0.55 * n + (0.3 if title else 0))
    for i in range(n):
        if hidden[i]:
            reason = str(data.at[i, "reason"]) if "reason" in data.columns else "min_n"
            # text only: a full-width band would read as the largest category
            ax.text(lim * 0.01, i, suppressed_text(lang, min_n, reason or "min_n"), ha="left",
                    va="center", fontsize=FONT_SIZE, fontstyle="italic",
                    color=COLOURS["muted"], gid="suppressed-text")
            continue
        bar = ax.barh(i, share[i], height=0.6, color=COLOURS["unit"], zorder=3)
        bar.patches[0].set_gid("share")
        ax.text(share[i] + lim * 0.01, i, percent(share[i], lang), ha="left", va="center",
                fontsize=FONT_SIZE, fontweight="bold", color=COLOURS["ink"], zorder=4)
    ax.set_xlim(0, lim)
    ax.set_ylim(n - 0.5, -0.5)
    ax.set_yticks(range(n), [_wrap(c, 40) for c in data["category"]])
    ax.xaxis.set_major_formatter(_percent_formatter(lang))
    ax.set_xlabel(_t("share", lang), fontsize=FONT_SIZE)
    _style_axes(ax, "x")
    ax.tick_params(axis="y", length=0)
    if title:
        ax.set_title(title, fontsize=FONT_SIZE + 1, fontweight="bold", loc="left")
    return ax


def _percent_formatter(lang: str):
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda v, _pos: percent(v, lang))


# ---------------------------------------------------------------------------------------------
# 8. export


def fit_options(fig: Figure) -> dict:
    """``savefig`` options that keep every text inside the picture.

    A figure whose layout already fits everything in (constrained layout, or margins set by
    the plot) gets a small margin; any other a "tight" box, which costs a second draw.
    """
    from matplotlib.layout_engine import ConstrainedLayoutEngine, PlaceHolderLayoutEngine

    engine = fig.get_layout_engine()
    if isinstance(engine, ConstrainedLayoutEngine):
        engine.set(w_pad=0.15, h_pad=0.12)
        return {}
    if isinstance(engine, PlaceHolderLayoutEngine):
        return {}
    return {"bbox_inches": "tight"}


def figure_to_png(fig: Figure, dpi: int = 150) -> bytes:
    """The figure as PNG bytes (see :func:`fit_options`); the figure is closed afterwards."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    try:
        fig.savefig(buffer, format="png", dpi=dpi, facecolor="white",
                    metadata={"Software": None}, **fit_options(fig))
    finally:
        plt.close(fig)
    return buffer.getvalue()


def figure_to_svg(fig: Figure, real_text: bool = False) -> str:
    """The figure as an SVG document (stable ids, no date); the figure is closed.

    ``real_text``: texts as ``<text>`` elements set by the viewer (smaller and quicker to
    write; the apps use it), not as outlines that look the same everywhere.
    """
    import matplotlib.pyplot as plt

    buffer = io.StringIO()
    try:
        with plt.rc_context({"svg.hashsalt": "workbench",
                             "svg.fonttype": "none" if real_text else "path"}):
            fig.savefig(buffer, format="svg", facecolor="white", metadata={"Date": None},
                        **fit_options(fig))
    finally:
        plt.close(fig)
    return buffer.getvalue()
