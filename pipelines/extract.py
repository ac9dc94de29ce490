"""Extract stage: a document's bytes → its text, the page's metadata lines and meta tags.

Pure: bytes (+ filename, headers, URL) in, :class:`Extracted` out; no network, clock or settings.
The kind is sniffed from the bytes first (``%PDF``, a zip, an OLE file) and the filename
second, since portals serve attachments under misleading names and types.

HTML: when a CMS family's content container (pipelines.families: ``TRS_Editor``, ``#zoom``,
the ``ZJEG_RSS`` markers, ``#UCAP-CONTENT`` …) is on the page, the report is what it holds,
rendered by a small lxml walker that
keeps table rows as tab-separated cells; otherwise trafilatura decides on the whole page. The
metadata block is read from the whole page rendered cell by cell (``metadata_lines``), so that
it never has to be part of the text.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

from pipelines import attachments
from pipelines.decode import IMPLAUSIBLE, Decoded, decode, plausibility
from pipelines.errors import DocumentRejected
from pipelines.families import CONTAINERS, MARKERS, attachment_links, gkmlpt, html_parser
from pipelines.families.base import link_target
from pipelines.files import FILE_KINDS, IMAGE, IMAGE_KINDS
from pipelines.ocr import OcrRun, is_image
from pipelines.repair import repair_text, repair_title
from pipelines.truncation import cut_short

#: Kinds the extract stage understands, by file extension (used by ``ingest`` to pick files).
EXTENSIONS = {".html": "html", ".htm": "html", ".shtml": "html", ".txt": "text", **FILE_KINDS,
              **IMAGE_KINDS,
              ".json": "json"}

_DROP_TAGS = ("script", "style", "noscript", "template", "iframe")
# Controls that hold no report text, unless a page left one unclosed: then the rest of the
# page is inside it, and only the control's own options and labels go.
_CONTROLS = ("object", "select", "button")
_BLOCKS = frozenset({"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table",
                     "ul", "ol", "dl", "section", "article", "header", "footer", "blockquote",
                     "pre", "center"})
_CELLS = frozenset({"td", "th"})
# In metadata lines inline boxes are cells too: <li><span>索引号</span><span>…</span></li>.
_META_CELLS = frozenset({"td", "th", "span", "label", "dt", "dd", "em", "strong", "b", "font"})

# Tags are case-insensitive in HTML's source; class tokens and ids are not.
_TAG_OPENINGS = {c.tag: re.compile(f"<{c.tag}\\b", re.I) for _, c in CONTAINERS if c.tag}


def _mentioned(container, html: str) -> bool:
    """Whether the page's source names the container: an element can match it only then."""
    if container.class_token:
        return container.class_token in html
    if container.element_id:
        return container.element_id in html
    return _TAG_OPENINGS[container.tag].search(html) is not None


@functools.cache
def _candidates_path(mentioned: tuple[int, ...]):
    """One XPath finding every candidate of the containers of ``CONTAINERS[i]`` for each ``i``
    (a cheap ``contains``; the class token is checked exactly after). Only the containers a
    page mentions are asked for: a predicate for every family tested on each of a portal
    page's thousand elements was most of the container's cost (1.3 ms a page)."""
    from lxml import etree

    chosen = [CONTAINERS[i][1] for i in mentioned]
    tests = ([f"contains(@class, '{c.class_token}')" for c in chosen if c.class_token]
             + [f"@id = '{c.element_id}'" for c in chosen if c.element_id and not c.class_token])
    paths = [f"descendant-or-self::*[{' or '.join(tests)}]"] if tests else []
    paths += [f"descendant::{c.tag}" for c in chosen
              if c.tag and not c.class_token and not c.element_id]
    return etree.XPath(" | ".join(paths))


_XML_DECLARATION = re.compile(r"^\ufeff?\s*<\?xml\b[^>]{0,200}\?>")
# Inline formatting a Word-exported page may leave unclosed hundreds of times over: it carries
# no structure, so a page too deep to parse is parsed again without it.
_INLINE_TAGS = re.compile(r"</?(?:font|span|b|i|u|em|strong|small|big|sup|sub|s|strike|ins|del"
                          r"|o:p|st1:[a-z]+|w:[a-z]+)\b[^<>]{0,2000}>", re.I)
