"""The apps' state objects and view functions, without a browser."""

import base64
import io
import re
import time

import numpy as np
import pandas as pd
import pytest
from conftest import SAMPLES
from traitlets import TraitError

from workbench.access import Grant, sign
from workbench.apps._common import Published, download_links
from workbench.apps.explorer import (
    VIEWS,
    Choices,
    ExplorerApp,
    ExplorerState,
    render,
    response_table,
    search_units,
    view_key,
)
from workbench.apps.leader import (
    LeaderApp,
    LeaderState,
    allowed_units,
    guide_html,
    leader_page,
    refusal_html,
    request_token,
    results_html,
)
from workbench.apps.overview import OverviewState, report_table, structure_table, wave_table
from workbench.i18n import number
from workbench.stats import stats_table
from workbench.validate import validate_dataset
from workbench.views import response_rates


def test_overview_tables(tiny_dataset):
    result = validate_dataset(tiny_dataset())
    waves = wave_table(result.survey, "en")
    # 10 answers of 13 invited, by hand
    assert waves.iloc[0].tolist() == ["2021", "10", "13", "77%"]
    nb = wave_table(result.survey, "nb")
    assert nb.columns.tolist() == ["Runde", "Svar", "Inviterte", "Svarprosent"]
    assert nb.iloc[0]["Svarprosent"].replace("\xa0", " ") == "77 %"
    assert structure_table(result.survey, "en")["Units"].tolist() == [1, 2]
    assert report_table(result.report, "en")["Rejected"].tolist() == ["0", "0", "0"]


def test_state_ignores_untrusted_language():
    state = OverviewState("x")
    assert state.with_lang("en").lang == "en"
    assert state.with_lang("<script>").lang == "nb"


# ---------------------------------------------------------------------------------------------
# explorer and leader page (workbench.apps.explorer, workbench.apps.leader), without a browser

RESPONDENT_ID = re.compile(r"\b\d{2}-\d{6}\b")
MEAN = re.compile(r"\d,\d")


@pytest.fixture(scope="module")
def uni(university):
    return Published(university)


@pytest.fixture(scope="module")
def muni(municipality):
    return Published(municipality)


def test_explorer_state_rejects_untrusted_values(university):
    state = ExplorerState.start(university)
    assert (state.unit, state.wave, state.factor, state.view) == ("EU", "2021", "AUT", "overview")
    for bad in ("NOPE", 123, None, ["EU"], "EU'; drop", "<script>"):
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


def test_background_variable_only_where_allowed(university):
    root = ExplorerState.start(university)
    assert root.by_allowed
    by = root.with_by("gender")
    assert by.by == "gender"
    assert by.with_by("position").by == "position"  # one at a time: the new one replaces it
    assert by.with_by("").by is None
    child = root.with_unit("NV")
    assert not child.by_allowed
    assert child.with_by("gender") == child  # not at this level
    assert by.with_unit("NV").by is None  # moving down drops it


def test_a_unit_missing_in_a_wave_falls_back_to_the_top():
    choices = Choices(waves=("1", "2"), units={"1": frozenset({"A", "B"}), "2": frozenset({"A"})},
                      depth={"1": {"A": 0, "B": 1}, "2": {"A": 0}}, roots={"1": "A", "2": "A"},
                      factors=("F",), background=(), background_levels=(0,))
    state = ExplorerState(unit="B", wave="1", factor="F", choices=choices)
    assert state.with_wave("2").unit == "A"
    assert state.with_wave("2").with_unit("B").unit == "A"  # B is not in wave 2


def test_search_units(university):
    found = search_units(university, "2021", "fysikk")
    assert "NV-FYS" in found and all("FYS" in u or "fys" in u.lower() for u in found[:1])
    assert search_units(university, "2021", "Department of Physics") == ["NV-FYS"]
    assert search_units(university, "2021", "zzzz") == []
    assert len(search_units(university, "2021", "")) == len(university.hierarchy("2021"))


@pytest.mark.parametrize("unit", ["EU", "NV-FYS", "NV-FYS-5"])
def test_overview_shows_the_published_numbers(university, uni, unit):
    state = ExplorerState.start(university).with_unit(unit)
    view = render(state, uni)
    expected = stats_table(university, wave="2021", unit=unit)
    mine = view.table[view.table["unit_id"] == unit].reset_index(drop=True)
    pd.testing.assert_frame_equal(mine, expected, check_dtype=False)
    for mean in expected["mean"]:
        assert f">{number(mean, 'nb')}<" in view.html
    assert not RESPONDENT_ID.search(view.html)


