"""What every CMS family module is made of: the page it reads, the records it returns, its
link shapes, content containers and markers as data, and the link readers they share.

Pure: text or an lxml tree in, records out. No Scrapy here, so that the crawler (which turns
:class:`NextPage` into requests) and the extractor (which reads :class:`Container` and
:class:`Markers`) read the same knowledge and ``pipelines/`` runs without Scrapy loaded.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar
from urllib.parse import urljoin

from pipelines.files import ATTACHMENT, IMAGE
from pipelines.metadata import parse_date

if TYPE_CHECKING:
    from pipelines.records import ListContext


def html_parser():
    """A new HTML parser (huge trees allowed) whose elements are lxml.html's ``HtmlElement``
    (``text_content``, ``drop_tree``, ``drop_tag``), each of one class chosen in C.

    ``lxml.html.HTMLParser`` picks each element's class in Python, by tag, for its form
    classes, which this project never uses: that lookup ran for every element of each walk
    over a tree, about a tenth of the extraction of a portal page."""
    import lxml.html
    from lxml import etree

    parser = etree.HTMLParser(huge_tree=True)
    parser.set_element_class_lookup(etree.ElementDefaultClassLookup(
        element=lxml.html.HtmlElement, comment=lxml.html.HtmlComment,
        pi=lxml.html.HtmlProcessingInstruction, entity=lxml.html.HtmlEntity))
    return parser


def markup_tree(text: str):
    """An lxml tree of list markup (a page, or a fragment an API answered with). A list is
    read for its links only: what libxml2 cannot parse is an empty page, not an error."""
    import lxml.html
    from lxml.etree import ParserError

    try:
        return lxml.html.document_fromstring(text or "<p></p>", parser=html_parser())
    except (ParserError, ValueError):
        return lxml.html.document_fromstring("<p></p>", parser=html_parser())


@dataclass(frozen=True)
class ListPage:
    """A list page or a list API's answer, as fetched: its final URL, its decoded text, its
    parsed tree (``root``, None for a JSON answer) and the ``state`` that the
    :class:`NextPage` which asked for it carried (a form, a page number)."""

    url: str
    text: str
    root: object | None = None
    content_type: str = ""
    state: Mapping = field(default_factory=dict)

    @classmethod
    def parse(cls, url: str, text: str, *, content_type: str = "text/html",
              state: Mapping | None = None) -> ListPage:
        """A page from its text: parsed as HTML (or XML, for a recordset) when it is markup."""
        markup = text.lstrip()[:1] == "<"
        return cls(url, text, markup_tree(text) if markup else None, content_type, state or {})

    @property
    def is_xml(self) -> bool:
        return "xml" in self.content_type.lower()

    @functools.cached_property
    def anchors(self) -> list[Listed]:
        """Every link of the page (:func:`anchors`), read once: the family's documents, the
        generic rules' reports and the pager are all picked from them."""
        return list(anchors(self.root, self.url))


@dataclass(frozen=True)
class NextPage:
    """A further list page a family asks for: a GET, or a POST of ``form``. Its ``state``
    comes back on the answer's :attr:`ListPage.state`."""

    url: str
    form: Mapping[str, str] | None = None
    state: Mapping = field(default_factory=dict)


@dataclass(frozen=True)
class Listed:
    """A document a list page points to, and what the list says about it (sidecar context)."""

    url: str
    title: str | None = None
    date: str | None = None
    extra: dict[str, str] = field(default_factory=dict, hash=False)

    def context(self, list_url: str) -> ListContext:
        found = {"title": self.title, "date": self.date, "list_url": list_url, **self.extra}
        return {k: v for k, v in found.items() if v}


def list_date(text: str | int | float | None) -> str | None:
    """A list's date as ISO text, read as the extractor reads a document's
    (:func:`pipelines.metadata.parse_date`: Unix seconds or milliseconds in China time, only a
    date that exists), so the list context and the document never disagree."""
    found = parse_date(str(text)) if isinstance(text, str | int | float) else None
    return found.isoformat() if found else None


