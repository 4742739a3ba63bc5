"""Widget apps served by Voila; their notebooks in ``notebooks/`` only call these.

- :func:`overview_app`: what the release holds and what the privacy rules hid;
- :func:`explorer_app`: analysts explore every unit's published results;
- :func:`leader_page`: one unit's page, opened through a signed link.

Each reads a :class:`workbench.release.Release`, never respondent rows. The names are
imported on first use, so a leader's kernel loads the leader page and not the explorer.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # for type checkers and editors; at run time see __getattr__
    from workbench.apps._common import app_source, load_release
    from workbench.apps.explorer import ExplorerApp, ExplorerState, explorer_app
    from workbench.apps.leader import LeaderApp, LeaderState, leader_page
    from workbench.apps.overview import OverviewState, overview_app

_EXPORTS = {
    "ExplorerApp": "explorer",
    "ExplorerState": "explorer",
    "LeaderApp": "leader",
    "LeaderState": "leader",
    "OverviewState": "overview",
    "app_source": "_common",
    "explorer_app": "explorer",
    "leader_page": "leader",
    "load_release": "_common",
    "overview_app": "overview",
}

__all__ = ["ExplorerApp", "ExplorerState", "LeaderApp", "LeaderState", "OverviewState",
           "app_source", "explorer_app", "leader_page", "load_release", "overview_app"]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'workbench.apps' has no attribute {name!r}")
    value = getattr(import_module(f"workbench.apps.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
