"""The ``workbench`` command line (see ``DESIGN.md``, "Command line").

A user mistake gives one clear line on stderr and exit code 2 (1 for ``validate`` when the
dataset has problems), never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Sequence

from workbench.errors import UsageError, WorkbenchError

__all__ = ["main", "build_parser", "default_samples_dir"]


def default_samples_dir() -> Path:
    """``data_samples/`` of the checkout the package runs from, else of the working folder."""
    checkout = Path(__file__).resolve().parent.parent / "data_samples"
    return checkout if checkout.is_dir() else Path("data_samples")


def _cmd_samples(args: argparse.Namespace) -> int:
    from workbench.samples import write_samples

    out = Path(args.out) if args.out else default_samples_dir()
    manifest = write_samples(out, seed=args.seed)
    for entry in manifest["files"]:
        print(f"{out / entry['path']}  {entry['rows']} rows  sha256 {entry['sha256'][:12]}")
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    from workbench.validate import validate_dataset, write_quarantine

    result = validate_dataset(args.dataset)
    report = result.report
    if args.json:
        print(report.as_json(args.lang))
    else:
        for line in report.lines(args.lang):
            print(line)
    if args.quarantine:
        n = write_quarantine(result, args.quarantine)
        print(f"{n} rejected row(s) written to {args.quarantine}", file=sys.stderr)
    return report.exit_code


def _release(path: str):
    """The release of a dataset folder (built, or reused when fresh) or a release folder;
    say so when the dataset had rejected rows."""
    from workbench.release import open_release

    release = open_release(path)
    rejected = int(release.manifest.get("rows", {}).get("rejected", 0))
    if rejected:
        print(f"note: {rejected} row(s) were rejected; run 'workbench validate "
              f"{release.manifest.get('dataset', path)}' to see why", file=sys.stderr)
    return release


def _load(dataset: str):
    """Load a dataset for the commands that need respondent rows; say so when rows were
    rejected."""
    from workbench.validate import load_survey

    survey = load_survey(dataset)
    rejected = sum(f.rejected for f in survey.report.files)
    if rejected:
        print(f"note: {rejected} row(s) were rejected; run 'workbench validate {dataset}' to see "
              "why", file=sys.stderr)
    return survey


def _json_records(table) -> str:
    """The table as a JSON list of records with the very values CSV writes (a p-value of
    1e-15 stays 1e-15; missing values are null)."""
    import json
    import math

    import pandas as pd

    def plain(value):
        if value is None or value is pd.NA:
            return None
        if hasattr(value, "item"):
            value = value.item()
        if isinstance(value, float) and not math.isfinite(value):
            return None
        return value

    records = [{k: plain(v) for k, v in row.items()}
               for row in table.astype(object).to_dict("records")]
    return json.dumps(records, ensure_ascii=False, indent=1)


def _emit(table, fmt: str, out: str | None) -> int:
    """Write a table as CSV or JSON to ``out`` or stdout."""
    rounded = table.copy()
    for column in rounded.columns:
        if rounded[column].dtype.kind == "f" and column not in ("p", "p_adj"):
            digits = 2 if column.startswith("pct_") or column == "top_box" else 4
            rounded[column] = rounded[column].round(digits)
    if fmt == "json":
        text = _json_records(rounded)
    else:
        text = rounded.to_csv(index=False, lineterminator="\n")
    if out:
        Path(out).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return 0


def _cmd_release(args: argparse.Namespace) -> int:
    from workbench.release import CACHE, build_release, write_release

    survey = _load(args.dataset)
    started = time.perf_counter()
    release = build_release(survey)
    # the build time is said here, never published: it depends on the hidden data
    seconds = time.perf_counter() - started
    out = Path(args.out) if args.out else Path(args.dataset) / CACHE
    write_release(release, out)
    m = release.manifest
    utility = m["utility"]
    print(f"release of {len(release.waves)} wave(s) written to {out} in {seconds:.2f} s")
    for table, counts in m["hidden"].items():
        hidden = ", ".join(f"{k} {v}" for k, v in counts.items() if k != "published")
        print(f"  {table}: {counts.get('published', 0)} published"
              + (f"; hidden: {hidden}" if hidden else ""))
    print(f"  factor cells with at least {release.policy.min_n} persons published: "
          f"{utility['factor_cells_published']} of {utility['factor_cells_eligible']} "
          f"({100 * utility['factor_cells_published_share']:.1f} %); units of 20+ answers "
          f"wholly hidden: {utility['large_units_wholly_hidden']}")
    audit = m["audit"]
    print(f"  audit: {'nothing can be isolated' if audit['ok'] else 'FINDINGS ' + str(audit)}")
    return 0 if audit["ok"] else 1


def _cmd_audit(args: argparse.Namespace) -> int:
    from workbench.privacy import audit

    release = _release(args.release)
    found = audit(release.tables, release.policy)
    if found.empty:
        print(f"audit of {release.path or args.release}: no published number lets anyone isolate "
              f"fewer than {release.policy.min_n} persons ({len(release.waves)} wave(s), "
              f"every table read together)")
        return 0
    _emit(found, args.format, None)
    print(f"{len(found)} finding(s)", file=sys.stderr)
    return 1


def _cmd_stats(args: argparse.Namespace) -> int:
    from workbench.stats import stats_table

    release = _release(args.dataset)
    table = stats_table(release, wave=args.wave, level=args.level, by=args.by, unit=args.unit,
                        lang=args.lang or release.config.language)
    return _emit(table, args.format, args.out)


def _cmd_compare(args: argparse.Namespace) -> int:
    from workbench.compare import compare

    release = _release(args.dataset)
    table = compare(release, args.unit, args.against, wave=args.wave, threshold=args.threshold,
                    lang=args.lang or release.config.language)
    return _emit(table, args.format, args.out)


def _cmd_reliability(args: argparse.Namespace) -> int:
    from workbench.stats import check_wave

    release = _release(args.dataset)
    table = release.tables["reliability"]
    waves = check_wave(release, args.wave)
    table = table.loc[table["wave"].astype(str).isin(waves)].reset_index(drop=True)
    return _emit(table, args.format, args.out)


def _cmd_serve(args: argparse.Namespace) -> int:
    from workbench.apps.serving import serve

    dataset = Path(args.dataset) if args.dataset else default_samples_dir() / "university"
    return serve(dataset, port=args.port, host=args.host, leader_port=args.leader_port,
                 pool_size=args.pool_size)


def _cmd_links(args: argparse.Namespace) -> int:
    from workbench.access import ensure_secret, links_table, secret_path

    release = _release(args.dataset)
    secret = ensure_secret(secret_path(args.dataset, args.secret))
    table = links_table(release, secret, args.base_url, wave=args.wave, days=args.days)
    text = table.to_csv(index=False, lineterminator="\n")
    if args.out:
        out = Path(args.out)
        if out.is_dir():
            raise UsageError(f"--out {out} is a folder; give a file name such as links.csv")
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # links are keys
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        print(f"{len(table)} link(s) written to {out}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def _dataset_folder(path: str) -> Path:
    """A dataset (or release) folder that exists; the store lives inside it. (Checked by its
    files, without importing the release module: export starts fast.)"""
    folder = Path(path)
    if not ((folder / "survey.yaml").is_file() or (folder / "manifest.json").is_file()):
        raise UsageError(f"{folder} is neither a dataset folder (with survey.yaml) nor a release "
                         f"folder (with manifest.json)")
    return folder


def _cmd_workshop_import(args: argparse.Namespace) -> int:
    from workbench.actionplan import import_actions
    from workbench.workshop import Access, open_store

    folder = _dataset_folder(args.dataset)
    path = Path(args.file)
    release = _release(args.dataset)
    with open_store(folder) as store:
        report = import_actions(store, path, release,
                                access=Access.command(f"import {path.name}"), lang=args.lang)
    for line in report.lines(args.lang):
        print(line)
    return report.exit_code


def _cmd_workshop_export(args: argparse.Namespace) -> int:
    from workbench.actionplan import export_actions
    from workbench.workshop import open_store

    folder = _dataset_folder(args.dataset)
    if args.format == "xlsx" and not args.out:
        raise UsageError("--format xlsx needs --out FILE (a workbook is not text for the "
                         "terminal)")
    with open_store(folder) as store:
        count, content = export_actions(store, out=args.out, wave=args.wave, unit=args.unit,
                                        fmt=args.format)
        hint = ""
        if not count and args.unit:  # a misspelt unit: the closest one that has actions
            from workbench.io import closest

            close = closest(args.unit, {a.unit_id for a in store.actions(wave=args.wave)})
            hint = f"; did you mean {close[0]!r}?" if close else ""
    if args.out:
        print(f"{count} action(s) written to {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(content)
    if not count:
        what = " ".join(f"{k} {v}" for k, v in (("wave", args.wave), ("unit", args.unit)) if v)
        print(f"note: no actions recorded{' for ' + what if what else ''}{hint}",
              file=sys.stderr)
    return 0


def _cmd_followup(args: argparse.Namespace) -> int:
    from workbench.followup import followup
    from workbench.workshop import open_store

    folder = _dataset_folder(args.dataset)
    release = _release(args.dataset)
    # an org lineage (successors.csv), when the release offers one, says which unit(s) of
    # the previous wave this unit continues; otherwise the same unit id
    lineage = getattr(release, "lineage", None)
    predecessors = lineage() if callable(lineage) else None
    with open_store(folder) as store:
        table = followup(release, store, args.unit, args.wave, predecessors=predecessors,
                         lang=args.lang or release.config.language,
                         threshold=args.threshold)
    if table.empty:
        print(f"note: no actions recorded for {args.unit} in the wave before "
              f"{args.wave or release.waves[-1]}", file=sys.stderr)
    return _emit(table, args.format, args.out)


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The argument parser with one sub-command per task.

    With ``argv`` given and no ``handouts`` in it, the handouts sub-command is a stand-in
    (same name and help line) so that ``workbench --help`` and the other commands start
    without importing the handout machinery (matplotlib, pandas, scipy).
    """
    parser = argparse.ArgumentParser(
        prog="workbench",
        description="Open workbench for employee-survey results (validate, score, protect, "
                    "present).")
    parser.add_argument("--version", action="version", version="workbench 0.1.0")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("samples", help="write the bundled sample datasets (seeded)")
    p.add_argument("--out", help="folder to write into (default: data_samples/)")
    p.add_argument("--seed", type=int, default=20261122, help=argparse.SUPPRESS)
    p.set_defaults(func=_cmd_samples)

    p = sub.add_parser("validate", help="check a dataset folder; exit 0 clean, 1 problems, "
                                        "2 unusable")
    p.add_argument("dataset", help="dataset folder (with survey.yaml)")
    p.add_argument("--json", action="store_true", help="report as JSON")
    p.add_argument("--quarantine", metavar="FILE", help="write the rejected rows to FILE (CSV)")
    p.add_argument("--lang", choices=("en", "nb"), default="en", help="language of messages")
    p.set_defaults(func=_cmd_validate)

    def output_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--format", choices=("csv", "json"), default="csv")
        p.add_argument("--out", metavar="FILE", help="write to FILE instead of the terminal")
        p.add_argument("--lang", choices=("nb", "en"),
                       help="language of names and verdicts (default: survey.yaml)")

    p = sub.add_parser("release", help="build, audit and write the release: every published "
                                       "table, protected together")
    p.add_argument("dataset", help="dataset folder (with survey.yaml)")
    p.add_argument("--out", metavar="DIR",
                   help="release folder (default: DATASET/.workbench/release)")
    p.set_defaults(func=_cmd_release)

    p = sub.add_parser("audit", help="re-run the attacker on a release: can any set of fewer "
                                     "than min_n persons be isolated?")
    p.add_argument("release", help="release folder (or a dataset folder: its release)")
    p.add_argument("--format", choices=("csv", "json"), default="csv")
    p.set_defaults(func=_cmd_audit)

    p = sub.add_parser("stats", help="the published statistics table (privacy rules applied)")
    p.add_argument("dataset", help="dataset or release folder")
    p.add_argument("--unit", help="one unit (its whole subtree as one group)")
    p.add_argument("--wave", help="one wave (default: all)")
    p.add_argument("--level", choices=("factor", "item"), default="factor")
    p.add_argument("--by", metavar="VAR", help="a background variable (allowed levels only)")
    output_options(p)
    p.set_defaults(func=_cmd_stats)

    p = sub.add_parser("compare", help="test a unit against its parent, benchmark, previous "
                                       "wave or siblings")
    p.add_argument("dataset", help="dataset or release folder")
    p.add_argument("--unit", required=True)
    p.add_argument("--wave", help="wave (default: the last)")
    p.add_argument("--against", required=True,
                   choices=("parent", "benchmark", "previous", "siblings"))
    p.add_argument("--threshold", type=float, default=0.2,
                   help="smallest difference (points) called real (default 0.2)")
    output_options(p)
    p.set_defaults(func=_cmd_compare)

    p = sub.add_parser("reliability", help="Cronbach's alpha per factor and wave")
    p.add_argument("dataset")
    p.add_argument("--wave", help="one wave (default: all)")
    output_options(p)
    p.set_defaults(func=_cmd_reliability)

    p = sub.add_parser("links", help="signed leader links for every published unit (CSV)")
    p.add_argument("dataset")
    p.add_argument("--base-url", required=True,
                   help="address of the leader server, e.g. http://127.0.0.1:8867/")
    p.add_argument("--out", metavar="FILE", help="write to FILE (owner-only) instead of the "
                                                 "terminal")
    p.add_argument("--wave", help="wave (default: the last)")
    p.add_argument("--days", type=float, default=60, help="days the links are valid (default 60)")
    p.add_argument("--secret", metavar="FILE",
                   help="secret file (default: DATASET/.workbench/secret, made when missing)")
    p.set_defaults(func=_cmd_links)

    if argv is None or "handouts" in argv:
        from workbench.handouts.command import add_parser as add_handouts_parser

        add_handouts_parser(sub)  # workbench handouts: see workbench/handouts/command.py
    else:  # lazy: the real parser is built when the command line names it
        sub.add_parser("handouts", help="workshop handouts (HTML, PDF, PPTX, XLSX) for one unit "
                                        "or every published unit")

    p = sub.add_parser("workshop", help="the workshop store: import or export action plans")
    p.add_argument("dataset", help="dataset folder (the store: DATASET/.workbench/"
                                   "workshop.sqlite, or $WORKBENCH_DB)")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    q = actions.add_parser("import", help="import actions.csv or a filled-in handout XLSX; exit "
                                          "0 all rows imported, 1 rows rejected, 2 unusable")
    q.add_argument("file", help="actions.csv or a handout workbook (.xlsx)")
    q.add_argument("--lang", choices=("en", "nb"), default="en", help="language of messages")
    q.set_defaults(func=_cmd_workshop_import)
    q = actions.add_parser("export", help="write the action plans as actions.csv or XLSX")
    q.add_argument("--wave", help="one wave (default: all)")
    q.add_argument("--unit", help="one unit (default: all)")
    q.add_argument("--format", choices=("csv", "xlsx"), default="csv")
    q.add_argument("--out", metavar="FILE", help="write to FILE instead of the terminal")
    q.set_defaults(func=_cmd_workshop_export)

    p = sub.add_parser("followup", help="a unit's actions of the previous wave beside the "
                                        "factor's published change and its finding")
    p.add_argument("dataset", help="dataset or release folder")
    p.add_argument("--unit", required=True)
    p.add_argument("--wave", help="the wave of the new results (default: the last)")
    p.add_argument("--threshold", type=float, default=0.2,
                   help="smallest difference (points) called real (default 0.2)")
    output_options(p)
    p.set_defaults(func=_cmd_followup)

    p = sub.add_parser("serve", help="serve the apps with Voila: analysts behind a token, "
                                     "leader pages by signed link")
    p.add_argument("dataset", nargs="?", help="dataset folder (default: the university sample)")
    p.add_argument("--port", type=int, default=8866, help="analyst server (default 8866)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--leader-port", type=int, help="leader server (default: --port + 1)")
    p.add_argument("--pool-size", type=int, default=2,
                   help="preheated kernels waiting for leader pages (default 2)")
    p.set_defaults(func=_cmd_serve)
    _own_parser(parser)
    return parser


