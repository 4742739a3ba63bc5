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
from workbench.io import (
    ColumnMapping,
    RawTable,
    RowFilter,
    as_text,
    cell_text,
    closest,
    fold,
    listed,
    read_mapping,
    read_table,
)
from workbench.org import Hierarchy, hierarchy_problems, successor_problems
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
    left_out: int = 0  #: of the rejected: left out by the mapping's filters (no problem)


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
                line = (f"{f.file}: {f.read} rader lest, {f.accepted} godtatt, "
                        f"{f.rejected} avvist")
                extra = f" ({f.left_out} holdt utenfor av filtrene)"
            else:
                line = (f"{f.file}: {f.read} rows read, {f.accepted} accepted, "
                        f"{f.rejected} rejected")
                extra = f" ({f.left_out} left out by the filters)"
            out.append(line + (extra if f.left_out else ""))
        for p in self.problems:
            tag = {"unusable": "ERROR", "error": "PROBLEM", "warning": "WARNING",
                   "note": "NOTE"}[p.severity]
            out.append(f"{tag}: {p.message(lang)}")
        verdict = {0: ("OK: the dataset is clean", "OK: datasettet er feilfritt"),
                   1: ("{n} problem(s): fix them, or use the accepted rows knowingly",
                       "{n} problem(er): rett dem, eller bruk de godtatte radene bevisst"),
                   2: ("the dataset cannot be used", "datasettet kan ikke brukes")}[self.exit_code]
        n = sum(p.severity in ("error", "unusable") for p in self.problems)
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

    def __init__(self, table: RawTable, filters: Iterable[RowFilter] = ()):
        self.table = table
        self.problems: list[Problem] = list(table.problems)
        # rows the mapping's filters leave out count as rejected, without a problem each
        self.left_out = np.zeros(len(table.frame), dtype=bool) if table.left_out is None \
            else np.asarray(table.left_out, dtype=bool)
        self.bad = self.left_out.copy()
        if self.left_out.any():
            rows = self.table.rows[self.left_out]
            shown = listed(rows, 10)
            self.problems.append(Problem(
                "left_out", table.file, detail={
                    "count": int(self.left_out.sum()), "rows": shown,
                    "filters": "; ".join(f.describe() for f in filters)}))

    def flag(self, mask: np.ndarray, code: str, column: str | None,
             values: Iterable[str] | None = None, expected: str | Text | None = None,
             detail: Mapping[str, object] | None = None, details: list | None = None) -> None:
        """Reject the rows in ``mask`` with one problem each (rows left out by a filter are
        not checked)."""
        mask = np.asarray(mask, dtype=bool)
        if self.left_out.any():
            keep = ~self.left_out[mask] if values is not None or details is not None else None
            if keep is not None:
                values = None if values is None else np.asarray(list(values),
                                                                dtype=object)[keep]
                details = None if details is None else [d for d, k in zip(details, keep) if k]
            mask = mask & ~self.left_out
        idx = np.flatnonzero(mask)
        if not len(idx):
            return
        self.bad[idx] = True
        vals = list(values) if values is not None else \
            [cell_text(v) for v in self.table.frame[column].to_numpy()[idx]]
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
        return FileCount(self.table.file, self.table.read, self.table.read - rejected, rejected,
                         int(self.left_out.sum()))

    def accepted(self) -> pd.DataFrame:
        return self.table.frame.loc[~self.bad].reset_index(drop=True)

    def accepted_rows(self) -> np.ndarray:
        return self.table.rows[~self.bad]


def _hint(value: str, choices: Iterable[str]) -> Text | str:
    close = closest(value, choices, cutoff=0.75)
    if not close:
        return ""
    return Text(nb=f"; mente du {close[0]!r}?", en=f"; did you mean {close[0]!r}?")


def _numbers(series: pd.Series) -> pd.Series:
    """Text to numbers; a decimal comma is accepted. Empty or unreadable cells become NaN."""
    text = series.astype(str).str.replace(",", ".", regex=False)
    numbers = pd.to_numeric(text.where(text != ""), errors="coerce").astype("float64")
    # "inf", "1e999": not a number anyone typed on purpose, and they break integer casts.
    return numbers.where(np.isfinite(numbers))


