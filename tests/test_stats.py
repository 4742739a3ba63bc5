"""The published statistics table (cut from the release) and the stats/compare/reliability/
release commands."""

import io
import json

import pandas as pd
import pytest
from conftest import SAMPLES

from workbench.cli import main
from workbench.errors import UsageError
from workbench.privacy import audit
from workbench.stats import stats_table

DESIGN_COLUMNS = ["wave", "unit_id", "unit_name", "level", "key", "label", "n", "invited",
                  "mean", "sd", "se", "ci_low", "ci_high", "moe", "pct_1", "pct_2", "pct_3",
                  "pct_4", "pct_5", "top_box", "suppressed", "reason"]
VALUES = ["mean", "sd", "se", "ci_low", "ci_high", "moe", "pct_1", "pct_2", "pct_3", "pct_4",
          "pct_5", "top_box"]


def test_columns_and_suppression(university_release):
    table = stats_table(university_release, wave="2021")
    assert list(table.columns[:22]) == DESIGN_COLUMNS
    hidden = table[table["suppressed"]]
    assert len(hidden) and hidden[VALUES].isna().all().all()
    # a hidden cell shows no count either (privacy rule 5)
    assert hidden["n"].isna().all()
    assert set(hidden["reason"]) <= {"min_n", "complement", "no_answers"}
    assert (table.loc[~table["suppressed"], "n"] >= 5).all()
    assert table.loc[~table["suppressed"], "reason"].eq("").all()
    # per cell, not per unit: some units are shown for some factors and hidden for others
    mixed = table.groupby("unit_id")["suppressed"].nunique().gt(1)
    assert mixed.any()


@pytest.mark.parametrize("name", ["university_release", "municipality_release"])
def test_every_published_table_passes_the_audit(name, request):
    release = request.getfixturevalue(name)
    assert audit(release.tables, release.policy).empty
    assert release.manifest["audit"]["ok"]


def test_one_se_with_the_finite_population_correction(university_release):
    # moe = t(0.975, n - 1) x se, and se = sd / sqrt(n) x sqrt(1 - n/N), in every row
    from scipy import stats as st

    table = stats_table(university_release, level="item")
    shown = table[~table["suppressed"] & table["sd"].notna()]
    n, big = shown["n"].astype(float), shown["invited"].astype(float)
    fpc = ((1 - n / big).clip(lower=0) ** 0.5).where(big.notna(), 1.0)
    assert ((shown["se"] - shown["sd"] / n ** 0.5 * fpc).abs() < 1e-9).all()
    t = st.t.ppf(0.975, n - 1)
    assert ((shown["moe"] - t * shown["se"]).abs() < 1e-9).all()


def test_unit_is_its_subtree(municipality_release, municipality):
    root = municipality_release.hierarchy().root
    one = stats_table(municipality_release, wave="2023", unit=root, lang="en")
    assert one["unit_id"].unique().tolist() == [root]
    assert one["unit_name"].iloc[0] == "Example Municipality"
    everyone = municipality.responses
    assert one["answers"].iloc[0] == (everyone["wave"] == "2023").sum()


def test_an_item_counts_only_the_persons_scored_on_its_factor(municipality_release):
    # one population per factor: an item's n never exceeds its factor's n, cell by cell
    items = stats_table(municipality_release, level="item")
    factors = stats_table(municipality_release).set_index(["wave", "unit_id", "key"])["n"]
    of = {i.id: f.id for f in municipality_release.instrument.factors for i in f.items}
    shown = items[~items["suppressed"]]
    cap = factors.reindex(list(zip(shown["wave"], shown["unit_id"], shown["key"].map(of))))
    assert (shown["n"].to_numpy() <= cap.to_numpy()).all()


def test_usage_errors(university_release):
    with pytest.raises(UsageError, match="did you mean"):
        stats_table(university_release, unit="NV-FYZ")
    with pytest.raises(UsageError, match="wave '1999'"):
        stats_table(university_release, wave=1999)
    with pytest.raises(UsageError, match="background variables are shown only at levels 0"):
        stats_table(university_release, by="gender", unit="NV")


def test_by_groups_at_root_only(university_release):
    table = stats_table(university_release, wave="2021", by="position")
    assert set(table["unit_id"]) == {university_release.hierarchy().root}
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
    assert list(frame.columns[:14]) == ["wave", "unit_id", "against", "key", "mean",
                                         "other_mean", "diff", "ci_low", "ci_high", "p",
                                         "p_adj", "d", "finding", "verdict"]
    assert len(frame) == 10 and set(frame["against"]) == {"benchmark"}
    published = frame[~frame["suppressed"]]
    assert (published["diff"] - (published["mean"] - published["other_mean"])).abs().max() < 2e-4
    assert main(["reliability", str(SAMPLES / "municipality"), "--wave", "2023"]) == 0
    frame = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert list(frame.columns[:5]) == ["wave", "factor", "n", "items", "alpha"]
    assert len(frame) == 10 and frame["alpha"].between(0.7, 0.9).all()


def test_cli_release_writes_a_folder_that_every_command_reads(tmp_path, capsys):
    out = tmp_path / "release"
    assert main(["release", str(SAMPLES / "municipality"), "--out", str(out)]) == 0
    said = capsys.readouterr().out
    assert "audit: nothing can be isolated" in said and "wholly hidden: 0" in said
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["audit"]["ok"] and manifest["survey"]["waves"] == ["2021", "2023"]
    assert main(["stats", str(out), "--unit", "EK", "--wave", "2023"]) == 0
    from_release = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert main(["stats", str(SAMPLES / "municipality"), "--unit", "EK", "--wave", "2023"]) == 0
    from_dataset = pd.read_csv(io.StringIO(capsys.readouterr().out))
    pd.testing.assert_frame_equal(from_release, from_dataset)
    assert main(["audit", str(out)]) == 0
    assert main(["reliability", str(out)]) == 0
    assert main(["compare", str(out), "--unit", "OPP", "--against", "previous"]) == 0
