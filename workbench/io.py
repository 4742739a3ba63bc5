"""Readers for survey exports and the mapping file for foreign exports.

Every reader returns a :class:`RawTable`: the cells column by column, each record with the row
number it has in the file, and the problems met while reading (ragged or truncated rows, a
header on the wrong row, mapping keys that match nothing). Nothing is converted or dropped
silently here; :mod:`workbench.validate` checks the values.

Cells are text for CSV and XLSX files (spreadsheet numbers written as a CSV cell would hold
them: 4.0 -> "4"). A Parquet file's numeric columns stay numeric (pandas nullable integers
with ``<NA>``, floats with NaN): the checks work on the column and only offending cells
become text, for the messages (:func:`cell_text`, :func:`as_text`). A missing value is an
empty cell, whatever the format.

Supported: CSV (comma, semicolon or tab; UTF-8, UTF-8 with BOM, Windows-1252/Latin-1;
LF or CRLF line endings; decimal comma), XLSX (openpyxl) and Parquet (pyarrow; Arrow string,
dictionary and nullable integer columns).
"""

from __future__ import annotations

import csv
import io as _io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

import numpy as np
import pandas as pd
import yaml

from workbench._problems import Problem
from workbench.errors import DatasetError
from workbench.instrument import Text

__all__ = ["RawTable", "ColumnMapping", "RowFilter", "read_mapping", "read_table",
           "HEADER_SCAN_ROWS", "fold", "as_text", "cell_text"]

HEADER_SCAN_ROWS = 20
MISSING_WORDS = frozenset({"missing", "na", "none", "null", ""})
MAPPING_KEYS = frozenset({"columns", "values", "constants", "respondent_id", "header_row",
                          "sheet", "ignore", "unit_names", "filters"})


def fold(label: Any) -> str:
    """A label as mappings match it: case, repeated and no-break spaces ignored.

    >>> fold("Jeg\xa0trives  PÅ jobb ")
    'jeg trives på jobb'
    """
    return " ".join(str(label).split()).casefold()


