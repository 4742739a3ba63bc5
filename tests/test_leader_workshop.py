"""The leader page's workshop section (workbench.apps.workshop_section), without a browser.

The handlers are driven as the widgets' callbacks would be; what they wrote is read back
from the store. A forged value in any widget never writes for another unit: the unit and
wave come from the verified grant, and the store checks every write again.
"""

from __future__ import annotations

import time
from dataclasses import replace
from html import unescape

import pytest
from conftest import SAMPLES
from traitlets import TraitError

from workbench.access import Grant
from workbench.apps.workshop_section import WorkshopSection, matrix_html, store_for
from workbench.workshop import Access, Action, Votes, Workshop, open_store

UNIT, OTHER = "NV-FYS", "NV-KJE"


@pytest.fixture(scope="module")
def uni(university_release):
    return university_release


@pytest.fixture
def store(tmp_path):
    with open_store(tmp_path) as opened:
        yield opened


def grant(unit=UNIT, wave="2021", seconds=3600):
    return Grant(unit, wave, int(time.time() + seconds))


def section(uni, store, lang="nb", **kw) -> WorkshopSection:
    return WorkshopSection(uni, grant(**kw), "token-abc", store, lang)


def factors(uni, n=3):
    return [f.id for f in uni.instrument.factors[:n]]


def test_records_every_part_and_reads_it_back(uni, store):
    s = section(uni, store)
    first, second, third = factors(uni)
    # the analysis cross
    s.cross_factor.value = second
    s.pleased.value, s.improve.value = 7, 2
    s.pleased_reasons.value = "Vi får bestemme selv"
    assert s.save_votes()
    assert "Lagret" in s.cross_msg.value
    # the chosen factors, in order
    s.chosen[0].value, s.chosen[1].value = third, first
    assert s.save_choice() and "Lagret" in s.choice_msg.value
    # the future picture
    s.picture["employees"].value = "Vi deler kunnskap"
    s.picture["leader"].value = "Lederen gir tydelige mål"
    assert s.save_picture()
    # a measure, placed in the matrix
    s.action_factor.value = second
    s.action_measure.value = "Ukentlig planleggingsmøte"
    s.action_area.value = "Samarbeid"
    s.action_goal.value = "Alle vet hva som skjer"
    s.action_responsible.value = "Kari"
    s.action_deadline.value = "2026-03-01"
    s.action_impact.value, s.action_feasibility.value = "large", "easy"
    assert s.save_action(), s.action_msg.value
    # the parking lot
    s.parking_issue.value = "For trange kontorer"
    s.parking_by.value, s.parking_to.value = "Kari", "Eiendomsavdelingen"
    assert s.save_parking()

    state = store.state(UNIT, "2021")
    (votes,) = state.votes
    assert (votes.factor, votes.pleased, votes.improve) == (second, 7, 2)
    assert votes.pleased_reasons == "Vi får bestemme selv"
    assert state.choice.factors == (third, first)
    assert state.picture.employees == "Vi deler kunnskap" and state.picture.organisation == ""
    (action,) = state.actions
    assert (action.measure, action.area, action.deadline, action.quadrant) == (
        "Ukentlig planleggingsmøte", "Samarbeid", "2026-03-01", "quick_win")
    assert action.updated_by.startswith("link ") and "token-abc" not in action.updated_by
    (parked,) = state.parking
    assert (parked.issue, parked.passed_to) == ("For trange kontorer", "Eiendomsavdelingen")
    # what the page shows now: the tables and the matrix
    assert "Ukentlig planleggingsmøte" in s.plan_table.value
    assert "data-quadrant='quick_win'><b>Raske gevinster</b><ul><li>1. Ukentlig" in s.matrix.value
    assert "For trange kontorer" in s.parking_table.value
    assert "Vi får bestemme selv" in s.cross_table.value

    # another page on the same unit (a reload) shows the records in its widgets
    again = section(uni, store)
    again.cross_factor.value = second
    assert (again.pleased.value, again.improve.value) == (7, 2)
    assert [w.value for w in again.chosen] == [third, first, ""]
    assert again.picture["leader"].value == "Lederen gir tydelige mål"
    assert "Ukentlig planleggingsmøte" in again.plan_table.value
    again.action_pick.value = action.id
    assert again.action_measure.value == "Ukentlig planleggingsmøte"
    assert again.action_impact.value == "large"
    # edit it: the version read is the stored one
    again.action_status.value = "started"
    assert again.save_action()
    assert store.state(UNIT, "2021").actions[0].status == "started"
    # and delete the issue
    again.parking_pick.value = parked.id
    assert again.delete_parking() and "Slettet" in again.parking_msg.value
    assert store.state(UNIT, "2021").parking == ()


