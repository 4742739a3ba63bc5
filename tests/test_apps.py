"""The apps' states and views without a browser; every number comes from the release."""

import base64
import io
import re
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT, SAMPLES
from traitlets import TraitError

from workbench.access import Grant, sign
from workbench.apps._common import (
    background_note,
    csv_bytes,
    download_links,
    load_release,
    size_text,
)
from workbench.apps.explorer import (
    VIEWS,
    Choices,
    ExplorerApp,
    ExplorerState,
    render,
    search_units,
    unit_options,
    view_key,
)
from workbench.apps.leader import (
    LeaderApp,
    LeaderState,
    allowed_units,
    first_view_html,
    guide_html,
    leader_page,
    refusal_html,
    request_token,
    results_html,
)
from workbench.apps.overview import (
    OverviewState,
    files_table,
    hidden_table,
    overview_html,
    structure_table,
    wave_table,
)
from workbench.handouts.app import HandoutChoice, links_html, unit_reason
from workbench.handouts.app import unit_options as handout_units
from workbench.i18n import number
from workbench.release import open_release
from workbench.stats import stats_table
from workbench.views import beside, response_rates

RESPONDENT_ID = re.compile(r"\b\d{2}-\d{6}\b")
MEAN = re.compile(r"\d,\d")


@pytest.fixture(scope="module")
def uni(university_release):
    return university_release


@pytest.fixture(scope="module")
def muni(municipality_release):
    return municipality_release


# ---------------------------------------------------------------------------------------------
# overview (workbench.apps.overview)


def test_overview_tables(tiny_dataset):
    release = open_release(tiny_dataset(), write=False)
    waves = wave_table(release, "en")
    # 10 answers of 8 + 5 = 13 invited, by hand
    assert waves.iloc[0].tolist() == ["2021", "10", "13", "77%"]
    nb = wave_table(release, "nb")
    assert nb.columns.tolist() == ["Runde", "Svar", "Inviterte", "Svarprosent"]
    assert nb.iloc[0]["Svarprosent"].replace("\xa0", " ") == "77 %"
    assert structure_table(release, "en")["Units"].tolist() == [1, 2]
    files = files_table(release, "en")
    assert set(files["File"]) == {"survey.yaml", "units.csv", "headcount.csv", "responses.csv"}
    assert all(len(c) == 12 for c in files["Checksum (SHA-256, first digits)"])
    hidden = hidden_table(release, "en").set_index("Table")
    # S2 has 4 answers: hidden (min_n) in every table, S1 (6) would leave 4 in K: protected
    factors = release.manifest["hidden"]["factors"]
    assert hidden.loc["Factors", "Published"] == number(factors["published"], "en", 0)
    html = overview_html(OverviewState("x", "en"), release)
    assert "10 answers accepted" in html and "The audit found no numbers" in html
    assert "respondent_id" not in html and not RESPONDENT_ID.search(html)


def test_overview_reads_the_release_only(uni):
    html = overview_html(OverviewState("x"), uni)
    answers, invited = uni.size("EU", "2021")
    assert (answers, invited) == (5887, 8201)
    assert f">{number(answers, 'nb', 0)}<" in html and f">{number(invited, 'nb', 0)}<" in html


def test_state_ignores_untrusted_language():
    state = OverviewState("x")
    assert state.with_lang("en").lang == "en"
    assert state.with_lang("<script>").lang == "nb"
    assert state.with_lang(["en"]).lang == "nb"


# ---------------------------------------------------------------------------------------------
# explorer (workbench.apps.explorer)