@dataclass(frozen=True)
class RowFilter:
    """Keep only the rows whose ``column`` is filled, empty, or holds one of ``values``."""

    column: str
    keep: str  # "filled", "empty" or "in"
    values: tuple[str, ...] = ()

    def describe(self) -> str:
        if self.keep == "in":
            return f"{self.column}: {', '.join(self.values)}"
        return f"{self.column}: {self.keep}"


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
        unit_names: true                                # units by name (units.csv name
                                                        # or name_en) instead of by id
        filters: {submitdate: filled, Status: [Fullført]}  # keep only these rows

    Column names (in ``columns``, ``values``, ``ignore`` and ``filters``) match the export's
    headers ignoring case, repeated spaces and no-break spaces; ``values`` and ``filters``
    may name a column by the export's name or by the workbench's. A per-column label map is
    merged over the ``"*"`` map (its labels win).
    """

    columns: Mapping[str, str] = field(default_factory=dict)
    values: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    constants: Mapping[str, str] = field(default_factory=dict)
    respondent_id_from_row: bool = False
    header_row: int | None = None
    sheet: str | None = None
    ignore: frozenset[str] = frozenset()
    unit_names: bool = False
    filters: tuple[RowFilter, ...] = ()
    source: str = "mapping.yaml"

    def value_map(self, column: str) -> Mapping[str, str] | None:
        """Label -> code for ``column`` (folded labels): its own map merged over ``"*"``."""
        star = self.values.get("*") or {}
        own = self.values.get(column) or {}
        return {**star, **own} or None


_fold = fold


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
    unknown = sorted(set(data) - MAPPING_KEYS)
    if unknown:
        raise DatasetError(f"{path}: unknown key(s) {', '.join(unknown)}; "
                           f"known keys: {', '.join(sorted(MAPPING_KEYS))}")
    for key in ("columns", "values", "constants"):
        if data.get(key) is not None and not isinstance(data[key], dict):
            raise DatasetError(f"{path}: {key} must be a mapping, got {data[key]!r}")
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
    unit_names = data.get("unit_names", False)
    if not isinstance(unit_names, bool):
        raise DatasetError(f"{path}: unit_names must be true or false, got {unit_names!r}")
    ignore = data.get("ignore") or ()
    if not isinstance(ignore, (list, tuple)):
        raise DatasetError(f"{path}: ignore must be a list of column names, got {ignore!r}")
    return ColumnMapping(
        columns={str(k): str(v) for k, v in (data.get("columns") or {}).items()},
        values=values,
        constants={str(k): str(v) for k, v in (data.get("constants") or {}).items()},
        respondent_id_from_row=rid == "row",
        header_row=header_row,
        sheet=None if data.get("sheet") is None else str(data["sheet"]),
        ignore=frozenset(str(c) for c in ignore),
        unit_names=unit_names,
        filters=_filters(data.get("filters"), path),
        source=path.name,
    )


def _filters(raw: Any, path: Path) -> tuple[RowFilter, ...]:
    """``filters: {column: filled | empty | value | [values]}``."""
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        raise DatasetError(f"{path}: filters must map column names to filled, empty, a value "
                           f"or a list of values, e.g. {{submitdate: filled}}; got {raw!r}")
    out = []
    for column, rule in raw.items():
        if isinstance(rule, str) and rule.strip().casefold() in ("filled", "empty"):
            out.append(RowFilter(str(column), rule.strip().casefold()))
        elif isinstance(rule, (str, int, float)) and not isinstance(rule, bool):
            out.append(RowFilter(str(column), "in", (_plain(rule),)))
        elif isinstance(rule, list) and rule and all(
                isinstance(v, (str, int, float)) and not isinstance(v, bool) for v in rule):
            out.append(RowFilter(str(column), "in", tuple(_plain(v) for v in rule)))
        else:
            raise DatasetError(f"{path}: filters.{column} must be filled, empty, a value or a "
                               f"list of values, got {rule!r}")
    return tuple(out)


def _plain(value: Any) -> str:
    return cell_text(value).strip()


@dataclass(frozen=True, eq=False)
class RawTable:
    """A table as read from a file: text cells and each record's row in the file.

    Attributes
    ----------
    file
        The file's name as shown in messages.
    frame
        The cells, columns renamed by the mapping: trimmed text (empty string for an empty
        cell; an object column, or a pandas ``str`` column for a Parquet file's strings),
        or for ``read_table(..., text=False)`` a Parquet file's numeric columns as numbers
        (missing as ``<NA>``/NaN).
    rows
        The file row of each record of ``frame`` (same order).
    read
        Data records read from the file, including those in ``rejected``.
    rejected
        File rows that could not be turned into a record (ragged, truncated).
    problems
        What went wrong while reading.
    raw_rows
        The cells of the ``rejected`` rows (for the quarantine file).
    left_out
        Rows of ``frame`` the mapping's filters leave out (None: no filter).
    labels
        Label maps of the mapping file by the workbench's column name (export names
        resolved), without the ``"*"`` map.
    sheet
        The spreadsheet sheet read (XLSX), else None.
    filter_columns
        Columns the mapping's filters read (used, so no "unknown column" note).
    """

    file: str
    frame: pd.DataFrame
    rows: np.ndarray
    read: int
    rejected: tuple[int, ...] = ()
    problems: tuple[Problem, ...] = ()
    raw_rows: Mapping[int, list[str]] = field(default_factory=dict)
    left_out: np.ndarray | None = field(default=None, repr=False)
    labels: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    sheet: str | None = None
    filter_columns: frozenset[str] = frozenset()


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
    """Yield (file row where the record starts, fields); a blank line (no cell with text)
    comes as ``(row, [])``, for the reader to count.

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
        yield start, record if any(cell.strip() for cell in record) else []
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


