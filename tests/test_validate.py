"""Validation of whole dataset folders (the malformed corpus lives in test_malformed.py)."""

import json

import pandas as pd
import pytest

from workbench.errors import DatasetError
from workbench.validate import load_survey, validate_dataset


def test_clean(tiny_dataset):
    result = validate_dataset(tiny_dataset())
    assert result.report.exit_code == 0
    survey = result.survey
    assert len(survey.responses) == 10
    assert survey.responses["F1_1"].dtype == "Int8"
    assert list(survey.responses["wave"].cat.categories) == ["2021"]
    assert survey.hierarchy().subtree("K") == ("K", "S1", "S2")


def test_survey_is_immutable(tiny_dataset):
    survey = load_survey(tiny_dataset())
    frame = survey.responses
    frame.loc[0, "F1_1"] = 1
    frame["new"] = 1
    assert survey.responses.loc[0, "F1_1"] == 4
    assert "new" not in survey.responses.columns
    with pytest.raises(AttributeError):
        survey.config = None


def test_rows_balance_with_problems(tiny_dataset):
    text = tiny_dataset()  # the default files
    responses = (text / "responses.csv").read_text().splitlines()
    responses[3] = responses[3].replace("r2,2021,S1,4", "r2,2021,S1,7")
    responses[4] = responses[4].replace("r3,", "r1,")
    responses.append("r10,2021,S9," + ",".join(["4"] * 35))
    folder = tiny_dataset(**{"responses.csv": "\n".join(responses) + "\n"})
    result = validate_dataset(folder)
    count = result.report.count("responses.csv")
    assert (count.read, count.accepted, count.rejected) == (11, 8, 3)
    assert len(result.survey.responses) == 8
    assert result.quarantine["row"].tolist() == [4, 5, 12]
    codes = [p.code for p in result.report.problems]
    assert codes == ["out_of_scale", "duplicate_respondent", "unknown_unit"]
    assert result.report.exit_code == 1


def test_blank_rows_inside_the_table_are_said(tiny_dataset):
    # a newcomer (helper-19): blank and all-comma lines were skipped without a word
    responses = (tiny_dataset() / "responses.csv").read_text().splitlines()
    width = responses[0].count(",")
    responses[3:3] = ["", "," * width, "   "]
    folder = tiny_dataset(**{"responses.csv": "\n".join(responses) + "\n\n\n"})
    report = validate_dataset(folder).report
    count = report.count("responses.csv")
    assert (count.read, count.accepted, count.rejected) == (10, 10, 0)
    notes = [p for p in report.problems if p.code == "blank_rows"]
    assert len(notes) == 1 and notes[0].detail["rows"] == "4, 5, 6"  # not the trailing ones
    assert "3 blank row(s) skipped (rows 4, 5, 6)" in notes[0].message("en")
    assert report.exit_code == 0


def test_labels_and_missing_codes(tiny_dataset, tmp_path):
    folder = tiny_dataset(**{
        "survey.yaml": "name: T\ninstrument: tifaktor\nwaves: [2021]\nmapping: map.yaml\n",
        "map.yaml": "values:\n  '*': {'Svært enig': 5, 'Vet ikke': 6, 'ubesvart': missing}\n"})
    path = folder / "responses.csv"
    lines = path.read_text().splitlines()
    lines[1] = lines[1].replace(",4,4,4", ",Svært enig,Vet ikke,ubesvart", 1)
    path.write_text("\n".join(lines) + "\n")
    survey = load_survey(folder)
    row = survey.responses.iloc[0]
    assert (row["F1_1"], row["F1_2"]) == (5, 6)
    assert pd.isna(row["F1_3"])


def test_too_many_answers_points_at_headcount(tiny_dataset):
    folder = tiny_dataset(headcount__csv="wave,unit_id,invited\n2021,S1,8\n2021,S2,3\n")
    report = validate_dataset(folder).report
    (problem,) = report.problems
    assert problem.message() == ("headcount.csv, row 3, column invited: unit 'S2' has 4 "
                                 "answers in wave 2021 but only 3 invited: the number invited "
                                 "there and in every unit above it is treated as unknown (no "
                                 "finite population correction)")
    assert problem.severity == "warning" and report.exit_code == 0


def test_json_report(tiny_dataset):
    report = validate_dataset(tiny_dataset()).report
    data = json.loads(report.as_json())
    assert data["exit_code"] == 0
    assert {f["file"] for f in data["files"]} == {"units.csv", "headcount.csv", "responses.csv"}


def test_load_survey_unusable(tmp_path):
    with pytest.raises(DatasetError, match="survey.yaml: file not found"):
        load_survey(tmp_path)


def test_a_missing_column_lists_the_columns_found_and_says_when_there_are_more(tiny_dataset):
    from workbench.instrument import load_instrument

    items = load_instrument("tifaktor").item_ids  # 35 columns without respondent_id
    header = ",".join(["wave", "unit_id", *items])
    folder = tiny_dataset(responses__csv=header + "\n" + "2021,S1," + ",".join(["4"] * 35)
                          + "\n")
    report = validate_dataset(folder).report
    message = next(p for p in report.problems if p.code == "missing_column").message("en")
    assert "'respondent_id' is missing" in message and message.endswith(", ... (+7)")
