"""Validate a dataset folder and load it into a :class:`~workbench.survey.Survey`.

Every problem names file, row (as numbered in the file), column, value and what was expected.
A row with a problem is rejected, never silently changed, and every file's rows balance:
rows read = rows accepted + rows rejected.

Examples
--------
>>> from workbench.validate import validate_dataset
>>> result = validate_dataset("data_samples/municipality")
>>> result.report.exit_code
0
"""

from __future__ import annotations

import csv
import difflib
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping

import numpy as np
import pandas as pd

from workbench._problems import Problem
from workbench.errors import DatasetError, WorkbenchError
from workbench.instrument import Instrument, Text, load_instrument
from workbench.io import ColumnMapping, RawTable, read_mapping, read_table
from workbench.org import Hierarchy, hierarchy_problems
from workbench.survey import RESPONSE_FILES, ConfigProblem, Survey, SurveyConfig, read_config

__all__ = ["FileCount", "Report", "Validation", "validate_dataset", "load_survey",
           "write_quarantine", "Problem"]

RESPONSE_KEYS = ("respondent_id", "wave", "unit_id")
_PLAIN_NUMBER = re.compile(r"[+-]?[0-9]+(?:[.,][0-9]+)?")


@dataclass(frozen=True)
class FileCount:
    """How the rows of one file were accounted for."""

    file: str
    read: int
    accepted: int
    rejected: int


@dataclass(frozen=True)
class Report:
    """What validation found: problems, and how every file's rows were accounted for."""

    dataset: str
    problems: tuple[Problem, ...] = ()
    files: tuple[FileCount, ...] = ()

    @property
    def exit_code(self) -> int:
        """0 clean (warnings allowed), 1 problems, 2 unusable."""
        severities = {p.severity for p in self.problems}
        return 2 if "unusable" in severities else 1 if "error" in severities else 0

    @property
    def usable(self) -> bool:
        return self.exit_code < 2

    def count(self, file: str) -> FileCount | None:
        return next((f for f in self.files if f.file == file), None)

    def lines(self, lang: str = "en") -> list[str]:
        """The report as text lines for a terminal."""
        out = []
        for f in self.files:
            if lang == "nb":
                out.append(f"{f.file}: {f.read} rader lest, {f.accepted} godtatt, "
                           f"{f.rejected} avvist")
            else:
                out.append(f"{f.file}: {f.read} rows read, {f.accepted} accepted, "
                           f"{f.rejected} rejected")
        for p in self.problems:
            tag = {"unusable": "ERROR", "error": "PROBLEM", "warning": "WARNING"}[p.severity]
            out.append(f"{tag}: {p.message(lang)}")
        verdict = {0: ("OK: the dataset is clean", "OK: datasettet er feilfritt"),
                   1: ("{n} problem(s): fix them, or use the accepted rows knowingly",
                       "{n} problem(er): rett dem, eller bruk de godtatte radene bevisst"),
                   2: ("the dataset cannot be used", "datasettet kan ikke brukes")}[self.exit_code]
        n = sum(p.severity != "warning" for p in self.problems)
        out.append((verdict[1] if lang == "nb" else verdict[0]).format(n=n))
        return out

    def as_json(self, lang: str = "en") -> str:
        """The report for machines (``--json``)."""
        return json.dumps({
            "dataset": self.dataset,
            "exit_code": self.exit_code,
            "files": [f.__dict__ for f in self.files],
            "problems": [p.as_dict(lang) for p in self.problems],
        }, ensure_ascii=False, indent=2)


@dataclass(frozen=True, eq=False)
class Validation:
    """The report, the survey (None when unusable) and the rejected response rows."""

    report: Report
    survey: Survey | None
    quarantine: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)


class _Collector:
    """Gathers problems and rejected rows of one file while checking it."""

    def __init__(self, table: RawTable):
        self.table = table
        self.problems: list[Problem] = list(table.problems)
        self.bad = np.zeros(len(table.frame), dtype=bool)

    def flag(self, mask: np.ndarray, code: str, column: str | None,
             values: Iterable[str] | None = None, expected: str | Text | None = None,
             detail: Mapping[str, object] | None = None, details: list | None = None) -> None:
        """Reject the rows in ``mask`` with one problem each."""
        idx = np.flatnonzero(mask)
        if not len(idx):
            return
        self.bad[idx] = True
        vals = list(values) if values is not None else \
            self.table.frame[column].to_numpy()[idx].tolist()
        for k, (i, value) in enumerate(zip(idx, vals)):
            extra = dict(detail or {})
            if details is not None:
                extra.update(details[k])
            self.problems.append(Problem(code, self.table.file, row=int(self.table.rows[i]),
                                         column=column, value=str(value), expected=expected,
                                         detail=extra))

    def sorted_problems(self) -> list[Problem]:
        """Problems in file order (whole-file problems first)."""
        return sorted(self.problems, key=lambda p: -1 if p.row is None else p.row)

    def count(self) -> FileCount:
        rejected = int(self.bad.sum()) + len(self.table.rejected)
        return FileCount(self.table.file, self.table.read, self.table.read - rejected, rejected)

    def accepted(self) -> pd.DataFrame:
        return self.table.frame.loc[~self.bad].reset_index(drop=True)

    def accepted_rows(self) -> np.ndarray:
        return self.table.rows[~self.bad]


