from pathlib import Path

import pytest

from workbench.errors import DatasetError
from workbench.io import read_mapping, read_table


def _write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


@pytest.mark.parametrize("sep", [",", ";", "\t"])
def test_delimiters(tmp_path, sep):
    f = _write(tmp_path / "r.csv", sep.join(["a", "b"]) + "\n1" + sep + "2\n")
    t = read_table(f)
    assert list(t.frame.columns) == ["a", "b"]
    assert t.frame.iloc[0].tolist() == ["1", "2"]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252", "latin-1"])
def test_encodings(tmp_path, encoding):
    f = _write(tmp_path / "r.csv", "navn;svar\nSvært enig;Å\n", encoding)
    t = read_table(f)
    assert t.frame.iloc[0].tolist() == ["Svært enig", "Å"]
    assert list(t.frame.columns) == ["navn", "svar"]


def test_rows_are_file_rows(tmp_path):
    # a quoted field over two lines and a blank line: the file's own line numbers are kept
    f = _write(tmp_path / "r.csv", 'a,b\n1,"x\ny"\n\n3,4\n')
    t = read_table(f)
    assert t.rows.tolist() == [2, 5]
    assert t.read == 2


def test_ragged_and_truncated(tmp_path):
    f = _write(tmp_path / "r.csv", "a,b,c\n1,2,3\n1,2\n4,5,6\n7,8")
    t = read_table(f)
    assert t.rows.tolist() == [2, 4]
    assert [(p.code, p.row) for p in t.problems] == [("ragged_row", 3), ("truncated_row", 5)]
    assert t.read == 4 and t.rejected == (3, 5)


def test_header_found_lower(tmp_path):
    f = _write(tmp_path / "r.csv", "Export 2021\n\nrespondent_id,wave,unit_id\n1,2021,A\n")
    t = read_table(f, required=("respondent_id", "wave", "unit_id"))
    assert [p.code for p in t.problems] == ["header_on_wrong_row"]
    assert t.problems[0].row == 3
    assert t.rows.tolist() == [4]


@pytest.mark.parametrize("text, code", [
    ("", "empty_file"),
    ("respondent_id,wave,unit_id\n", "no_data_rows"),
    ("x,y\n1,2\n", "header_not_found"),
    ("respondent_id,wave\n1,2\n", "missing_column"),
    ("respondent_id,wave,unit_id,wave\n1,2,3,4\n", "duplicate_column"),
])
def test_unusable(tmp_path, text, code):
    f = _write(tmp_path / "r.csv", text)
    with pytest.raises(DatasetError) as info:
        read_table(f, required=("respondent_id", "wave", "unit_id"))
    assert info.value.problem.code == code


def test_xlsx_rows(tmp_path):
    import openpyxl

    book = openpyxl.Workbook()
    ws = book.active
    ws.append(["Title"])
    ws.append([])
    ws.append(["respondent_id", "wave", "unit_id", "q"])
    ws.append([1, 2021, "A", 4.0])
    ws.append([2, 2021, "B", None])
    book.save(tmp_path / "r.xlsx")
    t = read_table(tmp_path / "r.xlsx", required=("respondent_id", "wave", "unit_id"))
    assert t.rows.tolist() == [4, 5]
    assert t.frame["q"].tolist() == ["4", ""]
    assert t.frame["wave"].tolist() == ["2021", "2021"]


def test_mapping(tmp_path):
    _write(tmp_path / "m.yaml", "columns: {GRP: unit_id}\nvalues:\n  '*': {'Svært  enig': 5, "
           "'Vet ikke': missing}\nconstants: {wave: '2000'}\nrespondent_id: row\nignore: [X]\n")
    m = read_mapping(tmp_path / "m.yaml")
    assert m.value_map("q1") == {"svært enig": "5", "vet ikke": ""}
    f = _write(tmp_path / "r.csv", "GRP,q1,X\n7,Svært enig,1\n")
    t = read_table(f, required=("respondent_id", "wave", "unit_id"), mapping=m)
    assert list(t.frame.columns) == ["respondent_id", "unit_id", "q1", "wave"]
    assert t.frame.iloc[0].tolist() == ["2", "7", "Svært enig", "2000"]


def test_mapping_errors(tmp_path):
    _write(tmp_path / "m.yaml", "colums: {}\n")
    with pytest.raises(DatasetError, match="unknown key"):
        read_mapping(tmp_path / "m.yaml")