def cell_text(value: Any) -> str:
    """One cell as a CSV file would hold it: "" for missing, 4.0 -> "4", dates in ISO form.

    >>> [cell_text(v) for v in (None, 4.0, 3.5, True, pd.NA, "x")]
    ['', '4', '3.5', '1', '', 'x']
    """
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, (bool, np.bool_)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        value = float(value)
        if np.isnan(value):
            return ""
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, np.integer):
        return str(int(value))
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


_cell = cell_text


def as_text(column: pd.Series | np.ndarray) -> np.ndarray:
    """A column as trimmed text cells (object array; "" for missing).

    Text columns are trimmed in one vectorised pass (Arrow compute); other columns (numbers,
    categories, dates) are turned into text once per distinct value (:func:`cell_text`).
    """
    series = column if isinstance(column, pd.Series) else pd.Series(column, dtype=object)
    dtype = series.dtype
    if isinstance(dtype, pd.StringDtype) or (
            dtype.kind == "O" and pd.api.types.infer_dtype(series, skipna=True) == "string"):
        return _arrow_text(series.array)
    keys, uniques = pd.factorize(series.array, use_na_sentinel=True)
    texts = [cell_text(u).strip() for u in np.asarray(uniques, dtype=object)]
    return np.asarray(texts + [""], dtype=object)[keys]


def _arrow_text(values: Any, as_numpy: bool = True) -> Any:
    """Strings (a pandas or Arrow array; None/NaN/<NA> missing) trimmed, "" for missing: an
    object array, or (``as_numpy=False``) a pandas ``str`` array kept in Arrow memory.

    A column of few distinct strings is trimmed once per distinct string (dictionary
    encoding), then spread over the rows.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    array = values if isinstance(values, (pa.Array, pa.ChunkedArray)) else \
        pa.array(values, type=pa.large_string(), from_pandas=True)
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    sample = array.slice(0, 2000)
    if not as_numpy or (len(sample) and pc.count_distinct(sample).as_py() > len(sample) // 2):
        trimmed = pc.fill_null(pc.utf8_trim_whitespace(array), "")
        if not as_numpy:
            return pd.array(trimmed, dtype="str")
        return np.asarray(trimmed.to_numpy(zero_copy_only=False), dtype=object)
    encoded = pc.dictionary_encode(array)
    words = pc.utf8_trim_whitespace(encoded.dictionary).to_numpy(zero_copy_only=False)
    words = np.append(np.asarray(words, dtype=object), "")
    index = pc.fill_null(encoded.indices, len(words) - 1).to_numpy(zero_copy_only=False)
    return words[index]


def _is_numeric(series: pd.Series) -> bool:
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return False
    return pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)


def _xlsx_sheets(path: Path) -> list[str]:
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True)
    try:
        return list(book.sheetnames)
    finally:
        book.close()


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
            yield number, cells  # [] for a blank row, for the reader to count
    finally:
        book.close()


def _arrow_integers(column: Any) -> pd.api.extensions.ExtensionArray:
    """An Arrow integer column (nulls allowed) as a pandas nullable integer array of the
    smallest type that holds its values (int8 for answer codes): no copy wider than that."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    bounds = pc.min_max(column)
    lo, hi = bounds["min"].as_py(), bounds["max"].as_py()
    if lo is None:  # every cell empty
        return pd.array(np.full(len(column), pd.NA), dtype="Int8")
    for target in (pa.int8(), pa.int16(), pa.int32(), pa.int64()):
        info = np.iinfo(target.to_pandas_dtype())
        if info.min <= lo and hi <= info.max:
            small = column.cast(target)
            data = small.fill_null(0).to_numpy(zero_copy_only=False)
            mask = small.is_null().to_numpy(zero_copy_only=False)
            return pd.arrays.IntegerArray(np.asarray(data), np.asarray(mask, dtype=bool))
    # unsigned values beyond int64: keep them exact as text-like objects
    return pd.array([None if v is None else int(v) for v in column.to_pylist()], dtype=object)


