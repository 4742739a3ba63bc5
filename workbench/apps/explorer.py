"""The explorer: analysts pick a unit, a wave, a factor and a view of its published results.

All the app knows lives in one frozen :class:`ExplorerState` (unit, wave, factor, background
variable, language, view). Its ``with_*`` methods take values as a browser sends them and
check them against the release's :class:`Choices`: an unknown unit, wave, factor, variable,
language or view leaves the state as it was. :func:`render` turns a state into a
:class:`View` (a title, HTML with an inline figure, and the published table behind it) and
needs no browser, so every view is tested as a plain function. :class:`ExplorerApp` only
wires widgets to a state.

Every number comes from the release (:class:`workbench.release.Release`, cut by
:mod:`workbench.views`): hidden cells are shown as hidden with their reason, and downloads
hold those published tables, never respondent rows.

Examples
--------
>>> from workbench.release import open_release
>>> from workbench.apps.explorer import ExplorerState, render
>>> release = open_release("data_samples/university")
>>> state = ExplorerState.start(release).with_unit("NV-FYS").with_view("table")
>>> view = render(state, release)
>>> view.title
'Tabell: enhet, overordnet og referanse'
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from html import escape
from pathlib import Path
from types import MappingProxyType
from typing import Mapping

import numpy as np
import pandas as pd

from workbench.apps._common import (
    CSS,
    agreement_text,
    background_note,
    cell_mean,
    comparison_html,
    comparison_reading_html,
    comparison_tables,
    distribution_note,
    download_links,
    figure_html,
    heading,
    html_table,
    load_release,
    note,
    share_interval,
    size_text,
    trim_memory,
    unit_path,
    workshop_store,
)
from workbench.errors import WorkbenchError
from workbench.i18n import DASH, LANGS, number, percent, text

__all__ = ["VIEWS", "DEPENDS", "Choices", "ExplorerState", "View", "render", "view_key",
           "unit_label", "search_units", "unit_options", "page_header", "ExplorerApp",
           "explorer_app"]

VIEWS = ("overview", "table", "distribution", "trend", "heatmap", "alike", "compare",
         "response", "extra", "reliability", "workshops", "followup")

TEXTS = {
    "title": ("Utforsk resultatene", "Explore the results"),
    "v_overview": ("Faktoroversikt", "Factor overview"),
    "v_table": ("Tabell: enhet, overordnet og referanse", "Table: unit, parent and benchmark"),
    "v_distribution": ("Svarfordeling per faktor og påstand", "Answers per factor and item"),
    "v_trend": ("Utvikling over tid", "Trend over waves"),
    "v_heatmap": ("Varmekart for underenhetene", "Heatmap of the subunits"),
    "v_alike": ("Mest like og mest ulike svar", "Most alike and most different answers"),
    "v_compare": ("Sammenligninger", "Comparisons"),
    "v_response": ("Svarprosent", "Response rates"),
    "v_extra": ("Arbeidstid og medarbeidersamtale", "Working hours and appraisal interview"),
    "v_reliability": ("Reliabilitet (Cronbachs alfa, ICC)", "Reliability (Cronbach's alpha, ICC)"),
    "v_workshops": ("Arbeidsmøter: oversikt", "Workshops: overview"),
    "v_followup": ("Oppfølging av forrige handlingsplan", "Follow-up of the last action plan"),
    "no_store": (
        "Ingen arbeidsmøter er registrert for dette datasettet ennå. Lederne registrerer dem "
        "på sin side; en handlingsplan kan også leses inn med «workbench workshop DATASET "
        "import FIL».",
        "No workshops are recorded for this dataset yet. Leaders record them on their page; "
        "an action plan can also be read in with 'workbench workshop DATASET import FILE'."),
    "workshops_note": (
        "Per enhet på nivå {level}: enheter med publiserte resultater, enheter som har holdt "
        "arbeidsmøtet (stemmer, valgte faktorer eller tiltak registrert), tiltak og tiltak "
        "gjennomført.",
        "Per unit at level {level}: units with published results, units that have held their "
        "workshop (votes, chosen factors or measures recorded), measures and measures done."),
    "group_unit": ("Enhet", "Unit"),
    "units": ("Enheter", "Units"),
    "held": ("Holdt", "Held"),
    "share_held": ("Andel holdt", "Share held"),
    "measures": ("Tiltak", "Measures"),
    "done": ("Gjennomført", "Done"),
    "first_wave": ("Dette er første runde: det finnes ingen handlingsplan å følge opp.",
                   "This is the first wave: there is no action plan to follow up."),
    "no_actions": ("Enheten hadde ingen registrerte tiltak i runde {wave}.",
                   "The unit had no recorded measures in wave {wave}."),
    "followup_note": (
        "Tiltakene fra runde {before} med status, ved siden av faktorens publiserte "
        "endring fram til runde {wave} og hva sammenligningen kan si.",
        "The measures of wave {before} with their status, beside the factor's published "
        "change to wave {wave} and what the comparison can tell."),
    "measure": ("Tiltak", "Measure"),
    "responsible": ("Ansvarlig", "Responsible"),
    "status": ("Status", "Status"),
    "change": ("Endring", "Change"),
    "icc1": ("ICC(1)", "ICC(1)"),
    "icc2": ("ICC(2)", "ICC(2)"),
    "search": ("Søk etter enhet", "Search for a unit"),
    "search_hint": ("navn eller kode", "name or code"),
    "unit": ("Enhet", "Unit"),
    "wave": ("Runde", "Wave"),
    "factor": ("Faktor", "Factor"),
    "by": ("Bakgrunn", "Background"),
    "by_none": ("(ingen)", "(none)"),
    "view": ("Visning", "View"),
    "language": ("Språk", "Language"),
    "download": ("Last ned tabellen:", "Download the table:"),
    "not_in_wave": ("Enheten finnes ikke i denne runden.", "The unit does not exist in this wave."),
    "mean": ("Snitt", "Mean"),
    "sd": ("Std.avvik", "SD"),
    "n": ("Antall", "n"),
    "top_box": ("Andel enig", "Share agreeing"),
    "moe": ("Feilmargin ±", "Margin of error ±"),
    "item": ("Påstand", "Item"),
    "benchmark": ("Referanse", "Benchmark"),
    "diff": ("Forskjell", "Difference"),
    "other": ("Sammenlignet med", "Compared with"),
    "p_adj": ("p (justert)", "p (adjusted)"),
    "d": ("Effekt (d)", "Effect (d)"),
    "verdict": ("Vurdering", "Verdict"),
    "answers": ("Svar", "Answers"),
    "invited": ("Inviterte", "Invited"),
    "rate": ("Svarprosent", "Response rate"),
    "group": ("Gruppe", "Group"),
    "kind_alike": ("Mest like svar", "Most alike answers"),
    "kind_different": ("Mest ulike svar", "Most different answers"),
    "spread": ("Spredning", "Spread"),
    "spread_note": (
        "Rangert etter spredning: standardavviket som andel av det største som er mulig ved "
        "påstandens snitt (100 % = svarene delt i to ytterpunkter). Slik følger rangeringen "
        "ikke bare snittet: en påstand nesten alle gir toppskår, kan ikke spre seg mye.",
        "Ranked by spread: the standard deviation as a share of the largest possible at the "
        "statement's mean (100 % = the answers split between the two ends). So the ranking "
        "does not simply follow the mean: a statement nearly everyone rates at the top cannot "
        "spread much."),
    "top_box_ci": ("Andel enig (95 % intervall)", "Share agreeing (95% interval)"),
    "agreement": ("Enighet", "Agreement"),
    "against_parent": ("Mot resten av overordnet enhet", "Against the rest of the parent unit"),
    "against_benchmark": ("Mot referansetallet", "Against the benchmark"),
    "against_previous": ("Mot forrige runde", "Against the previous wave"),
    "compare_note": (
        "En forskjell kalles reell bare når den er statistisk sikker etter justering for mange "
        "tester og minst {threshold} poeng.",
        "A difference is called real only when it is significant after adjusting for many tests "
        "and at least {threshold} points."),
    "no_benchmarks": ("Datasettet har ingen referansetall.", "The dataset has no benchmarks."),
    "no_children": ("Enheten har ingen underenheter.", "The unit has no subunits."),
    "real_differences": ("Reelle forskjeller mellom underenhetene",
                         "Real differences between the subunits"),
    "no_real": ("Ingen reelle forskjeller mellom underenhetene.",
                "No real differences between the subunits."),
    "alike_hidden": ("Påstandene vises ikke for denne enheten (personvern).",
                     "The items are not shown for this unit (privacy)."),
    "no_extra": ("Dette spørreskjemaet har ikke spørsmål om arbeidstid eller medarbeidersamtale.",
                 "This questionnaire has no questions on working hours or appraisal interviews."),
    "appraisal": ("Medarbeidersamtale", "Appraisal interview"),
    "had": ("Har hatt samtale", "Had an interview"),
    "useful": ("Nytte (snitt 1–5)", "Usefulness (mean 1–5)"),
    "rel_note": ("Reliabilitet beregnes bare for hele organisasjonen, aldri for små enheter.",
                 "Reliability is computed for the whole organisation only, never for small "
                 "units."),
    "icc_note": (
        "ICC(1): den delen av forskjellene mellom personer som skyldes hvilken enhet de "
        "hører til. ICC(2): hvor pålitelig et enhetssnitt er (av en gjennomsnittlig enhet). "
        "Med ICC(1) rundt 0,06 har et snitt av 5 personer en pålitelighet rundt 0,25, av 10 "
        "personer rundt 0,4: små enheters snitt bærer lite. Enhetene er de publiserte: en "
        "person i en skjult enhet regnes med nærmeste publiserte enhet over.",
        "ICC(1): the part of the differences between persons that is due to the unit they "
        "belong to. ICC(2): how reliable a unit's mean is (of an average unit). With ICC(1) "
        "around 0.06 the mean of 5 persons has a reliability of about 0.25, of 10 persons "
        "about 0.4: a small unit's mean carries little. The units are the published ones: a "
        "person in a hidden unit counts with the nearest published unit above."),
    "alpha": ("Alfa", "Alpha"),
    "alpha_listwise": ("Alfa (bare komplette svar)", "Alpha (complete answers only)"),
    "items": ("Påstander", "Items"),
    "by_note": ("Fordelt på {var}; hver gruppe og resten av enheten har minst {min_n} svar, "
                "ellers er gruppen skjult.",
                "By {var}; every group and the rest of the unit have at least {min_n} answers, "
                "otherwise the group is hidden."),
    "by_ignored": ("Bakgrunnsvariabelen brukes i faktoroversikten og svarprosenten.",
                   "The background variable is used in the factor overview and the response "
                   "rates."),
    "overview_note": (
        "Stolpen slutter ved gjennomsnittet (skala {lo}–{hi}); den svarte streken viser ett "
        "standardavvik til hver side.",
        "The bar ends at the mean (scale {lo}–{hi}); the black line shows one standard "
        "deviation either side."),
    "parent_note": ("Den lyse stolpen under er {parent}.", "The light bar beneath is {parent}."),
    "items_of": ("Påstandene i {factor}", "The items of {factor}"),
    "factors": ("Alle faktorene", "All factors"),
    "trend_of": ("{factor} over tid, med 95 % konfidensintervall",
                 "{factor} over the waves, with 95% confidence intervals"),
    "all_trend": ("Alle faktorene per runde (snitt)", "Every factor per wave (mean)"),
    "error": ("Visningen kunne ikke lages: {message}", "The view could not be made: {message}"),
    "no_match": ("Ingen enhet passer til «{query}» i runde {wave}. Prøv en del av navnet eller "
                 "koden, eller tøm søket.",
                 "No unit matches “{query}” in wave {wave}. Try part of the name or the code, "
                 "or clear the search."),
    "matches": ("{count} enheter passer til «{query}».", "{count} units match “{query}”."),
    "match_one": ("1 enhet passer til «{query}».", "1 unit matches “{query}”."),
}


def _t(key: str, lang: str, **fields) -> str:
    return text(TEXTS, key, lang, **fields)


# ---------------------------------------------------------------------------------------------
# state


@dataclass(frozen=True)
class Choices:
    """Everything that may be chosen in one release: the trusted lists a state is checked
    against.

    Attributes
    ----------
    waves
        Wave labels in survey order.
    units
        Wave -> unit ids of that wave's hierarchy.
    depth
        Wave -> unit id -> depth (0 = the top unit).
    roots
        Wave -> the top unit.
    factors
        Factor ids in questionnaire order.
    background
        Background variables of survey.yaml.
    background_levels
        Depths at which a background variable may be shown (the privacy policy).
    """

    waves: tuple[str, ...]
    units: Mapping[str, frozenset[str]]
    depth: Mapping[str, Mapping[str, int]]
    roots: Mapping[str, str]
    factors: tuple[str, ...]
    background: tuple[str, ...]
    background_levels: tuple[int, ...]

    @classmethod
    def of(cls, release) -> "Choices":
        units, depth, roots = {}, {}, {}
        for wave in release.waves:
            hierarchy = release.hierarchy(wave)
            frame = hierarchy.units
            units[wave] = frozenset(frame["unit_id"])
            depth[wave] = MappingProxyType(dict(zip(frame["unit_id"], frame["level"].astype(int))))
            roots[wave] = hierarchy.root
        return cls(waves=tuple(release.waves), units=MappingProxyType(units),
                   depth=MappingProxyType(depth), roots=MappingProxyType(roots),
                   factors=tuple(f.id for f in release.instrument.factors),
                   background=tuple(release.config.background),
                   background_levels=tuple(release.policy.background_levels))


@dataclass(frozen=True)
class ExplorerState:
    """What the explorer shows. Never changes; every ``with_*`` returns a checked copy.

    A value that is not allowed (an unknown unit, wave, factor, view or language, a
    background variable at a level where it may not be shown) returns the state unchanged:
    widget values come from a browser and are not trusted.
    """

    unit: str
    wave: str
    factor: str
    by: str | None = None
    lang: str = "nb"
    view: str = "overview"
    choices: Choices = field(repr=False, compare=False, default=None)  # type: ignore[assignment]

    @classmethod
    def start(cls, release, lang: str | None = None, unit: str | None = None,
              wave: str | None = None) -> "ExplorerState":
        """The first state: the top unit in the last wave, the first factor, the overview."""
        choices = Choices.of(release)
        last = choices.waves[-1]
        lang = lang if lang in LANGS else release.config.language
        state = cls(unit=choices.roots[last], wave=last, factor=choices.factors[0], lang=lang,
                    choices=choices)
        if wave is not None:
            state = state.with_wave(wave)
        if unit is not None:
            state = state.with_unit(unit)
        return state

    def _allowed_by(self, unit: str, wave: str) -> bool:
        return self.choices.depth[wave].get(unit, -1) in self.choices.background_levels

    @property
    def by_allowed(self) -> bool:
        """True when a background variable may be shown for this unit."""
        return bool(self.choices.background) and self._allowed_by(self.unit, self.wave)

    def with_unit(self, unit) -> "ExplorerState":
        if not isinstance(unit, str) or unit not in self.choices.units[self.wave]:
            return self
        by = self.by if self._allowed_by(unit, self.wave) else None
        return replace(self, unit=unit, by=by)

    def with_wave(self, wave) -> "ExplorerState":
        wave = str(wave) if isinstance(wave, (str, int)) and not isinstance(wave, bool) else None
        if wave not in self.choices.waves:
            return self
        # a unit that did not exist in that wave: start from the top unit of the wave
        unit = self.unit if self.unit in self.choices.units[wave] else self.choices.roots[wave]
        by = self.by if self._allowed_by(unit, wave) else None
        return replace(self, wave=wave, unit=unit, by=by)

    def with_factor(self, factor) -> "ExplorerState":
        if not isinstance(factor, str) or factor not in self.choices.factors:
            return self
        return replace(self, factor=factor)

    def with_by(self, by) -> "ExplorerState":
        if by in (None, ""):
            return replace(self, by=None)
        if not isinstance(by, str) or by not in self.choices.background \
                or not self._allowed_by(self.unit, self.wave):
            return self
        return replace(self, by=by)

    def with_lang(self, lang) -> "ExplorerState":
        if not isinstance(lang, str) or lang not in LANGS:
            return self
        return replace(self, lang=lang)

    def with_view(self, view) -> "ExplorerState":
        if not isinstance(view, str) or view not in VIEWS:
            return self
        return replace(self, view=view)


# ---------------------------------------------------------------------------------------------
# unit picking


def unit_label(release, unit: str, wave: str, lang: str = "nb", flat: bool = False) -> str:
    """A unit as listed in the picker, with its number of answers where published: indented
    by depth in the tree, or (``flat``, for search results) followed by its parent's name."""
    hierarchy = release.hierarchy(wave)
    answers, _ = release.size(unit, wave)
    count = "" if answers is None else f" ({number(answers, lang, 0)})"
    name = hierarchy.name(unit, lang) + count
    if flat:
        parent = hierarchy.parent(unit)
        return name + (f" – {hierarchy.name(parent, lang)}" if parent else "")
    return "\u00a0\u00a0" * hierarchy.level(unit) + name