# Lines that are page furniture, not report text, even inside a content container.
_FURNITURE = re.compile(
    r"^(?:【?(?:打印本页|打印|关闭窗口|关闭|返回顶部|收藏|分享到?[:：]?.*|扫一扫.*)】?\s*)+$"
    r"|ICP备|公网安备|网站标识码|版权所有|主办单位[:：]|技术支持[:：]"
    r"|^字体[:：]?\s*[\[【]?\s*(?:大\s*中\s*小)?\s*[\]】]?$")
FURNITURE_MAX = 80
_SPACES = re.compile(r"[ \xa0\u3000\r]+")
_HANZI = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
#: A page with fewer hanzi than this is a pointer to its files (attachments, pictures), not the
#: report itself.
POINTER_HANZI = 200
#: Table cells, and the blocks that break lines even inside one (a nested table's rows).
_TABLE_CELLS = frozenset({"td", "th"})
_ROW_BLOCKS = frozenset({"tr", "table"})
_BREAK = "\x01"  # a line break made by a block element, as opposed to one in the source
_TABS = re.compile(r" *\t *")  # blank cells stay: in a statistics table a blank is a value


@dataclass
class Extracted:
    kind: str  # html | text | pdf | docx | doc | xlsx | xls | ofd | image | json
    text: str
    title: str | None = None
    meta: dict[str, str] = field(default_factory=dict)  # <meta name=… content=…> of a page
    metadata_lines: list[str] = field(default_factory=list)  # the page, cell by cell
    links: list[tuple[str, str]] = field(default_factory=list)  # attachment (url, link text)
    #: The page images its report is made of, when it was published as pictures (URLs, among
    #: ``links``): their text is the report's, whatever else the page holds.
    pictures: list[str] = field(default_factory=list)
    container: str | None = None  # CMS family whose container held the text; None: generic
    encoding_declared: str | None = None
    encoding_detected: str | None = None
    repairs: list[str] = field(default_factory=list)
    unrecoverable_chars: int = 0
    ocr: OcrRun | None = None  # what OCR read of it (a scan's pages, an image)


def sniff_kind(data: bytes, filename: str | None) -> str:
    """What the bytes are: ``pdf``, ``docx``, ``xlsx``, ``ofd``, ``doc``, ``xls``, ``image``,
    ``html``, ``json`` or ``text``."""
    ext = "." + filename.rsplit(".", 1)[-1].lower() if filename and "." in filename else ""
    if data.startswith(b"%PDF-"):
        return "pdf"
    if is_image(data):
        return "image"
    if data.startswith(b"PK\x03\x04"):
        # A damaged archive has no readable table of parts: its name says which reader fails it.
        named = EXTENSIONS.get(ext)
        return attachments.zip_kind(data) or (named if named in ("docx", "xlsx", "ofd")
                                              else "docx")  # the DOCX reader rejects other zips
    if data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):  # OLE2: .doc, .wps, .xls
        return "xls" if ext in (".xls", ".et") else "doc"
    # CMS pages may open with long comments, scripts or SSI output before <html>.
    head = data[:65536].lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html")) or b"<html" in head or b"<body" in head:
        return "html"
    if head.startswith(b"{") and ext in (".json", ""):
        return "json"
    return EXTENSIONS.get(ext, "text")


def needs_decoding(data: bytes, filename: str | None) -> bool:
    """Whether a document is text to decode (a page, plain text, JSON) rather than a file format
    whose reader handles its own encoding (PDF, Word, Excel, OFD)."""
    return sniff_kind(data, filename) not in attachments.READERS


