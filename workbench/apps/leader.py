"""The leader page: one unit's results and the workshop steps, opened through a signed link.

A unit leader gets a link made by ``workbench links`` (see :mod:`workbench.access`). The
page reads the token from the request's query string, checks its signature and expiry with
the server-side secret, and shows the unit the token names and its published subunits,
nothing else. A missing, malformed, expired or tampered link shows a polite refusal with no
numbers at all.

The verified grant stays in the kernel (:class:`LeaderState`). What comes back from the
browser (the chosen subunit, comparison, language) is checked against it by the ``with_*``
methods: a value outside the grant (e.g. another unit sent by a forged widget message)
leaves the state as it was, and nothing is rendered for it.

Every number comes from the release (:class:`workbench.release.Release`, cut by
:mod:`workbench.views`). Served by Voila with preheated kernels: :func:`leader_page` reads the
release folder first (never the dataset's responses), *then* waits for the request
(``voila.utils.wait_for_request``), so the page only has to verify the token and cut one
unit's rows.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import time
from dataclasses import dataclass, field, replace
from html import escape
from pathlib import Path
from urllib.parse import urlsplit

import pandas as pd

from workbench.access import Grant, Refused, load_secret, secret_path, token_from_query, verify
from workbench.apps._common import (
    CSS,
    agreement_text,
    cell_mean,
    comparison_html,
    comparison_reading_html,
    comparison_tables,
    distribution_note,
    figure_html,
    heading,
    html_table,
    load_release,
    note,
    trim_memory,
    unavailable_comparison,
)
from workbench.errors import WorkbenchError
from workbench.i18n import DASH, LANGS, number, percent, text

__all__ = ["AGAINST", "LINK_ENV", "LEADER_TABLES", "FIRST_VIEW", "LeaderState", "allowed_units",
           "refusal_html", "header_html", "results_html", "results_table_html",
           "figure_section", "LEADER_CSS",
           "first_view_html", "comparison_section", "reading_html", "steps_html", "guide_html",
           "handout_files", "request_token", "LeaderApp", "leader_page", "prepare",
           "preload"]

#: The comparisons a leader may choose.
AGAINST = ("parent", "benchmark", "previous")
#: Environment variable with a leader link (or its token) for JupyterLab and nbclient; ignored
#: under Voila, where only the request's own query string counts.
LINK_ENV = "WORKBENCH_LINK"

TEXTS = {
    "title": ("Resultater for {unit}", "Results for {unit}"),
    "sub": ("{survey}, runde {wave}", "{survey}, wave {wave}"),
    "size": ("{answers} av {invited} inviterte svarte ({rate}).",
             "{answers} of {invited} invited answered ({rate})."),
    "size_only": ("{answers} svarte.", "{answers} answered."),
    "unit": ("Enhet", "Unit"),
    "language": ("Språk", "Language"),
    "against": ("Sammenlign med", "Compare with"),
    "against_parent": ("resten av overordnet enhet", "the rest of the parent unit"),
    "against_benchmark": ("referansetallet", "the benchmark"),
    "against_previous": ("forrige runde", "the previous wave"),
    "h_read": ("Slik leser du resultatene", "How to read the results"),
    "read": (
        ["Hver faktor er gjennomsnittet av noen påstander som besvares fra 1 (svært uenig) til 5 "
         "(svært enig). Stolpen slutter ved enhetens gjennomsnitt; tallet står til høyre.",
         "Den svarte streken viser spredningen (ett standardavvik til hver side): en lang strek "
         "betyr at dere svarte ulikt.",
         "Den lyse stolpen under er overordnet enhet, til sammenligning.",
         "«Andel enig» er andelen av svarene som er 4 eller 5. Prosentene gjelder svar, ikke "
         "personer.",
         "«Enighet» sier hvor likt dere svarte på faktorens påstander, sammenlignet med "
         "tilfeldige svar.",
         "En forskjell kalles reell bare når den er statistisk sikker og minst 0,2 poeng. "
         "Små forskjeller kan skyldes tilfeldigheter.",
         "Resultater fra færre enn {min_n} personer vises aldri: de står som «skjult». Også i "
         "en stor enhet kan et tall stå som «skjult (vern av en liten gruppe)»: sammen med "
         "andre publiserte tall ville det ellers vise hva noen få svarte."],
        ["Each factor is the mean of a few statements answered from 1 (strongly disagree) to 5 "
         "(strongly agree). The bar ends at the unit's mean; the number is on the right.",
         "The black line shows the spread (one standard deviation either side): a long line "
         "means that you answered differently.",
         "The light bar beneath is the parent unit, for comparison.",
         "'Share agreeing' is the share of answers that are 4 or 5. The percentages are "
         "answers, not persons.",
         "'Agreement' says how alike you answered the factor's statements, compared with "
         "random answers.",
         "A difference is called real only when it is statistically certain and at least 0.2 "
         "points. Small differences may be chance.",
         "Results from fewer than {min_n} persons are never shown: they read 'suppressed'. "
         "Even in a large unit a figure may read 'suppressed (protects a small group)': with "
         "other published figures, it would otherwise show what a few answered."]),
    "h_results": ("Resultatene", "The results"),
    "h_compare": ("Sammenligning", "Comparison"),
    "h_steps": ("Neste steg: arbeidsmøtet", "Next steps: the workshop"),
    "steps": (
        [("Analysekrysset", "Hver deltaker stemmer på faktorene dere er fornøyde med og dem "
          "dere må forbedre. Tell stemmene og snakk om hvorfor."),
         ("Framtidsbildet", "Velg én faktor. Beskriv i presens hva medarbeiderne, lederen og "
          "organisasjonen gjør når dere har lykkes."),
         ("Prioriteringsmatrisen", "Plasser tiltakene etter effekt (stor/liten) og "
          "gjennomførbarhet (lett/vanskelig): raske gevinster først, vurder resten, dropp "
          "det som gir lite."),
         ("Handlingsplanen", "For hvert tiltak: område, tiltak, mål, ansvarlig og frist. Avtal "
          "når dere følger opp."),
         ("Parkeringsplassen", "Saker enheten ikke kan løse selv: hvem tar dem videre, til hvem, "
          "og hva ble svaret.")],
        [("The analysis cross", "Everyone votes for the factors you are pleased with and those "
          "you must improve. Count the votes and talk about why."),
         ("The future picture", "Choose one factor. Describe, in the present tense, what the "
          "employees, the leader and the organisation do when you have succeeded."),
         ("The priority matrix", "Place the measures by impact (large/small) and feasibility "
          "(easy/hard): quick wins first, consider the rest, drop what gives little."),
         ("The action plan", "For each measure: area, measure, goal, who is responsible and "
          "the deadline. Agree when you will follow up."),
         ("The parking lot", "Issues the unit cannot solve itself: who passes them on, to whom, "
          "and what the answer was.")]),
    "factor": ("Faktor", "Factor"),
    "mean": ("Snitt", "Mean"),
    "top_box": ("Andel enig", "Share agreeing"),
    "n": ("Antall", "n"),
    "agreement": ("Enighet", "Agreement"),
    "handout": ("Lag utdelingsark for arbeidsmøtet", "Make the workshop handout"),
    "wait": ("Tegner resultatene …", "Drawing the results …"),
    "handout_wait": ("Lager utdelingsarket …", "Making the handout …"),
    "handout_none": ("Utdelingsarket kunne ikke lages nå.", "The handout could not be made now."),
    "compare_none": ("Denne sammenligningen kan ikke lages for enheten: {why}",
                     "This comparison cannot be made for the unit: {why}"),
}

_REFUSAL = {
    "missing": ("Denne siden åpnes med den personlige lenken du har fått tilsendt.",
                "This page opens with the personal link you were sent."),
    "malformed": ("Lenken er ufullstendig eller ugyldig. Kopier hele lenken fra e-posten på "
                  "nytt, eller be om en ny.",
                  "The link is incomplete or invalid. Copy the whole link from the e-mail again, "
                  "or ask for a new one."),
    "tampered": ("Lenken er ugyldig. Bruk lenken nøyaktig slik du fikk den, eller be om en ny.",
                 "The link is not valid. Use the link exactly as you received it, or ask for a "
                 "new one."),
    "expired": ("Lenken er utløpt. Be den som sendte den om en ny lenke.",
                "The link has expired. Ask the person who sent it for a new link."),
    "unknown_unit": ("Det finnes ingen resultater å vise for denne lenken.",
                     "There are no results to show for this link."),
    "unavailable": ("Siden er ikke klar for lenker ennå. Prøv igjen senere.",
                    "The page is not ready for links yet. Please try again later."),
}


def _t(key: str, lang: str, **fields) -> str:
    return text(TEXTS, key, lang, **fields)


# ---------------------------------------------------------------------------------------------
# state


def allowed_units(release, grant: Grant) -> tuple[str, ...]:
    """The granted unit and its published subunits (depth first), in the grant's wave."""
    from workbench.views import published_units

    if grant.wave not in release.waves:
        return ()
    hierarchy = release.hierarchy(grant.wave)
    if grant.unit not in hierarchy:
        return ()
    shown = published_units(release, grant.wave)
    return tuple(u for u in hierarchy.subtree(grant.unit) if u in shown)


