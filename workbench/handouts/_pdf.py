"""HTML to PDF with WeasyPrint, offline: only ``data:`` and ``file:`` URLs are fetched.

A handout's worksheets and meeting pages are the same for every unit of a batch. The
template marks where they start (``<!--pdf:shared-->``); they are laid out once per worker
and page offset, and joined to each unit's own results pages with
:meth:`weasyprint.Document.copy`. Page numbers and the page total stay right: the results
document ends with as many blank pages as the shared part has, and the shared part is laid
out behind as many blank pages as the results have. Without the mark (a consultant's template
may drop it), the whole page is laid out at once.

Imported only when a PDF is made (WeasyPrint and pango are slow to load).
"""

from __future__ import annotations

import functools
import re

from weasyprint import HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher

__all__ = ["OfflineFetcher", "html_to_pdf", "prepare", "SHARED_MARK"]

ALLOWED = ("data", "file")
SHARED_MARK = "<!--pdf:shared-->"
_BLANK = '<div class="pdf-blank" style="break-before: page"></div>'
# the shared style only: a <style data-unit> holds what is the unit's own (its footer)
_STYLE = re.compile(r"<style>.*?</style>", re.S)


class OfflineFetcher(URLFetcher):
    """A URL fetcher that refuses everything but ``data:`` and ``file:`` URLs.

    Handouts are self-contained; a stray ``http(s)://`` reference (say, in a consultant's
    template) is refused and listed in :attr:`refused` instead of being fetched.
    """

    def __init__(self, **kwargs):
        super().__init__(allowed_protocols=set(ALLOWED), **kwargs)
        self.refused: list[str] = []

    def fetch(self, url, headers=None):
        scheme = url.split(":", 1)[0].lower() if ":" in url else ""
        if scheme not in ALLOWED:
            self.refused.append(url)
            raise ValueError(f"handouts fetch nothing from a network: {url!r} refused")
        return super().fetch(url, headers)


@functools.lru_cache(maxsize=1)
def _fonts() -> FontConfiguration:
    # one font configuration per process: fonts are found and loaded once, not per document
    return FontConfiguration()


def _render(html: str, fetcher: OfflineFetcher):
    return HTML(string=html, base_url=None, url_fetcher=fetcher).render(font_config=_fonts())


@functools.lru_cache(maxsize=16)
def _shared(styles: str, shared: str, blanks: int):
    """The shared pages laid out behind ``blanks`` blank pages (cached per worker)."""
    html = f"<!DOCTYPE html><html><head>{styles}</head><body><main>{_BLANK * blanks}{shared}"
    return _render(html, OfflineFetcher())


def _parts(html: str) -> tuple[str, str, str]:
    own, shared = html.split(SHARED_MARK, 1)
    styles = "".join(_STYLE.findall(own.split("<main>", 1)[0]))
    return own, shared, styles


def prepare(html: str, spread: int = 1) -> None:
    """Lay out the shared pages behind this handout's page count and its neighbours.

    A batch calls it once before forking its workers, which then inherit the layouts.
    """
    if SHARED_MARK not in html or "<main>" not in html:
        return
    own, shared, styles = _parts(html)
    count = len(_shared(styles, shared, 0).pages)
    results = _render(f"{own}{_BLANK * count}</main></body></html>", OfflineFetcher())
    pages = len(results.pages) - count
    for offset in range(max(1, pages - spread), pages + spread + 1):
        _shared(styles, shared, offset)


def html_to_pdf(html: str, fetcher: OfflineFetcher | None = None) -> bytes:
    """Render ``html`` to PDF bytes (A4, margins and page footers come from the page's CSS)."""
    fetcher = fetcher if fetcher is not None else OfflineFetcher()
    if SHARED_MARK not in html or "<main>" not in html:
        return _render(html, fetcher).write_pdf()
    own, shared, styles = _parts(html)
    count = len(_shared(styles, shared, 0).pages)
    results = _render(f"{own}{_BLANK * count}</main></body></html>", fetcher)
    pages = len(results.pages) - count
    behind = _shared(styles, shared, pages)
    return results.copy(results.pages[:pages] + behind.pages[pages:]).write_pdf()
