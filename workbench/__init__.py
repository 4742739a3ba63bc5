"""Workbench: an open, offline workbench for employee-survey results.

Load and validate a dataset folder, score factors, aggregate over the hierarchy behind the
privacy layer, compare units honestly.

Examples
--------
>>> from workbench import load_survey, stats_table
>>> survey = load_survey("data_samples/municipality")
>>> table = stats_table(survey, wave="2023")
"""

from workbench.compare import compare
from workbench.errors import DatasetError, InstrumentError, UsageError, WorkbenchError
from workbench.instrument import Instrument, builtin_instruments, load_instrument
from workbench.org import Hierarchy
from workbench.privacy import PrivacyPolicy, audit, protect
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
    "Report",
    "Survey",
    "UsageError",
    "WorkbenchError",
    "audit",
    "builtin_instruments",
    "compare",
    "cronbach_alpha",
    "load_instrument",
    "load_survey",
    "person_scores",
    "protect",
    "reliability",
    "stats_table",
    "validate_dataset",
]

__version__ = "0.1.0"
