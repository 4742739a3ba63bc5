"""The action plan as a file: ``actions.csv`` or a spreadsheet, in and out of the store.

``actions.csv`` has the columns ``wave, unit_id, factor, area, measure, goal, responsible,
deadline (YYYY-MM-DD), status (planned|started|done|dropped)``, then any extra
(``DESIGN.md``). The workbench writes ``impact, feasibility`` (the priority matrix),
``action_id`` and ``version`` after them, then the extra columns of the files it imported.

:func:`import_actions` reads such a file, or a filled-in handout workbook (the first sheet
whose header row, within its first 20 rows, holds ``wave``, ``unit_id`` and ``measure``;
headings in bokmål such as *Tiltak*, *Ansvarlig*, *Frist* are understood too; a row with
nothing but its wave, unit and status filled in is an empty plan row, not a row read). Every
row is checked on its own: a bad row is reported with file, row, column and value and left out, the
good rows are kept (rows read = imported + rejected). A row is matched to the store by its
``action_id``, else by wave, unit, factor and measure: an identical row changes nothing, a
changed one is updated (refused when it carries an older ``version`` than the store's and
differs from it), a new one is added. Nothing is deleted by an import, so exporting and
importing again changes nothing.

Examples
--------
>>> import tempfile
>>> from pathlib import Path
>>> from workbench.release import open_release
>>> from workbench.workshop import open_store
>>> folder = Path(tempfile.mkdtemp())
>>> _ = (folder / "actions.csv").write_text(
...     "wave,unit_id,factor,area,measure,goal,responsible,deadline,status\\n"
...     "2021,OPP-NOS,F3,Møter,Ukentlig møte,Bedre flyt,Rektor,2021-12-01,started\\n"
...     "2021,OPP-NOS,F3,Møter,Ukentlig møte 2,,Rektor,2021-13-01,started\\n")
>>> store = open_store(folder)
>>> report = import_actions(store, folder / "actions.csv",
...                         open_release("data_samples/municipality"))
>>> (report.read, report.imported, report.rejected)
(2, 1, 1)
>>> print(report.problems[0].message)
actions.csv, row 3, column deadline: value '2021-13-01' is not a date; expected YYYY-MM-DD
>>> store.close()
"""

from __future__ import annotations

import csv
import io as _io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from workbench.errors import DatasetError, UsageError
from workbench.workshop import (
    ACTION_COLUMNS,
    ACTION_EXTRA,
    Access,
    Action,
    Catalog,
    FieldProblem,
    Store,
    Workshop,
    _measure_key,
    clean_action,
)

__all__ = ["HEADINGS", "ImportProblem", "ImportReport", "import_actions", "read_actions",
           "export_columns", "export_rows", "export_actions"]

#: Headings understood for each column (folded: case and spacing ignored).
HEADINGS = {
    "wave": ("wave", "runde", "bølge", "måling"),
    "unit_id": ("unit_id", "unit", "unit id", "enhet", "enhets-id", "enhetsid"),
    "factor": ("factor", "faktor"),
    "area": ("area", "område"),
    "measure": ("measure", "tiltak"),
    "goal": ("goal", "mål"),
    "responsible": ("responsible", "ansvarlig"),
    "deadline": ("deadline", "frist"),
    "status": ("status",),
    "impact": ("impact", "effekt", "nytte"),
    "feasibility": ("feasibility", "gjennomførbarhet"),
    "action_id": ("action_id", "action id", "tiltaks-id"),
    "version": ("version", "versjon"),
}
_REQUIRED = ("wave", "unit_id", "measure")
_PREFILLED = ("wave", "unit_id", "status", "version", "action_id")
_SHEET_NAMES = ("actions", "action plan", "handlingsplan", "tiltaksplan")
_SCAN = 20