def extract(data: bytes, *, filename: str | None = None, headers: dict[str, str] | None = None,
            encoding: str | None = None, url: str | None = None,
            decoded: Decoded | None = None) -> Extracted:
    """Text and page metadata of one document, decoded and repaired (see :mod:`pipelines.decode`
    and :mod:`pipelines.repair`); :class:`DocumentRejected` when there is no text.

    ``encoding`` overrides every declaration and detection (a portal known to lie); ``url``
    resolves the page's attachment links; ``decoded`` is the text when an earlier stage has
    decoded the bytes already."""
    kind = sniff_kind(data, filename)
    attachments.check_size(data, kind)  # one bound for every document
    why = cut_short(data, kind)
    if why:
        raise DocumentRejected("truncated", why, stage="extract")
    if kind in attachments.READERS:
        text, ocr = attachments.READERS[kind](data)
        result = Extracted(kind, _readable(text, kind), ocr=ocr)
    else:
        if decoded is None:
            decoded = decode(data, headers=headers, override=encoding)
        text = scrub(decoded.text)
        if kind == "html":
            result = parse_html(text, url=url)
        elif kind == "json":
            result = parse_gkmlpt_item(text, url=url)
        else:
            result = Extracted(kind, text)
        result.encoding_declared = decoded.encoding_declared
        result.encoding_detected = decoded.encoding_detected
        result.repairs = list(decoded.repairs)
    _scrub_surrogates(result)
    repaired = repair_text(result.text)
    result.text = repaired.text
    result.repairs += repaired.repairs
    result.unrecoverable_chars = repaired.unrecoverable_chars
    if result.title:
        result.title = repair_title(result.title)
    if result.metadata_lines:
        result.metadata_lines = repair_text("\n".join(result.metadata_lines)).text.split("\n")
    if not result.links:
        if not result.text.strip():
            raise DocumentRejected("no_text", f"the {kind} document contains no text",
                                   stage="extract")
        if not _HANZI.search(result.text):
            raise DocumentRejected("no_text", f"the {kind} document contains no Chinese text: "
                                   "it is not a report", stage="extract")
    return result


#: libxml2's error for a tree deeper than its limit (2048 levels with ``huge_tree``).
_TOO_DEEP = "Excessive depth"


_SURROGATES = re.compile(r"[\ud800-\udfff]+")


def scrub(value: str) -> str:
    """Lone surrogates (from JSON ``\\ud800`` escapes, UTF-7, or file names) are not text:
    lxml stops reading at one, and UTF-8 cannot hold one. Each becomes U+FFFD (counted as an
    unrecoverable character), before anything parses the text."""
    try:
        value.encode("utf-8")  # the check in C: ten times faster than the pattern's search
    except UnicodeEncodeError:
        return _SURROGATES.sub(lambda m: "\ufffd" * len(m.group(0)), value)
    return value


def _scrub_surrogates(result: Extracted) -> None:
    result.text = scrub(result.text)
    result.title = scrub(result.title) if result.title else result.title
    result.metadata_lines = [scrub(line) for line in result.metadata_lines]
    result.meta = {scrub(k): scrub(v) for k, v in result.meta.items()}
    result.links = [(scrub(u), scrub(label)) for u, label in result.links]


def _readable(text: str, kind: str) -> str:
    """A file's text, unless it is not Chinese at all: a PDF whose fonts have no Unicode map
    yields random characters, which must not become a report."""
    score = plausibility(text)
    if score < IMPLAUSIBLE and len(re.findall(r"[^\x00-\x7f\s]", text[:65536])) >= 64:
        raise DocumentRejected("implausible", f"the {kind} file's text is not readable Chinese "
                               f"({score:.0%} common characters; a font without a Unicode map?)",
                               stage="extract")
    return text


def parse_page(html: str):
    """The page's lxml tree, parsed in full or not at all.

    libxml2 stops at 256 levels of nesting (2048 with ``huge_tree``) and silently drops the rest
    of the page; a page that deep is parsed again without inline formatting tags, and rejected
    as ``too_deep`` if even that is too deep. An XML declaration is dropped first (the text is
    decoded already); comments and processing instructions outside ``<html>`` are ignored."""
    import lxml.html

    html = _XML_DECLARATION.sub("", html, count=1)
    for attempt in (html, None):
        if attempt is None:
            attempt = _INLINE_TAGS.sub("", html)
        parser = html_parser()
        try:
            root = lxml.html.document_fromstring(attempt, parser=parser)
        except Exception as exc:  # lxml raises several unrelated types on hopeless markup
            raise DocumentRejected("bad_html", f"the HTML cannot be parsed: {exc}",
                                   stage="extract") from exc
        if not any(_TOO_DEEP in entry.message for entry in parser.error_log):
            return root
    raise DocumentRejected("too_deep", "the page nests elements deeper than 2048 levels even "
                           "without its inline formatting tags: it cannot be parsed in full",
                           stage="extract")


