"""The published statistics table and the stats/compare/reliability commands."""

import io
import json

import pandas as pd
import pytest
from conftest import SAMPLES

from workbench.cli import main
from workbench.errors import UsageError
from workbench.privacy import PrivacyPolicy, audit
from workbench.stats import stats_table

DESIGN_COLUMNS = ["wave", "unit_id", "unit_name", "level", "key", "label", "n", "invited",
                  "mean", "sd", "se", "ci_low", "ci_high", "moe", "pct_1", "pct_2", "pct_3",
                  "pct_4", "pct_5", "top_box", "suppressed", "reason"]
VALUES = ["mean", "sd", "se", "ci_low", "ci_high", "moe", "pct_1", "pct_2", "pct_3", "pct_4",
          "pct_5", "top_box"]


def test_columns_and_suppression(university):
    table = stats_table(university, wave="2021")
    assert list(table.columns[:22]) == DESIGN_COLUMNS
    hidden = table[table["suppressed"]]
    assert len(hidden) and hidden[VALUES].isna().all().all()
    assert set(hidden["reason"]) <= {"min_n", "complement", "no_answers"}
    assert (table.loc[~table["suppressed"], "n"] >= 5).all()
    assert table.loc[~table["suppressed"], "reason"].eq("").all()
    # every unit is decided alike for all factors
    assert table.groupby("unit_id")["suppressed"].nunique().eq(1).all()


@pytest.mark.parametrize("name", ["university", "municipality"])
@pytest.mark.parametrize("level", ["factor", "item"])
def test_every_published_table_passes_the_audit(name, level, request):
    survey = request.getfixturevalue(name)
    policy = PrivacyPolicy.from_config(survey.config)
    table = stats_table(survey, level=level)
    for wave, part in table.groupby("wave"):
        assert audit(part, survey.hierarchy(wave), policy).empty, (name, level, wave)


def test_unit_is_its_subtree(municipality):
    root = municipality.hierarchy().root
    one = stats_table(municipality, wave="2023", unit=root, lang="en")
    assert one["unit_id"].unique().tolist() == [root]
    assert one["unit_name"].iloc[0] == "Example Municipality"
    everyone = municipality.responses
    assert one["answers"].iloc[0] == (everyone["wave"] == "2023").sum()


def test_usage_errors(university):
    with pytest.raises(UsageError, match="did you mean"):
        stats_table(university, unit="NV-FYZ")
    with pytest.raises(UsageError, match="wave '1999'"):
        stats_table(university, wave=1999)
    with pytest.raises(UsageError, match="background variables are shown only at levels 0"):
        stats_table(university, by="gender", unit="NV")


def test_by_groups_at_root_only(university):
    table = stats_table(university, wave="2021", by="position")
    assert set(table["unit_id"]) == {university.hierarchy().root}
    assert set(table["group"]) == {"leader", "academic", "phd", "techadm"}


def test_cli_stats_csv_and_json(capsys):
    assert main(["stats", str(SAMPLES / "municipality"), "--wave", "2023", "--level", "item",
                 "--lang", "en"]) == 0
    frame = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert list(frame.columns[:22]) == DESIGN_COLUMNS
    assert set(frame["level"]) == {"item"}
    assert main(["stats", str(SAMPLES / "municipality"), "--unit", "EK", "--format",
                 "json"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert {r["wave"] for r in records} == {"2021", "2023"}


@pytest.mark.parametrize("argv, fragment", [
    (["stats", "DS", "--unit", "nope"], "unit 'nope' is not in the hierarchy"),
    (["stats", "DS", "--wave", "1900"], "wave '1900' is not in this survey"),
    (["stats", "DS", "--level", "theme"], "invalid choice"),
    (["compare", "DS", "--unit", "EK", "--against", "parent"], "has no parent"),
    (["compare", "DS", "--unit", "EK", "--against", "sideways"], "invalid choice"),
    (["reliability", "DS", "--wave", "1900"], "1900"),
])
def test_cli_errors_are_one_line(argv, fragment, capsys):
    argv = [str(SAMPLES / "municipality") if a == "DS" else a for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert fragment in err and "Traceback" not in err


def test_cli_compare_and_reliability(capsys):
    assert main(["compare", str(SAMPLES / "municipality"), "--unit", "OPP-NOS", "--against",
                 "benchmark", "--wave", "2023", "--lang", "en"]) == 0
    frame = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert list(frame.columns[:11]) == ["wave", "unit_id", "against", "key", "mean",
                                         "other_mean", "diff", "p", "p_adj", "d", "verdict"]
    assert len(frame) == 10 and set(frame["against"]) == {"benchmark"}
    published = frame[~frame["suppressed"]]
    assert (published["diff"] - (published["mean"] - published["other_mean"])).abs().max() < 2e-4
    assert main(["reliability", str(SAMPLES / "municipality"), "--wave", "2023"]) == 0
    frame = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert list(frame.columns[:5]) == ["wave", "factor", "n", "items", "alpha"]
    assert len(frame) == 10 and frame["alpha"].between(0.7, 0.9).all()
