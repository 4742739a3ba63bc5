"""Workbench: an open, offline workbench for employee-survey results.

Load and validate a dataset folder, score factors, aggregate over the hierarchy behind the
privacy layer, compare units honestly.

The names below are imported on first use (PEP 562), so that ``import workbench`` (and a
Voila kernel that only shows a release) starts without scipy or statsmodels.

Examples
--------
>>> from workbench import open_release, stats_table
>>> release = open_release("data_samples/municipality")
>>> table = stats_table(release, wave="2023")
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # for type checkers and editors; at run time see __getattr__
    from workbench.compare import compare
    from workbench.errors import DatasetError, InstrumentError, UsageError, WorkbenchError
    from workbench.instrument import Instrument, builtin_instruments, load_instrument
    from workbench.org import Hierarchy
    from workbench.privacy import PrivacyPolicy, audit
    from workbench.release import (
        Release,
        build_release,
        open_release,
        read_release,
        write_release,
    )
    from workbench.reliability import cronbach_alpha, reliability
    from workbench.scoring import person_scores
    from workbench.stats import stats_table
    from workbench.survey import Survey
    from workbench.validate import Report, load_survey, validate_dataset

# public name -> module that defines it
_EXPORTS = {
    "DatasetError": "errors",
    "Hierarchy": "org",
    "Instrument": "instrument",
    "InstrumentError": "errors",
    "PrivacyPolicy": "privacy",
    "Release": "release",
    "Report": "validate",
    "Survey": "survey",
    "UsageError": "errors",
    "WorkbenchError": "errors",
    "audit": "privacy",
    "build_release": "release",
    "builtin_instruments": "instrument",
    "compare": "compare",
    "cronbach_alpha": "reliability",
    "load_instrument": "instrument",
    "load_survey": "validate",
    "open_release": "release",
    "person_scores": "scoring",
    "read_release": "release",
    "reliability": "reliability",
    "stats_table": "stats",
    "validate_dataset": "validate",
    "write_release": "release",
}

__all__ = [
    "DatasetError",
    "Hierarchy",
    "Instrument",
    "InstrumentError",
    "PrivacyPolicy",
    "Release",
    "Report",
    "Survey",
    "UsageError",
    "WorkbenchError",
    "audit",
    "build_release",
    "builtin_instruments",
    "compare",
    "cronbach_alpha",
    "load_instrument",
    "load_survey",
    "open_release",
    "person_scores",
    "read_release",
    "reliability",
    "stats_table",
    "validate_dataset",
    "write_release",
]

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'workbench' has no attribute {name!r}")
    value = getattr(import_module(f"workbench.{module}"), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
