"""Workshop handouts: cut from the release, every format opens, nothing hidden leaks, batches.

Slow tests (PDF, PPTX, the CLI batch, papermill) are marked ``slow``; the file runs in a few
minutes on two cores.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import re
import shutil
import subprocess
import sys
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import ARTIFACTS, ROOT, SAMPLES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workbench.compare import adjust_pvalues
from workbench.handouts import Handout, HandoutRefused, Template, handout_units, write_atomic
from workbench.handouts._pdf import SHARED_MARK
from workbench.i18n import number
from workbench.scoring import person_scores

SNAPSHOT = ROOT / "tests" / "snapshots" / "handouts_structure.json"
MADE = dt.date(2026, 11, 22)
MARKERS = ("{{", "}}", "{%", "%}")


@pytest.fixture(scope="module")
def releases(university_release, municipality_release):
    return {"university": university_release, "municipality": municipality_release}


@pytest.fixture(scope="module")
def handout(releases):
    cache = {}

    def get(name: str, unit: str, wave: str, lang: str) -> Handout:
        key = (name, unit, wave, lang)
        if key not in cache:
            cache[key] = Handout.for_unit(releases[name], unit, wave, lang, made=MADE)
        return cache[key]

    return get


class _Structure(HTMLParser):
    """Section ids with their first h2, in order; and the visible text."""

    def __init__(self):
        super().__init__()
        self.sections: list[list[str]] = []
        self.text: list[str] = []
        self._in = None
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "section":
            self.sections.append([attrs.get("id", ""), ""])
        if tag == "h2" and self.sections and not self.sections[-1][1]:
            self._in = "h2"
        if tag in ("style", "script"):
            self._skip += 1

    def handle_endtag(self, tag):
        if tag == "h2":
            self._in = None
        if tag in ("style", "script"):
            self._skip -= 1

    def handle_data(self, data):
        if self._skip:
            return
        self.text.append(data)
        if self._in == "h2":
            self.sections[-1][1] += data.strip()


def structure(html: str) -> tuple[list[list[str]], str]:
    parser = _Structure()
    parser.feed(html)
    return parser.sections, " ".join(" ".join(parser.text).split())


def pptx_text(data: bytes) -> str:
    from pptx import Presentation

    parts = []
    for slide in Presentation(io.BytesIO(data)).slides:
        for shape in slide.shapes:
            if shape.has_text_frame:
                parts.append(shape.text_frame.text)
            if shape.has_table:
                parts += [cell.text for row in shape.table.rows for cell in row.cells]
    return "\n".join(parts)


def xlsx_cells(data: bytes) -> list:
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(data))
    return [cell for ws in book.worksheets for row in ws.iter_rows(values_only=True)
            for cell in row if cell is not None]


# ---- which units get a handout ----------------------------------------------------------------


def test_handout_units_follow_the_release(university_release):
    release = university_release
    units = handout_units(release, "2021", "en").set_index("unit_id")
    assert list(units.index) == list(release.hierarchy("2021").ids)
    factors = release.tables["factors"]
    factors = factors[factors["wave"] == "2021"]
    shown = ~factors.groupby("unit_id")["suppressed"].all()
    assert units["handout"].to_dict() == shown.reindex(units.index).to_dict()
    # a unit with cells partly hidden gets a handout (the geoscience department: 7 of its 17
    # factors are published, its answer count is not)
    geo = factors[factors["unit_id"] == "NV-GEO"]
    assert 0 < geo["suppressed"].sum() < len(geo)
    assert units.loc["NV-GEO", "handout"] and units.loc["NV-GEO", "reason"] == ""
    # a group with 3 answers: every cell min_n
    assert units.loc["NV-GEO-3", "reason"] == "min_n"
    assert units.loc["NV-GEO-3", "note"] == "no report (fewer than 5 answers)"


def test_unit_rates_of_the_units_below(university_release):
    from workbench.views import unit_rates

    rates = unit_rates(university_release, ["NV-GEO-1", "NV-GEO-3", "NOPE", "NV-GEO"], "2021",
                       "en").set_index("unit_id")
    assert list(rates.index) == ["NV-GEO-1", "NV-GEO-3", "NV-GEO"]  # NOPE is not a unit
    one = rates.loc["NV-GEO-1"]
    assert (one["answers"], one["invited"], one["suppressed"]) == (22, 29, False)
    assert one["rate"] == pytest.approx(100 * 22 / 29)
    assert one["unit_name"] == "Research group in bedrock geology"
    # a group of 3 answers and the department hidden by the complement rule: no count, no
    # rate, no headcount (beside "too few answers", a headcount of 1 says who answered)
    for unit, reason in (("NV-GEO-3", "min_n"), ("NV-GEO", "complement")):
        row = rates.loc[unit]
        assert row["suppressed"] and row["reason"] == reason
        assert pd.isna(row["answers"]) and np.isnan(row["rate"]) and pd.isna(row["invited"])


def test_a_unit_hidden_by_the_complement_rule_is_not_too_few_answers(tiny_dataset, tmp_path,
                                                                     capsys):
    from workbench.cli import main
    from workbench.release import open_release

    # S1 has 6 answers, S2 has 4 (min_n); publishing S1 would give away S2 as K minus S1
    release = open_release(tiny_dataset(), write=False)
    units = handout_units(release, lang="nb").set_index("unit_id")
    assert units.loc["K", "handout"]
    assert units.loc["S1", "reason"] == "complement"
    assert units.loc["S1", "note"] == "ingen rapport (vern av en liten gruppe)"
    assert units.loc["S2", "reason"] == "min_n"
    assert units.loc["S2", "note"] == "ingen rapport (færre enn 5 svar)"
    with pytest.raises(HandoutRefused, match="S1.*complement"):
        Handout.for_unit(release, "S1")
    out = tmp_path / "out"
    assert main(["handouts", str(tiny_dataset()), "--all", "--format", "html", "--out",
                 str(out), "--jobs", "1", "--quiet"]) == 0
    rows = pd.read_csv(out / "skipped.csv", dtype=str)
    assert rows.values.tolist() == [["S1", "complement"], ["S2", "min_n"]]
    assert (out / "K" / "handout-2021-nb.html").is_file()
    capsys.readouterr()
    assert main(["handouts", str(tiny_dataset()), "--unit", "S1", "--out", str(out),
                 "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "complement" in err and "fewer than" not in err


# ---- HTML ------------------------------------------------------------------------------------


CASES = [("university", "NV-FYS", "2021", "nb"), ("university", "NV-BIO-2", "2021", "en"),
         ("university", "NV-GEO", "2021", "nb"), ("municipality", "OPP-NOS", "2023", "nb"),
         ("municipality", "EK", "2023", "en")]


@pytest.mark.parametrize("name,unit,wave,lang", CASES)
def test_html_is_complete_self_contained_and_localised(handout, name, unit, wave, lang):
    h = handout(name, unit, wave, lang)
    html = h.as_html()
    sections, text = structure(html)
    assert not [m for m in MARKERS if m in html]
    assert h.unit_name in text
    # self-contained: no reference leaves the file
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", html)
    assert "url(http" not in html and "@import" not in html
    # every number in its language: the unit's first published mean, and the other form absent
    mean = h.unit["mean"].dropna().iloc[0]
    assert number(mean, lang) in text
    assert number(mean, "en" if lang == "nb" else "nb") not in text
    if lang == "nb":
        assert re.search(r"\b\d,\d\d\b", text) and not re.search(r"\b[1-5]\.\d\d\b", text)
    else:
        assert re.search(r"\b\d\.\d\d\b", text) and not re.search(r"\b[1-5],\d\d\b", text)
    # the worksheets are pre-filled with the unit's factors
    ids = [s[0] for s in sections]
    for sid in ("cover", "how-to-read", "factor-overview", "factor-table", "distribution",
                "ws-analysis-cross", "ws-future-picture", "ws-priority-matrix",
                "ws-action-plan", "ws-parking-lot", "meetings", "roles", "method", "tips"):
        assert sid in ids, sid
    for factor in h.instrument.factors:
        assert text.count(factor.name(lang)) >= 4, factor.id  # overview, table, ..., worksheets


def test_html_dates_and_texts_follow_the_language(handout):
    nb = structure(handout("municipality", "OPP-NOS", "2023", "nb").as_html())[1]
    en = structure(handout("municipality", "OPP-NOS", "2023", "en").as_html())[1]
    assert "22. november 2026" in nb and "22 November 2026" in en
    assert "Analysekrysset" in nb and "The analysis cross" in en
    assert "analysekorset" not in nb.lower()
    assert "Nordby skole" in nb and "Nordby School" in en
    assert "Vi er fornøyd med" in nb and "We are pleased with" in en
    # the benchmark column and comparison are there (the municipality has benchmarks)
    assert "Referansetall (skoler)" in nb and "Benchmark (schools)" in en
    assert "Mot landsgjennomsnittet (skoler)" in nb


def test_html_structure_snapshot(handout):
    got = {}
    for name, unit, wave, lang in CASES:
        sections = structure(handout(name, unit, wave, lang).as_html())[0]
        got[f"{name}/{unit}/{lang}"] = [f"{sid}: {heading}" for sid, heading in sections]
    if os.environ.get("WORKBENCH_UPDATE_SNAPSHOTS") or not SNAPSHOT.exists():
        SNAPSHOT.parent.mkdir(exist_ok=True)
        SNAPSHOT.write_text(json.dumps(got, indent=1, ensure_ascii=False) + "\n",
                            encoding="utf-8")
    assert got == json.loads(SNAPSHOT.read_text(encoding="utf-8"))


def test_handout_is_an_immutable_value(handout):
    from dataclasses import FrozenInstanceError

    h = handout("municipality", "OPP-NOS", "2023", "nb")
    with pytest.raises(FrozenInstanceError):
        h.unit_id = "X"
    later = h.with_date(dt.date(2027, 1, 5))
    assert later is not h and h.made == MADE and later.made == dt.date(2027, 1, 5)
    assert "5. januar 2027" in later.as_html() and "5. januar 2027" not in h.as_html()


# ---- privacy: every number shown comes from the release ---------------------------------------


_NUMBER = re.compile(r"(?<![\w.,])(\d+(?:[.,]\d+)?)(\s?%)?")


def _numbers(text: str) -> list[tuple[str, bool]]:
    """Every number in ``text`` as written, with whether a percent sign follows it."""
    return [(m.group(1), bool(m.group(2))) for m in _NUMBER.finditer(text)]


def _release_numbers(release, h: Handout) -> dict[str, set[str]]:
    """What a handout of ``h``'s unit may show, formatted in its language, straight from the
    release's tables: ``decimal`` (means, sd, differences), ``percent`` (shares, response
    rates), ``integer`` (counts, and shares written without their sign in the bars)."""
    lang, wave = h.lang, h.wave
    waves = release.waves[: release.waves.index(wave) + 1]
    hierarchy = release.hierarchy(wave)
    units = [h.unit_id, *([h.parent_id] if h.parent_id else []),
             *hierarchy.children(h.unit_id)]
    decimal, share, integer = set(), set(), set()

    def rows(name: str, unit: str, wave_: str) -> pd.DataFrame:
        frame = release.tables[name]
        return frame[(frame["unit_id"] == unit) & (frame["wave"] == wave_)]

    for w in waves:
        for unit in units:
            for name in ("factors", "items"):
                part = rows(name, unit, w)
                for column in ("mean", "sd"):
                    decimal |= {number(v, lang) for v in part[column].dropna()}
                for column in [c for c in part.columns if c.startswith("pct_")] + ["top_box"]:
                    share |= {number(v, lang, 0) for v in part[column].dropna()}
            part = rows("extras", unit, w)
            share |= {number(v, lang, 0) for v in part["share"].dropna()}
            decimal |= {number(v, lang) for v in part["mean"].dropna()}
            part = rows("rates", unit, w)
            integer |= {number(v, lang, 0) for v in part[["answers", "invited"]].stack()}
            share |= {number(v, lang, 0) for v in part["rate"].dropna()}
            part = rows("comparisons", unit, w)
            for column in ("mean", "other_mean", "diff", "ci_low", "ci_high"):
                decimal |= {number(abs(v), lang) for v in part[column].dropna()}
            detectable = _detectable(part)
            integer |= {number(v, lang, 0) for v in part["n"].dropna()}
            if len(detectable):
                decimal |= {number(np.median(detectable), lang, 1)}
    # the smallest difference the unit can tell, over all its comparisons (the key's sentence)
    mine = release.tables["comparisons"]
    mine = mine[(mine["unit_id"] == h.unit_id) & (mine["wave"] == wave)]
    detectable = _detectable(mine)
    if len(detectable):
        decimal |= {number(np.median(detectable), lang, 1)}
        integer |= {number(np.median(mine.loc[~mine["suppressed"], "n"]), lang, 0)}
    bench = release.benchmarks
    if bench is not None:
        decimal |= {number(v, lang) for v in bench["mean"]}
    return {"decimal": decimal, "percent": share, "integer": integer | share}


def _detectable(part: pd.DataFrame, threshold: float = 0.2) -> np.ndarray:
    """The smallest difference each tested row can call real, recomputed from the release's
    se and df: t(1 - 0.05 / (2 m), df) x se for m tests of the comparison, at least the
    threshold."""
    from scipy import stats as st

    out = []
    for _, test in part[~part["suppressed"].astype(bool)].groupby(["wave", "against"]):
        m = int(np.isfinite(test["p"].to_numpy(dtype="float64")).sum()) or 1
        out.append(np.maximum(st.t.ppf(1 - 0.05 / (2 * m), test["df"].to_numpy(dtype="float64"))
                              * test["se"].to_numpy(dtype="float64"), threshold))
    return np.concatenate(out) if out else np.array([])


def _static_numbers(release, h: Handout) -> set[str]:
    """Numbers that are part of the words: waves, min_n, the scale, the date, the texts of
    the instrument, of the template and of the unit names."""
    texts = [*release.waves, str(h.min_n), h.made.isoformat().replace("-", " "),
             number(h.threshold, h.lang, 1), *(str(p) for p in h.instrument.scale.points)]
    texts += [i.text(h.lang) for i in h.instrument.items]
    texts += [label(h.lang) for q in h.instrument.extra for label in q.codes.values()]
    texts += [release.hierarchy(h.wave).name(u, h.lang) for u in release.hierarchy(h.wave).ids]
    texts += [json.dumps(h.template.texts, ensure_ascii=False)]
    return {n for text in texts for n, _ in _numbers(text)}


def _unexplained(text: str, allowed: dict[str, set[str]], static: set[str]) -> list[str]:
    """The numbers in ``text`` that neither the release nor the words account for."""
    bad = []
    for value, pct in _numbers(text):
        if pct:
            ok = value in allowed["percent"]
        elif "," in value or "." in value:
            ok = value in allowed["decimal"] or value in static
        else:
            ok = value in allowed["integer"] or value in static
        if not ok:
            bad.append(value + ("%" if pct else ""))
    return bad


def _xlsx_values(release, h: Handout) -> np.ndarray:
    """Every value the workbook may hold as a number, from the release's tables."""
    wave = h.wave
    waves = release.waves[: release.waves.index(wave) + 1]
    units = [h.unit_id, *([h.parent_id] if h.parent_id else []),
             *release.hierarchy(wave).children(h.unit_id)]
    values = []
    for name in ("factors", "items", "rates", "extras", "comparisons"):
        frame = release.tables[name]
        part = frame[frame["unit_id"].isin(units) & frame["wave"].isin(waves)]
        numeric = part.select_dtypes("number")
        values.append(numeric.to_numpy(dtype="float64").ravel())
        shares = [c for c in numeric.columns if c.startswith("pct_")] + \
            [c for c in ("top_box", "rate", "share") if c in numeric.columns]
        values.append(numeric[shares].to_numpy(dtype="float64").ravel() / 100.0)
        if name == "comparisons":
            for _, test in part[part["unit_id"] == h.unit_id].groupby(["wave", "against"]):
                values.append(adjust_pvalues(test["p"].to_numpy(), "holm"))
            values.append(_detectable(part[part["unit_id"] == h.unit_id]))
    # the cover's rate: answers over invited (both published in the rates table)
    rates = release.tables["rates"]
    mine = rates[rates["unit_id"].isin(units) & rates["wave"].isin(waves)]
    values.append((mine["answers"] / mine["invited"]).to_numpy(dtype="float64"))
    found = np.concatenate(values)
    return found[np.isfinite(found)]


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["nb", "en"])
def test_every_number_a_handout_shows_comes_from_the_release(releases, handout, lang):
    release = releases["university"]
    h = handout("university", "NV-GEO", "2021", lang)
    assert h.unit["suppressed"].any() and not h.unit["suppressed"].all()
    allowed = _release_numbers(release, h)
    static = _static_numbers(release, h)
    results = structure(h.as_html().split(SHARED_MARK)[0])[1]
    assert not _unexplained(results, allowed, static)
    assert not _unexplained(pptx_text(h.pptx_bytes()), allowed, static)
    public = _xlsx_values(release, h)
    numbers = [c for c in xlsx_cells(h.xlsx_bytes())
               if isinstance(c, (int, float)) and not isinstance(c, bool)]
    assert numbers
    strays = [c for c in numbers if not np.isclose(public, c, rtol=0, atol=1e-9).any()]
    assert not strays
    # the test can tell: a number from elsewhere is caught
    assert _unexplained("3,14159 og 101 %", allowed, static) == ["3,14159", "101%"]


