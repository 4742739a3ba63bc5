"""Readers for survey exports and the mapping file for foreign exports.

Every reader returns a :class:`RawTable`: all cells as text, each record with the row number
it has in the file, and the problems met while reading (ragged or truncated rows, a header on
the wrong row). Nothing is converted or dropped silently here; :mod:`workbench.validate`
checks the values.

Supported: CSV (comma, semicolon or tab; UTF-8, UTF-8 with BOM, Windows-1252/Latin-1;
decimal comma), XLSX (openpyxl) and Parquet (pyarrow).
"""

from __future__ import annotations

import csv
import io as _io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

import numpy as np
import pandas as pd
import yaml

from workbench._problems import Problem
from workbench.errors import DatasetError

__all__ = ["RawTable", "ColumnMapping", "read_mapping", "read_table", "HEADER_SCAN_ROWS"]

HEADER_SCAN_ROWS = 20
MISSING_WORDS = frozenset({"missing", "na", "none", "null", ""})


@dataclass(frozen=True)
class ColumnMapping:
    """How a foreign export maps onto the workbench's columns and codes.

    Written as YAML::

        columns: {GRP: unit_id, "Hvor fornøyd": AUT1}   # source column -> workbench column
        values:                                         # answer labels -> codes
          "*": {"Svært enig": 5, "Vet ikke": missing}   # every item and extra question
          gender: {Kvinne: female, Mann: male}          # one column (workbench name)
        constants: {wave: "2000"}                       # a column the export lacks
        respondent_id: row                              # ids from the row number
        header_row: 3                                   # spreadsheet row of the header
        sheet: Data                                     # spreadsheet sheet
        ignore: [HRS, RELIG]                            # source columns to leave out
    """

    columns: Mapping[str, str] = field(default_factory=dict)
    values: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    constants: Mapping[str, str] = field(default_factory=dict)
    respondent_id_from_row: bool = False
    header_row: int | None = None
    sheet: str | None = None
    ignore: frozenset[str] = frozenset()

    def value_map(self, column: str) -> Mapping[str, str] | None:
        """Label -> code for ``column`` (keys lower-cased and trimmed), or None."""
        return self.values.get(column) or self.values.get("*")


def _fold(label: Any) -> str:
    return " ".join(str(label).split()).casefold()


