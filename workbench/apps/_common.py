"""What the explorer, the leader page and the handouts page share: the release they read, the
texts of the privacy reasons, comparisons as HTML, and small HTML pieces.

Every app reads one :class:`workbench.release.Release` and cuts it with :mod:`workbench.views`;
nothing here sees respondent rows. Under ``workbench serve`` the kernels get the release
folder (``$WORKBENCH_RELEASE``) and only read it (:func:`load_release`); in JupyterLab or a
test a dataset folder works too (its release is built or reused, :func:`open_release`).
"""

from __future__ import annotations

import base64
import io
import os
from html import escape
from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd

from workbench.errors import WorkbenchError
from workbench.i18n import DASH, number, percent, text

__all__ = ["RELEASE_ENV", "DATASET_ENV", "app_source", "load_release", "trim_memory", "CSS",
           "workshop_store",
           "reason_text", "cell_mean", "figure_svg", "figure_html", "html_table",
           "download_links", "csv_bytes", "note", "heading", "unit_path", "size_text",
           "unavailable_comparison", "comparison_tables", "comparison_html", "p_text",
           "background_note", "interval_text", "comparison_reading_html", "agreement_text",
           "share_interval", "distribution_note"]

#: The release folder a server's kernels read (set by ``workbench serve``).
RELEASE_ENV = "WORKBENCH_RELEASE"
#: A dataset folder (JupyterLab, nbclient); its release is built or reused.
DATASET_ENV = "WORKBENCH_DATASET"


def app_source(default: str | Path = "../data_samples/university") -> str:
    """What a notebook shows: ``$WORKBENCH_RELEASE``, else ``$WORKBENCH_DATASET``, else
    ``default`` (a dataset or a release folder)."""
    return os.environ.get(RELEASE_ENV) or os.environ.get(DATASET_ENV) or str(default)


#: A release read before the kernels were forked (:func:`keep`): its folder and the release.
_KEPT: tuple[Path, object] | None = None


def keep(release) -> None:
    """From now on, :func:`load_release` of ``release``'s folder gives ``release`` itself
    (what the leader kernels' zygote has read before forking them, see
    :mod:`workbench.apps._fork`)."""
    global _KEPT
    _KEPT = (Path(release.path).resolve(), release)


def load_release(source):
    """The release behind an app: a :class:`Release` as it is, a release folder (its tables
    read as they are first used), or a dataset folder's release (built, or reused when
    fresh)."""
    from workbench.release import Release, is_release, open_release, read_release

    if isinstance(source, Release):
        return source
    if _KEPT is not None and Path(source).resolve() == _KEPT[0]:
        return _KEPT[1]
    if is_release(source):
        return read_release(source, lazy=True)
    release = open_release(source)
    return read_release(release.path, lazy=True) if release.path is not None else release


def workshop_store(source=None):
    """The workshop store a page reads and writes, or None when none is reachable.

    ``$WORKBENCH_DB`` when set (``workbench serve`` sets it for its kernels), else the store
    of the dataset folder ``source`` (made when missing), else, for a dataset's own release
    (``DATASET/.workbench/release``, what :func:`load_release` gives for a dataset), that
    dataset's store when it exists (never made: a page that only reads a release leaves no
    store behind). A release folder elsewhere has no store: its kernels are never told
    where the dataset is. A release keeps its store open, so a page's views do not open it
    again and again.
    """
    from workbench.errors import WorkbenchError
    from workbench.workshop import DB_ENV, STORE_PATH, open_store

    def opened():
        url = os.environ.get(DB_ENV, "").strip()
        folder = getattr(source, "path", source)
        dataset = None
        if folder is not None:
            folder = Path(folder)
            if (folder / "survey.yaml").is_file():
                dataset = folder
            elif folder.parent.name == STORE_PATH.parent.name and \
                    (folder.parent.parent / STORE_PATH).is_file():
                dataset = folder.parent.parent
        if not url and dataset is None:
            return None
        try:
            return open_store(dataset, url=url or None)
        except WorkbenchError:
            return None

    if hasattr(source, "memo"):
        return source.memo(("workshop-store", os.environ.get(DB_ENV, "")), opened)
    return opened()


def trim_memory() -> None:
    """Give freed heap memory back to the system (glibc keeps it otherwise): a kernel lives
    long, and the Parquet reader's buffers are freed once the tables are in place."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


#: Neutral, large and high-contrast: a projector washes out light greys and small type.
CSS = """<style>
.wb-app {font-family: 'DejaVu Sans', 'Liberation Sans', Arial, sans-serif; color: #1d1d1d;
  font-size: 16px; line-height: 1.45; max-width: 1100px}