def _isin(values: np.ndarray, choices: Iterable[str]) -> np.ndarray:
    """``values`` (an object array of text) found among ``choices``, as a boolean array;
    each distinct value is looked up once."""
    keys, uniques = pd.factorize(values)
    found = pd.Index(uniques, dtype=object).isin(list(choices))
    return np.append(found, False)[keys]


def _apply_labels(values: np.ndarray, labels: Mapping[str, str] | None) -> np.ndarray:
    """Text cells through a label map (folded labels); unmapped cells stay as they are."""
    if not labels:
        return values
    keys, uniques = pd.factorize(values)
    mapped = np.asarray([labels.get(fold(u), u) for u in uniques] + [""], dtype=object)
    return mapped[keys]


def _distinct(array) -> tuple[np.ndarray, list, int]:
    """(row keys, distinct values, key of a missing cell) of a column.

    Integer columns (a Parquet file's nullable integers) take a counting pass instead of a
    hash table; other columns are factorized.
    """
    if isinstance(array, pd.arrays.IntegerArray) or (
            isinstance(array, np.ndarray) and array.dtype.kind in "iu"):
        if isinstance(array, pd.arrays.IntegerArray):
            data = array.to_numpy(dtype=array.dtype.numpy_dtype, na_value=0)
            mask = np.asarray(array.isna())
        else:
            data, mask = array, np.zeros(len(array), dtype=bool)
        data = data.astype(np.int64, copy=False)
        if len(data) and not mask.all():
            lo, hi = int(data[~mask].min()), int(data[~mask].max())
            if hi - lo < 1 << 16:
                offset = data - lo
                offset[mask] = hi - lo + 1
                counts = np.bincount(offset, minlength=hi - lo + 2)
                present = np.flatnonzero(counts[:-1])
                slot = np.full(hi - lo + 2, len(present), dtype=np.int64)
                slot[present] = np.arange(len(present))
                return slot[offset], [int(v) + lo for v in present], len(present)
    keys, uniques = pd.factorize(array, use_na_sentinel=True)
    uniques = np.asarray(uniques, dtype=object).tolist()
    return np.where(keys < 0, len(uniques), keys), uniques, len(uniques)


def _clean_integers(array, valid: frozenset[int], labels: Mapping[str, str] | None
                    ) -> pd.arrays.IntegerArray | None:
    """A nullable integer column (a Parquet file's) whose every value is a valid code, as
    Int8 codes in one pass; None when it needs the general path (labels, a bad value)."""
    if labels or not isinstance(array, pd.arrays.IntegerArray) or not valid:
        return None
    if array.dtype.numpy_dtype.itemsize > 2:
        return None
    data = array.to_numpy(dtype=array.dtype.numpy_dtype, na_value=min(valid))
    mask = np.asarray(array.isna())
    lo, hi = min(valid), max(valid)
    if len(data) and (data.min() < lo or data.max() > hi):
        return None
    present = np.flatnonzero(np.bincount((data - lo).astype(np.intp), minlength=hi - lo + 1))
    if any(int(p) + lo not in valid for p in present):
        return None
    return pd.arrays.IntegerArray(data.astype(np.int8), mask.copy())


def _code_column(col: _Collector, column: str, valid: frozenset[int], expected: Text,
                 scale: tuple[int, int] | None, labels: Mapping[str, str] | None) -> pd.Series:
    """Check a column of integer codes; reject rows with bad cells; return Int8 codes.

    Column-wise: a column of answers holds a handful of distinct values (texts, or numbers
    from a Parquet file), so each distinct value is read once (labels, decimal comma, range)
    and the verdicts are spread back over the rows. A missing value (empty cell, ``<NA>``,
    NaN) is a skipped answer.
    """
    array = col.table.frame[column].array
    clean = _clean_integers(array, valid, labels)
    if clean is not None:
        return pd.Series(clean, copy=False)
    keys, uniques, _ = _distinct(array)
    size = len(uniques) + 1  # the last slot: missing
    codes = np.zeros(size, dtype=np.int8)
    given = np.zeros(size, dtype=bool)
    status = np.zeros(size, dtype=np.int8)  # 0 valid or empty, 1 not a code, 2 outside
    shown = np.empty(size, dtype=object)
    shown[-1] = ""
    for k, raw in enumerate(uniques):
        text = cell_text(raw).strip()
        shown[k] = text
        if labels:
            text = labels.get(fold(text), text)
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
            codes[k] = int(number)
            given[k] = True
    if status.any():
        row_status = status[keys]
        for code, flag in ((1, "not_a_code"), (2, "out_of_scale" if scale else
                                               "unknown_category")):
            mask = row_status == code
            if mask.any():
                col.flag(mask, flag, column, values=shown[keys[mask]], expected=expected)
    return pd.Series(pd.arrays.IntegerArray(codes[keys], ~given[keys]), copy=False)


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


