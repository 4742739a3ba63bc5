"""Real survey answers nobody in this project wrote, imported through mapping files and checked
against their published numbers (``../shared/realdata/README.md``).

The files are GPL and stay outside the repository: each test writes a dataset folder in
``tmp_path`` whose ``survey.yaml`` points at the file by its absolute path.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench.validate import validate_dataset

REALDATA = Path(__file__).resolve().parents[2] / "shared" / "realdata"

pytestmark = pytest.mark.realdata


def realdata(name: str) -> Path:
    path = REALDATA / name
    if not path.is_file():
        pytest.skip(f"{path} is not there (the shared real-data folder is optional)")
    return path


def instrument_yaml(iid: str, lo: int, hi: int, factors: dict[str, list[str]]) -> str:
    lines = [f"id: {iid}", f"name: {iid}", "scale:", f"  min: {lo}", f"  max: {hi}",
             "  labels: {" + ", ".join(f"{k}: '{k}'" for k in range(lo, hi + 1)) + "}",
             "  top_box: 1", "factors:"]
    for fid, items in factors.items():
        lines += [f"  - id: {fid}", f"    name: {fid}", "    items:"]
        lines += [f"      - {{id: {item}, text: {item}}}" for item in items]
    return "\n".join(lines) + "\n"


def write_dataset(folder: Path, responses: Path, instrument: str, units: list[str], root: str,
                  mapping: str) -> Path:
    """A dataset folder: no headcount.csv, one wave, the answers read where they lie."""
    folder.mkdir()
    (folder / "survey.yaml").write_text(
        f"name: {root}\ninstrument: instrument.yaml\nwaves: ['2000']\nlanguage: en\n"
        f"responses: {responses.resolve()}\nmapping: mapping.yaml\n", encoding="utf-8")
    (folder / "instrument.yaml").write_text(instrument, encoding="utf-8")
    (folder / "mapping.yaml").write_text(mapping, encoding="utf-8")
    rows = [f"{root},,{root}"] + [f"{u},{root},{u}" for u in units]
    (folder / "units.csv").write_text("unit_id,parent_id,name\n" + "\n".join(rows) + "\n",
                                      encoding="utf-8")
    return folder


def cronbach_alpha(items: pd.DataFrame) -> float:
    """Cronbach's alpha over complete cases: k/(k-1) * (1 - sum of item variances / variance
    of the sum)."""
    complete = items.dropna().astype(float)
    k = complete.shape[1]
    return k / (k - 1) * (1 - complete.var(ddof=1).sum() / complete.sum(axis=1).var(ddof=1))


BHR_ITEMS = ["AF06", "AF07", "AP12", "AP17", "AP33", "AP34", "AS14", "AS15", "AS16", "AS17"]


def test_bhr2000_army_companies(tmp_path):
    source = realdata("multilevel_bhr2000.csv")
    companies = [str(g) for g in sorted(pd.read_csv(source, usecols=["GRP"])["GRP"].unique())]
    assert len(companies) == 99
    folder = write_dataset(
        tmp_path / "bhr2000", source,
        instrument_yaml("bhr2000", 1, 5, {"climate": BHR_ITEMS, "wellbeing": ["AS28"]}),
        companies, "army",
        "columns: {GRP: unit_id}\nconstants: {wave: '2000'}\nrespondent_id: row\n"
        "ignore: [HRS, RELIG]\n")

    result = validate_dataset(folder)
    report = result.report
    assert report.exit_code == 0, report.lines()
    assert [p.code for p in report.problems] == ["no_headcount_file"]
    assert "WARNING: headcount.csv: no headcount.csv" in "\n".join(report.lines())
    count = report.count("multilevel_bhr2000.csv")
    assert (count.read, count.accepted, count.rejected) == (5400, 5400, 0)

    responses = result.survey.responses
    assert len(responses) == 5400
    assert responses["unit_id"].nunique() == 99
    items = [c for c in responses.columns if c in result.survey.instrument.item_ids]
    assert items == BHR_ITEMS + ["AS28"]
    assert not {"HRS", "RELIG", "GRP"} & set(responses.columns)
    # Respondent ids are file rows; GRP became unit_id row by row.
    assert responses["respondent_id"].iloc[[0, -1]].tolist() == ["2", "5401"]
    raw = pd.read_csv(source)
    assert (responses["unit_id"].to_numpy() == raw["GRP"].astype(str).to_numpy()).all()
    # Cronbach's alpha of the ten climate items, published as 0.8798 (multilevel::cronbach).
    assert round(cronbach_alpha(responses[BHR_ITEMS]), 4) == 0.8798


PISA_ITEMS = [f"ST24Q{i:02d}" for i in range(1, 12)]


def test_pisa_reading_attitudes(tmp_path):
    source = realdata("pisaitems_ST24Q.csv")
    countries = ["Canada", "Mexico", "United States"]
    folder = write_dataset(
        tmp_path / "pisa", source, instrument_yaml("st24q", 1, 4, {"reading": PISA_ITEMS}),
        countries, "pisa",
        "columns: {CNT: unit_id}\nconstants: {wave: '2000'}\nrespondent_id: row\n")

    result = validate_dataset(folder)
    assert result.report.exit_code == 0, result.report.lines()
    responses = result.survey.responses
    assert len(responses) == 66690
    assert responses["unit_id"].value_counts().to_dict() == {
        "Mexico": 38250, "Canada": 23207, "United States": 5233}
    # likert's summary: percentages of the non-missing answers, all countries together.
    answers = responses["ST24Q01"].dropna()
    percent = answers.value_counts(normalize=True).sort_index() * 100
    assert percent.index.tolist() == [1, 2, 3, 4]
    assert np.round(percent.to_numpy(), 1)[:3].tolist() == [22.8, 35.9, 30.5]
    assert round(percent.loc[4], 2) == 10.73
    assert round(answers.astype(float).mean(), 2) == 2.29
    assert round(answers.astype(float).std(), 3) == 0.937


LQ_FACTORS = {"LEAD": [f"LEAD{i:02d}" for i in range(1, 12)],
              "TSIG": ["TSIG01", "TSIG02", "TSIG03"],
              "HOSTILE": [f"HOSTIL{i:02d}" for i in range(1, 6)]}
LQ_INSTRUMENT = """\
id: lq2002
name: {nb: Lederskap, en: Leadership climate}
scale:                      # LEAD and TSIG: 1-5
  min: 1
  max: 5
  labels: {1: Strongly disagree, 2: Disagree, 3: Neutral, 4: Agree, 5: Strongly agree}
  top_box: 2
