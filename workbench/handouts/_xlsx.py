"""The handout's published tables as a workbook (openpyxl), one formatted sheet per view.

Like a survey vendor's "composite Excel report": a cover sheet, then factors, statements,
distribution, trend, comparisons, response rate (and working hours and the appraisal
interview where the instrument has them). Numbers are stored as numbers (Excel shows the
reader's decimal mark); a suppressed cell holds the text "skjult" / "suppressed", never 0 and
never blank.
"""

from __future__ import annotations

import io
import math
from typing import TYPE_CHECKING, Any, Sequence

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from workbench.agreement import agreement_words
from workbench.handouts import _present as present
from workbench.handouts._plan_sheet import action_plan_sheet

if TYPE_CHECKING:  # pragma: no cover
    from workbench.handouts.handout import Handout

__all__ = ["build_xlsx"]

MEAN, SHARE, COUNT, P = "0.00", "0%", "0", "0.000"


def _missing(value: Any) -> bool:
    return present._missing(value)


class _Sheet:
    """One worksheet: a title block, then a table with a formatted header."""

    def __init__(self, book: Workbook, title: str, heading: str, sub: str, colours: dict,
                 word: str, first: bool = False):
        self.ws = book.active if first else book.create_sheet()
        self.ws.title = title[:31]
        self.colours = colours
        self.word = word
        self.row = 1
        self.ws.cell(1, 1, heading).font = Font(bold=True, size=14,
                                                color=colours["primary"].lstrip("#"))
        self.ws.cell(2, 1, sub).font = Font(color=colours["muted"].lstrip("#"))
        self.row = 4
        self.widths: dict[int, float] = {}

    def header(self, names: Sequence[str]) -> None:
        fill = PatternFill("solid", fgColor=self.colours["shade"].lstrip("#"))
        rule = Border(bottom=Side(style="medium", color=self.colours["muted"].lstrip("#")))
        for c, name in enumerate(names, start=1):
            cell = self.ws.cell(self.row, c, name)
            cell.font, cell.fill, cell.border = Font(bold=True), fill, rule
            cell.alignment = Alignment(wrap_text=True, vertical="bottom",
                                       horizontal="left" if c == 1 else "right")
            self._width(c, name, header=True)
        self.ws.freeze_panes = self.ws.cell(self.row + 1, 2)
        self.row += 1

    def line(self, values: Sequence[Any], formats: Sequence[str | None] = ()) -> None:
        """One row; None or NaN in a value column is written as the suppressed word."""
        for c, value in enumerate(values, start=1):
            fmt = formats[c - 1] if c - 1 < len(formats) else None
            if fmt and (value is None or (isinstance(value, float) and math.isnan(value))):
                value = self.word
            cell = self.ws.cell(self.row, c, value)
            if value == self.word:
                cell.font = Font(italic=True, color=self.colours["muted"].lstrip("#"))
                cell.alignment = Alignment(horizontal="right")
            elif fmt:
                cell.number_format = fmt
            self._width(c, value)
        self.row += 1

    def text(self, value: str, bold: bool = False) -> None:
        self.ws.cell(self.row, 1, value).font = Font(bold=bold)
        self.row += 1

    def skip(self, rows: int = 1) -> None:
        self.row += rows

    def _width(self, c: int, value: Any, header: bool = False) -> None:
        length = len(str(value)) if value is not None else 0
        if isinstance(value, float):
            length = 8
        length = min(length, 60 if c == 1 else (24 if header else 40))
        self.widths[c] = max(self.widths.get(c, 8), length + 2)

    def finish(self) -> None:
        for c, width in self.widths.items():
            self.ws.column_dimensions[get_column_letter(c)].width = width


def _value(row, column: str):
    """A statistic of a published row, or None when suppressed (written as the word)."""
    if bool(row.get("suppressed", False)):
        return None
    value = row.get(column)
    return None if _missing(value) else float(value)


