"""The workshop store, its files, the follow-up view and the overview.

The store's tests run against SQLite and a real PostgreSQL server (``backend`` fixture):
``.ci/postgres.sh`` starts one (``make test`` runs it); set ``WORKBENCH_TEST_PG`` to use
another. Outside CI a missing server skips the PostgreSQL half with the reason; in CI it
fails.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pytest

from workbench.access import Grant
from workbench.workshop import (
    ACTION_COLUMNS,
    Access,
    Action,
    Choice,
    Conflict,
    Forbidden,
    InvalidRecord,
    Parking,
    Picture,
    Votes,
    Workshop,
    open_store,
)

ROOT = Path(__file__).resolve().parents[1]
PG_DEFAULT = "postgresql://workbench:workbench@127.0.0.1:54329/workbench_test"
IN_CI = bool(os.environ.get("CI"))


# --------------------------------------------------------------------------------------------
# Fixtures


def _pg_reachable(url: str) -> str | None:
    """None when a PostgreSQL server answers at ``url``, else why not."""
    import sqlalchemy as sa

    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1),
                              connect_args={"connect_timeout": 5})
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        return None
    except Exception as exc:  # any driver error means: not reachable
        return " ".join(str(exc).split())[:200]
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def pg_server() -> str:
    """The URL of the tests' PostgreSQL server, started by .ci/postgres.sh when it is not up."""
    url = os.environ.get("WORKBENCH_TEST_PG", PG_DEFAULT)
    why = _pg_reachable(url)
    if why is not None and "WORKBENCH_TEST_PG" not in os.environ:
        run = subprocess.run(["bash", str(ROOT / ".ci" / "postgres.sh")], capture_output=True,
                             text=True, timeout=600)
        why = _pg_reachable(url) if run.returncode == 0 else \
            f".ci/postgres.sh failed: {run.stderr.strip()[-300:]}"
    if why is not None:
        message = f"no PostgreSQL server for the store's tests at {url}: {why}"
        if IN_CI:
            pytest.fail(message + " (CI must test PostgreSQL: .ci/postgres.sh starts it)")
        pytest.skip(message + "; run 'bash .ci/postgres.sh' (make test does)")
    return url


@dataclass(frozen=True)
class Backend:
    """Where a test's store lives: ``url`` for open_store, ``env`` for a subprocess."""

    name: str
    url: str
    env: dict


@pytest.fixture(scope="session")
def muni_source(tmp_path_factory, municipality_release) -> Path:
    """The municipality sample with its release written beside it (so commands reuse it)."""
    from workbench.release import CACHE, write_release

    folder = tmp_path_factory.mktemp("muni") / "municipality"
    folder.mkdir()
    for path in (ROOT / "data_samples" / "municipality").iterdir():
        if path.is_file():
            shutil.copy(path, folder / path.name)
    write_release(municipality_release, folder / CACHE)
    return folder


@pytest.fixture
def dataset(tmp_path, muni_source) -> Path:
    """A fresh copy of the municipality dataset (and its release) for one test."""
    target = tmp_path / "municipality"
    shutil.copytree(muni_source, target)
    return target


@pytest.fixture
def release(muni_source):
    from workbench.release import open_release

    return open_release(muni_source)


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request, dataset, monkeypatch) -> Backend:
    """The store of one test on SQLite (in the dataset) or on PostgreSQL (a schema of its
    own in the tests' database, dropped afterwards)."""
    from workbench.workshop import DB_ENV, store_url

    monkeypatch.delenv(DB_ENV, raising=False)
    env = {k: v for k, v in os.environ.items() if k != DB_ENV}
    if request.param == "sqlite":
        yield Backend("sqlite", store_url(dataset), env)
        return
    import sqlalchemy as sa

    server = request.getfixturevalue("pg_server")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server.replace("postgresql://", "postgresql+psycopg://", 1))
    with admin.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    url = f"{server}?options=-csearch_path%3D{schema}"
    try:
        yield Backend("postgresql", url, {**env, DB_ENV: url})
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture
def store(backend):
    opened = open_store(url=backend.url)
    yield opened
    opened.close()


def leader(unit: str, wave: str, token: str = "token-a", seconds: float = 3600) -> Access:
    return Access.leader(Grant(unit, wave, int(time.time() + seconds)), token)