def _parquet_frame(path: Path) -> pd.DataFrame:
    """A Parquet file column by column: numeric columns stay numeric (nullable integers keep
    ``<NA>``), the others (Arrow strings, dictionaries, booleans, dates) become trimmed text
    with "" for missing. No cell is turned into text one by one."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    out = {}
    for name, column in zip(table.column_names, table.columns):
        kind = column.type
        if pa.types.is_dictionary(kind):
            column = column.cast(kind.value_type)
            kind = kind.value_type
        if pa.types.is_integer(kind):
            out[str(name)] = pd.Series(_arrow_integers(column), copy=False)
        elif pa.types.is_floating(kind) or pa.types.is_decimal(kind):
            out[str(name)] = pd.Series(column.to_pandas()).astype("float64")
        elif pa.types.is_string(kind) or pa.types.is_large_string(kind):
            out[str(name)] = pd.Series(_arrow_text(column, as_numpy=False), copy=False)
        else:
            out[str(name)] = pd.Series(as_text(pd.Series(column.to_pandas())), dtype=object)
    if not out:
        return pd.DataFrame(index=pd.RangeIndex(table.num_rows))
    return pd.concat(out, axis=1)  # no copy of the columns, unlike DataFrame(dict)


def _records(path: Path, sheet: str | None) -> tuple[Iterable[tuple[int, list[str]]], str]:
    """The file's records and its kind (csv or xlsx)."""
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _xlsx_records(path, sheet), "xlsx"
    text = _decode(path.read_bytes())
    return _csv_records(text, _delimiter(text)), "csv"


class _Renamer:
    """Export headers to the workbench's columns: the mapping's ``columns`` first, then a
    header that equals a known column but for case and spaces. Keys fold (case, repeated and
    no-break spaces ignored)."""

    def __init__(self, mapping: ColumnMapping, known: Iterable[str]):
        self.columns = {fold(k): v for k, v in mapping.columns.items()}
        self.known = {fold(k): k for k in known}

    def __call__(self, header: Iterable[str]) -> list[str]:
        out = []
        for cell in header:
            name = str(cell).strip()
            key = fold(name)
            out.append(self.columns.get(key, self.known.get(key, name)))
        return out