def test_forged_widget_values_never_write_for_another_unit(uni, store):
    # another unit's records, made by the analyst
    analyst = Workshop(store, Access.analyst("kari"), uni)
    theirs = analyst.save_action(Action(wave="2021", unit_id=OTHER, measure="Kjemi sitt"))
    before = store.state(OTHER, "2021")
    s = section(uni, store)
    # what a forged comm message can carry: values outside the options, other units' ids
    for dropdown in (s.cross_factor, s.action_pick, s.parking_pick, s.action_factor,
                     s.chosen[0], s.followup_pick):
        with pytest.raises(TraitError):
            dropdown.set_state({"index": 999})
        dropdown.set_state({"value": OTHER, "label": OTHER})  # not synced: ignored
    for text in (s.action_measure, s.action_area, s.parking_issue, s.pleased_reasons,
                 *s.picture.values()):
        text.set_state({"value": OTHER})
    s.pleased.set_state({"value": -5})  # clamped to 0 by the widget
    # even a handler called with another unit's id picks nothing of theirs
    s._pick_action(theirs.id)
    assert s._action == ("", 0)
    s.chosen[0].value = factors(uni)[0]
    for save in (s.save_votes, s.save_choice, s.save_picture, s.save_action, s.save_parking):
        save()
    assert store.state(OTHER, "2021") == before
    mine = store.state(UNIT, "2021")
    assert mine.actions[0].measure == OTHER  # the text typed, for the granted unit
    assert {r.unit_id for r in (*mine.votes, mine.choice, mine.picture, *mine.actions,
                                *mine.parking)} == {UNIT}
    assert set(store.changes()["unit_id"]) == {UNIT, OTHER}
    assert (store.changes()["unit_id"] == OTHER).sum() == 1  # the analyst's one
    # and were the kernel's own pointer bent to their measure, the store refuses it
    s._action = (theirs.id, theirs.version)
    s.action_measure.value = "Kapret"
    assert not s.save_action()
    assert "Ikke lagret" in s.action_msg.value and OTHER in s.action_msg.value
    assert store.state(OTHER, "2021") == before


def test_a_later_save_is_told_of_the_earlier_and_shown_it(uni, store):
    first = factors(uni)[0]
    a, b = section(uni, store), section(uni, store)
    other = WorkshopSection(uni, grant(), "another-token", store, "nb")  # another link
    a.cross_factor.value = b.cross_factor.value = first
    a.pleased.value, a.pleased_reasons.value = 9, "Fra nettleser A"
    assert a.save_votes()
    b.pleased.value, b.pleased_reasons.value = 4, "Fra nettleser B"
    assert not b.save_votes()
    said = b.cross_msg.value
    assert "Noen andre lagret dette i mellomtiden" in said and "wb-conflict" in said
    assert "via denne lenken" in said  # the same link, opened twice
    other.cross_factor.value = first
    assert not other.save_votes()
    assert "(via en lenke " in other.cross_msg.value  # another link: its fingerprint
    # B now shows what A saved, and may save on top of it
    assert (b.pleased.value, b.pleased_reasons.value) == (9, "Fra nettleser A")
    assert store.state(UNIT, "2021").votes[0].pleased == 9
    b.improve.value = 3
    assert b.save_votes()
    stored = store.state(UNIT, "2021").votes[0]
    assert (stored.pleased, stored.improve, stored.version) == (9, 3, 2)

    # the same for a measure both opened
    a.action_measure.value = "Felles lunsj"
    assert a.save_action()
    assert a.action_pick.value == "" and a.action_measure.value == ""  # ready for the next
    b._refresh()
    ident = store.state(UNIT, "2021").actions[0].id
    a.action_pick.value = b.action_pick.value = ident
    a.action_status.value = "done"
    assert a.save_action()
    b.action_goal.value = "Bedre samhold"
    assert not b.save_action()
    assert "Noen andre lagret" in b.action_msg.value
    assert b.action_status.value == "done" and b.action_goal.value == ""
    # a measure deleted by A: B is told its change was not saved
    assert a.delete_action()
    b.action_goal.value = "Bedre samhold"
    assert not b.save_action()
    assert "slettet" in b.action_msg.value
    assert store.state(UNIT, "2021").actions == ()
    # the future picture, in English
    c, d = section(uni, store, lang="en"), section(uni, store, lang="en")
    c.picture["leader"].value = "C"
    d.picture["leader"].value = "D"
    assert c.save_picture() and not d.save_picture()
    assert "Someone else saved this" in d.picture_msg.value
    assert d.picture["leader"].value == "C"


