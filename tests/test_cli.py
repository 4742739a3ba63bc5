import json
import subprocess
import sys

from workbench.cli import main


def test_validate_exit_codes(tiny_dataset, capsys):
    folder = tiny_dataset()
    assert main(["validate", str(folder)]) == 0
    assert "OK: the dataset is clean" in capsys.readouterr().out
    (folder / "units.csv").write_text("unit_id,parent_id,name\nK,S1,Kommune\nS1,K,Skole\n")
    assert main(["validate", str(folder), "--json"]) == 2
    data = json.loads(capsys.readouterr().out)
    assert data["exit_code"] == 2
    assert "units.csv, row 2, column parent_id: unit 'K' is its own ancestor" in \
        data["problems"][0]["message"]


def test_quarantine(tiny_dataset, tmp_path, capsys):
    folder = tiny_dataset()
    path = folder / "responses.csv"
    path.write_text(path.read_text().replace("r4,2021,S1,4", "r4,2021,S1,x"))
    out = tmp_path / "q.csv"
    assert main(["validate", str(folder), "--quarantine", str(out)]) == 1
    text = out.read_text()
    assert text.splitlines()[0].startswith("file,row,problems,respondent_id")
    assert "responses.csv,6," in text and "value 'x' is not a valid answer" in text


def test_usage_errors_are_one_line(tmp_path):
    for argv in (["validate"], ["frobnicate"], ["serve", str(tmp_path)]):
        run = subprocess.run([sys.executable, "-m", "workbench.cli", *argv],
                             capture_output=True, text=True)
        assert run.returncode == 2, argv
        assert "Traceback" not in run.stderr
    run = subprocess.run([sys.executable, "-m", "workbench.cli", "serve", str(tmp_path)],
                         capture_output=True, text=True)
    assert run.stderr.count("\n") == 1 and "survey.yaml" in run.stderr


def test_nb_messages(tiny_dataset, capsys):
    folder = tiny_dataset(headcount__csv="wave,unit_id,invited\n2021,S1,8\n")
    assert main(["validate", str(folder), "--lang", "nb"]) == 0  # answers kept, N unknown
    out = capsys.readouterr().out
    assert "enheten 'S2' har 4 svar i runde 2021, men ingen rad i headcount.csv" in out


def test_help_starts_without_pandas_or_scipy():
    """``workbench --help`` and the parser of a statistics command import neither pandas nor
    scipy: start-up stays well under half a second."""
    code = ("import sys\nfrom workbench.cli import main\n"
            "for argv in (['--help'], ['stats', '--help']):\n"
            "    try:\n        main(argv)\n    except SystemExit:\n        pass\n"
            "print(sorted(m for m in ('pandas', 'scipy', 'numpy', 'matplotlib') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]"
    assert "handouts" in out.stdout  # the stand-in lists the command


def test_handouts_help_is_the_real_parser(capsys):
    assert main(["handouts", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--all" in out and "--format" in out


def test_a_path_that_cannot_be_written_is_one_line(tiny_dataset, tmp_path):
    # a newcomer (helper-19): an --out into a missing folder, or onto a file, was a traceback
    folder = tiny_dataset()
    (tmp_path / "afile").write_text("")
    for argv in (["stats", str(folder), "--out", str(tmp_path / "nodir" / "x.csv")],
                 ["release", str(folder), "--out", str(tmp_path / "afile")],
                 ["handouts", str(folder), "--unit", "K", "--format", "html",
                  "--out", str(tmp_path / "afile")]):
        run = subprocess.run([sys.executable, "-m", "workbench.cli", *argv],
                             capture_output=True, text=True)
        assert run.returncode == 2, argv
        assert "Traceback" not in run.stderr and run.stderr.count("\n") == 1, run.stderr
        assert "folder you can write to" in run.stderr


def test_validate_given_a_file_asks_for_the_folder(tiny_dataset, capsys):
    folder = tiny_dataset()
    assert main(["validate", str(folder / "responses.csv")]) == 2
    assert "this is a file; give the dataset folder" in capsys.readouterr().out


def test_a_misspelt_option_or_unit_gets_the_commands_own_help(tiny_dataset, capsys):
    # a newcomer (helper-19): '--unti' got the top level's usage and no hint; 's1' no hint
    folder = tiny_dataset()
    assert main(["stats", str(folder), "--unti", "S1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: workbench stats")
    assert "unrecognized arguments: --unti S1 (did you mean --unit?)" in err
    assert main(["validate", str(folder), "--quaratine", "q.csv"]) == 2
    assert "(did you mean --quarantine?)" in capsys.readouterr().err
    assert main(["stats", str(folder), "--unit", "s1"]) == 2
    assert "unit 's1' is not in the hierarchy of wave 2021; did you mean S1" in \
        capsys.readouterr().err


def test_handouts_for_one_unit_say_where_the_files_are(tiny_dataset, tmp_path, capsys):
    folder = tiny_dataset()
    assert main(["handouts", str(folder), "--unit", "K", "--format", "html", "--lang", "nb",
                 "--out", str(tmp_path / "out"), "--quiet"]) == 0
    path = tmp_path / "out" / "K" / "handout-2021-nb.html"
    assert path.exists() and f"workbench handouts: written {path}" in capsys.readouterr().err