@dataclass(frozen=True)
class LeaderState:
    """What the leader page shows: always inside the verified grant.

    ``allowed`` is computed in the kernel from the verified token; ``with_unit`` accepts only
    those units, ``with_against`` only :data:`AGAINST`, ``with_lang`` only nb/en. Anything
    else returns the state unchanged.
    """

    grant: Grant
    allowed: tuple[str, ...] = field(repr=False)
    unit: str
    against: str = "parent"
    lang: str = "nb"
    comparisons: tuple[str, ...] = field(default=AGAINST, repr=False)

    @classmethod
    def start(cls, release, grant: Grant, lang: str | None = None) -> "LeaderState":
        if grant.wave not in release.waves:
            raise Refused("unknown_unit")
        allowed = allowed_units(release, grant)
        if grant.unit not in allowed:
            raise Refused("unknown_unit")
        lang = lang if lang in LANGS else release.config.language
        # offer only the comparisons this survey can make for the granted subtree
        comparisons = tuple(a for a in AGAINST if any(
            unavailable_comparison(release, unit, grant.wave, a) is None for unit in allowed))
        return cls(grant=grant, allowed=allowed, unit=grant.unit, lang=lang,
                   against=comparisons[0] if comparisons else "parent",
                   comparisons=comparisons or ("parent",))

    def with_unit(self, unit) -> "LeaderState":
        if not isinstance(unit, str) or unit not in self.allowed:
            return self
        return replace(self, unit=unit)

    def with_against(self, against) -> "LeaderState":
        if not isinstance(against, str) or against not in self.comparisons:
            return self
        return replace(self, against=against)

    def with_lang(self, lang) -> "LeaderState":
        if not isinstance(lang, str) or lang not in LANGS:
            return self
        return replace(self, lang=lang)