def test_field_problems_and_refusals_are_shown(uni, store):
    s = section(uni, store)
    s.action_measure.value = ""
    s.action_deadline.value = "31.02.2026"
    assert not s.save_action()
    msg = s.action_msg.value
    assert "Ikke lagret. Rett opp dette:" in msg
    assert "Tiltak: verdien er tom" in msg and "Frist: verdien &#x27;31.02.2026&#x27;" in msg
    assert not s.save_choice()  # no factor chosen
    assert "Valgte faktorer: velg 1 til 3 faktorer, ikke 0" in s.choice_msg.value
    s.chosen[0].value = s.chosen[1].value = factors(uni)[0]
    assert not s.save_choice() and "er valgt to ganger" in s.choice_msg.value
    s.relabel("en")
    assert s.action_msg.value == ""  # messages are not left in the other language
    assert not s.save_action()
    assert "Measure: the value is empty" in s.action_msg.value
    assert store.state(UNIT, "2021").actions == ()
    # an expired link: refused, nothing written
    old = section(uni, store, seconds=-1)
    old.action_measure.value = "For sent"
    assert not old.save_action()
    assert "Ikke lagret: lenken er utløpt" in old.action_msg.value
    assert store.state(UNIT, "2021").actions == ()


def test_language_and_the_unit_shown(uni, store):
    s = section(uni, store)
    assert s.cross_factor.description == "Faktor" and s.cross_save.description == "Lagre"
    assert "Arbeidsmøtet" in s.intro.value and s.other.value == ""
    s.show_unit("NV-FYS-1")
    name = uni.hierarchy("2021").name("NV-FYS-1")
    assert name in s.other.value and "Institutt for fysikk, enheten lenken" in s.other.value
    s.relabel("en")
    assert s.cross_factor.description == "Factor" and s.cross_save.description == "Save"
    assert s.action_status.options[0] == ("planned", "planned")
    assert "The workshop" in s.intro.value and "kept for" in s.other.value
    s.relabel("xx")  # from a browser: ignored
    assert s.lang == "en"
    s.show_unit(UNIT)
    assert s.other.value == ""


def test_without_a_store_the_page_says_so(uni, tmp_path, monkeypatch):
    s = WorkshopSection(uni, grant(), "t", None, "nb")
    assert "kan ikke registreres her" in s.intro.value
    assert s.ws is None and len(s.widget.children) == 2
    s.relabel("en")
    assert "cannot be recorded here" in s.intro.value
    # where a kernel finds its store
    from workbench.release import write_release

    monkeypatch.delenv("WORKBENCH_DB", raising=False)
    alone = write_release(uni, tmp_path / "release")
    assert store_for(alone) is None  # a release folder alone
    assert store_for(None) is None
    monkeypatch.setenv("WORKBENCH_DB", f"sqlite:///{tmp_path / 'x.sqlite'}")
    found = store_for(alone)
    assert found is not None and (tmp_path / "x.sqlite").exists()
    found.close()