def test_explorer_state_rejects_untrusted_values(uni):
    state = ExplorerState.start(uni)
    assert (state.unit, state.wave, state.factor, state.view) == ("EU", "2021", "AUT", "overview")
    for bad in ("NOPE", 123, None, ["EU"], "EU'; drop", "<script>", True):
        assert state.with_unit(bad) == state
        assert state.with_wave(bad) == state
        assert state.with_factor(bad) == state
        assert state.with_view(bad) == state
        assert state.with_lang(bad) == state
    assert state.with_by("not_a_variable") == state
    assert state.with_unit("NV-FYS").unit == "NV-FYS"
    assert state.with_wave("2014").wave == "2014"
    assert state.with_wave(2017).wave == "2017"
    assert state.with_factor("MEN").factor == "MEN"
    assert state.with_view("heatmap").view == "heatmap"
    assert state.with_lang("en").lang == "en"


def test_background_variable_only_where_allowed(uni):
    root = ExplorerState.start(uni)
    assert root.by_allowed
    by = root.with_by("gender")
    assert by.by == "gender"
    assert by.with_by("position").by == "position"  # one at a time: the new one replaces it
    assert by.with_by("").by is None
    child = root.with_unit("NV")
    assert not child.by_allowed
    assert child.with_by("gender") == child  # not at this level
    assert by.with_unit("NV").by is None  # moving down drops it


def test_background_note_says_why(uni):
    nb, en = background_note(uni, "nb"), background_note(uni, "en")
    assert uni.policy.background_levels == (0,)
    assert nb.startswith("Bakgrunnsgrupper (Kjønn, Stilling, Stillingsprosent) vises bare for "
                         "den øverste enheten")
    assert "privacy: background_levels: [0]" in nb and "privacy: background_levels: [0]" in en
    assert "shown only for the top unit" in en and "Kjønn" in nb and "Gender" in en
    from dataclasses import replace

    deeper = replace(uni, config=replace(uni.config, background_levels=(1,)))
    assert "bare for enhetene på nivå 1 i hierarkiet (0 er den øverste enheten)" in \
        background_note(deeper, "nb")
    assert "[1]." in background_note(deeper, "en")
    app = ExplorerApp(uni)
    assert not app.by.disabled and app.by_hint.value == ""
    app.units.value = "NV"
    assert app.by.disabled and "background_levels" in app.by_hint.value
    app.lang.value = "en"
    assert "shown only for the top unit" in app.by_hint.value


def test_a_unit_missing_in_a_wave_falls_back_to_the_top():
    choices = Choices(waves=("1", "2"), units={"1": frozenset({"A", "B"}), "2": frozenset({"A"})},
                      depth={"1": {"A": 0, "B": 1}, "2": {"A": 0}}, roots={"1": "A", "2": "A"},
                      factors=("F",), background=(), background_levels=(0,))
    state = ExplorerState(unit="B", wave="1", factor="F", choices=choices)
    assert state.with_wave("2").unit == "A"
    assert state.with_wave("2").with_unit("B").unit == "A"  # B is not in wave 2


def test_search_units(uni):
    found = search_units(uni, "2021", "fysikk")
    assert found[0] == "NV-FYS" and all("fysikk" in uni.hierarchy("2021").name(u).lower()
                                        for u in found)
    assert search_units(uni, "2021", "Department of Physics") == ["NV-FYS"]
    assert search_units(uni, "2021", "nv-fys-1") == ["NV-FYS-1"]
    assert search_units(uni, "2021", "zzzz") == []
    assert len(search_units(uni, "2021", "")) == len(uni.hierarchy("2021"))


def test_search_lists_only_matches_and_says_when_none(uni):
    state = ExplorerState.start(uni).with_unit("NV-KJE")
    options, line = unit_options(uni, state, "fysikk")
    ids = [u for _, u in options]
    assert "NV-KJE" not in ids and ids == search_units(uni, "2021", "fysikk")
    assert line == f"{len(ids)} enheter passer til «fysikk»."
    none, line = unit_options(uni, state.with_lang("en"), "  qx  qx ")
    assert none == [] and line.startswith("No unit matches “qx qx” in wave 2021")
    # the search result names the unit's parent and its answers, untruncated
    label = dict((u, label) for label, u in options)["NV-FYS"]
    assert label == "Institutt for fysikk (115) – Fakultet for naturvitenskap"