# ---------------------------------------------------------------------------------------------
# HTML (plain functions of a state: tested without a browser)


def refusal_html(reason: str) -> str:
    """The polite refusal, in bokmål and English, with no numbers and no unit names."""
    nb, en = _REFUSAL.get(reason, _REFUSAL["tampered"])
    return (f"{CSS}<div class='wb-app'><div class='wb-refusal'>"
            f"<h2>Ingen tilgang / No access</h2><p>{escape(nb)}</p><p lang='en'>{escape(en)}</p>"
            "</div></div>")


def _size(release, unit: str, wave: str, lang: str) -> str:
    answers, invited = release.size(unit, wave)
    if answers is None:
        return ""
    if invited:
        return _t("size", lang, answers=number(answers, lang, 0),
                  invited=number(invited, lang, 0), rate=percent(100 * answers / invited, lang))
    return _t("size_only", lang, answers=number(answers, lang, 0))


def header_html(state: LeaderState, release) -> str:
    """The unit's name, the survey and wave, and how many answered (kept by the release:
    the first view and the widgets show the same)."""
    key = ("leader-header", state.unit, state.grant.wave, state.lang)
    return release.memo(key, lambda: _header_html(state, release))


def _header_html(state: LeaderState, release) -> str:
    lang, wave = state.lang, state.grant.wave
    name = release.hierarchy(wave).name(state.unit, lang)
    return (f"<h2>{escape(_t('title', lang, unit=name))}</h2><p class='wb-sub'>"
            f"{escape(_t('sub', lang, survey=release.name(lang), wave=wave))}.<br>"
            f"{escape(_size(release, state.unit, wave, lang))}</p>")