def test_follow_up_of_the_previous_wave(uni, store):
    measured = uni.instrument.factors[0]
    analyst = Workshop(store, Access.analyst("kari"), uni)
    analyst.save_action(Action(wave="2019", unit_id=UNIT, factor=measured.id,
                               measure="Mer selvstyring", status="started"))
    analyst.save_action(Action(wave="2019", unit_id=OTHER, factor=measured.id,
                               measure="Ikke vårt"))
    s = section(uni, store)
    assert s.followup_box.layout.display == ""
    head = unescape(s.followup_head.value)
    assert "Oppfølging: tiltakene fra runde 2019" in head and "Mer selvstyring" in head
    assert "Ikke vårt" not in head
    from workbench.followup import followup

    row = followup(uni, store, UNIT, "2021").iloc[0]
    from workbench.i18n import number

    shown = f"{measured.name('nb')} {number(row['mean_previous'], 'nb')} -> " \
            f"{number(row['mean'], 'nb')}"
    words = {"similar": "omtrent likt", "higher": "høyere", "lower": "lavere",
             "unclear": "kan ikke avgjøres", "small": "liten endring"}
    assert f"{shown}: {words[row['finding']]}" in head  # Rolleklarhet 3,94 -> 4,10: høyere
    # the leader marks it done: written to the 2019 record, through the link's access
    s.followup_status.value = "done"
    assert s.save_followup(), s.followup_msg.value
    (done,) = store.actions(wave="2019", unit=UNIT)
    assert done.status == "done" and done.updated_by.startswith("link ")
    assert "ferdig" in s.followup_head.value
    assert store.actions(wave="2019", unit=OTHER)[0].status == "planned"
    # the link may write its predecessor in 2019, not another unit of 2019
    assert s.ws.access.allows(UNIT, "2019") and not s.ws.access.allows(OTHER, "2019")
    # the first wave has no follow-up
    first = section(uni, store, wave="2014")
    assert first.followup_box.layout.display == "none"


def test_matrix_places_each_measure():
    actions = [Action(wave="1", unit_id="u", measure=m, impact=i, feasibility=f)
               for m, i, f in (("A", "large", "easy"), ("B", "large", "hard"),
                               ("C", "small", "easy"), ("D", "small", "hard"),
                               ("E", None, None))]
    html = matrix_html(actions, "en")
    assert html.index("Quick wins") < html.index("1. A") < html.index("Consider")
    assert html.count("data-quadrant='consider'") == 2
    assert html.index("4. D") > html.index("data-quadrant='drop'")
    assert "Not placed yet: 5. E" in html
    assert "<script" not in matrix_html([replace(actions[0], measure="<script>")], "nb")


def test_leader_app_draws_the_section_for_the_grant(uni, tmp_path, monkeypatch):
    from workbench.apps.leader import LeaderApp, LeaderState

    monkeypatch.setenv("WORKBENCH_DB", f"sqlite:///{tmp_path / 'ws.sqlite'}")
    state = LeaderState.start(uni, grant())
    plain = LeaderApp(uni, state)  # no token (JupyterLab without a link): no section
    assert plain.workshop.children == ()
    app = LeaderApp(uni, state, token="tok", source=uni.path)
    (box,) = app.workshop.children
    section_ = app._section
    assert box is section_.widget and section_.unit == UNIT
    app.unit.value = "NV-FYS-1"  # a subunit: the section stays the grant's, and says so
    assert section_.unit == UNIT and "Institutt for fysikk" in section_.other.value
    app.lang.value = "en"
    assert section_.lang == "en" and section_.cross_save.description == "Save"


