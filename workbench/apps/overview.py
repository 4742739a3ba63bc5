"""Dataset overview app: what was loaded, and how every row was accounted for.

It shows whole-organisation totals only (answers, invited and response rate per wave, units
per level, the validation report), never a unit's numbers: those come from the statistics
layer behind the privacy rules.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd

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
}


def _t(key: str, lang: str) -> str:
    nb, en = _LABELS[key]
    return en if lang == "en" else nb


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
        rows.append({_t("wave", lang): wave, _t("answers", lang): n,
                     _t("invited", lang): big_n if big_n else "",
                     _t("rate", lang): f"{100 * n / big_n:.0f} %" if big_n else ""})
    return pd.DataFrame(rows)


def structure_table(survey: Survey, lang: str = "nb") -> pd.DataFrame:
    """Units per level of the hierarchy in the last wave."""
    units = survey.hierarchy().units
    counts = units.groupby("level").size()
    return pd.DataFrame({_t("level", lang): counts.index, _t("units", lang): counts.values})


def report_table(report: Report, lang: str = "nb") -> pd.DataFrame:
    """Rows read, accepted and rejected per file."""
    return pd.DataFrame([{_t(k, lang): getattr(f, k) for k in
                          ("file", "read", "accepted", "rejected")} for f in report.files])


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
        problems = "".join(f"<li>{p.message(lang)}</li>" for p in report.problems
                           if p.severity == "unusable")
        return f"<h2>{_t('title', lang)}</h2><p>{_t('unusable', lang)}</p><ul>{problems}</ul>"
    name = survey.name(lang)
    instrument = survey.instrument.name(lang)
    parts = [f"<h2>{name}</h2>", f"<p>{instrument}</p>",
             wave_table(survey, lang).to_html(index=False, classes="wb-table"),
             structure_table(survey, lang).to_html(index=False, classes="wb-table"),
             report_table(report, lang).to_html(index=False, classes="wb-table")]
    issues = [p for p in report.problems if p.severity != "warning"]
    if issues:
        items = "".join(f"<li>{p.message(lang)}</li>" for p in issues[:20])
        parts.append(f"<ul class='wb-problems'>{items}</ul>")
    return "\n".join(parts)


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
        body.value = _html(state["value"], result.survey, result.report)

    toggle.observe(on_lang, names="value")
    return widgets.VBox([toggle, body])