def build_xlsx(h: "Handout") -> bytes:
    fmt = present.Formatter(h.lang, h.min_n)
    t = present.text_function(h, fmt)
    ctx = present.build_context(h)
    colours = dict(h.template.branding.colours)
    book = Workbook()
    sub = f"{' > '.join(h.path)} \u00b7 {t('wave')} {h.wave}"
    word = fmt.word

    def sheet(key: str, heading: str, first: bool = False) -> _Sheet:
        return _Sheet(book, t(key), heading, sub, colours, word, first)

    # cover
    s = sheet("sheet_cover", f"{h.unit_name}: {t('title')}", first=True)
    now = h.rates.loc[h.rates["wave"].astype(str) == h.wave]
    answers, invited, rate = _rate_values(now.iloc[0]) if len(now) else (None, None, None)
    for label, value, number_format in (
            (ctx["org"], "", None), (ctx["instrument_name"], "", None),
            (t("unit"), h.unit_name, None), (t("path"), " > ".join(h.path), None),
            (t("wave"), h.wave, None), (t("answers"), answers, COUNT),
            (t("invited"), invited, COUNT),
            (t("rate"), rate, SHARE), (ctx["made"], "", None)):
        s.line([label, value], [None, number_format if not isinstance(value, str) else None])
    if ctx["cover"]["hidden"]:
        s.text(t("cover_hidden", why=ctx["cover"]["hidden"]))
    s.skip()
    s.text(t("suppressed_note"))
    s.finish()

    # factors
    s = sheet("sheet_factors", t("factor_table"))
    parent = h.parent.set_index("key") if h.parent is not None else None
    bench = (h.benchmark.set_index("factor")["mean"] if h.benchmark is not None
             else None)
    ci = ("95 % KI, nedre", "95 % KI, øvre") if h.lang == "nb" else ("95% CI, low",
                                                                     "95% CI, high")
    head = [t("factor"), f"{h.unit_name}: {t('mean')}", t("sd"), t("n"), *ci]
    if parent is not None:
        head.append(f"{h.parent_name}: {t('mean')}")
    if bench is not None:
        head.append(f"{t('benchmark')} ({present.benchmark_name(h)})")
    agreement = "rwg" in h.unit.columns
    if agreement:
        head += ["rwg", t("agreement")]
    s.header(head)
    for _, row in h.unit.iterrows():
        values = [row["label"], _value(row, "mean"), _value(row, "sd"),
                  None if row["suppressed"] else int(row["n"]), _value(row, "ci_low"),
                  _value(row, "ci_high")]
        formats = [None, MEAN, MEAN, COUNT, MEAN, MEAN]
        if parent is not None:
            values.append(_value(parent.loc[row["key"]], "mean") if row["key"] in parent.index
                          else "\u2013")
            formats.append(MEAN)
        if bench is not None:
            b = bench.get(row["key"])
            values.append("\u2013" if _missing(b) else float(b))
            formats.append(MEAN)
        if agreement:
            rwg = row.get("rwg")
            values += ["\u2013" if _missing(rwg) else float(rwg),
                       agreement_words(rwg, h.lang) if not _missing(rwg) else "\u2013"]
            formats += [MEAN, None]
        s.line(values, formats)
    if agreement:
        s.skip()
        s.text(t("agreement_note"))
    s.finish()

    # statements (items)
    points = list(h.instrument.scale.points)
    labels = [h.instrument.scale.labels[p](h.lang) if p in h.instrument.scale.labels else str(p)
              for p in points]
    factor_of = {i.id: f.name(h.lang) for f in h.instrument.factors for i in f.items}
    s = sheet("sheet_items", t("sheet_items"))
    top = present.distribution(h, fmt)["top_head"]
    s.header([t("item"), t("factor"), t("mean"), t("sd"), t("n"), *labels, top])
    for _, row in h.items.iterrows():
        s.line([row["label"], factor_of.get(row["key"], ""), _value(row, "mean"),
                _value(row, "sd"), None if row["suppressed"] else int(row["n"]),
                *[_share(row, f"pct_{k}") for k in range(1, len(points) + 1)],
                _share(row, "top_box")],
               [None, None, MEAN, MEAN, COUNT, *[SHARE] * len(points), SHARE])
    s.finish()

    # distribution
    s = sheet("sheet_distribution", t("distribution"))
    s.header([t("factor"), *labels, top])
    for _, row in present.distribution_rows(h).iterrows():
        s.line([row["label"], *[_share(row, f"pct_{k}") for k in range(1, len(points) + 1)],
                _share(row, "top_box")], [None, *[SHARE] * (len(points) + 1)])
    s.skip()
    s.text(t("distribution_note"))
    if ctx["distribution"]["dist_hidden"]:
        s.text(t("dist_hidden_note"))
    s.finish()

    # trend
    s = sheet("sheet_trend", t("trend"))
    s.header([t("factor"), *h.waves])
    by = h.trend.set_index(["key", "wave"])
    for _, row in h.unit.iterrows():
        values = [row["label"]]
        for wave in h.waves:
            if (row["key"], wave) in by.index:
                values.append(_value(by.loc[(row["key"], wave)], "mean"))
            else:
                values.append("\u2013")
        s.line(values, [None, *[MEAN] * len(h.waves)])
    s.finish()

    # comparisons
    s = sheet("sheet_comparisons", t("comparisons"))
    s.header([t("compared_with"), t("factor"), f"{h.unit_name}: {t('mean').lower()}",
              f"{t('compared_with')}: {t('mean').lower()}", t("difference"), *ci,
              t("p_adj"), t("effect"), t("finding"), t("verdict"), t("detectable")])
    blocks = {b["id"]: b for b in ctx["comparisons"]}
    numbers = [None, None, MEAN, MEAN, MEAN, MEAN, MEAN, P, MEAN, None, None, MEAN]
    for against, part in (h.comparisons.groupby("against", sort=False)
                          if not h.comparisons.empty else []):
        block = blocks[against]
        for (_, row), shown in zip(part.iterrows(), block["rows"]):
            if row["suppressed"]:
                s.line([block["title"], row["label"], None, None, None, None, None, None, None,
                        fmt.word, shown["hidden"], None], numbers)
                continue
            s.line([block["title"], row["label"], float(row["mean"]),
                    *[None if _missing(row.get(c)) else float(row[c])
                      for c in ("other_mean", "diff", "ci_low", "ci_high", "p_adj", "d")],
                    shown["word"], shown["verdict"],
                    None if _missing(row.get("detectable")) else float(row["detectable"])],
                   numbers)
    key = ctx["comparison_key"]
    if key:
        s.skip()
        s.text(t("cmp_key"), bold=True)
        for word, meaning in key["legend"]:
            s.line([word, meaning])
        s.skip()
        s.text(key["threshold"])
        s.text(key["detectable"])
        if key["small"]:
            s.text(t("cmp_small_unit"))
    s.finish()

    # response rate
    s = sheet("sheet_response", t("rate"))
    s.header([t("wave"), t("answers"), t("invited"), t("rate")])
    for _, r in h.rates.iterrows():
        answers, invited, rate = _rate_values(r)
        s.line([str(r["wave"]), answers, invited, rate],
               [None, COUNT, COUNT, SHARE])
    if len(h.children):
        s.skip()
        s.text(t("units_below"), bold=True)
        s.header([t("unit"), t("answers"), t("invited"), t("rate")])
        for _, r in h.children.iterrows():
            answers, invited, rate = _rate_values(r)
            s.line([r["unit_name"], answers, invited, rate], [None, COUNT, COUNT, SHARE])
        s.skip()
        s.text(t("units_below_note"))
    s.finish()

    # working hours and the appraisal interview
    if h.hours is not None or h.appraisal is not None:
        s = sheet("sheet_extra", t("sheet_extra"))
        if h.hours is not None and not h.hours.empty:
            s.text(t("working_hours"), bold=True)
            s.header([t("working_hours"), t("share")])
            for _, r in h.hours.iterrows():
                s.line([r["label"], None if r["suppressed"] else _pct(r["share"])],
                       [None, SHARE])
            s.skip()
        if h.appraisal is not None and not h.appraisal.empty:
            s.text(t("appraisal"), bold=True)
            s.header([t("wave"), t("appraisal_had"), t("appraisal_useful")])
            for _, r in h.appraisal.iterrows():
                hidden = bool(r["suppressed"])
                useful = None if hidden or _missing(r["useful_mean"]) else \
                    float(r["useful_mean"])
                s.line([r["wave"], None if hidden else _pct(r["had_share"]), useful],
                       [None, SHARE, MEAN])
        s.finish()

    if ctx["workshop"]:
        _workshop_sheet(book, h, ctx["workshop"], t, sub, colours, word)
    action_plan_sheet(book, h, t, sub, colours)

    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _text_cell(ws, row: int, column: int, value: str):
    """A leader's own words as a text cell (a text starting with "=" is not a formula)."""
    cell = ws.cell(row, column, value if value != "" else None)
    if isinstance(value, str) and value:
        cell.data_type = "s"
    cell.alignment = Alignment(wrap_text=True, vertical="top")
    return cell


