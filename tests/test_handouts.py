"""Workshop handouts: every format opens with its own library, nothing hidden leaks, batches.

Slow tests (PDF, PPTX, the CLI batch, papermill) are marked ``slow``; the file runs in about
three minutes on two cores.
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
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import ARTIFACTS, ROOT, SAMPLES

from workbench.compare import compare
from workbench.handouts import Handout, HandoutRefused, Published, Template, write_atomic
from workbench.i18n import number
from workbench.privacy import PrivacyPolicy, audit
from workbench.scoring import person_scores
from workbench.validate import load_survey

SNAPSHOT = ROOT / "tests" / "snapshots" / "handouts_structure.json"
MADE = dt.date(2026, 11, 22)
MARKERS = ("{{", "}}", "{%", "%}")


@pytest.fixture(scope="module")
def surveys():
    return {name: load_survey(SAMPLES / name) for name in ("university", "municipality")}


@pytest.fixture(scope="module")
def published(surveys):
    cache = {}

    def get(name: str, wave: str, lang: str) -> Published:
        key = (name, wave, lang)
        if key not in cache:
            cache[key] = Published.compute(surveys[name], wave, lang)
        return cache[key]

    return get


@pytest.fixture(scope="module")
def handout(surveys, published):
    cache = {}

    def get(name: str, unit: str, wave: str, lang: str) -> Handout:
        key = (name, unit, wave, lang)
        if key not in cache:
            cache[key] = Handout.for_unit(surveys[name], unit, wave, lang,
                                          published=published(name, wave, lang), made=MADE)
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


# ---- the published tables behind a handout ---------------------------------------------------


@pytest.mark.parametrize("name,wave,units", [
    ("university", "2021", ["NV-FYS", "NV-BIO", "NV-BIO-2", "NV", "EU"]),
    ("municipality", "2023", ["OPP-NOS", "OPP", "EK", "HO-FJE"]),
])
def test_batch_comparisons_equal_compare(surveys, published, name, wave, units):
    survey = surveys[name]
    tables = published(name, wave, "en")
    for unit in units:
        for against in ("parent", "previous", "benchmark"):
            mine = tables.comparison(unit, against)
            try:
                ref = compare(survey, unit, against, wave, lang="en")
            except Exception:
                assert mine is None, (unit, against)
                continue
            for column in ("mean", "other_mean", "diff", "p", "p_adj", "d"):
                np.testing.assert_allclose(mine[column].to_numpy(float),
                                           ref[column].to_numpy(float), rtol=1e-9, atol=1e-12,
                                           equal_nan=True, err_msg=f"{unit} {against} {column}")
            assert mine["finding"].tolist() == ref["finding"].tolist()
            assert mine["suppressed"].tolist() == ref["suppressed"].tolist()


def test_batch_views_equal_the_views(surveys, published):
    from workbench import views

    survey = surveys["university"]
    tables = published("university", "2021", "nb")
    for unit in ("NV-FYS", "NV-BIO-1", "EU"):
        pd.testing.assert_frame_equal(tables.alike_different(unit),
                                      views.alike_different(survey, unit, "2021"))
        pd.testing.assert_frame_equal(tables.category(unit, "hours"),
                                      views.category_distribution(survey, unit, "hours", "2021"))
        pd.testing.assert_frame_equal(tables.appraisal(unit), views.appraisal(survey, unit))


def test_published_units_follow_the_statistics_table(surveys, published):
    from workbench.stats import stats_table

    tables = published("municipality", "2023", "nb")
    ok, skipped = tables.published_units()
    table = stats_table(surveys["municipality"], wave="2023")
    hidden = table.groupby("unit_id")["suppressed"].all()
    assert set(ok) == set(hidden.index[~hidden])
    assert {u for u, _ in skipped} == set(hidden.index[hidden])
    assert {r for _, r in skipped} <= {"min_n", "complement", "no_answers"}


# ---- HTML ------------------------------------------------------------------------------------


CASES = [("university", "NV-FYS", "2021", "nb"), ("university", "NV-BIO-2", "2021", "en"),
         ("municipality", "OPP-NOS", "2023", "nb"), ("municipality", "EK", "2023", "en")]


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
    # every number in its language: the unit's first mean, and the other form absent
    mean = h.unit["mean"].iloc[0]
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
    assert "Analysekorset" in nb and "The analysis cross" in en
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


# ---- privacy ---------------------------------------------------------------------------------


def _hidden_means(survey, wave: str, units: list[str]) -> dict[str, list[float]]:
    """Raw (never published) factor means of each unit's subtree, from the respondent rows."""
    hierarchy = survey.hierarchy(wave)
    data = survey.responses
    scores = person_scores(data[data["wave"] == wave], survey.instrument)
    keys = [f.id for f in survey.instrument.factors]
    out = {}
    for unit in units:
        rows = scores[scores["unit_id"].isin(hierarchy.subtree(unit))]
        out[unit] = [float(rows[k].mean()) for k in keys if rows[k].notna().any()]
    return out


