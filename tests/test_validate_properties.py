"""Property tests: validation survives any corruption of a valid responses.csv and accounts for
every record it read.

The reference count is independent of ``workbench.io``: the test decodes the bytes with the
encoding it wrote them in, splits records with Python's csv module, drops blank records and,
like the header search, takes the header to be the first of the first 20 non-blank records that
holds ``respondent_id``, ``wave`` and ``unit_id`` (records above it are not data).
"""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from workbench.validate import validate_dataset

BASE = Path(__file__).resolve().parent / "malformed" / "_base"
BASE_LINES = (BASE / "responses.csv").read_text(encoding="utf-8").splitlines()
REQUIRED = {"respondent_id", "wave", "unit_id"}
HEADER_SCAN = 20  # records searched for the header (workbench.io.HEADER_SCAN_ROWS)

# Letters a Norwegian export holds, digits, and every character that means something to CSV.
ALPHABET = "abcxyzABCXYZ0123456789 æøåÆØÅé.-_:'\";,\t\n"
CELL = st.one_of(
    st.sampled_from(["", "1", "2", "3", "4", "5", "6", "7", "0", "-1", "3.5", "4,0", " 4 ", "NA",
                     "inf", "nan", "1e999", "Svært enig", "female", "2021", "2023", "skole_nord"]),
    st.text(ALPHABET, max_size=12),
    st.integers(-10**12, 10**12).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.tuples(st.text(ALPHABET, min_size=1, max_size=4), st.integers(100, 1500))
    .map(lambda t: t[0] * t[1]),  # very long values, yet far below the csv field limit
)


def _join(cells: list[str], quoted: bool) -> str:
    if not quoted:
        return ",".join(cells)  # a value with a comma, quote or line break breaks the row
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(cells)
    return out.getvalue()


@st.composite
def corrupted(draw) -> tuple[bytes, str]:
    """The base responses.csv after 1-5 random corruptions, as bytes, and their encoding."""
    lines = list(BASE_LINES)
    for _ in range(draw(st.integers(1, 5))):
        op = draw(st.sampled_from(["cell", "cell", "cell", "delete", "duplicate", "stray",
                                   "blank", "header_down"]))
        if not lines:
            break
        i = draw(st.integers(0, len(lines) - 1))
        if op == "cell":
            cells = lines[i].split(",")
            cells[draw(st.integers(0, len(cells) - 1))] = draw(CELL)
            lines[i] = _join(cells, draw(st.booleans()))
        elif op == "delete":
            del lines[i]
        elif op == "duplicate":
            lines.insert(draw(st.integers(0, len(lines))), lines[i])
        elif op == "stray":
            at = draw(st.integers(0, len(lines[i])))
            lines[i] = lines[i][:at] + draw(st.sampled_from(['"', '"', ",", ";", "\t"])) + \
                lines[i][at:]
        elif op == "blank":
            blank = draw(st.sampled_from(["", " ", ",,,,", "\t", " , "]))
            lines[i:i] = [blank] * draw(st.integers(1, 3))
        else:  # the header moves down, below some data rows
            header = lines.pop(0)
            lines.insert(draw(st.integers(1, min(25, len(lines)))), header)
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]))
    data = (newline.join(lines) + newline).encode(encoding)
    if draw(st.integers(0, 3)) == 0:  # cut the file at a random byte
        data = data[: draw(st.integers(0, len(data)))]
    return data, encoding


def reference(data: bytes, encoding: str) -> tuple[int, set[int]] | None:
    """(data records after the header, the file rows where they start), or None if there is
    no header to be found."""
    text = data.decode(encoding, errors="replace")
    reader = csv.reader(io.StringIO(text, newline=""))
    records, starts, end = [], [], 0
    for record in reader:
        if any(cell.strip() for cell in record):
            records.append(record)
            starts.append(end + 1)
        end = reader.line_num
    for i, record in enumerate(records[:HEADER_SCAN]):
        if REQUIRED <= {cell.strip() for cell in record}:
            return len(records) - i - 1, set(starts[i + 1:])
    return None


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("corrupted") / "dataset"
    shutil.copytree(BASE, path)
    return path


def check(folder: Path, data: bytes, encoding: str) -> None:
    (folder / "responses.csv").write_bytes(data)
    result = validate_dataset(folder)  # must not raise, whatever the bytes
    report = result.report
    assert report.exit_code in (0, 1, 2)
    for count in report.files:
        assert count.read == count.accepted + count.rejected
    count = report.count("responses.csv")
    expected = reference(data, encoding)
    if count is None:  # unusable: empty, no header, no data rows, a column named twice
        assert report.exit_code == 2 and result.survey is None
        (problem,) = [p for p in report.problems if p.file == "responses.csv"]
        if problem.code == "no_data_rows":
            assert expected is not None and expected[0] == 0
        elif problem.code != "duplicate_column":
            # A lone header line says too little to tell its delimiter for sure.
            assert expected is None or expected[0] == 0, problem.message()
        return
    assert expected is not None, "a header was found where the csv module finds none"
    assert count.read == expected[0]
    assert result.survey is not None and report.exit_code in (0, 1)
    assert len(result.survey.responses) == count.accepted
    assert len(result.quarantine) == count.rejected
    assert set(result.quarantine["row"]) <= expected[1]
    rows = [p.row for p in report.problems if p.file == "responses.csv" and p.row is not None]
    assert all(1 <= r <= data.count(b"\n") + 1 for r in rows)


@settings(max_examples=150, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(corrupted())
@example(case=(("\n".join(BASE_LINES[1:6] + BASE_LINES[:1] + BASE_LINES[6:]) + "\n").encode(),
               "utf-8"))  # the header on row 6
@example(case=(("\n".join(BASE_LINES[:10] + ['a99,2021,"skole_nord,4'] + BASE_LINES[10:]) + "\n")
               .encode(), "utf-8"))  # a stray quote in the middle
@example(case=("\n".join(BASE_LINES).encode("utf-8-sig")[:1234], "utf-8-sig"))  # cut, BOM
@example(case=(("\n".join([BASE_LINES[0].replace(",gender,", ",gender" + ";" * 60 + ",")]
                          + BASE_LINES[1:]) + "\n").encode(), "utf-8"))  # semicolons in a name
def test_any_corruption_is_accounted_for(folder, case):
    data, encoding = case
    check(folder, data, encoding)


def test_value_beyond_the_csv_field_limit_loses_no_rows(folder):
    """A stray quote before a huge value: the csv module gives up on one row; the rows after
    it are still read."""
    lines = list(BASE_LINES)
    lines[5] = lines[5].replace(",female,", ',"female,', 1) + "x" * 140_000
    (folder / "responses.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = validate_dataset(folder)
    count = result.report.count("responses.csv")
    assert (count.read, count.accepted, count.rejected) == (30, 29, 1)
    (problem,) = [p for p in result.report.problems if p.file == "responses.csv"]
    assert problem.message().startswith("responses.csv, row 6: the row cannot be read (field "
                                        "larger than field limit (131072)); it ends on row 6")
    assert result.quarantine["row"].tolist() == [6]
