"""What the explorer and the leader page share: published tables kept once, HTML pieces.

Nothing here sees respondent rows: :class:`Published` asks :func:`workbench.stats.stats_table`
(and the protected views) and keeps their answers, so a widget callback only slices tables.
"""

from __future__ import annotations

import base64
import io
from html import escape
from typing import Callable, Hashable, Iterable

import pandas as pd

from workbench.i18n import number
from workbench.plots import suppressed_text
from workbench.survey import Survey

__all__ = ["Published", "settle", "CSS", "figure_svg", "figure_html", "html_table",
           "download_links", "cell_mean", "note", "heading"]

#: Neutral, large and high-contrast: a projector washes out light greys and small type.
CSS = """<style>
.wb-app {font-family: 'DejaVu Sans', 'Liberation Sans', Arial, sans-serif; color: #1d1d1d;
  font-size: 16px; line-height: 1.45; max-width: 1100px}
.wb-app h2 {font-size: 1.55em; margin: 0.3em 0 0.2em} .wb-app h3 {font-size: 1.2em;
  margin: 1.1em 0 0.4em} .wb-app h4 {font-size: 1.05em; margin: 0.9em 0 0.3em}
.wb-app p {margin: 0.3em 0 0.6em; max-width: 60em}
.wb-app .wb-sub {color: #444; margin-top: 0}
.wb-app .wb-note {color: #444; font-size: 0.92em}
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
.wb-downloads a {margin-right: 1.2em; font-weight: bold; color: #1F3B57}
.wb-app.jupyter-widgets, .wb-app .jupyter-widgets {--jp-widgets-font-size: 15px;
  --jp-widgets-inline-height: 32px; --jp-widgets-inline-label-width: 90px}
.wb-app .widget-select select {font-size: 15px}
</style>"""


class Published:
    """The published tables of one survey, each computed once and then kept.

    The apps ask for the same tables again and again (a unit's rows, its parent's, the trend);
    computing the whole wave once (about 0.1 s) and slicing it is what keeps a redraw fast.
    Only protected tables are kept; the survey's rows stay inside the statistics layer.
    """

    def __init__(self, survey: Survey):
        self.survey = survey
        self._memo: dict[Hashable, object] = {}

    def memo(self, key: Hashable, compute: Callable[[], object]):
        """The value kept under ``key``, computed by ``compute()`` the first time."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    def table(self, wave: str, level: str = "factor", lang: str = "nb") -> pd.DataFrame:
        """``stats_table`` of every unit in ``wave``."""
        from workbench.stats import stats_table

        return self.memo(("table", wave, level, lang),
                         lambda: stats_table(self.survey, wave=wave, level=level, lang=lang))

    def by_unit(self, wave: str, level: str = "factor",
                lang: str = "nb") -> dict[str, pd.DataFrame]:
        """The table of ``wave`` split by unit (one frame per unit, in key order)."""
        def split():
            table = self.table(wave, level, lang)
            return {unit: rows.reset_index(drop=True)
                    for unit, rows in table.groupby("unit_id", sort=False)}

        return self.memo(("by_unit", wave, level, lang), split)

    def rows(self, unit: str, wave: str, level: str = "factor", lang: str = "nb") -> pd.DataFrame:
        """One unit's published rows in one wave (empty when the unit is not in that wave)."""
        parts = self.by_unit(wave, level, lang)
        if unit in parts:
            return parts[unit]
        return self.table(wave, level, lang).iloc[0:0]

    def trend(self, unit: str, level: str = "factor", lang: str = "nb") -> pd.DataFrame:
        """The unit's rows over every wave it exists in (as ``views.trend``)."""
        frames = [self.rows(unit, wave, level, lang) for wave in self.survey.waves]
        frames = [f for f in frames if len(f)]
        if not frames:
            return self.table(self.survey.waves[-1], level, lang).iloc[0:0]
        return pd.concat(frames, ignore_index=True)

    def published(self, unit: str, wave: str) -> bool:
        """True when at least one of the unit's factor rows in ``wave`` is shown."""
        rows = self.rows(unit, wave)
        return bool(len(rows)) and not bool(rows["suppressed"].all())

    def size(self, unit: str, wave: str) -> tuple[int | None, int | None]:
        """(answers, invited) of the unit's subtree in ``wave``, as the stats table has them."""
        rows = self.rows(unit, wave)
        if not len(rows):
            return None, None
        first = rows.iloc[0]
        answers = None if pd.isna(first["answers"]) else int(first["answers"])
        invited = None if pd.isna(first["invited"]) else int(first["invited"])
        return answers, invited


def settle() -> None:
    """After loading: collect garbage once, then freeze what is left, and give freed memory
    back to the system.

    A kernel keeps the survey, the modules and the kept tables for its whole life; frozen,
    they are no longer scanned by the garbage collector, whose full collections (statsmodels
    runs one in every multiple-test adjustment) drop from about 90 ms to 2 ms. glibc keeps the
    CSV parser's freed buffers unless asked: about 20 MB less per kernel.
    """
    import gc

    gc.collect()
    gc.freeze()
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


# ---------------------------------------------------------------------------------------------
# HTML pieces (every text from the data is escaped)


def heading(text: str, level: int = 3) -> str:
    return f"<h{level}>{escape(text)}</h{level}>"


def note(text: str) -> str:
    return f"<p class='wb-note'>{escape(text)}</p>"


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


def cell_mean(value, lang: str, hidden: bool = False, reason: str | None = None,
              min_n: int = 5, digits: int = 2) -> tuple[str, bool]:
    """(text, hidden) for a mean: the number, or the suppressed text with its reason."""
    if hidden:
        return suppressed_text(lang, min_n, reason or "min_n"), True
    return number(value, lang, digits), False


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
            text, hidden = cell if isinstance(cell, tuple) else (cell, False)
            css = "wb-hidden" if hidden else ("wb-text" if i in left else "")
            cells.append(f"<td class='{css}'>{escape(str(text))}</td>")
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


def download_links(frame: pd.DataFrame, stem: str, label_csv: str = "CSV",
                   label_xlsx: str = "Excel (XLSX)", sheet: str = "data") -> str:
    """Links that download ``frame`` (a published table) as CSV and XLSX, from data: URIs.

    The files are made in the kernel from the table the view shows; nothing is fetched and
    no respondent row is involved.
    """
    if frame is None or frame.empty:
        return ""
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in stem)[:80] or "table"
    csv = frame.to_csv(index=False, lineterminator="\n").encode("utf-8-sig")
    xlsx = _xlsx_bytes(frame, sheet)
    csv_uri = "data:text/csv;charset=utf-8;base64," + base64.b64encode(csv).decode("ascii")
    xlsx_uri = ("data:application/vnd.openxmlformats-officedocument.spreadsheetml.sheet;"
                "base64," + base64.b64encode(xlsx).decode("ascii"))
    return (f"<div class='wb-downloads'><a download='{safe}.csv' href='{csv_uri}'>"
            f"{escape(label_csv)}</a><a download='{safe}.xlsx' href='{xlsx_uri}'>"
            f"{escape(label_xlsx)}</a></div>")