def _rows(release, unit: str, wave: str, lang: str):
    from workbench.views import rows

    return rows(release, unit, wave, "factor", lang)


def figure_section(state: LeaderState, release) -> str:
    """How to read the results, then the unit's factor overview (NTNU style, the parent's
    lighter bar beneath)."""
    from workbench.plots import factor_themes, plot_factor_overview

    lang, wave = state.lang, state.grant.wave
    rows = _rows(release, state.unit, wave, lang)
    parent = release.hierarchy(wave).parent(state.unit)
    prow = _rows(release, parent, wave, lang) if parent else None
    scale = (release.instrument.scale.min, release.instrument.scale.max)
    ax = plot_factor_overview(rows, prow, lang=lang, scale=scale,
                              themes=factor_themes(release.instrument, lang) or None,
                              min_n=release.policy.min_n)
    return (reading_html(lang, release.policy.min_n)
            + figure_html(ax.figure, _t("h_results", lang)))


def results_html(state: LeaderState, release) -> str:
    """The unit's results: the table of factor means first (where the first view has it),
    then how to read them and the factor overview."""
    return (heading(_t("h_results", lang=state.lang)) + results_table_html(state, release)
            + figure_section(state, release))


def results_table_html(state: LeaderState, release) -> str:
    """The unit's published factor means, top-box shares and answers as a table (kept by
    the release: the first view and the widgets show the same)."""
    key = ("leader-results", state.unit, state.grant.wave, state.lang)
    return release.memo(key, lambda: _results_table_html(state, release))


def _results_table_html(state: LeaderState, release) -> str:
    lang, min_n = state.lang, release.policy.min_n
    rows = _rows(release, state.unit, state.grant.wave, lang)
    body = []
    for _, row in rows.iterrows():
        hidden = bool(row["suppressed"]) or pd.isna(row["mean"])
        reason = row["reason"] if isinstance(row["reason"], str) and row["reason"] else None
        body.append([row["label"], cell_mean(row["mean"], lang, hidden, reason, min_n),
                     DASH if hidden else percent(row["top_box"], lang),
                     DASH if hidden or pd.isna(row["n"]) else number(row["n"], lang, 0),
                     DASH if hidden else agreement_text(row.get("rwg"), lang)])
    table = html_table([_t("factor", lang), _t("mean", lang), _t("top_box", lang),
                        _t("n", lang), _t("agreement", lang)], body, text_columns=(0, -1))
    return table + distribution_note(rows, lang)


#: The release tables a leader page shows (a kernel reads no other).
LEADER_TABLES = ("units", "factors", "rates", "comparisons", "benchmarks")

#: Output metadata that the workbench Voila template writes into the page as HTML.
FIRST_VIEW = {"workbench": "first-view"}


#: The leader page's own styles: the first view and the widgets put the header and the
#: results table at the same place, so nothing moves when the widgets take over.
LEADER_CSS = """<style>
.wb-first-view {padding: 0 !important}
.wb-first {padding: 0 0 0 0}
.wb-leader .wb-controls, .wb-first .wb-controls {height: 46px; min-height: 46px;
  margin: 0; overflow: visible}
.wb-leader .widget-html, .wb-leader .widget-html-content, .wb-leader .widget-box,
.wb-leader .widget-inline-hbox {margin: 0; padding: 0}
.wb-leader .widget-html-content {font-size: 16px; line-height: 1.45; height: auto}
.wb-leader h2, .wb-first h2 {margin: 0.3em 0 0.2em}
.wb-first .wb-part {display: flow-root}
</style>"""


def first_view_html(state: LeaderState, release) -> str:
    """The page as the leader first sees it, before Voila's scripts have loaded: the header
    and the results table, no figure (cheap to make). The template shows it at once and hides
    it when the widgets arrive; they draw the same header and table at the same place (the
    row of controls is kept free), and add the figure, the comparison and the steps below."""
    lang = state.lang
    # one block per widget, as the widgets lay them out (their margins do not collapse)
    return (f"{CSS}{LEADER_CSS}<div class='wb-app wb-first'>"
            f"<div class='wb-controls' aria-hidden='true'></div>"
            f"<div class='wb-part'>{header_html(state, release)}</div>"
            f"<div class='wb-part'>{heading(_t('h_results', lang))}"
            f"{results_table_html(state, release)}</div>"
            f"<div class='wb-part'>{note(_t('wait', lang))}</div></div>")