def search_units(release, wave: str, query: str, limit: int = 400) -> list[str]:
    """Unit ids whose name (either language) or id contains every word of ``query``
    (ignoring case); every unit, in tree order, for an empty query."""
    frame = release.hierarchy(wave).units
    words = [w for w in str(query).lower().split() if w][:8]
    if not words:
        return list(frame["unit_id"][:limit])
    english = frame["name_en"].fillna("") if "name_en" in frame.columns else ""
    haystack = (frame["unit_id"] + " " + frame["name"].fillna("") + " " + english).str.lower()
    mask = np.ones(len(frame), dtype=bool)
    for word in words:
        mask &= haystack.str.contains(word, regex=False).to_numpy()
    return list(frame.loc[mask, "unit_id"][:limit])


def unit_options(release, state: "ExplorerState", query: str
                 ) -> tuple[list[tuple[str, str]], str]:
    """The picker's ``(label, unit id)`` options for a search, and a line about them.

    The options are exactly the units that match (the chosen unit is not slipped in when it
    does not); the line says how many match, or that none does and what to try.
    """
    lang, wave = state.lang, state.wave
    ids = search_units(release, wave, query)
    flat = bool(str(query).strip())
    options = [(unit_label(release, u, wave, lang, flat), u) for u in ids]
    if not flat:
        return options, ""
    shown = " ".join(str(query).split())[:60]
    if not ids:
        return options, _t("no_match", lang, query=shown, wave=wave)
    if len(ids) == 1:
        return options, _t("match_one", lang, query=shown)
    return options, _t("matches", lang, count=number(len(ids), lang, 0), query=shown)