def _raw_means(survey, wave: str, unit: str) -> dict[str, float]:
    """Raw factor means of a unit's subtree from the respondent rows (never published)."""
    hierarchy = survey.hierarchy(wave)
    data = survey.responses
    scores = person_scores(data[data["wave"] == wave], survey.instrument)
    rows = scores[scores["unit_id"].isin(hierarchy.subtree(unit))]
    return {f.id: float(rows[f.id].mean()) for f in survey.instrument.factors}


@pytest.mark.slow
def test_hidden_cells_show_no_number_and_say_why(university, releases, handout):
    release = releases["university"]
    h = handout("university", "NV-GEO", "2021", "nb")
    hidden = h.unit.loc[h.unit["suppressed"]]
    # the complement rule hides some of the department's cells (how many follows the
    # joint protection's least-loss choice)
    assert len(hidden) >= 3 and set(hidden["reason"]) == {"complement"}
    assert hidden[["n", "mean", "sd", "pct_1", "top_box", "answers"]].isna().all().all()
    raw = _raw_means(university, "2021", "NV-GEO")
    public = np.concatenate([release.tables[t]["mean"].dropna().to_numpy()
                             for t in ("factors", "items", "comparisons")])
    secret = [raw[k] for k in hidden["key"]
              if not np.isclose(public, raw[k], rtol=0, atol=1e-9).any()]
    assert len(secret) >= 1
    html = h.as_html()
    text = structure(html)[1]
    shown = _release_numbers(release, h)["decimal"]
    pptx = pptx_text(h.pptx_bytes())
    cells = xlsx_cells(h.xlsx_bytes())
    for value in secret:
        written = number(value, "nb")
        if written not in shown:  # a hidden mean that rounds like a published one is no leak
            assert written not in text and written not in pptx, value
        assert not any(isinstance(c, float) and abs(c - value) < 1e-9 for c in cells), value
    # each hidden cell says why, in words; the answer count too
    assert text.count("skjult (vern av en liten gruppe)") >= len(hidden)
    assert "Svar og svarprosent: skjult (vern av en liten gruppe)" in text
    assert "Noen tall for enheten er skjult av personvernhensyn" in text
    # the comparisons say why they are missing: the unit's cell, or the other side's
    from workbench.compare import compare

    reasons = set(pd.concat([compare(release, "NV-GEO", a, "2021")
                             for a in ("parent", "previous")])["reason"])
    assert reasons & {"parent_suppressed", "previous_suppressed"}
    if "parent_suppressed" in reasons:
        assert "skjult (tallet for Fakultet for naturvitenskap er skjult)" in text
    if "previous_suppressed" in reasons:
        assert "skjult (tallet for 2019 er skjult)" in text
    # the group with 3 answers among the units below: no count and no headcount; the cover's
    # headcount of the hidden department says "skjult" too, in every format
    below = h.children.set_index("unit_id")
    assert below.loc["NV-GEO-3", "suppressed"] and pd.isna(below.loc["NV-GEO-3", "answers"])
    assert pd.isna(below.loc["NV-GEO-3", "invited"])
    from workbench.handouts import _present

    fmt = _present.Formatter("nb", h.min_n)
    assert _present.cover(h, fmt)["invited"] == "skjult"
    assert {r["invited"] for r in _present.children(h, fmt) if r["hidden"]} == {"skjult"}
    from openpyxl import load_workbook

    first = load_workbook(io.BytesIO(h.xlsx_bytes())).worksheets[0]
    assert ("Inviterte", "skjult") in {row[:2] for row in first.iter_rows(values_only=True)}
    assert "skjult (færre enn 5 svar)" in text
    assert "skjult" in cells


