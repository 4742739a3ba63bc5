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

WeasyPrint parses HTML with tinyhtml5, in pure Python (7 % of a unit's PDF time). A plain
page (``<!DOCTYPE html><html>`` to ``</html>``, only elements both parsers read alike, each
closed by its own end tag and none an HTML5 parser closes early, nothing libxml2 finds wrong)
is parsed by lxml instead, 15 times faster, into the tree an HTML5 parser builds (a
``<head>`` always, the rows of a table in a ``<tbody>``, the whitespace after ``</body>`` and
``</html>`` inside the body): the same pages.
Any other page is parsed by WeasyPrint.

Imported only when a PDF is made (WeasyPrint and pango are slow to load).
"""

from __future__ import annotations

import functools
import re
import xml.etree.ElementTree as ElementTree
from importlib.resources import files

import cssselect2
import lxml.etree
import lxml.html
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


#: What an HTML5 parser reads differently from libxml2 (a NUL, a processing instruction, a
#: CDATA section or other ``<!`` than a comment after the doctype), and the doctype that keeps
#: an HTML5 parser out of quirks mode.
_NOT_PLAIN = re.compile(r"\x00|<[?!](?!--)")
_DOCTYPE = re.compile(r"\s*<!DOCTYPE html>\s*<html[\s>]", re.I)
_END = re.compile(r"</html\s*>(\s*)\Z", re.I)


#: What a table and its parts hold in a plain page: an HTML5 parser moves anything else
#: (text too) out in front of the table, libxml2 leaves it in place.
_TABLE_PARTS = {
    "table": {"caption", "colgroup", "thead", "tbody", "tfoot", "tr"},
    "thead": {"tr"}, "tbody": {"tr"}, "tfoot": {"tr"}, "tr": {"td", "th"}, "colgroup": {"col"},
}


#: Where a table's parts stand in a plain page: an HTML5 parser drops them anywhere else.
_PART_OF = {part: {whole for whole, parts in _TABLE_PARTS.items() if part in parts}
            for part in set().union(*_TABLE_PARTS.values())}


class _NotPlain(Exception):
    """A page whose tree an HTML5 parser builds otherwise than lxml."""


def _element(source, parent: str | None = None) -> ElementTree.Element:
    """``source`` (lxml) as an :mod:`xml.etree` element, a table's rows in a ``<tbody>``."""
    if source.tag is lxml.etree.Comment:
        element = ElementTree.Comment(source.text)
    else:
        if parent not in _PART_OF.get(source.tag, (parent,)):
            raise _NotPlain(source.tag)
        allowed = _TABLE_PARTS.get(source.tag)
        if allowed is not None and (source.text or "").strip():
            raise _NotPlain(source.tag)
        element = ElementTree.Element(source.tag, dict(source.attrib))
        element.text = source.text
        body = None
        for child in source:
            if allowed is not None and (
                    (child.tag not in allowed and child.tag is not lxml.etree.Comment)
                    or (child.tail or "").strip()):
                raise _NotPlain(source.tag)
            if source.tag == "table" and child.tag == "tr":
                if body is None:
                    body = ElementTree.SubElement(element, "tbody")
                body.append(_element(child, "tbody"))
            else:
                body = None
                element.append(_element(child, source.tag))
    element.tail = source.tail
    return element


#: The elements of a plain page: the ones both parsers read alike (no foreign content, raw
#: text but ``<style>``, ``<template>``, ``<base>``, forms, or ``<pre>``, whose first newline
#: an HTML5 parser drops); a page with any other is parsed by WeasyPrint.
_PLAIN_TAGS = {
    "html", "head", "body", "meta", "title", "style", "link", "main", "section", "article",
    "header", "footer", "nav", "aside", "div", "span", "p", "a", "b", "i", "em", "strong",
    "small", "sub", "sup", "s", "u", "q", "cite", "code", "abbr", "time", "mark", "br", "wbr",
    "hr", "img", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "dl", "dt", "dd",
    "table", "caption", "colgroup", "col", "thead", "tbody", "tfoot", "tr", "td", "th",
    "figure", "figcaption", "blockquote",
}
#: Elements without an end tag.
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
         "track", "wbr"}
#: Start tags on which an HTML5 parser closes an open ``<p>``.
_CLOSES_P = {"address", "article", "aside", "blockquote", "center", "details", "dialog", "dir",
             "div", "dl", "fieldset", "figcaption", "figure", "footer", "header", "hgroup",
             "main", "menu", "nav", "ol", "p", "pre", "search", "section", "summary", "ul",
             "h1", "h2", "h3", "h4", "h5", "h6", "form", "table", "hr", "listing", "xmp"}