# ---------------------------------------------------------------------------------------------
# views


@dataclass(frozen=True)
class View:
    """One rendered view: a title, an HTML body, the published table it shows, a file stem."""

    title: str
    html: str
    table: pd.DataFrame = field(repr=False, compare=False)
    stem: str = "table"


def _scale(release) -> tuple[int, int]:
    return release.instrument.scale.min, release.instrument.scale.max


def _min_n(release) -> int:
    return release.policy.min_n


def _hidden(row) -> bool:
    return bool(row["suppressed"]) or pd.isna(row["mean"])


def _reason(row) -> str:
    reason = row.get("reason", "")
    return reason if isinstance(reason, str) and reason else "min_n"


def _mean_cell(row, lang: str, min_n: int):
    return cell_mean(row["mean"], lang, _hidden(row), _reason(row), min_n)


def _plain(row, column: str, lang: str, digits: int = 2):
    return DASH if _hidden(row) else number(row[column], lang, digits)


def _count(row, lang: str):
    return DASH if _hidden(row) or pd.isna(row["n"]) else number(row["n"], lang, 0)


def _rows(release, unit: str, wave: str, level: str, lang: str) -> pd.DataFrame:
    from workbench.views import rows

    return rows(release, unit, wave, level, lang)


def _view_overview(state: ExplorerState, release) -> View:
    from workbench.plots import factor_themes, plot_factor_overview

    lang, min_n = state.lang, _min_n(release)
    if state.by:
        return _view_overview_by(state, release)
    rows = _rows(release, state.unit, state.wave, "factor", lang)
    parent = release.hierarchy(state.wave).parent(state.unit)
    prow = _rows(release, parent, state.wave, "factor", lang) if parent else None
    lo, hi = _scale(release)
    ax = plot_factor_overview(rows, prow, lang=lang, scale=(lo, hi),
                              themes=factor_themes(release.instrument, lang) or None,
                              min_n=min_n)
    parent_name = release.hierarchy(state.wave).name(parent, lang) if parent else DASH
    header = [_t("factor", lang), _t("mean", lang), _t("sd", lang), _t("top_box_ci", lang),
              _t("n", lang), _t("moe", lang), _t("agreement", lang)] + \
        ([parent_name] if parent else [])
    pmeans = prow.set_index("key") if prow is not None else None
    body = []
    for _, row in rows.iterrows():
        line = [row["label"], _mean_cell(row, lang, min_n), _plain(row, "sd", lang),
                DASH if _hidden(row) else share_interval(row["top_box"], row.get("top_box_low"),
                                                         row.get("top_box_high"), lang),
                _count(row, lang), _plain(row, "moe", lang),
                DASH if _hidden(row) else agreement_text(row.get("rwg"), lang)]
        if pmeans is not None:
            line.append(_mean_cell(pmeans.loc[row["key"]], lang, min_n)
                        if row["key"] in pmeans.index else DASH)
        body.append(line)
    html = (figure_html(ax.figure, _t("v_overview", lang))
            + note(_t("overview_note", lang, lo=lo, hi=hi)
                   + (" " + _t("parent_note", lang, parent=parent_name) if parent else ""))
            + html_table(header, body, text_columns=(0, 6)) + distribution_note(rows, lang))
    table = pd.concat([rows, prow], ignore_index=True) if prow is not None else rows
    return View(_t("v_overview", lang), html, table, f"overview-{state.unit}-{state.wave}")


