"""Handouts for many units at once: one release, a process pool, a report of skips.

:func:`make_handouts` opens the release once, cuts every unit's :class:`Handout` from it and
renders the files in a pool of worker processes (PDF is the slow part). The workers read the
release only: forked, they share the parent's tables (and the views it has already cut);
started afresh, they read the release folder. No process here loads respondent rows. Units
with no published figure get no handout and are listed in ``skipped.csv`` with the privacy
reason of their hidden cells; a unit whose rendering fails is listed there too
(``error: ...``) and does not stop the others.
"""

from __future__ import annotations

import csv
import datetime as _dt
import functools
import gc
import io
import math
import multiprocessing
import os
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Sequence

from workbench.errors import UsageError
from workbench.handouts._tables import as_release, check_handout, handout_units, wave_of
from workbench.handouts._template import Template
from workbench.handouts.handout import FORMATS, Handout, write_atomic
from workbench.i18n import LANGS

__all__ = ["BatchResult", "make_handouts", "parse_formats", "parse_langs", "SKIPPED_FILE"]

SKIPPED_FILE = "skipped.csv"


@dataclass(frozen=True)
class BatchResult:
    """What a batch did.

    Attributes
    ----------
    written
        ``(unit_id, paths)`` of every unit whose files were written.
    skipped
        ``(unit_id, reason)`` of units with no published figure in the wave: the privacy
        reason of their hidden cells (``min_n``, ``complement``, ``no_answers``).
    failed
        ``(unit_id, "error: ...")`` of units whose handout could not be made.
    seconds
        Wall time of the batch.
    """

    written: tuple[tuple[str, tuple[Path, ...]], ...] = ()
    skipped: tuple[tuple[str, str], ...] = ()
    failed: tuple[tuple[str, str], ...] = ()
    seconds: float = 0.0
    out: Path = field(default=Path("."))

    @property
    def exit_code(self) -> int:
        """0 when every handout asked for was written, 1 when some failed."""
        return 1 if self.failed else 0

    def summary(self) -> str:
        files = sum(len(paths) for _, paths in self.written)
        line = (f"{len(self.written)} handout(s) written ({files} files) in "
                f"{self.seconds:.1f} s; {len(self.skipped)} unit(s) skipped by the privacy "
                f"rules; {len(self.failed)} failed")
        if self.failed:
            shown = ", ".join(unit for unit, _ in self.failed[:5])
            more = "" if len(self.failed) <= 5 else f" and {len(self.failed) - 5} more"
            line += f" ({shown}{more})"
        return line + f"; see {self.out / SKIPPED_FILE}"


def _parse_list(text: str | Sequence[str], known: Sequence[str], what: str) -> tuple[str, ...]:
    """``"a, B,a"`` -> ``("a", "b")``; UsageError naming what is not in ``known``."""
    items = text.split(",") if isinstance(text, str) else list(text)
    chosen = tuple(dict.fromkeys(x.strip().lower() for x in items if x.strip()))
    unknown = [x for x in chosen if x not in known]
    if unknown or not chosen:
        raise UsageError(f"{what} {', '.join(unknown) or repr(text)} is not known; use a "
                         f"comma-separated list of {', '.join(known)}")
    return chosen


def parse_langs(text: str | Sequence[str]) -> tuple[str, ...]:
    """``"nb,en"`` -> ``("nb", "en")``; UsageError naming an unknown language."""
    return _parse_list(text, LANGS, "language")


def parse_formats(text: str | Sequence[str]) -> tuple[str, ...]:
    """``"html,pdf"`` -> ``("html", "pdf")``; UsageError naming an unknown format."""
    return _parse_list(text, FORMATS, "format")


@dataclass(frozen=True, eq=False)
class _Job:
    """What every unit of a batch shares; handed to each worker once, not per unit.

    ``release`` is None in a worker that was not forked: it reads the release folder at
    ``path`` (once per process) instead of receiving the tables through a pipe.
    """

    release: Any
    path: Path | None
    wave: str
    template: Template
    lang: str
    made: _dt.date
    formats: tuple[str, ...]
    out: Path
    #: The recorded workshop of each unit of the wave (read once; empty: blank worksheets).
    states: Any = None

    def source(self):
        if self.release is not None:
            return self.release
        return _read(self.path)


