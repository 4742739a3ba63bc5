"""The explorer and the leader page in a real browser, served by ``workbench serve``.

One server pair (analyst + leader) for the whole module, on the university sample. Every page
is opened with all non-localhost requests aborted and recorded: the apps must work offline.
Screenshots go to ``artifacts/`` (look at them).
"""

from __future__ import annotations

import base64
import io
import json
import re
import time
import urllib.request
import uuid
from datetime import datetime, timezone
from urllib.parse import urlsplit

import numpy as np
import pandas as pd
import pytest
from conftest import ARTIFACTS, SAMPLES, ServeProcesses

from workbench.access import load_secret, sign
from workbench.apps.explorer import unit_label
from workbench.compare import compare
from workbench.i18n import number
from workbench.stats import stats_table

pytestmark = [pytest.mark.slow, pytest.mark.timeout(420)]

RESPONDENT_ID = re.compile(r"\b\d{2}-\d{6}\b")
MEAN = re.compile(r"\d,\d")
LOCAL = re.compile(r"^(data:|blob:|about:|(https?|wss?)://(127\.0\.0\.1|localhost)[:/])")
UNIT = "NV-FYS"  # Institutt for fysikk: 115 answers in 2021, six research groups
SIBLING = "NV-KJE"  # Institutt for kjemi, a sibling the leader of NV-FYS must never see
HIDDEN = "AD-AAP-3"  # 3 answers: never published, no link
# the widgets' title (the page's first view, plain HTML, carries the same title before them)
LEADER_TITLE = ".widget-html h2:has-text('Resultater for Institutt for fysikk')"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    ARTIFACTS.mkdir(exist_ok=True)
    processes = ServeProcesses(tmp_path_factory.mktemp("serve"))
    yield processes.start(SAMPLES / "university", pool_size=3)
    processes.stop()


@pytest.fixture(scope="module")
def secret(served):
    return load_secret(served.secret)


@pytest.fixture(scope="module")
def university(university_release):
    """What the pages must show: the university sample's release."""
    return university_release


def link(served, secret, unit=UNIT, wave="2021", seconds=3600) -> str:
    return f"{served.leader}?t={sign(secret, unit, wave, time.time() + seconds)}"


def open_page(browser, url: str):
    """A page with every request that leaves this machine aborted and recorded."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    outside: list[str] = []

    def route(request_route):
        address = request_route.request.url
        if LOCAL.match(address):
            request_route.continue_()
        else:
            outside.append(address)
            request_route.abort()

    page.route("**/*", route)
    page.goto(url, wait_until="domcontentloaded", timeout=120_000)
    return page, outside


def screenshot(page, name: str) -> None:
    """The whole page: Voila scrolls inside #rendered_cells, so grow the viewport to it."""
    height = page.evaluate("(document.querySelector('#rendered_cells') || document.body)"
                           ".scrollHeight")
    page.set_viewport_size({"width": 1280, "height": int(min(max(height + 40, 900), 14000))})
    page.screenshot(path=ARTIFACTS / name)
    page.set_viewport_size({"width": 1280, "height": 900})


def option(label: str) -> str:
    """An option's text as ipywidgets draws it (spaces become no-break spaces)."""
    return label.replace(" ", "\u00a0")


def choose(page, description: str, label: str) -> None:
    """Pick ``label`` in the dropdown described as ``description``."""
    box = page.locator(".widget-dropdown").filter(
        has=page.locator("label", has_text=re.compile(f"^{description}$")))
    box.locator("select").select_option(label=option(label))


def body_text(page) -> str:
    return page.inner_text("body")


def no_respondent_rows(page, *tokens: str) -> None:
    html = page.content()
    for token in tokens:  # a token is base64url: it may hold any digits and dashes
        html = html.replace(token, "")
    assert not RESPONDENT_ID.search(html), RESPONDENT_ID.search(html).group(0)
    assert "respondent_id" not in html


def figure_sources(page) -> list[str]:
    return page.eval_on_selector_all("img.wb-figure", "els => els.map(e => e.src)")