def _group_rows(state: ExplorerState, release) -> pd.DataFrame:
    from workbench.stats import stats_table

    rows = release.memo(("explorer-by", state.unit, state.wave, state.by, state.lang),
                        lambda: stats_table(release, wave=state.wave, by=state.by,
                                            unit=state.unit, lang=state.lang))
    names = release.config.background[state.by].values
    return rows.assign(group_name=[names[g](state.lang) if g in names else str(g)
                                   for g in rows["group"]])


def _view_overview_by(state: ExplorerState, release) -> View:
    from workbench.plots import heatmap_table, plot_heatmap

    lang, min_n = state.lang, _min_n(release)
    rows = _group_rows(state, release)
    var = release.config.background[state.by].name(lang)
    grid = heatmap_table(rows, index="label", columns="group_name")
    ax = plot_heatmap(grid, lang=lang, min_n=min_n)
    groups = list(pd.unique(rows["group_name"]))
    header = [_t("factor", lang)] + [f"{g}" for g in groups]
    body = []
    for label, part in rows.groupby("label", sort=False):
        cells = {r["group_name"]: _mean_cell(r, lang, min_n) for _, r in part.iterrows()}
        body.append([label] + [cells.get(g, DASH) for g in groups])
    counts = rows.drop_duplicates("group_name")
    count_line = ", ".join(f"{r['group_name']}: {number(r['answers'], lang, 0)}"
                           for _, r in counts.iterrows()
                           if not r["suppressed"] and pd.notna(r["answers"]))
    html = (figure_html(ax.figure, var) + note(_t("by_note", lang, var=var, min_n=min_n))
            + html_table(header, body)
            + (note(f"{_t('answers', lang)}: {count_line}") if count_line else ""))
    return View(f"{_t('v_overview', lang)}: {var}", html, rows.drop(columns="group_name"),
                f"overview-{state.unit}-{state.wave}-{state.by}")