def test_explorer_search_widgets(uni):
    app = ExplorerApp(uni)
    app.units.value = "NV-KJE"
    shown = app.body.value
    app.search.value = "fysikk"
    assert [u for _, u in app.units.options] == search_units(uni, "2021", "fysikk")
    assert app.units.value is None  # the chosen unit is not slipped into the results
    assert app.state.unit == "NV-KJE" and app.body.value == shown  # and stays on the page
    assert "enheter passer til «fysikk»" in app.found.value
    app.units.value = "NV-FYS"
    assert app.state.unit == "NV-FYS"
    app.search.value = "qqqq"
    assert app.units.options == () and "Ingen enhet passer til «qqqq»" in app.found.value
    assert app.state.unit == "NV-FYS"
    app.search.value = ""
    assert len(app.units.options) == len(uni.hierarchy("2021")) and app.found.value == ""
    assert app.units.value == "NV-FYS"


@pytest.mark.parametrize("unit", ["EU", "NV-FYS", "NV-FYS-5", "NV-GEO"])
def test_overview_shows_the_published_numbers(uni, unit):
    state = ExplorerState.start(uni).with_unit(unit)
    view = render(state, uni)
    expected = stats_table(uni, wave="2021", unit=unit)
    mine = view.table[view.table["unit_id"] == unit].reset_index(drop=True)
    pd.testing.assert_frame_equal(mine, expected, check_dtype=False)
    for _, row in expected.iterrows():
        if row["suppressed"]:
            assert pd.isna(row["mean"]) and pd.isna(row["n"])
        else:
            assert f">{number(row['mean'], 'nb')}<" in view.html
    assert not RESPONDENT_ID.search(view.html)


def test_hidden_cells_say_the_release_reason(uni):
    view = render(ExplorerState.start(uni).with_unit("AD-AAP-3"), uni)  # 3 answers
    rows = view.table[view.table["unit_id"] == "AD-AAP-3"]
    assert rows["suppressed"].all() and rows["mean"].isna().all() and rows["n"].isna().all()
    assert (rows["reason"] == "min_n").all()
    assert "skjult (færre enn 5 svar)" in view.html
    # a unit the complement rule hides (2014) says so
    state = ExplorerState.start(uni, wave="2014", unit="NV-KJE-4").with_lang("en")
    complement = render(state, uni)
    own = complement.table[complement.table["unit_id"] == "NV-KJE-4"]
    assert (own["reason"] == "complement").all() and own["mean"].isna().all()
    assert "suppressed (protects a small group)" in complement.html
    assert "fewer than 5" not in complement.html.split("<table")[1].split("NV-KJE")[0]


def test_size_text_from_the_release(uni):
    assert size_text(uni, "NV-FYS", "2021", "nb") == "115 svar av 161 inviterte (71\xa0%)"
    assert size_text(uni, "NV-FYS", "2021", "en") == "115 answers of 161 invited (71%)"
    answers, _ = uni.size("NV-GEO", "2021")
    if answers is None:  # the geoscience department's count is hidden: it says why
        assert size_text(uni, "NV-GEO", "2021", "nb") == \
            "Antall svar: skjult (vern av en liten gruppe)"


def test_every_view_renders_from_the_release(uni, muni):
    for release, units in ((uni, ["EU", "NV", "NV-FYS", "NV-KJE-3"]), (muni, ["EK", "OPP-NOS"])):
        start = ExplorerState.start(release)
        for i, unit in enumerate(units):
            for j, view in enumerate(VIEWS):
                lang = ("nb", "en")[(i + j) % 2]  # both languages, every view, half the time
                state = start.with_unit(unit).with_view(view).with_lang(lang)
                shown = render(state, release)
                assert shown.title
                assert "could not be made" not in shown.html, (unit, view)
                assert "kunne ikke lages" not in shown.html, (unit, view)
                assert "respondent_id" not in shown.table.columns
                assert not RESPONDENT_ID.search(shown.html)
                assert "{{" not in shown.html and "{%" not in shown.html