def test_serve_passes_the_store_to_the_kernels(tmp_path, monkeypatch, uni):
    from workbench.apps.serving import workshop_store

    monkeypatch.delenv("WORKBENCH_DB", raising=False)
    assert workshop_store(uni.path) is None  # a release folder alone
    dataset = tmp_path / "data"
    dataset.mkdir()
    (dataset / "survey.yaml").write_text((SAMPLES / "university" / "survey.yaml").read_text())
    url = workshop_store(dataset)
    assert url == f"sqlite:///{(dataset / '.workbench' / 'workshop.sqlite').resolve()}"
    assert (dataset / ".workbench" / "workshop.sqlite").exists()  # made before any kernel
    monkeypatch.setenv("WORKBENCH_DB", f"sqlite:///{tmp_path / 'mine.sqlite'}")
    assert workshop_store(uni.path) == f"sqlite:///{tmp_path / 'mine.sqlite'}"


def test_votes_of_an_unknown_factor_are_not_sent(uni, store):
    s = section(uni, store)
    # a factor outside the instrument cannot be chosen; the store would refuse it too
    with pytest.raises(Exception):
        s.ws.save_votes(Votes(wave="2021", unit_id=UNIT, factor="NOPE"))
    assert store.state(UNIT, "2021").votes == ()


def test_the_store_is_opened_when_the_page_is_drawn_not_before(uni, tmp_path, monkeypatch):
    """The first view goes out without the store; the section comes after the figure."""
    from workbench.apps import leader
    from workbench.apps.leader import LeaderApp, LeaderState

    database = tmp_path / "lazy.sqlite"
    monkeypatch.setenv("WORKBENCH_DB", f"sqlite:///{database}")
    later = []
    monkeypatch.setattr(leader, "_later", lambda seconds, task: later.append(task) or True)
    app = LeaderApp(uni, LeaderState.start(uni, grant()), defer=True, token="tok",
                    source=uni.path)
    assert app._section is None and app.workshop.children == ()
    assert not database.exists()  # not opened while the first view is sent
    later.pop(0)()  # the browser shows the widgets: the figure is drawn
    assert "img class='wb-figure'" in app.details.value and app._section is None
    later.pop(0)()  # then the section
    assert app._section is not None and database.exists()
    assert app.workshop.children == (app._section.widget,)


def test_a_page_without_a_store_still_works(uni, monkeypatch, tmp_path):
    from workbench.apps.leader import LeaderApp, LeaderState
    from workbench.release import write_release

    monkeypatch.delenv("WORKBENCH_DB", raising=False)
    alone = write_release(uni, tmp_path / "release")  # a release folder without its dataset
    app = LeaderApp(uni, LeaderState.start(uni, grant()), token="tok", source=alone)
    assert "kan ikke registreres her" in app._section.intro.value
    assert "Resultater for Institutt for fysikk" in app.header.value
    app.lang.value = "en"
    assert "cannot be recorded here" in app._section.intro.value
    assert "Results for" in app.header.value


def test_the_leader_handout_carries_the_recorded_plan(uni, store):
    """The handout a leader downloads shows the unit's recorded plan, and its workbook's
    action-plan sheet holds it (to be filled in offline and imported); a subunit's handout
    carries no record of the granted unit."""
    import io

    import openpyxl

    from workbench.apps.leader import LeaderApp, LeaderState

    s = section(uni, store)
    s.ws.save_action(Action(wave="2021", unit_id=UNIT, factor=factors(uni, 1)[0],
                            measure="Fast fagmøte hver fredag", responsible="Instituttleder"))
    app = LeaderApp(uni, LeaderState.start(uni, grant()))
    app._section = s
    recorded = app._recorded(UNIT)
    assert [a.measure for a in recorded.actions] == ["Fast fagmøte hver fredag"]
    child = next(u for u in LeaderState.start(uni, grant()).allowed if u != UNIT)
    assert app._recorded(child) is None
    from workbench.apps.leader import handout_files

    made = dict((name.rsplit(".", 1)[-1], data) for name, _, data in
                handout_files(uni, UNIT, "2021", "nb", workshop=recorded))
    assert "Fast fagmøte hver fredag" in made["html"].decode("utf-8")
    book = openpyxl.load_workbook(io.BytesIO(made["xlsx"]), read_only=True)
    cells = {str(c) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True)
             for c in row if c is not None}
    assert "Fast fagmøte hver fredag" in cells and "Handlingsplan" in book.sheetnames