.wb-app h2 {font-size: 1.55em; margin: 0.3em 0 0.2em} .wb-app h3 {font-size: 1.2em;
  margin: 1.1em 0 0.4em} .wb-app h4 {font-size: 1.05em; margin: 0.9em 0 0.3em}
.wb-app p {margin: 0.3em 0 0.6em; max-width: 60em}
.wb-app .wb-sub {color: #444; margin-top: 0}
.wb-app .wb-note {color: #444; font-size: 0.92em}
.wb-app .wb-hint {color: #444; font-size: 0.92em; margin: 0 0 0.4em; max-width: 60em}
.wb-app .wb-path {color: #333}
.wb-app .wb-refusal {border-left: 6px solid #3D6A8E; background: #F3F6F9; padding: 0.8em 1.2em;
  max-width: 46em}
.wb-app img.wb-figure {max-width: 100%; height: auto; display: block; margin: 0.4em 0 0.8em}
.wb-table {border-collapse: collapse; font-size: 0.95em; margin: 0.3em 0 0.8em}
.wb-table th, .wb-table td {border: none; border-bottom: 1px solid #d6d6d6; padding: 5px 12px;
  text-align: right; vertical-align: top}
.wb-table th:first-child, .wb-table td:first-child {text-align: left}
.wb-table td.wb-text, .wb-table th.wb-text {text-align: left}
.wb-table thead th {border-bottom: 2px solid #444; background: #f2f2f2}
.wb-table td.wb-hidden {color: #555; font-style: italic; text-align: left}
.wb-app ol.wb-steps li {margin-bottom: 0.5em}
.wb-app .wb-reading {border-left: 4px solid #3D6A8E; background: #F3F6F9;
  padding: 0.4em 1em 0.5em; margin: 0.4em 0 1em; max-width: 60em}
.wb-app .wb-reading h4 {margin-top: 0.3em}
.wb-app dl.wb-legend dt {font-weight: bold; margin-top: 0.3em}
.wb-app dl.wb-legend dd {margin: 0 0 0.2em 1.2em}
.wb-downloads a {margin-right: 1.2em; font-weight: bold; color: #1F3B57}
.wb-app.jupyter-widgets, .wb-app .jupyter-widgets {--jp-widgets-font-size: 15px;
  --jp-widgets-inline-height: 32px; --jp-widgets-inline-label-width: 90px}
.wb-app .widget-select select {font-size: 15px}
.wb-app .wb-units select {overflow-x: auto}
.wb-app .wb-units option {white-space: pre}
</style>"""


# ---------------------------------------------------------------------------------------------
# the reasons behind a hidden number, in words

_COMPARE_REASONS = {
    "unit_suppressed": ("enhetens resultat er skjult", "the unit's result is hidden"),
    "parent_suppressed": ("resultatet til overordnet enhet er skjult",
                          "the parent unit's result is hidden"),
    "no_rest": ("ingen andre i overordnet enhet å sammenligne med",
                "nobody else in the parent unit to compare with"),
    "previous_suppressed": ("resultatet fra forrige runde er skjult",
                            "the result of the previous wave is hidden"),
    "not_in_previous": ("enheten fantes ikke i forrige runde",
                        "the unit did not exist in the previous wave"),
    "no_benchmark": ("ingen referansetall for enheten", "no benchmark figure for the unit"),
}


def reason_text(reason: str | None, lang: str = "nb", min_n: int = 5) -> str:
    """The words for a hidden number's ``reason`` (a cell's or a comparison's), e.g.
    ``skjult (vern av en liten gruppe)`` or ``the previous wave's result is hidden``."""
    from workbench.plots import suppressed_text

    reason = reason if isinstance(reason, str) else ""
    if reason in _COMPARE_REASONS:
        return _COMPARE_REASONS[reason][lang == "en"]
    return suppressed_text(lang, min_n, reason)


def cell_mean(value, lang: str, hidden: bool = False, reason: str | None = None,
              min_n: int = 5, digits: int = 2) -> tuple[str, bool]:
    """(text, hidden) for a mean: the number, or the suppressed text with its reason."""
    if hidden:
        return reason_text(reason or "min_n", lang, min_n), True
    return number(value, lang, digits), False


# ---------------------------------------------------------------------------------------------
# HTML pieces (every text from the data is escaped)


def heading(title: str, level: int = 3) -> str:
    return f"<h{level}>{escape(title)}</h{level}>"


def note(words: str) -> str:
    return f"<p class='wb-note'>{escape(words)}</p>"


def figure_svg(fig) -> str:
    """The figure as SVG with real text (the browser sets the type: sharp on a projector, and
    about twice as fast as drawing a PNG); the figure is closed."""
    from workbench.plots import figure_to_svg

    return figure_to_svg(fig, real_text=True)


def figure_html(fig, alt: str) -> str:
    """A matplotlib figure as an inline SVG image (a data: URI: no file, no network).

    An ``<img>`` keeps every figure's SVG ids apart, so two figures on one page never share a
    clip path.
    """
    data = base64.b64encode(figure_svg(fig).encode("utf-8")).decode("ascii")
    return (f"<img class='wb-figure' alt='{escape(alt, quote=True)}' "
            f"src='data:image/svg+xml;base64,{data}'>")


def html_table(header: list[str], rows: list[list], text_columns: int | Iterable[int] = 1,
               caption: str | None = None) -> str:
    """A table of already formatted cells; a cell may be ``(text, hidden)`` to grey it.

    ``text_columns``: the first N columns, or the positions (-1 = the last), that hold text
    (left-aligned); the others hold numbers (right-aligned).
    """
    n = len(header)
    left = set(range(text_columns)) if isinstance(text_columns, int) else \
        {i % n for i in text_columns}
    head = "".join(f"<th class='{'wb-text' if i in left else ''}'>{escape(h)}</th>"
                   for i, h in enumerate(header))
    body = []
    for row in rows:
        cells = []
        for i, cell in enumerate(row):
            shown, hidden = cell if isinstance(cell, tuple) else (cell, False)
            css = "wb-hidden" if hidden else ("wb-text" if i in left else "")
            cells.append(f"<td class='{css}'>{escape(str(shown))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    cap = f"<caption>{escape(caption)}</caption>" if caption else ""
    return (f"<table class='wb-table'>{cap}<thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table>")


def _xlsx_bytes(frame: pd.DataFrame, sheet: str) -> bytes:
    # Excel refuses []:*?/\ in a sheet name and cuts it at 31 characters
    name = "".join("-" if c in "[]:*?/\\" else c for c in sheet)[:31].strip() or "data"
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        frame.to_excel(writer, sheet_name=name, index=False)
    return buffer.getvalue()


def csv_bytes(frame: pd.DataFrame, lang: str = "nb") -> bytes:
    """A published table as CSV for a spreadsheet in ``lang``'s conventions.

    Bokmål: semicolons and decimal commas, as Norwegian Excel opens a CSV file; English:
    commas and decimal points. UTF-8 with a byte order mark, so Excel reads æ, ø and å.
    """
    if lang == "nb":
        data = frame.to_csv(index=False, sep=";", decimal=",", lineterminator="\r\n")
    else:
        data = frame.to_csv(index=False, lineterminator="\r\n")
    return data.encode("utf-8-sig")


def download_links(frame: pd.DataFrame, stem: str, label_csv: str = "CSV",
                   label_xlsx: str = "Excel (XLSX)", sheet: str = "data",
                   lang: str = "nb") -> str:
    """Links that download ``frame`` (a published table) as CSV and XLSX, from data: URIs.

    The files are made in the kernel from the table the view shows; nothing is fetched and
    no respondent row is involved. The CSV follows ``lang`` (see :func:`csv_bytes`).
    """
    if frame is None or frame.empty:
        return ""
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in stem)[:80] or "table"
    csv = csv_bytes(frame, lang)
    xlsx = _xlsx_bytes(frame, sheet)
    csv_uri = "data:text/csv;charset=utf-8;base64," + base64.b64encode(csv).decode("ascii")
    xlsx_uri = ("data:application/vnd.openxmlformats-officedocument.spreadsheetml.sheet;"
                "base64," + base64.b64encode(xlsx).decode("ascii"))
    return (f"<div class='wb-downloads'><a download='{safe}.csv' href='{csv_uri}'>"
            f"{escape(label_csv)}</a><a download='{safe}.xlsx' href='{xlsx_uri}'>"
            f"{escape(label_xlsx)}</a></div>")


# ---------------------------------------------------------------------------------------------
# units


_TEXTS = {
    "size": ("{answers} svar av {invited} inviterte ({rate})",
             "{answers} answers of {invited} invited ({rate})"),
    "size_no_invited": ("{answers} svar", "{answers} answers"),
    "size_hidden": ("Antall svar: {why}", "Answers: {why}"),
    "not_in_wave": ("Enheten finnes ikke i denne runden.", "The unit does not exist in this wave."),
    "no_parent": ("Den øverste enheten har ingen overordnet enhet.",
                  "The top unit has no parent unit."),
    "no_previous": ("Dette er første runde: det finnes ingen forrige runde.",
                    "This is the first wave: there is no previous wave."),
    "no_benchmarks": ("Datasettet har ingen referansetall.", "The dataset has no benchmarks."),
    "factor": ("Faktor", "Factor"),
    "mean": ("Snitt", "Mean"),
    "other": ("Sammenlignet med", "Compared with"),
    "diff": ("Forskjell", "Difference"),
    "p_adj": ("p (justert)", "p (adjusted)"),
    "d": ("Effekt (d)", "Effect (d)"),
    "verdict": ("Vurdering", "Verdict"),
    "interval": ("Forskjellen ligger trolig mellom", "The difference probably lies between"),
    "between": ("{low} og {high}", "{low} and {high}"),
    "no_distribution": (
        "– under «Andel enig» og «Enighet»: fordelingen av svarene vises ikke for denne "
        "faktoren, slik at ingen kan regne seg fram til hva enkeltpersoner svarte.",
        "– under 'Share agreeing' and 'Agreement': the distribution of the answers is not "
        "shown for this factor, so that nobody can work out what single persons answered."),
    "h_compare_read": ("Slik leser du sammenligningen", "How to read the comparison"),
    "by_levels": (
        "Bakgrunnsgrupper ({variables}) vises bare for {units}, slik at ingen kan regne seg "
        "fram til svarene til en liten gruppe. Nivåene står i survey.yaml: privacy: "
        "background_levels: [{levels}].",
        "Background groups ({variables}) are shown only for {units}, so that nobody can work "
        "out what a small group answered. The levels are set in survey.yaml: privacy: "
        "background_levels: [{levels}]."),
    "top_unit": ("den øverste enheten", "the top unit"),
    "units_at": ("enhetene på nivå {levels} i hierarkiet (0 er den øverste enheten)",
                 "the units at level {levels} of the hierarchy (0 is the top unit)"),
}


def _t(key: str, lang: str, **fields) -> str:
    return text(_TEXTS, key, lang, **fields)


def unit_path(release, unit: str, wave: str, lang: str = "nb") -> str:
    """The names from the top unit down to ``unit``, joined by ›."""
    hierarchy = release.hierarchy(wave)
    return " › ".join(hierarchy.name(u, lang) for u in hierarchy.path(unit))


def size_text(release, unit: str, wave: str, lang: str = "nb") -> str:
    """"115 answers of 161 invited (71%)" from the release (a hidden count says why)."""
    from workbench.i18n import percent

    if unit not in release.hierarchy(wave):
        return _t("not_in_wave", lang)
    answers, invited = release.size(unit, wave)
    if answers is None:
        rows = release.cut("rates", unit, wave)
        rows = rows.loc[rows["by"] == ""] if len(rows) else rows
        reason = str(rows["reason"].iloc[0]) if len(rows) else ""
        return _t("size_hidden", lang, why=reason_text(reason or "min_n", lang,
                                                       release.policy.min_n))
    if invited:
        return _t("size", lang, answers=number(answers, lang, 0),
                  invited=number(invited, lang, 0), rate=percent(100 * answers / invited, lang))
    return _t("size_no_invited", lang, answers=number(answers, lang, 0))


def background_note(release, lang: str = "nb") -> str:
    """Why the background selector is off below the allowed levels (from the policy)."""
    levels = tuple(release.policy.background_levels)
    names = [release.config.background[v].name(lang) for v in release.config.background]
    shown = ", ".join(str(level) for level in levels)
    units = _t("top_unit", lang) if levels == (0,) else _t("units_at", lang, levels=shown)
    return _t("by_levels", lang, variables=", ".join(names), units=units, levels=shown)


# ---------------------------------------------------------------------------------------------
# comparisons (shared by the explorer and the leader page)


def unavailable_comparison(release, unit: str, wave: str, against: str,
                           lang: str = "nb") -> str | None:
    """Why the comparison cannot be made at all (no parent, no earlier wave, no benchmarks),
    in plain words; None when it can be tried."""
    if against == "parent" and release.hierarchy(wave).parent(unit) is None:
        return _t("no_parent", lang)
    if against == "previous" and release.waves.index(wave) == 0:
        return _t("no_previous", lang)
    if against == "benchmark" and release.benchmarks is None:
        return _t("no_benchmarks", lang)
    return None


def comparison_tables(release, unit: str, wave: str, lang: str,
                      against: tuple[str, ...] = ("parent", "benchmark", "previous")
                      ) -> dict[str, pd.DataFrame | str]:
    """:func:`workbench.views.comparison` of the unit against each of ``against``: a table,
    or the words saying why there is none."""
    from workbench.views import comparison

    out: dict[str, pd.DataFrame | str] = {}
    for kind in against:
        why = unavailable_comparison(release, unit, wave, kind, lang)
        if why:
            out[kind] = why
            continue
        try:
            out[kind] = comparison(release, unit, kind, wave=wave, lang=lang)
        except WorkbenchError as exc:
            out[kind] = str(exc)
    return out


def p_text(p, lang: str) -> str:
    if pd.isna(p):
        return DASH
    return f"< {number(0.001, lang, 3)}" if p < 0.001 else number(p, lang, 3)


def interval_text(low, high, lang: str) -> str:
    """A difference's 95 % interval in words: "-0,03 og 0,14" / "-0.03 and 0.14"."""
    if pd.isna(low) or pd.isna(high):
        return DASH
    return _t("between", lang, low=number(low, lang), high=number(high, lang))


def distribution_note(rows: pd.DataFrame, lang: str) -> str:
    """A note under a factor table whose published means include some without their
    distribution (the release hides it where it would tell single answers); "" otherwise."""
    shown = ~rows["suppressed"].astype(bool) & rows["mean"].notna()
    if not (shown & rows["top_box"].isna()).any():
        return ""
    return note(_t("no_distribution", lang))


def agreement_text(rwg, lang: str) -> str:
    """A unit's agreement on a factor in plain words (rwg(j); :mod:`workbench.agreement`)."""
    from workbench.agreement import agreement_words

    return agreement_words(rwg, lang) or DASH


def share_interval(share, low, high, lang: str) -> str:
    """A top-box share with its Wilson 95 % interval: "72 % (65-79)"."""
    if pd.isna(share):
        return DASH
    if pd.isna(low) or pd.isna(high):
        return percent(share, lang)
    return f"{percent(share, lang)} ({number(low, lang, 0)}–{number(high, lang, 0)})"


def comparison_html(table: pd.DataFrame, lang: str, min_n: int, detail: bool = True) -> str:
    """One comparison as a table: means, difference, the difference's 95 % interval, (p, d,)
    and the plain verdict; a row without a test says why (the release's reason)."""
    header = [_t("factor", lang), _t("mean", lang), _t("other", lang), _t("diff", lang),
              _t("interval", lang)]
    if detail:
        header += [_t("p_adj", lang), _t("d", lang)]
    header.append(_t("verdict", lang))
    body = []
    for _, row in table.iterrows():
        if bool(row["suppressed"]) or pd.isna(row["diff"]):
            reason = row["reason"] if isinstance(row["reason"], str) and row["reason"] else None
            hidden = cell_mean(np.nan, lang, True, reason, min_n)
            body.append([row["label"], hidden] + [""] * (len(header) - 2))
            continue
        line = [row["label"], number(row["mean"], lang), number(row["other_mean"], lang),
                number(row["diff"], lang),
                interval_text(row.get("ci_low"), row.get("ci_high"), lang)]
        if detail:
            line += [p_text(row["p_adj"], lang), number(row["d"], lang)]
        line.append(row["verdict"])
        body.append(line)
    return html_table(header, body, text_columns=(0, 4, -1))


def comparison_reading_html(table: pd.DataFrame, lang: str) -> str:
    """What the unit's comparison can tell, with its own numbers (the smallest difference it
    can call real, why a small unit reads "cannot tell"), and what each finding word means
    (:mod:`workbench.words`)."""
    from workbench.words import comparison_reading, finding_legend

    said = "".join(f"<p>{escape(s)}</p>" for s in comparison_reading(table, lang))
    legend = "".join(f"<dt>{escape(word)}</dt><dd>{escape(meaning)}</dd>"
                     for word, meaning in finding_legend(lang=lang))
    return (f"<div class='wb-reading'><h4>{escape(_t('h_compare_read', lang))}</h4>{said}"
            f"<dl class='wb-legend'>{legend}</dl></div>")