def _view_table(state: ExplorerState, release) -> View:
    from workbench.views import beside

    lang, min_n = state.lang, _min_n(release)
    table = release.memo(("explorer-beside", state.unit, state.wave, lang),
                         lambda: beside(release, state.unit, state.wave, lang))
    rows = _rows(release, state.unit, state.wave, "factor", lang).set_index("key")
    hierarchy = release.hierarchy(state.wave)
    parent = hierarchy.parent(state.unit)
    prow = _rows(release, parent, state.wave, "factor", lang).set_index("key") if parent \
        else None
    bench = str(table["benchmark"].iloc[0]) if len(table) else ""
    header = [_t("factor", lang), hierarchy.name(state.unit, lang)]
    if parent:
        header.append(hierarchy.name(parent, lang))
    if bench:
        header.append(f"{_t('benchmark', lang)} ({bench})")
    body = []
    for _, row in table.iterrows():
        line = [row["label"], _mean_cell(rows.loc[row["key"]], lang, min_n)]
        if parent:
            line.append(_mean_cell(prow.loc[row["key"]], lang, min_n))
        if bench:
            line.append(number(row["benchmark_mean"], lang))
        body.append(line)
    html = html_table(header, body)
    if not bench:
        html += note(_t("no_benchmarks", lang))
    return View(_t("v_table", lang), html, table, f"table-{state.unit}-{state.wave}")


def _likert_block(rows: pd.DataFrame, title: str, release, lang: str) -> str:
    from workbench.plots import likert_counts, plot_likert, scale_labels

    min_n = _min_n(release)
    labels = scale_labels(release.instrument, lang)
    counts = likert_counts(rows, points=None)
    ax = plot_likert(counts, lang=lang, labels=labels, min_n=min_n)
    points = [c for c in rows.columns if c.startswith("pct_")]
    names = [labels.get(int(c[4:]), c[4:]) for c in points]
    header = [title] + names + [_t("top_box", lang), _t("n", lang)]
    body = []
    for _, row in rows.iterrows():
        if _hidden(row):
            body.append([row["label"], _mean_cell(row, lang, min_n)] + [""] * len(points))
            continue
        body.append([row["label"]] + [percent(row[c], lang) for c in points]
                    + [percent(row["top_box"], lang), number(row["n"], lang, 0)])
    return heading(title, 4) + figure_html(ax.figure, title) + html_table(header, body)


def _view_distribution(state: ExplorerState, release) -> View:
    lang = state.lang
    rows = _rows(release, state.unit, state.wave, "factor", lang)
    factor = release.instrument.factor(state.factor)
    items = _rows(release, state.unit, state.wave, "item", lang)
    items = items[items["key"].isin(factor.item_ids)]
    # the factors' block does not follow the factor: kept, so a new factor draws only its items
    factors = release.memo(("explorer-likert", state.unit, state.wave, lang),
                           lambda: _likert_block(rows, _t("factors", lang), release, lang))
    html = factors + _likert_block(items, _t("items_of", lang, factor=factor.name(lang)),
                                   release, lang)
    table = pd.concat([rows, items], ignore_index=True)
    return View(_t("v_distribution", lang), html, table,
                f"distribution-{state.unit}-{state.wave}-{state.factor}")


def _view_trend(state: ExplorerState, release) -> View:
    from workbench.plots import plot_trend
    from workbench.views import trend

    lang, min_n = state.lang, _min_n(release)
    rows = trend(release, state.unit, "factor", lang)
    factor = release.instrument.factor(state.factor)
    ax = plot_trend(rows, lang=lang, keys=[state.factor], scale=_scale(release), min_n=min_n)
    waves = list(pd.unique(rows["wave"]))
    header = [_t("factor", lang)] + waves
    body = []
    for _, part in rows.groupby("key", sort=False):
        by_wave = part.set_index("wave")
        body.append([part["label"].iloc[0]] + [_mean_cell(by_wave.loc[w], lang, min_n)
                                               if w in by_wave.index else DASH for w in waves])
    html = (heading(_t("trend_of", lang, factor=factor.name(lang)), 4)
            + figure_html(ax.figure, factor.name(lang))
            + heading(_t("all_trend", lang), 4) + html_table(header, body))
    return View(_t("v_trend", lang), html, rows, f"trend-{state.unit}")


def _view_heatmap(state: ExplorerState, release) -> View:
    from workbench.plots import plot_heatmap
    from workbench.views import heatmap

    lang, min_n = state.lang, _min_n(release)
    table = release.memo(("explorer-heatmap", state.unit, state.wave, lang),
                         lambda: heatmap(release, state.unit, state.wave, lang))
    if table.empty:
        return View(_t("v_heatmap", lang), note(_t("no_children", lang)), table,
                    f"heatmap-{state.unit}-{state.wave}")
    ax = plot_heatmap(table, lang=lang, min_n=min_n)
    real = table[table["finding"].isin(["higher", "lower"])]
    if len(real):
        body = [[r["unit_name"], r["label"], number(r["mean"], lang), r["verdict"]]
                for _, r in real.iterrows()]
        listing = html_table([_t("unit", lang), _t("factor", lang), _t("mean", lang),
                              _t("verdict", lang)], body, text_columns=(0, 1, -1))
    else:
        listing = note(_t("no_real", lang))
    html = (figure_html(ax.figure, _t("v_heatmap", lang))
            + heading(_t("real_differences", lang), 4) + listing
            + note(_t("compare_note", lang, threshold=number(0.2, lang, 1))))
    return View(_t("v_heatmap", lang), html, table, f"heatmap-{state.unit}-{state.wave}")