def test_unit_without_published_figures_gets_no_handout(releases):
    release = releases["university"]
    with pytest.raises(HandoutRefused, match="NV-BIO-3.*fewer than 5"):
        Handout.for_unit(release, "NV-BIO-3", "2021", "nb")


def test_cli_unit_under_min_n_exits_2_with_one_line(tmp_path, capsys):
    from workbench.cli import main

    code = main(["handouts", str(SAMPLES / "municipality"), "--unit", "OPP-TYT", "--out",
                 str(tmp_path), "--format", "html", "--quiet"])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1 and "OPP-TYT" in err and "min_n" in err
    assert not (tmp_path / "OPP-TYT").exists()


# ---- files -----------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("name,unit,wave,lang", CASES)
def test_every_format_opens_with_its_own_library(handout, name, unit, wave, lang, tmp_path):
    from openpyxl import load_workbook
    from pptx import Presentation
    from pypdf import PdfReader

    h = handout(name, unit, wave, lang)
    paths = h.write(tmp_path, ("html", "pdf", "pptx", "xlsx"))
    assert [p.name for p in paths] == [f"handout-{wave}-{lang}.{x}"
                                       for x in ("html", "pdf", "pptx", "xlsx")]
    assert not list(tmp_path.glob(".*.part"))
    factor = h.instrument.factors[0].name(lang)

    reader = PdfReader(paths[1])
    assert len(reader.pages) >= 10
    text = "\n".join(page.extract_text() for page in reader.pages)
    flat = " ".join(text.split())
    assert h.unit_name in flat and factor in flat
    assert not [m for m in MARKERS if m in text]
    mean = number(h.unit["mean"].dropna().iloc[0], lang)
    assert mean in flat
    word = "Side" if lang == "nb" else "Page"
    for number_, page in enumerate(reader.pages[1:], start=2):  # the cover has no footer
        # numbered on through the shared worksheet pages, which are laid out once per batch
        assert f"{word} {number_}" in " ".join(page.extract_text().split()), number_
    assert (reader.metadata.title or "").startswith(h.unit_name)

    deck = Presentation(paths[2])
    assert len(deck.slides) >= 15
    tables = [s.table for slide in deck.slides for s in slide.shapes if s.has_table]
    assert any(t.cell(1, 0).text == factor for t in tables)
    pictures = [s for slide in deck.slides for s in slide.shapes if s.shape_type == 13]
    assert len(pictures) >= 2  # factor overview and distribution charts
    assert h.unit_name in pptx_text(paths[2].read_bytes())

    book = load_workbook(paths[3])
    names = book.sheetnames
    assert len(names) >= 7
    factors = book[names[1]]
    assert factors.cell(5, 1).value == factor
    first = 5 + int(np.flatnonzero(~h.unit["suppressed"].to_numpy())[0])  # a published row
    assert isinstance(factors.cell(first, 2).value, float)
    assert factors.cell(first, 2).number_format == "0.00"
    if h.unit["suppressed"].iloc[0]:
        assert factors.cell(5, 2).value == ("skjult" if lang == "nb" else "suppressed")


@pytest.mark.slow
def test_pdf_pages_as_png_for_looking(handout):
    """Pages to PNG (pdftoppm) in artifacts/handouts/: looked at by a person, kept for review."""
    folder = ARTIFACTS / "handouts"
    folder.mkdir(parents=True, exist_ok=True)
    for name, unit, wave, lang in (CASES[0], CASES[2], CASES[4]):
        h = handout(name, unit, wave, lang)
        pdf = folder / f"{unit}-{lang}.pdf"
        h.to_pdf(pdf)
        for old in folder.glob(f"{unit}-{lang}-*.png"):
            old.unlink()
        subprocess.run(["pdftoppm", "-r", "60", "-png", str(pdf), str(folder / f"{unit}-{lang}")],
                       check=True)
        pngs = sorted(folder.glob(f"{unit}-{lang}-*.png"))
        assert len(pngs) >= 10 and all(p.stat().st_size > 2000 for p in pngs)