def _workshop_sheet(book: Workbook, h: "Handout", w: dict, t, sub: str, colours: dict,
                    word: str) -> None:
    """What the workshop recorded: chosen factors, the analysis cross, the future picture,
    the action plan with each measure's place in the priority matrix, the parking lot."""
    s = _Sheet(book, t("sheet_workshop"), t("sheet_workshop"), sub, colours, word)
    ws = s.ws
    if w["chosen"]:
        s.text(t("chosen_factors"), bold=True)
        for name in w["chosen"]:
            s.line([name])
        s.skip()
    if w["any_votes"]:
        s.text(t("analysis_cross"), bold=True)
        s.header([t("factor"), t("pleased"), t("improve"), t("why")])
        for row in w["cross"]:
            reasons = "\n".join(f"{label}: {text}" for label, text in row["reasons"])
            s.line([row["name"], int(row["pleased"]) if row["pleased"] else None,
                    int(row["improve"]) if row["improve"] else None])
            _text_cell(ws, s.row - 1, 4, reasons)
        s.skip()
    if w["any_picture"]:
        s.text(t("future_picture"), bold=True)
        for part in ("employees", "leader", "organisation"):
            ws.cell(s.row, 1, t(part)).font = Font(bold=True)
            _text_cell(ws, s.row, 2, w["picture"][part])
            s.row += 1
        s.skip()
    if w["actions"]:
        s.text(t("action_plan"), bold=True)
        keys = ("area", "measure", "goal", "responsible", "deadline", "status", "priority")
        s.header([t(k) for k in keys])
        for a in w["actions"]:
            for c, k in enumerate(keys, start=1):
                _text_cell(ws, s.row, c, a["quadrant" if k == "priority" else k])
            s.row += 1
        s.skip()
    if w["parking"]:
        s.text(t("parking_lot"), bold=True)
        keys = ("issue", "passed_by", "passed_to", "answer")
        s.header([t(k) for k in ("issue", "passes_on", "to_whom", "answer")])
        for p in w["parking"]:
            for c, k in enumerate(keys, start=1):
                _text_cell(ws, s.row, c, p[k])
            s.row += 1
    ws.freeze_panes = None
    s.finish()
    for c in range(2, 8):
        ws.column_dimensions[get_column_letter(c)].width = max(
            ws.column_dimensions[get_column_letter(c)].width or 0, 22)


def _rate_values(row) -> tuple[int | None, int | str | None, float | str | None]:
    """Answers, invited and the response rate (a fraction) of a rates row; None where hidden
    (written as the suppressed word: all three hide together); the headcount and the rate are
    dashes on a published row whose headcount is not known."""
    if bool(row["suppressed"]):
        return None, None, None
    invited = "\u2013" if _missing(row["invited"]) else int(row["invited"])
    answers = None if _missing(row["answers"]) else int(row["answers"])
    return answers, invited, "\u2013" if _missing(row["rate"]) else _pct(row["rate"])


def _pct(value) -> float | None:
    return None if _missing(value) else float(value) / 100.0


def _share(row, column: str) -> float | None:
    if bool(row.get("suppressed", False)):
        return None
    return _pct(row.get(column))
