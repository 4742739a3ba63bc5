"""Widget apps served by Voila; their notebooks in ``notebooks/`` only call these."""

from workbench.apps.overview import OverviewState, overview_app

__all__ = ["OverviewState", "overview_app"]