@functools.lru_cache(maxsize=1)
def _read(path: Path):
    from workbench.release import read_release

    return read_release(path)


def _error(exc: BaseException) -> str:
    message = " ".join(str(exc).split()) or type(exc).__name__
    return f"error: {type(exc).__name__}: {message}"[:300]


def _run(job: _Job, unit: str, collect: bool = True) -> tuple[str, list[str], str]:
    """Build and write one unit's handout; never raises: errors come back as text.

    The garbage collector is paused while a handout renders: PDF layout makes about 100,000
    objects in reference cycles, and collections in the middle of it cost a third of the
    rendering time. With ``collect`` they are collected once afterwards; a worker process
    that exits after its share of units leaves them to the operating system instead.
    """
    paused = gc.isenabled()
    gc.disable()
    try:
        handout = Handout.for_unit(job.source(), unit, job.wave, job.lang,
                                   template=job.template, made=job.made,
                                   workshop=(job.states or {}).get(unit))
        paths = handout.write(job.out / unit, job.formats)
        return unit, [str(p) for p in paths], ""
    except Exception as exc:  # one unit's failure must not stop the batch
        return unit, [], _error(exc)
    finally:
        if paused and collect:
            gc.enable()
            gc.collect(1)


def _worker(job: _Job, units: Sequence[str], queue) -> None:
    """A worker process: its units one by one, each result sent back as it is done."""
    os.environ.setdefault("MPLBACKEND", "Agg")  # charts are drawn off-screen
    gc.disable()  # this process ends after its units; see _run
    for unit in units:
        queue.put(_run(job, unit, collect=False))


def _warm(job: _Job, unit: str) -> tuple[str, list[str], str]:
    """Make the first handout here, before the workers start, so they inherit warm caches.

    Fonts are loaded once, and the worksheet pages (the same for every unit) are laid out
    for this unit's page count and its neighbours: the forked workers reuse them.
    """
    result = _run(job, unit)
    if "pdf" in job.formats and not result[2]:
        from workbench.handouts._pdf import prepare

        prepare()
    return result


def _in_workers(job: _Job, units: Sequence[str], jobs: int, done) -> None:
    """Render ``units`` in worker processes, ``jobs`` at a time, each taking a share.

    A worker takes a share of the units, renders them without garbage collection and exits
    (so its memory goes back at once); the next share starts in a fresh worker. On Linux the
    workers are forked: they get the release, the views cut from it and the warm caches
    without copying. Elsewhere each worker reads the release folder. A worker that dies is
    reported for each of its unfinished units.
    """
    import queue as queues

    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else None
    context = multiprocessing.get_context(method)
    if method != "fork" and job.path is not None:
        job = replace(job, release=None)  # the workers read the folder, not a pickled copy
    waiting = list(units)
    results = context.Queue()
    running: dict = {}  # process -> units not reported yet
    try:
        while waiting or running:
            while waiting and len(running) < jobs:
                # shares shrink towards the end, so that the workers finish together
                size = max(1, min(12, math.ceil(len(waiting) / (2 * jobs))))
                share, waiting = waiting[:size], waiting[size:]
                process = context.Process(target=_worker, args=(job, share, results),
                                          daemon=True)
                process.start()
                running[process] = set(share)
            try:
                unit, paths, error = results.get(timeout=0.5)
            except queues.Empty:
                for process in [p for p in running if not p.is_alive()]:
                    process.join()
                    left = running.pop(process)
                    if left:  # it died before reporting these: say so, go on
                        code = process.exitcode
                        for unit in sorted(left, key=list(units).index):
                            done(unit, [], f"error: the worker process stopped (exit code "
                                           f"{code})")
                continue
            for process, left in running.items():
                if unit in left:
                    left.discard(unit)
                    break
            done(unit, paths, error)
            for process in [p for p, left in running.items() if not left]:
                process.join()
                del running[process]
    finally:
        for process in running:
            process.terminate()
        results.close()