def parse_html(html: str, *, url: str | None = None, whole_body: bool = False) -> Extracted:
    """A decoded page: its report text, title, meta tags, metadata lines and attachment links.
    ``whole_body``: the body is the report (an API's content field), nothing to separate."""
    root = parse_page(html)
    meta: dict[str, str] = {}
    for node in root.iter("meta"):
        name = node.get("name") or node.get("property")
        if name and node.get("content") is not None:
            meta.setdefault(name, node.get("content").strip())
    title_node = root.find(".//title")
    page_title = title_node.text_content().strip() if title_node is not None else None
    ucap_title = root.find(".//ucaptitle")
    title = (meta.get("ArticleTitle") or (ucap_title.text_content().strip()
             if ucap_title is not None else None) or clean_page_title(page_title))
    # The files the crawler fetched with the page: read before anything is dropped.
    links, pictures = page_files(root, html, url or "")
    for bad in list(root.iter(*_DROP_TAGS)):
        bad.drop_tree()
    _drop_controls(root)
    _drop_comments(root)
    family, container = ("api", root.find("body")) if whole_body else _container(root, html)
    if container is None:
        family, container = "densest", _densest(root)
        family = family if container is not None else None
    body = root.find("body")
    # The metadata block is anywhere outside the content, but never in a menu of links.
    skip = {*_link_lists(body if body is not None else root), container}
    metadata_lines = _render(body if body is not None else root, cells=_META_CELLS,
                             skip=skip).split("\n")
    # trafilatura gets the tree parsed here (in full, however deep) and may change it: last.
    text = _render(container, cells=_CELLS) if container is not None else _trafilatura(root)
    text = "\n".join(line for line in text.split("\n") if not _is_furniture(line))
    return Extracted("html", text, title=title or None, meta=meta, links=links,
                     pictures=pictures, metadata_lines=metadata_lines, container=family)


def page_files(root, html: str, url: str) -> tuple[list[tuple[str, str]], list[str]]:
    """The files a document page brings with it: ``(URL, label)`` of its attachments (links
    to files, then the pictures of a report published as images), and the pictures' URLs.
    What the crawler fetches with a page and what the extractor joins to it are this list."""
    links = attachment_links(root, url)
    pictures = picture_pages(root, html, url)
    linked = {link for link, _ in links}
    return links + [p for p in pictures if p[0] not in linked], [link for link, _ in pictures]


#: The smallest side (declared, in CSS pixels) of an image that can be a page of a report:
#: bullets, icons, rules and buttons are smaller.
MIN_PICTURE_SIDE = 200
#: Where an image's address is: lazy loaders keep the real one in a data attribute.
_IMAGE_SOURCES = ("data-original", "data-src", "src")
#: Parts of a page's template (by an ancestor's class or id token), whose images are no
#: report's: a logo in ``div.logo`` of ``div.header``, badges in the footer.
_TEMPLATE_PART = re.compile(r"^(?:header|head|top|topbar|logo|banner|nav|navbar|menu|footer|foot"
                            r"|bottom|copyright|share|qrcode|ewm|position|location|crumbs?"
                            r"|breadcrumbs?|dqwz)(?:$|[-_\d])", re.I)
#: Image file names of a template's furniture.
_FURNITURE_IMAGE = re.compile(r"logo|banner|icon|btn|button|arrow|qrcode|erweima|ewm|_bg|bg_",
                              re.I)
_SIDE = re.compile(r"^\s*(\d+)(?:\.\d+)?\s*(?:px)?\s*$")
_STYLE_SIDE = re.compile(r"(?<![-\w])(width|height)\s*:\s*(\d+)(?:\.\d+)?\s*px", re.I)
#: Elements an image's block is looked for above: an image sits in a paragraph, a centred
#: line or a link to itself, inside the block that holds the report's pages.
_IMAGE_WRAPPERS = frozenset({"p", "center", "a", "figure", "span", "font",
                              "strong", "b", "em", "i", "u", "o:p"})