def _hint(value: str, choices: Iterable[str]) -> Text | str:
    close = difflib.get_close_matches(value, list(choices), n=1, cutoff=0.75)
    if not close:
        return ""
    return Text(nb=f"; mente du {close[0]!r}?", en=f"; did you mean {close[0]!r}?")


def _numbers(series: pd.Series) -> pd.Series:
    """Text to numbers; a decimal comma is accepted. Empty or unreadable cells become NaN."""
    text = series.astype(str).str.replace(",", ".", regex=False)
    numbers = pd.to_numeric(text.where(text != ""), errors="coerce").astype("float64")
    # "inf", "1e999": not a number anyone typed on purpose, and they break integer casts.
    return numbers.where(np.isfinite(numbers))


def _apply_labels(series: pd.Series, labels: Mapping[str, str] | None) -> pd.Series:
    if not labels:
        return series
    folded = series.map(lambda v: " ".join(str(v).split()).casefold())
    mapped = folded.map(labels)
    return mapped.where(mapped.notna(), series)


def _code_column(col: _Collector, column: str, valid: frozenset[int], expected: Text,
                 scale: tuple[int, int] | None, mapping: ColumnMapping) -> pd.Series:
    """Check a column of integer codes; reject rows with bad cells; return Int8 codes.

    A column of answers holds a handful of distinct texts, so each distinct text is read
    once (labels, decimal comma, range) and the verdicts are spread back over the rows.
    """
    labels = mapping.value_map(column)
    keys, uniques = pd.factorize(col.table.frame[column].to_numpy())
    codes = np.full(len(uniques), np.nan)
    status = np.zeros(len(uniques), dtype=np.int8)  # 0 valid or empty, 1 not a code, 2 outside
    for k, raw in enumerate(uniques):
        text = str(raw).strip()
        if labels:
            text = labels.get(" ".join(text.split()).casefold(), text)
        if text == "":
            continue
        if not _PLAIN_NUMBER.fullmatch(text):  # float() would take "1_0", "inf", "٤"
            status[k] = 1
            continue
        number = float(text.replace(",", "."))
        # 3.5, inf and nan are no scale points: "not a valid answer", not "outside the scale"
        if not math.isfinite(number) or not number.is_integer():
            status[k] = 1
        elif int(number) not in valid:
            status[k] = 2
        else:
            codes[k] = number
    row_status = status[keys]
    shown = np.asarray([str(u).strip() for u in uniques], dtype=object)[keys]
    for code, flag in ((1, "not_a_code"), (2, "out_of_scale" if scale else "unknown_category")):
        mask = row_status == code
        col.flag(mask, flag, column, values=shown[mask], expected=expected)
    return pd.Series(codes[keys]).astype("Int8")


def _check_units(folder: Path, config: SurveyConfig
                 ) -> tuple[dict[str, Hierarchy] | None, list[Problem], FileCount | None]:
    try:
        table = read_table(folder / "units.csv", required=("unit_id", "parent_id", "name"),
                           display="units.csv")
    except DatasetError as exc:
        return None, [exc.problem], None  # type: ignore[attr-defined]
    col = _Collector(table)
    frame = table.frame
    for column in ("unit_id", "parent_id", "name"):
        if column not in frame.columns:
            col.problems.append(Problem("missing_column", table.file, column=column,
                                        detail={"found": ", ".join(frame.columns)}))
            return None, col.problems, col.count()
    col.flag((frame["unit_id"] == "").to_numpy(), "empty_required", "unit_id")
    if "wave" in frame.columns:
        unknown = ((frame["wave"] != "") & ~frame["wave"].isin(config.waves)).to_numpy()
        col.flag(unknown, "unknown_wave", "wave", expected=", ".join(config.waves))
    good = col.accepted()
    rows = col.accepted_rows()
    hierarchies: dict[str, Hierarchy] = {}
    problems_seen: set[tuple] = set()
    for wave in config.waves:
        part = good if "wave" not in good.columns else \
            good[(good["wave"] == "") | (good["wave"] == wave)]
        part_rows = rows[part.index.to_numpy()]
        found = hierarchy_problems(part["unit_id"].tolist(), part["parent_id"].tolist())
        for p in found:
            key = (int(part_rows[p.index]), p.code)
            if key in problems_seen:
                continue
            problems_seen.add(key)
            col.problems.append(Problem(p.code, table.file, row=key[0], column=p.column,
                                        value=p.value, detail={"unit": p.unit_id}))
        if not found:
            hierarchies[wave] = Hierarchy.from_frame(part)
    if len(hierarchies) < len(config.waves):
        return None, col.problems, col.count()
    return hierarchies, col.problems, col.count()