def wait_changed(page, before: list[str], timeout: float = 30) -> list[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        now = figure_sources(page)
        if now and now != before:
            return now
        time.sleep(0.1)
    raise AssertionError("the figures did not change")


# ---------------------------------------------------------------------------------------------
# explorer (analysts, behind the token)


def test_explorer(served, browser, university):
    page, outside = open_page(browser, served.analyst("voila/render/explorer.ipynb"))
    page.locator("h3:has-text('Faktoroversikt')").wait_for(timeout=120_000)
    assert "Eksempeluniversitetet" in page.inner_text("h2")
    screenshot(page, "explorer-overview-top.png")
    first = figure_sources(page)
    assert len(first) == 1 and first[0].startswith("data:image/svg+xml;base64,")

    # one background variable, at the top unit only
    choose(page, "Bakgrunn", "Kjønn")
    page.locator("h3:has-text('Faktoroversikt: Kjønn')").wait_for(timeout=30_000)
    by_gender = stats_table(university, wave="2021", by="gender", unit="EU")
    for mean in by_gender.loc[~by_gender["suppressed"], "mean"]:
        assert number(mean, "nb") in body_text(page)
    screenshot(page, "explorer-by-gender.png")
    page.locator(".wb-downloads a:has-text('Excel')").wait_for(timeout=30_000)
    # a bokmål download opens in Norwegian Excel: semicolons and decimal commas
    href = page.locator(".wb-downloads a:has-text('CSV')").get_attribute("href")
    csv = base64.b64decode(href.split(",", 1)[1]).decode("utf-8-sig")
    assert csv.splitlines()[0].startswith("wave;unit_id;unit_name;level;key")
    back = pd.read_csv(io.StringIO(csv), sep=";", decimal=",")
    np.testing.assert_allclose(back["mean"].to_numpy(dtype=float),
                               by_gender["mean"].to_numpy(dtype=float))
    choose(page, "Bakgrunn", "(ingen)")
    page.locator("h3:has-text('Faktoroversikt')").first.wait_for(timeout=30_000)

    # a search that finds nothing says so; the page keeps its unit
    search = page.get_by_placeholder("navn eller kode")
    search.fill("qqqq")
    page.get_by_text("Ingen enhet passer til «qqqq» i runde 2021").wait_for(timeout=30_000)
    assert page.locator(".widget-select option").count() == 0
    assert "Eksempeluniversitetet" in page.inner_text(".wb-app h2")

    # pick a unit by searching for its name: only matches are listed, none of them clipped
    search.fill("fysikk")
    label = option(unit_label(university, UNIT, "2021", "nb", flat=True))
    select = page.locator(".widget-select select").first
    page.wait_for_function("n => [...document.querySelectorAll('.widget-select option')]"
                           ".some(o => o.textContent === n)", arg=label, timeout=30_000)
    listed = page.eval_on_selector_all(".widget-select option", "os => os.map(o => o.value)")
    assert len(listed) == 8 and page.get_by_text("8 enheter passer til «fysikk».").is_visible()
    clipped = select.evaluate("s => s.scrollWidth > s.clientWidth + 1")
    assert not clipped, "a unit's name is cut off in the list"
    select.select_option(label=label)
    page.locator("h2:has-text('Institutt for fysikk')").wait_for(timeout=30_000)
    second = wait_changed(page, first)
    text = body_text(page)
    expected = stats_table(university, wave="2021", unit=UNIT)
    for mean in expected["mean"]:
        assert number(mean, "nb") in text
    assert "115 svar av 161 inviterte" in text
    svg = base64.b64decode(second[0].split(",", 1)[1]).decode()
    assert "Fakultet for naturvitenskap" in svg  # the parent's lighter bar is in the legend
    # below the top unit the background selector is off, and says why
    assert page.locator(".widget-dropdown:has(label:text-is('Bakgrunn')) select").is_disabled()
    assert "vises bare for den øverste enheten" in text
    screenshot(page, "explorer-overview-unit.png")

    # distribution per factor and item: the item chart follows the factor
    choose(page, "Visning", "Svarfordeling per faktor og påstand")
    page.locator("h4:has-text('Påstandene i Autonomi')").wait_for(timeout=30_000)
    items = figure_sources(page)
    assert len(items) == 2
    choose(page, "Faktor", "Fravær av stress")
    page.locator("h4:has-text('Påstandene i Fravær av stress')").wait_for(timeout=30_000)
    changed = wait_changed(page, items)
    assert changed[0] == items[0] and changed[1] != items[1]  # factors kept, items redrawn
    screenshot(page, "explorer-distribution.png")

    # heatmap of the subunits, with the verdicts
    choose(page, "Visning", "Varmekart for underenhetene")
    page.locator("h4:has-text('Reelle forskjeller')").wait_for(timeout=30_000)
    screenshot(page, "explorer-heatmap.png")

    # comparisons with verdicts, in English
    choose(page, "Visning", "Sammenligninger")
    page.locator("h4:has-text('Mot resten av overordnet enhet')").wait_for(timeout=30_000)
    page.get_by_text("English", exact=True).click()
    page.locator("h4:has-text('Against the rest of the parent unit')").wait_for(timeout=30_000)
    assert "Lower than the rest of Faculty of Natural Sciences" in body_text(page)
    screenshot(page, "explorer-compare-en.png")

    # the download is the view's published table
    href = page.locator(".wb-downloads a").first.get_attribute("href")
    csv = base64.b64decode(href.split(",", 1)[1]).decode("utf-8-sig")
    assert csv.splitlines()[0].startswith("wave,unit_id,against,key")
    assert not RESPONDENT_ID.search(csv)

    no_respondent_rows(page, served.token)
    assert outside == [], f"requests to other hosts: {outside}"
    page.close()


def test_analyst_server_needs_the_token(served, browser):
    page, _ = open_page(browser, served.url + "voila/render/explorer.ipynb")
    page.wait_for_load_state("load")
    assert "/login" in page.url
    assert not MEAN.search(body_text(page))
    page.close()
    # the leader server serves the leader page only
    page, _ = open_page(browser, served.leader + "voila/render/explorer.ipynb")
    page.wait_for_load_state("load")
    assert "Faktoroversikt" not in page.content()
    page.close()


# ---------------------------------------------------------------------------------------------
# leader page (signed links)


#: Collects the page's layout shifts (the browser's own measure, as in Core Web Vitals).
LAYOUT_SHIFTS = """
window.__shifts = [];
new PerformanceObserver(list => { for (const e of list.getEntries()) {
  window.__shifts.push({value: e.value, sources: (e.sources || []).map(s => [
    s.node ? String(s.node.className || s.node.nodeName) : '', s.previousRect.y,
    s.currentRect.y])}); } }).observe({type: 'layout-shift', buffered: true});
"""


def places(page, root: str) -> list[int]:
    """Screen positions (top, px) of the title and the results table's rows under ``root``."""
    return page.evaluate(
        "root => { const r = document.querySelector(root); if (!r) return [];"
        " const t = [r.querySelector('h2'), ...r.querySelector('table').querySelectorAll('tr')];"
        " return t.map(e => Math.round(e.getBoundingClientRect().top)); }", root)


def test_leader_page_with_a_valid_link(served, secret, browser, university):
    address = link(served, secret)
    token = address.split("?t=")[1]
    start = time.perf_counter()
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.add_init_script(LAYOUT_SHIFTS)
    outside: list[str] = []
    page.route("**/*", lambda r: r.continue_() if LOCAL.match(r.request.url)
               else (outside.append(r.request.url), r.abort()))
    page.goto(address, wait_until="domcontentloaded", timeout=120_000)
    page.locator(".wb-first-view td").first.wait_for(timeout=60_000)
    first = time.perf_counter() - start
    before = places(page, ".wb-first")
    screenshot(page, "leader-first-view.png")
    page.locator(LEADER_TITLE).wait_for(timeout=60_000)
    seconds = time.perf_counter() - start
    assert not page.locator(".wb-first-view").is_visible()  # the widgets took its place
    page.locator("img.wb-figure").wait_for(timeout=30_000)  # drawn below the table
    print(f"leader page: first view after {first:.2f} s, widgets after {seconds:.2f} s, "
          f"figure after {time.perf_counter() - start:.2f} s")
    # nothing the leader reads moves when the widgets and the figure arrive
    after = places(page, ".wb-leader")
    assert len(before) == len(after) == 19  # the title and the 18 rows (header, 17 factors)
    assert max(abs(a - b) for a, b in zip(before, after)) <= 2, (before, after)
    shifts = page.evaluate("window.__shifts")
    assert sum(s["value"] for s in shifts) < 0.01, shifts
    assert page.evaluate("window.scrollY") == 0
    text = body_text(page)
    for mean in stats_table(university, wave="2021", unit=UNIT)["mean"]:
        assert number(mean, "nb") in text
    assert "115 av 161 inviterte svarte" in text
    hierarchy = university.hierarchy("2021")
    for other in (SIBLING, "NV-BIO", "HF", HIDDEN):
        assert hierarchy.name(other) not in text
    for step in ("Analysekrysset", "Framtidsbildet", "Prioriteringsmatrisen", "Handlingsplanen"):
        assert step in text
    screenshot(page, "leader-valid.png")

    # a subunit of the grant
    child = hierarchy.children(UNIT)[0]
    choose(page, "Enhet", "\u00a0\u00a0" + hierarchy.name(child))
    page.locator(f".widget-html h2:has-text('Resultater for {hierarchy.name(child)}')").wait_for(
        timeout=30_000)
    child_mean = number(stats_table(university, wave="2021", unit=child)["mean"].iloc[0], "nb")
    page.wait_for_function("m => document.body.innerText.includes(m)", arg=child_mean,
                           timeout=30_000)
    # the chosen comparison, in English
    page.get_by_text("English", exact=True).click()
    page.locator(".widget-html h2:has-text('Results for')").wait_for(timeout=30_000)
    choose(page, "Compare with", "the previous wave")
    previous = compare(university, child, "previous", wave="2021", lang="en").iloc[0]
    row = f"{number(previous['mean'], 'en')}\t{number(previous['other_mean'], 'en')}"
    page.wait_for_function("r => document.body.innerText.includes(r)", arg=row, timeout=30_000)
    assert previous["verdict"] in body_text(page)
    screenshot(page, "leader-child-en.png")
    no_respondent_rows(page, token)
    assert outside == [], f"requests to other hosts: {outside}"

    # the workshop handout of this unit, made on request
    page.get_by_text("Make the workshop handout").click()
    handout = page.locator(".wb-downloads a:has-text('HTML')")
    handout.wait_for(timeout=90_000)
    html = base64.b64decode(handout.get_attribute("href").split(",", 1)[1]).decode("utf-8")
    assert hierarchy.name(child, "en") in html and hierarchy.name(SIBLING, "en") not in html
    assert not RESPONDENT_ID.search(html)

    page.close()


def scrolled_down(page) -> list[int]:
    """Scroll the leader page down as a reader does (the mouse wheel), until the title is out
    of sight, and return the places of the title and rows in the view then showing (the
    first view, or the widgets if they arrived meanwhile)."""
    places_now: list[int] = []
    for _ in range(40):
        page.mouse.move(640, 250)
        page.mouse.wheel(0, 300)
        time.sleep(0.25)
        widgets = page.locator(".widget-box.wb-leader table").count() > 0
        places_now = places(page, ".wb-leader" if widgets else ".wb-first")
        if places_now and places_now[0] < -200:
            break
    return places_now


def test_leader_page_keeps_the_readers_place(served, secret, browser):
    """A leader who scrolled the first view still reads the same rows when the widgets
    arrive (the page scrolls in another element then)."""
    page = browser.new_page(viewport={"width": 1280, "height": 500})
    page.goto(link(served, secret), wait_until="domcontentloaded", timeout=120_000)
    page.locator(".wb-first-view td").first.wait_for(timeout=60_000)
    before = scrolled_down(page)
    assert before[0] < -200, before  # the title is out of sight: the reader is down in the table
    page.locator("img.wb-figure").wait_for(timeout=90_000)
    time.sleep(0.5)
    after = places(page, ".wb-leader")
    assert max(abs(a - b) for a, b in zip(before, after)) <= 3, (before, after)
    page.close()


def test_geoscience_leader_page(served, secret, browser, university):
    """Institutt for geovitenskap (51 answers), wholly hidden before the joint release."""
    page, outside = open_page(browser, link(served, secret, unit="NV-GEO"))
    page.locator(".widget-html h2:has-text('Resultater for Institutt for geovitenskap')"
                 ).wait_for(timeout=90_000)
    page.locator("img.wb-figure").wait_for(timeout=60_000)
    text = body_text(page)
    rows = stats_table(university, wave="2021", unit="NV-GEO")
    assert (~rows["suppressed"]).sum() >= 1
    for _, row in rows.iterrows():
        if row["suppressed"]:
            assert row["reason"] in ("min_n", "complement")
        else:
            assert number(row["mean"], "nb") in text
    assert "skjult (vern av en liten gruppe)" in text or "skjult (færre enn 5 svar)" in text
    screenshot(page, "leader-NV-GEO.png")
    assert outside == []
    page.close()


def _refusal_cases(served, secret):
    payload, signature = sign(secret, UNIT, "2021", time.time() + 3600).split(".")
    other = sign(secret, SIBLING, "2021", time.time() + 3600).split(".")[0]
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
    base = served.leader
    return {
        "missing": base,
        "malformed": base + "?t=not-a-token",
        "tampered": f"{base}?t={payload}.{flipped}",
        "other-unit": f"{base}?t={other}.{signature}",
        "expired": f"{base}?t={sign(secret, UNIT, '2021', time.time() - 60)}",
        "hidden-unit": f"{base}?t={sign(secret, HIDDEN, '2021', time.time() + 3600)}",
    }  # two tokens in one link, another secret: refused alike (tests/test_access.py)


def test_bad_links_show_no_numbers(served, secret, browser, university):
    hierarchy = university.hierarchy("2021")
    names = [hierarchy.name(u) for u in (UNIT, SIBLING, HIDDEN, "NV")]
    for case, address in _refusal_cases(served, secret).items():
        page, outside = open_page(browser, address)
        page.locator(".widget-html h2:has-text('Ingen tilgang')").wait_for(timeout=90_000)
        text = body_text(page)
        assert not MEAN.search(text), (case, MEAN.search(text))
        assert not re.search(r"\d", text), (case, text)
        for name in names:
            assert name not in page.content(), (case, name)
        assert "Resultater for" not in text
        if case in ("missing", "expired", "other-unit"):
            screenshot(page, f"leader-refused-{case}.png")
        tokens = urlsplit(address).query.replace("t=", "").split("&")
        no_respondent_rows(page, *tokens)
        assert outside == [], f"{case}: requests to other hosts: {outside}"
        page.close()


def first_view(html: str) -> str:
    """The text of the page's first view (the HTML written by the template), styles dropped."""
    assert '<div class="wb-first-view">' in html
    part = html.split('<div class="wb-first-view">', 1)[1]
    part = part.split('<script type="application/vnd.voila.cell-output+json">', 1)[0]
    part = re.sub(r"<style>.*?</style>", " ", part, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", part))


def test_first_view_is_in_the_page_itself(served, secret, university):
    """The unit's header and numbers arrive with the page, before any script runs; a bad
    link's first view is the refusal, without a digit."""
    with urllib.request.urlopen(link(served, secret), timeout=120) as answer:
        text = first_view(answer.read().decode("utf-8"))
    assert "Resultater for Institutt for fysikk" in text
    assert "115 av 161 inviterte svarte" in text
    for mean in stats_table(university, wave="2021", unit=UNIT)["mean"]:
        assert number(mean, "nb") in text
    assert university.hierarchy("2021").name(SIBLING) not in text
    for case in ("malformed", "tampered", "other-unit"):
        address = _refusal_cases(served, secret)[case]
        with urllib.request.urlopen(address, timeout=120) as answer:
            text = first_view(answer.read().decode("utf-8"))
        assert "Ingen tilgang" in text and not re.search(r"\d", text), (case, text)


# ---------------------------------------------------------------------------------------------
# forged widget messages over the kernel websocket


class KernelSocket:
    """A second client on a page's kernel websocket: what anyone holding the page could do."""

    def __init__(self, url: str):
        import websocket  # websocket-client

        parts = urlsplit(url)
        self.session = uuid.uuid4().hex
        self.ws = websocket.create_connection(
            f"{parts.scheme}://{parts.netloc}{parts.path}?session_id={self.session}", timeout=10)

    def send(self, msg_type: str, content: dict) -> str:
        msg_id = uuid.uuid4().hex
        self.ws.send(json.dumps({
            "header": {"msg_id": msg_id, "msg_type": msg_type, "username": "forger",
                       "session": self.session, "version": "5.3",
                       "date": datetime.now(timezone.utc).isoformat()},
            "parent_header": {}, "metadata": {}, "content": content, "channel": "shell",
            "buffers": []}))
        return msg_id

    def receive(self, seconds: float) -> list[dict]:
        import websocket

        messages, deadline = [], time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.ws.settimeout(max(0.05, deadline - time.monotonic()))
            try:
                raw = self.ws.recv()
            except websocket.WebSocketTimeoutException:
                break
            if isinstance(raw, bytes):
                raw = raw.decode("utf-8", "replace")
            try:
                messages.append(json.loads(raw))
            except ValueError:
                messages.append({"raw": raw})
        return messages

    def comm(self, comm_id: str, data: dict) -> None:
        self.send("comm_msg", {"comm_id": comm_id, "data": data})

    def close(self) -> None:
        self.ws.close()


def test_forged_widget_message_gets_nothing(served, secret, browser, university):
    sockets: list[str] = []
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.on("websocket", lambda ws: sockets.append(ws.url))
    page.goto(link(served, secret), wait_until="domcontentloaded", timeout=120_000)
    page.locator(LEADER_TITLE).wait_for(timeout=60_000)
    # the page is complete (figure, workshop section): the kernel answers at once now
    page.locator("img.wb-figure").wait_for(timeout=60_000)
    page.locator(".wb-workshop").wait_for(timeout=60_000)
    kernel_url = next(u for u in sockets if "/api/kernels/" in u)
    forger = KernelSocket(kernel_url)
    try:
        # find the unit dropdown the way an attacker would: list the comms, ask for states
        forger.send("comm_info_request", {"target_name": "jupyter.widget"})
        replies = forger.receive(3)
        comms = next(m["content"]["comms"] for m in replies
                     if m.get("header", {}).get("msg_type") == "comm_info_reply")
        for comm_id in comms:
            forger.comm(comm_id, {"method": "request_state"})
        states = {m["content"]["comm_id"]: m["content"]["data"].get("state", {})
                  for m in forger.receive(5)
                  if m.get("header", {}).get("msg_type") == "comm_msg"}
        unit_dropdown = next(c for c, s in states.items()
                             if s.get("_model_name") == "DropdownModel"
                             and "Institutt for fysikk" in s.get("_options_labels", ()))
        sibling = university.hierarchy("2021").name(SIBLING)
        sibling_means = [number(m, "nb") for m in
                         stats_table(university, wave="2021", unit=SIBLING)["mean"]]
        own_means = {number(m, "nb") for m in
                     stats_table(university, wave="2021", unit=UNIT)["mean"]}
        sibling_means = [m for m in sibling_means if m not in own_means]
        forged = [
            {"method": "update", "state": {"index": 999}, "buffer_paths": []},
            {"method": "update", "state": {"index": -5}, "buffer_paths": []},
            {"method": "update", "state": {"value": SIBLING, "label": sibling},
             "buffer_paths": []},
        ]
        before = body_text(page)
        for data in forged:
            forger.comm(unit_dropdown, data)
        answers = [m for m in forger.receive(4)
                   if m.get("content", {}).get("data", {}).get("method") != "echo_update"]
        answered = json.dumps(answers, ensure_ascii=False)
        assert sibling not in answered
        leaked = [m for m in sibling_means if m in answered]
        assert not leaked, f"numbers of {SIBLING} reached the socket: {leaked}"
        assert body_text(page) == before  # nothing was drawn for the forged messages
        assert sibling not in before
        # the same channel does work: a subunit inside the grant is drawn
        forger.comm(unit_dropdown, {"method": "update", "state": {"index": 1},
                                    "buffer_paths": []})
        child = university.hierarchy("2021").name(university.hierarchy("2021").children(UNIT)[0])
        page.locator(f".widget-html h2:has-text('Resultater for {child}')").wait_for(timeout=30_000)
    finally:
        forger.close()
    assert sibling not in body_text(page)
    no_respondent_rows(page, *[u.split("?t=")[-1] for u in sockets])
    page.close()


# ---------------------------------------------------------------------------------------------
# the analyst server's other pages: the index, the handouts page and its files


def test_analyst_index_works_offline(served, browser):
    page, outside = open_page(browser, served.analyst(""))
    page.get_by_text("explorer.ipynb").wait_for(timeout=60_000)
    screenshot(page, "analyst-index.png")
    assert outside == [], f"requests to other hosts: {outside}"
    page.close()
    # the page as served links nothing outside this machine (Voila's own page links
    # font-awesome on a CDN)
    with urllib.request.urlopen(served.analyst(""), timeout=60) as answer:
        html = answer.read().decode("utf-8")
    assert "https://" not in html and "font-awesome" not in html


def handouts_folder():
    from workbench.access import workbench_folder

    return workbench_folder(SAMPLES / "university") / "handouts"


def test_handouts_route_serves_that_folder_only(served, browser):
    folder = handouts_folder()
    (folder / "TEST-UNIT").mkdir(parents=True, exist_ok=True)
    made = folder / "TEST-UNIT" / "handout-2021-nb.html"
    made.write_text("<p>handout</p>", encoding="utf-8")
    (folder / "TEST-UNIT" / ".handout-2021-nb.pdf.part").write_bytes(b"%PDF half")
    (folder / "TEST-UNIT" / "notes.txt").write_text("not a handout", encoding="utf-8")
    try:
        page, _ = open_page(browser, served.analyst(""))  # logs in: the token's cookie
        base = served.url + "workbench/handouts/TEST-UNIT/"
        answer = page.request.get(base + "handout-2021-nb.html")
        assert answer.status == 200 and answer.text() == "<p>handout</p>"
        assert answer.headers["content-type"].startswith("text/html")
        for name in (".handout-2021-nb.pdf.part", "notes.txt", "../../survey.yaml",
                     "%2e%2e/%2e%2e/survey.yaml"):
            assert page.request.get(base + name).status == 404, name
        page.close()
        # without the token's cookie: the login page, not the file
        fresh = browser.new_context()
        answer = fresh.request.get(base + "handout-2021-nb.html", max_redirects=0)
        assert answer.status == 302 and "/login" in answer.headers["location"]
        fresh.close()
    finally:
        for path in sorted((folder / "TEST-UNIT").iterdir()):
            path.unlink()
        (folder / "TEST-UNIT").rmdir()


def test_handouts_page_links_open_the_files(served, browser, university):
    page, outside = open_page(browser, served.analyst("voila/render/handouts.ipynb"))
    units = page.locator(".widget-dropdown select").first
    units.wait_for(timeout=120_000)
    labels = units.evaluate("s => [...s.options].map(o => o.textContent)")
    assert len(labels) == len(university.hierarchy("2021"))
    assert any(option("ingen rapport (færre enn 5 svar)") in label for label in labels)
    assert not any("for få svar" in label for label in labels)
    label = next(label for label in labels if label.strip("\u2003").startswith(
        option("Institutt for fysikk")))
    units.select_option(label=label)
    page.get_by_text("Lag utdelingsark / Make the handout").click()
    page.locator(".wb-handout-links a").first.wait_for(timeout=240_000)
    screenshot(page, "handouts-page.png")
    links = page.eval_on_selector_all(".wb-handout-links a", "els => els.map(e => e.href)")
    assert [urlsplit(u).path for u in links] == [
        "/workbench/handouts/NV-FYS/handout-2021-nb.html",
        "/workbench/handouts/NV-FYS/handout-2021-nb.pdf"]
    html = page.request.get(links[0])
    assert html.status == 200 and "Institutt for fysikk" in html.text()
    assert university.hierarchy("2021").name(SIBLING) not in html.text()
    pdf = page.request.get(links[1])
    assert pdf.status == 200 and pdf.body().startswith(b"%PDF")
    # and a click opens it (a new tab with the handout, not a 404)
    with page.context.expect_page() as opened:
        page.locator(".wb-handout-links a").first.click()
    tab = opened.value
    tab.wait_for_load_state()
    assert "Institutt for fysikk" in tab.content() and "404" not in tab.title()
    tab.close()
    assert outside == [], f"requests to other hosts: {outside}"
    page.close()