factors:
  - id: LEAD
    name: Leadership climate
    items: [%s]
  - id: TSIG
    name: Task significance
    items: [%s]
  - id: HOSTILE
    name: Hostility
    scale:                  # the BSI hostility items: 0-4, a scale of their own
      min: 0
      max: 4
      labels: {0: Not at all, 1: A little bit, 2: Moderately, 3: Quite a bit, 4: Extremely}
      top_box: 1
    items: [%s]
""" % tuple(", ".join(f"{{id: {i}}}" for i in items) for items in LQ_FACTORS.values())


def test_lq2002_two_scales(tmp_path):
    """lq2002 (R multilevel): LEAD and TSIG on 1-5, HOSTILE on 0-4 in one instrument. The
    person scale scores and the company means equal the ones shipped in the package (LEAD,
    TSIG, HOSTILE; GLEAD, GTSIG, GHOSTILE); the alphas equal Cronbach's formula on the
    raw items; the distribution columns are named by the point they count."""
    from workbench.aggregate import describe, own_sums, rollup
    from workbench.reliability import reliability
    from workbench.scoring import person_scores

    source = realdata("multilevel_lq2002.csv")
    raw = pd.read_csv(source)
    companies = [str(c) for c in sorted(raw["COMPID"].unique())]
    assert len(companies) == 49
    folder = write_dataset(
        tmp_path / "lq2002", source, LQ_INSTRUMENT, companies, "army",
        "columns: {COMPID: unit_id, SUB: respondent_id}\nconstants: {wave: '2000'}\n"
        "ignore: [LEAD, TSIG, HOSTILE, GLEAD, GTSIG, GHOSTILE]\n")
    result = validate_dataset(folder)
    assert result.report.exit_code == 0, result.report.lines()
    count = result.report.count("multilevel_lq2002.csv")
    assert (count.read, count.accepted, count.rejected) == (2042, 2042, 0)
    survey = result.survey
    instrument = survey.instrument
    assert instrument.factor_scale("HOSTILE").points == (0, 1, 2, 3, 4)
    assert instrument.points == (0, 1, 2, 3, 4, 5)
    responses = survey.responses
    assert (responses["HOSTIL01"] == 0).sum() == (raw["HOSTIL01"] == 0).sum() > 0

    # person scale scores = the package's LEAD, TSIG, HOSTILE
    scores = person_scores(responses, instrument)
    for factor in LQ_FACTORS:
        np.testing.assert_allclose(scores[factor].to_numpy(), raw[factor].to_numpy(),
                                   atol=1e-8)

    # company means = the package's GLEAD, GTSIG, GHOSTILE
    hierarchy = survey.hierarchy()
    table = describe(rollup(own_sums(responses, instrument, hierarchy), hierarchy), instrument)
    table["unit_id"] = np.asarray(hierarchy.ids, dtype=object)[table["cell"]]
    published = raw.groupby(raw["COMPID"].astype(str))[["GLEAD", "GTSIG", "GHOSTILE"]].first()
    for factor, column in (("LEAD", "GLEAD"), ("TSIG", "GTSIG"), ("HOSTILE", "GHOSTILE")):
        ours = table[(table["key"] == factor) & (table["unit_id"] != "army")]
        ours = ours.set_index("unit_id")["mean"].loc[published.index]
        np.testing.assert_allclose(ours.to_numpy(), published[column].to_numpy(), atol=1e-8)

    # distributions named by scale point: HOSTILE counts 0-4, LEAD 1-5
    root = table[table["unit_id"] == "army"].set_index("key")
    hostile = raw[LQ_FACTORS["HOSTILE"]].to_numpy().ravel()
    for point in range(5):
        assert root.loc["HOSTILE", f"pct_{point}"] == pytest.approx(
            100 * np.mean(hostile == point), abs=1e-9)
    assert np.isnan(root.loc["HOSTILE", "pct_5"]) and np.isnan(root.loc["LEAD", "pct_0"])
    assert root.loc["HOSTILE", "top_box"] == pytest.approx(100 * np.mean(hostile == 4))
    lead = raw[LQ_FACTORS["LEAD"]].to_numpy().ravel()
    assert root.loc["LEAD", "top_box"] == pytest.approx(100 * np.mean(lead >= 4))

    # alphas: Cronbach's formula on the raw items (no missing answers in lq2002)
    alphas = reliability(survey).set_index("factor")["alpha"]
    for factor, items in LQ_FACTORS.items():
        assert alphas[factor] == pytest.approx(cronbach_alpha(raw[items]), abs=1e-9)