def read_table(path: Path, required: Iterable[str] = (), mapping: ColumnMapping | None = None,
               display: str | None = None, known: Iterable[str] = (),
               text: bool = True) -> RawTable:
    """Read a CSV, XLSX or Parquet file into a :class:`RawTable`.

    Parameters
    ----------
    path
        The file.
    required
        Columns (after renaming) that identify the header row; the header is searched for
        in the first ``HEADER_SCAN_ROWS`` rows when row 1 does not hold them all.
    mapping
        Column renames, answer labels, constants, filters for foreign exports.
    display
        The file's name in messages (default: its name).
    known
        The workbench's column names: a header equal to one but for case and spaces is
        renamed to it.
    text
        True: every column as text. False: a Parquet file's numeric columns stay numeric.

    Raises
    ------
    DatasetError
        Carrying an ``unusable`` :class:`Problem` in ``.problem`` when the file cannot be
        used at all (missing, empty, unreadable, no header).
    """
    mapping = mapping or ColumnMapping()
    name = display or path.name
    required = tuple(required)
    known = tuple(known) + required
    if not path.is_file():
        raise _unusable(Problem("missing_file", name))
    if path.stat().st_size == 0:
        raise _unusable(Problem("empty_file", name))
    rename = _Renamer(mapping, known)
    needed = [c for c in required if c not in mapping.constants
              and not (c == "respondent_id" and mapping.respondent_id_from_row)]
    problems: list[Problem] = []
    sheet = None
    try:
        if path.suffix.lower() == ".parquet":
            kind = "parquet"
            frame = _parquet_frame(path)
        else:
            records, kind = _records(path, mapping.sheet)
            records = list(records)
            blank = [row for row, cells in records if not cells]
            records = [(row, cells) for row, cells in records if cells]
            if kind == "xlsx":
                sheets = _xlsx_sheets(path)
                sheet = mapping.sheet or sheets[0]
                if mapping.sheet is None and len(sheets) > 1:
                    problems.append(Problem("other_sheets", name, value=sheet, detail={
                        "others": ", ".join(repr(s) for s in sheets[1:])}))
    except DatasetError:
        raise
    except Exception as exc:  # pyarrow and openpyxl raise many kinds on a damaged file
        raise _unusable(Problem("unreadable_file", name,
                                detail={"reason": f"{type(exc).__name__}: {exc}"})) from None

    if kind == "parquet":
        source = list(frame.columns)
        header = rename(source)
        missing = [c for c in needed if c not in header]
        if missing:
            raise _unusable(Problem("missing_column", name, column=missing[0],
                                    detail={"found": listed(source)}))
        _check_duplicates(header, name, None)
        frame.columns = header
        rows = np.arange(1, len(frame) + 1, dtype=np.int64)
        read, rejected, raw_rows = len(frame), (), {}
        if not read:
            raise _unusable(Problem("no_data_rows", name))
    else:
        if not records:
            raise _unusable(Problem("empty_file", name))
        header_at = _find_header(records, needed, rename, mapping, name, problems, sheet)
        header_row, source = records[header_at]
        source = [str(c).strip() for c in source]
        while source and source[-1] == "" and kind != "csv":
            source.pop()
        header = rename(source)
        _check_duplicates(header, name, header_row)
        frame, rows, rejected, raw_rows = _body(records[header_at + 1:], header, kind, name,
                                                problems)
        read = len(rows) + len(rejected)
        # blank rows between the header and the last record hold no answers: not rows read,
        # but said, so that the rows of the file add up (trailing ones are not worth a word)
        inside = [r for r in blank if header_row < r < records[-1][0]]
        if inside:
            problems.append(Problem("blank_rows", name, detail={
                "count": len(inside),
                "rows": listed(inside, 10)}))
    # Filters and label maps may name a column by the export's name or the workbench's.
    by_fold = {fold(s): h for s, h in zip(source, header) if h}
    by_fold.update({fold(h): h for h in header if h})
    unmatched: list[tuple[str, str]] = []  # (mapping key, entry)
    labels: dict[str, dict[str, str]] = {}
    for key, table in mapping.values.items():
        if key == "*":
            continue
        target = by_fold.get(fold(key), key if key in mapping.constants else None)
        if target is None:
            unmatched.append((f"values.{key}", key))
        else:
            labels[target] = {**labels.get(target, {}), **table}
    present = {fold(s) for s in source}
    for key in mapping.columns:
        if fold(key) not in present:
            unmatched.append((f"columns.{key}", key))
    ignored = set()
    for key in sorted(mapping.ignore):
        target = by_fold.get(fold(key))
        if target is None:
            unmatched.append((f"ignore.{key}", key))
        else:
            ignored.add(target)
    for where, key in unmatched:
        problems.append(Problem("mapping_unmatched", mapping.source, column=where, value=key,
                                detail={"file": name, "hint": _hint(key, source)}))
    left_out = None
    filter_columns = set()
    if mapping.filters:
        keep = np.ones(len(frame), dtype=bool)
        for rule in mapping.filters:
            target = by_fold.get(fold(rule.column))
            if target is not None:
                filter_columns.add(target)
            if target is None:
                problems.append(Problem("filter_unmatched", mapping.source,
                                        column=f"filters.{rule.column}", value=rule.column,
                                        detail={"file": name,
                                                "hint": _hint(rule.column, source)}))
                continue
            cells = as_text(frame[target])
            if rule.keep == "filled":
                keep &= cells != ""
            elif rule.keep == "empty":
                keep &= cells == ""
            else:
                keep &= pd.Series(cells).map(fold).isin([fold(v) for v in rule.values]) \
                    .to_numpy()
        left_out = ~keep
    frame = frame.loc[:, [c for c in header if c and c not in ignored]]
    if text or kind != "parquet":
        for column in frame.columns:
            if kind == "parquet":
                frame[column] = as_text(frame[column])
            else:
                frame[column] = _strip(frame[column].to_numpy())
    for column, value in mapping.constants.items():
        if column not in frame.columns:
            frame[column] = value
    if mapping.respondent_id_from_row and "respondent_id" not in frame.columns:
        frame.insert(0, "respondent_id", rows.astype(str).astype(object))
    return RawTable(file=name, frame=frame, rows=rows, read=read, rejected=tuple(rejected),
                    problems=tuple(problems), raw_rows=raw_rows, left_out=left_out,
                    labels=labels, sheet=sheet, filter_columns=frozenset(filter_columns))


