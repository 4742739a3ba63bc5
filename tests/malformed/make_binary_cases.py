"""Write the binary cases of the malformed-input corpus from ``_base``, byte for byte the same
on every run.

Binary inputs (Windows-1252 and BOM bytes, XLSX, Parquet) are awkward to write by hand, so they
are produced here and committed together with this script. Each case's ``expect.yaml`` is
written by hand. Run from the repository root after changing ``_base``::

    .venv/bin/python tests/malformed/make_binary_cases.py
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
BASE = HERE / "_base"
FIXED_TIME = (2024, 1, 1, 0, 0, 0)

# tifaktor codes -> the labels a Norwegian survey tool exports.
LABELS = {"1": "Svært uenig", "2": "Uenig", "3": "Verken enig eller uenig", "4": "Enig",
          "5": "Svært enig", "6": "Vet ikke", "": ""}
GENDER = {"female": "Kvinne", "male": "Mann", "": ""}


def base_rows() -> list[list[str]]:
    """The base responses as text cells, header first."""
    text = (BASE / "responses.csv").read_text(encoding="utf-8")
    return list(csv.reader(io.StringIO(text)))


def to_csv(rows: list[list[str]], delimiter: str = ",", newline: str = "\n") -> str:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator=newline).writerows(rows)
    return out.getvalue()


def survey_with(extra: str) -> str:
    return (BASE / "survey.yaml").read_text(encoding="utf-8") + extra


def write(folder: str, name: str, data: bytes | str) -> None:
    path = HERE / folder / name
    path.parent.mkdir(exist_ok=True)
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8", newline="\n")
    else:
        path.write_bytes(data)


def delete(folder: str, name: str) -> None:
    write(folder, f"{name}.delete", "")


def typed(rows: list[list[str]]) -> list[list[object]]:
    """Cells as a spreadsheet holds them: numbers as numbers, empty cells as None."""
    out: list[list[object]] = [list(rows[0])]
    for row in rows[1:]:
        out.append([None if c == "" else int(c) if c.isdigit() else c for c in row])
    return out


def xlsx_bytes(rows: list[list[object]], title_rows: list[str] = ()) -> bytes:
    """An XLSX file with optional title rows above the table; no timestamps vary."""
    import datetime

    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Data"
    for title in title_rows:
        sheet.append([title])
    for row in rows:
        sheet.append(row)
    book.properties.creator = "make_binary_cases.py"
    book.properties.created = datetime.datetime(2024, 1, 1)
    buffer = io.BytesIO()
    book.save(buffer)
    return _normalise_zip(buffer.getvalue())


def _normalise_zip(data: bytes) -> bytes:
    """Rewrite a zip with fixed entry times and a fixed 'modified' stamp (openpyxl sets now)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            content = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>2024-01-01T00:00:00Z",
                                 content)
            dst.writestr(zipfile.ZipInfo(info.filename, date_time=FIXED_TIME), content,
                         compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def parquet_bytes(rows: list[list[str]]) -> bytes:
    """A Parquet file as a survey tool writes it: small integer columns with nulls, text ids."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    header, body = rows[0], rows[1:]
    columns = {}
    for i, column in enumerate(header):
        values = [r[i] for r in body]
        if column in ("respondent_id", "unit_id", "gender"):
            columns[column] = pa.array([v or None for v in values], pa.string())
        else:
            kind = pa.int16() if column == "wave" else pa.int8()
            columns[column] = pa.array([int(v) if v else None for v in values], kind)
    buffer = io.BytesIO()
    pq.write_table(pa.table(columns), buffer, compression="snappy", write_statistics=False,
                   use_dictionary=False, store_schema=False)
    return buffer.getvalue()


def pandas_parquet_bytes(rows: list[list[str]]) -> bytes:
    """A Parquet file as pandas writes it by default: items as nullable integers (``Int64``,
    ``<NA>`` for a blank answer), ids and units as text."""
    import pandas as pd

    frame = pd.DataFrame(rows[1:], columns=rows[0])
    for column in rows[0][4:]:
        frame[column] = pd.to_numeric(frame[column].replace("", None)).astype("Int64")
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


def xlsx_sheets_bytes(sheets: dict[str, list[list[object]]]) -> bytes:
    """An XLSX file with several sheets, in order; no timestamps vary."""
    import datetime

    import openpyxl

    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    book.properties.creator = "make_binary_cases.py"
    book.properties.created = datetime.datetime(2024, 1, 1)
    buffer = io.BytesIO()
    book.save(buffer)
    return _normalise_zip(buffer.getvalue())


def main() -> None:
    rows = base_rows()

    # 35: Windows-1252, semicolons, Norwegian column names and answer labels, via a mapping.
    header = ["Løpenr", "Runde", "Enhet", "Kjønn"] + rows[0][4:]
    labelled = [header] + [r[:3] + [GENDER[r[3]]] + [LABELS[c] for c in r[4:]]
                           for r in rows[1:]]
    case = "35_cp1252_labels_mapping"
    write(case, "responses.csv", to_csv(labelled, ";", "\r\n").encode("cp1252"))
    write(case, "mapping.yaml", (
        "# Questback-style export: Norwegian headers, answers as labels, Windows-1252.\n"
        "columns: {Løpenr: respondent_id, Runde: wave, Enhet: unit_id, Kjønn: gender}\n"
        "values:\n"
        "  \"*\": {Svært uenig: 1, Uenig: 2, Verken enig eller uenig: 3, Enig: 4,\n"
        "        Svært enig: 5, Vet ikke: 6}\n"
        "  gender: {Kvinne: female, Mann: male}\n"))
    write(case, "survey.yaml", survey_with("mapping: mapping.yaml\n"))

    # 36: UTF-8 with a byte-order mark and CRLF line ends (Excel's "CSV UTF-8").
    case = "36_utf8_bom"
    write(case, "responses.csv", b"\xef\xbb\xbf" + to_csv(rows, ",", "\r\n").encode("utf-8"))
    units = (BASE / "units.csv").read_text(encoding="utf-8").replace("Sykehjemmet",
                                                                     "Sykehjemmet på Ås")
    write(case, "units.csv", b"\xef\xbb\xbf" + units.encode("utf-8"))

    # 38, 39: an XLSX export with two title rows above the header (header on row 3).
    titles = ["Medarbeiderundersøkelse - eksport", "Uttrekk 2024-01-01"]
    book = xlsx_bytes(typed(rows), titles)
    for case in ("38_xlsx_title_rows", "39_xlsx_header_row_mapping"):
        write(case, "responses.xlsx", book)
        delete(case, "responses.csv")
    write("39_xlsx_header_row_mapping", "mapping.yaml", "header_row: 3\n")
    write("39_xlsx_header_row_mapping", "survey.yaml", survey_with("mapping: mapping.yaml\n"))

    # 40: an XLSX with the header on row 1 and a bad answer on spreadsheet row 8.
    bad = typed(rows)
    bad[7][bad[0].index("F1_1")] = 9
    case = "40_xlsx_bad_value"
    write(case, "responses.xlsx", xlsx_bytes(bad))
    delete(case, "responses.csv")

    # 41: a damaged XLSX (the download stopped half-way).
    case = "41_xlsx_damaged"
    write(case, "responses.xlsx", xlsx_bytes(typed(rows))[:1500])
    delete(case, "responses.csv")

    # 42, 43: Parquet, clean and with a bad answer in record 5.
    write("42_parquet_clean", "responses.parquet", parquet_bytes(rows))
    delete("42_parquet_clean", "responses.csv")
    bad_rows = [list(r) for r in rows]
    bad_rows[5][rows[0].index("F3_2")] = "9"
    write("43_parquet_bad_value", "responses.parquet", parquet_bytes(bad_rows))
    delete("43_parquet_bad_value", "responses.csv")

    # 57: pandas' default Parquet (Int64 with <NA> blanks) and one answer outside the scale.
    bad_rows = [list(r) for r in rows]
    bad_rows[12][rows[0].index("F5_5")] = "0"
    case = "57_parquet_nullable_blanks"
    write(case, "responses.parquet", pandas_parquet_bytes(bad_rows))
    delete(case, "responses.csv")

    # 64: a workbook whose answers are on its first sheet, with two more sheets.
    case = "64_xlsx_other_sheets"
    write(case, "responses.xlsx", xlsx_sheets_bytes({
        "Svar": typed(rows), "Rapport": [["Svarprosent", "71 %"]], "Info": [["Eksport"]]}))
    delete(case, "responses.csv")


if __name__ == "__main__":
    main()