def picture_pages(root, html: str, base_url: str) -> list[tuple[str, str]]:
    """``(URL, alt text)`` of the page images of a report published as pictures (图片版: a
    column of scans where the text would be), or ``[]``.

    The pictures are the images (by suffix) of the report's container (a family's; on a page
    with none, the block holding most of the page's images) when that block holds fewer than
    :data:`POINTER_HANZI` hanzi: a report with its own text keeps its illustrations unread.
    An image that is a link to something else (a banner, a logo, a badge), that sits in a
    menu or in the template's header or footer, that is named as furniture (``logo``, ``icon``)
    or that declares a side under :data:`MIN_PICTURE_SIDE` pixels is never one; an image that
    links to an image stands for that one (a thumbnail of the full scan). A page where one
    block clearly holds running text (:func:`_densest`) is no picture report."""
    menus = None
    found = []
    for image in root.iter("img"):
        source = next((image.get(name) for name in _IMAGE_SOURCES
                       if IMAGE.search(image.get(name) or "")), None)
        if source is None or _declared_side(image) < MIN_PICTURE_SIDE or \
                _FURNITURE_IMAGE.search(source.rsplit("/", 1)[-1]) or _in_template(image):
            continue
        link = next(image.iterancestors("a"), None)
        if link is not None:
            if not IMAGE.search(link.get("href") or ""):
                continue
            source = link.get("href")  # a thumbnail of the scan it links to
        if menus is None:
            menus = set(_link_lists(root))
        if any(ancestor in menus for ancestor in image.iterancestors()):
            continue
        found.append((image, source))
    if not found:
        return []
    holder = _pictures_holder(root, html, [image for image, _ in found])
    if holder is None or len(_HANZI.findall(holder.text_content())) >= POINTER_HANZI or \
            _holds_text(root, html):
        return []
    inside = set(holder.iter("img"))
    pictures: dict[str, str] = {}
    for image, source in found:
        url = link_target(base_url, source) if image in inside else None
        if url is not None:
            pictures.setdefault(url, (image.get("alt") or image.get("title") or "").strip())
    return list(pictures.items())


def _holds_text(root, html: str) -> bool:
    """Whether a block of the page holds a report's running text: its family's container, or
    the block the density rule finds."""
    _family, container = _container(root, html)
    if container is not None and \
            len(_HANZI.findall(container.text_content())) >= POINTER_HANZI:
        return True
    return _densest(root) is not None


def _in_template(image) -> bool:
    """Whether an image sits in a page's header, footer, navigation or breadcrumb (by tag, or
    by a class or id token such as ``header``, ``logo``, ``position``), or in a cell that
    declares itself narrower than a page could be."""
    for ancestor in image.iterancestors():
        if ancestor.tag in ("header", "footer", "nav"):
            return True
        if ancestor.tag in ("td", "th", "div") and _declared_side(ancestor) < MIN_PICTURE_SIDE:
            return True
        tokens = (ancestor.get("class") or "").split() + [ancestor.get("id") or ""]
        if any(_TEMPLATE_PART.match(token) for token in tokens if token):
            return True
    return False


def _declared_side(image) -> float:
    """The smaller of an element's declared width and height in pixels (its attributes, or its
    inline style's), or infinity when it declares neither (a percentage says nothing)."""
    sides = {}
    for name in ("width", "height"):
        match = _SIDE.match(image.get(name) or "")
        if match:
            sides[name] = int(match.group(1))
    for name, value in _STYLE_SIDE.findall(image.get("style") or ""):
        sides[name.lower()] = int(value)
    return min(sides.values(), default=float("inf"))


def _pictures_holder(root, html: str, images: list):
    """The block holding a page's pictures: the family container that holds any of them, else
    the nearest block above the images, or, when they are spread over the page (a logo in the
    header, scans in the middle), the block above most of them."""
    for _family, _container_kind, element in _family_containers(root, html):
        if any(image in images for image in element.iter("img")):
            return element
    blocks: dict = {}
    for image in images:
        block = image.getparent()
        while block is not None and block.tag in _IMAGE_WRAPPERS:
            block = block.getparent()
        if block is not None:
            blocks[block] = blocks.get(block, 0) + 1
    if not blocks:
        return None
    best = max(blocks, key=blocks.get)
    return None if best.tag in ("body", "html") and len(blocks) > 1 else best


