"""Valid re-encodings of one dataset give identical answers and identical statistics.

The reference is the malformed corpus' clean base dataset (``tests/malformed/_base``, CSV).
Each re-encoding writes the same answers another way a user's tools write them: CRLF line
endings, Parquet with pandas' nullable integers (``Int64``, ``<NA>`` for a skipped item,
what ``DataFrame.to_parquet`` writes), Parquet with Arrow dictionary and string columns,
Parquet with floats (NaN), and a spreadsheet with numbers in its cells.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench.stats import stats_table
from workbench.validate import validate_dataset

BASE = Path(__file__).resolve().parent / "malformed" / "_base"


def _copy(tmp_path: Path, name: str) -> Path:
    folder = tmp_path / name
    shutil.copytree(BASE, folder)
    return folder


def _raw() -> pd.DataFrame:
    return pd.read_csv(BASE / "responses.csv", dtype={"respondent_id": str, "wave": str})


def crlf(folder: Path) -> None:
    path = folder / "responses.csv"
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    for other in ("units.csv", "headcount.csv"):
        p = folder / other
        p.write_bytes(p.read_bytes().replace(b"\n", b"\r\n"))


def parquet_nullable(folder: Path) -> None:
    frame = _raw()
    items = frame.columns[4:]
    frame[items] = frame[items].astype("Int64")
    assert frame[items].isna().any().any()  # the case the issue is about: <NA> cells
    (folder / "responses.csv").unlink()
    frame.to_parquet(folder / "responses.parquet", index=False)


def parquet_arrow_types(folder: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    frame = _raw()
    columns = {}
    for name in frame.columns:
        values = frame[name]
        if name in ("unit_id", "gender"):  # dictionary-encoded text
            columns[name] = pa.array([None if pd.isna(v) else str(v) for v in values],
                                     type=pa.string()).dictionary_encode()
        elif name in ("respondent_id", "wave"):
            columns[name] = pa.array(values.astype(str).tolist(), type=pa.large_string())
        elif name in ("F1_1", "F2_1"):  # dictionary-encoded codes, as Arrow may store them
            codes = pa.array([None if pd.isna(v) else int(v) for v in values], type=pa.int8())
            columns[name] = codes.dictionary_encode()
        elif name == "F3_1":  # codes as text
            columns[name] = pa.array([None if pd.isna(v) else str(int(v)) for v in values])
        else:  # int8 with nulls, as Arrow writes small codes
            columns[name] = pa.array([None if pd.isna(v) else int(v) for v in values],
                                     type=pa.int8())
    (folder / "responses.csv").unlink()
    pq.write_table(pa.table(columns), folder / "responses.parquet")


def parquet_float(folder: Path) -> None:
    frame = _raw()
    (folder / "responses.csv").unlink()
    frame.to_parquet(folder / "responses.parquet", index=False)  # items as float64 + NaN


def xlsx_numbers(folder: Path) -> None:
    frame = _raw()
    frame["wave"] = frame["wave"].astype(int)  # a spreadsheet keeps 2021 as a number
    (folder / "responses.csv").unlink()
    frame.to_excel(folder / "responses.xlsx", index=False)


ENCODINGS = [crlf, parquet_nullable, parquet_arrow_types, parquet_float, xlsx_numbers]


@pytest.fixture(scope="module")
def reference():
    survey = validate_dataset(BASE).survey
    return survey, stats_table(survey, level="item", lang="en")


@pytest.mark.parametrize("encode", ENCODINGS, ids=lambda f: f.__name__)
def test_same_answers_and_statistics(encode, tmp_path, reference):
    survey, table = reference
    folder = _copy(tmp_path, encode.__name__)
    encode(folder)
    result = validate_dataset(folder)
    report = result.report
    assert report.exit_code == 0, report.lines()
    counts = [f for f in report.files if f.file.startswith("responses.")]
    assert [(c.read, c.accepted, c.rejected) for c in counts] == [(30, 30, 0)]
    other = result.survey.responses
    pd.testing.assert_frame_equal(other, survey.responses)
    pd.testing.assert_frame_equal(stats_table(result.survey, level="item", lang="en"), table)


def test_nullable_parquet_keeps_every_row_and_its_blanks(tmp_path):
    """Issue 10: a blank (<NA>) answer in a nullable-integer Parquet file is a skipped item,
    never a rejected row."""
    folder = _copy(tmp_path, "nullable")
    parquet_nullable(folder)
    raw = _raw()
    responses = validate_dataset(folder).survey.responses
    items = list(raw.columns[4:])
    assert len(responses) == len(raw)
    np.testing.assert_array_equal(responses[items].isna().to_numpy(),
                                  raw[items].isna().to_numpy())