def _view_alike(state: ExplorerState, release) -> View:
    from workbench.views import alike_different

    lang = state.lang
    table = release.memo(("explorer-alike", state.unit, state.wave, lang),
                         lambda: alike_different(release, state.unit, state.wave, lang=lang))
    if table.empty:
        return View(_t("v_alike", lang), note(_t("alike_hidden", lang)), table,
                    f"alike-{state.unit}-{state.wave}")
    html = ""
    for kind in ("alike", "different"):
        part = table[table["kind"] == kind]
        body = [[r["label"], number(r["mean"], lang), number(r["sd"], lang),
                 percent(100 * r["spread"], lang), number(r["n"], lang, 0)]
                for _, r in part.iterrows()]
        html += heading(_t(f"kind_{kind}", lang), 4) + html_table(
            [_t("item", lang), _t("mean", lang), _t("sd", lang), _t("spread", lang),
             _t("n", lang)], body)
    html += note(_t("spread_note", lang))
    return View(_t("v_alike", lang), html, table, f"alike-{state.unit}-{state.wave}")


def _view_compare(state: ExplorerState, release) -> View:
    lang, min_n = state.lang, _min_n(release)
    tables = comparison_tables(release, state.unit, state.wave, lang)
    html, frames = "", []
    for kind, table in tables.items():
        html += heading(_t(f"against_{kind}", lang), 4)
        if isinstance(table, str):
            html += note(table)
            continue
        html += comparison_html(table, lang, min_n) + comparison_reading_html(table, lang)
        frames.append(table)
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    return View(_t("v_compare", lang), html, table, f"compare-{state.unit}-{state.wave}")


def _view_response(state: ExplorerState, release) -> View:
    from workbench.plots import plot_distribution
    from workbench.views import response_rates

    lang, min_n = state.lang, _min_n(release)
    table = release.memo(("explorer-rates", state.unit, state.by, lang),
                         lambda: response_rates(release, state.unit, by=state.by, lang=lang))
    if state.by:
        names = release.config.background[state.by].values
        table = table[table["wave"].astype(str) == state.wave]
        category = [names[g](lang) if g in names else str(g) for g in table["group"]]
    else:
        category = [str(w) for w in table["wave"]]
    shares = pd.DataFrame({"category": category, "share": table["rate"].to_numpy(dtype=float),
                           "suppressed": table["suppressed"].to_numpy(dtype=bool),
                           "reason": table["reason"].to_numpy()})
    shares.loc[shares["share"].isna(), "suppressed"] = True
    ax = plot_distribution(shares, lang=lang, min_n=min_n)
    ax.set_xlabel(_t("rate", lang))
    body = []
    for cat, (_, row) in zip(category, table.iterrows()):
        hidden = bool(row["suppressed"]) or pd.isna(row["rate"])
        body.append([cat, DASH if pd.isna(row["answers"]) else number(row["answers"], lang, 0),
                     DASH if pd.isna(row["invited"]) else number(row["invited"], lang, 0),
                     cell_mean(np.nan, lang, True, _reason(row), min_n) if hidden
                     else percent(row["rate"], lang)])
    first = _t("group", lang) if state.by else _t("wave", lang)
    html = figure_html(ax.figure, _t("v_response", lang)) + html_table(
        [first, _t("answers", lang), _t("invited", lang), _t("rate", lang)], body)
    return View(_t("v_response", lang), html, table.reset_index(drop=True),
                f"response-{state.unit}")


def _view_extra(state: ExplorerState, release) -> View:
    from workbench.plots import plot_distribution
    from workbench.views import appraisal, category_distribution

    lang, min_n = state.lang, _min_n(release)
    instrument = release.instrument
    questions = [q for q in instrument.extra
                 if q.type == "category" and q.id not in ("appraisal",)]
    has_appraisal = {"appraisal", "appraisal_useful"} <= set(instrument.extra_ids)
    if not questions and not has_appraisal:
        return View(_t("v_extra", lang), note(_t("no_extra", lang)), pd.DataFrame(),
                    f"extra-{state.unit}")
    html, frames = "", []
    for q in questions:
        table = category_distribution(release, state.unit, q.id, state.wave, lang)
        shares = table.rename(columns={"label": "category"})
        ax = plot_distribution(shares, lang=lang, min_n=min_n)
        html += heading(q.name(lang), 4) + note(q.text(lang)) + figure_html(ax.figure,
                                                                           q.name(lang))
        frames.append(table.assign(question=q.id))
    if has_appraisal:
        table = appraisal(release, state.unit, lang=lang)
        body = []
        for _, row in table.iterrows():
            if row["suppressed"]:
                hidden = cell_mean(np.nan, lang, True, _reason(row), min_n)
                body.append([row["wave"], hidden, ""])
            else:
                body.append([row["wave"], percent(row["had_share"], lang),
                             number(row["useful_mean"], lang)])
        html += heading(_t("appraisal", lang), 4) + html_table(
            [_t("wave", lang), _t("had", lang), _t("useful", lang)], body)
        frames.append(table.assign(question="appraisal"))
    return View(_t("v_extra", lang), html, pd.concat(frames, ignore_index=True),
                f"extra-{state.unit}-{state.wave}")


def _view_reliability(state: ExplorerState, release) -> View:
    lang = state.lang
    table = release.tables["reliability"]
    if len(table):
        table = table.loc[table["wave"].astype(str) == state.wave].reset_index(drop=True)
    names = {f.id: f.name(lang) for f in release.instrument.factors}
    body = [[names.get(r["factor"], r["factor"]), number(r["items"], lang, 0),
             number(r["n"], lang, 0), number(r["alpha"], lang),
             number(r.get("alpha_listwise", np.nan), lang),
             number(r.get("icc1", np.nan), lang, 3), number(r.get("icc2", np.nan), lang)]
            for _, r in table.iterrows()]
    html = note(_t("rel_note", lang)) + html_table(
        [_t("factor", lang), _t("items", lang), _t("n", lang), _t("alpha", lang),
         _t("alpha_listwise", lang), _t("icc1", lang), _t("icc2", lang)], body) + note(
        _t("icc_note", lang))
    return View(_t("v_reliability", lang), html, table, f"reliability-{state.wave}")