def _write_skipped(out: Path, rows: Sequence[tuple[str, str]]) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["unit_id", "reason"])
    writer.writerows(rows)
    write_atomic(out / SKIPPED_FILE, buffer.getvalue().encode("utf-8"))


def make_handouts(release, out: str | Path, units: Sequence[str] | None = None,
                  wave: str | int | None = None, lang: str | Sequence[str] | None = None,
                  formats: Sequence[str] = FORMATS, template: str | Path | Template | None = None,
                  jobs: int = 2, progress: bool = True,
                  made: _dt.date | None = None, store=None) -> BatchResult:
    """Write handouts into ``out/<unit_id>/handout-<wave>-<lang>.<ext>`` and ``skipped.csv``.

    Parameters
    ----------
    release
        A :class:`workbench.release.Release`, or a dataset or release folder (opened once
        with :func:`workbench.release.open_release`).
    out
        The output folder (created when missing).
    units
        Unit ids; None: every unit with a published figure in the wave (the others are
        skipped with their privacy reason).
    wave, lang
        Wave (default: the last) and language (default: the survey's); several languages
        as ``"nb,en"`` or a list make a handout in each (``handout-<wave>-<lang>.*``).
    formats
        Any of ``html, pdf, pptx, xlsx``.
    template
        A template folder (or :class:`Template`); default ``templates/default``.
    jobs
        Worker processes for rendering (1: render in this process).
    progress
        Show a progress bar on stderr.
    made
        The date on the covers (default: today).
    store
        A workshop store (:func:`workbench.workshop.open_store`): each handout shows what
        its unit recorded in the wave (read once for all units, before the workers start).
        None: blank worksheets.

    Returns
    -------
    BatchResult

    Raises
    ------
    HandoutRefused
        When a unit named in ``units`` has no published figure (it gets no handout).
    UsageError
        Unknown unit, wave, language, format or template folder.
    """
    from tqdm import tqdm

    start = time.perf_counter()
    formats = parse_formats(formats)
    release = as_release(release)
    label = wave_of(release, wave)
    langs = parse_langs(lang or release.config.language)
    template = template if isinstance(template, Template) else Template.load(template)
    if units is None:
        status = handout_units(release, label)
        todo = status.loc[status["handout"], "unit_id"].tolist()
        skipped = list(zip(status.loc[~status["handout"], "unit_id"],
                           status.loc[~status["handout"], "reason"]))
    else:
        todo, skipped = list(dict.fromkeys(units)), []
        for unit in todo:
            check_handout(release, unit, label)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    made = made or _dt.date.today()
    states = store.states(label) if store is not None else {}

    failed: list[tuple[str, str]] = []
    written: list[tuple[str, tuple[Path, ...]]] = []
    bar = tqdm(total=len(todo) * len(langs), desc="handouts", unit="handout", file=sys.stderr,
               disable=not progress, dynamic_ncols=True)
    try:
        for lang_ in langs:
            def done(unit: str, paths: list[str], error: str, lang_=lang_) -> None:
                if error:
                    failed.append((unit, f"{lang_}: {error}" if len(langs) > 1 else error))
                else:
                    written.append((unit, tuple(Path(p) for p in paths)))
                bar.update(1)

            job = _Job(release=release, path=release.path, wave=label, template=template,
                       lang=lang_, made=made, formats=formats, out=out, states=states)
            if jobs > 1 and len(todo) > 2:
                # warm up on the last unit, a small one like most: its page count and its
                # neighbours' are the ones the shared pages are laid out for before the fork,
                # and the views it cuts (every unit's rows in this language) are cut once
                done(*_warm(job, todo[-1]))
                _in_workers(job, todo[:-1], jobs, done)
            else:
                for unit in todo:
                    done(*_run(job, unit))
    finally:
        bar.close()
    order = {u: i for i, u in enumerate(todo)}
    failed.sort(key=lambda item: order.get(item[0], 0))
    written.sort(key=lambda item: order.get(item[0], 0))
    _write_skipped(out, [*skipped, *failed])
    return BatchResult(written=tuple(written), skipped=tuple(skipped), failed=tuple(failed),
                       seconds=time.perf_counter() - start, out=out)
