"""The project's own files install what it needs: pyproject, environment.yml, Makefile, CI."""

import re
import subprocess
import sys
import tomllib
import zipfile

import yaml
from conftest import ROOT


def _name(requirement: str) -> str:
    return re.split(r"[<>=!\[ ]", requirement, maxsplit=1)[0].lower()


def test_environment_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = {_name(r) for r in project["dependencies"] + project["optional-dependencies"]["test"]}
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = {_name(d) for d in env["dependencies"] if isinstance(d, str)}
    assert wanted <= conda | {"pip"}, wanted - conda


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    assert ci.strip().splitlines()[-1] == "make test"
    assert "make test" in (ROOT / "README.md").read_text()
    assert "make app" in (ROOT / "README.md").read_text()


def test_layout():
    for name in ("notebooks", "workbench", "templates", "data_samples", "tests", "benchmarks",
                 "pyproject.toml", "environment.yml", "Makefile", "README.md", ".ci/run"):
        assert (ROOT / name).exists(), name


def test_notebooks_have_no_outputs():
    import nbformat

    for path in (ROOT / "notebooks").glob("*.ipynb"):
        nb = nbformat.read(path, as_version=4)
        assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), path


def test_import_does_no_work():
    import subprocess
    import sys

    code = ("import sys, workbench; "
            "print(sorted(m for m in ('pandas', 'yaml', 'matplotlib', 'ipywidgets') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "matplotlib" not in out.stdout and "ipywidgets" not in out.stdout


def test_a_wheel_carries_the_templates_and_notebooks(tmp_path, monkeypatch):
    """A regular install (no checkout beside the package) finds the handout templates and
    the app notebooks under <prefix>/share/workbench, byte for byte the checkout's."""
    from workbench import _resources
    from workbench.apps.serving import notebooks_dir
    from workbench.handouts import Template

    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w",
                    str(tmp_path), str(ROOT)], check=True, capture_output=True)
    wheel = next(tmp_path.glob("workbench-*.whl"))
    prefix = tmp_path / "prefix"
    with zipfile.ZipFile(wheel) as archive:
        for name in archive.namelist():
            if ".data/data/" in name:
                target = prefix / name.split(".data/data/", 1)[1]
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(archive.read(name))
    monkeypatch.setattr(_resources, "CHECKOUT", tmp_path / "no-checkout")
    monkeypatch.setattr(sys, "prefix", str(prefix))
    share = prefix / "share" / "workbench"
    assert notebooks_dir() == share / "notebooks"
    assert Template.load().folders[0] == share / "templates" / "default"
    for folder, pattern in (("templates/default", "*"), ("notebooks", "*.ipynb")):
        files = sorted((ROOT / folder).glob(pattern))
        assert files
        for path in files:
            assert (share / folder / path.name).read_bytes() == path.read_bytes(), path


def _pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            pins[re.sub(r"[-_.]+", "-", name).lower()] = version
    return pins


def test_constraints_pin_every_dependency_within_its_range():
    """constraints.txt pins each dependency of pyproject.toml (and its test extra) at a
    version inside pyproject's range: the ranges stay for library users, the pins are what
    make app / make test install."""
    from packaging.requirements import Requirement

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = _pins()
    for text in project["dependencies"] + project["optional-dependencies"]["test"]:
        requirement = Requirement(text)
        name = re.sub(r"[-_.]+", "-", requirement.name).lower()
        assert name in pins, f"{name} is not pinned in constraints.txt"
        assert requirement.specifier.contains(pins[name], prereleases=True), (name, pins[name])


def test_make_installs_with_the_constraints_and_ci_checks_them():
    makefile = (ROOT / "Makefile").read_text()
    installs = [line for line in makefile.splitlines() if "pip install" in line]
    assert installs and all("-c $(CONSTRAINTS)" in line for line in installs), installs
    assert "CONSTRAINTS := constraints.txt" in makefile
    test_target = next(line for line in makefile.splitlines() if line.startswith("test:"))
    assert "check-constraints" in test_target  # CI runs 'make test'


def test_the_running_environment_matches_the_pins():
    out = subprocess.run([sys.executable, str(ROOT / ".ci" / "check-constraints.py"),
                          str(ROOT / "constraints.txt")], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