def _view_workshops(state: ExplorerState, release) -> View:
    from workbench.workshop_overview import plot_workshop_overview, workshop_overview

    lang, key = state.lang, f"workshops-{state.wave}"
    store = workshop_store(release)
    if store is None:
        return View(_t("v_workshops", lang), note(_t("no_store", lang)), pd.DataFrame(), key)
    table = workshop_overview(store, release, state.wave, level=1, lang=lang)
    ax = plot_workshop_overview(table, lang=lang)
    body = [[r["group_name"], number(r["units"], lang, 0), number(r["held"], lang, 0),
             percent(100 * r["share_held"], lang), number(r["measures"], lang, 0),
             number(r["done"], lang, 0)] for _, r in table.iterrows()]
    html = (figure_html(ax.figure, _t("v_workshops", lang)) + note(_t("workshops_note", lang,
                                                                       level=1))
            + html_table([_t("group_unit", lang), _t("units", lang), _t("held", lang),
                          _t("share_held", lang), _t("measures", lang), _t("done", lang)],
                         body))
    return View(_t("v_workshops", lang), html, table, key)


def _view_followup(state: ExplorerState, release) -> View:
    from workbench.apps.workshop_section import WORDS
    from workbench.followup import followup

    lang, key = state.lang, f"followup-{state.unit}-{state.wave}"
    title = _t("v_followup", lang)
    position = release.waves.index(state.wave)
    if position == 0:
        return View(title, note(_t("first_wave", lang)), pd.DataFrame(), key)
    before = release.waves[position - 1]
    store = workshop_store(release)
    if store is None:
        return View(title, note(_t("no_store", lang)), pd.DataFrame(), key)
    table = followup(release, store, state.unit, state.wave, lang=lang)
    if table.empty:
        return View(title, note(_t("no_actions", lang, wave=before)), table, key)
    body = [[r["measure"], r["responsible"] or DASH,
             text(WORDS, r["status"], lang) if r["status"] in WORDS else DASH,
             r["change"] or DASH] for _, r in table.iterrows()]
    html = (note(_t("followup_note", lang, before=before, wave=state.wave))
            + html_table([_t("measure", lang), _t("responsible", lang), _t("status", lang),
                          _t("change", lang)], body, text_columns=4))
    return View(title, html, table, key)


_RENDER = {"overview": _view_overview, "table": _view_table, "distribution": _view_distribution,
           "trend": _view_trend, "heatmap": _view_heatmap, "alike": _view_alike,
           "compare": _view_compare, "response": _view_response, "extra": _view_extra,
           "reliability": _view_reliability, "workshops": _view_workshops,
           "followup": _view_followup}


def render(state: ExplorerState, release) -> View:
    """The view ``state.view`` of ``state``'s unit, wave and factor, cut from the release.

    A problem in one view (e.g. a comparison that cannot be made) becomes a message in the
    view, never a traceback in the page.
    """
    lang = state.lang
    try:
        view = _RENDER[state.view](state, release)
    except WorkbenchError as exc:
        view = View(_t(f"v_{state.view}", lang), note(_t("error", lang, message=str(exc))),
                    pd.DataFrame(), state.view)
    finally:
        _close_figures()
    if state.by and state.view not in ("overview", "response"):
        view = replace(view, html=note(_t("by_ignored", lang)) + view.html)
    return view


def _close_figures() -> None:
    """A figure left open would leak memory in a long-running kernel (only when drawn)."""
    import sys

    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None:
        pyplot.close("all")


#: The state fields each view depends on: a change elsewhere keeps the view on screen.
DEPENDS = {"overview": ("unit", "wave"), "table": ("unit", "wave"),
           "distribution": ("unit", "wave", "factor"), "trend": ("unit", "factor"),
           "heatmap": ("unit", "wave"), "alike": ("unit", "wave"), "compare": ("unit", "wave"),
           "response": ("unit", "wave"), "extra": ("unit", "wave"), "reliability": ("wave",),
           "workshops": ("wave",), "followup": ("unit", "wave")}


def view_key(state: ExplorerState) -> tuple:
    """What identifies the rendered view of ``state`` (see :data:`DEPENDS`)."""
    return (state.view, state.lang, state.by,
            *(getattr(state, name) for name in DEPENDS[state.view]))


def page_header(state: ExplorerState, release) -> str:
    """Unit name, path (below the top unit) and size above the view."""
    lang = state.lang
    hierarchy = release.hierarchy(state.wave)
    name = hierarchy.name(state.unit, lang)
    path = ""
    if hierarchy.parent(state.unit) is not None:
        path = (f"<p class='wb-path'>{escape(unit_path(release, state.unit, state.wave, lang))}"
                "</p>")
    return (f"<div class='wb-app'><h2>{escape(name)}</h2>{path}<p class='wb-sub'>"
            f"{escape(release.name(lang))} · {escape(_t('wave', lang))} {escape(state.wave)} · "
            f"{escape(size_text(release, state.unit, state.wave, lang))}</p></div>")


# ---------------------------------------------------------------------------------------------
# widgets