def parse_gkmlpt_item(text: str, *, url: str | None = None) -> Extracted:
    """One item of Guangdong's gkmlpt JSON API (``/gkmlpt/api/all/…``): its fields become
    metadata lines, its ``content`` HTML the text, its ``attachment[]`` the links."""
    import json

    try:
        item = json.loads(text)
    except (ValueError, RecursionError) as exc:
        reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise DocumentRejected("bad_json", f"the JSON cannot be parsed: {reason}",
                               stage="extract") from None
    try:
        item = _scrubbed(item)
    except RecursionError:
        raise DocumentRejected("bad_json", "the JSON cannot be parsed: nested too deeply",
                               stage="extract") from None
    found = gkmlpt.read_item(item, url or "")
    body = (parse_html(f"<html><body>{found.content}</body></html>", url=url, whole_body=True)
            if found.content else None)
    return Extracted("json", body.text if body else "", title=found.title,
                     metadata_lines=[f"{label}\t{value}" for label, value in found.fields],
                     links=found.attachments + (body.links if body else []),
                     container=gkmlpt.Gkmlpt.name)


def _scrubbed(value):
    """A loaded JSON value with :func:`scrub` applied to every string in it (keys too)."""
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, list):
        return [_scrubbed(v) for v in value]
    if isinstance(value, dict):
        return {scrub(k): _scrubbed(v) for k, v in value.items()}
    return value


def _is_furniture(line: str) -> bool:
    # Furniture lines are short; the pattern is only tried on those (its optional parts make
    # it slow on long lines of spaces), and a long report line is never furniture.
    return len(line) <= FURNITURE_MAX and bool(_FURNITURE.search(" ".join(line.split())))


def clean_page_title(title: str | None) -> str | None:
    """A ``<title>`` without the site name portals append (``报告_某某人民政府``)."""
    if not title:
        return None
    title = " ".join(title.split())  # runs of spaces would make the separators' \s* slow
    parts = [p.strip() for p in re.split(r"\s*[_|｜]\s*|\s+-\s+|\s*--\s*", title) if p.strip()]
    for part in parts:
        if re.search(r"报告|年报", part):
            return part
    return parts[0] if parts else None


def _family_containers(root, html: str):
    """``(family, container, element)`` for each family container the page holds: by
    container, narrowest first, then in page order."""
    # Most pages without a container name none of them anywhere: no scan of the tree then.
    mentioned = tuple(i for i, (_, container) in enumerate(CONTAINERS)
                      if _mentioned(container, html))
    candidates = _candidates_path(mentioned)(root) if mentioned else []
    for family, container in CONTAINERS:
        for element in candidates:
            if container.holds(element):
                yield family, container, element


def _container(root, html: str):
    """(family, element) of the report's content container, or (None, None)."""
    firsts: dict = {}  # each container's first element on the page, narrowest first
    for family, container, element in _family_containers(root, html):
        firsts.setdefault(container, (family, element))
    for family, element in firsts.values():
        if element.text_content().strip():
            return family, element
    for family, markers in MARKERS:
        inner = markers.between(html)
        if inner is not None and inner.strip():
            # The markers may cut through elements ("…begin--></div><div>…"): the whole
            # parsed fragment is the container, not its first element.
            fragment = parse_page(f"<html><body>{inner}</body></html>").find("body")
            _drop_comments(fragment)
            return family, fragment
    return None, None


def _drop_controls(root) -> None:
    for control in list(root.iter(*_CONTROLS)):
        if control.getparent() is None:
            continue
        if any(node.tag in _BLOCKS for node in control.iterdescendants()):
            for option in list(control.iter("option", "param", "optgroup")):
                option.drop_tree()
            control.drop_tag()  # unclosed: keep what it swallowed
        else:
            control.drop_tree()