_TEXTS = {
    "summary": ("{file}: {read} rader lest, {imported} importert ({new} nye, {changed} "
                "endret, {unchanged} uendret), {rejected} avvist",
                "{file}: {read} rows read, {imported} imported ({new} new, {changed} "
                "changed, {unchanged} unchanged), {rejected} rejected"),
    "problem": ("PROBLEM", "PROBLEM"),
    "closing": ("{n} rad(er) avvist: rett dem og importer filen på nytt (radene som er "
                "importert, endres ikke av det)",
                "{n} row(s) rejected: fix them and import the file again (the rows "
                "imported are not changed by that)"),
    "no_header": ("fant ingen overskriftsrad med kolonnene {expected} blant de første {scan} "
                  "radene i noe ark", "no header row with the columns {expected} in the first "
                  "{scan} rows of any sheet"),
    "missing_column": ("den påkrevde kolonnen {column!r} mangler; kolonnene som finnes er: "
                       "{found}", "required column {column!r} is missing; the columns found "
                       "are: {found}"),
    "unknown_format": ("{file}: kan ikke lese filer av typen {suffix!r}; bruk .csv eller .xlsx",
                       "{file}: cannot read {suffix!r} files; use .csv or .xlsx"),
}


def _say(key: str, lang: str, **fields: Any) -> str:
    nb, en = _TEXTS[key]
    return (nb if lang == "nb" else en).format(**fields)


def _fold(text: Any) -> str:
    return " ".join(str(text).replace("\u00a0", " ").split()).casefold()


_CANONICAL = {_fold(h): column for column, names in HEADINGS.items() for h in names}


@dataclass(frozen=True)
class ImportProblem:
    """A rejected row: where (file, row, column), the value, and the message."""

    file: str
    row: int
    column: str | None
    value: str
    message: str


@dataclass(frozen=True)
class ImportReport:
    """What an import did: ``read == imported + rejected``; ``imported == new + changed +
    unchanged``."""

    file: str
    read: int
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    problems: tuple[ImportProblem, ...] = ()
    lang: str = "en"

    @property
    def imported(self) -> int:
        return self.new + self.changed + self.unchanged

    @property
    def rejected(self) -> int:
        return len({p.row for p in self.problems})

    @property
    def exit_code(self) -> int:
        """0 when every row was imported, 1 when a row was rejected."""
        return 1 if self.rejected else 0

    def lines(self, lang: str | None = None) -> list[str]:
        """The report as the command prints it."""
        lang = lang or self.lang
        out = [_say("summary", lang, file=self.file, read=self.read, imported=self.imported,
                    new=self.new, changed=self.changed, unchanged=self.unchanged,
                    rejected=self.rejected)]
        out += [f"PROBLEM: {p.message}" for p in self.problems]
        if self.rejected:
            out.append(_say("closing", lang, n=self.rejected))
        return out


@dataclass(frozen=True)
class _Rows:
    file: str
    read: int
    good: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    bad: list[ImportProblem] = field(default_factory=list)


def _header_map(cells: Sequence[Any]) -> dict[int, str]:
    """Position -> column for a header row (unknown headings kept as extra columns)."""
    out = {}
    for i, cell in enumerate(cells):
        text = "" if cell is None else str(cell).strip()
        if text:
            out[i] = _CANONICAL.get(_fold(text), text)
    return out


def _find_sheet(path: Path, lang: str) -> tuple[str, int]:
    """(sheet, header row) of the action plan in a workbook."""
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds on a damaged file
        raise DatasetError(f"{path.name}: cannot be read ({type(exc).__name__}: {exc})") \
            from None
    try:
        names = sorted(book.sheetnames, key=lambda n: _fold(n) not in _SHEET_NAMES)
        for name in names:
            for number, values in enumerate(book[name].iter_rows(max_row=_SCAN,
                                                                 values_only=True), start=1):
                if set(_REQUIRED) <= set(_header_map(values).values()):
                    return name, number
    finally:
        book.close()
    raise DatasetError(f"{path.name}: " + _say("no_header", lang,
                                                expected=", ".join(_REQUIRED), scan=_SCAN))