def _check_headcount(folder: Path, config: SurveyConfig, hierarchies: Mapping[str, Hierarchy]
                     ) -> tuple[pd.DataFrame | None, np.ndarray, list[Problem], FileCount | None]:
    path = folder / "headcount.csv"
    if not path.is_file():
        return None, np.array([]), [Problem("no_headcount_file", "headcount.csv")], None
    try:
        table = read_table(path, required=("wave", "unit_id", "invited"),
                           display="headcount.csv")
    except DatasetError as exc:
        return None, np.array([]), [exc.problem], None  # type: ignore[attr-defined]
    col = _Collector(table)
    frame = table.frame
    waves = frame["wave"]
    col.flag(~waves.isin(config.waves).to_numpy(), "unknown_wave", "wave",
             expected=", ".join(config.waves))
    for wave, hierarchy in hierarchies.items():
        in_wave = (waves == wave).to_numpy()
        unknown = in_wave & ~frame["unit_id"].isin(hierarchy.ids).to_numpy()
        col.flag(unknown, "unknown_unit", "unit_id",
                 details=[{"hint": _hint(u, hierarchy.ids)}
                          for u in frame["unit_id"].to_numpy()[unknown]])
    invited = _numbers(frame["invited"])
    # 1e20 is "whole" but no head count, and it would wrap around in an int64.
    bad = (invited.isna() | (invited < 0) | (invited % 1 != 0) | (invited >= 2**53)).to_numpy()
    col.flag(bad, "bad_number", "invited")
    for var, spec in config.background.items():
        if var in frame.columns:
            bad_code = ((frame[var] != "") & ~frame[var].isin(list(spec.values))).to_numpy()
            col.flag(bad_code, "unknown_category", var, expected=", ".join(spec.values))
    good = col.accepted()
    good["invited"] = _numbers(good["invited"]).astype("int64")
    return good, col.accepted_rows(), col.problems, col.count()


def _check_benchmarks(folder: Path, config: SurveyConfig, instrument: Instrument
                      ) -> tuple[pd.DataFrame | None, list[Problem], FileCount | None]:
    if config.benchmarks is None:
        return None, [], None
    try:
        table = read_table(folder / config.benchmarks,
                           required=("wave", "benchmark", "factor", "mean"),
                           display=config.benchmarks)
    except DatasetError as exc:
        return None, [exc.problem], None  # type: ignore[attr-defined]
    col = _Collector(table)
    frame = table.frame
    col.flag(~frame["wave"].isin(config.waves).to_numpy(), "unknown_wave", "wave",
             expected=", ".join(config.waves))
    factor_ids = [f.id for f in instrument.factors]
    col.flag(~frame["factor"].isin(factor_ids).to_numpy(), "unknown_factor", "factor",
             expected=", ".join(factor_ids))
    lo, hi = instrument.scale.min, instrument.scale.max
    means = _numbers(frame["mean"])
    col.flag((means.isna() | (means < lo) | (means > hi)).to_numpy(), "bad_mean", "mean",
             expected=f"{lo}-{hi}")
    good = col.accepted()
    good["mean"] = _numbers(good["mean"])
    for extra in ("sd", "n"):
        if extra in good.columns:
            good[extra] = _numbers(good[extra])
    return good, col.problems, col.count()


def _response_path(folder: Path, config: SurveyConfig) -> Path:
    if config.responses:
        return folder / config.responses
    return next((folder / f for f in RESPONSE_FILES if (folder / f).is_file()),
                folder / RESPONSE_FILES[0])