def _drop_comments(root) -> None:
    """Remove comments and processing instructions inside ``root``, keeping their tails: the
    text walk skips them and would lose what follows ("12<!-- -->件")."""
    from lxml import etree

    for node in list(root.iter(etree.Comment, etree.ProcessingInstruction)):
        parent = node.getparent()
        if parent is None:  # outside <html>: not part of the tree walked
            continue
        if node.tail:
            previous = node.getprevious()
            if previous is not None:
                previous.tail = (previous.tail or "") + node.tail
            else:
                parent.text = (parent.text or "") + node.tail
        parent.remove(node)


#: A cell holding at most this many characters and no table of its own is a data cell, whose
#: paragraphs (``<td><p>…</p><p>…</p></td>``) are one cell; a longer one is page layout.
COMPACT_CELL_CHARS = 200


def _compact_cell(cell) -> bool:
    if next(cell.iterdescendants("td", "th"), None) is not None:  # in C, unlike find()
        return False
    size = 0
    for text in cell.itertext():
        size += len(text.strip())
        if size > COMPACT_CELL_CHARS:
            return False
    return True


#: A list holding at least this many links is a menu (a portal's columns, related links).
MENU_LINKS = 12


def _link_lists(root) -> list:
    """The menus of a page: lists and ``<nav>`` blocks of many links (a mega-menu is most of a
    portal page's elements), left out of the metadata lines."""
    return root.xpath(f".//nav | .//ul[count(.//a) >= {MENU_LINKS}] "
                      f"| .//ol[count(.//a) >= {MENU_LINKS}]")


#: A content block the density rule may choose holds at least this many hanzi, and at least
#: this share of the page's text outside links.
DENSE_MIN_HANZI = 200
DENSE_MIN_SHARE = 0.6
_HANZI_RUN = re.compile(r"[\u4e00-\u9fff]")


def _densest(root):
    """The element holding most of the page's running text, when one clearly does: each
    paragraph's own text (not its links') counts for the element that holds the paragraphs
    (a ``<p>``'s parent; a block's own text for itself). Written by hand because trafilatura,
    which does this and more, costs several times the rest of the text stage on a portal page;
    it stays the fallback when no block holds ``DENSE_MIN_SHARE`` of the text."""
    scores: dict = {}
    compact: dict = {}  # cell → whether it is a data cell
    paragraphs: dict = {}  # element → how many paragraph blocks it holds
    total = 0
    for node in root.iter():
        if not isinstance(node.tag, str) or node.tag == "a":
            continue
        own = (node.text or "") + "".join(child.tail or "" for child in node)
        if len(own) < 2 or own.isspace():
            continue  # most elements of a portal page: menus, boxes, spacing
        hanzi = len(_HANZI_RUN.findall(own))
        if not hanzi:
            continue
        total += hanzi
        block = node
        while block.tag in _INLINE and block.getparent() is not None:
            block = block.getparent()  # <p><span>…</span></p>: the paragraph's
        if block.tag == "a" or any(a.tag == "a" for a in block.iterancestors("a")):
            total -= hanzi  # a link's words are not running text
            continue
        holder = block.getparent() if _one_paragraph_of_several(block, paragraphs) else block
        holder = _table_holder(holder, compact)
        scores[holder] = scores.get(holder, 0) + hanzi
    if not scores:
        return None
    best = max(scores, key=scores.get)
    if scores[best] < DENSE_MIN_HANZI or scores[best] < DENSE_MIN_SHARE * total:
        # The text may be split between sibling blocks (a Word paste's WordSection1, 2, 3: its
        # landscape tables are sections of their own): their parent, with its own text.
        sections: dict = {}
        for holder, score in scores.items():
            parent = holder.getparent()
            if parent is not None:
                sections[parent] = sections.get(parent, scores.get(parent, 0)) + score
        best = max(sections, key=sections.get, default=None)
        if best is None or sections[best] < DENSE_MIN_HANZI or \
                sections[best] < DENSE_MIN_SHARE * total:
            return None
    if best.tag in ("body", "html"):
        return None  # the whole page: trafilatura separates it better
    return best


#: Elements that make a ``<div>`` more than one paragraph when it holds one of them.
_NESTING = _BLOCKS - {"br"}


