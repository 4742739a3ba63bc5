"""Shared fixtures: repository paths and a tiny dataset builder."""

from __future__ import annotations

from dataclasses import dataclass
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


class ServeProcesses:
    """``workbench serve`` processes started by tests (two Voila servers each), stopped at the end.

    ``start`` returns a :class:`Served` once both servers answer and the leader server's
    preheated kernels are ready.
    """

    def __init__(self, folder: Path):
        self.folder = folder
        self.procs: list = []

    def start(self, dataset: Path, timeout: float = 120, pool_size: int = 2) -> "Served":
        import os
        import secrets
        import subprocess
        import sys
        import time
        import urllib.request

        port = free_port()
        leader_port = free_port()
        while leader_port == port:
            leader_port = free_port()
        token = secrets.token_urlsafe(16)
        secret = self.folder / f"secret-{port}"
        env = dict(os.environ, WORKBENCH_TOKEN=token, WORKBENCH_SECRET_FILE=str(secret))
        log_path = ARTIFACTS / f"serve-{port}.log"
        log = open(log_path, "w")
        proc = subprocess.Popen([sys.executable, "-m", "workbench.cli", "serve", str(dataset),
                                 "--port", str(port), "--leader-port", str(leader_port),
                                 "--pool-size", str(pool_size)],
                                stdout=log, stderr=subprocess.STDOUT, env=env)
        self.procs.append(proc)
        served = Served(url=f"http://127.0.0.1:{port}/", token=token,
                        leader=f"http://127.0.0.1:{leader_port}/", secret=secret,
                        log=log_path)
        deadline = time.monotonic() + timeout
        waiting = [served.analyst(), served.leader + "voila/static/voila.js"]
        while waiting or "Kernel pool of leader.ipynb is filled" not in log_path.read_text():
            if proc.poll() is not None:
                pytest.fail(f"workbench serve exited with {proc.returncode}; see {log_path}")
            if time.monotonic() > deadline:
                pytest.fail(f"workbench serve was not ready within {timeout} s; see {log_path}")
            try:
                if waiting:
                    urllib.request.urlopen(waiting[0], timeout=2)
                    waiting.pop(0)
                    continue
            except OSError:
                pass
            time.sleep(0.5)
        return served

    def stop(self) -> None:
        import subprocess

        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()


@dataclass(frozen=True)
class Served:
    """A running ``workbench serve``: the analyst server (behind ``token``) and the leader
    server, whose kernels verify links with the secret in ``secret``."""

    url: str
    token: str
    leader: str
    secret: Path
    log: Path

    def analyst(self, path: str = "") -> str:
        """An analyst-server address with the token, e.g. ``analyst("voila/render/x.ipynb")``."""
        return f"{self.url}{path}?token={self.token}"


@pytest.fixture
def serve(tmp_path):
    """Start ``workbench serve DATASET`` on free ports; yield ``start(dataset) -> Served``."""
    ARTIFACTS.mkdir(exist_ok=True)
    processes = ServeProcesses(tmp_path)
    yield processes.start
    processes.stop()


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


@pytest.fixture(scope="session")
def university_release():
    """The university sample's release (DATASET/.workbench/release, built once when missing)."""
    from workbench.release import open_release

    return open_release(SAMPLES / "university")


@pytest.fixture(scope="session")
def municipality_release():
    """The municipality sample's release."""
    from workbench.release import open_release

    return open_release(SAMPLES / "municipality")