# -- link shapes, as data ---------------------------------------------------------------------

#: The pieces a link shape is written with (``/t{yyyymmdd}_{id}.{html}``).
_PIECES = {"yyyymmdd": r"\d{8}", "yyyymm": r"\d{6}", "dated": r"\d{6,8}", "yyyy": r"\d{4}",
           "m": r"\d{1,2}", "d": r"\d{1,2}", "id": r"\d+", "name": r"[\w-]+",
           "html": r"s?html?", "htm": r"html?"}
_PIECE = re.compile(r"\{(\w+)\}")


def _shape_pattern(shape: str) -> str:
    prefix = shape.endswith("*")
    parts = _PIECE.split(shape.rstrip("*"))
    pattern = "".join(_PIECES[part] if i % 2 else re.escape(part) for i, part in enumerate(parts))
    return pattern if prefix else pattern + r"(?=$|[?#])"


class LinkShapes:
    """URL shapes of the documents a family's lists point to, written as data:
    ``/t{yyyymmdd}_{id}.{html}``, ``/art/*``. A shape ending in ``*`` is a prefix; any other
    ends the URL's path. A link to an attachment (:data:`pipelines.files.ATTACHMENT`) always
    matches: lists point to PDFs too."""

    def __init__(self, *shapes: str):
        self.shapes = shapes
        self._pattern = re.compile("|".join([_shape_pattern(s) for s in shapes]
                                            + [ATTACHMENT.pattern]), re.I)

    def match(self, url: str) -> bool:
        return bool(self._pattern.search(url))

    def __or__(self, other: LinkShapes) -> LinkShapes:
        return LinkShapes(*dict.fromkeys(self.shapes + other.shapes))

    def __repr__(self) -> str:
        return f"LinkShapes{self.shapes!r}"


@dataclass(frozen=True)
class Container:
    """An element that holds a report's own text on a family's pages: a tag, a class token or
    an id (any that is set must match). ``rank`` orders them across families, narrower
    first: a TRS editor box sits inside a Ucap page's content element."""

    rank: int
    tag: str | None = None
    class_token: str | None = None
    element_id: str | None = None

    def holds(self, element) -> bool:
        return ((self.tag is None or element.tag == self.tag)
                and (self.class_token is None
                     or self.class_token in (element.get("class") or "").split())
                and (self.element_id is None or element.get("id") == self.element_id))

    @property
    def name(self) -> str:
        return self.class_token or self.element_id or self.tag or ""


@dataclass(frozen=True)
class Markers:
    """Comments a family's template puts around the report's text (Hanweb's ``ZJEG_RSS``)."""

    begin: re.Pattern[str]
    end: re.Pattern[str]

    def between(self, html: str) -> str | None:
        """What lies between the first begin marker and the end marker after it. Two
        searches for fixed markers, not ``begin(.*?)end``: a page of many unterminated begin
        markers would make the lazy group scan the rest of the page from each of them."""
        begin = self.begin.search(html)
        if begin is None:
            return None
        end = self.end.search(html, begin.end())
        return html[begin.end():end.start()] if end is not None else None


# -- links of a page ----------------------------------------------------------------------------

#: Links read from one page at most (a list page, or a document page for its attachments).
#: Real list pages hold tens to a few hundred; a page of 200,000 junk links must not hold the
#: crawl's memory. The crawl record counts the pages cut (``links_capped``).
MAX_PAGE_LINKS = 5000


def page_links(root) -> Iterator:
    """The page's first :data:`MAX_PAGE_LINKS` ``<a href>`` elements, in document order, taken
    lazily: the rest are never turned into Python objects. None (a JSON answer): none."""
    if root is None:
        return iter(())
    return itertools.islice((a for a in root.iter("a") if a.get("href") is not None),
                            MAX_PAGE_LINKS)


def links_beyond_cap(root) -> int:
    """How many ``<a href>`` of a page lie beyond :data:`MAX_PAGE_LINKS` (0 for most pages)."""
    if root is None:
        return 0
    return max(0, int(root.xpath("count(//a[@href])")) - MAX_PAGE_LINKS)