def read_actions(path: str | Path, lang: str = "en") -> _Rows:
    """The rows of an actions file as column -> text, each with its row in the file; rows
    that cannot be read (ragged, broken quotes) as problems.

    Raises
    ------
    DatasetError
        The file cannot be used at all (missing, empty, unreadable, no header with
        ``wave``, ``unit_id`` and ``measure``).
    """
    from workbench.io import ColumnMapping, read_table

    path = Path(path)
    name = path.name
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".txt", ".tsv", ".xlsx", ".xlsm"):
        raise DatasetError(_say("unknown_format", lang, file=name, suffix=suffix))
    if not path.is_file():
        raise DatasetError(f"{name}: " + ("filen finnes ikke" if lang == "nb" else
                                          "file not found"))
    mapping = ColumnMapping()
    if suffix in (".xlsx", ".xlsm"):
        sheet, header_row = _find_sheet(path, lang)
        mapping = ColumnMapping(sheet=sheet, header_row=header_row)
    try:
        table = read_table(path, mapping=mapping)
    except DatasetError as exc:
        problem = getattr(exc, "problem", None)
        raise DatasetError(problem.message(lang) if problem is not None else str(exc)) \
            from None
    columns = _header_map(list(table.frame.columns))
    found = set(columns.values())
    for column in _REQUIRED:
        if column not in found:
            raise DatasetError(f"{name}: " + _say("missing_column", lang, column=column,
                                                   found=", ".join(table.frame.columns)))
    bad = [ImportProblem(name, int(p.row or 0), p.column, p.value or "", p.message(lang))
           for p in table.problems if p.row is not None and p.row in table.rejected]
    values = table.frame.to_numpy()
    good = [(int(row), {columns[i]: values[k, i] for i in columns})
            for k, row in enumerate(table.rows)]
    # a handout's empty plan rows may come with the wave, unit and a status filled in: a row
    # with nothing else is blank, not a row read
    filled = [(row, cells) for row, cells in good
              if any(str(v).strip() for c, v in cells.items() if c not in _PREFILLED)]
    return _Rows(file=name, read=int(table.read) - (len(good) - len(filled)), good=filled,
                 bad=bad)


def import_actions(store: Store, path: str | Path, release=None, access: Access | None = None,
                   lang: str = "en") -> ImportReport:
    """Import an ``actions.csv`` or a filled-in handout workbook into the store.

    Parameters
    ----------
    store
        The workshop store.
    path
        The file (``.csv`` or ``.xlsx``).
    release
        The release (or a :class:`~workbench.workshop.Catalog`): rows may only name its
        waves, units and factors. Without it only formats are checked.
    access
        Who imports (default: the command line, every unit). A leader's access imports
        its own unit's rows only; other rows are rejected.
    lang
        Language of the messages (``nb`` or ``en``).

    Returns
    -------
    ImportReport
        Counts and the rejected rows (file, row, column, value, message).

    Raises
    ------
    DatasetError
        The file cannot be used at all (exit code 2).
    """
    path = Path(path)
    rows = read_actions(path, lang)
    catalog = release if release is None or isinstance(release, Catalog) else \
        Catalog.from_release(release)
    access = access or Access.command(f"import {path.name}")
    workshop = Workshop(store, access, catalog)
    problems = list(rows.bad)

    def reject(row: int, problem: FieldProblem) -> None:
        problems.append(ImportProblem(rows.file, row, problem.column, problem.value,
                                      problem.message(lang, rows.file, row)))

    checked: list[tuple[int, Action]] = []
    seen: dict[tuple[str, ...], int] = {}
    for row, values in rows.good:
        action, found = clean_action(values, catalog)
        if found:
            for problem in found:
                reject(row, problem)
            continue
        keys = [(action.wave, action.unit_id, action.factor, _measure_key(action.measure))]
        if action.id:
            keys.append(("id", action.id))
        first = next((seen[k] for k in keys if k in seen), None)
        if first is not None:
            reject(row, FieldProblem("duplicate_row", "measure", action.measure,
                                     {"first": first}))
            continue
        for k in keys:
            seen[k] = row
        checked.append((row, action))
    counts = {"new": 0, "changed": 0, "unchanged": 0}
    if checked:
        outcomes = workshop.import_actions([a for _, a in checked])
        for (row, action), (outcome, detail) in zip(checked, outcomes):
            if outcome in counts:
                counts[outcome] += 1
            elif outcome == "forbidden":
                reject(row, FieldProblem(detail.key, "unit_id", action.unit_id, detail.fields))
            else:
                reject(row, detail)
    problems.sort(key=lambda p: p.row)
    return ImportReport(file=rows.file, read=rows.read, problems=tuple(problems), lang=lang,
                        **counts)