def listed(values: Iterable[Any], first: int = 30) -> str:
    """The first ``first`` values (column names, row numbers) for a message, then
    ", ... (+k)" for the k more when there are.

    >>> listed([4, 5, 6, 7], 2)
    '4, 5, ... (+2)'
    """
    values = [str(v) for v in values]
    more = len(values) - first
    return ", ".join(values[:first]) + (f", ... (+{more})" if more > 0 else "")


def closest(value: Any, choices: Iterable[Any], n: int = 1, cutoff: float = 0.6) -> list[str]:
    """The (at most ``n``) choices nearest to ``value``, compared folded (:func:`fold`),
    nearest first, as written in ``choices``: for "did you mean ..." hints.

    >>> closest("nv-geo", ["NV-GEO", "NV-FYS", "HF"])
    ['NV-GEO']
    """
    import difflib

    folded: dict[str, list[str]] = {}
    for choice in choices:
        if str(choice).strip():
            folded.setdefault(fold(choice), []).append(str(choice))
    near = difflib.get_close_matches(fold(value), list(folded), n=n, cutoff=cutoff)
    return [c for key in near for c in folded[key]][:n]


def _hint(value: str, choices: Iterable[str]) -> Text | str:
    """"; did you mean ..." for the closest of ``choices``, compared folded."""
    close = closest(value, choices)
    if not close:
        return ""
    return Text(nb=f"; mente du {close[0]!r}?", en=f"; did you mean {close[0]!r}?")


def _check_duplicates(header: list[str], name: str, row: int | None) -> None:
    seen: set[str] = set()
    for column in header:
        if column in seen and column:
            raise _unusable(Problem("duplicate_column", name, row=row, column=column))
        seen.add(column)


def _find_header(records: list[tuple[int, list[str]]], needed: list[str], rename: _Renamer,
                 mapping: ColumnMapping, name: str, problems: list[Problem],
                 sheet: str | None) -> int:
    """Position in ``records`` of the header record."""
    where = {"sheet": f" of sheet {sheet!r}" if sheet else ""}
    if mapping.header_row is not None:
        header_at = next((i for i, (row, _) in enumerate(records) if row >= mapping.header_row),
                         len(records))
        if header_at >= len(records) or records[header_at][0] != mapping.header_row:
            raise _unusable(Problem("header_not_found", name,
                                    detail={"expected": ", ".join(needed),
                                            "scanned": mapping.header_row, **where}))
        return header_at
    first = rename(records[0][1])
    if not needed or set(needed) <= set(first):
        return 0
    found = next((i for i, (_, rec) in enumerate(records[:HEADER_SCAN_ROWS])
                  if set(needed) <= set(rename(rec))), None)
    if found is None:
        if len(set(needed) & set(first)) > 0:
            missing = [c for c in needed if c not in first]
            raise _unusable(Problem("missing_column", name, column=missing[0],
                                    detail={"found": listed(records[0][1])}))
        raise _unusable(Problem("header_not_found", name,
                                detail={"expected": ", ".join(needed),
                                        "scanned": HEADER_SCAN_ROWS, **where}))
    problems.append(Problem("header_on_wrong_row", name, row=records[found][0]))
    return found


def _body(body: list[tuple[int, list[str]]], header: list[str], kind: str, name: str,
          problems: list[Problem]
          ) -> tuple[pd.DataFrame, np.ndarray, list[int], dict[int, list[str]]]:
    """The data records under the header as a text frame; ragged and broken rows apart."""
    width = len(header)
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
    return frame, np.asarray(good_rows, dtype=np.int64), rejected, raw_rows


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