def link_target(base_url: str, href: str) -> str | None:
    href = href.strip()
    if not href or href.startswith(("#", "javascript:", "mailto:")):
        return None
    return urljoin(base_url, href).split("#", 1)[0]


def anchors(root, base_url: str) -> Iterator[Listed]:
    """Every link of a page once (by URL), up to :data:`MAX_PAGE_LINKS`, with its text (or
    ``title``) and its row's date (the nearest ``li``/``tr``/``p``; for a link in a ``<dt>``
    or ``<dd>``, that one and the ``<dd>`` right after it: lists that put the date in a
    ``<dd>`` of its own)."""
    seen = set()
    for anchor in page_links(root):
        url = link_target(base_url, anchor.get("href"))
        if url is None or url in seen:
            continue
        seen.add(url)
        title = (anchor.get("title") or " ".join(anchor.xpath(".//text()"))).strip()
        row = anchor.xpath("ancestor::*[self::li or self::tr or self::dd or self::p][1]")
        if not row or row[0].tag == "dd":  # a term or a cell of a dl row: its next dd too
            row = anchor.xpath("ancestor::*[self::dt or self::dd][1] | ancestor::*[self::dt "
                               "or self::dd][1]/following-sibling::*[1][self::dd]")
        row_text = " ".join(t for node in row[:2] for t in node.xpath(".//text()"))
        yield Listed(url, title or None, list_date(row_text))


def list_items(root, base_url: str, links: LinkShapes | None = None,
               text: re.Pattern[str] | None = None) -> Iterator[Listed]:
    """Anchors of list rows whose URL has one of the ``links`` shapes or whose text matches
    ``text``."""
    for item in anchors(root, base_url):
        if (links and links.match(item.url)) or (text and text.search(item.title or "")):
            yield item


def attachment_links(root, base_url: str) -> list[tuple[str, str]]:
    """(URL, link text) of every attachment a page links to (a document file, or a scan's
    image), once each, in page order (the pictures a report is made of are
    :func:`pipelines.extract.picture_pages`)."""
    found: dict[str, str] = {}
    for anchor in page_links(root):
        href = anchor.get("href")
        # The suffix is read on the href as written: resolving every link of a page (menus
        # hold hundreds) would cost more than the rest of its extraction.
        if not (ATTACHMENT.search(href) or IMAGE.search(href)):
            continue
        url = link_target(base_url, href)  # resolving keeps the href's file suffix
        if url is not None and url not in found:
            found[url] = anchor.text_content().strip()
    return list(found.items())


class Family:
    """One CMS platform: how to recognise its pages, read its lists and find its reports'
    text. Subclasses set the class data and override :meth:`detect` and :meth:`parse_list`."""

    name: ClassVar[str]
    #: Detection order (lower first): the most specific markers are tried first; generic,
    #: which takes any page, last.
    priority: ClassVar[int]
    #: Detail-page or file URLs this family's lists point to.
    links: ClassVar[LinkShapes] = LinkShapes()
    #: Elements that hold the report's text on this family's document pages.
    containers: ClassVar[tuple[Container, ...]] = ()
    #: Comments around the report's text, where the template marks it so.
    markers: ClassVar[Markers | None] = None

    def detect(self, page: ListPage) -> bool:
        """Whether a first page is one of this family's."""
        raise NotImplementedError

    def parse_list(self, page: ListPage) -> Iterator[Listed | NextPage]:
        """The documents a list page (or list API answer) lists and the further list pages
        its family's own paging names."""
        raise NotImplementedError

    def documents(self, page: ListPage) -> Iterator[Listed]:
        """The list's links that have this family's document shapes."""
        yield from (item for item in page.anchors if self.links.match(item.url))

    def announced_entries(self, page: ListPage) -> int | None:
        """How many entries a data interface's answer says its column holds (None: the
        page does not say, or it is not a data interface answer)."""
        return None