def test_table_view_matches_beside(muni):
    state = ExplorerState.start(muni).with_unit("OPP-NOS").with_view("table")
    view = render(state, muni)
    expected = beside(muni, "OPP-NOS", "2023")
    pd.testing.assert_frame_equal(view.table.reset_index(drop=True), expected)
    for value in list(expected["mean"]) + list(expected["benchmark_mean"]):
        assert f">{number(value, 'nb')}<" in view.html


def test_response_view_is_the_release_rates(uni):
    view = render(ExplorerState.start(uni).with_unit("NV-FYS").with_view("response"), uni)
    theirs = response_rates(uni, "NV-FYS")
    pd.testing.assert_frame_equal(view.table, theirs)
    row = theirs[theirs["wave"] == "2021"].iloc[0]
    assert (row["answers"], row["invited"]) == (115, 161)
    assert f">{number(115, 'nb', 0)}<" in view.html


def test_reliability_view_is_the_release_table(uni):
    view = render(ExplorerState.start(uni).with_view("reliability").with_wave("2019"), uni)
    table = uni.tables["reliability"]
    expected = table[table["wave"].astype(str) == "2019"].reset_index(drop=True)
    pd.testing.assert_frame_equal(view.table, expected)
    assert f">{number(expected['alpha'].iloc[0], 'nb')}<" in view.html


def test_distribution_follows_the_factor(uni):
    state = ExplorerState.start(uni).with_unit("NV-FYS").with_view("distribution")
    first = render(state, uni)
    other = render(state.with_factor("STR"), uni)
    assert first.html != other.html
    items = set(other.table["key"]) - {f.id for f in uni.instrument.factors}
    assert items == set(uni.instrument.factor("STR").item_ids)
    assert view_key(state) == view_key(state.with_lang("nb"))
    assert view_key(state) != view_key(state.with_factor("STR"))
    overview = state.with_view("overview")
    assert view_key(overview) == view_key(overview.with_factor("STR"))  # no redraw needed


def test_compare_view_shows_the_release_comparison(uni):
    view = render(ExplorerState.start(uni).with_unit("NV-FYS").with_view("compare")
                  .with_lang("en"), uni)
    parent = view.table[view.table["against"] == "parent"]
    raw = uni.tables["comparisons"]
    raw = raw[(raw["wave"] == "2021") & (raw["unit_id"] == "NV-FYS") &
              (raw["against"] == "parent")].set_index("key")
    np.testing.assert_allclose(parent.set_index("key")["diff"], raw.loc[parent["key"], "diff"])
    np.testing.assert_allclose(parent.set_index("key")["ci_low"],
                               raw.loc[parent["key"], "ci_low"])
    assert "Lower than the rest of Faculty of Natural Sciences" in view.html


def test_csv_follows_the_language():
    frame = pd.DataFrame({"label": ["Autonomi", "Mestring"], "mean": [4.125, 3.5],
                          "n": pd.array([12, pd.NA], dtype="Int64")})
    nb = csv_bytes(frame, "nb").decode("utf-8-sig")
    assert nb.splitlines() == ["label;mean;n", "Autonomi;4,125;12", "Mestring;3,5;"]
    en = csv_bytes(frame, "en").decode("utf-8-sig")
    assert en.splitlines() == ["label,mean,n", "Autonomi,4.125,12", "Mestring,3.5,"]
    assert csv_bytes(frame, "nb").startswith(b"\xef\xbb\xbf")  # Excel reads it as UTF-8


