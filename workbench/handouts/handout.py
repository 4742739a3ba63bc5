"""The workshop handout of one unit: an immutable value, rendered to HTML, PDF, PPTX and XLSX.

:meth:`Handout.for_unit` cuts the unit's tables from the release (the published statistics,
views and comparisons; never respondent rows); ``as_html()`` renders a string, ``pdf_bytes()``,
``pptx_bytes()`` and ``xlsx_bytes()`` render files in memory, and ``to_html/to_pdf/to_pptx/
to_xlsx(path)`` write them atomically (a temporary file in the same folder, then
:func:`os.replace`). Methods that change something (``with_branding``, ``with_template``,
``with_date``) return a new handout.

Examples
--------
>>> from workbench import open_release
>>> from workbench.handouts import Handout
>>> release = open_release("data_samples/municipality")
>>> handout = Handout.for_unit(release, "OPP-NOS", wave="2023", lang="en")
>>> html = handout.as_html()
>>> "Nordby School" in html
True
"""

from __future__ import annotations

import datetime as _dt
import os
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd

from workbench.errors import UsageError
from workbench.handouts._tables import (
    THRESHOLD,
    as_release,
    check_handout,
    unit_tables,
    wave_of,
)
from workbench.handouts._template import Branding, Template
from workbench.instrument import Instrument

__all__ = ["Handout", "FORMATS", "write_atomic"]

#: The file formats a handout is written in, in the order they are made.
FORMATS = ("html", "pdf", "pptx", "xlsx")