#: Start tags on which an HTML5 parser closes an open element of the same kind.
_CLOSES_SAME = {"a", "li", "dd", "dt", "option", "h1", "h2", "h3", "h4", "h5", "h6", "button"}
_TAG = re.compile(r"<!--.*?-->|<(/?)([a-zA-Z][a-zA-Z0-9]*)(?:[\s/][^>]*)?>", re.S)


def _balanced(html: str) -> bool:
    """Whether every element of ``html`` is one of :data:`_PLAIN_TAGS`, closed by its own end
    tag, in order (no ``<div/>``), and none is one an HTML5 parser closes early (a block in a
    ``<p>``, an ``<li>`` in an ``<li>``): then the open elements are the same for an HTML5
    parser and for libxml2 all along."""
    stack: list[str] = []
    for match in _TAG.finditer(html):
        close, tag = match.group(1), (match.group(2) or "").lower()
        if not tag:
            continue
        if tag not in _PLAIN_TAGS:
            return False
        if tag not in _VOID and match.group(0).endswith("/>"):
            return False  # "<div/>": an HTML5 parser opens it, libxml2 closes it
        if close:
            if not stack or stack.pop() != tag:
                return False
        elif tag not in _VOID:
            if (tag in _CLOSES_P and "p" in stack) or (tag in _CLOSES_SAME and tag in stack):
                return False
            stack.append(tag)
    return not stack


def _tree(html: str) -> ElementTree.Element | None:
    """The tree WeasyPrint's HTML5 parser makes of a plain page, parsed by lxml; None for
    a page that is not plain."""
    start, end = _DOCTYPE.match(html), _END.search(html)
    if (start is None or end is None or _NOT_PLAIN.search(html, start.end())
            or not _balanced(html)):
        return None
    parser = lxml.html.HTMLParser()
    try:
        source = lxml.html.document_fromstring(html, parser=parser)
    except (lxml.etree.ParserError, ValueError):
        return None
    if len(parser.error_log) or not isinstance(source.tag, str):
        return None
    try:
        root = _element(source)
    except _NotPlain:
        return None
    root.text = None  # whitespace before <head>: an HTML5 parser drops it
    if root.find("head") is None:  # and always makes a head
        root.insert(0, ElementTree.Element("head"))
    body = root.find("body")
    if body is None:
        return None
    after = (body.tail or "") + end.group(1)
    if after:  # and puts what follows </body> and </html> inside the body
        if len(body):
            body[-1].tail = (body[-1].tail or "") + after
        else:
            body.text = (body.text or "") + after
        body.tail = None
    return root


class _Page(HTML):
    """A page for WeasyPrint, parsed by lxml when it is plain (:func:`_tree`), and laid out
    with :func:`_ua_sheet` when neither it nor its ``styles`` (taken out of it) make footnotes
    (``float: footnote``) or notes (``position: note()``), as a consultant's template may."""

    def __init__(self, html: str, url_fetcher: URLFetcher | None = None,
                 styles: tuple[str, ...] = ()):
        tree = _tree(html)
        super().__init__(string=html if tree is None else "<!DOCTYPE html>", base_url=None,
                         url_fetcher=url_fetcher or OfflineFetcher())
        if tree is not None:
            self.wrapper_element = cssselect2.ElementWrapper.from_html_root(
                tree, content_language=None)
            self.etree_element = self.wrapper_element.etree_element
        self.parsed_by_lxml = tree is not None
        self.light = not any("footnote" in text or "note(" in text for text in (html, *styles))

    def _ua_stylesheets(self, forms=False):
        sheets = super()._ua_stylesheets(forms)
        return [_ua_sheet(), *sheets[1:]] if self.light else sheets


def _split_styles(html: str) -> tuple[str, tuple[str, ...]]:
    """The page without its ``<style>`` elements in the head, and their texts in order."""
    head, sep, body = html.partition("<body")
    styles = tuple(m.group(2) for m in _STYLE.finditer(head))
    return _STYLE.sub("", head) + sep + body, styles


def _render(html: str, fetcher: OfflineFetcher):
    page, styles = _split_styles(html)
    sheets = [_sheet(text) for text in styles if text.strip()]
    return _Page(page, fetcher, styles).render(
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
