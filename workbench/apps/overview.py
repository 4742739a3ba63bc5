"""Dataset overview app: what the release holds and how much the privacy rules hid.

It reads the release only (never the dataset's rows): answers, invited and the response rate
per wave for the whole organisation, units per level of the hierarchy, the dataset's files as
the release recorded them, how many published cells each reason hid, and the audit's result.
The per-row report of the files is ``workbench validate``'s: the overview points to it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from html import escape
from pathlib import Path

import pandas as pd

from workbench.apps._common import load_release, reason_text
from workbench.i18n import LANGS, number, percent, text

__all__ = ["OverviewState", "wave_table", "structure_table", "files_table", "hidden_table",
           "overview_html", "overview_app"]

_LABELS = {
    "wave": ("Runde", "Wave"),
    "answers": ("Svar", "Answers"),
    "invited": ("Inviterte", "Invited"),
    "rate": ("Svarprosent", "Response rate"),
    "level": ("Nivå", "Level"),
    "units": ("Enheter", "Units"),
    "file": ("Fil", "File"),
    "checksum": ("Sjekksum (SHA-256, starten)", "Checksum (SHA-256, first digits)"),
    "title": ("Oversikt over datasettet", "Dataset overview"),
    "language": ("Språk", "Language"),
    "kind": ("Type enhet", "Kind of unit"),
    "table": ("Tabell", "Table"),
    "published": ("Publisert", "Published"),
    "h_waves": ("Svar per runde, hele organisasjonen", "Answers per wave, whole organisation"),
    "h_units": ("Hierarkiet", "The hierarchy"),
    "h_files": ("Filene resultatene bygger på", "The files the results come from"),
    "h_hidden": ("Hva personvernreglene skjulte", "What the privacy rules hid"),
    "rows": ("{accepted} svar godtatt{rejected}.", "{accepted} answers accepted{rejected}."),
    "rejected": (", {rejected} avvist", ", {rejected} rejected"),
    "validate": ("Kjør «workbench validate DATASETT» for kontrollen av hver rad.",
                 "Run 'workbench validate DATASET' for the check of every row."),
    "audit_ok": ("Revisjonen fant ingen tall som lar noen regne seg fram til færre enn {min_n} "
                 "personer.",
                 "The audit found no numbers from which anyone can work out fewer than {min_n} "
                 "persons."),
    "audit_bad": ("Revisjonen fant {findings} funn: ikke del disse resultatene.",
                  "The audit found {findings} findings: do not share these results."),
    "policy": ("Minste gruppe: {min_n} personer.", "Smallest group: {min_n} persons."),
    "t_factors": ("Faktorer", "Factors"),
    "t_items": ("Påstander", "Items"),
    "t_groups": ("Bakgrunnsgrupper", "Background groups"),
    "t_extras": ("Tilleggsspørsmål", "Extra questions"),
    "t_rates": ("Svarprosent", "Response rates"),
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


def _t(key: str, lang: str, **fields) -> str:
    return text(_LABELS, key, lang, **fields)


def wave_table(release, lang: str = "nb") -> pd.DataFrame:
    """Answers, invited and response rate per wave for the whole organisation (published)."""
    rows = []
    for wave in release.waves:
        answers, invited = release.size(release.hierarchy(wave).root, wave)
        rows.append({_t("wave", lang): wave,
                     _t("answers", lang): number(answers, lang, 0),
                     _t("invited", lang): number(invited, lang, 0) if invited else "",
                     _t("rate", lang): percent(100 * answers / invited, lang)
                     if invited and answers is not None else ""})
    return pd.DataFrame(rows)


def structure_table(release, lang: str = "nb") -> pd.DataFrame:
    """Units per level of the hierarchy in the last wave, with the commonest kinds of unit."""
    units = release.hierarchy().units
    by_level = units.groupby("level")
    if "kind" in units.columns:
        kinds = by_level["kind"].agg(lambda k: ", ".join(k.dropna().value_counts().index[:3]))
    else:
        kinds = by_level["unit_id"].agg(lambda _: "")
    return pd.DataFrame({_t("level", lang): kinds.index, _t("kind", lang): kinds.values,
                         _t("units", lang): by_level.size().values})


def files_table(release, lang: str = "nb") -> pd.DataFrame:
    """The dataset's files the release was built from, with the start of their checksums."""
    checksums = release.manifest.get("checksums", {})
    return pd.DataFrame({_t("file", lang): list(checksums),
                         _t("checksum", lang): [str(v)[:12] for v in checksums.values()]})