def _check_successors(folder: Path, config: SurveyConfig,
                      hierarchies: Mapping[str, Hierarchy]
                      ) -> tuple[pd.DataFrame | None, list[Problem], FileCount | None]:
    """``successors.csv`` (optional): unknown waves and units, no next wave, duplicates and
    cycles are problems of their rows, which are rejected."""
    path = folder / "successors.csv"
    if not path.is_file():
        return None, [], None
    try:
        table = read_table(path, required=("wave", "unit_id", "successor_id"),
                           display="successors.csv")
    except DatasetError as exc:
        return None, [exc.problem], None  # type: ignore[attr-defined]
    col = _Collector(table)
    for p in successor_problems(table.frame, config.waves, hierarchies):
        detail = dict(p.detail)
        ids = detail.pop("ids", None)
        if ids is not None:
            detail["hint"] = _hint(p.value, ids)
        first = detail.pop("first", None)
        if first is not None:
            detail["first_row"] = int(table.rows[first])
        expected = detail.pop("expected", None)
        col.bad[p.index] = True
        col.problems.append(Problem(p.code, table.file, row=int(table.rows[p.index]),
                                    column=p.column, value=p.value, expected=expected,
                                    detail=detail))
    good = col.accepted().loc[:, ["wave", "unit_id", "successor_id"]]
    return good, col.sorted_problems(), col.count()


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


def _unit_names(unit: np.ndarray, hierarchies: Mapping[str, Hierarchy], wave: np.ndarray,
                col: _Collector) -> np.ndarray:
    """Unit names (units.csv ``name`` or ``name_en``, folded) to unit ids, per wave; an id
    stays an id. A name that fits several units is a problem of its row."""
    out = unit.copy()
    for label, hierarchy in hierarchies.items():
        in_wave = wave == label
        if not in_wave.any():
            continue
        units = hierarchy.units
        ids = set(units["unit_id"])
        candidates: dict[str, set[str]] = {}
        for column in ("name", "name_en"):
            for uid, name in zip(units["unit_id"], units[column]):
                candidates.setdefault(fold(name), set()).add(uid)
        keys, uniques = pd.factorize(unit[in_wave])
        resolved = np.empty(len(uniques), dtype=object)
        ambiguous = np.zeros(len(uniques), dtype=bool)
        hits: list[str] = []
        for k, value in enumerate(uniques):
            found = candidates.get(fold(value), set())
            if value in ids or not found:
                resolved[k] = value
            elif len(found) == 1:
                resolved[k] = next(iter(found))
            else:
                resolved[k] = value
                ambiguous[k] = True
            hits.append(", ".join(sorted(found)))
        out[in_wave] = resolved[keys]
        bad = np.zeros(len(unit), dtype=bool)
        bad[np.flatnonzero(in_wave)[ambiguous[keys]]] = True
        col.flag(bad, "unit_name_ambiguous", "unit_id",
                 details=[{"units": hits[k]} for k in keys[ambiguous[keys]]])
    return out


