"""``workbench handouts``: the sub-command (registered by :mod:`workbench.cli`).

It opens the release once (:func:`workbench.release.open_release`: a release folder, or a
dataset folder whose release is reused when fresh and built otherwise); every handout is cut
from it. The handouts show what each unit recorded in its workshop when there is a store
(``$WORKBENCH_DB``, or a dataset folder's ``.workbench/workshop.sqlite``): read once, never
written; without one the worksheets are blank. Exit codes: 0 when every handout was
written, 1 when some unit failed (listed in
``skipped.csv`` and in the summary line), 2 for a usage error such as ``--unit`` on a unit
with no published figure (one clear line, no traceback).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

__all__ = ["add_parser", "run", "workshop_store"]


def workshop_store(source: str | Path):
    """The workshop store the handouts of ``source`` show, or None (blank worksheets).

    ``$WORKBENCH_DB`` when it is set; else the store of a dataset folder
    (``DATASET/.workbench/workshop.sqlite``) when it exists. A release folder has no store
    of its own. The store is only read (and never created here).
    """
    from workbench.workshop import DB_ENV, STORE_PATH, open_store

    if os.environ.get(DB_ENV, "").strip():
        return open_store()
    folder = Path(source)
    if (folder / "survey.yaml").is_file() and (folder / STORE_PATH).is_file():
        return open_store(folder)
    return None


def run(args: argparse.Namespace) -> int:
    from workbench.handouts.batch import make_handouts, parse_formats, parse_langs
    from workbench.release import open_release

    formats = parse_formats(args.format)
    if args.lang:
        parse_langs(args.lang)  # a wrong language is told before a release is built
    release = open_release(args.dataset)
    store = workshop_store(args.dataset)
    try:
        result = make_handouts(release, args.out, units=None if args.all else [args.unit],
                               wave=args.wave, lang=args.lang, formats=formats,
                               template=args.template, jobs=args.jobs,
                               progress=not args.quiet, store=store)
    finally:
        if store is not None:
            store.close()
    if args.all or result.failed:
        print(f"workbench handouts: {result.summary()}", file=sys.stderr)
    else:  # one unit: say where its files are
        for _, paths in result.written:
            for path in paths:
                print(f"workbench handouts: written {path}", file=sys.stderr)
    for unit, error in result.failed:
        print(f"workbench handouts: {unit}: {error}", file=sys.stderr)
    return result.exit_code


def add_parser(sub) -> argparse.ArgumentParser:
    """Add ``handouts`` to the sub-command parsers of ``workbench``."""
    p = sub.add_parser("handouts", help="workshop handouts (HTML, PDF, PPTX, XLSX) for one unit "
                                        "or every published unit")
    p.add_argument("dataset", metavar="DATASET|RELEASE",
                   help="dataset folder (with survey.yaml) or release folder (from 'workbench "
                        "release')")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--unit", help="one unit (its whole subtree)")
    which.add_argument("--all", action="store_true",
                       help="every unit with published figures; the others are listed in "
                            "skipped.csv with the reason")
    p.add_argument("--wave", help="wave (default: the last)")
    p.add_argument("--lang", help="language: nb, en, or both as nb,en (default: survey.yaml)")
    p.add_argument("--format", default="html,pdf,pptx,xlsx",
                   help="comma-separated formats: html,pdf,pptx,xlsx (default: all four)")
    p.add_argument("--out", required=True, metavar="DIR",
                   help="writes DIR/<unit_id>/handout-<wave>-<lang>.<ext> and DIR/skipped.csv")
    p.add_argument("--template", metavar="DIR",
                   help="a template folder (a copy of templates/default, or only the files "
                        "it changes)")
    p.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)
    return p