def _shown_means(h: Handout) -> set[float]:
    """Means the handout shows (its units in every wave, the rest of the parent, items)."""
    tables = h.published_tables()
    values = pd.concat([tables["factor"]["mean"], tables["item"]["mean"], h.alike["mean"],
                        h.comparisons["other_mean"], h.comparisons["diff"].abs()])
    return set(values.dropna().round(2))


@pytest.mark.slow
def test_no_suppressed_number_appears_in_any_format(surveys, handout):
    survey = surveys["university"]
    unit, wave = "NV-BIO", "2021"
    h = handout("university", unit, wave, "nb")
    children = h.children.groupby("unit_id")["suppressed"].all()
    hidden_units = list(children.index[children])
    assert len(hidden_units) >= 2 and (~children).any()  # some children hidden, some shown
    raw = _hidden_means(survey, wave, hidden_units)
    shown = _shown_means(h)
    # a hidden mean that rounds like a published one cannot be told apart: leave those out
    secret = sorted({round(v, 2) for values in raw.values() for v in values} - shown)
    assert len(secret) >= 5
    html_text = structure(h.as_html())[1]
    pptx = pptx_text(h.pptx_bytes())
    cells = xlsx_cells(h.xlsx_bytes())
    numbers = [c for c in cells if isinstance(c, float)]
    for value in secret:
        assert number(value, "nb") not in html_text, value
        assert number(value, "nb") not in pptx, value
    tables = h.published_tables()
    public = np.concatenate([tables["factor"]["mean"].dropna(), tables["item"]["mean"].dropna(),
                             h.comparisons["other_mean"].dropna()])
    for values in raw.values():
        for v in values:
            if np.isclose(public, v, rtol=0, atol=1e-9).any():
                continue  # e.g. 4.25 exactly: published elsewhere, not a leak
            assert not any(abs(c - v) < 1e-9 for c in numbers), v
    # the hidden children are shown as suppressed, with a reason, never as 0
    for child in hidden_units:
        assert survey.hierarchy(wave).name(child, "nb") in html_text
    assert "skjult (" in html_text
    assert "skjult" in cells or any(isinstance(c, str) and "skjult" in c for c in cells)


@pytest.mark.parametrize("name,unit,wave", [("university", "NV-BIO", "2021"),
                                            ("university", "EU", "2021"),
                                            ("municipality", "OPP", "2023")])
def test_privacy_audit_passes_on_the_tables_a_handout_uses(surveys, handout, name, unit, wave):
    survey = surveys[name]
    h = handout(name, unit, wave, "nb")
    policy = PrivacyPolicy.from_config(survey.config)
    tables = h.published_tables()
    for label, part in tables["factor"].groupby("wave"):
        assert audit(part, survey.hierarchy(label), policy).empty, label
    assert audit(tables["item"], survey.hierarchy(wave), policy).empty
    # suppressed rows carry no statistic
    factor = tables["factor"]
    assert factor.loc[factor["suppressed"], ["mean", "sd", "top_box"]].isna().all().all()


def test_unit_under_min_n_gets_no_handout(surveys, published, tmp_path):

    survey = surveys["university"]
    tables = published("university", "2021", "nb")
    assert tables.status("NV-BIO-3") == "min_n"
    with pytest.raises(HandoutRefused, match="NV-BIO-3.*fewer than 5"):
        Handout.for_unit(survey, "NV-BIO-3", "2021", "nb", published=tables)
    with pytest.raises(HandoutRefused, match="complement"):
        Handout.for_unit(survey, "NV-BIO-1", "2021", "nb", published=tables)


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
    mean = number(h.unit["mean"].iloc[0], lang)
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
    assert isinstance(factors.cell(5, 2).value, float)
    assert factors.cell(5, 2).number_format == "0.00"