def _name_hint(value: str, hierarchy: Hierarchy) -> Text | str:
    """A hint for an unknown unit: the closest id, or the unit whose name this is."""
    units = hierarchy.units
    for column in ("name", "name_en"):
        match = units.loc[units[column].map(fold) == fold(value), "unit_id"]
        if len(match) == 1:
            uid = match.iloc[0]
            return Text(nb=f"; det er navnet på enheten {uid!r}: sett unit_names: true i "
                           "mappingfilen", en=f"; it is the name of unit {uid!r}: set "
                           "unit_names: true in the mapping file")
    return _hint(value, hierarchy.ids)


def _only_if(col: _Collector, instrument: Instrument, codes: dict[str, pd.Series]) -> None:
    """An extra question asked only when another answer holds a code: an answer given when
    that condition fails is reported (a warning) and not counted."""
    for q in instrument.extra:
        if not q.only_if or q.id not in codes:
            continue
        answer = codes[q.id]
        holds = np.ones(len(answer), dtype=bool)
        for other, code in q.only_if.items():
            if other in codes:
                holds &= (codes[other] == code).fillna(False).to_numpy(dtype=bool)
            else:
                holds[:] = False
        wrong = answer.notna().to_numpy() & ~holds & ~col.bad
        if not wrong.any():
            continue
        condition = Text(nb=" og ".join(f"{k} er {v}" for k, v in q.only_if.items()),
                         en=" and ".join(f"{k} is {v}" for k, v in q.only_if.items()))
        for i in np.flatnonzero(wrong):
            actual = []
            for other in q.only_if:
                value = codes[other].iloc[i] if other in codes else pd.NA
                actual.append((other, "" if pd.isna(value) else str(int(value))))
            col.problems.append(Problem(
                "only_if_failed", col.table.file, row=int(col.table.rows[i]), column=q.id,
                value=str(int(answer.iloc[i])), detail={
                    "condition": condition,
                    "actual": Text(nb=" og ".join(f"{k} {v or 'tom'}" for k, v in actual),
                                   en=" and ".join(f"{k} is {v or 'empty'}" for k, v in actual))}))
        codes[q.id] = answer.mask(wrong)


