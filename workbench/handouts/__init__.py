"""Workshop handouts for one unit or every unit: HTML, PDF, PPTX and XLSX, bokmål and English.

:class:`Handout` is one unit's handout (an immutable value built from published tables);
:func:`make_handouts` writes them for a batch of units (``workbench handouts``); templates and
branding live in ``templates/`` (:class:`Template`, :class:`Branding`).
"""

from workbench.handouts._tables import HandoutRefused, Published
from workbench.handouts._template import Branding, Template, default_template_dir
from workbench.handouts.batch import BatchResult, make_handouts
from workbench.handouts.handout import FORMATS, Handout, write_atomic

__all__ = ["FORMATS", "BatchResult", "Branding", "Handout", "HandoutRefused", "Published",
           "Template", "default_template_dir", "make_handouts", "write_atomic"]