def _own_parser(parser: argparse.ArgumentParser) -> None:
    """Let every (sub-)command know its own parser (``args._parser``), so that a misspelt
    option gets that command's usage line, not the top level's."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                child.set_defaults(_parser=child)
                _own_parser(child)


def _unrecognized(parser: argparse.ArgumentParser, extra: Sequence[str]) -> None:
    """The command's own usage error for arguments it does not know, with the closest
    option where one is near (``--unti`` -> ``--unit``); exits 2."""
    from workbench.io import closest

    options = [o for o in parser._option_string_actions if o.startswith("--")]
    hint = ""
    for word in extra:
        close = closest(word.split("=")[0], options)
        if word.startswith("-") and close:
            hint = f" (did you mean {close[0]}?)"
            break
    parser.error(f"unrecognized arguments: {' '.join(extra)}{hint}")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(argv)
    try:
        args, extra = parser.parse_known_args(argv)
        if extra:
            _unrecognized(getattr(args, "_parser", parser), extra)
    except SystemExit as exc:  # argparse already printed one line of usage error
        return int(exc.code or 0) if exc.code in (0, None) else 2
    try:
        return args.func(args)
    except WorkbenchError as exc:
        print(f"workbench {args.command}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # e.g. 'workbench stats ... | head': the reader has what it wants
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except OSError as exc:  # a path the user gave that cannot be written (or read): one line
        where = exc.filename if exc.filename is not None else "a file"
        print(f"workbench {args.command}: error: cannot use {where} ({exc.strerror or exc}); "
              "choose a path in a folder you can write to", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