# --------------------------------------------------------------------------------------------
# Export


def export_columns(actions: Sequence[Action]) -> list[str]:
    """The columns of an export: actions.csv's, the workbench's extras, then the extra
    columns the actions carry (in the order first met)."""
    extra: dict[str, None] = {}
    for action in actions:
        for key in action.extra:
            extra.setdefault(key, None)
    fixed = [*ACTION_COLUMNS, *ACTION_EXTRA]
    return [*fixed, *(k for k in extra if k not in fixed)]


def export_rows(actions: Sequence[Action], columns: Sequence[str]) -> list[list[Any]]:
    """One row of values per action (empty text for what is not set; version a number)."""
    out = []
    for a in actions:
        known = {"wave": a.wave, "unit_id": a.unit_id, "factor": a.factor, "area": a.area,
                 "measure": a.measure, "goal": a.goal, "responsible": a.responsible,
                 "deadline": a.deadline or "", "status": a.status, "impact": a.impact or "",
                 "feasibility": a.feasibility or "", "action_id": a.id, "version": a.version}
        out.append([known[c] if c in known else a.extra.get(c, "") for c in columns])
    return out


def _text_cell(sheet, value: str):
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(sheet, value=value)
    cell.data_type = "s"
    return cell


def _xlsx(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> bytes:
    import openpyxl
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("actions")
    bold = Font(bold=True)
    header = []
    for name in columns:
        cell = WriteOnlyCell(sheet, value=name)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    for values in rows:
        # openpyxl reads a text starting with "=" as a formula: such a text (a leader's own
        # words) is written as a text cell; everything else as it is, which is faster
        sheet.append([_text_cell(sheet, v) if isinstance(v, str) and v.startswith("=")
                      else (v if v != "" else None) for v in values])
    buffer = _io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def export_actions(store: Store, out: str | Path | None = None, wave: str | None = None,
                   unit: str | None = None, fmt: str = "csv") -> tuple[int, str | bytes]:
    """Write the action plans (of one wave, one unit) as CSV or XLSX.

    Importing the file again changes nothing.

    Returns
    -------
    (rows, content)
        The number of actions and the file's content (text for CSV, bytes for XLSX), also
        written to ``out`` when given.
    """
    if fmt not in ("csv", "xlsx"):
        raise UsageError(f"--format must be csv or xlsx, got {fmt!r}")
    actions = store.actions(wave=wave, unit=unit)
    columns = export_columns(actions)
    rows = export_rows(actions, columns)
    if fmt == "xlsx":
        content: str | bytes = _xlsx(columns, rows)
    else:
        buffer = _io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(rows)
        content = buffer.getvalue()
    if out is not None:
        target = Path(out)
        if target.is_dir():
            raise UsageError(f"--out {target} is a folder; give a file name such as "
                             f"actions.{fmt}")
        try:
            if isinstance(content, bytes):
                target.write_bytes(content)
            else:
                target.write_text(content, encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot write {target} ({exc.strerror}); choose a file in a "
                             "folder you can write to") from None
    return len(actions), content