def test_suppressed_unit_shows_suppressed_with_reason(university, uni):
    view = render(ExplorerState.start(university).with_unit("AD-AAP-3"), uni)  # 3 answers
    rows = view.table[view.table["unit_id"] == "AD-AAP-3"]
    assert rows["suppressed"].all() and rows["mean"].isna().all()
    assert "skjult (færre enn 5 svar)" in view.html
    complement = render(ExplorerState.start(university).with_unit("AD-AAP").with_lang("en"), uni)
    assert "suppressed (protects a small group)" in complement.html
    own = complement.table[complement.table["unit_id"] == "AD-AAP"]
    assert own["mean"].isna().all()


def test_every_view_renders_from_published_tables(university, municipality, uni, muni):
    for survey, source, units in ((university, uni, ["EU", "NV", "NV-FYS", "NV-KJE-3"]),
                                  (municipality, muni, ["EK", "OPP-NOS"])):
        start = ExplorerState.start(survey)
        for i, unit in enumerate(units):
            for j, view in enumerate(VIEWS):
                lang = ("nb", "en")[(i + j) % 2]  # both languages, every view, half the time
                state = start.with_unit(unit).with_view(view).with_lang(lang)
                shown = render(state, source)
                assert shown.title
                assert "could not be made" not in shown.html, (unit, view)
                assert "kunne ikke lages" not in shown.html, (unit, view)
                assert "respondent_id" not in shown.table.columns
                assert not RESPONDENT_ID.search(shown.html)
                assert "{{" not in shown.html and "{%" not in shown.html


def test_table_view_matches_beside(municipality, muni):
    from workbench.views import beside

    state = ExplorerState.start(municipality).with_unit("OPP-NOS").with_view("table")
    view = render(state, muni)
    expected = beside(municipality, "OPP-NOS", "2023")
    pd.testing.assert_frame_equal(view.table.reset_index(drop=True), expected)
    for value in list(expected["mean"]) + list(expected["benchmark_mean"]):
        assert f">{number(value, 'nb')}<" in view.html


def test_response_table_matches_views(university, uni):
    mine = response_table(uni, "NV-FYS", "nb")
    theirs = response_rates(university, "NV-FYS")
    for column in ("wave", "answers", "invited", "suppressed"):
        assert mine[column].tolist() == theirs[column].tolist()
    np.testing.assert_allclose(mine["rate"], theirs["rate"])


def test_distribution_follows_the_factor(university, uni):
    state = ExplorerState.start(university).with_unit("NV-FYS").with_view("distribution")
    first = render(state, uni)
    other = render(state.with_factor("STR"), uni)
    assert first.html != other.html
    items = set(other.table["key"]) - {f.id for f in university.instrument.factors}
    assert items == set(university.instrument.factor("STR").item_ids)
    assert view_key(state) == view_key(state.with_lang("nb"))
    assert view_key(state) != view_key(state.with_factor("STR"))
    overview = state.with_view("overview")
    assert view_key(overview) == view_key(overview.with_factor("STR"))  # no redraw needed


def test_downloads_hold_the_view_table(university, uni):
    view = render(ExplorerState.start(university).with_unit("NV-FYS"), uni)
    html = download_links(view.table, "overview-NV-FYS", sheet=view.title)
    csv_uri, xlsx_uri = re.findall(r"href='(data:[^']+)'", html)
    csv = base64.b64decode(csv_uri.split(",", 1)[1]).decode("utf-8-sig")
    back = pd.read_csv(io.StringIO(csv), dtype={"wave": str})
    assert list(back.columns) == list(view.table.columns)
    np.testing.assert_allclose(back["mean"], view.table["mean"])
    assert "respondent_id" not in back.columns
    xlsx = pd.read_excel(io.BytesIO(base64.b64decode(xlsx_uri.split(",", 1)[1])))
    assert len(xlsx) == len(view.table)
    # a title Excel would refuse as a sheet name ("Faktoroversikt: Kjønn")
    by = render(ExplorerState.start(university).with_by("gender"), uni)
    assert ":" in by.title
    assert len(re.findall(r"href='data:", download_links(by.table, "x", sheet=by.title))) == 2


