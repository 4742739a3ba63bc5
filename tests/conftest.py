"""Shared fixtures: repository paths and a tiny dataset builder."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "data_samples"
REALDATA = ROOT.parent / "shared" / "realdata"


@pytest.fixture
def tiny_dataset(tmp_path: Path):
    """Write a small valid tifaktor dataset; keyword arguments replace whole files."""

    def make(**files: str) -> Path:
        from workbench.instrument import load_instrument

        items = load_instrument("tifaktor").item_ids
        header = ",".join(["respondent_id", "wave", "unit_id", *items])
        rows = [f"r{i},2021,{'S1' if i < 6 else 'S2'}," + ",".join(["4"] * len(items))
                for i in range(10)]
        defaults = {
            "survey.yaml": "name: Tiny\ninstrument: tifaktor\nwaves: [2021]\n",
            "units.csv": "unit_id,parent_id,name\nK,,Kommune\nS1,K,Skole\nS2,K,Barnehage\n",
            "headcount.csv": "wave,unit_id,invited\n2021,S1,8\n2021,S2,5\n",
            "responses.csv": header + "\n" + "\n".join(rows) + "\n",
        }
        defaults.update({k.replace("__", "."): v for k, v in files.items()})
        for name, text in defaults.items():
            if text is not None:
                (tmp_path / name).write_text(text, encoding="utf-8")
        return tmp_path

    return make


ARTIFACTS = ROOT / "artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"]


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright (no browser download)."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: run 'make test' (it installs Debian's chromium)")
    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield instance
        instance.close()


@pytest.fixture
def serve():
    """Start ``workbench serve DATASET`` on a free port; yield its base URL; stop it."""
    import subprocess
    import sys
    import time
    import urllib.request

    procs = []

    def start(dataset: Path, timeout: float = 90) -> str:
        port = free_port()
        log = open(ARTIFACTS.joinpath(f"serve-{port}.log"), "w")
        proc = subprocess.Popen([sys.executable, "-m", "workbench.cli", "serve", str(dataset),
                                 "--port", str(port)], stdout=log, stderr=subprocess.STDOUT)
        procs.append(proc)
        url = f"http://127.0.0.1:{port}/"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                pytest.fail(f"workbench serve exited with {proc.returncode}; see {log.name}")
            try:
                urllib.request.urlopen(url, timeout=2)
                return url
            except OSError:
                time.sleep(0.5)
        pytest.fail(f"workbench serve did not answer on {url} within {timeout} s")

    ARTIFACTS.mkdir(exist_ok=True)
    yield start
    for proc in procs:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="session")
def university():
    """The university sample, loaded once for the whole run (a Survey never changes)."""
    from workbench.validate import load_survey

    return load_survey(SAMPLES / "university")


@pytest.fixture(scope="session")
def municipality():
    """The municipality sample, loaded once for the whole run."""
    from workbench.validate import load_survey

    return load_survey(SAMPLES / "municipality")