class ExplorerApp:
    """The explorer's widgets around one :class:`ExplorerState`.

    Every widget callback turns the browser's value into ``state.with_...(value)``; an
    untrusted value that is not allowed leaves the state, and the page, unchanged.
    """

    def __init__(self, release, lang: str | None = None):
        import ipywidgets as widgets

        self.release = release
        self.state = ExplorerState.start(release, lang)
        self._quiet = False
        self._views: dict[tuple, View] = {}
        self._shown: tuple | None = None
        self._listed: tuple | None = None
        self._labelled: str | None = None
        lang = self.state.lang
        layout = widgets.Layout
        self.search = widgets.Text(placeholder=_t("search_hint", lang),
                                   description=_t("search", lang), continuous_update=True,
                                   style={"description_width": "initial"},
                                   layout=layout(width="420px"))
        self.found = widgets.HTML()
        # as wide as the page: long names (and a search result's parent) are not clipped
        self.units = widgets.Select(rows=9, layout=layout(width="100%", max_width="1060px"),
                                    description=_t("unit", lang))
        self.units.add_class("wb-units")
        self.wave = widgets.Dropdown(description=_t("wave", lang), layout=layout(width="200px"))
        self.factor = widgets.Dropdown(description=_t("factor", lang),
                                       layout=layout(width="420px"))
        self.by = widgets.Dropdown(description=_t("by", lang), layout=layout(width="300px"))
        self.by_hint = widgets.HTML()
        self.lang = widgets.ToggleButtons(options=[("Bokmål", "nb"), ("English", "en")],
                                          value=lang, description=_t("language", lang),
                                          style={"button_width": "90px"})
        self.view = widgets.Dropdown(description=_t("view", lang), layout=layout(width="520px"))
        self.header = widgets.HTML()
        self.body = widgets.HTML()
        self.downloads = widgets.HTML()
        for w in (self.wave, self.factor, self.by, self.view, self.units):
            w.style.description_width = "initial"
        self._fill_options()
        self.search.observe(self._on_search, names="value")
        self.units.observe(lambda c: self._set(self.state.with_unit(c["new"])), names="value")
        self.wave.observe(lambda c: self._set(self.state.with_wave(c["new"])), names="value")
        self.factor.observe(lambda c: self._set(self.state.with_factor(c["new"])), names="value")
        self.by.observe(lambda c: self._set(self.state.with_by(c["new"])), names="value")
        self.lang.observe(lambda c: self._set(self.state.with_lang(c["new"])), names="value")
        self.view.observe(lambda c: self._set(self.state.with_view(c["new"])), names="value")
        controls = widgets.VBox([
            widgets.HBox([self.search, self.lang]),
            self.found,
            self.units,
            widgets.HBox([self.wave, self.by, self.factor]),
            self.by_hint,
            self.view,
        ])
        self.widget = widgets.VBox([widgets.HTML(CSS), controls, self.header, self.body,
                                    self.downloads], layout=layout(padding="0 0 2em 0"))
        self.widget.add_class("wb-app")
        self.redraw()

    # -- options follow the state (language, wave, search); callbacks stay quiet meanwhile

    def _fill_options(self) -> None:
        state, release, lang = self.state, self.release, self.state.lang
        self._quiet = True
        try:
            query = str(self.search.value)[:200]
            listed = (state.wave, lang, query)
            if listed != self._listed:
                # the unit list only changes with the search, the wave or the language
                options, found = unit_options(release, state, query)
                self.units.options = options
                self.found.value = (f"<p class='wb-hint' role='status'>{escape(found)}</p>"
                                    if found else "")
                self._listed = listed
            listed_ids = {value for _, value in self.units.options}
            # the chosen unit stays the page's unit; it is selected only when listed
            self.units.value = state.unit if state.unit in listed_ids else None
            if lang != self._labelled:
                self.wave.options = list(state.choices.waves)
                self.factor.options = [(f.name(lang), f.id) for f in release.instrument.factors]
                self.by.options = [(_t("by_none", lang), "")] + [
                    (release.config.background[v].name(lang), v)
                    for v in state.choices.background]
                self.view.options = [(_t(f"v_{v}", lang), v) for v in VIEWS]
                for widget, key in ((self.search, "search"), (self.units, "unit"),
                                    (self.wave, "wave"), (self.factor, "factor"),
                                    (self.by, "by"), (self.lang, "language"),
                                    (self.view, "view")):
                    widget.description = _t(key, lang)
                self.search.placeholder = _t("search_hint", lang)
                self._labelled = lang
            self.wave.value = state.wave
            self.factor.value = state.factor
            self.by.value = state.by or ""
            off = bool(state.choices.background) and not state.by_allowed
            self.by.disabled = off
            self.by_hint.value = (f"<p class='wb-hint'>{escape(background_note(release, lang))}"
                                  "</p>" if off else "")
            self.view.value = state.view
            self.lang.value = lang
        finally:
            self._quiet = False

    def _on_search(self, change) -> None:
        if self._quiet:
            return
        self._fill_options()

    def _set(self, state: ExplorerState) -> None:
        if self._quiet:
            return
        if state == self.state:
            self._fill_options()  # put a refused value back to the state's own
            return
        self.state = state
        self._fill_options()
        self.redraw()

    def redraw(self) -> View:
        """Render the current state into the page; return the view."""
        key = view_key(self.state)
        if key in self._views:
            view = self._views.pop(key)
        else:
            view = render(self.state, self.release)
        self._views[key] = view
        while len(self._views) > 40:  # the views seen last; the oldest go first
            self._views.pop(next(iter(self._views)))
        lang = self.state.lang
        self.header.value = page_header(self.state, self.release)
        if key == self._shown:  # e.g. another factor in a view that shows every factor
            return view
        self._shown = key
        self.body.value = f"<div class='wb-app'>{heading(view.title)}{view.html}</div>"
        # the files come after the view is on screen: making the XLSX takes a moment
        links = download_links(view.table, view.stem, sheet=view.title, lang=lang)
        self.downloads.value = (f"<div class='wb-app'><p>{escape(_t('download', lang))}</p>"
                                f"{links}</div>" if links else "")
        return view


def explorer_app(source: str | Path, lang: str | None = None):
    """The explorer for a release (or a release or dataset folder), as an ipywidgets box
    (what the notebook shows)."""
    release = load_release(source)
    app = ExplorerApp(release, lang)
    trim_memory()
    return app.widget
