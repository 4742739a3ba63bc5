"""Where the project's folders outside the package are: ``templates/`` and ``notebooks/``.

In a checkout (the usual way: ``make app``, an editable install) they sit beside
``workbench/``. A regular install (``pip install .``, a wheel) puts copies under
``<prefix>/share/workbench/`` (``[tool.setuptools.data-files]`` in pyproject.toml), which is
where they are looked for when there is no checkout.
"""

from __future__ import annotations

import sys
from pathlib import Path

__all__ = ["resource_dir"]

CHECKOUT = Path(__file__).resolve().parents[1]


def resource_dir(name: str, marker: str) -> Path | None:
    """The folder ``name`` (e.g. ``templates/default``) holding ``marker``, from the checkout
    or the installed share folder; None when neither has it."""
    for base in (CHECKOUT, Path(sys.prefix) / "share" / "workbench"):
        folder = base / name
        if (folder / marker).is_file():
            return folder
    return None