def test_downloads_hold_the_view_table(uni):
    view = render(ExplorerState.start(uni).with_unit("NV-FYS"), uni)
    for lang, sep, decimal in (("nb", ";", ","), ("en", ",", ".")):
        html = download_links(view.table, "overview-NV-FYS", sheet=view.title, lang=lang)
        csv_uri, xlsx_uri = re.findall(r"href='(data:[^']+)'", html)
        csv = base64.b64decode(csv_uri.split(",", 1)[1]).decode("utf-8-sig")
        back = pd.read_csv(io.StringIO(csv), sep=sep, decimal=decimal, dtype={"wave": str})
        assert list(back.columns) == list(view.table.columns)
        np.testing.assert_allclose(back["mean"], view.table["mean"])
        assert "respondent_id" not in back.columns
        xlsx = pd.read_excel(io.BytesIO(base64.b64decode(xlsx_uri.split(",", 1)[1])))
        assert len(xlsx) == len(view.table)
    # a title Excel would refuse as a sheet name ("Faktoroversikt: Kjønn")
    by = render(ExplorerState.start(uni).with_by("gender"), uni)
    assert ":" in by.title
    assert len(re.findall(r"href='data:", download_links(by.table, "x", sheet=by.title))) == 2


def test_explorer_widgets_follow_the_state(uni):
    app = ExplorerApp(uni)
    first = app.body.value
    app.units.value = "NV"
    assert app.state.unit == "NV" and "Fakultet for naturvitenskap" in app.header.value
    assert app.body.value != first
    app.view.value = "distribution"
    before = app.body.value
    app.factor.value = "STR"
    assert app.state.factor == "STR" and app.body.value != before
    app.search.value = "fysikk"
    assert "NV-FYS" in [v for _, v in app.units.options]
    # a forged message: an index that points nowhere is refused by the widget, state unchanged
    state = app.state
    with pytest.raises(TraitError):
        app.units.set_state({"index": 10_000})
    assert app.state == state
    app.lang.value = "en"
    assert "Answers per factor and item" in app.body.value
    csv_uri = re.findall(r"href='(data:text/csv[^']+)'", app.downloads.value)[0]
    header = base64.b64decode(csv_uri.split(",", 1)[1]).decode("utf-8-sig").splitlines()[0]
    assert header.startswith("wave,unit_id,unit_name,level,key")  # English: commas


# ---------------------------------------------------------------------------------------------
# leader page (workbench.apps.leader)


def grant_for(unit, wave="2021", hours=1):
    return Grant(unit, wave, int(time.time()) + 3600 * hours)


def test_leader_state_stays_inside_the_grant(uni):
    state = LeaderState.start(uni, grant_for("NV-FYS"))
    assert state.allowed[0] == "NV-FYS"
    assert set(state.allowed) <= set(uni.hierarchy().subtree("NV-FYS"))
    for bad in ("NV-KJE", "NV", "EU", None, 5, "NV-FYS ", ["NV-FYS-1"]):
        assert state.with_unit(bad) == state
    assert state.with_unit("NV-FYS-1").unit == "NV-FYS-1"
    assert state.with_against("siblings") == state
    assert state.with_against("previous").against == "previous"
    assert state.with_lang("xx") == state


def test_leader_offers_the_comparisons_the_survey_can_make(uni, muni):
    assert LeaderState.start(uni, grant_for("NV-FYS")).comparisons == ("parent", "previous")
    first = LeaderState.start(uni, grant_for("NV-FYS", wave="2014"))
    assert first.comparisons == ("parent",)
    assert first.with_against("previous") == first
    school = LeaderState.start(muni, grant_for("OPP-NOS", wave="2023"))
    assert school.comparisons == ("parent", "benchmark", "previous")
    assert school.with_against("benchmark").against == "benchmark"


def test_leader_subtree_leaves_out_hidden_units(uni):
    allowed = allowed_units(uni, grant_for("AD"))
    hidden = [u for u in uni.hierarchy().subtree("AD") if not uni.published(u, "2021")]
    assert hidden and not set(hidden) & set(allowed)
    with pytest.raises(Exception, match="unknown_unit"):
        LeaderState.start(uni, grant_for("AD-AAP-3"))
    with pytest.raises(Exception, match="unknown_unit"):
        LeaderState.start(uni, grant_for("NV-FYS", wave="1999"))