@pytest.mark.parametrize("name, unit, wave, lang", [CASES[0], CASES[2]])
def test_pdf_parsed_by_lxml_with_the_lighter_sheet_is_the_same_pdf(handout, name, unit, wave,
                                                                   lang):
    """The unit's pages are parsed by lxml and laid out with WeasyPrint's user-agent sheet
    without its footnote and note rules: the PDF is the same, byte for byte, as WeasyPrint's
    own parsing and sheet make."""
    pytest.importorskip("weasyprint")
    from weasyprint import HTML

    from workbench.handouts import _pdf

    own, _, _ = _pdf._parts(handout(name, unit, wave, lang).as_html())
    page, styles = _pdf._split_styles(own + "</main></body></html>")
    sheets = [_pdf._sheet(text) for text in styles if text.strip()]
    fast = _pdf._Page(page, styles=styles)
    assert fast.parsed_by_lxml and fast.light
    lighter, standard = (document.render(font_config=_pdf._fonts(), stylesheets=sheets)
                         for document in (fast, HTML(string=page)))
    assert len(lighter.pages) == len(standard.pages) >= 5
    dated = re.compile(rb"/(?:CreationDate|ModDate) \([^)]*\)")
    assert dated.sub(b"", lighter.write_pdf()) == dated.sub(b"", standard.write_pdf())


def _same_tree(ours, theirs) -> None:
    """Two xml.etree trees alike in tags, attributes, text and tails (comments included)."""
    assert (ours.tag, ours.attrib, ours.text, ours.tail) == \
        (theirs.tag, theirs.attrib, theirs.text, theirs.tail)
    assert len(ours) == len(theirs), (ours.tag, [c.tag for c in ours], [c.tag for c in theirs])
    for mine, other in zip(ours, theirs):
        _same_tree(mine, other)


def test_lxml_parses_handouts_into_the_tree_of_weasyprints_html5_parser(handout):
    """Both parts of handouts in both languages: lxml's tree is the HTML5 parser's tree."""
    pytest.importorskip("weasyprint")
    import tinyhtml5

    from workbench.handouts import _pdf

    for name, unit, wave, lang in (CASES[0], CASES[2], CASES[4]):
        own, shared, head = _pdf._parts(handout(name, unit, wave, lang).as_html())
        # as html_to_pdf lays them out, and with whitespace after </body> and </html>
        for text in (own + "</main></body></html>", own + "</main></body>\n</html>\n ",
                     f"{head}<body><main>{shared}"):
            page, _ = _pdf._split_styles(text)
            tree = _pdf._tree(page)
            assert tree is not None
            _same_tree(tree, tinyhtml5.parse(page, namespace_html_elements=False))


def test_lxml_tree_of_a_tricky_plain_page_is_the_html5_parsers():
    pytest.importorskip("weasyprint")
    import tinyhtml5

    from workbench.handouts import _pdf

    page = ('<!DOCTYPE html>\n<html lang="nb">\n <head><meta charset="utf-8"><title>T &amp; '
            'U</title></head>\n<body class="a">\n<!-- a comment -->\n<h1>Ære &lt;og&gt; '
            '&quot;vern&quot; &#x2013; 3&nbsp;%</h1>\n<table><caption>c</caption>'
            '<tr><th>a</th><td>1</td></tr>\n<tr><td>2</td></tr><tbody><tr><td>3</td></tr>'
            '</tbody><tr><td>4</td></tr></table>\n<p>one<br>two <img src="data:," alt="">'
            '</p><ul><li>x</li></ul></body>\n</html>\n \n')
    tree = _pdf._tree(page)
    assert tree is not None
    _same_tree(tree, tinyhtml5.parse(page, namespace_html_elements=False))


_TEXT = st.sampled_from(["", " ", "\n  ", "a", "Ø &amp; å", "&lt;b&gt;", "1&nbsp;%", "x\ty",
                         "<!-- c -->", "<br>", "<br/>", '<img src="data:," alt="">', "<span/>",
                         "<div />"])
_TAGS = st.sampled_from(["p", "div", "span", "b", "em", "section", "h2", "ul", "li",
                         "table", "tbody", "tr", "td", "th", "caption", "a", "pre", "dl",
                         "dt", "colgroup", "col", "image", "listing"])


def _fragment(depth: int = 3):
    """Random markup, well formed or not (HTML5 and libxml2 then differ)."""
    leaf = _TEXT
    if depth == 0:
        return leaf
    element = st.builds(lambda tag, cls, inner, close: f'<{tag}{cls}>{inner}'
                        + (f"</{tag}>" if close else ""),
                        _TAGS, st.sampled_from(["", ' class="num"', " id='x'"]),
                        st.lists(_fragment(depth - 1), max_size=3).map("".join),
                        st.sampled_from([True, True, True, False]))
    return st.one_of(leaf, element)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=st.lists(_fragment(), max_size=4).map("".join),
       after=st.sampled_from(["", "\n", "</body>\n", "</body></html>\n "]))
def test_lxml_tree_is_the_html5_parsers_or_lxml_steps_aside(body, after):
    """Whatever the markup: the lxml tree equals tinyhtml5's, or the page is not plain."""
    pytest.importorskip("weasyprint")
    import tinyhtml5

    from workbench.handouts import _pdf

    page = f"<!DOCTYPE html><html><head><title>t</title></head><body>{body}{after}"
    if not page.rstrip().endswith("</html>"):
        page += "</html>"
    tree = _pdf._tree(page)
    if tree is not None:
        _same_tree(tree, tinyhtml5.parse(page, namespace_html_elements=False))


@pytest.mark.parametrize("page", [
    "<html><body><p>no doctype</p></body></html>",
    "<!DOCTYPE html><html><body><svg><rect/></svg></body></html>",
    "<!DOCTYPE html><html><body><math><mi>x</mi></math></body></html>",
    "<!DOCTYPE html><html><body><template><p>t</p></template></body></html>",
    '<!DOCTYPE html><html><head><base href="https://example.invalid/"></head><body></body>'
    "</html>",
    "<!DOCTYPE html><html><body><p><b>misnested</p></b></body></html>",
    "<!DOCTYPE html><html><body><p>a<span/>b</p></body></html>",
    "<!DOCTYPE html><html><body><pre>\nx</pre></body></html>",
    "<!DOCTYPE html><html><body><p>a\x00b</p></body></html>",
    "<!DOCTYPE html><html><body><p>a<![CDATA[b]]></p></body></html>",
    "<!DOCTYPE html><html><body><table><tr><td>x</td></tr><p>astray</p></table></body>"
    "</html>",
    "<!DOCTYPE html><html><body><table><tr><td>x</td></tr>astray</table></body></html>",
    "<!DOCTYPE html><html><body><table><tbody><tr><p>astray</p></tr></tbody></table></body>"
    "</html>",
    "<!-- before --><!DOCTYPE html><html><body></body></html>",
    "<!DOCTYPE html><html><body></body></html><p>after</p>",
])
def test_a_page_that_is_not_plain_is_parsed_by_weasyprint(page):
    pytest.importorskip("weasyprint")
    from workbench.handouts import _pdf

    document = _pdf._Page(page)
    assert not document.parsed_by_lxml
    assert document.render(font_config=_pdf._fonts()).write_pdf().startswith(b"%PDF")


def test_pdf_with_footnotes_keeps_weasyprints_own_sheet():
    """A template that makes footnotes or notes gets WeasyPrint's whole user-agent sheet."""
    pytest.importorskip("weasyprint")
    from workbench.handouts import _pdf

    page = ('<!DOCTYPE html><html><head><style>.fn { float: footnote }</style></head><body>'
            '<p>Text<span class="fn">more text</span></p></body></html>')
    assert not _pdf._Page(page).light
    assert not _pdf._Page(page.replace("float: footnote", "position: note(x)")).light
    assert _pdf._Page(page.replace("float: footnote", "color: red")).light
    # the styles taken out of the page count too
    assert not _pdf._Page("<!DOCTYPE html><p>x</p>", styles=(".fn { float: footnote }",)).light
    assert _pdf.html_to_pdf(page).startswith(b"%PDF")