def write_atomic(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder.

    A reader (or a crash) never sees a half-written file: the temporary file is moved into
    place with :func:`os.replace`, and removed when anything fails.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return path


@dataclass(frozen=True, eq=False)
class Handout:
    """The handout of one unit in one wave and language, holding only published tables.

    Build it with :meth:`for_unit`. Attributes are the release's rows the handout shows (see
    :func:`workbench.handouts._tables.unit_tables`: hidden cells stay hidden, with their
    reason) and the names it needs; none holds respondent rows.
    """

    unit_id: str
    wave: str
    lang: str
    unit_name: str
    path: tuple[str, ...]
    parent_id: str | None
    parent_name: str | None
    survey_name: str
    instrument: Instrument
    waves: tuple[str, ...]
    min_n: int
    threshold: float
    unit: pd.DataFrame
    parent: pd.DataFrame | None
    benchmark_id: str
    benchmark: pd.DataFrame | None
    trend: pd.DataFrame
    items: pd.DataFrame
    alike: pd.DataFrame
    hours: pd.DataFrame | None
    appraisal: pd.DataFrame | None
    comparisons: pd.DataFrame
    rates: pd.DataFrame
    children: pd.DataFrame
    template: Template
    made: _dt.date
    workshop: Any = None

    # ---- building ----------------------------------------------------------------------------

    @classmethod
    def for_unit(cls, release, unit: str, wave: str | int | None = None,
                 lang: str | None = None, branding: Branding | None = None, *,
                 template: Template | str | Path | None = None,
                 made: _dt.date | None = None, workshop=None,
                 store=None) -> "Handout":
        """Cut the tables of ``unit`` from the release.

        Parameters
        ----------
        release
            A :class:`workbench.release.Release` (a dataset or release folder is opened with
            :func:`workbench.release.open_release`).
        unit
            The unit id (its whole subtree).
        wave
            The wave (default: the last).
        lang
            ``nb`` or ``en`` (default: the survey's language).
        branding
            Branding to use instead of the template's ``branding.yaml``.
        template
            A :class:`Template` or a template folder (default: ``templates/default``).
        made
            The date printed on the cover (default: today).
        workshop
            The unit's recorded :class:`~workbench.workshop.WorkshopState` for the wave: the
            worksheets show its votes, chosen factors, future picture, action plan and
            parking lot. None (and nothing recorded): blank worksheets.
        store
            A workshop store (:func:`workbench.workshop.open_store`) to read the unit's
            state from, when ``workshop`` is not given. Only read.

        Raises
        ------
        HandoutRefused
            When none of the unit's factor cells is published in the wave (fewer than
            ``min_n`` answers, or hidden by the complement rule): it gets no handout. A unit
            with some cells hidden gets one, showing what is published.
        UsageError
            Unknown unit, wave or language.
        """
        release = as_release(release)
        lang = lang or release.config.language
        if lang not in ("nb", "en"):
            raise UsageError(f"lang must be 'nb' or 'en', got {lang!r}")
        label = wave_of(release, wave)
        if not isinstance(template, Template):
            template = Template.load(template)
        if branding is not None:
            template = template.with_branding(branding)
        check_handout(release, unit, label)
        tables = unit_tables(release, unit, label, lang, THRESHOLD)
        hierarchy = release.hierarchy(label)
        parent_id = hierarchy.parent(unit)
        if workshop is None and store is not None:
            workshop = store.state(unit, label)
        if workshop is not None and (str(workshop.unit_id), str(workshop.wave)) != (unit, label):
            raise UsageError(f"the workshop state is of unit {workshop.unit_id!r}, wave "
                             f"{workshop.wave}, not of unit {unit!r}, wave {label}")
        return cls(
            unit_id=unit, wave=label, lang=lang, unit_name=hierarchy.name(unit, lang),
            path=tuple(hierarchy.name(u, lang) for u in hierarchy.path(unit)),
            parent_id=parent_id,
            parent_name=hierarchy.name(parent_id, lang) if parent_id else None,
            survey_name=release.config.name(lang), instrument=release.instrument,
            waves=release.waves[: release.waves.index(label) + 1],
            min_n=release.policy.min_n, threshold=THRESHOLD, template=template,
            made=made or _dt.date.today(), workshop=workshop, **tables)

    def with_branding(self, branding: Branding) -> "Handout":
        """The same handout with another branding."""
        return replace(self, template=self.template.with_branding(branding))

    def with_template(self, template: Template | str | Path) -> "Handout":
        """The same handout rendered with another template folder."""
        if not isinstance(template, Template):
            template = Template.load(template)
        return replace(self, template=template)

    def with_date(self, made: _dt.date) -> "Handout":
        """The same handout with another date on the cover."""
        return replace(self, made=made)

    def with_workshop(self, workshop) -> "Handout":
        """The same handout showing another recorded workshop state (None: blank sheets)."""
        if workshop is not None and (str(workshop.unit_id), str(workshop.wave)) != \
                (self.unit_id, self.wave):
            raise UsageError(f"the workshop state is of unit {workshop.unit_id!r}, wave "
                             f"{workshop.wave}, not of unit {self.unit_id!r}, wave "
                             f"{self.wave}")
        return replace(self, workshop=workshop)

    # ---- what it shows -----------------------------------------------------------------------

    def context(self) -> dict:
        """The formatted values the templates receive (numbers already as text)."""
        from workbench.handouts._present import build_context

        return build_context(self)

    # ---- rendering (in memory) ---------------------------------------------------------------

    def as_html(self) -> str:
        """One self-contained HTML page: CSS inline, images as data URIs, no network."""
        from workbench.handouts._present import render_html

        return render_html(self)

    def pdf_bytes(self, html: str | None = None) -> bytes:
        """The handout as an A4 PDF (WeasyPrint; nothing is fetched from a network).

        ``html`` is this handout's :meth:`as_html` when the caller already has it.
        """
        from workbench.handouts._pdf import html_to_pdf

        return html_to_pdf(self.as_html() if html is None else html)

    def pptx_bytes(self) -> bytes:
        """The results and worksheets as editable slides (python-pptx)."""
        from workbench.handouts._pptx import build_pptx

        return build_pptx(self)

    def xlsx_bytes(self) -> bytes:
        """The published tables, one formatted sheet per view (openpyxl)."""
        from workbench.handouts._xlsx import build_xlsx

        return build_xlsx(self)

    def render(self, fmt: str) -> bytes:
        """The handout in ``fmt`` (html, pdf, pptx or xlsx) as bytes."""
        if fmt == "html":
            return self.as_html().encode("utf-8")
        if fmt == "pdf":
            return self.pdf_bytes()
        if fmt == "pptx":
            return self.pptx_bytes()
        if fmt == "xlsx":
            return self.xlsx_bytes()
        raise UsageError(f"format {fmt!r} is not known; use {', '.join(FORMATS)}")

    # ---- writing -----------------------------------------------------------------------------

    def to_html(self, path: str | Path) -> Path:
        return write_atomic(path, self.render("html"))

    def to_pdf(self, path: str | Path) -> Path:
        return write_atomic(path, self.render("pdf"))

    def to_pptx(self, path: str | Path) -> Path:
        return write_atomic(path, self.render("pptx"))

    def to_xlsx(self, path: str | Path) -> Path:
        return write_atomic(path, self.render("xlsx"))

    def filename(self, fmt: str) -> str:
        """``handout-<wave>-<lang>.<fmt>`` (DESIGN.md, Command line)."""
        return f"handout-{self.wave}-{self.lang}.{fmt}"

    def write(self, folder: str | Path, formats: tuple[str, ...] = FORMATS) -> list[Path]:
        """Write the handout in ``formats`` into ``folder``: all of them, or none.

        Every format is rendered first; only then are the files moved into place, so a
        failure leaves no file of this handout behind (files of an earlier run stay).
        """
        unknown = [f for f in formats if f not in FORMATS]
        if unknown:
            raise UsageError(f"format {', '.join(unknown)} is not known; use "
                             f"{', '.join(FORMATS)}")
        html = self.as_html() if {"html", "pdf"} & set(formats) else None
        rendered = [(fmt, html.encode("utf-8") if fmt == "html" else
                     self.pdf_bytes(html) if fmt == "pdf" else self.render(fmt))
                    for fmt in formats]
        folder = Path(folder)
        return [write_atomic(folder / self.filename(fmt), data) for fmt, data in rendered]

    def __repr__(self) -> str:
        return f"Handout({self.unit_id!r}, wave={self.wave!r}, lang={self.lang!r})"