def read_mapping(path: Path) -> ColumnMapping:
    """Read a mapping file; raise :class:`DatasetError` naming what is wrong."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise DatasetError(f"{path}: mapping file not found") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise DatasetError(f"{path}: not a readable YAML mapping file ({exc})") from None
    if not isinstance(data, dict):
        raise DatasetError(f"{path}: a mapping file must be a YAML mapping")
    known = {"columns", "values", "constants", "respondent_id", "header_row", "sheet", "ignore"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise DatasetError(f"{path}: unknown key(s) {', '.join(unknown)}; "
                           f"known keys: {', '.join(sorted(known))}")
    values: dict[str, dict[str, str]] = {}
    for column, labels in (data.get("values") or {}).items():
        if not isinstance(labels, dict):
            raise DatasetError(f"{path}: values.{column} must map labels to codes")
        values[str(column)] = {
            _fold(k): ("" if v is None or _fold(v) in MISSING_WORDS else str(v))
            for k, v in labels.items()}
    rid = data.get("respondent_id")
    if rid not in (None, "row"):
        raise DatasetError(f"{path}: respondent_id may only be 'row' (make ids from row numbers)")
    header_row = data.get("header_row")
    if header_row is not None and (not isinstance(header_row, int) or header_row < 1):
        raise DatasetError(f"{path}: header_row must be a row number (1 or more)")
    return ColumnMapping(
        columns={str(k): str(v) for k, v in (data.get("columns") or {}).items()},
        values=values,
        constants={str(k): str(v) for k, v in (data.get("constants") or {}).items()},
        respondent_id_from_row=rid == "row",
        header_row=header_row,
        sheet=None if data.get("sheet") is None else str(data["sheet"]),
        ignore=frozenset(str(c) for c in data.get("ignore") or ()),
    )


@dataclass(frozen=True, eq=False)
class RawTable:
    """A table as read from a file: text cells and each record's row in the file.

    Attributes
    ----------
    file
        The file's name as shown in messages.
    frame
        Text cells (empty string for an empty cell), columns renamed by the mapping.
    rows
        The file row of each record of ``frame`` (same order).
    read
        Data records read from the file, including those in ``rejected``.
    rejected
        File rows that could not be turned into a record (ragged, truncated).
    problems
        What went wrong while reading.
    """

    file: str
    frame: pd.DataFrame
    rows: np.ndarray
    read: int
    rejected: tuple[int, ...] = ()
    problems: tuple[Problem, ...] = ()
    raw_rows: Mapping[int, list[str]] = field(default_factory=dict)


def _decode(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _delimiter(text: str) -> str:
    # The delimiter is the one that splits most of the first lines into the same number of
    # fields: a title line ("Eksport; 2023") or a header cell with semicolons in it must not
    # outvote a comma that every data line holds (nor decimal commas a semicolon).
    lines = [line for line in text[:1 << 16].splitlines() if line.strip()][:HEADER_SCAN_ROWS]
    best, score = ",", (0, 0)
    for d in (",", ";", "\t"):
        counts = [line.count(d) for line in lines if d in line]
        if counts:
            usual = max(sorted(set(counts)), key=counts.count)
            if (counts.count(usual), usual) > score:
                best, score = d, (counts.count(usual), usual)
    return best


_BROKEN = "\x00broken"  # first field of a record the csv module could not read


def _csv_records(text: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """Yield (file row where the record starts, fields); blank lines are skipped.

    A record the csv module cannot read (a field beyond its size limit, e.g. after a stray
    quote) comes as ``[_BROKEN, reason, last row]``; reading goes on after it.
    """
    reader = csv.reader(_io.StringIO(text, newline=""), delimiter=delimiter)
    start = 1
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            if reader.line_num < start:  # nothing consumed: stop rather than loop
                return
            yield start, [_BROKEN, str(exc), str(reader.line_num)]
            start = reader.line_num + 1
            continue
        if any(cell.strip() for cell in record):
            yield start, record
        start = reader.line_num + 1


def _quote_problem(record: list[str], last: bool, width: int) -> tuple[str, int] | None:
    """(code, rows spanned beyond the first) when a quote ran on over rows, else None."""
    if not any("\n" in cell or "\r" in cell for cell in record):
        return None
    cells = list(record)
    # Only a quote left open at the end of the file puts the final line break into a field.
    open_to_end = last and bool(cells) and cells[-1][-1:] in ("\n", "\r")
    if open_to_end:
        cells[-1] = cells[-1].rstrip("\r\n")
    breaks = sum(len(re.findall(r"\r\n|\r|\n", cell)) for cell in cells)
    # With the right number of fields, a run-on quote shows as whole rows inside one value.
    swallowed = any(max(line.count(d) for d in ",;\t") >= width - 1
                    for cell in cells for line in cell.splitlines()[1:])
    if len(record) == width and not swallowed:
        return None
    if open_to_end:
        return "open_quote", breaks
    return ("quote_spans_rows", breaks) if breaks else None


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, float):
        if np.isnan(value):
            return ""
        return str(int(value)) if value.is_integer() else repr(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _xlsx_records(path: Path, sheet: str | None) -> Iterator[tuple[int, list[str]]]:
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        if sheet is not None and sheet not in book.sheetnames:
            raise DatasetError(f"{path.name}: no sheet named {sheet!r}; sheets: "
                               f"{', '.join(book.sheetnames)}")
        ws = book[sheet] if sheet is not None else book.worksheets[0]
        for number, values in enumerate(ws.iter_rows(values_only=True), start=1):
            cells = [_cell(v) for v in values]
            while cells and cells[-1] == "":
                cells.pop()
            if cells:
                yield number, cells
    finally:
        book.close()


def _parquet_records(path: Path) -> Iterator[tuple[int, list[str]]]:
    import pyarrow.parquet as pq

    table = pq.read_table(path).to_pandas()
    yield 0, [str(c) for c in table.columns]
    columns = [[_cell(v) for v in table[c].tolist()] for c in table.columns]
    for i, record in enumerate(zip(*columns), start=1):
        yield i, list(record)


def _records(path: Path, sheet: str | None) -> tuple[Iterable[tuple[int, list[str]]], str]:
    """The file's records and its kind (csv, xlsx or parquet)."""
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _xlsx_records(path, sheet), "xlsx"
    if suffix == ".parquet":
        return _parquet_records(path), "parquet"
    text = _decode(path.read_bytes())
    return _csv_records(text, _delimiter(text)), "csv"


