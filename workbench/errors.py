"""One family of errors for everything a user can get wrong.

Every message names the bad value, where it is (file, row, column) and the likely fix.
The command line turns a :class:`WorkbenchError` into one clear line and an exit code,
never a traceback.
"""

from __future__ import annotations

__all__ = ["WorkbenchError", "InstrumentError", "DatasetError", "UsageError"]


class WorkbenchError(ValueError):
    """A problem the user can fix: bad input, bad option, unknown name.

    Attributes
    ----------
    exit_code
        The command-line exit code for this error (2: unusable input or bad usage).
    """

    exit_code: int = 2


class InstrumentError(WorkbenchError):
    """An instrument file (YAML) that does not follow the instrument schema."""


class DatasetError(WorkbenchError):
    """A dataset folder that cannot be used at all (missing or unreadable files)."""


class UsageError(WorkbenchError):
    """A command-line option or argument that does not make sense for this dataset."""