def _check_responses(table: RawTable, config: SurveyConfig, instrument: Instrument,
                     mapping: ColumnMapping, hierarchies: Mapping[str, Hierarchy],
                     headcount: pd.DataFrame | None) -> tuple[_Collector, pd.DataFrame]:
    col = _Collector(table)
    frame = table.frame
    for key in RESPONSE_KEYS:
        frame[key] = _apply_labels(frame[key], mapping.values.get(key))
        col.flag((frame[key] == "").to_numpy(), "empty_required", key)
    # Columns: unknown ones are reported and ignored, missing items count as skipped.
    known = set(RESPONSE_KEYS) | set(instrument.item_ids) | set(instrument.extra_ids) | \
        set(config.background)
    for column in frame.columns:
        if column not in known:
            col.problems.append(Problem("unknown_column", table.file, column=column,
                                        detail={"hint": _hint(column, known)}))
    for factor in instrument.factors:
        for item in factor.item_ids:
            if item not in frame.columns:
                col.problems.append(Problem("missing_item_column", table.file, column=item,
                                            detail={"factor": factor.id}))
                frame[item] = ""
    wave = frame["wave"]
    col.flag(((wave != "") & ~wave.isin(config.waves)).to_numpy(), "unknown_wave", "wave",
             expected=", ".join(config.waves))
    unit = frame["unit_id"]
    for label, hierarchy in hierarchies.items():
        unknown = ((wave == label) & (unit != "") & ~unit.isin(hierarchy.ids)).to_numpy()
        col.flag(unknown, "unknown_unit", "unit_id",
                 details=[{"hint": _hint(u, hierarchy.ids)} for u in unit.to_numpy()[unknown]])
    ids = frame["respondent_id"]
    dup = (ids != "").to_numpy() & frame.duplicated(["wave", "respondent_id"]).to_numpy()
    if dup.any():
        first = (pd.Series(table.rows).groupby([wave.to_numpy(), ids.to_numpy()])
                 .transform("first").to_numpy())
        col.flag(dup, "duplicate_respondent", "respondent_id",
                 details=[{"wave": w, "first_row": int(r)}
                          for w, r in zip(wave.to_numpy()[dup], first[dup])])
    for var, spec in config.background.items():
        if var not in frame.columns:
            frame[var] = ""
            continue
        frame[var] = _apply_labels(frame[var], mapping.values.get(var))
        bad = ((frame[var] != "") & ~frame[var].isin(list(spec.values))).to_numpy()
        listed = ", ".join(spec.values)
        col.flag(bad, "unknown_category", var,
                 expected=Text(nb=f"{listed} eller tom", en=f"{listed} or empty"))
    scale = instrument.scale
    codes = {}
    for item in instrument.item_ids:
        codes[item] = _code_column(col, item, scale.valid_codes, scale.describe(),
                                   (scale.min, scale.max), mapping)
    for q in instrument.extra:
        if q.id in frame.columns:
            codes[q.id] = _code_column(col, q.id, frozenset(q.codes), q.describe(), None, mapping)
    if headcount is not None:
        has = pd.MultiIndex.from_arrays([headcount["wave"], headcount["unit_id"]])
        none = ~pd.MultiIndex.from_arrays([wave, unit]).isin(has) & ~col.bad
        col.flag(none, "no_headcount", "unit_id",
                 details=[{"wave": w} for w in wave.to_numpy()[none]])
    keep = ~col.bad
    out = pd.DataFrame({
        "respondent_id": frame["respondent_id"].to_numpy()[keep].astype(str),
        "wave": pd.Categorical(wave.to_numpy()[keep], categories=list(config.waves),
                               ordered=True),
        "unit_id": frame["unit_id"].to_numpy()[keep].astype(str),
    })
    for var, spec in config.background.items():
        values = frame[var].to_numpy()[keep]
        out[var] = pd.Categorical(np.where(values == "", None, values),
                                  categories=list(spec.values))
    for column, series in codes.items():
        out[column] = series.array[keep]
    return col, out


def _too_many(responses: pd.DataFrame, headcount: pd.DataFrame, rows: np.ndarray
              ) -> list[Problem]:
    """Units with more accepted answers than invited, located at their first headcount row."""
    answers = (responses.assign(wave=responses["wave"].astype(str))
               .groupby(["wave", "unit_id"]).size().rename("answers"))
    invited = (headcount.assign(row=rows).groupby(["wave", "unit_id"])
               .agg(invited=("invited", "sum"), row=("row", "min")))
    joined = invited.join(answers, how="inner")
    over = joined[joined["answers"] > joined["invited"]].sort_values("row")
    return [Problem("too_many_answers", "headcount.csv", row=int(r.row), column="invited",
                    value=unit, detail={"wave": wave, "answers": int(r.answers),
                                        "invited": int(r.invited)})
            for (wave, unit), r in over.iterrows()]


