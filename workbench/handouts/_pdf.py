"""HTML to PDF with WeasyPrint, offline: only ``data:`` and ``file:`` URLs are fetched.

A handout's worksheets and meeting pages are the same for every unit of a batch. The
template marks where they start (``<!--pdf:shared-->``); they are laid out once per worker
and page offset (behind as many blank pages as the unit's results have, so that their page
numbers follow on), and joined to each unit's own results pages with
:meth:`weasyprint.Document.copy`. Without the mark (a consultant's template may drop it), the
whole page is laid out at once.

The page's style sheets are parsed once per process, not per handout: the shared ``<style>``
and the unit's own ``<style data-unit>`` (its footer) are taken out of the page and handed to
WeasyPrint parsed, in the same order.

WeasyPrint's default (user-agent) style sheet gives every element five pseudo-elements for
footnotes and notes and a ``::marker``; computing their styles takes about 6 % of a unit's PDF
time. A page that makes no footnotes or notes (no ``footnote`` or ``note(`` in it) is laid out
with a copy of that sheet without them and with ``::marker`` on list items only: the same
pages.

Imported only when a PDF is made (WeasyPrint and pango are slow to load).
"""

from __future__ import annotations

import functools
import re
from importlib.resources import files

from weasyprint import CSS, HTML
from weasyprint.html import UA_COUNTER_STYLE
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher

__all__ = ["OfflineFetcher", "html_to_pdf", "prepare", "SHARED_MARK"]

ALLOWED = ("data", "file")
SHARED_MARK = "<!--pdf:shared-->"
_BLANK = '<div class="pdf-blank" style="break-before: page"></div>'
_STYLE = re.compile(r"<style( data-unit)?>(.*?)</style>", re.S)


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


#: Images by URL, kept for the process: the logo is the same on every handout of a batch.
_IMAGES: dict = {}


@functools.lru_cache(maxsize=8)
def _sheet(text: str) -> CSS:
    # an @import in a consultant's sheet is refused like any other network address
    return CSS(string=text, font_config=_fonts(), url_fetcher=OfflineFetcher())


#: Rules of WeasyPrint's user-agent sheet for every element's footnote and note pseudo-elements.
_NOTE_RULES = re.compile(
    r"^::(?:footnote-call|footnote-marker|note-call|note-marker|note-callback)\s*\{[^}]*\}\s*$",
    re.M)


@functools.lru_cache(maxsize=1)
def _ua_sheet() -> CSS:
    """WeasyPrint's user-agent sheet without the footnote and note rules that match every
    element, and with ``::marker`` only where there are markers (list items, summaries)."""
    text = files("weasyprint.css").joinpath("html5_ua.css").read_text(encoding="utf-8")
    text = _NOTE_RULES.sub("", text).replace("\n::marker {", "\nli::marker, summary::marker {")
    return CSS(string=text, counter_style=UA_COUNTER_STYLE)


class _Page(HTML):
    """An HTML page laid out with :func:`_ua_sheet` (for pages without footnotes or notes)."""

    def _ua_stylesheets(self, forms=False):
        return [_ua_sheet(), *super()._ua_stylesheets(forms)[1:]]


def _page_kind(html: str) -> type[HTML]:
    """:class:`_Page`, or WeasyPrint's :class:`HTML` for a page that may make footnotes
    (``float: footnote``) or notes (``position: note()``), as a consultant's template may."""
    return HTML if "footnote" in html or "note(" in html else _Page


def _split_styles(html: str) -> tuple[str, tuple[str, ...]]:
    """The page without its ``<style>`` elements in the head, and their texts in order."""
    head, sep, body = html.partition("<body")
    styles = tuple(m.group(2) for m in _STYLE.finditer(head))
    return _STYLE.sub("", head) + sep + body, styles


def _render(html: str, fetcher: OfflineFetcher):
    page, styles = _split_styles(html)
    sheets = [_sheet(text) for text in styles if text.strip()]
    return _page_kind(html)(string=page, base_url=None, url_fetcher=fetcher).render(
        font_config=_fonts(), stylesheets=sheets, cache=_IMAGES)


@functools.lru_cache(maxsize=16)
def _shared(head: str, shared: str, blanks: int):
    """The shared pages laid out behind ``blanks`` blank pages (cached per worker)."""
    return _render(f"{head}<body><main>{_BLANK * blanks}{shared}", OfflineFetcher())


def _parts(html: str) -> tuple[str, str, str]:
    """(the unit's own part, the shared part, a head for the shared part: the page's
    ``<html>`` tag and shared style, nothing of the unit's, so one layout serves all)."""
    own, shared = html.split(SHARED_MARK, 1)
    head = own.split("<body", 1)[0]
    tag = re.search(r"<html[^>]*>", head)
    styles = "".join(f"<style>{m.group(2)}</style>" for m in _STYLE.finditer(head)
                     if not m.group(1))
    return own, shared, f"<!DOCTYPE html>{tag.group(0) if tag else '<html>'}<head>{styles}</head>"


#: The shared part of the last handout laid out in this process: (head, shared, its pages).
_last: list[tuple[str, str, int]] = []


def prepare(spread: int = 1) -> None:
    """Lay out the shared pages for the page counts next to the last handout's.

    A batch calls it after its first handout, before forking its workers, which then inherit
    the layouts (most units' results take about as many pages as the first one's).
    """
    if not _last:
        return
    head, shared, pages = _last[-1]
    for offset in range(max(1, pages - spread), pages + spread + 1):
        _shared(head, shared, offset)


def html_to_pdf(html: str, fetcher: OfflineFetcher | None = None) -> bytes:
    """Render ``html`` to PDF bytes (A4, margins and page footers come from the page's CSS)."""
    fetcher = fetcher if fetcher is not None else OfflineFetcher()
    if SHARED_MARK not in html or "<main>" not in html:
        return _render(html, fetcher).write_pdf()
    own, shared, head = _parts(html)
    results = _render(f"{own}</main></body></html>", fetcher)
    pages = len(results.pages)
    behind = _shared(head, shared, pages)
    _last[:] = [(head, shared, pages)]
    return results.copy(results.pages + behind.pages[pages:]).write_pdf()