def read_table(path: Path, required: Iterable[str] = (), mapping: ColumnMapping | None = None,
               display: str | None = None) -> RawTable:
    """Read a CSV, XLSX or Parquet file into a :class:`RawTable`.

    Parameters
    ----------
    path
        The file.
    required
        Columns (after renaming) that identify the header row; the header is searched for
        in the first ``HEADER_SCAN_ROWS`` rows when row 1 does not hold them all.
    mapping
        Column renames, answer labels, constants for foreign exports.
    display
        The file's name in messages (default: its name).

    Raises
    ------
    DatasetError
        Carrying an ``unusable`` :class:`Problem` in ``.problem`` when the file cannot be
        used at all (missing, empty, unreadable, no header).
    """
    mapping = mapping or ColumnMapping()
    name = display or path.name
    required = tuple(required)
    if not path.is_file():
        raise _unusable(Problem("missing_file", name))
    if path.stat().st_size == 0:
        raise _unusable(Problem("empty_file", name))
    try:
        records, kind = _records(path, mapping.sheet)
        records = list(records)
    except DatasetError:
        raise
    except (zipfile.BadZipFile, OSError, KeyError, ValueError) as exc:
        raise _unusable(Problem("unreadable_file", name,
                                detail={"reason": f"{type(exc).__name__}: {exc}"})) from None
    except Exception as exc:  # pyarrow and openpyxl raise many kinds on a damaged file
        raise _unusable(Problem("unreadable_file", name,
                                detail={"reason": f"{type(exc).__name__}: {exc}"})) from None
    if not records:
        raise _unusable(Problem("empty_file", name))

    def rename(header: list[str]) -> list[str]:
        return [mapping.columns.get(c.strip(), c.strip()) for c in header]

    needed = [c for c in required if c not in mapping.constants
              and not (c == "respondent_id" and mapping.respondent_id_from_row)]
    problems: list[Problem] = []
    header_at = 0
    if mapping.header_row is not None:
        header_at = next((i for i, (row, _) in enumerate(records) if row >= mapping.header_row),
                         len(records))
        if header_at >= len(records) or records[header_at][0] != mapping.header_row:
            raise _unusable(Problem("header_not_found", name,
                                    detail={"expected": ", ".join(needed),
                                            "scanned": mapping.header_row}))
    elif needed and not set(needed) <= set(rename(records[0][1])):
        found = next((i for i, (_, rec) in enumerate(records[:HEADER_SCAN_ROWS])
                      if set(needed) <= set(rename(rec))), None)
        if found is None:
            if kind == "parquet" or len(set(needed) & set(rename(records[0][1]))) > 0:
                missing = [c for c in needed if c not in rename(records[0][1])]
                raise _unusable(Problem("missing_column", name, column=missing[0],
                                        detail={"found": ", ".join(records[0][1][:30])}))
            raise _unusable(Problem("header_not_found", name,
                                    detail={"expected": ", ".join(needed),
                                            "scanned": HEADER_SCAN_ROWS}))
        header_at = found
        problems.append(Problem("header_on_wrong_row", name, row=records[found][0]))
    header_row, header = records[header_at]
    header = rename(header)
    while header and header[-1] == "" and kind != "csv":
        header.pop()
    seen: set[str] = set()
    for column in header:
        if column in seen and column:
            raise _unusable(Problem("duplicate_column", name, row=header_row, column=column))
        seen.add(column)
    width = len(header)
    body = records[header_at + 1:]
    good_rows: list[int] = []
    good: list[list[str]] = []
    rejected: list[int] = []
    raw_rows: dict[int, list[str]] = {}
    for position, (row, record) in enumerate(body):
        if record[:1] == [_BROKEN]:
            problems.append(Problem("unreadable_row", name, row=row,
                                    detail={"reason": record[1], "last": int(record[2])}))
            rejected.append(row)
            raw_rows[row] = []
            continue
        if kind != "csv" and len(record) < width:
            record = record + [""] * (width - len(record))
        last = position == len(body) - 1
        quote = _quote_problem(record, last, width) if kind == "csv" else None
        if len(record) != width or quote is not None:
            code = "truncated_row" if last and len(record) < width else "ragged_row"
            detail = {"found": len(record), "expected": width}
            if quote is not None:
                code = quote[0]
                detail["last"] = row + quote[1]
            problems.append(Problem(code, name, row=row,
                                    value=_clip(record[-1] if record else ""),
                                    detail=detail))
            rejected.append(row)
            raw_rows[row] = record
            continue
        good_rows.append(row)
        good.append(record)
    if not body:
        raise _unusable(Problem("no_data_rows", name))
    frame = pd.DataFrame(good, columns=header, dtype=object) if good else \
        pd.DataFrame({c: pd.Series([], dtype=object) for c in header})
    frame = frame.loc[:, [c for c in header if c and c not in mapping.ignore]]
    for column in frame.columns:
        frame[column] = _strip(frame[column].to_numpy())
    rows = np.asarray(good_rows, dtype=np.int64)
    for column, value in mapping.constants.items():
        if column not in frame.columns:
            frame[column] = value
    if mapping.respondent_id_from_row and "respondent_id" not in frame.columns:
        frame.insert(0, "respondent_id", [str(r) for r in rows])
    return RawTable(file=name, frame=frame, rows=rows, read=len(body), rejected=tuple(rejected),
                    problems=tuple(problems), raw_rows=raw_rows)


def _strip(values: np.ndarray) -> np.ndarray:
    """Trim blanks around every cell, reading each distinct text once."""
    keys, uniques = pd.factorize(values)
    return np.asarray([str(u).strip() for u in uniques], dtype=object)[keys]


def _clip(value: str, width: int = 40) -> str:
    return value if len(value) <= width else value[: width - 1] + "…"


def _unusable(problem: Problem) -> DatasetError:
    error = DatasetError(problem.message("en"))
    error.problem = problem  # type: ignore[attr-defined]
    return error
