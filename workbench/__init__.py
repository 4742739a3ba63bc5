"""Workbench: an open, offline workbench for employee-survey results.

Load and validate a dataset folder, score factors, aggregate over the hierarchy behind the
privacy layer, compare units honestly.

Examples
--------
>>> from workbench import open_release, stats_table
>>> release = open_release("data_samples/municipality")
>>> table = stats_table(release, wave="2023")
"""

from workbench.compare import compare
from workbench.errors import DatasetError, InstrumentError, UsageError, WorkbenchError
from workbench.instrument import Instrument, builtin_instruments, load_instrument
from workbench.org import Hierarchy
from workbench.privacy import PrivacyPolicy, audit
from workbench.release import Release, build_release, open_release, read_release, write_release
from workbench.reliability import cronbach_alpha, reliability
from workbench.scoring import person_scores
from workbench.stats import stats_table
from workbench.survey import Survey
from workbench.validate import Report, load_survey, validate_dataset

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