def test_leader_results_are_the_published_numbers(uni):
    state = LeaderState.start(uni, grant_for("NV-FYS"))
    html = results_html(state, uni)
    for mean in stats_table(uni, wave="2021", unit="NV-FYS")["mean"]:
        assert f">{number(mean, 'nb')}<" in html
    first = first_view_html(state, uni)
    assert "Resultater for Institutt for fysikk" in first
    assert "115 av 161 inviterte svarte (71\xa0%)" in first


def test_geoscience_leader_page(uni):
    """Institutt for geovitenskap (51 answers in 2021), wholly hidden before the release."""
    state = LeaderState.start(uni, grant_for("NV-GEO"))
    html = results_html(state, uni)
    rows = stats_table(uni, wave="2021", unit="NV-GEO")
    shown = rows[~rows["suppressed"]]
    assert len(shown) >= 1
    for mean in shown["mean"]:
        assert f">{number(mean, 'nb')}<" in html
    for reason in rows.loc[rows["suppressed"], "reason"]:  # each hidden one says why
        assert {"min_n": "færre enn 5 svar", "complement": "vern av en liten gruppe"}[reason] \
            in html


def test_leader_widgets_refuse_a_forged_unit(uni):
    app = LeaderApp(uni, LeaderState.start(uni, grant_for("NV-FYS")))
    shown = (app.header.value, app.results.value, app.comparison.value)
    kje = uni.hierarchy().name("NV-KJE")
    # what a forged comm message can carry: an index out of range, a value, a label
    with pytest.raises(TraitError):
        app.unit.set_state({"index": 999})
    app.unit.set_state({"value": "NV-KJE", "label": kje})  # not synced: ignored
    app._set(app.state.with_unit("NV-KJE"))  # even if a value got through, it is re-checked
    assert app.state.unit == "NV-FYS"
    assert (app.header.value, app.results.value, app.comparison.value) == shown
    assert kje not in app.header.value + app.results.value
    app.unit.value = "NV-FYS-1"
    assert app.state.unit == "NV-FYS-1" and "kvantefysikk" in app.header.value
    app.against.value = "previous"
    assert app.state.against == "previous"
    previous = app.comparison.value
    table = stats_table(uni, wave="2021", unit="NV-FYS-1")
    assert number(table["mean"].iloc[0], "nb") in previous


@pytest.mark.parametrize("reason", ["missing", "malformed", "tampered", "expired",
                                    "unknown_unit", "unavailable"])
def test_refusal_has_no_numbers(reason):
    html = refusal_html(reason)
    words = re.sub(r"<style>.*?</style>", "", html, flags=re.S)
    assert not re.search(r"\d", re.sub(r"<[^>]+>", "", words))
    assert "Ingen tilgang" in html and "No access" in html


def test_guide_lists_the_workshop_steps():
    for lang, words in (("nb", ["Analysekrysset", "Framtidsbildet", "Prioriteringsmatrisen",
                                "Handlingsplanen"]),
                        ("en", ["analysis cross", "future picture", "priority matrix",
                                "action plan"])):
        html = guide_html(lang)
        assert all(w in html for w in words)
    assert "analysekorset" not in guide_html("nb").lower()


