"""The workshop section of the leader page: what the unit decided, kept in the workshop store.

A leader records the meeting's analysis cross (per factor: votes "pleased" and "must
improve", with reasons), chooses 1-3 factors, writes the future picture, keeps the action plan
(each measure placed in the priority matrix, drawn as a 2x2 grid) and the parking lot. At the
next wave the section shows last wave's measures with their status beside the factor's
published change (:func:`workbench.followup.followup`), and the leader updates the status.

Security: the unit and wave written are the verified grant's (``grant.unit``,
``grant.wave``), held in the kernel; no widget carries them. Every write goes through
:class:`workbench.workshop.Workshop` with :meth:`Access.leader` built from the verified grant
and token, which checks each record's unit and wave again (``also``: the unit's
predecessor(s) in the previous wave, for the follow-up's statuses). Which record an editor
changes (an action's or an issue's id) and the version it was read at are kept in the kernel
too: a browser can pick only among the unit's own records, and only by the options offered.

Every save says so ("Lagret 14:03"); a save based on an old version is refused by the store
(:class:`Conflict`) and the section shows the later saver who saved when, and loads the stored
record into the form: nothing is lost silently. Field problems (:class:`InvalidRecord`) and
refusals (:class:`Forbidden`, e.g. an expired link) are shown in the page's language.

The section shows only the unit's own records and published numbers (the follow-up's means
and findings come from the release), so the anonymity rules are untouched.

Where the store is: ``$WORKBENCH_DB`` (``workbench serve`` sets it to the dataset's store for
its kernels, unless the user set one), else a dataset folder's
``DATASET/.workbench/workshop.sqlite`` (JupyterLab, tests). A kernel that has neither (a bare
release folder) shows that the workshop cannot be recorded here; the page works as before.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import replace
from html import escape
from typing import Any, Callable

from workbench.apps._common import heading, html_table, note, workshop_store
from workbench.i18n import DASH, LANGS, number, text
from workbench.words import CODE_WORDS

__all__ = ["TEXTS", "store_for", "matrix_html", "WorkshopSection"]

#: The store a leader page writes to (one home: :func:`workbench.apps._common.workshop_store`).
store_for = workshop_store

TEXTS = {
    "h_workshop": ("Arbeidsmøtet: det dere har bestemt", "The workshop: what you decided"),
    "intro": ("Det du skriver her, lagres for {unit} i runde {wave}. Det kan leses av alle som "
              "har lenken til denne siden og av analytikeren. Skriv ikke navn på kolleger eller "
              "opplysninger om helse og personlige forhold.",
              "What you write here is kept for {unit} in wave {wave}. Everyone who has the link "
              "to this page and the analyst can read it. Do not write colleagues' names or "
              "anything about health or personal matters."),
    "other_unit": ("Du ser nå resultatene for {shown}. Arbeidsmøtet nedenfor gjelder {unit}, "
                   "enheten lenken er laget for.",
                   "You are looking at the results of {shown}. The workshop below is kept for "
                   "{unit}, the unit the link was made for."),
    "no_store": ("Arbeidsmøtet kan ikke registreres her: siden har ikke tilgang til noe "
                 "lager for det. Bruk utdelingsarket, eller be analytikeren starte siden fra "
                 "datasettet.",
                 "The workshop cannot be recorded here: the page has no store to keep it in. "
                 "Use the handout, or ask the analyst to serve the page from the dataset."),
    "h_cross": ("1. Analysekrysset", "1. The analysis cross"),
    "cross_hint": ("Velg en faktor, skriv inn hvor mange som stemte «fornøyd» og «må "
                   "forbedres», og hvorfor. Tabellen viser alt som er lagret.",
                   "Choose a factor, enter how many voted 'pleased' and 'must improve', and "
                   "why. The table shows everything saved."),
    "factor": ("Faktor", "Factor"),
    "pleased": ("Fornøyd", "Pleased"),
    "improve": ("Må forbedres", "Must improve"),
    "pleased_reasons": ("Hvorfor fornøyd", "Why pleased"),
    "improve_reasons": ("Hvorfor forbedre", "Why improve"),
    "no_votes": ("Ingen stemmer er lagret ennå.", "No votes are saved yet."),
    "h_choice": ("2. Faktorene dere vil jobbe med", "2. The factors you will work on"),
    "choice_hint": ("Velg én til tre faktorer, den viktigste først.",
                    "Choose one to three factors, the most important first."),
    "choice_n": ("Prioritet {n}", "Priority {n}"),
    "none": ("(ingen)", "(none)"),
    "h_picture": ("3. Framtidsbildet", "3. The future picture"),
    "picture_hint": ("Hva gjør medarbeiderne, lederen og organisasjonen når dere har lykkes? "
                     "Skriv i presens.",
                     "What do the employees, the leader and the organisation do when you have "
                     "succeeded? Write in the present tense."),
    "employees": ("Medarbeiderne", "The employees"),
    "leader": ("Lederen", "The leader"),
    "organisation": ("Organisasjonen", "The organisation"),
    "h_plan": ("4. Handlingsplanen", "4. The action plan"),
    "plan_hint": ("Velg et tiltak i lista for å endre det, eller «nytt tiltak». Plasser hvert "
                  "tiltak etter effekt og gjennomførbarhet.",
                  "Pick a measure in the list to change it, or 'new measure'. Place each "
                  "measure by impact and feasibility."),
    "pick_action": ("Tiltak å endre", "Measure to edit"),
    "new_action": ("(nytt tiltak)", "(new measure)"),
    "area": ("Område", "Area"),
    "measure": ("Tiltak", "Measure"),
    "goal": ("Mål", "Goal"),
    "responsible": ("Ansvarlig", "Responsible"),
    "deadline": ("Frist", "Deadline"),
    "deadline_ph": ("f.eks. 2026-05-31", "e.g. 2026-05-31"),
    "status": ("Status", "Status"),
    "impact": ("Effekt", "Impact"),
    "feasibility": ("Gjennomførbarhet", "Feasibility"),
    "placed": ("Plassering", "Place"),
    "no": ("Nr.", "No."),
    "no_actions": ("Ingen tiltak er lagret ennå.", "No measures are saved yet."),
    "h_matrix": ("5. Prioriteringsmatrisen", "5. The priority matrix"),
    "matrix_large": ("Stor effekt", "Large impact"),
    "matrix_small": ("Liten effekt", "Small impact"),
    "matrix_easy": ("Lett å gjennomføre", "Easy to carry out"),
    "matrix_hard": ("Vanskelig å gjennomføre", "Hard to carry out"),
    "unplaced": ("Ikke plassert ennå: {measures}", "Not placed yet: {measures}"),
    "h_parking": ("6. Parkeringsplassen", "6. The parking lot"),
    "parking_hint": ("Saker enheten ikke kan løse selv: hvem tar dem videre, til hvem, og hva "
                     "ble svaret.",
                     "Issues the unit cannot solve itself: who passes them on, to whom, and "
                     "what the answer was."),
    "pick_parking": ("Sak å endre", "Issue to edit"),
    "new_parking": ("(ny sak)", "(new issue)"),
    "issue": ("Sak", "Issue"),
    "passed_by": ("Tas videre av", "Passed on by"),
    "passed_to": ("Til", "To"),
    "answer": ("Svar", "Answer"),
    "no_parking": ("Ingen saker er parkert ennå.", "No issues are parked yet."),
    "h_followup": ("Oppfølging: tiltakene fra runde {wave}",
                   "Follow-up: the measures of wave {wave}"),
    "followup_hint": ("Har dere gjort det dere bestemte, og har det virket? Tallene er de "
                      "publiserte resultatene for faktoren i de to rundene.",
                      "Have you done what you decided, and has it worked? The numbers are the "
                      "published results for the factor in the two waves."),
    "change": ("Endring", "Change"),
    "verdict": ("Vurdering", "Verdict"),
    "pick_followup": ("Tiltak", "Measure"),
    "new_status": ("Ny status", "New status"),
    "save": ("Lagre", "Save"),
    "delete": ("Slett", "Delete"),
    "save_status": ("Lagre status", "Save status"),
    "saved": ("Lagret {at}.", "Saved {at}."),
    "deleted": ("Slettet {at}.", "Deleted {at}."),
    "conflict": ("Noen andre lagret dette i mellomtiden ({by}, {at}). Det de lagret, vises nå; "
                 "gjør endringen din på nytt oppå det.",
                 "Someone else saved this in the meantime ({by}, {at}). What they saved is "
                 "shown now; make your change again on top of it."),
    "invalid": ("Ikke lagret. Rett opp dette:", "Not saved. Please correct this:"),
    "refused": ("Ikke lagret: {why}", "Not saved: {why}"),
    "failed": ("Ikke lagret: lageret svarer ikke nå ({why}). Prøv igjen om litt.",
               "Not saved: the store does not answer now ({why}). Try again in a moment."),
    "by_link": ("via en lenke", "through a link"),
    "by_this_link": ("via denne lenken, i en annen nettleser eller fane",
                     "through this link, in another browser or tab"),
    "by_analyst": ("analytikeren", "the analyst"),
}

#: The store's codes in words (:data:`workbench.words.CODE_WORDS`) and the priority
#: matrix's quadrants as the section heads them.
WORDS = {
    **CODE_WORDS,
    "quick_win": ("Raske gevinster", "Quick wins"), "consider": ("Vurder", "Consider"),
    "drop": ("Dropp", "Drop"),
}

#: A finding of the comparison with the previous wave, in a word (the follow-up's change).
FINDING_WORDS = {
    "higher": ("høyere", "higher"), "lower": ("lavere", "lower"),
    "small": ("liten endring", "small change"), "similar": ("omtrent likt", "about the same"),
    "unclear": ("kan ikke avgjøres", "cannot tell"), "suppressed": ("skjult", "hidden"),
}

# the field names of a record as the form labels them (for InvalidRecord's messages)
_FIELDS = {"factors": ("Valgte faktorer", "Chosen factors"), "wave": ("Runde", "Wave"),
           "unit_id": ("Enhet", "Unit"), "action_id": ("Tiltak", "Measure"),
           "version": ("Versjon", "Version")}

#: Extra styles of the section (the page's CSS is in the header widget already).
SECTION_CSS = """<style>
.wb-workshop {margin-top: 1.2em; border-top: 3px solid #3D6A8E; padding-top: 0.4em}
.wb-workshop .wb-saved {color: #1d6b2f; font-weight: bold; margin: 0.2em 0 0.6em}
.wb-workshop .wb-problem, .wb-workshop .wb-conflict {padding: 0.4em 0.8em; margin: 0.3em 0 0.6em;
  max-width: 60em}
.wb-workshop .wb-problem {border-left: 5px solid #b3261e; background: #fdf0ef}
.wb-workshop .wb-conflict {border-left: 5px solid #b86e00; background: #fff6e5}
.wb-workshop .wb-problem ul {margin: 0.2em 0}
.wb-workshop .wb-other {border-left: 5px solid #3D6A8E; background: #F3F6F9;
  padding: 0.4em 0.8em; max-width: 60em}
.wb-matrix {display: grid; grid-template-columns: 9em minmax(14em, 26em) minmax(14em, 26em);
  gap: 4px; margin: 0.4em 0 0.8em; font-size: 0.95em}
.wb-matrix > div {padding: 0.4em 0.6em}
.wb-matrix .wb-axis {font-weight: bold; align-self: center}
.wb-matrix .wb-quad {min-height: 5.5em; border: 1px solid #bbb}
.wb-matrix .wb-quad b {display: block; margin-bottom: 0.2em}
.wb-matrix .wb-quad ul {margin: 0; padding-left: 1.2em}
.wb-matrix .wb-quick_win {background: #e3f1e0} .wb-matrix .wb-consider {background: #fdf5d8}
.wb-matrix .wb-drop {background: #eeeeee}
.wb-workshop .widget-textarea textarea, .wb-workshop .widget-text input {font-size: 15px;
  font-family: inherit}
.wb-workshop .widget-button {min-width: 8em; margin: 0.3em 0.6em 0.2em 0}
.wb-workshop .widget-inline-hbox .widget-label {padding-right: 0.5em}
.wb-workshop .wb-ws-buttons {margin-left: 186px}
.wb-ws-followup td:nth-child(4), .wb-ws-actions td:nth-child(7) {white-space: nowrap}
.wb-workshop .widget-label {font-size: 15px}
</style>"""


def _t(key: str, lang: str, **fields) -> str:
    return text(TEXTS, key, lang, **fields)


def _word(code: str | None, lang: str) -> str:
    if not code:
        return DASH
    pair = WORDS.get(code) or FINDING_WORDS.get(code)
    return pair[lang == "en"] if pair else str(code)


def _field(name: str, lang: str) -> str:
    pair = _FIELDS.get(name) or TEXTS.get(name)
    return pair[lang == "en"] if pair else name


def _clock(stamp: str, now: _dt.datetime | None = None) -> str:
    """A store's UTC time stamp as local ``14:03`` (today) or ``1.12. 14:03``."""
    try:
        when = _dt.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ")
    except (TypeError, ValueError):
        return str(stamp or "")
    when = when.replace(tzinfo=_dt.timezone.utc).astimezone()
    now = now or _dt.datetime.now().astimezone()
    if when.date() == now.date():
        return when.strftime("%H:%M")
    return f"{when.day}.{when.month}. {when.strftime('%H:%M')}"


def _who(label: str, lang: str) -> str:
    """Who saved, as a later saver may read it: a link (its fingerprint) or the analyst."""
    via, _, rest = str(label).partition(" ")
    if via == "link":
        return f"{_t('by_link', lang)} {rest.split(' ')[0]}".strip()
    if via == "analyst":
        return _t("by_analyst", lang)
    return str(label)


def matrix_html(actions, lang: str) -> str:
    """The 2x2 priority matrix: impact (rows) x feasibility (columns), each measure in its
    quadrant with its number in the action plan; unplaced measures listed below."""
    from workbench.workshop import QUADRANTS

    cells: dict[tuple[str, str], list[str]] = {key: [] for key in QUADRANTS}
    unplaced = []
    for number_, action in enumerate(actions, start=1):
        shown = f"{number_}. {action.measure}"
        if action.quadrant is None:
            unplaced.append(shown)
        else:
            cells[(action.impact, action.feasibility)].append(shown)
    parts = ["<div></div>", f"<div class='wb-axis'>{escape(_t('matrix_easy', lang))}</div>",
             f"<div class='wb-axis'>{escape(_t('matrix_hard', lang))}</div>"]
    for impact in ("large", "small"):
        parts.append(f"<div class='wb-axis'>{escape(_t('matrix_' + impact, lang))}</div>")
        for feasibility in ("easy", "hard"):
            quadrant = QUADRANTS[(impact, feasibility)]
            items = "".join(f"<li>{escape(m)}</li>" for m in cells[(impact, feasibility)])
            parts.append(f"<div class='wb-quad wb-{quadrant}' data-quadrant='{quadrant}'>"
                         f"<b>{escape(_word(quadrant, lang))}</b>"
                         f"{'<ul>' + items + '</ul>' if items else ''}</div>")
    out = heading(_t("h_matrix", lang), 4) + f"<div class='wb-matrix'>{''.join(parts)}</div>"
    if unplaced:
        out += note(_t("unplaced", lang, measures="; ".join(unplaced)))
    return out


class WorkshopSection:
    """The workshop section for the verified grant's unit and wave.

    Parameters
    ----------
    release
        The release (factors, unit names, the follow-up's published numbers).
    grant
        The verified :class:`workbench.access.Grant`: its unit and wave are the only ones
        written (and, at follow-up, their predecessors in the previous wave).
    token
        The link's token (the change log keeps a fingerprint of it, never the token).
    store
        An open :class:`workbench.workshop.Store`, or None: the section then says the
        workshop cannot be recorded here.
    lang
        ``nb`` or ``en``; :meth:`relabel` changes it.
    """

    def __init__(self, release, grant, token: str, store=None, lang: str = "nb"):
        import ipywidgets as widgets

        self.release = release
        self.unit, self.wave = str(grant.unit), str(grant.wave)  # never from a widget
        self.lang = lang if lang in LANGS else "nb"
        self.store = store
        self.ws = None
        self._quiet = False
        self._shown_unit = self.unit
        self.factors = tuple(f.id for f in release.instrument.factors)
        self.intro = widgets.HTML()
        self.other = widgets.HTML()
        self.widget = widgets.VBox([self.intro, self.other])
        self.widget.add_class("wb-workshop")
        if store is None:
            self._draw_intro()
            return
        from workbench.workshop import Access, Workshop

        self.before, self.predecessors = self._previous()
        also = [(p, self.before) for p in self.predecessors]
        self.ws = Workshop(store, Access.leader(grant, token, also=also), release)
        self._state = self.store.state(self.unit, self.wave)  # the grant was verified
        self._votes_read: dict[str, int] = {}
        self._read: dict[str, int] = {"choice": 0, "picture": 0}
        self._action: tuple[str, int] = ("", 0)  # (id, version) in the action editor
        self._parking: tuple[str, int] = ("", 0)
        self._previous_actions: dict[str, Any] = {}
        self._followup_read: dict[str, int] = {}
        self._build(widgets)
        self._draw_intro()
        self._refresh()
        self._load_all()

    @classmethod
    def for_page(cls, release, grant, token: str, lang: str = "nb", source=None
                 ) -> "WorkshopSection":
        """The section of a leader page: opens the store (:func:`store_for`) now; a store
        that fails to answer gives the section without a store (the page works on)."""
        from workbench.errors import WorkbenchError

        store = store_for(source)
        try:
            return cls(release, grant, token, store, lang)
        except WorkbenchError:
            if store is not None:
                store.close()
            return cls(release, grant, token, None, lang)

    # -- widgets -----------------------------------------------------------------------------

    def _build(self, widgets) -> None:
        layout = widgets.Layout
        wide, narrow = "720px", "300px"

        def field(kind, width=wide, **kw):
            w = kind(layout=layout(width=width), **kw)
            w.style.description_width = "170px"
            return w

        def area(rows=2):
            return field(widgets.Textarea, rows=rows)

        def button(handler: Callable[[], None]):
            b = widgets.Button(button_style="primary", layout=layout(width="auto"))
            b.on_click(lambda _b: handler())
            return b

        def status():
            return widgets.HTML()

        # follow-up (the previous wave's measures)
        self.followup_head = widgets.HTML()
        self.followup_pick = field(widgets.Dropdown)
        self.followup_status = field(widgets.Dropdown, width="420px")
        self.followup_save = button(self.save_followup)
        self.followup_msg = status()
        self.followup_box = widgets.VBox([
            self.followup_head, self.followup_pick,
            widgets.HBox([self.followup_status, self.followup_save]), self.followup_msg])
        self.followup_box.layout.display = "none"
        self.followup_pick.observe(lambda c: self._pick_followup(c["new"]), names="value")

        # the analysis cross
        self.cross_head = widgets.HTML()
        self.cross_factor = field(widgets.Dropdown, width="520px")
        self.pleased = field(widgets.BoundedIntText, width=narrow, min=0, max=100_000)
        self.improve = field(widgets.BoundedIntText, width=narrow, min=0, max=100_000)
        self.pleased_reasons, self.improve_reasons = area(), area()
        self.cross_save = button(self.save_votes)
        self.cross_msg = status()
        self.cross_table = widgets.HTML()
        self.cross_factor.observe(lambda c: self._pick_factor(c["new"]), names="value")

        # the chosen factors
        self.choice_head = widgets.HTML()
        self.chosen = [field(widgets.Dropdown, width="520px") for _ in range(3)]
        self.choice_save = button(self.save_choice)
        self.choice_msg = status()

        # the future picture
        self.picture_head = widgets.HTML()
        self.picture = {part: area(3) for part in ("employees", "leader", "organisation")}
        self.picture_save = button(self.save_picture)
        self.picture_msg = status()

        # the action plan and the matrix
        self.plan_head = widgets.HTML()
        self.plan_table = widgets.HTML()
        self.action_pick = field(widgets.Dropdown)
        self.action_factor = field(widgets.Dropdown, width="520px")
        self.action_area = field(widgets.Text)
        self.action_measure = field(widgets.Text)
        self.action_goal = area()
        self.action_responsible = field(widgets.Text)
        self.action_deadline = field(widgets.Text, width="320px")
        self.action_status = field(widgets.Dropdown, width="320px")
        self.action_impact = field(widgets.Dropdown, width="320px")
        self.action_feasibility = field(widgets.Dropdown, width="320px")
        self.action_save = button(self.save_action)
        self.action_delete = widgets.Button(button_style="", layout=layout(width="auto"))
        self.action_delete.on_click(lambda _b: self.delete_action())
        self.action_msg = status()
        self.matrix = widgets.HTML()
        self.action_pick.observe(lambda c: self._pick_action(c["new"]), names="value")

        # the parking lot
        self.parking_head = widgets.HTML()
        self.parking_table = widgets.HTML()
        self.parking_pick = field(widgets.Dropdown)
        self.parking_issue = area()
        self.parking_by = field(widgets.Text)
        self.parking_to = field(widgets.Text)
        self.parking_answer = area()
        self.parking_save = button(self.save_parking)
        self.parking_delete = widgets.Button(layout=layout(width="auto"))
        self.parking_delete.on_click(lambda _b: self.delete_parking())
        self.parking_msg = status()
        self.parking_pick.observe(lambda c: self._pick_parking(c["new"]), names="value")

        # class names that say what each widget is (styles, and tests in a real browser)
        for name, w in (("votes-factor", self.cross_factor), ("pleased", self.pleased),
                        ("improve", self.improve), ("pleased-reasons", self.pleased_reasons),
                        ("improve-reasons", self.improve_reasons),
                        ("save-votes", self.cross_save), ("msg-votes", self.cross_msg),
                        ("votes", self.cross_table), ("save-choice", self.choice_save),
                        ("msg-choice", self.choice_msg), ("save-picture", self.picture_save),
                        ("msg-picture", self.picture_msg), ("actions", self.plan_table),
                        ("action-pick", self.action_pick),
                        ("action-factor", self.action_factor), ("area", self.action_area),
                        ("measure", self.action_measure), ("goal", self.action_goal),
                        ("responsible", self.action_responsible),
                        ("deadline", self.action_deadline), ("status", self.action_status),
                        ("impact", self.action_impact),
                        ("feasibility", self.action_feasibility),
                        ("save-action", self.action_save), ("delete-action", self.action_delete),
                        ("msg-action", self.action_msg), ("matrix", self.matrix),
                        ("parking", self.parking_table), ("parking-pick", self.parking_pick),
                        ("issue", self.parking_issue), ("passed-by", self.parking_by),
                        ("passed-to", self.parking_to), ("answer", self.parking_answer),
                        ("save-parking", self.parking_save),
                        ("delete-parking", self.parking_delete),
                        ("msg-parking", self.parking_msg), ("followup", self.followup_box),
                        ("followup-pick", self.followup_pick),
                        ("followup-status", self.followup_status),
                        ("save-followup", self.followup_save),
                        ("msg-followup", self.followup_msg)):
            w.add_class(f"wb-ws-{name}")
        for i, w in enumerate(self.chosen, 1):
            w.add_class(f"wb-ws-choice-{i}")
        for part, w in self.picture.items():
            w.add_class(f"wb-ws-{part}")

        def row(children):
            box = widgets.HBox(children)
            box.add_class("wb-ws-buttons")
            return box

        self.widget.children = [
            self.intro, self.other, self.followup_box,
            self.cross_head, self.cross_table, self.cross_factor,
            widgets.HBox([self.pleased, self.improve]), self.pleased_reasons, self.improve_reasons,
            row([self.cross_save]), self.cross_msg,
            self.choice_head, *self.chosen, row([self.choice_save]), self.choice_msg,
            self.picture_head, *self.picture.values(), row([self.picture_save]),
            self.picture_msg,
            self.plan_head, self.plan_table, self.action_pick, self.action_factor,
            self.action_area, self.action_measure, self.action_goal, self.action_responsible,
            self.action_deadline, self.action_status, self.action_impact,
            self.action_feasibility, row([self.action_save, self.action_delete]),
            self.action_msg, self.matrix,
            self.parking_head, self.parking_table, self.parking_pick, self.parking_issue,
            self.parking_by, self.parking_to, self.parking_answer,
            row([self.parking_save, self.parking_delete]), self.parking_msg,
        ]
        self._labels()

    def _labels(self) -> None:
        """Descriptions, options and headings in the section's language (no callbacks)."""
        lang = self.lang
        names = {f.id: f.name(lang) for f in self.release.instrument.factors}
        none = [(_t("none", lang), "")]
        factor_options = [(names[f], f) for f in self.factors]
        self._quiet = True
        try:
            self.cross_head.value = (heading(_t("h_cross", lang), 4)
                                     + note(_t("cross_hint", lang)))
            self._relabel(self.cross_factor, factor_options, "factor")
            for w, key in ((self.pleased, "pleased"), (self.improve, "improve"),
                           (self.pleased_reasons, "pleased_reasons"),
                           (self.improve_reasons, "improve_reasons")):
                w.description = _t(key, lang)
            self.choice_head.value = (heading(_t("h_choice", lang), 4)
                                      + note(_t("choice_hint", lang)))
            for i, w in enumerate(self.chosen, start=1):
                self._relabel(w, none + factor_options, None)
                w.description = _t("choice_n", lang, n=i)
            self.picture_head.value = (heading(_t("h_picture", lang), 4)
                                       + note(_t("picture_hint", lang)))
            for part, w in self.picture.items():
                w.description = _t(part, lang)
            self.plan_head.value = (heading(_t("h_plan", lang), 4)
                                    + note(_t("plan_hint", lang)))
            self._relabel(self.action_factor, none + factor_options, "factor")
            for w, key in ((self.action_area, "area"), (self.action_measure, "measure"),
                           (self.action_goal, "goal"),
                           (self.action_responsible, "responsible"),
                           (self.action_deadline, "deadline")):
                w.description = _t(key, lang)
            self.action_deadline.placeholder = _t("deadline_ph", lang)
            from workbench.workshop import FEASIBILITIES, IMPACTS, STATUSES

            self._relabel(self.action_status, [(_word(s, lang), s) for s in STATUSES],
                          "status")
            self._relabel(self.action_impact, none + [(_word(s, lang), s) for s in IMPACTS],
                          "impact")
            self._relabel(self.action_feasibility,
                          none + [(_word(s, lang), s) for s in FEASIBILITIES], "feasibility")
            self._relabel(self.followup_status, [(_word(s, lang), s) for s in STATUSES],
                          "new_status")
            self.followup_pick.description = _t("pick_followup", lang)
            self.parking_head.value = (heading(_t("h_parking", lang), 4)
                                       + note(_t("parking_hint", lang)))
            for w, key in ((self.parking_issue, "issue"), (self.parking_by, "passed_by"),
                           (self.parking_to, "passed_to"), (self.parking_answer, "answer")):
                w.description = _t(key, lang)
            for b, key in ((self.cross_save, "save"), (self.choice_save, "save"),
                           (self.picture_save, "save"), (self.action_save, "save"),
                           (self.parking_save, "save"), (self.action_delete, "delete"),
                           (self.parking_delete, "delete"),
                           (self.followup_save, "save_status")):
                b.description = _t(key, lang)
            self._pick_options()
        finally:
            self._quiet = False

    def _relabel(self, dropdown, options, description: str | None) -> None:
        self._set_options(dropdown, options, dropdown.value)
        if description:
            dropdown.description = _t(description, self.lang)

    def _pick_options(self) -> None:
        """The editors' lists of the unit's own measures and issues (and the follow-up's)."""
        lang = self.lang
        quiet, self._quiet = self._quiet, True
        try:
            actions = [(_t("new_action", lang), "")] + [
                (f"{i}. {a.measure[:70]}", a.id) for i, a in enumerate(self._state.actions, 1)]
            self._set_options(self.action_pick, actions, self._action[0])
            self.action_pick.description = _t("pick_action", lang)
            issues = [(_t("new_parking", lang), "")] + [
                (f"{i}. {p.issue[:70]}", p.id) for i, p in enumerate(self._state.parking, 1)]
            self._set_options(self.parking_pick, issues, self._parking[0])
            self.parking_pick.description = _t("pick_parking", lang)
            rows = [(f"{i}. {a.measure[:70]}", a.id)
                    for i, a in enumerate(self._previous_actions.values(), 1)]
            current = self.followup_pick.value
            self._set_options(self.followup_pick, rows, current if current else
                              (rows[0][1] if rows else None))
        finally:
            self._quiet = quiet

    @staticmethod
    def _set_options(dropdown, options, value) -> None:
        dropdown.options = options
        values = [v for _, v in options]
        if value in values:
            dropdown.value = value
        elif values:
            dropdown.value = values[0]

    # -- what the section shows --------------------------------------------------------------

    def _unit_name(self, unit: str) -> str:
        return self.release.hierarchy(self.wave).name(unit, self.lang)

    def _draw_intro(self) -> None:
        lang = self.lang
        top = SECTION_CSS + heading(_t("h_workshop", lang))
        if self.ws is None:
            self.intro.value = top + f"<p class='wb-other'>{escape(_t('no_store', lang))}</p>"
        else:
            self.intro.value = top + note(_t("intro", lang, unit=self._unit_name(self.unit),
                                            wave=self.wave))
        self.other.value = ""
        if self._shown_unit != self.unit:
            said = _t("other_unit", lang, shown=self._unit_name(self._shown_unit),
                      unit=self._unit_name(self.unit))
            self.other.value = f"<p class='wb-other'>{escape(said)}</p>"

    def relabel(self, lang: str) -> None:
        """Show the section in ``lang`` (nb or en; anything else is ignored)."""
        if lang not in LANGS or lang == self.lang:
            return
        self.lang = lang
        self._draw_intro()
        if self.ws is None:
            return
        self._labels()
        for msg in self._messages():
            msg.value = ""
        self._draw_tables()

    def show_unit(self, unit: str) -> None:
        """The page shows ``unit`` (the grant's or a subunit): say whose workshop this is."""
        if unit != self._shown_unit and isinstance(unit, str):
            self._shown_unit = unit
            self._draw_intro()

    def _messages(self):
        return (self.cross_msg, self.choice_msg, self.picture_msg, self.action_msg,
                self.parking_msg, self.followup_msg)

    def _previous(self) -> tuple[str | None, tuple[str, ...]]:
        """The previous wave and the unit's predecessor(s) in it (none at the first wave)."""
        waves = list(self.release.waves)
        if self.wave not in waves or waves.index(self.wave) == 0:
            return None, ()
        before = waves[waves.index(self.wave) - 1]
        lineage = getattr(self.release, "lineage", None)
        try:
            earlier = lineage().previous(self.unit, self.wave) if callable(lineage) else \
                ((self.unit,) if self.unit in self.release.hierarchy(before) else ())
        except Exception:  # an odd successors table must not break the page
            earlier = ()
        return before, tuple(str(u) for u in earlier)

    def _refresh(self) -> None:
        """Read the unit's records again and redraw the tables (the editors keep theirs)."""
        self._state = self.store.state(self.unit, self.wave)
        self._previous_actions = {}
        if self.before:
            for unit in self.predecessors:
                for action in self.store.actions(wave=self.before, unit=unit):
                    self._previous_actions[action.id] = action
        self._pick_options()
        self._draw_tables()

    def _draw_tables(self) -> None:
        lang, state = self.lang, self._state
        names = {f.id: f.name(lang) for f in self.release.instrument.factors}
        votes = {v.factor: v for v in state.votes}
        if votes:
            rows = [[names.get(f, f), number(v.pleased, lang, 0), number(v.improve, lang, 0),
                     v.pleased_reasons or DASH, v.improve_reasons or DASH]
                    for f in self.factors if (v := votes.get(f))]
            self.cross_table.value = html_table(
                [_t(k, lang) for k in ("factor", "pleased", "improve", "pleased_reasons",
                                       "improve_reasons")], rows, text_columns=(0, 3, 4))
        else:
            self.cross_table.value = note(_t("no_votes", lang))
        if state.actions:
            rows = [[str(i), names.get(a.factor, a.factor or DASH), a.area or DASH, a.measure,
                     a.goal or DASH, a.responsible or DASH, a.deadline or DASH,
                     _word(a.status, lang), _word(a.quadrant, lang)]
                    for i, a in enumerate(state.actions, 1)]
            self.plan_table.value = html_table(
                [_t(k, lang) for k in ("no", "factor", "area", "measure", "goal", "responsible",
                                       "deadline", "status", "placed")], rows,
                text_columns=range(1, 9))
        else:
            self.plan_table.value = note(_t("no_actions", lang))
        self.matrix.value = matrix_html(state.actions, lang)
        if state.parking:
            rows = [[str(i), p.issue, p.passed_by or DASH, p.passed_to or DASH,
                     p.answer or DASH] for i, p in enumerate(state.parking, 1)]
            self.parking_table.value = html_table(
                [_t(k, lang) for k in ("no", "issue", "passed_by", "passed_to", "answer")],
                rows, text_columns=range(1, 5))
        else:
            self.parking_table.value = note(_t("no_parking", lang))
        self._draw_followup()

    def followup_table(self):
        """The follow-up rows (:func:`workbench.followup.followup`): published numbers only."""
        if not self.before or not self._previous_actions:
            return None
        from workbench.errors import WorkbenchError

        lineage = getattr(self.release, "lineage", None)
        try:
            return self.ws.followup(self.release, self.unit, self.wave,
                                    predecessors=lineage() if callable(lineage) else None,
                                    lang=self.lang)
        except WorkbenchError:  # e.g. the link expired while the page was open
            return None

    def _draw_followup(self) -> None:
        from workbench.followup import change_text

        table = self.followup_table()
        if table is None or table.empty:
            self.followup_box.layout.display = "none"
            return
        lang = self.lang
        rows = []
        for i, row in enumerate(table.itertuples(index=False), 1):
            change = (change_text(row.label, row.mean_previous, row.mean,
                                  _word(row.finding, lang), lang) if row.factor else DASH)
            rows.append([str(i), row.measure, row.responsible or DASH, row.deadline or DASH,
                         _word(row.status, lang), change, row.verdict or DASH])
        self.followup_head.value = (
            heading(_t("h_followup", lang, wave=self.before), 4)
            + note(_t("followup_hint", lang))
            + html_table([_t(k, lang) for k in ("no", "measure", "responsible", "deadline",
                                                "status", "change", "verdict")], rows,
                         text_columns=range(1, 7)))
        self.followup_box.layout.display = ""

    # -- loading records into the editors ----------------------------------------------------

    def _load_all(self) -> None:
        self._pick_factor(self.cross_factor.value, force=True)
        self._load_choice(self._state.choice)
        self._load_picture(self._state.picture)
        self._load_action(None)
        self._load_parking(None)
        self._pick_followup(self.followup_pick.value, force=True)

    def _load_votes(self, factor: str, votes) -> None:
        self._votes_read[factor] = votes.version if votes else 0
        self.pleased.value = votes.pleased if votes else 0
        self.improve.value = votes.improve if votes else 0
        self.pleased_reasons.value = votes.pleased_reasons if votes else ""
        self.improve_reasons.value = votes.improve_reasons if votes else ""

    def _pick_factor(self, factor, force: bool = False) -> None:
        if (self._quiet and not force) or factor not in self.factors:
            return
        self._state = self.store.state(self.unit, self.wave)  # the latest, for this factor
        self._load_votes(factor, next((v for v in self._state.votes if v.factor == factor),
                                      None))

    def _load_choice(self, choice) -> None:
        self._read["choice"] = choice.version if choice else 0
        chosen = list(choice.factors) if choice else []
        quiet, self._quiet = self._quiet, True
        try:
            for i, w in enumerate(self.chosen):
                w.value = chosen[i] if i < len(chosen) and chosen[i] in self.factors else ""
        finally:
            self._quiet = quiet

    def _load_picture(self, picture) -> None:
        self._read["picture"] = picture.version if picture else 0
        for part, w in self.picture.items():
            w.value = getattr(picture, part) if picture else ""

    def _load_action(self, action) -> None:
        self._action = (action.id, action.version) if action else ("", 0)
        quiet, self._quiet = self._quiet, True
        try:
            self.action_pick.value = self._action[0]
            self.action_factor.value = (action.factor if action and action.factor
                                        in self.factors else "")
            self.action_area.value = action.area if action else ""
            self.action_measure.value = action.measure if action else ""
            self.action_goal.value = action.goal if action else ""
            self.action_responsible.value = action.responsible if action else ""
            self.action_deadline.value = (action.deadline or "") if action else ""
            self.action_status.value = action.status if action else "planned"
            self.action_impact.value = (action.impact or "") if action else ""
            self.action_feasibility.value = (action.feasibility or "") if action else ""
        finally:
            self._quiet = quiet

    def _pick_action(self, ident) -> None:
        if self._quiet:
            return
        own = {a.id: a for a in self._state.actions}
        if ident == "" or ident in own:  # only the unit's own measures, as listed
            self._load_action(own.get(ident))
            self.action_msg.value = ""

    def _load_parking(self, item) -> None:
        self._parking = (item.id, item.version) if item else ("", 0)
        quiet, self._quiet = self._quiet, True
        try:
            self.parking_pick.value = self._parking[0]
            self.parking_issue.value = item.issue if item else ""
            self.parking_by.value = item.passed_by if item else ""
            self.parking_to.value = item.passed_to if item else ""
            self.parking_answer.value = item.answer if item else ""
        finally:
            self._quiet = quiet

    def _pick_parking(self, ident) -> None:
        if self._quiet:
            return
        own = {p.id: p for p in self._state.parking}
        if ident == "" or ident in own:
            self._load_parking(own.get(ident))
            self.parking_msg.value = ""

    def _pick_followup(self, ident, force: bool = False) -> None:
        if (self._quiet and not force) or ident not in self._previous_actions:
            return
        action = self._previous_actions[ident]
        self._followup_read[ident] = action.version
        quiet, self._quiet = self._quiet, True
        try:
            self.followup_status.value = action.status
        finally:
            self._quiet = quiet

    # -- saving ------------------------------------------------------------------------------

    def _attempt(self, message, call: Callable[[], Any], on_saved: Callable[[Any], None],
                 on_conflict: Callable[[Any], None], done: str = "saved") -> bool:
        """Run one write; say what happened in ``message``. True when written."""
        from workbench.workshop import Conflict, Forbidden, InvalidRecord, StoreError

        lang = self.lang
        try:
            saved = call()
        except Conflict as exc:
            self._refresh()
            on_conflict(exc.current)
            if exc.current is not None and exc.reason == "version":
                by = exc.current.updated_by
                who = (_t("by_this_link", lang) if by == self.ws.access.actor.label[:200]
                       else _who(by, lang))
                said = _t("conflict", lang, by=who, at=_clock(exc.current.updated_at))
            else:
                said = exc.text(lang)
            message.value = f"<div class='wb-conflict' role='alert'>{escape(said)}</div>"
            return False
        except InvalidRecord as exc:
            items = "".join(f"<li>{escape(_field(p.column, lang))}: {escape(p.text(lang))}</li>"
                            for p in exc.problems)
            message.value = (f"<div class='wb-problem' role='alert'>"
                             f"{escape(_t('invalid', lang))}<ul>{items}</ul></div>")
            return False
        except Forbidden as exc:
            message.value = (f"<div class='wb-problem' role='alert'>"
                             f"{escape(_t('refused', lang, why=exc.text(lang)))}</div>")
            return False
        except StoreError as exc:
            message.value = (f"<div class='wb-problem' role='alert'>"
                             f"{escape(_t('failed', lang, why=str(exc)[:200]))}</div>")
            return False
        self._refresh()
        on_saved(saved)
        stamp = getattr(saved, "updated_at", None)
        at = _clock(stamp) if stamp else _dt.datetime.now().strftime("%H:%M")
        message.value = (f"<p class='wb-saved' role='status'>"
                         f"{escape(_t(done, lang, at=at))}</p>")
        return True

    def save_votes(self) -> bool:
        """Save the tally and reasons of the chosen factor (the grant's unit and wave)."""
        from workbench.workshop import Votes

        factor = self.cross_factor.value
        if factor not in self.factors:
            return False
        record = Votes(wave=self.wave, unit_id=self.unit, factor=factor,
                       pleased=self.pleased.value, improve=self.improve.value,
                       pleased_reasons=self.pleased_reasons.value,
                       improve_reasons=self.improve_reasons.value,
                       version=self._votes_read.get(factor, 0))
        return self._attempt(self.cross_msg, lambda: self.ws.save_votes(record),
                             lambda saved: self._load_votes(factor, saved),
                             lambda current: self._load_votes(factor, current))

    def save_choice(self) -> bool:
        """Save the chosen factors, in order of priority."""
        from workbench.workshop import Choice

        chosen = tuple(w.value for w in self.chosen if w.value)
        record = Choice(wave=self.wave, unit_id=self.unit, factors=chosen,
                        version=self._read["choice"])
        return self._attempt(self.choice_msg, lambda: self.ws.save_choice(record),
                             self._load_choice, self._load_choice)

    def save_picture(self) -> bool:
        """Save the future picture."""
        from workbench.workshop import Picture

        record = Picture(wave=self.wave, unit_id=self.unit,
                         **{part: w.value for part, w in self.picture.items()},
                         version=self._read["picture"])
        return self._attempt(self.picture_msg, lambda: self.ws.save_picture(record),
                             self._load_picture, self._load_picture)

    def save_action(self) -> bool:
        """Add the measure in the editor, or save the changes to the one picked."""
        from workbench.workshop import Action

        ident, version = self._action
        record = Action(wave=self.wave, unit_id=self.unit, measure=self.action_measure.value,
                        factor=self.action_factor.value or "", area=self.action_area.value,
                        goal=self.action_goal.value,
                        responsible=self.action_responsible.value,
                        deadline=self.action_deadline.value or None,
                        status=self.action_status.value or "planned",
                        impact=self.action_impact.value or None,
                        feasibility=self.action_feasibility.value or None,
                        id=ident, version=version)
        if ident:  # keep what a file put beside the plan (extra columns)
            kept = next((a for a in self._state.actions if a.id == ident), None)
            if kept is not None:
                record = replace(record, extra=kept.extra)
        # a new measure saved: the form is ready for the next one (the table lists it)
        return self._attempt(self.action_msg, lambda: self.ws.save_action(record),
                             lambda saved: self._load_action(saved if ident else None),
                             self._load_action)

    def delete_action(self) -> bool:
        """Delete the measure picked (the version read must be the stored one)."""
        from workbench.workshop import Action

        ident, version = self._action
        if not ident:
            return False
        record = Action(wave=self.wave, unit_id=self.unit, measure="", id=ident,
                        version=version)
        return self._attempt(self.action_msg, lambda: self.ws.delete_action(record),
                             lambda _none: self._load_action(None), self._load_action,
                             done="deleted")

    def save_parking(self) -> bool:
        """Add the issue in the editor to the parking lot, or save the changes to it."""
        from workbench.workshop import Parking

        ident, version = self._parking
        record = Parking(wave=self.wave, unit_id=self.unit, issue=self.parking_issue.value,
                         passed_by=self.parking_by.value, passed_to=self.parking_to.value,
                         answer=self.parking_answer.value, id=ident, version=version)
        return self._attempt(self.parking_msg, lambda: self.ws.save_parking(record),
                             lambda saved: self._load_parking(saved if ident else None),
                             self._load_parking)

    def delete_parking(self) -> bool:
        """Delete the issue picked."""
        from workbench.workshop import Parking

        ident, version = self._parking
        if not ident:
            return False
        record = Parking(wave=self.wave, unit_id=self.unit, issue="", id=ident,
                         version=version)
        return self._attempt(self.parking_msg, lambda: self.ws.delete_parking(record),
                             lambda _none: self._load_parking(None), self._load_parking,
                             done="deleted")

    def save_followup(self) -> bool:
        """Save the new status of the previous wave's measure picked."""
        ident = self.followup_pick.value
        action = self._previous_actions.get(ident)
        if action is None:
            return False
        record = replace(action, status=self.followup_status.value,
                         version=self._followup_read.get(ident, action.version))

        def reload(current) -> None:
            if current is not None:
                self._pick_followup(current.id, force=True)

        return self._attempt(self.followup_msg, lambda: self.ws.save_action(record), reload,
                             reload)