def test_pdf_fetches_nothing_from_a_network():
    pytest.importorskip("weasyprint")
    from workbench.handouts._pdf import OfflineFetcher, html_to_pdf

    fetcher = OfflineFetcher()
    pdf = html_to_pdf('<html><head><style>@import url(https://example.invalid/i.css); '
                      'p {background: url(http://example.invalid/b.png)}</style></head>'
                      '<body><p>x</p><img src="http://example.invalid/a.png">'
                      '<link rel="stylesheet" href="https://example.invalid/s.css">'
                      '<img src="data:image/svg+xml;base64,PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5v'
                      'cmcvMjAwMC9zdmciLz4="></body></html>', fetcher)
    assert pdf.startswith(b"%PDF")
    # the @import is refused too, by the fetcher of the style sheets parsed once per process
    assert sorted(fetcher.refused) == ["http://example.invalid/a.png",
                                       "http://example.invalid/b.png",
                                       "https://example.invalid/s.css"]


def test_writing_is_atomic(tmp_path, monkeypatch):
    target = tmp_path / "a.txt"
    write_atomic(target, b"old")

    def broken(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(OSError):
        write_atomic(target, b"new")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]


def test_a_failing_format_leaves_no_file_of_the_handout(handout, tmp_path, monkeypatch):
    h = handout("municipality", "OPP-NOS", "2023", "nb")

    def broken(self):
        raise RuntimeError("boom")

    monkeypatch.setattr(Handout, "xlsx_bytes", broken)
    with pytest.raises(RuntimeError):
        h.write(tmp_path, ("html", "xlsx"))
    assert list(tmp_path.iterdir()) == []


# ---- templates -------------------------------------------------------------------------------


def test_a_copied_template_folder_overrides_one_block_and_the_branding(handout, tmp_path):
    folder = tmp_path / "consultant"
    shutil.copytree(ROOT / "templates" / "default", folder)
    source = (folder / "handout.html.j2").read_text(encoding="utf-8")
    start = source.index("{% block tips %}\n")  # (the header comment names it too)
    end = source.index("{% endblock %}", start) + len("{% endblock %}")
    (folder / "handout.html.j2").write_text(
        source[:start] + '{% block tips %}<section id="tips"><h2>Våre egne tips</h2>'
        "<p>Ring Konsulent AS.</p></section>{% endblock %}" + source[end:], encoding="utf-8")
    (folder / "branding.yaml").write_text(
        "organisation: Konsulent AS\nlogo:\ncolours: {primary: '#554477'}\n"
        "footer: Laget av Konsulent AS\n", encoding="utf-8")
    h = handout("municipality", "OPP-NOS", "2023", "nb").with_template(folder)
    html = h.as_html()
    sections, text = structure(html)
    assert "Ring Konsulent AS." in text and "Våre egne tips" in text
    assert "Ikke start med det negative" not in text  # the default tips were replaced
    assert "#554477" in html and "Laget av Konsulent AS" in html
    assert 'class="logo"' not in html  # no logo
    assert [s[0] for s in sections][-1] == "tips" and len(sections) > 15
    assert not [m for m in MARKERS if m in html]


def test_a_template_folder_with_only_the_changes(handout, tmp_path):
    folder = tmp_path / "small"
    folder.mkdir()
    (folder / "handout.html.j2").write_text(
        '{% extends "default/handout.html.j2" %}\n'
        "{% block how_to_read %}<section id=\"how-to-read\"><h2>{{ t('how_to_read') }}</h2>"
        "<p>Kort: {{ unit.name }}.</p></section>{% endblock %}\n", encoding="utf-8")
    (folder / "texts.yaml").write_text('title: {nb: "Resultatheftet", en: "Results"}\n',
                                       encoding="utf-8")
    h = handout("municipality", "OPP-NOS", "2023", "nb").with_template(Template.load(folder))
    text = structure(h.as_html())[1]
    assert "Kort: Nordby skole." in text and "Resultatheftet" in text
    assert "Analysekrysset" in text  # everything else from the default


def test_bad_template_folders_say_what_to_fix(tmp_path):
    from workbench.errors import UsageError

    with pytest.raises(UsageError, match="does not exist"):
        Template.load(tmp_path / "missing")
    (tmp_path / "branding.yaml").write_text("colours: {primary: red}\n", encoding="utf-8")
    with pytest.raises(UsageError, match="not a hex colour"):
        Template.load(tmp_path)


# ---- the batch and the command line -----------------------------------------------------------


@pytest.mark.slow
def test_cli_all_on_the_municipality(releases, tmp_path, capsys):
    from workbench.cli import main

    out = tmp_path / "out"
    code = main(["handouts", str(SAMPLES / "municipality"), "--all", "--format", "html,pdf",
                 "--out", str(out), "--lang", "en"])
    err = capsys.readouterr().err
    assert code == 0
    units = handout_units(releases["municipality"], "2023")
    ok = units.loc[units["handout"], "unit_id"].tolist()
    for unit in ok:
        assert sorted(p.name for p in (out / unit).iterdir()) == [
            "handout-2023-en.html", "handout-2023-en.pdf"], unit
    rows = pd.read_csv(out / "skipped.csv", dtype=str)
    assert list(rows.columns) == ["unit_id", "reason"]
    assert rows.values.tolist() == units.loc[~units["handout"], ["unit_id", "reason"]
                                             ].values.tolist()
    assert ["OPP-TYT", "min_n"] in rows.values.tolist()
    for unit in rows["unit_id"]:
        assert not (out / unit).exists()
    assert "handouts" in err and f"{len(ok)} handout(s) written" in err and "0 failed" in err


@pytest.mark.slow
def test_the_batch_reads_the_release_folder_only(municipality, tmp_path, monkeypatch):
    """Handouts from a release folder: nothing loads or aggregates respondent rows, in the
    batch or in its (forked) workers."""
    import workbench.release
    import workbench.validate
    from workbench.cli import main
    from workbench.release import build_release, write_release

    folder = write_release(build_release(municipality), tmp_path / "release")

    def refuse(*args, **kwargs):
        raise AssertionError("respondent rows were loaded")

    for module, name in ((workbench.validate, "load_survey"), (workbench.release, "load_survey"),
                         (workbench.release, "build_release")):
        if hasattr(module, name):
            monkeypatch.setattr(module, name, refuse)
    monkeypatch.setattr("workbench.aggregate.own_sums", refuse)
    out = tmp_path / "out"
    code = main(["handouts", str(folder), "--all", "--format", "html", "--out", str(out),
                 "--quiet", "--jobs", "2"])
    assert code == 0
    units = handout_units(folder, "2023")
    assert len(list(out.glob("*/handout-2023-nb.html"))) == units["handout"].sum() > 30
    assert "error" not in (out / "skipped.csv").read_text()