def _check_responses(table: RawTable, config: SurveyConfig, instrument: Instrument,
                     mapping: ColumnMapping, hierarchies: Mapping[str, Hierarchy],
                     headcount: pd.DataFrame | None) -> tuple[_Collector, pd.DataFrame]:
    col = _Collector(table, mapping.filters)
    frame = table.frame

    def labels_for(column: str, star: bool) -> Mapping[str, str] | None:
        own = table.labels.get(column) or {}
        merged = {**(mapping.values.get("*") or {}), **own} if star else own
        return merged or None

    text: dict[str, np.ndarray] = {}
    for key in RESPONSE_KEYS:
        text[key] = _apply_labels(_text(frame[key]), labels_for(key, False))
        col.flag(text[key] == "", "empty_required", key)
    # Columns: unknown ones are a note and left aside, missing items count as skipped.
    known = set(RESPONSE_KEYS) | set(instrument.item_ids) | set(instrument.extra_ids) | \
        set(config.background)
    for column in frame.columns:
        if column not in known and column not in table.filter_columns:
            col.problems.append(Problem("unknown_column", table.file, column=column,
                                        detail={"hint": _hint(column, known)}))
    for factor in instrument.factors:
        for item in factor.item_ids:
            if item not in frame.columns:
                col.problems.append(Problem("missing_item_column", table.file, column=item,
                                            detail={"factor": factor.id}))
    wave = text["wave"]
    odd_wave = (wave != "") & ~_isin(wave, config.waves)
    col.flag(odd_wave, "unknown_wave", "wave", values=wave[odd_wave],
             expected=", ".join(config.waves))
    unit = text["unit_id"]
    ambiguous = np.zeros(len(unit), dtype=bool)
    if mapping.unit_names:
        before = col.bad.copy()
        unit = _unit_names(unit, hierarchies, wave, col)
        ambiguous = col.bad & ~before
    for label, hierarchy in hierarchies.items():
        unknown = (wave == label) & (unit != "") & ~_isin(unit, hierarchy.ids) & ~ambiguous
        col.flag(unknown, "unknown_unit", "unit_id", values=text["unit_id"][unknown],
                 details=[{"hint": _name_hint(u, hierarchy)} for u in text["unit_id"][unknown]])
    ids = text["respondent_id"]
    considered = ~col.left_out  # a row a filter left out is no answer, so no duplicate
    kept_ids = ids[considered] if col.left_out.any() else ids
    kept_wave = wave[considered] if col.left_out.any() else wave
    dup_considered = (kept_ids != "") & _duplicated(kept_wave, kept_ids)
    if dup_considered.any():
        first_considered = (pd.Series(table.rows[considered])
                            .groupby([np.asarray(kept_wave, dtype=object),
                                      np.asarray(kept_ids, dtype=object)])
                            .transform("first").to_numpy())
        dup = np.zeros(len(ids), dtype=bool)
        dup[considered] = dup_considered
        first = np.zeros(len(ids), dtype=np.int64)
        first[considered] = first_considered
        col.flag(dup, "duplicate_respondent", "respondent_id", values=ids[dup],
                 details=[{"wave": w, "first_row": int(r)}
                          for w, r in zip(wave[dup], first[dup])])
    background: dict[str, np.ndarray] = {}
    for var, spec in config.background.items():
        if var not in frame.columns:
            background[var] = np.full(len(frame), "", dtype=object)
            continue
        values = _apply_labels(_text(frame[var]), labels_for(var, False))
        background[var] = values
        bad = (values != "") & ~_isin(values, spec.values)
        listed = ", ".join(spec.values)
        col.flag(bad, "unknown_category", var, values=values[bad],
                 expected=Text(nb=f"{listed} eller tom", en=f"{listed} or empty"))
    codes: dict[str, pd.Series] = {}
    for item in instrument.item_ids:
        if item not in frame.columns:
            codes[item] = pd.Series(pd.array(np.full(len(frame), pd.NA), dtype="Int8"))
            continue
        scale = instrument.item_scale(item)
        codes[item] = _code_column(col, item, scale.valid_codes, scale.describe(),
                                   (scale.min, scale.max), labels_for(item, True))
    for q in instrument.extra:
        if q.id in frame.columns:
            codes[q.id] = _code_column(col, q.id, frozenset(q.codes), q.describe(), None,
                                       labels_for(q.id, True))
    _only_if(col, instrument, codes)
    keep = ~col.bad
    columns = {
        "respondent_id": pd.array(ids[keep], dtype="str"),
        "wave": _categorical(wave[keep], config.waves, ordered=True),
        "unit_id": pd.array(unit[keep], dtype="str"),
    }
    for var, spec in config.background.items():
        columns[var] = _categorical(background[var][keep], spec.values)
    for column, series in codes.items():
        columns[column] = series.array[keep]
    out = pd.concat({k: pd.Series(v, copy=False) for k, v in columns.items()}, axis=1)
    return col, out


def _text(column: pd.Series):
    """A frame column as text cells: :func:`read_table` keeps object and ``str`` columns as
    trimmed text already (an object array, or a pandas ``str`` array in Arrow memory);
    numbers (a Parquet file's) become text once per distinct value."""
    if column.dtype == object:
        return column.to_numpy()
    if isinstance(column.dtype, pd.StringDtype):
        return column.array
    return as_text(column)


def _duplicated(wave, ids) -> np.ndarray:
    """Rows whose (wave, respondent id) pair appeared on an earlier row."""
    if len(ids) and isinstance(ids, pd.arrays.ArrowStringArray):
        import pyarrow as pa
        import pyarrow.compute as pc

        if pc.count_distinct(pa.array(ids)).as_py() == len(ids):  # every id once: done
            return np.zeros(len(ids), dtype=bool)
    wave_key, wave_values = pd.factorize(wave)
    id_key, _ = pd.factorize(ids)
    pair = pd.Series(id_key.astype(np.int64) * (len(wave_values) + 1) + wave_key)
    return pair.duplicated().to_numpy()


def _categorical(values: np.ndarray, categories: Iterable[str],
                 ordered: bool = False) -> pd.Categorical:
    """Text cells as a Categorical of ``categories`` ("" and unknown texts: missing),
    hashing each distinct text once."""
    categories = list(categories)
    keys, uniques = pd.factorize(values)
    position = pd.Index(categories).get_indexer(pd.Index(uniques, dtype=object))
    codes = np.append(position, -1)[keys]  # factorize gives -1 for missing: the last slot
    return pd.Categorical.from_codes(codes, categories=categories, ordered=ordered)