def test_explorer_widgets_follow_the_state(university):
    app = ExplorerApp(university)
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


def grant_for(unit, wave="2021", hours=1):
    return Grant(unit, wave, int(time.time()) + 3600 * hours)


def test_leader_state_stays_inside_the_grant(university, uni):
    state = LeaderState.start(uni, grant_for("NV-FYS"))
    assert state.allowed[0] == "NV-FYS"
    assert set(state.allowed) <= set(university.hierarchy().subtree("NV-FYS"))
    for bad in ("NV-KJE", "NV", "EU", None, 5, "NV-FYS "):
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


def test_leader_subtree_leaves_out_hidden_units(university, uni):
    allowed = allowed_units(uni, grant_for("AD"))
    hidden = [u for u in university.hierarchy().subtree("AD") if not uni.published(u, "2021")]
    assert hidden and not set(hidden) & set(allowed)
    with pytest.raises(Exception, match="unknown_unit"):
        LeaderState.start(uni, grant_for("AD-AAP-3"))


def test_leader_results_are_the_published_numbers(university, uni):
    state = LeaderState.start(uni, grant_for("NV-FYS"))
    html = results_html(state, uni)
    for mean in stats_table(university, wave="2021", unit="NV-FYS")["mean"]:
        assert f">{number(mean, 'nb')}<" in html


def test_leader_widgets_refuse_a_forged_unit(university, uni):
    app = LeaderApp(uni, LeaderState.start(uni, grant_for("NV-FYS")))
    shown = (app.header.value, app.results.value, app.comparison.value)
    kje = university.hierarchy().name("NV-KJE")
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


@pytest.mark.parametrize("reason", ["missing", "malformed", "tampered", "expired",
                                    "unknown_unit", "unavailable"])
def test_refusal_has_no_numbers(reason):
    html = refusal_html(reason)
    text = re.sub(r"<style>.*?</style>", "", html, flags=re.S)
    assert not re.search(r"\d", re.sub(r"<[^>]+>", "", text))
    assert "Ingen tilgang" in html and "No access" in html


def test_guide_lists_the_workshop_steps():
    for lang, words in (("nb", ["Analysekrysset", "Framtidsbildet", "Prioriteringsmatrisen",
                                "Handlingsplanen"]),
                        ("en", ["analysis cross", "future picture", "priority matrix",
                                "action plan"])):
        html = guide_html(lang)
        assert all(w in html for w in words)


def test_leader_page_end_to_end(tmp_path, monkeypatch, municipality):
    from workbench.access import ensure_secret

    dataset = SAMPLES / "municipality"
    monkeypatch.setenv("WORKBENCH_SECRET_FILE", str(tmp_path / "secret"))
    secret = ensure_secret(tmp_path / "secret")
    for key in ("VOILA_PREHEAT", "VOILA_BASE_URL", "VOILA_KERNEL_ID", "WORKBENCH_LINK"):
        monkeypatch.delenv(key, raising=False)

    def text_of(box):
        return " ".join(text_of(w) if hasattr(w, "children") else
                        (w.value if isinstance(getattr(w, "value", None), str) else "")
                        for w in box.children)

    refused = leader_page(dataset)  # no token anywhere
    assert "Ingen tilgang" in text_of(refused) and not MEAN.search(text_of(refused))
    expired = sign(secret, "OPP-NOS", "2023", time.time() - 10)
    assert "utløpt" in text_of(leader_page(dataset, token=expired))
    good = sign(secret, "OPP-NOS", "2023", time.time() + 600)
    monkeypatch.setenv("WORKBENCH_LINK", f"http://x:1/?t={good}")
    assert request_token() == good
    page = leader_page(dataset)
    html = text_of(page)
    mean = stats_table(municipality, wave="2023", unit="OPP-NOS")["mean"].iloc[0]
    assert number(mean, "nb") in html
    # under Voila only the request's query string counts, never $WORKBENCH_LINK
    monkeypatch.setenv("VOILA_BASE_URL", "/")
    monkeypatch.setenv("QUERY_STRING", "")
    assert request_token() is None
    monkeypatch.setenv("QUERY_STRING", f"t={good}")
    assert request_token() == good