def _under_voila() -> bool:
    return any(k in os.environ for k in ("VOILA_PREHEAT", "VOILA_BASE_URL", "VOILA_KERNEL_ID"))


def _show_first(html: str) -> None:
    """Under Voila: the first view as plain HTML in the page (see :data:`FIRST_VIEW`);
    elsewhere (JupyterLab, tests) nothing, the widgets alone show the page."""
    if not _under_voila():
        return
    from IPython.display import HTML, display

    display(HTML(html), metadata=FIRST_VIEW)


def comparison_section(state: LeaderState, release) -> str:
    """The chosen comparison with its plain verdicts (no p-values: they are for analysts),
    then what it can tell with the unit's own numbers and what each word means."""
    lang, wave = state.lang, state.grant.wave
    table = comparison_tables(release, state.unit, wave, lang, (state.against,))[state.against]
    if isinstance(table, str):
        return note(_t("compare_none", lang, why=table))
    return (comparison_html(table, lang, release.policy.min_n, detail=False)
            + comparison_reading_html(table, lang))


def reading_html(lang: str, min_n: int = 5) -> str:
    """How to read the results (no numbers from the data)."""
    items = "".join(f"<li>{escape(p.format(min_n=min_n))}</li>"
                    for p in TEXTS["read"][lang == "en"])
    return heading(_t("h_read", lang)) + f"<ul>{items}</ul>"


def steps_html(lang: str) -> str:
    """The workshop steps that follow the results meeting."""
    steps = "".join(f"<li><b>{escape(name)}.</b> {escape(what)}</li>"
                    for name, what in TEXTS["steps"][lang == "en"])
    return heading(_t("h_steps", lang)) + f"<ol class='wb-steps'>{steps}</ol>"


def guide_html(lang: str, min_n: int = 5) -> str:
    """How to read the results and the workshop steps."""
    return reading_html(lang, min_n) + steps_html(lang)


# ---------------------------------------------------------------------------------------------
# handouts (built by workbench.handouts when it exists)


def _handouts_available() -> bool:
    """True when :mod:`workbench.handouts` is installed (found, not imported: a kernel loads
    the handout builders only when a leader asks for a handout)."""
    return importlib.util.find_spec("workbench.handouts") is not None


def _handout_module():
    if not _handouts_available():
        return None
    try:
        module = importlib.import_module("workbench.handouts")
    except Exception:  # a half-finished module must not break the page
        return None
    return module if hasattr(module, "Handout") else None