def _unit_counts(responses: pd.DataFrame, rows: np.ndarray) -> pd.DataFrame:
    """Accepted answers per wave and unit: ``wave, unit_id, answers, first_row`` (the file
    row of the unit's first answer), in one counting pass."""
    if not len(responses):
        return pd.DataFrame({"wave": [], "unit_id": [], "answers": [], "first_row": []})
    waves = responses["wave"].cat.categories
    units, unit_ids = pd.factorize(responses["unit_id"])
    key = responses["wave"].cat.codes.to_numpy().astype(np.int64) * len(unit_ids) + units
    cells, first, size = np.unique(key, return_index=True, return_counts=True)
    return pd.DataFrame({
        "wave": np.asarray(waves, dtype=object)[cells // len(unit_ids)],
        "unit_id": np.asarray(unit_ids, dtype=object)[cells % len(unit_ids)],
        "answers": size, "first_row": rows[first]})


def _no_headcount(counts: pd.DataFrame, headcount: pd.DataFrame, file: str) -> list[Problem]:
    """Units with accepted answers but no headcount row in that wave: a warning each, at the
    unit's first row (the answers are kept; the unit's N is unknown)."""
    has = pd.MultiIndex.from_arrays([headcount["wave"], headcount["unit_id"]])
    missing = counts[~pd.MultiIndex.from_arrays([counts["wave"], counts["unit_id"]]).isin(has)]
    return [Problem("no_headcount", file, row=int(r.first_row), column="unit_id",
                    value=str(r.unit_id), detail={"wave": str(r.wave), "answers": int(r.answers)})
            for r in missing.sort_values("first_row").itertuples()]


def _too_many(counts: pd.DataFrame, headcount: pd.DataFrame, rows: np.ndarray
              ) -> list[Problem]:
    """Units with more accepted answers than invited, located at their first headcount row."""
    answers = counts.set_index(["wave", "unit_id"])["answers"]
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
        code = "not_a_folder" if folder.exists() else "missing_file"
        return Validation(Report(name, (Problem(code, name),)), None)
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
    successors, found, count = _check_successors(folder, config, hierarchies)
    problems.extend(found)
    files.extend([count] if count else [])
    response_path = _response_path(folder, config)
    try:
        known = (*instrument.item_ids, *instrument.extra_ids, *config.background)
        table = read_table(response_path, required=RESPONSE_KEYS, mapping=mapping,
                           display=response_path.name, known=known, text=False)
    except DatasetError as exc:
        problems.append(exc.problem)  # type: ignore[attr-defined]
        return done()
    col, responses = _check_responses(table, config, instrument, mapping, hierarchies, headcount)
    problems.extend(col.sorted_problems())
    files.append(col.count())
    if headcount is not None:
        counts = _unit_counts(responses, col.accepted_rows())
        problems.extend(_no_headcount(counts, headcount, table.file))
        problems.extend(_too_many(counts, headcount, head_rows))
    report = Report(name, tuple(problems), tuple(files))
    if not report.usable:
        return Validation(report, None, _quarantine(col))
    survey = Survey(path=folder, config=config, instrument=instrument, report=report,
                    _hierarchies=hierarchies, _responses=responses, _headcount=headcount,
                    _benchmarks=benchmarks, _successors=successors)
    return Validation(report, survey, _quarantine(col))


def _quarantine(col: _Collector) -> pd.DataFrame:
    """Rejected rows with their file row and problem messages, original cells kept."""
    by_row: dict[int, list[str]] = {}
    for p in col.problems:
        if p.row is not None and p.severity == "error":
            by_row.setdefault(p.row, []).append(p.message("en"))
    table = col.table
    if col.left_out.any():
        note = next(p for p in col.problems if p.code == "left_out")
        reason = f"left out by the mapping's filters ({note.detail['filters']})"
        for row in table.rows[col.left_out]:
            by_row.setdefault(int(row), []).append(reason)
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