def hidden_table(release, lang: str = "nb") -> pd.DataFrame:
    """Published and hidden cells per table and reason (the release's own count)."""
    hidden = release.manifest.get("hidden", {})
    reasons = [r for r in ("min_n", "complement", "no_answers", "background_level")
               if any(r in counts for counts in hidden.values())]
    min_n = release.policy.min_n
    rows = []
    for table, counts in hidden.items():
        name = _t(f"t_{table}", lang) if f"t_{table}" in _LABELS else table
        row = {_t("table", lang): name,
               _t("published", lang): number(counts.get("published", 0), lang, 0)}
        for reason in reasons:
            row[reason_text(reason, lang, min_n)] = number(counts.get(reason, 0), lang, 0)
        rows.append(row)
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class OverviewState:
    """Everything the overview shows, chosen by the user: only the language for now."""

    dataset: str
    lang: str = "nb"

    def with_lang(self, lang) -> "OverviewState":
        if not isinstance(lang, str) or lang not in LANGS:
            return self
        return replace(self, lang=lang)


def overview_html(state: OverviewState, release) -> str:
    """The whole overview as HTML, in ``state.lang``."""
    lang = state.lang

    def table(frame: pd.DataFrame) -> str:
        return frame.to_html(index=False, classes="wb-table", border=0, escape=True)

    manifest = release.manifest
    rows = manifest.get("rows", {})
    rejected = int(rows.get("rejected", 0) or 0)
    counted = _t("rows", lang, accepted=number(rows.get("accepted", 0), lang, 0),
                 rejected=_t("rejected", lang, rejected=number(rejected, lang, 0))
                 if rejected else "")
    audit = manifest.get("audit", {})
    min_n = release.policy.min_n
    verdict = (_t("audit_ok", lang, min_n=min_n) if audit.get("ok")
               else _t("audit_bad", lang, findings=audit.get("findings", "?")))
    parts = [_CSS, "<div class='wb-overview'>", f"<h2>{escape(release.name(lang))}</h2>",
             f"<p class='wb-sub'>{escape(release.instrument.name(lang))}</p>",
             f"<h3>{escape(_t('h_waves', lang))}</h3>", table(wave_table(release, lang)),
             f"<h3>{escape(_t('h_units', lang))}</h3>", table(structure_table(release, lang)),
             f"<h3>{escape(_t('h_files', lang))}</h3>", table(files_table(release, lang)),
             f"<p>{escape(counted)} {escape(_t('validate', lang))}</p>",
             f"<h3>{escape(_t('h_hidden', lang))}</h3>", table(hidden_table(release, lang)),
             f"<p>{escape(_t('policy', lang, min_n=min_n))} {escape(verdict)}</p>",
             "</div>"]
    return "\n".join(parts)


def overview_app(source: str | Path, lang: str | None = None):
    """The overview of a release (or a release or dataset folder) as an ipywidgets box: a
    language toggle above the tables."""
    import ipywidgets as widgets

    release = load_release(source)
    lang = lang if lang in LANGS else release.config.language
    state = {"value": OverviewState(str(getattr(release, "path", "") or source), lang)}
    toggle = widgets.ToggleButtons(options=[("Bokmål", "nb"), ("English", "en")], value=lang,
                                   description=_t("language", lang))
    body = widgets.HTML(overview_html(state["value"], release))

    def on_lang(change):
        state["value"] = state["value"].with_lang(change["new"])
        toggle.description = _t("language", state["value"].lang)
        body.value = overview_html(state["value"], release)

    toggle.observe(on_lang, names="value")
    return widgets.VBox([toggle, body])