def test_leader_page_end_to_end(tmp_path, monkeypatch, muni):
    from workbench.access import ensure_secret

    monkeypatch.setenv("WORKBENCH_SECRET_FILE", str(tmp_path / "secret"))
    secret = ensure_secret(tmp_path / "secret")
    for key in ("VOILA_PREHEAT", "VOILA_BASE_URL", "VOILA_KERNEL_ID", "WORKBENCH_LINK"):
        monkeypatch.delenv(key, raising=False)

    def text_of(box):
        return " ".join(text_of(w) if hasattr(w, "children") else
                        (w.value if isinstance(getattr(w, "value", None), str) else "")
                        for w in box.children)

    folder = muni.path  # what a kernel under 'workbench serve' gets
    refused = leader_page(folder)  # no token anywhere
    assert "Ingen tilgang" in text_of(refused) and not MEAN.search(text_of(refused))
    expired = sign(secret, "OPP-NOS", "2023", time.time() - 10)
    assert "utløpt" in text_of(leader_page(folder, token=expired))
    good = sign(secret, "OPP-NOS", "2023", time.time() + 600)
    monkeypatch.setenv("WORKBENCH_LINK", f"http://x:1/?t={good}")
    assert request_token() == good
    page = leader_page(folder)
    html = text_of(page)
    mean = stats_table(muni, wave="2023", unit="OPP-NOS")["mean"].iloc[0]
    assert number(mean, "nb") in html
    # under Voila only the request's query string counts, never $WORKBENCH_LINK
    monkeypatch.setenv("VOILA_BASE_URL", "/")
    monkeypatch.setenv("QUERY_STRING", "")
    assert request_token() is None
    monkeypatch.setenv("QUERY_STRING", f"t={good}")
    assert request_token() == good


