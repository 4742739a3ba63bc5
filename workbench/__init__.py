"""Workbench: an open, offline workbench for employee-survey results."""

from workbench.errors import DatasetError, InstrumentError, UsageError, WorkbenchError
from workbench.instrument import Instrument, builtin_instruments, load_instrument

__all__ = [
    "DatasetError",
    "Instrument",
    "InstrumentError",
    "UsageError",
    "WorkbenchError",
    "builtin_instruments",
    "load_instrument",
]

__version__ = "0.1.0"
