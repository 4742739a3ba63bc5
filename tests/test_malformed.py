"""The malformed-input corpus: every case in ``tests/malformed/`` through ``workbench validate``.

A case is a folder with the files that differ from ``malformed/_base`` (a file replaces the
base file; ``<name>.delete`` removes it) and ``expect.yaml``:

``exit``
    The exit code of ``workbench validate``.
``messages`` / ``messages_nb``
    Substrings that must appear in the English / bokmål output.
``rejected``
    Rejected response rows; ``--quarantine`` must write exactly that many.
``about``
    One line on what the case breaks.

Binary inputs are written by ``malformed/make_binary_cases.py``.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from workbench.cli import main

CORPUS = Path(__file__).resolve().parent / "malformed"
BASE = CORPUS / "_base"
CASES = sorted(p.name for p in CORPUS.iterdir() if p.is_dir() and not p.name.startswith("_"))
KEYS = {"about", "exit", "messages", "messages_nb", "rejected"}


def build(case: str, tmp_path: Path) -> tuple[Path, dict]:
    """Copy ``_base``, lay the case's files over it; return the folder and the expectations."""
    folder = tmp_path / case
    shutil.copytree(BASE, folder)
    for path in (CORPUS / case).iterdir():
        if path.name == "expect.yaml":
            continue
        if path.name.endswith(".delete"):
            (folder / path.name.removesuffix(".delete")).unlink()
        else:
            shutil.copyfile(path, folder / path.name)
    expect = yaml.safe_load((CORPUS / case / "expect.yaml").read_text(encoding="utf-8"))
    return folder, expect


def run(capsys, *argv: str) -> tuple[int, str]:
    """``workbench`` in-process: exit code and stdout + stderr."""
    capsys.readouterr()
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out + out.err


def count_records(path: Path) -> int:
    with path.open(newline="", encoding="utf-8") as handle:
        return sum(1 for _ in csv.reader(handle)) - 1


def test_corpus_size():
    assert len(CASES) >= 25
    assert all((CORPUS / c / "expect.yaml").is_file() for c in CASES)


def test_base_is_clean(capsys):
    code, out = run(capsys, "validate", str(BASE))
    assert code == 0, out
    assert "responses.csv: 30 rows read, 30 accepted, 0 rejected" in out
    assert "WARNING" not in out and "PROBLEM" not in out


@pytest.mark.parametrize("case", CASES)
def test_case(case, tmp_path, capsys):
    folder, expect = build(case, tmp_path)
    assert set(expect) <= KEYS, f"unknown keys in {case}/expect.yaml"

    code, out = run(capsys, "validate", str(folder))
    assert "Traceback" not in out
    assert code == expect["exit"], out
    for message in expect["messages"]:
        assert message in out, f"{message!r} not in:\n{out}"

    if expect.get("messages_nb"):
        code_nb, out_nb = run(capsys, "validate", str(folder), "--lang", "nb")
        assert code_nb == code and "Traceback" not in out_nb
        for message in expect["messages_nb"]:
            assert message in out_nb, f"{message!r} not in:\n{out_nb}"

    code_json, out_json = run(capsys, "validate", str(folder), "--json")
    assert "Traceback" not in out_json
    report = json.loads(out_json)
    assert code_json == code == report["exit_code"]
    assert all(p["message"] and p["severity"] for p in report["problems"])
    for count in report["files"]:
        assert count["read"] == count["accepted"] + count["rejected"], count

    if "rejected" in expect:
        quarantine = tmp_path / "quarantine.csv"
        code_q, out_q = run(capsys, "validate", str(folder), "--quarantine", str(quarantine))
        assert code_q == code and "Traceback" not in out_q
        assert f"{expect['rejected']} rejected row(s) written" in out_q
        assert count_records(quarantine) == expect["rejected"]
        responses = [f for f in report["files"] if f["file"].startswith("responses.")]
        assert [f["rejected"] for f in responses] == [expect["rejected"]]


def test_decimal_comma_benchmarks_are_numbers(tmp_path):
    from workbench.validate import validate_dataset

    folder, _ = build("34_semicolon_decimal_comma", tmp_path)
    survey = validate_dataset(folder).survey
    first = survey.benchmarks.iloc[0]
    assert (first["wave"], first["factor"], first["mean"], first["sd"]) == ("2021", "F1", 3.92,
                                                                          0.65)


def test_labels_become_codes(tmp_path):
    """The Windows-1252 label export loads to the same codes as the base file."""
    from workbench.validate import validate_dataset

    base = validate_dataset(BASE).survey.responses
    folder, _ = build("35_cp1252_labels_mapping", tmp_path)
    labelled = validate_dataset(folder).survey.responses
    assert labelled.equals(base)


@pytest.mark.parametrize("case", ["36_utf8_bom", "37_tab_separated", "39_xlsx_header_row_mapping",
                                  "42_parquet_clean", "07_same_id_two_waves"])
def test_clean_formats_load_the_same_answers(case, tmp_path):
    from workbench.validate import validate_dataset

    base = validate_dataset(BASE).survey.responses
    folder, _ = build(case, tmp_path)
    other = validate_dataset(folder).survey.responses
    items = [c for c in base.columns if c != "respondent_id"]
    assert other[items].equals(base[items])


def test_quarantine_keeps_the_file_row(tmp_path):
    from workbench.validate import validate_dataset

    folder, _ = build("16_ragged_rows", tmp_path)
    quarantine = validate_dataset(folder).quarantine
    assert quarantine["row"].tolist() == [10, 18]
    assert quarantine["problems"].str.contains("fields, expected 39").all()


def test_unit_names_resolve_ignoring_case_and_spaces(tmp_path):
    from workbench.validate import validate_dataset

    folder, _ = build("66_unit_name_ambiguous", tmp_path)
    result = validate_dataset(folder)
    responses = result.survey.responses
    first = responses[responses["respondent_id"] == "a02"]  # 'THE  nursing home' (name_en)
    assert first["unit_id"].tolist() == ["sykehjem"]
    assert set(responses["unit_id"]) == {"sykehjem"}


def test_only_if_answers_are_not_counted(tmp_path):
    """The two answers given although samtale was not 1 are missing in the survey; every
    other answer is as in the file."""
    from workbench.validate import validate_dataset

    folder, _ = build("63_only_if_not_asked", tmp_path)
    responses = validate_dataset(folder).survey.responses.set_index("respondent_id")
    raw = pd.read_csv(folder / "responses.csv", dtype={"respondent_id": str}
                      ).set_index("respondent_id")
    assert raw.loc[["a03", "a08"], "nytte"].tolist() == [4, 3]
    assert responses.loc[["a03", "a08"], "nytte"].isna().all()
    others = raw.index.difference(["a03", "a08"])
    assert responses.loc[others, "nytte"].astype("Float64").fillna(-1).tolist() == \
        raw.loc[others, "nytte"].fillna(-1).tolist()


def test_left_out_and_successors_cases_keep_the_good_rows(tmp_path):
    from workbench.validate import validate_dataset

    folder, _ = build("61_successors_problems", tmp_path)
    survey = validate_dataset(folder).survey
    assert survey.successors.values.tolist() == [["2021", "barnehage", "skole_nord"]]
    assert survey.lineage().previous("skole_nord", "2023") == ("barnehage", "skole_nord")