def run_cli(*argv: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """The command in a process of its own (as a user runs it)."""
    return subprocess.run([sys.executable, "-m", "workbench.cli", *argv], capture_output=True,
                          text=True, env=env, cwd=ROOT, timeout=600)


@pytest.fixture
def cli(capsys, monkeypatch):
    """The command in this process (faster): ``cli(*argv, env=None) -> (code, out, err)``.

    An exception that escaped the command would fail the test, so exit codes and one-line
    messages are checked as in a process of its own.
    """
    from workbench.cli import main
    from workbench.workshop import DB_ENV

    def run(*argv: str, env: dict | None = None) -> tuple[int, str, str]:
        with monkeypatch.context() as m:
            if env is not None and DB_ENV in env:
                m.setenv(DB_ENV, env[DB_ENV])
            else:
                m.delenv(DB_ENV, raising=False)
            capsys.readouterr()
            code = main(list(argv))
            out, err = capsys.readouterr()
        return code, out, err

    return run


# --------------------------------------------------------------------------------------------
# Round trips


def test_records_round_trip(backend, release):
    store = open_store(url=backend.url)
    ws = Workshop(store, leader("OPP-NOS", "2023"), release)
    ws.save_votes(Votes("2023", "OPP-NOS", "F6", pleased=2, improve=7,
                        improve_reasons="Uklare roller\netter omorganiseringen"))
    # a factor may be named by its name, in either language, and is kept as its id
    ws.save_votes(Votes("2023", "OPP-NOS", "mestringstro", pleased=6, improve=1))
    choice = ws.save_choice(Choice("2023", "OPP-NOS", ("Role clarity", "F1")))
    picture = ws.save_picture(Picture("2023", "OPP-NOS", employees="Vi hjelper hverandre",
                                      leader="Gir tydelige rammer", organisation="Støtter"))
    first = ws.save_action(Action("2023", "OPP-NOS", "Rollebeskrivelser for alle", factor="F6",
                                  area="Roller", goal="Alle vet hva de har ansvar for",
                                  responsible="Rektor", deadline="2024-03-01",
                                  impact="large", feasibility="easy"))
    second = ws.save_action(Action("2023", "OPP-NOS", "Møtefri fredag", status="started",
                                   extra={"kostnad": "0"}))
    item = ws.save_parking(Parking("2023", "OPP-NOS", "Vikarbudsjettet", passed_by="Rektor",
                                   passed_to="Kommunalsjef"))
    store.close()

    again = open_store(url=backend.url)  # a new connection sees what was committed
    state = again.state("OPP-NOS", "2023")
    assert [(v.factor, v.pleased, v.improve) for v in state.votes] == \
        [("F2", 6, 1), ("F6", 2, 7)]
    assert state.votes[1].improve_reasons == "Uklare roller\netter omorganiseringen"
    assert state.choice == choice and state.choice.factors == ("F6", "F1")
    assert state.picture == picture
    assert state.actions == (first, second)
    assert first.quadrant == "quick_win" and second.quadrant is None
    assert second.extra == {"kostnad": "0"} and second.deadline is None
    assert state.parking == (item,)
    assert state.held
    log = again.changes(unit="OPP-NOS", wave="2023")
    assert len(log) == 7 and set(log["operation"]) == {"insert"}
    assert set(log["via"]) == {"link"}
    assert all(a.startswith("link ") and "OPP-NOS 2023" in a for a in log["actor"])
    assert "token-a" not in "".join(log["actor"])  # the link's key never reaches the log
    assert json.loads(log.loc[log["record"] == "actions", "after"].iloc[0])["measure"] == \
        "Rollebeskrivelser for alle"
    assert again.state("OPP-SOS", "2023").held is False
    # a whole wave at once (a batch of handouts): the same states, units with nothing left out
    ws = Workshop(again, leader("OPP-SOS", "2023"), release)
    ws.save_action(Action("2023", "OPP-SOS", "Felles lunsj"))
    states = again.states("2023")
    assert set(states) == {"OPP-NOS", "OPP-SOS"}
    assert states == {u: again.state(u, "2023") for u in ("OPP-NOS", "OPP-SOS")}
    assert again.states("2023", units=["OPP-SOS"]) == {"OPP-SOS": again.state("OPP-SOS",
                                                                             "2023")}
    assert again.states("2021") == {}
    again.close()


def test_invalid_records_are_refused(store, release):
    ws = Workshop(store, Access.analyst("test"), release)
    cases = [
        (lambda: ws.save_votes(Votes("2023", "OPP-NOS", "F99", pleased=1)), "factor"),
        (lambda: ws.save_votes(Votes("2023", "OPP-NOS", "F1", pleased=-1)), "pleased"),
        (lambda: ws.save_choice(Choice("2023", "OPP-NOS", ("F1", "F2", "F3", "F4"))),
         "factors"),
        (lambda: ws.save_choice(Choice("2023", "OPP-NOS", ("F1", "F1"))), "factors"),
        (lambda: ws.save_choice(Choice("2023", "OPP-NOS", ())), "factors"),
        (lambda: ws.save_action(Action("2023", "OPP-NOS", "")), "measure"),
        (lambda: ws.save_action(Action("2023", "OPP-NOS", "x", deadline="2024-02-30")),
         "deadline"),
        (lambda: ws.save_action(Action("2023", "OPP-NOS", "x", status="finished")), "status"),
        (lambda: ws.save_action(Action("2023", "OPP-NOS", "x" * 501)), "measure"),
        (lambda: ws.save_action(Action("2019", "OPP-NOS", "x")), "wave"),
        (lambda: ws.save_action(Action("2023", "OPP-NOZ", "x")), "unit_id"),
        (lambda: ws.save_parking(Parking("2023", "OPP-NOS", " ")), "issue"),
    ]
    for call, column in cases:
        with pytest.raises(InvalidRecord) as caught:
            call()
        assert caught.value.problems[0].column == column
    with pytest.raises(InvalidRecord, match="did you mean OPP-NOS"):
        ws.save_action(Action("2023", "OPP-NOZ", "x"))
    assert store.changes().empty and store.actions() == []


# --------------------------------------------------------------------------------------------
# Concurrency


def test_later_saver_is_told_and_shown_the_earlier_save(store, release):
    # two browsers on the same unit: each opened the page, so each holds version 0/1 records
    a = Workshop(store, leader("OPP-NOS", "2023", "browser-a"), release)
    b = Workshop(store, leader("OPP-NOS", "2023", "browser-b"), release)
    seen_a = a.state("OPP-NOS", "2023")
    seen_b = b.state("OPP-NOS", "2023")
    assert seen_a.votes == seen_b.votes == ()
    saved = a.save_votes(Votes("2023", "OPP-NOS", "F6", pleased=3, improve=5))
    with pytest.raises(Conflict) as told:
        b.save_votes(Votes("2023", "OPP-NOS", "F6", pleased=4, improve=4))
    assert told.value.current == saved  # the earlier save, shown to the later saver
    assert told.value.current.updated_by == a.access.actor.label
    assert "Noen andre lagret dette i mellomtiden" in told.value.text("nb")
    assert "Someone else saved this" in told.value.text("en")
    # the later saver makes the change again on top of what it was shown
    on_top = b.save_votes(replace(told.value.current, improve=6))
    assert on_top.version == 2 and on_top.improve == 6
    # a save from an old version is refused even when it holds what is stored (two
    # people adding one vote each must not count as one); the current version saves
    with pytest.raises(Conflict):
        b.save_votes(replace(on_top, version=1))
    assert b.save_votes(on_top) == on_top  # nothing changed: no new version

    # the action plan: two edits of the same measure from version 1
    action = a.save_action(Action("2023", "OPP-NOS", "Rollebeskrivelser", factor="F6"))
    done = a.save_action(replace(action, status="done"))
    with pytest.raises(Conflict) as told:
        b.save_action(replace(action, goal="Klarere roller"))
    assert told.value.current == done and told.value.current.status == "done"
    # the same new measure added in both browsers: the later is shown the earlier
    first = a.save_action(Action("2023", "OPP-NOS", "Møtefri fredag"))
    with pytest.raises(Conflict) as told:
        b.save_action(Action("2023", "OPP-NOS", "møtefri  Fredag"))
    assert told.value.reason == "measure" and told.value.current == first
    # a delete from an old version is refused; a deleted record is reported as deleted
    with pytest.raises(Conflict):
        b.delete_action(action)
    a.delete_action(done)
    with pytest.raises(Conflict) as told:
        b.save_action(replace(done, goal="x"))
    assert told.value.current is None and "slettet" in told.value.text("nb")
    # the picture and the parking lot follow the same rule
    picture = a.save_picture(Picture("2023", "OPP-NOS", employees="A"))
    with pytest.raises(Conflict):
        b.save_picture(Picture("2023", "OPP-NOS", employees="B"))
    item = a.save_parking(Parking("2023", "OPP-NOS", "Vikarer"))
    a.save_parking(replace(item, answer="Tatt opp i ledermøtet"))
    with pytest.raises(Conflict):
        b.save_parking(replace(item, passed_to="HR"))
    # nothing lost: every save that was not refused is in the log, in order
    log = store.changes(unit="OPP-NOS", wave="2023")
    assert list(log["operation"]) == ["insert", "update", "insert", "update", "insert",
                                      "delete", "insert", "insert", "update"]
    assert store.state("OPP-NOS", "2023").picture == picture


_INCREMENT = """
import sys, time
from dataclasses import replace
from workbench.workshop import Access, Conflict, Votes, Workshop, open_store
store = open_store(url=sys.argv[1])
ws = Workshop(store, Access.analyst(sys.argv[2]))
for _ in range(int(sys.argv[3])):
    while True:
        state = ws.state("OPP-NOS", "2023")
        current = state.votes[0] if state.votes else Votes("2023", "OPP-NOS", "F6")
        try:
            ws.save_votes(replace(current, pleased=current.pleased + 1))
            break
        except Conflict:
            time.sleep(0.01)
store.close()
"""


def test_writers_in_several_processes_lose_no_update(backend):
    # read-modify-write from 4 processes at once: optimistic concurrency makes each
    # increment count once, or be refused and done again
    open_store(url=backend.url).close()
    procs = [subprocess.Popen([sys.executable, "-c", _INCREMENT, backend.url, f"p{i}", "5"],
                              env=backend.env, cwd=ROOT, stderr=subprocess.PIPE, text=True)
             for i in range(4)]
    for proc in procs:
        assert proc.wait(timeout=300) == 0, proc.stderr.read()
    with open_store(url=backend.url) as store:
        votes = store.state("OPP-NOS", "2023").votes[0]
        assert (votes.pleased, votes.version) == (20, 20)
        assert len(store.changes()) == 20


def _actions_csv(rows: list[dict]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(ACTION_COLUMNS), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def _plan(unit: str, n: int, wave: str = "2023") -> list[dict]:
    return [{"wave": wave, "unit_id": unit, "factor": f"F{1 + i % 10}", "area": "Område",
             "measure": f"Tiltak {i} for {unit}", "goal": "Mål", "responsible": "Leder",
             "deadline": "2024-06-30", "status": "planned"} for i in range(n)]


def test_concurrent_imports_lose_nothing(backend, dataset, tmp_path):
    # four imports start at once on a store that does not exist yet (so they also race to
    # create it); two files share rows, which must end up once
    units = ["OPP-NOS", "OPP-SOS", "HO-FJE", "TEK-VEI"]
    shared = _plan("ADM-OKO", 3)
    files = []
    for unit in units:
        path = tmp_path / f"{unit}.csv"
        path.write_text(_actions_csv(_plan(unit, 60) + shared), encoding="utf-8")
        files.append(path)
    procs = [subprocess.Popen([sys.executable, "-m", "workbench.cli", "workshop", str(dataset),
                               "import", str(path)], env=backend.env, cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for path in files]
    outputs = [proc.communicate(timeout=600) for proc in procs]
    for proc, (out, err) in zip(procs, outputs):
        assert proc.returncode == 0, out + err
        assert "63 rows read, 63 imported" in out and "0 rejected" in out
        assert "Traceback" not in err
    new = sum(int(out.split("(")[1].split(" new")[0]) for out, _ in outputs)
    assert new == 4 * 60 + 3  # the shared rows were new to exactly one import
    with open_store(url=backend.url) as store:
        stored = store.actions(wave="2023")
        assert len(stored) == 4 * 60 + 3
        expected = {(r["unit_id"], r["measure"]) for u in units for r in _plan(u, 60)} | \
            {(r["unit_id"], r["measure"]) for r in shared}
        assert {(a.unit_id, a.measure) for a in stored} == expected
        assert all(a.version == 1 for a in stored)
        assert len(store.changes()) == 4 * 60 + 3


# --------------------------------------------------------------------------------------------
# Access


def test_a_grant_for_one_unit_cannot_write_another(store, release, tmp_path):
    analyst = Workshop(store, Access.analyst("analytiker"), release)
    theirs = analyst.save_action(Action("2023", "OPP-SOS", "Deres tiltak", factor="F1"))
    their_item = analyst.save_parking(Parking("2023", "OPP-SOS", "Deres sak"))
    before = store.changes()
    mine = Workshop(store, leader("OPP-NOS", "2023"), release)
    attempts = [
        lambda: mine.save_votes(Votes("2023", "OPP-SOS", "F1", pleased=1)),
        lambda: mine.save_choice(Choice("2023", "OPP-SOS", ("F1",))),
        lambda: mine.save_picture(Picture("2023", "OPP-SOS", employees="x")),
        lambda: mine.save_action(Action("2023", "OPP-SOS", "Nytt tiltak")),
        lambda: mine.save_action(replace(theirs, status="dropped")),
        lambda: mine.delete_action(theirs),
        lambda: mine.save_parking(Parking("2023", "OPP-SOS", "x")),
        lambda: mine.save_parking(replace(their_item, answer="x")),
        lambda: mine.delete_parking(their_item),
        lambda: mine.state("OPP-SOS", "2023"),
        lambda: mine.history("OPP-SOS", "2023"),
        # its own unit in another wave is not its grant either
        lambda: mine.save_action(Action("2021", "OPP-NOS", "Gammelt tiltak")),
        # another unit's record passed off as its own: the id decides, not the form
        lambda: mine.delete_action(replace(theirs, unit_id="OPP-NOS")),
        lambda: mine.save_parking(replace(their_item, unit_id="OPP-NOS", answer="x")),
        lambda: mine.delete_parking(replace(their_item, unit_id="OPP-NOS")),
        lambda: mine.save_action(replace(theirs, unit_id="OPP-NOS", status="dropped")),
    ]
    for attempt in attempts:
        with pytest.raises(Forbidden):
            attempt()
    # an import through the leader's access keeps its own rows only
    path = tmp_path / "mixed.csv"
    path.write_text(_actions_csv(_plan("OPP-NOS", 2) + _plan("OPP-SOS", 1)), encoding="utf-8")
    from workbench.actionplan import import_actions

    report = import_actions(store, path, release, access=mine.access)
    assert (report.read, report.imported, report.rejected) == (3, 2, 1)
    assert report.problems[0].row == 4 and report.problems[0].column == "unit_id"
    assert "may change OPP-NOS 2023 only" in report.problems[0].message
    # a file row that names another unit's action by its id changes nothing there
    path.write_text(_actions_csv(_plan("OPP-NOS", 1)).replace(
        "status\n", "status,action_id\n").replace("planned\n", f"done,{theirs.id}\n"),
        encoding="utf-8")
    report = import_actions(store, path, release)
    assert report.rejected == 1 and "belongs to unit OPP-SOS" in report.problems[0].message
    # an expired link writes nothing, even its own unit
    old = Workshop(store, leader("OPP-NOS", "2023", seconds=-1), release)
    with pytest.raises(Forbidden, match="expired"):
        old.save_votes(Votes("2023", "OPP-NOS", "F1", pleased=1))
    after = store.changes()
    assert len(after) == len(before) + 2
    assert set(after["unit_id"].iloc[len(before):]) == {"OPP-NOS"}
    assert store.state("OPP-SOS", "2023").actions == (theirs,)
    # the follow-up access: predecessors in the previous wave, given by the server
    follow = Workshop(store, Access.leader(Grant("OPP-NOS", "2023", int(time.time()) + 60),
                                           "t", also=[("OPP-NOS", "2021")]), release)
    follow.save_action(Action("2021", "OPP-NOS", "Fjorårets tiltak", status="done"))
    with pytest.raises(Forbidden):
        follow.save_action(Action("2021", "OPP-SOS", "x"))


# --------------------------------------------------------------------------------------------
# Import and export


def _handout_workbook(path: Path, rows: list[list]) -> None:
    """A workbook like a filled-in handout: a cover sheet, then the action plan with a title
    block above a header in bokmål."""
    import openpyxl

    book = openpyxl.Workbook()
    book.active.title = "Forside"
    book.active["A1"] = "Resultater for Nordre skole"
    sheet = book.create_sheet("Handlingsplan")
    sheet["A1"] = "Handlingsplan"
    sheet["A2"] = "Fyll inn én rad per tiltak"
    sheet.append([])
    sheet.append(["Runde", "Enhet", "Faktor", "Område", "Tiltak", "Mål", "Ansvarlig", "Frist",
                  "Status", "Kommentar"])
    for row in rows:
        sheet.append(row)
    book.save(path)


def test_import_keeps_good_rows_and_names_bad_ones(dataset, release, tmp_path, monkeypatch,
                                                   cli):
    import datetime as dt

    from workbench.actionplan import import_actions
    from workbench.workshop import DB_ENV

    monkeypatch.delenv(DB_ENV, raising=False)
    text = (
        "wave,unit_id,factor,area,measure,goal,responsible,deadline,status,budsjett\n"
        "2023,OPP-NOS,F6,Roller,Rollebeskrivelser,Klarhet,Rektor,2024-03-01,planned,10000\n"
        "2023,OPP-NOS,F6,Roller,Medarbeidersamtaler,,Rektor,2024-02-30,started,\n"
        "2023,OPP-NZS,F6,Roller,Nytt tiltak,,,,,\n"
        "2023,OPP-NOS,F42,Roller,Et tiltak,,,,,\n"
        "2023,OPP-NOS,F1,Roller,,,,,done,\n"
        "2023,OPP-NOS,F6,Roller,rollebeskrivelser,,,,,\n"
        "2023,OPP-NOS,F1,Roller,Et tiltak,,,,finished,\n"
        "2023,OPP-NOS,F1,Roller,Felles lunsj,,,31.12.2024,ferdig,\n"
        "2023,OPP-NOS,F1,Roller,for mange felt,,,,,,,\n"
        "2019,OPP-NOS,F1,Roller,Et tiltak,,,,,\n"
    )
    path = tmp_path / "actions.csv"
    path.write_text(text, encoding="utf-8")
    code, out, err = cli("workshop", str(dataset), "import", str(path))
    assert code == 1, err
    lines = out.splitlines()
    assert lines[0] == ("actions.csv: 10 rows read, 2 imported (2 new, 0 changed, "
                        "0 unchanged), 8 rejected")
    problems = [line for line in lines if line.startswith("PROBLEM: ")]
    expected = [
        "actions.csv, row 3, column deadline: value '2024-02-30' is not a date; expected "
        "YYYY-MM-DD",
        "actions.csv, row 4, column unit_id: unit 'OPP-NZS' is not in the hierarchy of wave "
        "2023; did you mean OPP-NOS",
        "actions.csv, row 5, column factor: factor 'F42' is not a factor of the instrument",
        "actions.csv, row 6, column measure: the value is empty",
        "actions.csv, row 7, column measure: the same measure as row 2",
        "actions.csv, row 8, column status: value 'finished' is not allowed; expected "
        "planned, started, done, dropped",
        "actions.csv, row 10: the row has 12 fields, expected 10",
        "actions.csv, row 11, column wave: wave '2019' is not a wave of this survey",
    ]
    assert len(problems) == len(expected)
    for line, start in zip(problems, expected):
        assert line.startswith("PROBLEM: " + start), line
    with open_store(dataset) as store:
        kept = store.actions()
        assert [(a.measure, a.status, a.deadline, a.extra) for a in kept] == [
            ("Rollebeskrivelser", "planned", "2024-03-01", {"budsjett": "10000"}),
            ("Felles lunsj", "done", "2024-12-31", {})]
        # the same in bokmål, with the counts adding up
        report = import_actions(store, path, release, lang="nb")
        assert report.read == report.imported + report.rejected == 10
        assert (report.unchanged, report.rejected) == (2, 8)
        rows = {(p.row, p.column, p.value) for p in report.problems}
        assert {(3, "deadline", "2024-02-30"), (4, "unit_id", "OPP-NZS"),
                (5, "factor", "F42"), (8, "status", "finished"), (11, "wave", "2019")} <= rows
        assert report.lines()[0].startswith("actions.csv: 10 rader lest, 2 importert")
        assert any("rad 3, kolonne deadline: verdien '2024-02-30' er ikke en dato" in p.message
                   for p in report.problems)

    # a filled-in handout workbook: the plan on its second sheet under a title block
    book = tmp_path / "handout-2023-nb.xlsx"
    _handout_workbook(book, [
        [2023, "OPP-SOS", "Rolleklarhet", "Roller", "Ukentlig møte", "Flyt", "Rektor",
         dt.datetime(2024, 5, 1), "påbegynt", "ok"],
        [None] * 10,
        [2023, "OPP-SOS", "F2", "Roller", "Et tiltak til", None, None, "i morgen", "planlagt",
         None],
        [2023, "OPP-SOS", None, None, None, None, None, None, "planlagt", None],  # left empty
    ])
    code, out, _ = cli("workshop", str(dataset), "import", str(book), "--lang", "nb")
    assert code == 1
    assert "handout-2023-nb.xlsx: 2 rader lest, 1 importert" in out
    assert "PROBLEM: handout-2023-nb.xlsx, rad 7, kolonne deadline: verdien 'i morgen'" in out
    with open_store(dataset) as store:
        added = store.actions(unit="OPP-SOS")
        assert [(a.factor, a.deadline, a.status, a.extra) for a in added] == \
            [("F6", "2024-05-01", "started", {"Kommentar": "ok"})]


def test_unusable_files_exit_2_without_traceback(dataset, tmp_path, cli):
    damaged = tmp_path / "damaged.xlsx"
    damaged.write_bytes(b"PK\x03\x04 not really a workbook")
    no_header = tmp_path / "no_header.csv"
    no_header.write_text("a,b,c\n1,2,3\n", encoding="utf-8")
    no_sheet = tmp_path / "no_plan.xlsx"
    import openpyxl

    book = openpyxl.Workbook()
    book.active.append(["Tiltak", "Ansvarlig"])
    book.save(no_sheet)
    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")
    cases = {
        tmp_path / "missing.csv": "file not found",
        damaged: "cannot be read",
        no_header: "required column 'wave' is missing",
        no_sheet: "no header row with the columns wave, unit_id, measure",
        empty: "empty",
        tmp_path / "actions.json": "cannot read '.json' files",
    }
    for path, message in cases.items():
        code, out, err = cli("workshop", str(dataset), "import", str(path))
        assert code == 2, (path, out, err)
        assert message in err and err.count("\n") == 1, err
    for argv in (["workshop", str(tmp_path), "export"],
                 ["workshop", str(dataset), "export", "--format", "xlsx"],
                 ["workshop", str(dataset), "export", "--out", str(tmp_path / "no" / "x.csv")],
                 ["followup", str(dataset), "--unit", "OPP-NOS", "--wave", "2021"],
                 ["followup", str(dataset), "--unit", "OPP-NOZ", "--wave", "2023"]):
        code, out, err = cli(*argv)
        assert code == 2 and err.count("\n") == 1, (argv, err)
    code, _, err = cli("workshop", str(dataset), "export", env={"WORKBENCH_DB": "mysql://x@y/z"})
    assert code == 2 and "SQLite or PostgreSQL" in err
    code, _, err = cli("workshop", str(dataset), "export",
                       env={"WORKBENCH_DB": "postgresql://nobody:wrong@127.0.0.1:9/none"})
    assert code == 2 and "cannot open the workshop store" in err
    assert "wrong" not in err  # the password is not shown
    # and as a user runs it: one line, no traceback
    run = run_cli("workshop", str(dataset), "import", str(damaged))
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert run.stderr.count("\n") == 1


def _populate(store, release) -> None:
    """A plan with everything an export must carry: commas, quotes, line breaks, formulas,
    bokmål letters, extras, the priority matrix, several units and waves."""
    ws = Workshop(store, Access.analyst("test"), release)
    texts = ['Møter, "korte" og få', "=SUM(A1:A3)", "Linje 1\nLinje 2", "+47 22 00 00 00",
             "Æ ø å – ≥ 5", "@leder", "Tab\tog klokke\x07\x00"]
    for i, text in enumerate(texts):
        ws.save_action(Action("2023", "OPP-NOS", f"{text} ({i})", factor=f"F{1 + i % 10}",
                              area=text, goal=text, responsible="Rektor",
                              deadline=f"2024-0{1 + i % 9}-15" if i % 2 else None,
                              status=("planned", "started", "done", "dropped")[i % 4],
                              impact=("large", "small", None)[i % 3],
                              feasibility=("easy", None, "hard")[i % 3],
                              extra={"kostnad": str(i * 1000)} if i % 3 == 0 else {}))
    for unit in ("HO-FJE", "TEK-VEI"):
        for i in range(3):
            ws.save_action(Action("2021", unit, f"Tiltak {i}", extra={"notat": "a,b"}))
    changed = store.actions(unit="HO-FJE")[0]
    ws.save_action(replace(changed, status="done"))  # a version 2 in the file


def test_export_then_import_changes_nothing(backend, dataset, release, tmp_path, cli):
    with open_store(url=backend.url) as store:
        _populate(store, release)
        log = store.changes()
    code, first, err = cli("workshop", str(dataset), "export", env=backend.env)
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(first)))
    assert list(rows[0])[:len(ACTION_COLUMNS)] == list(ACTION_COLUMNS)
    assert list(rows[0])[len(ACTION_COLUMNS):] == ["impact", "feasibility", "action_id",
                                                   "version", "notat", "kostnad"]
    assert len(rows) == 6 + 7  # 2021 first, then 2023
    assert rows[7]["measure"] == "=SUM(A1:A3) (1)" and rows[8]["area"] == "Linje 1\nLinje 2"
    assert rows[12]["goal"] == "Tab\tog klokke"  # control characters never stored
    for fmt in ("csv", "xlsx"):
        out = tmp_path / f"actions.{fmt}"
        code, _, err = cli("workshop", str(dataset), "export", "--format", fmt, "--out",
                           str(out), env=backend.env)
        assert code == 0, err
        code, printed, err = cli("workshop", str(dataset), "import", str(out), env=backend.env)
        assert code == 0, printed + err
        assert "13 rows read, 13 imported (0 new, 0 changed, 13 unchanged), 0 rejected" in \
            printed
        code, again, _ = cli("workshop", str(dataset), "export", env=backend.env)
        assert again == first
    with open_store(url=backend.url) as store:
        assert store.changes().equals(log)  # not one change logged
    # the workbook keeps a formula-like text as text
    import openpyxl

    sheet = openpyxl.load_workbook(tmp_path / "actions.xlsx")["actions"]
    values = [cell.value for cell in sheet["E"]]
    assert "=SUM(A1:A3) (1)" in values
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
    # per wave and per unit
    code, printed, _ = cli("workshop", str(dataset), "export", "--wave", "2021", "--unit",
                           "TEK-VEI", env=backend.env)
    assert [r["measure"] for r in csv.DictReader(io.StringIO(printed))] == \
        ["Tiltak 0", "Tiltak 1", "Tiltak 2"]
    # a misspelt unit gets the closest unit with actions (a newcomer, helper-19)
    code, _, err = cli("workshop", str(dataset), "export", "--unit", "tek-vie",
                       env=backend.env)
    assert code == 0 and "no actions recorded for unit tek-vie; did you mean 'TEK-VEI'?" in err


def test_export_moves_a_plan_to_another_store(store, release, tmp_path):
    # SQLite -> the test's store (SQLite or PostgreSQL) through a file: same ids, versions
    from workbench.actionplan import export_actions, import_actions

    source = open_store(url=f"sqlite:///{tmp_path / 'source.sqlite'}")
    _populate(source, release)
    _, text = export_actions(source, tmp_path / "plan.csv")
    report = import_actions(store, tmp_path / "plan.csv", release)
    assert (report.new, report.rejected) == (13, 0)
    assert export_actions(store)[1] == text
    source.close()


def test_import_refuses_a_row_older_than_the_store(store, release, tmp_path):
    from workbench.actionplan import export_actions, import_actions

    ws = Workshop(store, Access.analyst("test"), release)
    action = ws.save_action(Action("2023", "OPP-NOS", "Rollebeskrivelser", factor="F6"))
    export_actions(store, tmp_path / "plan.csv")
    ws.save_action(replace(action, status="done"))  # changed online after the export
    path = tmp_path / "plan.csv"
    path.write_text(path.read_text().replace(",planned,", ",started,"), encoding="utf-8")
    report = import_actions(store, path, release)
    assert report.rejected == 1 and report.problems[0].column == "version"
    assert "changed in the store after this file was made (version 2" in \
        report.problems[0].message
    assert store.actions()[0].status == "done"
    # without a version column the file wins, and the log keeps what it replaced
    path.write_text(_actions_csv([{"wave": "2023", "unit_id": "OPP-NOS", "factor": "F6",
                                   "measure": "rollebeskrivelser", "status": "started"}]),
                    encoding="utf-8")
    report = import_actions(store, path, release)
    assert report.changed == 1 and store.actions()[0].status == "started"
    assert json.loads(store.changes()["before"].iloc[-1])["status"] == "done"


# --------------------------------------------------------------------------------------------
# Follow-up


def test_followup_beside_the_published_means(dataset, release, monkeypatch, cli):
    from workbench.compare import compare
    from workbench.followup import followup
    from workbench.workshop import DB_ENV

    monkeypatch.delenv(DB_ENV, raising=False)
    unit = "OPP-HAU"  # 2021 -> 2023: higher, lower, small and similar (or unclear) factors
    compared = compare(release, unit, "previous", wave="2023").set_index("key")
    assert {"higher", "lower", "small"} <= set(compared["finding"])
    assert {"similar", "unclear"} & set(compared["finding"])
    factors = release.tables["factors"]

    def published(wave, unit_id, key):
        row = factors.loc[(factors["wave"].astype(str) == wave) &
                          (factors["unit_id"] == unit_id) & (factors["key"] == key)]
        assert len(row) == 1
        return row["mean"].iloc[0]

    fourth = "similar" if "similar" in set(compared["finding"]) else "unclear"
    keys = [compared.index[compared["finding"] == f][0]
            for f in ("higher", "lower", "small", fourth)]
    with open_store(dataset) as store:
        ws = Workshop(store, Access.analyst("test"), release)
        for i, key in enumerate(keys):
            ws.save_action(Action("2021", unit, f"Tiltak {key}", factor=key,
                                  status=("done", "started", "planned", "dropped")[i]))
        ws.save_action(Action("2021", unit, "Tiltak uten faktor"))
        ws.save_action(Action("2023", unit, "Nytt tiltak", factor=keys[0]))  # not last wave's
        view = followup(release, store, unit, "2023")
    assert list(view["measure"]) == [f"Tiltak {k}" for k in keys] + ["Tiltak uten faktor"]
    assert list(view["status"]) == ["done", "started", "planned", "dropped", "planned"]
    for _, row in view.iloc[:4].iterrows():
        key = row["factor"]
        assert row["mean_previous"] == published("2021", unit, key)
        assert row["mean"] == published("2023", unit, key)
        assert row["diff"] == pytest.approx(compared.loc[key, "diff"], abs=1e-12)
        assert row["p_adj"] == pytest.approx(compared.loc[key, "p_adj"], rel=1e-12)
        assert row["finding"] == compared.loc[key, "finding"]
        assert row["verdict"] == compared.loc[key, "verdict"]
    label = {f.id: f.name("nb") for f in release.instrument.factors}
    first = view.iloc[0]
    assert first["change"] == (f"{label[keys[0]]} "
                               f"{first['mean_previous']:.2f}".replace(".", ",") +
                               f" -> {first['mean']:.2f}".replace(".", ",") + ": higher")
    last = view.iloc[4]
    assert last["factor"] == "" and np.isnan(last["mean"]) and last["change"] == ""

    # the command prints the same, rounded as the other commands
    code, out, err = cli("followup", str(dataset), "--unit", unit, "--wave", "2023",
                         "--format", "json", "--lang", "en")
    assert code == 0, err
    printed = json.loads(out)
    assert [r["measure"] for r in printed] == list(view["measure"])
    assert printed[0]["mean"] == round(published("2023", unit, keys[0]), 4)
    assert printed[0]["change"].endswith(": higher") and " -> " in printed[0]["change"]
    assert printed[0]["label"] == next(f.name("en") for f in release.instrument.factors
                                       if f.id == keys[0])


def test_followup_shows_hidden_cells_as_hidden(dataset, release, monkeypatch):
    from workbench.followup import followup
    from workbench.workshop import DB_ENV

    monkeypatch.delenv(DB_ENV, raising=False)
    factors = release.tables["factors"]
    hidden = factors.pivot_table(index=["unit_id", "key"], columns="wave",
                                 values="suppressed", aggfunc="first")
    # a cell hidden in 2021 and published in 2023
    unit, key = hidden.index[hidden["2021"].astype(bool) & ~hidden["2023"].astype(bool)][0]
    with open_store(dataset) as store:
        Workshop(store, Access.analyst("t"), release).save_action(
            Action("2021", unit, "Tiltak", factor=key))
        view = followup(release, store, unit, "2023", lang="en")
    row = view.iloc[0]
    assert np.isnan(row["mean_previous"]) and np.isnan(row["diff"])
    assert row["finding"] == "suppressed"
    now = factors.loc[(factors["wave"] == "2023") & (factors["unit_id"] == unit) &
                      (factors["key"] == key), "mean"].iloc[0]
    assert row["mean"] == now
    assert row["change"].split(" hidden -> ")[1] == f"{now:.2f}: suppressed"


def test_followup_follows_a_predecessor(dataset, release, monkeypatch):
    # a unit continues another unit of the previous wave (a reorganisation): the plan of the
    # predecessor is shown, and the test is the engine's test between the two published
    # cells (Welch with the finite population correction, Holm across the factors)
    from scipy import stats as st
    from statsmodels.stats.multitest import multipletests

    from workbench.followup import followup
    from workbench.workshop import DB_ENV

    monkeypatch.delenv(DB_ENV, raising=False)
    old, new = "OPP-SOS", "OPP-NOS"
    with open_store(dataset) as store:
        ws = Workshop(store, Access.analyst("t"), release)
        for key in ("F1", "F6"):
            ws.save_action(Action("2021", old, f"Tiltak {key}", factor=key))
        ws.save_action(Action("2021", new, "Eget tiltak", factor="F1"))
        same = followup(release, store, new, "2023")
        moved = followup(release, store, new, "2023", predecessors={new: [old]})
        hooked = followup(release, store, new, "2023", predecessors=lambda u, w: (old, u))

        class Lineage:
            def previous(self, unit, wave):
                return (old,)

        lineage = followup(release, store, new, "2023", predecessors=Lineage())
    assert list(same["measure"]) == ["Eget tiltak"]
    assert list(moved["previous_unit_id"]) == [old, old]
    assert list(hooked["measure"]) == ["Tiltak F1", "Tiltak F6", "Eget tiltak"]
    assert lineage.equals(moved)
    factors = release.tables["factors"].set_index(["wave", "unit_id", "key"])
    keys = [f.id for f in release.instrument.factors]
    now = factors.loc[[("2023", new, k) for k in keys]]
    then = factors.loc[[("2021", old, k) for k in keys]]

    def corrected(frame):
        return frame["sd"].to_numpy() * np.sqrt(1 - frame["n"].to_numpy() /
                                                frame["invited"].to_numpy())

    test = st.ttest_ind_from_stats(now["mean"].to_numpy(), corrected(now), now["n"].to_numpy(),
                                   then["mean"].to_numpy(), corrected(then),
                                   then["n"].to_numpy(), equal_var=False)
    holm = dict(zip(keys, multipletests(test.pvalue, method="holm")[1]))
    for _, row in moved.iterrows():
        assert row["mean_previous"] == then.loc[("2021", old, row["factor"]), "mean"]
        assert row["mean"] == now.loc[("2023", new, row["factor"]), "mean"]
        assert row["p_adj"] == pytest.approx(holm[row["factor"]], rel=1e-9)


# --------------------------------------------------------------------------------------------
# Migrations


def test_migrations_from_empty_and_from_the_previous_version(backend):
    import sqlalchemy as sa

    from workbench._workshop_schema import LATEST, PREFIX, migrate, tables
    from workbench.errors import UsageError
    from workbench.workshop import _engine

    engine, _ = _engine(backend.url)
    try:
        # an empty database to version 1, as an older workbench left it, with data
        assert migrate(engine, target=1, now="2024-01-01T00:00:00Z") == 1
        columns = {c["name"] for c in sa.inspect(engine).get_columns(PREFIX + "actions")}
        assert "impact" not in columns and "measure" in columns
        with engine.begin() as conn:
            conn.execute(sa.text(
                f"INSERT INTO {PREFIX}actions (wave, unit_id, id, ordinal, factor, area, "
                "measure, measure_key, goal, responsible, deadline, status, version, "
                "created_at, updated_at, updated_by) VALUES ('2021', 'OPP-NOS', :id, 1, "
                "'F1', 'Møter', 'Ukentlig møte', :key, '', 'Rektor', '2021-12-01', "
                "'started', 3, 't', 't', 'analyst gammel')"),
                {"id": "a" * 32, "key": "k" * 40})
            conn.execute(sa.text(
                f"INSERT INTO {PREFIX}votes (wave, unit_id, factor, pleased, improve, "
                "pleased_reasons, improve_reasons, version, created_at, updated_at, "
                "updated_by) VALUES ('2021', 'OPP-NOS', 'F1', 4, 2, 'bra', '', 1, 't', 't', "
                "'x')"))
    finally:
        engine.dispose()
    with open_store(url=backend.url) as store:  # opening migrates to the latest
        assert store.version == LATEST == 2
        old = store.actions()[0]
        assert (old.measure, old.status, old.version, old.impact, old.extra) == \
            ("Ukentlig møte", "started", 3, None, {})
        assert store.state("OPP-NOS", "2021").votes[0].pleased == 4
        ws = Workshop(store, Access.analyst("ny"))
        placed = ws.save_action(replace(old, impact="large", feasibility="hard"))
        assert placed.version == 4 and placed.quadrant == "consider"
        with store.transaction() as conn:
            history = conn.execute(sa.text(f"SELECT version FROM {PREFIX}schema_version "
                                           "ORDER BY version")).scalars().all()
        assert history == [1, 2]
        # the migrated schema is the one a new store gets
        inspector = sa.inspect(store.engine)
        for name, table in tables().items():
            found = {c["name"] for c in inspector.get_columns(table.name)}
            assert found == {c.name for c in table.columns}, name
        # a store from a newer workbench is refused, not damaged
        with store.transaction(write=True) as conn:
            conn.execute(sa.text(f"INSERT INTO {PREFIX}schema_version VALUES (99, 'x', 't')"))
    with pytest.raises(UsageError, match="newer than this workbench"):
        open_store(url=backend.url)


# --------------------------------------------------------------------------------------------
# The analyst's overview


def test_overview_per_sector(store, release):
    from matplotlib.axes import Axes

    from workbench.workshop_overview import (
        plot_workshop_overview,
        workshop_overview,
        workshop_status,
    )

    ws = Workshop(store, Access.analyst("t"), release)
    ws.save_votes(Votes("2023", "OPP-NOS", "F1", pleased=3))  # votes only: held
    for i, status in enumerate(("done", "done", "started")):
        ws.save_action(Action("2023", "OPP-SOS", f"Tiltak {i}", status=status))
    ws.save_choice(Choice("2023", "HO-FJE", ("F2",)))  # chosen factors only: held
    ws.save_parking(Parking("2023", "TEK-VEI", "Sak"))  # a parking lot alone: not held
    ws.save_action(Action("2021", "TEK-VEI", "Fjorårets"))  # another wave
    status = workshop_status(store, release, "2023")
    hierarchy = release.hierarchy("2023")
    assert list(status["unit_id"]) == list(hierarchy.ids)
    held = set(status.loc[status["held"], "unit_id"])
    assert held == {"OPP-NOS", "OPP-SOS", "HO-FJE"}
    table = workshop_overview(store, release, "2023", level=1)
    sectors = [u for u in hierarchy.ids if hierarchy.level(u) == 1]
    assert list(table["group_id"]) == [hierarchy.root, *sectors]
    published = {u for u in hierarchy.ids if release.published(u, "2023")}
    for _, row in table.iterrows():
        members = [u for u in hierarchy.ids
                   if (hierarchy.path(u)[1] if hierarchy.level(u) >= 1 else u) ==
                   row["group_id"]]
        assert row["units"] == len([u for u in members if u in published or u in held])
        assert row["held"] == len([u for u in members if u in held])
    opp = table.set_index("group_id").loc["OPP"]
    assert (opp["held"], opp["measures"], opp["done"]) == (2, 3, 2)
    assert opp["share_done"] == pytest.approx(2 / 3)
    tek = table.set_index("group_id").loc["TEK"]
    assert tek["held"] == 0 and np.isnan(tek["share_done"])
    ax = plot_workshop_overview(table, lang="en")
    assert isinstance(ax, Axes)
    assert len(ax.patches) == 2 * len(table)
    assert any("2 of 3 measures done" in t.get_text() for t in ax.texts)
    assert [t.get_text() for t in ax.get_yticklabels()][::-1] == list(table["group_name"])
    whole = workshop_overview(store, release, "2023", level=0)
    assert len(whole) == 1 and whole["held"].iloc[0] == 3


def test_examples_run(monkeypatch):
    import doctest

    monkeypatch.chdir(ROOT)  # the examples read data_samples/

    import workbench.actionplan
    import workbench.followup
    import workbench.workshop
    import workbench.workshop_overview

    for module in (workbench.workshop, workbench.actionplan, workbench.followup,
                   workbench.workshop_overview):
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
        assert result.attempted and not result.failed, module.__name__


def test_followup_tells_a_wrong_unit_before_the_first_wave(dataset, release, monkeypatch):
    # a newcomer (helper-19): on a one-wave survey a misspelt unit was told "first wave"
    from workbench.errors import UsageError
    from workbench.followup import followup
    from workbench.workshop import DB_ENV

    monkeypatch.delenv(DB_ENV, raising=False)
    with open_store(dataset) as store:
        with pytest.raises(UsageError, match="'XYZ' is not in the hierarchy"):
            followup(release, store, "XYZ", release.waves[0])
        with pytest.raises(UsageError, match="is the first wave"):
            followup(release, store, release.hierarchy(release.waves[0]).ids[0],
                     release.waves[0])