def test_a_leader_kernel_imports_only_what_it_shows(muni):
    """Reading the release and making the first view loads no statistics library and no
    plotting library (a kernel that only shows a release stays small): even a comparison's
    words come from the release (its t quantiles are kept there)."""
    code = f"""
import sys, time
from workbench.access import Grant
from workbench.apps.leader import LeaderState, first_view_html, prepare
release = prepare({str(muni.path)!r})
state = LeaderState.start(release, Grant("OPP-NOS", "2023", int(time.time()) + 60))
html = first_view_html(state, release)
assert "Resultater for" in html
from workbench.apps.leader import comparison_section
assert "enn" in comparison_section(state, release) or "skjult" in comparison_section(state,
                                                                                     release)
print(sorted(m for m in ("scipy", "statsmodels", "matplotlib", "workbench.validate",
                         "workbench.apps.explorer", "workbench.handouts") if m in sys.modules))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


# ---------------------------------------------------------------------------------------------
# the handouts page (workbench.handouts.app)


def test_handout_units_say_the_release_reason(uni):
    assert unit_reason(uni, "NV-FYS", "2021") == ""
    assert unit_reason(uni, "AD-AAP-3", "2021") == "min_n"
    assert unit_reason(uni, "NV-KJE-4", "2014") == "complement"
    labels = dict((u, label) for label, u in handout_units(uni, "2014", "nb"))
    assert labels["NV-KJE-4"].endswith("ingen rapport (skjult for å verne en liten gruppe)")
    assert "for få svar" not in labels["NV-KJE-4"]
    english = dict((u, label) for label, u in handout_units(uni, "2021", "en"))
    assert english["AD-AAP-3"].endswith("no report (fewer than 5 answers)")
    assert "no report" not in english["NV-FYS"]


def test_handout_choice_checks_browser_values(uni):
    choice = HandoutChoice(wave="2021")
    assert choice.with_unit(uni, "NV-FYS").unit == "NV-FYS"
    for bad in ("NOPE", None, 5, ["NV-FYS"]):
        assert choice.with_unit(uni, bad) == choice
        assert choice.with_wave(uni, bad) == choice
        assert choice.with_lang(bad) == choice
    assert choice.with_formats(["pdf", "exe", "html"]).formats == ("html", "pdf")
    assert choice.with_formats("pdf") == choice
    assert choice.with_unit(uni, "NV-FYS").with_wave(uni, "2014").unit == "NV-FYS"


def test_handout_links_point_at_the_served_folder(tmp_path):
    class Result:
        written = (("NV-FYS", (tmp_path / "NV-FYS" / "handout-2021-nb.pdf",
                               tmp_path / "NV-FYS" / "handout-2021-nb.html")),)

    html = links_html(Result(), tmp_path, url="/workbench/handouts/")
    assert re.findall(r'href="([^"]+)"', html) == [
        "/workbench/handouts/NV-FYS/handout-2021-nb.pdf",
        "/workbench/handouts/NV-FYS/handout-2021-nb.html"]
    plain = links_html(Result(), tmp_path, base=tmp_path)
    assert 'href="NV-FYS/handout-2021-nb.pdf"' in plain


def test_samples_are_where_the_tests_expect():
    assert (SAMPLES / "university" / "survey.yaml").is_file()


# ---------------------------------------------------------------------------------------------
# the explorer's workshop views: the overview and the follow-up, read from the store


def test_explorer_workshop_views(tmp_path, muni, monkeypatch):
    import shutil

    from workbench.release import CACHE, write_release
    from workbench.workshop import DB_ENV, Access, Action, Workshop, open_store

    monkeypatch.delenv(DB_ENV, raising=False)
    dataset = tmp_path / "municipality"
    dataset.mkdir()
    for path in (SAMPLES / "municipality").iterdir():
        if path.is_file():
            shutil.copy(path, dataset / path.name)
    write_release(muni, dataset / CACHE)
    release = load_release(dataset)
    state = ExplorerState.start(release).with_unit("OPP-NOS").with_wave("2023")
    # no store yet: the views say so, and reading a release makes none
    for view in ("workshops", "followup"):
        shown = render(state.with_view(view), release)
        assert "Ingen arbeidsmøter er registrert" in shown.html
    assert not (dataset / ".workbench" / "workshop.sqlite").exists()

    store = open_store(dataset)
    ws = Workshop(store, Access.analyst("test"), release)
    ws.save_action(Action(wave="2021", unit_id="OPP-NOS", factor="F6", measure="Ukentlig møte",
                          responsible="Rektor", status="done"))
    ws.save_action(Action(wave="2023", unit_id="OPP-NOS", factor="F3", measure="Nytt tiltak"))
    store.close()
    release = load_release(dataset)  # a new kernel: the store is found beside the release
    shown = render(state.with_view("followup"), release)
    factors = release.tables["factors"]
    cell = factors.loc[(factors["unit_id"] == "OPP-NOS")
                       & (factors["key"] == "F6")].set_index("wave")["mean"]
    assert cell[["2021", "2023"]].notna().all()
    assert "Ukentlig møte" in shown.html and "ferdig" in shown.html
    # the change beside it is the release's published means of both waves
    assert number(cell["2021"], "nb") in shown.html and number(cell["2023"], "nb") in shown.html
    assert "Nytt tiltak" not in shown.html  # this wave's plan is followed up next time
    overview = render(state.with_view("workshops"), release)
    row = overview.table.set_index("group_id").loc["OPP"]
    assert (row["held"], row["measures"], row["done"]) == (1, 1, 0)
    assert "<img" in overview.html or "<svg" in overview.html
    first = render(state.with_wave("2021").with_view("followup"), release)
    assert "første runde" in first.html


def test_size_gives_no_headcount_the_answers_contradict(tiny_dataset):
    # more answers than invited: the headcount is wrong there and no rate is shown; as many
    # as invited is a response rate of 100 % (the rates table's rule, read back)
    from workbench.instrument import load_instrument
    from workbench.release import build_release
    from workbench.validate import load_survey

    items = load_instrument("tifaktor").item_ids
    rows = [f"r{i},2021,{'S1' if i < 6 else 'S2'}," + ",".join(["4"] * len(items))
            for i in range(12)]
    release = build_release(load_survey(tiny_dataset(
        headcount__csv="wave,unit_id,invited\n2021,S1,5\n2021,S2,6\n",
        responses__csv=",".join(["respondent_id", "wave", "unit_id", *items]) + "\n"
        + "\n".join(rows) + "\n")))
    assert release.size("S1", "2021") == (6, None)
    assert release.size("S2", "2021") == (6, 6)
    assert release.size("K", "2021") == (12, None)