def validate_dataset(path: str | Path) -> Validation:
    """Check every file of a dataset folder and load what passes.

    Parameters
    ----------
    path
        The dataset folder (``survey.yaml``, ``units.csv``, ``headcount.csv``, responses).

    Returns
    -------
    Validation
        ``report`` (problems, rows read/accepted/rejected per file, exit code), ``survey``
        (None when the dataset is unusable) and ``quarantine`` (the rejected response rows
        with their file row and problems).
    """
    folder = Path(path)
    name = str(path)
    if not folder.is_dir():
        return Validation(Report(name, (Problem("missing_file", name),)), None)
    problems: list[Problem] = []
    files: list[FileCount] = []

    def done() -> Validation:
        return Validation(Report(name, tuple(problems), tuple(files)), None)

    try:
        config, warnings = read_config(folder)
    except ConfigProblem as exc:
        problems.append(exc.problem)
        return done()
    problems.extend(warnings)
    try:
        instrument = load_instrument(config.instrument, base=folder)
    except WorkbenchError as exc:
        problems.append(Problem("bad_config", "survey.yaml", detail={"reason": str(exc)}))
        return done()
    try:
        mapping = read_mapping(folder / config.mapping) if config.mapping else ColumnMapping()
    except WorkbenchError as exc:
        # The problem is in the mapping file, not in survey.yaml: name that file.
        reason = str(exc).removeprefix(f"{folder / str(config.mapping)}: ")
        problems.append(Problem("bad_config", str(config.mapping), detail={"reason": reason}))
        return done()
    hierarchies, found, count = _check_units(folder, config)
    problems.extend(sorted(found, key=lambda p: -1 if p.row is None else p.row))
    files.extend([count] if count else [])
    if hierarchies is None:
        return done()
    headcount, head_rows, found, count = _check_headcount(folder, config, hierarchies)
    problems.extend(found)
    files.extend([count] if count else [])
    benchmarks, found, count = _check_benchmarks(folder, config, instrument)
    problems.extend(found)
    files.extend([count] if count else [])
    response_path = _response_path(folder, config)
    try:
        table = read_table(response_path, required=RESPONSE_KEYS, mapping=mapping,
                           display=response_path.name)
    except DatasetError as exc:
        problems.append(exc.problem)  # type: ignore[attr-defined]
        return done()
    col, responses = _check_responses(table, config, instrument, mapping, hierarchies, headcount)
    problems.extend(col.sorted_problems())
    files.append(col.count())
    if headcount is not None:
        problems.extend(_too_many(responses, headcount, head_rows))
    report = Report(name, tuple(problems), tuple(files))
    if not report.usable:
        return Validation(report, None, _quarantine(col))
    survey = Survey(path=folder, config=config, instrument=instrument, report=report,
                    _hierarchies=hierarchies, _responses=responses, _headcount=headcount,
                    _benchmarks=benchmarks)
    return Validation(report, survey, _quarantine(col))


def _quarantine(col: _Collector) -> pd.DataFrame:
    """Rejected rows with their file row and problem messages, original cells kept."""
    by_row: dict[int, list[str]] = {}
    for p in col.problems:
        if p.row is not None and p.severity == "error":
            by_row.setdefault(p.row, []).append(p.message("en"))
    table = col.table
    rejected = table.frame.loc[col.bad].copy()
    rejected.insert(0, "row", table.rows[col.bad])
    columns = list(table.frame.columns)[
        : max((len(c) for c in table.raw_rows.values()), default=0)]
    # Short rows are padded: pandas no longer pads rows of unequal length itself.
    extra = pd.DataFrame([[r] + cells[: len(columns)] + [""] * (len(columns) - len(cells))
                          for r, cells in table.raw_rows.items()], columns=["row"] + columns)
    out = pd.concat([rejected, extra], ignore_index=True) if len(extra) else rejected
    out = out.sort_values("row").reset_index(drop=True)
    out.insert(0, "file", table.file)
    out.insert(2, "problems", ["; ".join(by_row.get(int(r), [])) for r in out["row"]])
    return out


def write_quarantine(validation: Validation, path: str | Path) -> int:
    """Write the rejected response rows to ``path`` (CSV); return how many."""
    frame = validation.quarantine
    frame.to_csv(path, index=False, quoting=csv.QUOTE_MINIMAL)
    return len(frame)


def load_survey(path: str | Path) -> Survey:
    """Load a dataset folder into a :class:`Survey` of the rows that pass validation.

    Raises
    ------
    DatasetError
        When the dataset cannot be used at all; the message is the first blocking problem.
    """
    result = validate_dataset(path)
    if result.survey is None:
        first = next(p for p in result.report.problems if p.severity == "unusable")
        raise DatasetError(first.message("en"))
    return result.survey
