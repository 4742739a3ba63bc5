"""Three fictional exports (``tests/exports/``: Nettskjema-, Questback- and LimeSurvey-like),
each loaded end to end through its mapping file and compared with ``truth.csv``, the codes
its generator meant each kept answer to have (``tests/exports/make_exports.py``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench.cli import main
from workbench.validate import validate_dataset

EXPORTS = Path(__file__).resolve().parent / "exports"
COLUMNS = ["M1", "M2", "M3", "L1", "L2", "S1", "S2", "S3", "samtale", "nytte"]


def truth(name: str) -> pd.DataFrame:
    return pd.read_csv(EXPORTS / name / "truth.csv", dtype=str, keep_default_na=False)


def as_text(responses: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame({c: responses[c].astype(str).to_numpy()
                        for c in ("respondent_id", "wave", "unit_id")})
    out["gender"] = responses["gender"].astype(object).where(responses["gender"].notna(), "")
    for column in COLUMNS:
        values = responses[column].astype("Int64")
        out[column] = values.astype(str).where(values.notna(), "")
    return out


@pytest.mark.parametrize("name, read, kept, notes", [
    ("nettskjema", 44, 44, ["read sheet 'Svar', the first; the workbook also has 'Om skjemaet'",
                            "column '$created' is not an item"]),
    ("questback", 69, 61, ["8 row(s) left out by the mapping's filters (Status: Fullført)"]),
    ("limesurvey", 48, 42, ["6 row(s) left out by the mapping's filters (submitdate: filled)",
                            "column 'startdate' is not an item"]),
])
def test_export_end_to_end(name, read, kept, notes, capsys):
    result = validate_dataset(EXPORTS / name)
    report = result.report
    text = "\n".join(report.lines())
    assert report.exit_code == 0, text
    assert not [p for p in report.problems if p.severity in ("error", "warning")], text
    (count,) = [f for f in report.files
                if f.file not in ("units.csv", "headcount.csv", "successors.csv")]
    assert (count.read, count.accepted, count.rejected, count.left_out) == \
        (read, kept, read - kept, read - kept)
    for note in notes:
        assert note in text
    expected = truth(name)
    assert len(expected) == kept
    pd.testing.assert_frame_equal(as_text(result.survey.responses), expected,
                                  check_dtype=False)
    # the command line agrees: exit 0, notes, no traceback
    assert main(["validate", str(EXPORTS / name)]) == 0
    out = capsys.readouterr().out
    assert "NOTE:" in out and "Traceback" not in out


def test_filtered_rows_do_not_count_as_answers():
    """Questback: incomplete answers are left out, so they count neither in n nor in the
    response rate (answers per unit = the complete rows of that unit)."""
    survey = validate_dataset(EXPORTS / "questback").survey
    counts = survey.responses.groupby(["wave", "unit_id"], observed=True).size()
    expected = truth("questback").groupby(["wave", "unit_id"]).size()
    assert counts.to_dict() == expected.to_dict()


def test_units_by_name_in_both_languages():
    survey = validate_dataset(EXPORTS / "nettskjema").survey
    export = pd.read_excel(EXPORTS / "nettskjema" / "nettskjema-export.xlsx", sheet_name="Svar")
    names = export["Hvor jobber du?"]
    assert {"North School", "Nord skole"} <= set(names)   # name_en and name both occur
    assert (survey.responses["unit_id"].to_numpy() == truth("nettskjema")["unit_id"]).all()


def test_two_scales_in_one_export():
    """LimeSurvey: STRESS (0-4) answers of 0 are kept, and reverse coding uses 0 + 4 - x."""
    from workbench.scoring import item_values

    survey = validate_dataset(EXPORTS / "limesurvey").survey
    raw = truth("limesurvey")
    s1 = pd.to_numeric(raw["S1"]).to_numpy()
    assert (s1 == 0).any()
    values = item_values(survey.responses, survey.instrument)["S1"].to_numpy()
    np.testing.assert_array_equal(values, 4 - s1)


def test_quarantine_holds_the_left_out_rows(tmp_path, capsys):
    out = tmp_path / "q.csv"
    assert main(["validate", str(EXPORTS / "limesurvey"), "--quarantine", str(out)]) == 0
    quarantine = pd.read_csv(out, dtype=str)
    assert quarantine["row"].tolist() == ["7", "15", "23", "31", "39", "47"]
    assert quarantine["problems"].str.contains("left out by the mapping's filters").all()


def test_readme_shows_each_mapping_feature_on_the_exports():
    """Every mapping feature the README's "Bring your own survey export" shows is used by one
    of the three exports that the tests above load."""
    readme = (EXPORTS.parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Bring your own survey export"):
                     readme.index("## Anonymity")]
    mappings = "\n".join((EXPORTS / n / "mapping.yaml").read_text(encoding="utf-8")
                         for n in ("nettskjema", "questback", "limesurvey"))
    for feature in ("unit_names: true", "filters: {Status: Fullført}",
                    "filters: {submitdate: filled}", "respondent_id: row", "sheet: Data",
                    "header_row: 3", "constants: {wave: '2024'}", '"*":', "ignore:",
                    "Kjønn: {Kvinne: female", "samtale: {Ja: 1, Nei: 2}"):
        assert feature in section and feature in mappings, feature
    for shown in ("responses:", "successors.csv", "unit_id,parent_id,name,name_en,wave",
                  "scale: {min: 0, max: 4", "only_if: {samtale: 1}", "pct_0 .. pct_4"):
        assert shown in section, shown
    assert (EXPORTS / "questback" / "successors.csv").is_file()
    assert "wave" in (EXPORTS / "questback" / "units.csv").read_text().splitlines()[0]