def _one_paragraph_of_several(block, paragraphs: dict) -> bool:
    """Whether a block's text is one paragraph of its parent's: a ``<p>``, or a ``<div>`` with
    no block inside, next to at least two more such blocks (pages whose paragraphs are
    ``<div style="text-indent:2em">``). A lone ``<div>`` of text is a block of its own: its
    parent may hold a title, a source line and links around it."""
    parent = block.getparent()
    if parent is None or block.tag not in ("p", "div"):
        return False
    if block.tag == "p":
        return True
    if any(child.tag in _NESTING for child in block):
        return False
    if parent not in paragraphs:
        paragraphs[parent] = sum(
            1 for child in parent if child.tag in ("p", "div")
            and not any(grandchild.tag in _NESTING for grandchild in child))
    return paragraphs[parent] >= 3


def _table_holder(holder, compact: dict):
    """The block a data cell's text counts for: the one holding its table (a report's tables,
    hundreds of cells in a 2021 report, are part of the text around them); any other holder
    stays itself."""
    cell = holder if holder.tag in _TABLE_CELLS else next(holder.iterancestors("td", "th"), None)
    if cell is None:
        return holder
    if cell not in compact:
        compact[cell] = _compact_cell(cell)
    if not compact[cell]:
        return holder
    table = next(cell.iterancestors("table"), None)
    return table.getparent() if table is not None and table.getparent() is not None \
        else holder


_INLINE = frozenset({"span", "font", "b", "strong", "em", "i", "u", "sup", "sub", "label",
                     "small", "big", "o:p", "st1"})


def _render(node, *, cells, skip=()) -> str:
    """Text of an element: blocks on their own lines, table cells separated by tabs; the
    subtrees in ``skip`` (the content container and menus, when rendering the page's metadata
    lines) are left out.

    A walk over start/end events instead of lxml's ``text_content()``, so that separators go
    in without copying or changing the tree."""
    from lxml import etree

    parts: list[str] = []
    compact: set = set()
    in_cell = 0  # compact cells around the walk: their paragraphs stay on their row
    walk = etree.iterwalk(node, events=("start", "end"))
    for event, element in walk:
        tag = element.tag  # lxml makes a new string at each access
        if event == "start":
            if element in skip:
                walk.skip_subtree()
                continue
            if tag in _ROW_BLOCKS or (tag in _BLOCKS and not in_cell):
                parts.append(_BREAK)
            elif tag in _BLOCKS:
                parts.append(" ")
            if tag in _TABLE_CELLS and _compact_cell(element):
                in_cell += 1
                compact.add(element)
            if element.text:
                parts.append(element.text)
        else:
            if in_cell and element in compact:
                in_cell -= 1
            if tag in _ROW_BLOCKS or (tag in _BLOCKS and not in_cell):
                parts.append(_BREAK)
            elif tag in _BLOCKS:
                parts.append(" ")
            elif tag in cells:
                parts.append("\t")
            if element is not node and element.tail:
                parts.append(element.tail)
    # Source line breaks are only spaces in HTML; real breaks were marked with _BREAK.
    text = _SPACES.sub(" ", "".join(parts).replace("\n", " ")).replace(_BREAK, "\n")
    text = _TABS.sub("\t", text)
    lines = (line.strip(" ") for line in text.split("\n"))
    # Every cell ends in a tab: drop the one after the last cell and any before the first.
    lines = (line[:-1] if line.endswith("\t") else line for line in lines)
    return "\n".join(line for line in lines if line.strip(" \t"))


def _trafilatura(root) -> str:
    """The generic path: trafilatura's main-content extraction, tables kept, as text."""
    import trafilatura

    text = trafilatura.extract(root, include_tables=True, include_comments=False,
                               output_format="txt", favor_recall=True) or ""
    # trafilatura renders table rows as "| a | b |": keep them as tab-separated cells.
    rows = []
    for line in text.split("\n"):
        if line.startswith("|") and line.endswith("|"):
            line = "\t".join(cell.strip() for cell in line.strip("|").split("|"))
        rows.append(line)
    return "\n".join(rows)