@pytest.mark.slow
def test_one_failing_unit_does_not_stop_the_batch(releases, tmp_path, capsys, monkeypatch):
    from workbench.cli import main

    original = Handout.as_html

    def flaky(self):
        if self.unit_id == "OPP-NOS":
            raise RuntimeError("boom")
        return original(self)

    monkeypatch.setattr(Handout, "as_html", flaky)  # the forked workers inherit it
    out = tmp_path / "out"
    code = main(["handouts", str(SAMPLES / "municipality"), "--all", "--format", "html",
                 "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 1
    rows = pd.read_csv(out / "skipped.csv", dtype=str).set_index("unit_id")["reason"]
    assert rows["OPP-NOS"] == "error: RuntimeError: boom"
    assert not (out / "OPP-NOS").exists()
    assert (out / "OPP-SOS" / "handout-2023-nb.html").is_file()
    units = handout_units(releases["municipality"], "2023")
    assert len(list(out.glob("*/handout-2023-nb.html"))) == units["handout"].sum() - 1
    assert "1 failed (OPP-NOS)" in err


def test_batch_in_one_process_and_bad_formats(releases, tmp_path):
    from workbench.errors import UsageError
    from workbench.handouts.batch import make_handouts, parse_formats

    assert parse_formats("html, PDF,html") == ("html", "pdf")
    with pytest.raises(UsageError, match="docx"):
        parse_formats("html,docx")
    result = make_handouts(releases["municipality"], tmp_path, units=["OPP-NOS", "EK"],
                           formats="html,xlsx", jobs=1, progress=False)
    assert result.exit_code == 0 and not result.failed
    assert [u for u, _ in result.written] == ["OPP-NOS", "EK"]
    assert (tmp_path / "EK" / "handout-2023-nb.xlsx").is_file()
    assert (tmp_path / "skipped.csv").read_text() == "unit_id,reason\n"


def test_both_languages_in_one_run(releases, tmp_path, capsys):
    from workbench.cli import main
    from workbench.errors import UsageError
    from workbench.handouts.batch import make_handouts, parse_langs

    assert parse_langs("nb, EN,nb") == ("nb", "en")
    with pytest.raises(UsageError, match="de"):
        parse_langs("nb,de")
    result = make_handouts(releases["municipality"], tmp_path, units=["OPP-NOS"], lang="nb,en",
                           formats="html", jobs=1, progress=False)
    assert result.exit_code == 0 and len(result.written) == 2
    nb = (tmp_path / "OPP-NOS" / "handout-2023-nb.html").read_text(encoding="utf-8")
    en = (tmp_path / "OPP-NOS" / "handout-2023-en.html").read_text(encoding="utf-8")
    assert '<html lang="nb">' in nb and '<html lang="en">' in en
    code = main(["handouts", str(SAMPLES / "municipality"), "--unit", "OPP-NOS", "--lang",
                 "nb,de", "--out", str(tmp_path / "x")])
    err = capsys.readouterr().err
    assert code == 2 and "de" in err and "Traceback" not in err and len(err.splitlines()) == 1


@pytest.mark.slow
def test_notebook_makes_a_handout_with_papermill(tmp_path):
    papermill = Path(sys.executable).parent / "papermill"
    out = tmp_path / "nb"
    subprocess.run([str(papermill), str(ROOT / "notebooks" / "handouts.ipynb"),
                    str(tmp_path / "run.ipynb"), "-k", "python3", "--cwd",
                    str(ROOT / "notebooks"), "-p", "source", str(SAMPLES / "municipality"),
                    "-p", "unit", "OPP-NOS", "-p", "out", str(out), "-p", "formats", "html"],
                   check=True, capture_output=True)
    assert (out / "OPP-NOS" / "handout-2023-nb.html").is_file()


def test_notebook_is_thin_and_stripped():
    nb = json.loads((ROOT / "notebooks" / "handouts.ipynb").read_text(encoding="utf-8"))
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert "parameters" in code[0]["metadata"].get("tags", [])
    assert all(not c["outputs"] and c["execution_count"] is None for c in code)
    assert all(len(c["source"]) <= 8 for c in code)


def test_pptx_overview_slides_keep_themes_whole():
    from workbench.handouts._pptx import _overview_parts

    themes = {"a": "T1", "b": "T1", "c": "T2", "d": "T2", "e": "T2", "f": "T3"}
    # T1 takes 3 rows (heading + 2), T2 4: too many for one slide of 6; T3 (2) fits beside T2
    assert _overview_parts(list("abcdef"), themes, rows=6) == [["a", "b"], ["c", "d", "e", "f"]]
    assert _overview_parts(list("abcdefghij"), {}, rows=12) == [list("abcdefghij")]
    # a theme longer than a slide still gets one slide of its own
    assert _overview_parts(list("abc"), dict.fromkeys("abc", "T"), rows=2) == [list("abc")]


# ---- the recorded workshop (issue 12) ----------------------------------------------------------


@pytest.fixture(scope="module")
def muni_dataset(tmp_path_factory, municipality_release) -> Path:
    """A copy of the municipality dataset with its release (built by the session's fixture)
    beside it, so that commands reuse it; no workshop store."""
    from workbench.release import CACHE
    from workbench.workshop import STORE_PATH

    folder = tmp_path_factory.mktemp("muni") / "municipality"
    shutil.copytree(SAMPLES / "municipality", folder,
                    ignore=shutil.ignore_patterns(STORE_PATH.name + "*"))
    assert (folder / CACHE / "manifest.json").is_file()
    return folder


@pytest.fixture
def dataset(tmp_path, muni_dataset, monkeypatch) -> Path:
    from workbench.workshop import DB_ENV

    monkeypatch.delenv(DB_ENV, raising=False)
    target = tmp_path / "municipality"
    shutil.copytree(muni_dataset, target)
    return target


def _record(store, release, unit: str = "OPP-NOS", wave: str = "2023") -> dict:
    """Record a small workshop for ``unit``; returns the factor ids it used."""
    from workbench.workshop import Access, Action, Choice, Parking, Picture, Votes, Workshop

    first, second = (f.id for f in release.instrument.factors[:2])
    ws = Workshop(store, Access.analyst("test"), release)
    ws.save_votes(Votes(wave, unit, first, pleased=3, improve=9,
                        improve_reasons="Uklare roller <etter> omorganiseringen"))
    ws.save_choice(Choice(wave, unit, (first,)))
    ws.save_picture(Picture(wave, unit, employees="Vi vet hvem som gjør hva",
                            leader="Rektor gir klare beskjeder", organisation=""))
    ws.save_action(Action(wave, unit, "Ukentlig avklaringsmøte", factor=first, area="Møter",
                          goal="Alle vet hvem som gjør hva", responsible="Rektor",
                          deadline="2023-12-01", status="started", impact="large",
                          feasibility="easy"))
    ws.save_action(Action(wave, unit, "=Nye stillingsbeskrivelser", factor=second,
                          status="planned", impact="small", feasibility="hard"))
    ws.save_parking(Parking(wave, unit, "For små lokaler", passed_by="Rektor",
                            passed_to="Kommunalsjef"))
    return {"first": first, "second": second}


def test_handout_shows_the_recorded_workshop(releases, tmp_path):
    from workbench.workshop import open_store

    release = releases["municipality"]
    blank = Handout.for_unit(release, "OPP-NOS", "2023", "nb", made=MADE)
    with open_store(url=f"sqlite:///{tmp_path / 'ws.sqlite'}") as store:
        used = _record(store, release)
        filled = Handout.for_unit(release, "OPP-NOS", "2023", "nb", made=MADE, store=store)
        assert filled.workshop == store.state("OPP-NOS", "2023")
        # a state recorded for another unit is refused, not shown on the wrong handout
        from workbench.errors import UsageError
        with pytest.raises(UsageError, match="OPP-NOS"):
            Handout.for_unit(release, "EK", "2023", "nb", workshop=filled.workshop)
    names = {f.id: f.name("nb") for f in release.instrument.factors}
    sections, text = structure(filled.as_html())
    blank_sections, blank_text = structure(blank.as_html())
    assert [s[0] for s in sections] == [s[0] for s in blank_sections]  # same sheets, filled
    for shown in ("Ukentlig avklaringsmøte", "Alle vet hvem som gjør hva", "01.12.2023",
                  "startet", "planlagt", "=Nye stillingsbeskrivelser",
                  "Uklare roller <etter> omorganiseringen", "Rektor gir klare beskjeder",
                  "For små lokaler", "Kommunalsjef", f"Valgte faktorer: {names[used['first']]}",
                  f"{names[used['first']]} \u2013 Møter"):
        assert shown in text, shown
        assert shown not in blank_text
    html = filled.as_html()
    assert "&lt;etter&gt;" in html and "<etter>" not in html  # a leader's words are escaped
    # the priority matrix: each measure in its quadrant (large/easy = quick wins; small/hard =
    # drop), and the plan's priority column says the same
    matrix = html[html.index('id="ws-priority-matrix"'):html.index('id="ws-action-plan"')]
    quick = matrix.index("Gjør nå (raske gevinster)")
    drop = matrix.index("Dropp")
    assert quick < matrix.index("Ukentlig avklaringsmøte") < matrix.index("Vurder")
    assert drop < matrix.index("=Nye stillingsbeskrivelser")
    plan = text[text.index("Arbeidsark: Handlingsplan"):text.index("Arbeidsark: Parkering")]
    assert "Gjør nå (raske gevinster)" in plan and "Dropp" in plan
    # analysis cross: the tallies beside the factor
    cross = text[text.index("Arbeidsark: Analysekrysset"):text.index("Arbeidsark: Fremtid")]
    assert f"{names[used['first']]} 3 9 Vi må forbedre:" in cross
    # nothing recorded: the blank worksheets of today
    assert filled.with_workshop(None).as_html() == blank.as_html()


def test_xlsx_shows_the_workshop_and_a_plan_sheet_the_import_reads(releases, tmp_path):
    from openpyxl import load_workbook

    from workbench.actionplan import _CANONICAL, _fold
    from workbench.handouts._plan_sheet import BLANK_ROWS, HEADER_ROW, PLAN_HEADINGS
    from workbench.workshop import open_store

    # every heading of the sheet is one the import understands, in both languages
    for lang, headings in PLAN_HEADINGS.items():
        assert {column: _CANONICAL[_fold(text)] for column, text in headings.items()} == \
            {column: column for column in headings}, lang
    release = releases["municipality"]
    for lang, sheet_name in (("nb", "Handlingsplan"), ("en", "Action plan")):
        blank = Handout.for_unit(release, "OPP-NOS", "2023", lang, made=MADE)
        book = load_workbook(io.BytesIO(blank.xlsx_bytes()))
        ws = book[sheet_name]
        header = [c.value for c in ws[HEADER_ROW] if c.value]
        assert header == list(PLAN_HEADINGS[lang].values())
        rows = list(ws.iter_rows(min_row=HEADER_ROW + 1, values_only=True))
        assert len(rows) == BLANK_ROWS
        assert all(r[:2] == ("2023", "OPP-NOS") and not any(r[2:]) for r in rows)
        checks = {str(v.sqref).split(":")[0][0]: v.formula1
                  for v in ws.data_validations.dataValidation}
        status = '"planlagt,startet,ferdig,droppet"' if lang == "nb" else \
            '"planned,started,done,dropped"'
        assert checks["I"] == status
    with open_store(url=f"sqlite:///{tmp_path / 'ws.sqlite'}") as store:
        _record(store, release)
        filled = Handout.for_unit(release, "OPP-NOS", "2023", "nb", made=MADE, store=store)
        actions = store.actions(wave="2023", unit="OPP-NOS")
    book = load_workbook(io.BytesIO(filled.xlsx_bytes()))
    assert "Verksted" in book.sheetnames
    workshop = [c for row in book["Verksted"].iter_rows(values_only=True) for c in row if c]
    assert "For små lokaler" in workshop and "Gjør nå (raske gevinster)" in workshop
    ws = book["Handlingsplan"]
    rows = list(ws.iter_rows(min_row=HEADER_ROW + 1, values_only=True))
    assert len(rows) == len(actions) + BLANK_ROWS
    assert [(r[4], r[8], r[11], r[12]) for r in rows[:2]] == \
        [(a.measure, {"started": "startet", "planned": "planlagt"}[a.status], a.id, a.version)
         for a in actions]
    # a leader's text that starts with "=" stays text, not a formula
    assert ws.cell(HEADER_ROW + 2, 5).data_type == "s"


def _export(cli_main, dataset: Path, capsys) -> str:
    capsys.readouterr()
    assert cli_main(["workshop", str(dataset), "export"]) == 0
    return capsys.readouterr().out


def test_xlsx_plan_sheet_round_trip_through_the_import(dataset, capsys):
    """Export the handout's XLSX, fill it in offline, import it with the command."""
    from openpyxl import load_workbook

    from workbench.cli import main
    from workbench.handouts._plan_sheet import HEADER_ROW
    from workbench.release import open_release
    from workbench.workshop import open_store

    release = open_release(dataset)
    with open_store(dataset) as store:
        used = _record(store, release)
        handout = Handout.for_unit(release, "OPP-NOS", "2023", "nb", made=MADE, store=store)
    path = dataset.parent / "handout.xlsx"
    path.write_bytes(handout.xlsx_bytes())
    before = _export(main, dataset, capsys)

    # nothing edited: the import changes nothing, and the blank rows are not rows read
    assert main(["workshop", str(dataset), "import", str(path)]) == 0
    out = capsys.readouterr().out
    assert "2 rows read, 2 imported (0 new, 0 changed, 2 unchanged), 0 rejected" in out
    assert _export(main, dataset, capsys) == before

    # filled in offline: one recorded row edited, one good new row, one bad row
    book = load_workbook(path)
    ws = book["Handlingsplan"]
    columns = {c.value: c.column for c in ws[HEADER_ROW] if c.value}
    first = HEADER_ROW + 1
    ws.cell(first, columns["Status"], "ferdig")
    new, bad = first + 2, first + 3  # the first two blank rows
    names = {f.id: f.name("nb") for f in release.instrument.factors}
    for row, values in ((new, {"Faktor": names[used["second"]], "Tiltak": "Felles lunsj",
                               "Ansvarlig": "Kari", "Frist": "2024-01-15",
                               "Effekt": "stor", "Gjennomførbarhet": "lett"}),
                        (bad, {"Tiltak": "Dårlig frist", "Frist": "2021-13-01"})):
        for heading, value in values.items():
            ws.cell(row, columns[heading], value)
    book.save(path)
    code = main(["workshop", str(dataset), "import", str(path)])
    out = capsys.readouterr().out
    assert code == 1
    assert "4 rows read, 3 imported (1 new, 1 changed, 1 unchanged), 1 rejected" in out
    assert (f"handout.xlsx, row {bad}, column deadline: value '2021-13-01' is not a date"
            in out)
    with open_store(dataset) as store:
        after = {a.measure: a for a in store.actions(wave="2023", unit="OPP-NOS")}
    assert set(after) == {"Ukentlig avklaringsmøte", "=Nye stillingsbeskrivelser",
                          "Felles lunsj"}
    assert after["Ukentlig avklaringsmøte"].status == "done"
    assert after["Ukentlig avklaringsmøte"].version == 2
    lunch = after["Felles lunsj"]
    assert (lunch.factor, lunch.responsible, lunch.deadline, lunch.quadrant) == \
        (used["second"], "Kari", "2024-01-15", "quick_win")


def test_cli_handouts_show_the_dataset_store_and_never_make_one(dataset, tmp_path, capsys,
                                                                 monkeypatch):
    from workbench.cli import main
    from workbench.release import CACHE, open_release
    from workbench.workshop import STORE_PATH, Store, open_store

    out = tmp_path / "out"
    argv = ["--unit", "OPP-NOS", "--format", "html", "--quiet"]
    # no store: blank sheets, and none is made
    assert main(["handouts", str(dataset), *argv, "--out", str(out / "a")]) == 0
    assert not (dataset / STORE_PATH).exists()
    page = (out / "a" / "OPP-NOS" / "handout-2023-nb.html").read_text()
    assert "Ukentlig avklaringsmøte" not in page
    with open_store(dataset) as store:
        _record(store, open_release(dataset))
    assert main(["handouts", str(dataset), *argv, "--out", str(out / "b")]) == 0
    assert "Ukentlig avklaringsmøte" in (out / "b" / "OPP-NOS" / "handout-2023-nb.html"
                                         ).read_text()
    # a release folder has no store of its own: blank sheets
    assert main(["handouts", str(dataset / CACHE), *argv, "--out", str(out / "c")]) == 0
    assert "Ukentlig avklaringsmøte" not in (out / "c" / "OPP-NOS" / "handout-2023-nb.html"
                                             ).read_text()
    # the batch reads the wave's records once, not unit by unit
    def one_by_one(self, unit, wave):
        raise AssertionError("the batch read one unit's state")

    monkeypatch.setattr(Store, "state", one_by_one)
    assert main(["handouts", str(dataset), "--all", "--format", "html", "--quiet", "--jobs",
                 "1", "--out", str(out / "d")]) == 0
    assert "Ukentlig avklaringsmøte" in (out / "d" / "OPP-NOS" / "handout-2023-nb.html"
                                         ).read_text()
    assert "Ukentlig avklaringsmøte" not in (out / "d" / "EK" / "handout-2023-nb.html"
                                             ).read_text()
    capsys.readouterr()


# ---- comparisons in plain words, agreement, hidden distributions (issue 11) -----------------

_WORDS = {"nb": {"higher": "Høyere", "lower": "Lavere", "small": "Liten forskjell",
                 "similar": "Omtrent likt", "unclear": "Kan ikke avgjøres"},
          "en": {"higher": "Higher", "lower": "Lower", "small": "Small difference",
                 "similar": "About the same", "unclear": "Cannot tell"}}


def _signed(value: float, lang: str) -> str:
    text = number(abs(value), lang, 2)
    if round(value, 2) == 0:
        return text
    return ("+" if value > 0 else "\u2212") + text


def _section(html: str, name: str) -> str:
    start = html.index(f'id="{name}"')
    end = html.find("<section", start)
    return html[start:end if end > 0 else len(html)]


def _cells(html: str) -> list[list[str]]:
    """The rows of the tables in ``html`` as lists of visible cell texts."""
    rows = []
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", html, re.S):
        cells = re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S)
        rows.append([" ".join(unescape(re.sub(r"<[^>]+>", " ", c)).split()) for c in cells])
    return rows


@pytest.mark.parametrize("unit, lang", [("MH-NEV-2", "nb"), ("MH-NEV-2", "en"),
                                        ("NV-GEO", "nb")])
def test_comparisons_show_the_interval_the_word_and_what_a_unit_can_tell(releases, handout,
                                                                        unit, lang):
    """Each difference with its 95 % interval (diff +- t(0.975, df) se, recomputed here) and
    its finding word; the key says, with the unit's own answers, the smallest difference it
    can tell from chance (Bonferroni's bound over the comparison's tests, at least 0.2)."""
    from scipy import stats as st

    from workbench.compare import compare

    release = releases["university"]
    h = handout("university", unit, "2021", lang)
    html = h.as_html()
    rows = {r[0]: r[1:] for r in _cells(_section(html, "comparisons"))}
    to = "til" if lang == "nb" else "to"
    tables = [compare(release, unit, a, "2021") for a in ("parent", "previous")]
    for column, table in enumerate(tables):
        for r in table.itertuples():
            cell = rows[h.unit.set_index("key").at[r.key, "label"]][column]
            if r.suppressed:
                assert ("skjult" if lang == "nb" else "suppressed") in cell
                continue
            half = st.t.ppf(0.975, r.df) * r.se
            low, high = r.diff - half, r.diff + half
            assert cell == (f"{_signed(r.diff, lang)} ({_signed(low, lang)} {to} "
                            f"{_signed(high, lang)}) {_WORDS[lang][r.finding]}"), r.key
    # the smallest difference each comparison can tell, per column and in the key's sentence
    detect, answers = [], []
    for column, table in enumerate(tables):
        tested = table[~table["suppressed"]]
        m = len(tested)
        values = [max(st.t.ppf(1 - 0.05 / (2 * m), df) * se, 0.2)
                  for df, se in zip(tested["df"], tested["se"])]
        detect += values
        answers += tested["n"].astype(float).tolist()
        label = "Minste forskjell som kan skilles fra tilfeldigheter" if lang == "nb" else \
            "Smallest difference that can be told from chance"
        assert rows[label][column] == number(np.median(values), lang, 1)
    d, n = float(np.median(detect)), int(np.median(answers))
    key = " ".join(structure(_section(html, "comparisons"))[1].split())
    if d > 0.2 + 1e-9:
        expected = (f"Med {n} svar må en forskjell som regel være minst {number(d, lang, 1)} "
                    "poeng for å kunne skilles fra tilfeldigheter." if lang == "nb" else
                    f"With {n} answers, a difference usually has to be at least "
                    f"{number(d, lang, 1)} points to be told from chance.")
        assert expected in key
        assert ("kan ikke avgjøres" if lang == "nb" else "cannot tell") in key
    else:
        assert f"Med {n} svar kan alle forskjeller som betyr noe (minst 0,2 poeng)" in key
    assert ("minst 0,2 poeng" if lang == "nb" else "at least 0.2 points") in key
    for word in _WORDS[lang].values():
        assert word in key
    # no word of the other language on the page
    other = _WORDS["en" if lang == "nb" else "nb"]
    text = structure(html)[1]
    for word in [*other.values(), "you answered" if lang == "nb" else "dere svarte"]:
        assert word not in text, word


def test_agreement_in_plain_words_per_factor(releases, handout):
    """rwg in LeBreton and Senter's bands, from the release's factor rows."""
    release = releases["university"]
    bands = [(0.9, "dere svarte svært likt"), (0.7, "dere svarte ganske likt"),
             (0.5, "dere svarte noe ulikt"), (-1.0, "dere svarte svært ulikt")]
    factors = release.tables["factors"]
    for unit in ("NV-GEO", "MH-NEV-2"):
        h = handout("university", unit, "2021", "nb")
        rows = _cells(_section(h.as_html(), "factor-table"))
        assert rows[0][-1] == "Enighet"
        shown = {r[0]: r[-1] for r in rows[1:]}
        part = factors[(factors["unit_id"] == unit) & (factors["wave"] == "2021")]
        labels = h.unit.set_index("key")["label"]
        seen = set()
        for key, rwg in zip(part["key"], part["rwg"]):
            expected = "\u2013" if pd.isna(rwg) else next(w for b, w in bands if rwg >= b)
            assert shown[labels[key]] == expected, key
            seen.add(expected)
        assert len(seen) > 1  # words, and dashes where it is hidden


def test_a_hidden_distribution_beside_a_published_mean_renders_cleanly(releases, handout):
    release = releases["university"]
    factors = release.tables["factors"]
    part = factors[(factors["unit_id"] == "NV-GEO") & (factors["wave"] == "2021")]
    only = part[part["dist_suppressed"] & ~part["suppressed"]]
    assert len(only) and only[[f"pct_{k}" for k in range(1, 6)]].isna().all().all()
    for lang in ("nb", "en"):
        h = handout("university", "NV-GEO", "2021", lang)
        html = h.as_html()
        assert not re.search(r"\bnan\b", structure(html)[1], re.I)
        assert not re.search(r"[:\s]nan%|width:\s*nan", html, re.I)
        labels = h.unit.set_index("key")["label"]
        dist = {r[0]: r[1:] for r in _cells(_section(html, "distribution"))}
        table = {r[0]: r[1:] for r in _cells(_section(html, "factor-table"))}
        why = "skjult (vern av en liten gruppe)" if lang == "nb" else \
            "suppressed (protects a small group)"
        for r in only.itertuples():
            assert dist[labels[r.key]][0] == why
            assert table[labels[r.key]][0] == number(r.mean, lang, 2)
        assert ("Der fordelingen er skjult" if lang == "nb" else
                "Where the distribution is hidden") in structure(html)[1]
        cells = xlsx_cells(h.xlsx_bytes())
        assert not any(isinstance(c, str) and c.strip().lower() == "nan" for c in cells)
        assert not any(isinstance(c, float) and np.isnan(c) for c in cells)


def _overflowing_tables(data: bytes) -> list[tuple[int, float]]:
    """Tables whose rows, grown to fit their wrapped text (estimated: a character is about
    half the type size wide, a line 1.2 times its height), run into the slide's footer."""
    import math

    from pptx import Presentation

    prs = Presentation(io.BytesIO(data))
    limit = (prs.slide_height - 0.35 * 914400) / 914400
    found = []
    for number_, slide in enumerate(prs.slides, start=1):
        for shape in (s for s in slide.shapes if s.has_table):
            table, total = shape.table, 0.0
            for row in table.rows:
                need = row.height / 914400
                for c, cell in enumerate(row.cells):
                    if cell.is_spanned:
                        continue
                    span = cell.span_width if cell.is_merge_origin else 1
                    width = sum(table.columns[k].width for k in range(c, c + span)) / 914400
                    runs = [r for p in cell.text_frame.paragraphs for r in p.runs]
                    end = cell.text_frame.paragraphs[0]._p.endParaRPr
                    size = runs[0].font.size.pt if runs and runs[0].font.size else \
                        int(end.get("sz")) / 100 if end is not None and end.get("sz") else 18
                    per_line = max(1, int((width - 0.2) * 72 / (size * 0.52)))
                    lines = sum(max(1, math.ceil(len(line) / per_line))
                                for line in cell.text_frame.text.split("\n"))
                    need = max(need, lines * size * 1.2 / 72 + 0.05)
                total += need
            if shape.top / 914400 + total > limit:
                found.append((number_, round(shape.top / 914400 + total, 2)))
    return found


@pytest.mark.slow
def test_pptx_shows_the_workshop_and_its_tables_fit(releases, handout, tmp_path):
    from pptx import Presentation

    from workbench.workshop import open_store

    release = releases["municipality"]
    with open_store(url=f"sqlite:///{tmp_path / 'ws.sqlite'}") as store:
        _record(store, release)
        filled = Handout.for_unit(release, "OPP-NOS", "2023", "nb", made=MADE, store=store)
    data = filled.pptx_bytes()
    text = pptx_text(data)
    for shown in ("Ukentlig avklaringsmøte", "Gjør nå (raske gevinster)", "For små lokaler",
                  "Rektor gir klare beskjeder", "Slik leser du ordene", "Kan ikke avgjøres"):
        assert shown in text, shown
    titles = [next(s.text_frame.text for s in slide.shapes if s.has_text_frame)
              for slide in Presentation(io.BytesIO(data)).slides]
    assert titles.index("Slik leser du ordene") == \
        max(i for i, title in enumerate(titles) if title.startswith("Sammenligninger")) + 1
    assert _overflowing_tables(data) == []
    for unit, lang in (("NV-GEO", "nb"), ("MH-NEV-2", "en")):  # hidden rows, a small unit
        assert _overflowing_tables(handout("university", unit, "2021", lang).pptx_bytes()) \
            == [], unit
