"""Dataset overview app: what was loaded, and how every row was accounted for.

It shows whole-organisation totals only (answers, invited and response rate per wave, units
per level, the validation report), never a unit's numbers: those come from the statistics
layer behind the privacy rules.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from html import escape
from pathlib import Path

import pandas as pd

from workbench.i18n import number, percent, text
from workbench.survey import Survey
from workbench.validate import Report, validate_dataset

__all__ = ["OverviewState", "wave_table", "structure_table", "report_table", "overview_app"]

_LABELS = {
    "wave": ("Runde", "Wave"),
    "answers": ("Svar", "Answers"),
    "invited": ("Inviterte", "Invited"),
    "rate": ("Svarprosent", "Response rate"),
    "level": ("Nivå", "Level"),
    "units": ("Enheter", "Units"),
    "file": ("Fil", "File"),
    "read": ("Rader lest", "Rows read"),
    "accepted": ("Godtatt", "Accepted"),
    "rejected": ("Avvist", "Rejected"),
    "title": ("Oversikt over datasettet", "Dataset overview"),
    "language": ("Språk", "Language"),
    "unusable": ("Datasettet kan ikke brukes:", "The dataset cannot be used:"),
    "kind": ("Type enhet", "Kind of unit"),
    "h_waves": ("Svar per runde, hele organisasjonen", "Answers per wave, whole organisation"),
    "h_units": ("Hierarkiet", "The hierarchy"),
    "h_files": ("Kontroll av filene", "Check of the files"),
    "h_problems": ("Problemer som må rettes", "Problems to fix"),
}

_CSS = """<style>
.wb-overview {font-family: 'DejaVu Sans', sans-serif; color: #222; max-width: 900px}
.wb-overview h2 {margin: 0.2em 0} .wb-overview h3 {margin: 1.2em 0 0.4em; font-size: 1.1em}
.wb-overview .wb-sub {color: #555; margin: 0}
.wb-table {border-collapse: collapse; font-size: 0.95em}
.wb-table th, .wb-table td {border: none; border-bottom: 1px solid #ddd; padding: 4px 14px;
  text-align: right} .wb-table th:first-child, .wb-table td:first-child {text-align: left}
.wb-table thead th {border-bottom: 2px solid #555}
</style>"""


def _t(key: str, lang: str) -> str:
    return text(_LABELS, key, lang)


def wave_table(survey: Survey, lang: str = "nb") -> pd.DataFrame:
    """Answers, invited and response rate per wave for the whole organisation."""
    answers = survey.responses.groupby("wave", observed=False).size()
    headcount = survey.headcount
    invited = (headcount.groupby("wave")["invited"].sum() if headcount is not None
               else pd.Series(dtype="int64"))
    rows = []
    for wave in survey.waves:
        n = int(answers.get(wave, 0))
        big_n = int(invited.get(wave, 0)) or None
        rows.append({_t("wave", lang): wave, _t("answers", lang): number(n, lang, 0),
                     _t("invited", lang): number(big_n, lang, 0) if big_n else "",
                     _t("rate", lang): percent(100 * n / big_n, lang) if big_n else ""})
    return pd.DataFrame(rows)


def structure_table(survey: Survey, lang: str = "nb") -> pd.DataFrame:
    """Units per level of the hierarchy in the last wave, with the commonest kind of unit."""
    units = survey.hierarchy().units
    by_level = units.groupby("level")
    kinds = by_level["kind"].agg(lambda k: ", ".join(k.value_counts().index[:3]))
    return pd.DataFrame({_t("level", lang): kinds.index, _t("kind", lang): kinds.values,
                         _t("units", lang): by_level.size().values})


def report_table(report: Report, lang: str = "nb") -> pd.DataFrame:
    """Rows read, accepted and rejected per file."""
    return pd.DataFrame([{_t("file", lang): f.file, **{_t(k, lang): number(getattr(f, k), lang, 0)
                                                      for k in ("read", "accepted", "rejected")}}
                         for f in report.files])


@dataclass(frozen=True)
class OverviewState:
    """Everything the overview shows, chosen by the user: only the language for now."""

    dataset: str
    lang: str = "nb"

    def with_lang(self, lang: str) -> "OverviewState":
        if lang not in ("nb", "en"):
            return self
        return replace(self, lang=lang)


def _html(state: OverviewState, survey: Survey | None, report: Report) -> str:
    lang = state.lang
    if survey is None:
        problems = "".join(f"<li>{escape(p.message(lang))}</li>" for p in report.problems
                           if p.severity == "unusable")
        return f"<h2>{_t('title', lang)}</h2><p>{_t('unusable', lang)}</p><ul>{problems}</ul>"
    name = survey.name(lang)
    instrument = survey.instrument.name(lang)
    def table(frame: pd.DataFrame) -> str:
        return frame.to_html(index=False, classes="wb-table", border=0)

    parts = [_CSS, "<div class='wb-overview'>", f"<h2>{escape(name)}</h2>",
             f"<p class='wb-sub'>{escape(instrument)}</p>",
             f"<h3>{_t('h_waves', lang)}</h3>", table(wave_table(survey, lang)),
             f"<h3>{_t('h_units', lang)}</h3>", table(structure_table(survey, lang)),
             f"<h3>{_t('h_files', lang)}</h3>", table(report_table(report, lang))]
    issues = [p for p in report.problems if p.severity != "warning"]
    if issues:
        items = "".join(f"<li>{escape(p.message(lang))}</li>" for p in issues[:20])
        parts.append(f"<h3>{_t('h_problems', lang)}</h3><ul>{items}</ul>")
    return "\n".join(parts + ["</div>"])


def overview_app(dataset: str | Path, lang: str = "nb"):
    """The overview as an ipywidgets box: a language toggle above the tables."""
    import ipywidgets as widgets

    result = validate_dataset(dataset)
    state = {"value": OverviewState(str(dataset), lang)}
    toggle = widgets.ToggleButtons(options=[("Bokmål", "nb"), ("English", "en")], value=lang,
                                   description=_t("language", lang))
    body = widgets.HTML(_html(state["value"], result.survey, result.report))

    def on_lang(change):
        state["value"] = state["value"].with_lang(change["new"])
        toggle.description = _t("language", state["value"].lang)
        body.value = _html(state["value"], result.survey, result.report)

    toggle.observe(on_lang, names="value")
    return widgets.VBox([toggle, body])
