"""The dataset's settings (``survey.yaml``) and the loaded, immutable :class:`Survey`.

A :class:`Survey` is what every later layer (scoring, aggregation, privacy, apps, handouts)
receives. It is built by :func:`workbench.validate.load_survey` from a dataset folder and holds
only the rows that passed validation.

Examples
--------
>>> from workbench import load_survey
>>> survey = load_survey("data_samples/municipality")
>>> survey.waves
('2021', '2023')
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

import pandas as pd
import yaml

from workbench._problems import Problem
from workbench.instrument import Instrument, Text
from workbench.org import Hierarchy, Lineage

if TYPE_CHECKING:
    from workbench.validate import Report

__all__ = ["BackgroundVariable", "SurveyConfig", "Survey", "read_config", "RESPONSE_FILES",
           "MIN_N_DEFAULT", "MIN_N_FLOOR"]

RESPONSE_FILES = ("responses.csv", "responses.xlsx", "responses.parquet")
MIN_N_DEFAULT = 5
MIN_N_FLOOR = 3


@dataclass(frozen=True)
class BackgroundVariable:
    """A background column (gender, position, ...) with its allowed codes and labels."""

    id: str
    name: Text
    values: Mapping[str, Text]


@dataclass(frozen=True)
class SurveyConfig:
    """The settings of ``survey.yaml``."""

    name: Text
    instrument: str
    waves: tuple[str, ...]
    language: str = "nb"
    min_n: int = MIN_N_DEFAULT
    background_levels: tuple[int, ...] = (0,)
    background: Mapping[str, BackgroundVariable] = field(default_factory=dict)
    responses: str | None = None
    benchmarks: str | None = None
    benchmark_by: str | None = None
    mapping: str | None = None


class ConfigProblem(Exception):
    """Raised inside :func:`read_config`; carries the :class:`Problem`."""

    def __init__(self, problem: Problem):
        super().__init__(problem.message())
        self.problem = problem


def _bad(key: str, reason: str) -> ConfigProblem:
    return ConfigProblem(Problem("bad_config", "survey.yaml", column=key,
                                 detail={"reason": reason}))


def _text(value: Any, key: str) -> Text:
    if isinstance(value, Mapping):
        nb = value.get("nb", value.get("en"))
        en = value.get("en", nb)
        if nb is None:
            raise _bad(key, f"{key} must be a text or {{nb: ..., en: ...}}")
        return Text(nb=str(nb), en=str(en))
    return Text(nb=str(value), en=str(value))


def read_config(folder: Path) -> tuple[SurveyConfig, list[Problem]]:
    """Read ``survey.yaml`` in ``folder``.

    Returns
    -------
    config, warnings
        Warnings are problems of severity ``warning`` (e.g. ``min_n`` below 5).

    Raises
    ------
    ConfigProblem
        With an ``unusable`` problem when the file is missing or breaks the contract.
    """
    path = folder / "survey.yaml"
    if not path.is_file():
        raise ConfigProblem(Problem("missing_file", "survey.yaml"))
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.MarkedYAMLError as exc:
        # Name the row (as an editor numbers it) rather than echo the parser's own report.
        mark = exc.problem_mark
        reason = str(exc.problem)
        if exc.context and exc.context_mark is not None:
            reason += f" ({exc.context} that starts on row {exc.context_mark.line + 1})"
        raise ConfigProblem(Problem("unreadable_file", "survey.yaml",
                                    row=None if mark is None else mark.line + 1,
                                    detail={"reason": reason})) from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigProblem(Problem("unreadable_file", "survey.yaml",
                                    detail={"reason": str(exc).replace("\n", " ")})) from None
    if not isinstance(data, Mapping):
        raise _bad("survey.yaml", "survey.yaml must be a YAML mapping with name, instrument and "
                   "waves")
    for key in ("name", "instrument", "waves"):
        if data.get(key) in (None, "", []):
            raise _bad(key, f"the key {key!r} is missing; survey.yaml needs name, instrument and "
                       "waves")
    waves = data["waves"]
    if not isinstance(waves, list):
        raise _bad("waves", f"waves must be a list of labels such as [2019, 2021], got {waves!r}")
    wave_labels = tuple(str(w) for w in waves)
    if len(set(wave_labels)) != len(wave_labels):
        raise _bad("waves", f"waves lists a wave twice: {list(wave_labels)}")
    language = str(data.get("language", "nb"))
    if language not in ("nb", "en"):
        raise _bad("language", f"language must be nb or en, got {language!r}")
    privacy = data.get("privacy") or {}
    if not isinstance(privacy, Mapping):
        raise _bad("privacy", "privacy must be a mapping with min_n and background_levels")
    warnings: list[Problem] = []
    try:
        min_n = int(privacy.get("min_n", MIN_N_DEFAULT))
    except (TypeError, ValueError):
        raise _bad("privacy.min_n", f"min_n must be a whole number, got "
                   f"{privacy.get('min_n')!r}") from None
    if min_n < MIN_N_FLOOR:
        raise _bad("privacy.min_n", f"min_n {min_n} is refused: results from fewer than "
                   f"{MIN_N_FLOOR} persons are never published")
    if min_n < MIN_N_DEFAULT:
        warnings.append(Problem("low_min_n", "survey.yaml", column="privacy.min_n",
                                value=str(min_n)))
    levels = privacy.get("background_levels", [0])
    if not isinstance(levels, list) or not all(isinstance(v, int) and v >= 0 for v in levels):
        raise _bad("privacy.background_levels", "background_levels must be a list of hierarchy "
                   f"depths (0 = the whole organisation), got {levels!r}")
    background = {}
    for var, spec in (data.get("background") or {}).items():
        if not isinstance(spec, Mapping) or not isinstance(spec.get("values"), Mapping):
            raise _bad(f"background.{var}", f"background variable {var!r} needs values: "
                       "{code: label, ...}")
        background[str(var)] = BackgroundVariable(
            id=str(var), name=_text(spec.get("name", var), f"background.{var}.name"),
            values={str(k): _text(v, f"background.{var}.values") for k, v in
                    spec["values"].items()})
    optional = {k: (None if data.get(k) is None else str(data[k]))
                for k in ("responses", "benchmarks", "benchmark_by", "mapping")}
    config = SurveyConfig(name=_text(data["name"], "name"), instrument=str(data["instrument"]),
                          waves=wave_labels, language=language, min_n=min_n,
                          background_levels=tuple(levels), background=background, **optional)
    return config, warnings


@dataclass(frozen=True, eq=False)
class Survey:
    """A validated dataset: settings, instrument, hierarchy, headcounts, answers, benchmarks.

    The frames are handed out as copies that share memory (pandas copy-on-write), so no
    caller can change the survey another layer sees.

    Attributes
    ----------
    path
        The dataset folder.
    config
        The settings of ``survey.yaml``.
    instrument
        The instrument the answers belong to.
    report
        The validation report (problems found, rows read, accepted and rejected).
    """

    path: Path
    config: SurveyConfig
    instrument: Instrument
    report: "Report"
    _hierarchies: Mapping[str, Hierarchy] = field(repr=False)
    _responses: pd.DataFrame = field(repr=False)
    _headcount: pd.DataFrame | None = field(default=None, repr=False)
    _benchmarks: pd.DataFrame | None = field(default=None, repr=False)
    _successors: pd.DataFrame | None = field(default=None, repr=False)

    @property
    def name(self) -> Text:
        return self.config.name

    @property
    def waves(self) -> tuple[str, ...]:
        return self.config.waves

    @property
    def background(self) -> tuple[str, ...]:
        """Background column names (gender, position, ...)."""
        return tuple(self.config.background)

    def hierarchy(self, wave: str | None = None) -> Hierarchy:
        """The org tree in ``wave`` (default: the last wave)."""
        wave = self.waves[-1] if wave is None else str(wave)
        return self._hierarchies[wave]

    @property
    def responses(self) -> pd.DataFrame:
        """Accepted answers: ``respondent_id, wave, unit_id``, background columns, item
        columns (raw codes, missing codes kept, ``Int8``), extra questions."""
        return self._responses.copy(deep=False)

    @property
    def headcount(self) -> pd.DataFrame | None:
        """``wave, unit_id``, background columns, ``invited``; None when not supplied."""
        return None if self._headcount is None else self._headcount.copy(deep=False)

    @property
    def benchmarks(self) -> pd.DataFrame | None:
        """``wave, benchmark, factor, mean`` (+ ``sd, n``); None when not supplied."""
        return None if self._benchmarks is None else self._benchmarks.copy(deep=False)

    @property
    def successors(self) -> pd.DataFrame:
        """``successors.csv``: ``wave, unit_id, successor_id`` (unit X of ``wave`` lives on as
        ``successor_id`` in the next wave); empty when the file is not supplied."""
        if self._successors is None:
            return pd.DataFrame({c: pd.Series([], dtype=object)
                                 for c in ("wave", "unit_id", "successor_id")})
        return self._successors.copy(deep=False)

    def lineage(self) -> Lineage:
        """Units across waves (renamed, merged, split): see :class:`workbench.org.Lineage`."""
        return Lineage(waves=self.waves, table=self.successors, hierarchies=self._hierarchies)

    def __repr__(self) -> str:
        return (f"Survey({self.config.name.nb!r}, instrument={self.instrument.id!r}, "
                f"waves={list(self.waves)}, answers={len(self._responses)})")
