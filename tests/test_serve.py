"""``workbench serve``: the release it serves, what its kernels get, the overview in a browser."""

import re
from pathlib import Path

import pytest
from conftest import ARTIFACTS, SAMPLES

from workbench.access import SECRET_ENV
from workbench.apps._common import DATASET_ENV, RELEASE_ENV
from workbench.apps.serving import kernel_env, release_folder, voila_commands
from workbench.errors import UsageError


def test_release_folder_of_a_dataset_and_of_a_release(university_release, monkeypatch):
    monkeypatch.delenv(SECRET_ENV, raising=False)
    dataset = SAMPLES / "university"
    folder, secret = release_folder(dataset)
    assert folder == (dataset / ".workbench" / "release").resolve()
    assert secret == (dataset / ".workbench" / "secret").resolve()
    # the same release folder, given as it is: the same secret (the dataset's)
    assert release_folder(folder) == (folder, secret)
    with pytest.raises(UsageError, match="neither a dataset folder"):
        release_folder(SAMPLES)


def test_kernels_get_the_release_never_the_dataset(tmp_path, monkeypatch):
    monkeypatch.setenv(DATASET_ENV, str(SAMPLES / "university"))
    monkeypatch.setenv("QUERY_STRING", "t=stolen")
    monkeypatch.setenv("WORKBENCH_TOKEN", "analyst-token")
    env = kernel_env(tmp_path / "release", tmp_path / "secret", tmp_path / "handouts")
    assert env[RELEASE_ENV] == str(tmp_path / "release")
    assert env[SECRET_ENV] == str(tmp_path / "secret")
    assert env["WORKBENCH_HANDOUTS"] == str(tmp_path / "handouts")
    for key in (DATASET_ENV, "QUERY_STRING", "WORKBENCH_TOKEN"):
        assert key not in env
    assert env["ARROW_DEFAULT_MEMORY_POOL"] == "system"
    leader = kernel_env(tmp_path / "release", tmp_path / "secret")
    assert "WORKBENCH_HANDOUTS" not in leader  # the leader server writes no handouts


def test_voila_commands(tmp_path):
    analyst, leader = voila_commands(tmp_path / "nb", 9000, 9001, "127.0.0.1", 3,
                                     tmp_path / "a", tmp_path / "l", tmp_path / "h")
    assert analyst[1:3] == ["-m", "workbench.apps._voila"]
    assert f"--WorkbenchVoila.handouts_dir={tmp_path / 'h'}" in analyst
    assert not any("handouts_dir" in part for part in leader)
    assert "--preheat_kernel=True" in leader and "--pool_size=3" in leader
    # leader kernels forked from one process that has read the release (workbench.apps._fork)
    assert "--KernelProvisionerFactory.default_provisioner_name=workbench-fork" in leader
    assert not any("Provisioner" in part for part in analyst)
    assert str(tmp_path / "nb" / "leader.ipynb") in leader
    for command in (analyst, leader):
        assert "--strip_sources=True" in command and "--show_tracebacks=False" in command
        assert "--template=workbench" in command


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_overview_in_browser_from_a_release_folder(serve, browser, university_release):
    """``workbench serve RELEASE``: the overview of what the release holds."""
    served = serve(Path(university_release.path))
    log = served.log.read_text()
    assert f"Release: {Path(university_release.path).resolve()}" in log
    for pid in _voila_servers(served):
        environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        keys = {item.split(b"=", 1)[0].decode() for item in environ if b"=" in item}
        assert RELEASE_ENV in keys and DATASET_ENV not in keys
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(served.analyst("voila/render/overview.ipynb"), wait_until="domcontentloaded",
              timeout=120_000)
    page.get_by_text("Svarprosent").first.wait_for(timeout=120_000)
    text = page.inner_text("body")
    assert "Eksempeluniversitetet" in text
    for wave in ("2014", "2017", "2019", "2021"):
        assert wave in text
    assert "5 887" in text.replace("\xa0", " ") and "8 201" in text.replace("\xa0", " ")
    assert "Revisjonen fant ingen tall" in text
    page.screenshot(path=ARTIFACTS / "overview-nb.png", full_page=True)
    page.get_by_text("English").click()
    page.get_by_text("Response rate").first.wait_for(timeout=30_000)
    page.screenshot(path=ARTIFACTS / "overview-en.png", full_page=True)
    html = page.content()
    # no respondent ids and no source code reach the page
    assert not re.search(r"\b\d{2}-\d{6}\b", html)
    assert "overview_app(" not in html
    page.close()


def _voila_servers(served) -> list[int]:
    import psutil

    ports = {served.url.rsplit(":", 1)[1].strip("/"), served.leader.rsplit(":", 1)[1].strip("/")}
    found = []
    for process in psutil.process_iter(["cmdline"]):
        line = " ".join(process.info["cmdline"] or [])
        if "workbench.apps._voila" in line and any(f"--port={p}" in line for p in ports):
            found.append(process.pid)
    assert len(found) == 2, found
    return found


def test_no_secret_or_dataset_path_in_the_notebooks():
    for path in (SAMPLES.parent / "notebooks").glob("*.ipynb"):
        text = path.read_text(encoding="utf-8")
        assert "load_survey" not in text and "responses" not in text, path.name
        assert '"outputs": []' in text and "image/png" not in text, path.name