HANDOUT_FORMATS = {"html": "text/html",
                   "pptx": "application/vnd.openxmlformats-officedocument.presentationml."
                           "presentation",
                   "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
#: What a download link of each format says.
HANDOUT_KINDS = {"html": "HTML", "pptx": "PowerPoint", "xlsx": "Excel"}


def handout_files(release, unit: str, wave: str, lang: str,
                  formats: tuple[str, ...] = ("html", "pptx", "xlsx"), workshop=None
                  ) -> list[tuple[str, str, bytes]] | None:
    """``(file name, MIME type, bytes)`` of the unit's handout in ``formats``, built from the
    release (with ``workshop``, the unit's recorded workshop state: its worksheets show what
    was recorded, and the workbook's action-plan sheet can be filled in offline and read
    back with ``workbench workshop DATASET import``); None when :mod:`workbench.handouts` is
    not there or refuses the unit."""
    module = _handout_module()
    if module is None:
        return None
    try:
        handout = module.Handout.for_unit(release, unit, wave=wave, lang=lang,
                                          workshop=workshop)
        return [(f"{unit}-{handout.filename(fmt)}", HANDOUT_FORMATS[fmt], handout.render(fmt))
                for fmt in formats]
    except (WorkbenchError, TypeError, AttributeError, KeyError, ValueError):
        # refused, or builders that do not read a release yet: no handout, no traceback
        return None


# ---------------------------------------------------------------------------------------------
# the token of this request


def request_token() -> str | None:
    """The token of the request that opened the page.

    Under Voila: from the query string, which a preheated kernel only learns after
    ``wait_for_request()`` (any earlier value is dropped first). Elsewhere (JupyterLab,
    nbclient): from ``$WORKBENCH_LINK`` (a link or a bare token).
    """
    if _under_voila():
        if os.environ.get("VOILA_PREHEAT") == "True":
            from voila.utils import wait_for_request

            os.environ.pop("QUERY_STRING", None)  # only this request's query string counts
            wait_for_request()
            if "QUERY_STRING" not in os.environ:
                # no request came (Voila sends the query string, empty or not, with every
                # one): the server is stopping. Leave now; a reply to the stopped server
                # would only print a traceback to its log.
                os._exit(0)
        return token_from_query(os.environ.get("QUERY_STRING"))
    link = os.environ.get(LINK_ENV, "").strip()
    if not link:
        return None
    return token_from_query(urlsplit(link).query) if "?" in link else link


# ---------------------------------------------------------------------------------------------
# widgets


class LeaderApp:
    """The leader page's widgets around one :class:`LeaderState` (verified before)."""

    def __init__(self, release, state: LeaderState, defer: bool = False,
                 token: str | None = None, source=None):
        import ipywidgets as widgets

        self.release, self.state = release, state
        # the workshop section (workbench.apps.workshop_section): made when the page is
        # drawn, for the verified grant and token only; empty without a token
        self.workshop, self._token, self._source = widgets.VBox(), token, source
        self._section = None
        self._quiet = False
        layout = widgets.Layout
        self.lang = widgets.ToggleButtons(options=[("Bokmål", "nb"), ("English", "en")],
                                          value=state.lang, style={"button_width": "90px"})
        self.unit = widgets.Dropdown(layout=layout(width="520px", display=""
                                                   if len(state.allowed) > 1 else "none"))
        self.against = widgets.Dropdown(layout=layout(width="460px"))
        for w in (self.unit, self.against):
            w.style.description_width = "initial"
        # few widgets: every one costs the browser a model or three before the page shows
        self.header, self.results, self.details, self.comparison, self.steps = (
            widgets.HTML() for _ in range(5))
        self.handout_button = widgets.Button(layout=layout(width="auto"))
        self.handout_link = widgets.HTML()
        self.handout_button.layout.display = "" if _handouts_available() else "none"
        self.unit.observe(lambda c: self._set(self.state.with_unit(c["new"])), names="value")
        self.against.observe(lambda c: self._set(self.state.with_against(c["new"])),
                             names="value")
        self.lang.observe(lambda c: self._set(self.state.with_lang(c["new"])), names="value")
        self.handout_button.on_click(lambda _b: self._handout())
        controls = widgets.HBox([self.lang, self.unit], layout=layout(align_items="center"))
        controls.add_class("wb-controls")
        # the header and the table first, where the first view shows them; the rest below
        self.widget = widgets.VBox([
            controls, self.header, self.results, self.details, self.against,
            self.comparison, self.steps,
            widgets.HBox([self.handout_button, self.handout_link]), self.workshop,
        ])
        self.widget.add_class("wb-app")
        self.widget.add_class("wb-leader")
        self._labels()
        self._drawn = False
        if defer and _later(DRAW_AFTER, self._draw_once):
            # the page is up at once (what the first view shows); the figure and the
            # comparison are drawn when a browser shows the widgets (or a little later):
            # drawing while the request is answered would keep the kernel from reporting
            # idle, and the page from being sent, for seconds when many leaders come at once
            self.redraw(skeleton=True)
            self.results._view_count = 0
            self.results.observe(lambda change: self._draw_once() if change["new"] else None,
                                 names="_view_count")
        else:
            self._draw_once()

    def _draw_once(self) -> None:
        if not self._drawn:
            self._drawn = True
            self.redraw()

    def _labels(self) -> None:
        """Widget texts and options in the state's language, set without callbacks."""
        state, lang = self.state, self.state.lang
        hierarchy = self.release.hierarchy(state.grant.wave)
        base = hierarchy.level(state.grant.unit)
        self._quiet = True
        try:
            self.against.options = [(_t(f"against_{a}", lang), a) for a in state.comparisons]
            self.against.value = state.against
            self.against.description = _t("against", lang)
            self.unit.options = [("\u00a0\u00a0" * (hierarchy.level(u) - base)
                                  + hierarchy.name(u, lang), u) for u in state.allowed]
            self.unit.value = state.unit
            self.unit.description = _t("unit", lang)
            self.lang.value = lang
            self.lang.tooltips = [_t("language", lang)] * 2  # the buttons name the languages
            self.handout_button.description = _t("handout", lang)
        finally:
            self._quiet = False

    def _set(self, state: LeaderState) -> None:
        if self._quiet:
            return
        if state == self.state:
            # refused (or unchanged): the widgets go back to the verified state, nothing drawn
            self._labels()
            return
        before, self.state = self.state, state
        if state.lang != before.lang:
            self._labels()
        if (state.unit, state.lang) == (before.unit, before.lang):
            self.redraw(only_comparison=True)  # only the comparison changed
        else:
            self.redraw()

    def redraw(self, only_comparison: bool = False, skeleton: bool = False) -> None:
        """Draw the state's unit; every number comes from the release.

        ``skeleton``: the header and the results table (the first view's content) without
        the figure and the comparison, which follow (see :data:`DRAW_AFTER`).
        """
        state, release = self.state, self.release
        if state.unit not in state.allowed:  # cannot happen: with_unit checks; kept as a guard
            return
        lang = state.lang
        if not only_comparison:
            self.handout_link.value = ""
            self.header.value = CSS + LEADER_CSS + header_html(state, release)
            self.results.value = (heading(_t("h_results", lang))
                                  + results_table_html(state, release))
            self.steps.value = steps_html(lang)
            compare = heading(_t("h_compare", lang))
            if skeleton:
                self.details.value = note(_t("wait", lang)) + compare
                self.comparison.value = note(_t("wait", lang))
                return
            self._drawn = True
            self.details.value = figure_section(state, release) + compare
            self._workshop_update()
        self.comparison.value = comparison_section(state, release)

    def _workshop_update(self) -> None:
        """Make the workshop section after the figure is sent (it opens the store), or
        follow the page's language and unit."""
        if self._section is not None:
            self._section.relabel(self.state.lang)
            self._section.show_unit(self.state.unit)
        elif self._token and not _later(0.05, self._workshop_make):
            self._workshop_make()

    def _workshop_make(self) -> None:
        from workbench.apps.workshop_section import WorkshopSection

        if self._section is None:
            self._section = WorkshopSection.for_page(self.release, self.state.grant,
                                                     self._token, self.state.lang, self._source)
            self._section.show_unit(self.state.unit)
            self.workshop.children = [self._section.widget]

    def _recorded(self, unit: str):
        """The granted unit's recorded workshop (read through the link's own access), for
        its handout; None for a subunit, or when nothing can be read."""
        section = self._section
        if section is None or section.ws is None or unit != self.state.grant.unit:
            return None
        try:
            return section.ws.state(unit, self.state.grant.wave)
        except WorkbenchError:
            return None

    def _handout(self) -> None:
        import base64

        state = self.state
        if state.unit not in state.allowed:  # the grant, checked again
            return
        self.handout_link.value = note(_t("handout_wait", state.lang))
        made = handout_files(self.release, state.unit, state.grant.wave, state.lang,
                             workshop=self._recorded(state.unit))
        if not made:
            self.handout_link.value = note(_t("handout_none", state.lang))
            return
        links = []
        for name, mime, data in made:
            uri = f"data:{mime};base64," + base64.b64encode(data).decode("ascii")
            kind = HANDOUT_KINDS[name.rsplit(".", 1)[-1]]
            links.append(f"<a download='{escape(name, quote=True)}' href='{uri}'>"
                         f"{escape(kind)}</a>")
        self.handout_link.value = f"<div class='wb-downloads'>{''.join(links)}</div>"


#: Seconds after which a deferred page draws its figure even if no browser said it shows it.
DRAW_AFTER = 4.0


def _later(seconds: float, task) -> bool:
    """Run ``task`` on the kernel's event loop after ``seconds``; False outside a Jupyter
    kernel (plain Python, tests), where the caller runs it itself."""
    import asyncio

    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    if shell is None or getattr(shell, "kernel", None) is None:
        return False
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return False
    loop.call_later(seconds, task)
    return True


def prepare(source):
    """Read the release and cut what every leader page needs (before any request).

    ``source`` is a :class:`Release`, a release folder (what ``workbench serve`` gives its
    kernels) or a dataset folder (JupyterLab, tests). Nothing here draws: matplotlib is
    imported when the first figure is. Returns the :class:`workbench.release.Release`.
    """
    from workbench.views import published_units, rows

    release = load_release(source)
    for name in LEADER_TABLES:  # read now, not while a leader waits; the others never
        release.tables[name]
    # the last wave's factor table: links are made for it (another wave is cut on demand)
    wave = release.waves[-1]
    rows(release, release.hierarchy(wave).root, wave, "factor", release.config.language)
    for each in release.waves:  # which units a link may name, in every wave
        published_units(release, each)
    import ipywidgets  # noqa: F401  (imported now, not while a leader waits)

    trim_memory()
    return release


def preload(folder) -> None:
    """What every leader kernel needs, done once before the kernels are forked from this
    process (:mod:`workbench.apps._fork`): the release of ``folder`` read and cut
    (:func:`prepare`, then kept for :func:`workbench.apps._common.load_release`), and the
    modules a page imports when it is drawn (IPython's kernel, the figure, the workshop
    section and its store)."""
    import ipykernel.debugger  # noqa: F401  (debugpy: every kernel imports it as it starts)
    import ipykernel.kernelapp  # noqa: F401
    import ipykernel.zmqshell  # noqa: F401
    import IPython.core.debugger  # noqa: F401
    import IPython.core.history  # noqa: F401
    import psutil  # noqa: F401
    import sqlalchemy.dialects.sqlite  # noqa: F401

    import workbench.apps.workshop_section  # noqa: F401
    import workbench.workshop  # noqa: F401
    from workbench.apps import _common

    release = prepare(folder)
    _common.keep(release)
    wave = release.waves[-1]
    root = release.hierarchy(wave).root
    state = LeaderState(grant=Grant(unit=root, wave=wave, expires=0), allowed=(root,),
                        unit=root, lang=release.config.language)
    figure_section(state, release)  # matplotlib, its fonts and the figure's code
    for against in AGAINST:
        comparison_section(replace(state, against=against), release)
    trim_memory()


def _known(release):
    from workbench.views import published_units

    def known(unit: str, wave: str) -> bool:
        return wave in release.waves and unit in published_units(release, wave)
    return known


def _secret_file(source) -> Path:
    if hasattr(source, "path") and getattr(source, "path", None) is not None:
        source = source.path
    return secret_path(source)


def leader_page(source, token: str | None = None, now: float | None = None):
    """The leader page for the link of this request, as an ipywidgets box.

    Parameters
    ----------
    source
        The release folder (``$WORKBENCH_RELEASE`` under ``workbench serve``), a
        :class:`Release`, or a dataset folder. The secret is ``$WORKBENCH_SECRET_FILE``, else
        the dataset's (see :func:`workbench.access.secret_path`).
    token
        The link's token; default: read from the request (see :func:`request_token`).
    now
        The time to check expiry against (tests).

    Returns
    -------
    ipywidgets.VBox
        The unit's page, or a refusal (an HTML widget without numbers).
    """
    import ipywidgets as widgets

    release = prepare(source)
    token = request_token() if token is None else token
    try:
        if not token:
            raise Refused("missing")
        try:
            secret = load_secret(_secret_file(source))
        except WorkbenchError:
            raise Refused("unavailable") from None
        grant = verify(token, secret, now=time.time() if now is None else now,
                       known=_known(release))
        state = LeaderState.start(release, grant)
    except Refused as refused:
        refusal = refusal_html(refused.reason)
        _show_first(refusal)
        box = widgets.VBox([widgets.HTML(refusal)])
        box.add_class("wb-app")
        return box
    _show_first(first_view_html(state, release))
    return LeaderApp(release, state, defer=True, token=token, source=source).widget
