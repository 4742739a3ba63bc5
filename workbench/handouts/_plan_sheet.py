"""The XLSX handout's action-plan sheet: filled in offline, read back by the import.

The sheet ("Handlingsplan" / "Action plan") holds the unit's recorded actions, each with its
``action_id`` and ``version`` (so that reading the file back updates them rather than adding
copies), then :data:`BLANK_ROWS` empty rows with the wave and unit filled in. Its header row
uses headings that :func:`workbench.actionplan.import_actions` understands in either language
(``Tiltak``, ``Ansvarlig``, ``Frist`` ...); status, impact and feasibility are written in the
words the import reads back, with drop-down lists. ``workbench workshop DATASET import
FILE`` reads it: an empty row with only its wave and unit is not a row read.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from workbench.handouts._workshop import code_words

if TYPE_CHECKING:  # pragma: no cover
    from openpyxl import Workbook

    from workbench.handouts.handout import Handout

__all__ = ["action_plan_sheet", "PLAN_HEADINGS", "BLANK_ROWS", "HEADER_ROW"]

#: Empty rows (wave and unit filled in) below the recorded actions.
BLANK_ROWS = 10
#: The spreadsheet row of the header (a title and a note above it).
HEADER_ROW = 4

#: Column -> heading per language; every heading is one the import reads (tests hold them to
#: :data:`workbench.actionplan.HEADINGS`).
PLAN_HEADINGS = {
    "nb": {"wave": "Runde", "unit_id": "Enhet", "factor": "Faktor", "area": "Område",
           "measure": "Tiltak", "goal": "Mål", "responsible": "Ansvarlig", "deadline": "Frist",
           "status": "Status", "impact": "Effekt", "feasibility": "Gjennomførbarhet",
           "action_id": "Tiltaks-id", "version": "Versjon"},
    "en": {"wave": "Wave", "unit_id": "Unit", "factor": "Factor", "area": "Area",
           "measure": "Measure", "goal": "Goal", "responsible": "Responsible",
           "deadline": "Deadline", "status": "Status", "impact": "Impact",
           "feasibility": "Feasibility", "action_id": "Action id", "version": "Version"},
}
_WIDTHS = {"wave": 8, "unit_id": 12, "factor": 26, "area": 22, "measure": 40, "goal": 30,
           "responsible": 18, "deadline": 12, "status": 11, "impact": 9, "feasibility": 16,
           "action_id": 12, "version": 8}


def _text(ws, row: int, column: int, value) -> None:
    cell = ws.cell(row, column, None if value in ("", None) else value)
    if isinstance(value, str) and value:
        cell.data_type = "s"  # a leader's text starting with "=" is not a formula
    cell.alignment = Alignment(wrap_text=True, vertical="top")


def action_plan_sheet(book: "Workbook", h: "Handout", t, sub: str, colours: dict) -> None:
    """Add the importable action-plan sheet of ``h`` (recorded actions, then empty rows)."""
    from workbench.actionplan import export_columns, export_rows

    lang = "en" if h.lang == "en" else "nb"
    ws = book.create_sheet(t("sheet_action_plan")[:31])
    ws.cell(1, 1, f"{h.unit_name}: {t('action_plan')}").font = Font(
        bold=True, size=14, color=colours["primary"].lstrip("#"))
    ws.cell(2, 1, sub).font = Font(color=colours["muted"].lstrip("#"))
    ws.cell(3, 1, t("plan_sheet_note")).font = Font(italic=True,
                                                   color=colours["muted"].lstrip("#"))
    actions = list(h.workshop.actions) if h.workshop is not None else []
    columns = export_columns(actions)
    headings = PLAN_HEADINGS[lang]
    fill = PatternFill("solid", fgColor=colours["shade"].lstrip("#"))
    rule = Border(bottom=Side(style="medium", color=colours["muted"].lstrip("#")))
    for c, column in enumerate(columns, start=1):
        cell = ws.cell(HEADER_ROW, c, headings.get(column, column))
        cell.font, cell.fill, cell.border = Font(bold=True), fill, rule
        ws.column_dimensions[get_column_letter(c)].width = _WIDTHS.get(column, 18)
    words = code_words(lang)
    names = {f.id: f.name(h.lang) for f in h.instrument.factors}
    row = HEADER_ROW + 1
    for values in export_rows(actions, columns):
        for c, (column, value) in enumerate(zip(columns, values), start=1):
            if column in words:
                value = words[column].get(value, value)
            elif column == "factor":
                value = names.get(value, value)
            if column == "version":
                ws.cell(row, c, int(value) if value not in ("", None) else None)
            else:
                _text(ws, row, c, value)
        row += 1
    for _ in range(BLANK_ROWS):
        _text(ws, row, columns.index("wave") + 1, h.wave)
        _text(ws, row, columns.index("unit_id") + 1, h.unit_id)
        row += 1
    last = row - 1
    ws.freeze_panes = ws.cell(HEADER_ROW + 1, 1)

    # drop-down lists: factor names from a hidden sheet (too long for an inline list)
    lists = book.create_sheet(t("sheet_lists")[:31])
    lists.sheet_state = "hidden"
    for i, f in enumerate(h.instrument.factors, start=1):
        lists.cell(i, 1, f.name(h.lang))
    choices = {"factor": f"='{lists.title}'!$A$1:$A${len(h.instrument.factors)}"}
    for column, mapping in words.items():
        choices[column] = '"' + ",".join(mapping.values()) + '"'
    for column, formula in choices.items():
        if column not in columns:
            continue
        letter = get_column_letter(columns.index(column) + 1)
        check = DataValidation(type="list", formula1=formula, allow_blank=True)
        check.error = t("plan_list_error")
        check.showErrorMessage = column != "factor"  # a factor may be typed by its id too
        ws.add_data_validation(check)
        check.add(f"{letter}{HEADER_ROW + 1}:{letter}{max(last, HEADER_ROW + 1)}")