@pytest.mark.slow
def test_pdf_pages_as_png_for_looking(handout):
    """Pages to PNG (pdftoppm) in artifacts/handouts/: looked at by a person, kept for review."""
    folder = ARTIFACTS / "handouts"
    folder.mkdir(parents=True, exist_ok=True)
    for name, unit, wave, lang in (CASES[0], CASES[3]):
        h = handout(name, unit, wave, lang)
        pdf = folder / f"{unit}-{lang}.pdf"
        h.to_pdf(pdf)
        for old in folder.glob(f"{unit}-{lang}-*.png"):
            old.unlink()
        subprocess.run(["pdftoppm", "-r", "60", "-png", str(pdf), str(folder / f"{unit}-{lang}")],
                       check=True)
        pngs = sorted(folder.glob(f"{unit}-{lang}-*.png"))
        assert len(pngs) >= 10 and all(p.stat().st_size > 2000 for p in pngs)


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
    assert "data:image/svg+xml" not in html  # no logo
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
    assert "Analysekorset" in text  # everything else from the default


def test_bad_template_folders_say_what_to_fix(tmp_path):
    from workbench.errors import UsageError

    with pytest.raises(UsageError, match="does not exist"):
        Template.load(tmp_path / "missing")
    (tmp_path / "branding.yaml").write_text("colours: {primary: red}\n", encoding="utf-8")
    with pytest.raises(UsageError, match="not a hex colour"):
        Template.load(tmp_path)


# ---- the batch and the command line -----------------------------------------------------------


@pytest.mark.slow
def test_cli_all_on_the_municipality(surveys, published, tmp_path, capsys):
    from workbench.cli import main

    out = tmp_path / "out"
    code = main(["handouts", str(SAMPLES / "municipality"), "--all", "--format", "html,pdf",
                 "--out", str(out), "--lang", "en"])
    err = capsys.readouterr().err
    assert code == 0
    ok, skipped = published("municipality", "2023", "en").published_units()
    for unit in ok:
        assert sorted(p.name for p in (out / unit).iterdir()) == [
            "handout-2023-en.html", "handout-2023-en.pdf"], unit
    rows = pd.read_csv(out / "skipped.csv", dtype=str)
    assert list(rows.columns) == ["unit_id", "reason"]
    assert sorted(zip(rows["unit_id"], rows["reason"])) == sorted(skipped)
    assert {"OPP-TYT", "HO-FRI"} <= set(rows["unit_id"])
    for unit in rows["unit_id"]:
        assert not (out / unit).exists()
    assert "handouts" in err and f"{len(ok)} handout(s) written" in err and "0 failed" in err


@pytest.mark.slow
def test_one_failing_unit_does_not_stop_the_batch(tmp_path, capsys, monkeypatch):
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
    assert len(list(out.glob("*/handout-2023-nb.html"))) == 33
    assert "1 failed (OPP-NOS)" in err


def test_batch_in_one_process_and_bad_formats(surveys, published, tmp_path):
    from workbench.errors import UsageError
    from workbench.handouts.batch import make_handouts, parse_formats

    assert parse_formats("html, PDF,html") == ("html", "pdf")
    with pytest.raises(UsageError, match="docx"):
        parse_formats("html,docx")
    result = make_handouts(surveys["municipality"], tmp_path, units=["OPP-NOS", "EK"],
                           formats="html,xlsx", jobs=1, progress=False,
                           published=published("municipality", "2023", "nb"))
    assert result.exit_code == 0 and not result.failed
    assert [u for u, _ in result.written] == ["OPP-NOS", "EK"]
    assert (tmp_path / "EK" / "handout-2023-nb.xlsx").is_file()
    assert (tmp_path / "skipped.csv").read_text() == "unit_id,reason\n"


def test_both_languages_in_one_run(surveys, tmp_path, capsys):
    from workbench.cli import main
    from workbench.errors import UsageError
    from workbench.handouts.batch import make_handouts, parse_langs

    assert parse_langs("nb, EN,nb") == ("nb", "en")
    with pytest.raises(UsageError, match="de"):
        parse_langs("nb,de")
    result = make_handouts(surveys["municipality"], tmp_path, units=["OPP-NOS"], lang="nb,en",
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
                    str(ROOT / "notebooks"), "-p", "dataset", str(SAMPLES / "municipality"),
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
