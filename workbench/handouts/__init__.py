"""Workshop handouts for one unit or every unit: HTML, PDF, PPTX and XLSX, bokmål and English.

Handouts read the release only (:mod:`workbench.release`). :class:`Handout` is one unit's
handout (an immutable value cut from the release); :func:`make_handouts` writes them for a
batch of units (``workbench handouts``); :func:`handout_units` says which units get one and
why the others do not; templates and branding live in ``templates/`` (:class:`Template`,
:class:`Branding`).
"""

from workbench.handouts._tables import HandoutRefused, handout_units
from workbench.handouts._template import Branding, Template, default_template_dir
from workbench.handouts.batch import BatchResult, make_handouts
from workbench.handouts.handout import FORMATS, Handout, write_atomic

__all__ = ["FORMATS", "BatchResult", "Branding", "Handout", "HandoutRefused", "Template",
           "default_template_dir", "handout_units", "make_handouts", "write_atomic"]
