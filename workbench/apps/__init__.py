"""Widget apps served by Voila; their notebooks in ``notebooks/`` only call these.

- :func:`overview_app`: what was loaded and how every row was accounted for;
- :func:`explorer_app`: analysts explore every unit's published results;
- :func:`leader_page`: one unit's page, opened through a signed link.
"""

from workbench.apps.explorer import ExplorerApp, ExplorerState, explorer_app
from workbench.apps.leader import LeaderApp, LeaderState, leader_page
from workbench.apps.overview import OverviewState, overview_app

__all__ = ["ExplorerApp", "ExplorerState", "LeaderApp", "LeaderState", "OverviewState",
           "explorer_app", "leader_page", "overview_app"]
