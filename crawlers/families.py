"""How to walk the list pages of each CMS family: TRS, Hanweb, Ucap, gkmlpt and generic lists.

A family is one class: :meth:`Family.detect` says whether a first page is one of its own, and
:meth:`Family.parse_list` turns a list page (or list API answer) into the documents it lists
(:class:`Listed`, with what the list shows about them) and the further list pages to fetch
(``scrapy.Request`` objects without callbacks; the spider routes them). Families only navigate:
reading documents is ``pipelines/``'s work.
"""

from __future__ import annotations

import itertools
import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import ClassVar
from urllib.parse import urlencode, urljoin, urlsplit

from scrapy import FormRequest, Request
from scrapy.http import Response, TextResponse
from scrapy.selector import Selector

from pipelines.metadata import parse_date


@dataclass(frozen=True)
class Listed:
    """A document a list page points to, and what the list says about it (sidecar context)."""

    url: str
    title: str | None = None
    date: str | None = None
    extra: dict[str, str] = field(default_factory=dict, hash=False)

    def context(self, list_url: str) -> dict[str, str]:
        found = {"title": self.title, "date": self.date, "list_url": list_url, **self.extra}
        return {k: v for k, v in found.items() if v}


def _date(text: str | None) -> str | None:
    """A list's date as ISO text: read as the extractor reads a document's
    (:func:`pipelines.metadata.parse_date`: Unix seconds or milliseconds in China time, a
    date that exists), so the list context and the document never disagree."""
    found = parse_date(text)
    return found.isoformat() if found else None


#: Links read from one page at most (a list page, or a document page for its attachments).
#: Real list pages hold tens to a few hundred; a page of 200,000 junk links must not hold the
#: crawl's memory. The crawl record counts the pages cut (``links_capped``).
MAX_PAGE_LINKS = 5000


def page_links(selector: Selector) -> Iterator:
    """The page's first :data:`MAX_PAGE_LINKS` ``<a href>`` elements (lxml), in document order,
    taken lazily: the rest are never turned into Python objects."""
    if selector.type not in ("html", "xml"):  # a list API's JSON answer has no links
        return iter(())
    return itertools.islice((a for a in selector.root.iter("a") if a.get("href") is not None),
                            MAX_PAGE_LINKS)


def links_capped(response: Response) -> int:
    """How many ``<a href>`` of a page lie beyond :data:`MAX_PAGE_LINKS` (0 for most pages)."""
    if not isinstance(response, TextResponse) or response.selector.type not in ("html", "xml"):
        return 0
    return max(0, int(float(response.xpath("count(//a[@href])").get())) - MAX_PAGE_LINKS)


def anchors(selector: Selector, base_url: str) -> Iterator[Listed]:
    """Every link of a page once (by URL), up to :data:`MAX_PAGE_LINKS`, with its text (or
    ``title``) and its row's date (the nearest ``li``/``tr``/``dd``/``p``)."""
    seen = set()
    for anchor in page_links(selector):
        href = anchor.get("href").strip()
        if not href or href.startswith(("#", "javascript:", "mailto:")):
            continue
        url = urljoin(base_url, href).split("#", 1)[0]
        if url in seen:
            continue
        seen.add(url)
        title = (anchor.get("title") or " ".join(anchor.xpath(".//text()"))).strip()
        row = anchor.xpath("ancestor::*[self::li or self::tr or self::dd or self::p][1]")
        row_text = " ".join(row[0].xpath(".//text()")) if row else ""
        yield Listed(url, title or None, _date(row_text))


def list_items(selector: Selector, base_url: str, link: re.Pattern[str] | None = None,
               text: re.Pattern[str] | None = None) -> Iterator[Listed]:
    """Anchors of list rows whose URL matches ``link`` or whose text matches ``text``."""
    for item in anchors(selector, base_url):
        if (link and link.search(item.url)) or (text and text.search(item.title or "")):
            yield item


# -- what any list page may hold, whatever its family ---------------------------------------

#: Annual-report wording, on a normalised title (pipelines.repair.normalize_title).
REPORT_WORDING = re.compile(r"年度报告|年报|(信息公开|政务公开).{0,12}报告")
_DISCLOSURE = re.compile(r"信息公开|政务公开|政府信息")
_YEAR = re.compile(r"(?:19|20)\d{2}年|二[〇零○]..年")
#: Titles about reports that are not one: notices asking for them, reviews, readings.
_ABOUT_REPORTS = re.compile(r"通知|公告|公示|征求|招标|采购|会议|培训|评议|考核|检查|通报|解读|图解"
                            r"|目录|指南")
_DOCUMENT_URL = re.compile(r"/t\d{8}_\d+\.s?html?|/content_\d+|/art/|/\d{6,8}/"
                           r"|\.(pdf|docx?|wps|xlsx?|et|ofd)(\?|$)", re.I)
#: A link reading only a year ("2019年度", "2020年报"): a per-year sub-column, unless its URL
#: has a document's shape.
_YEAR_COLUMN = re.compile(r"((?:19|20)\d{2})年?度?(年报|年度报告)?")
#: Points a candidate needs: the wording alone gives 2, each other signal 1.
TAKE_SCORE = 3
NO_WORDING = "no annual-report wording"


@dataclass(frozen=True)
class Judged:
    """Whether a list link is taken for an annual report, its score and why."""

    taken: bool
    score: int
    why: str


def judge_report_link(item: Listed, pattern: re.Pattern[str] | None = None) -> Judged:
    """Judge a link on its normalised title (繁→简, pinyin annotations, widths and spaces
    folded), its URL's shape and its row's date. A portal's own ``report_pattern`` replaces
    the wording test."""
    from pipelines.repair import normalize_title

    title = normalize_title(item.title or "")
    wording = (pattern or REPORT_WORDING).search(title)
    if not wording:
        return Judged(False, 0, NO_WORDING)
    if _YEAR_COLUMN.fullmatch(title) and not _DOCUMENT_URL.search(item.url):
        return Judged(False, 0, "a per-year sub-column")
    about = _ABOUT_REPORTS.search(title)
    if about and not title.endswith(("报告", "年报")):
        return Judged(False, 0, f"about reports, not one ({about[0]})")
    signals = {"disclosure wording": _DISCLOSURE.search(title), "year": _YEAR.search(title),
               "document URL": _DOCUMENT_URL.search(item.url), "row date": item.date}
    present = [name for name, found in signals.items() if found]
    score = 2 + len(present)
    why = f"score {score}: wording" + "".join(f" + {name}" for name in present)
    # A menu link to the column itself ("政府信息公开年报") has the wording but no year, no
    # document URL and no date: it is not a report.
    specific = any(signals[name] for name in ("year", "document URL", "row date"))
    if not specific:
        return Judged(False, score, why + ": nothing ties it to one report")
    return Judged(score >= TAKE_SCORE, score, why)


#: Pager labels, normalised (so 下一頁 and full-width ＞ are here too).
_PAGER_LABEL = re.compile(r"^(下一页|下页|后页|尾页|末页|最后一页|next|last|›|»|>|>>|»»)$", re.I)
_PAGE_HREF = re.compile(r"(?:^|/)(?:index|list|default|page)_\d+\.s?html?$"
                        r"|[?&](?:page|pageno|pageindex|pagenum|curpage|currentpage)=\d+", re.I)


def _other_links(response: Response) -> Iterator[tuple[Listed, str]]:
    """The links of a list page to other pages of its host, with their normalised labels."""
    from pipelines.repair import normalize_title

    if not isinstance(response, TextResponse):  # a binary answer where a list was expected
        return
    here = urlsplit(response.url)
    for item in anchors(response.selector, response.url):
        if urlsplit(item.url).netloc == here.netloc and item.url != response.url:
            yield item, normalize_title(item.title or "")


def pager_links(response: Response) -> Iterator[Request]:
    """Pager links: 下一页, 尾页, ›/» and the like, and page numbers that lead to
    ``index_N``/``list_N``/``?page=N``-style pages of the same column."""
    yield from navigation(response, None)


def navigation(response: Response, family: Family | None) -> Iterator[Request]:
    """The further list pages of any list page, whatever its family announces: its pager
    (:func:`pager_links`) and, given the page's ``family``, per-year sub-columns (a link
    reading only "2019年度" or "2020年报" that is not a document). The spider drops what it
    requested already and bounds the rest by ``max_list_pages``."""
    column = urlsplit(response.url).path.rsplit("/", 1)[0]
    for item, label in _other_links(response):
        target = urlsplit(item.url)
        page_like = bool(_PAGE_HREF.search(target.path + ("?" + target.query
                                                          if target.query else "")))
        if _PAGER_LABEL.match(label) or (page_like and target.path.rsplit("/", 1)[0] == column):
            yield Request(item.url)
        elif family is not None and _YEAR_COLUMN.fullmatch(label) and not (
                _DOCUMENT_URL.search(item.url) or family.links and family.links.search(item.url)):
            yield Request(item.url)


#: What a pager says the whole column holds: "共5页", "1/5页", "共48条", "48条记录".
_ANNOUNCED_PAGES = re.compile(r"共\s*(\d{1,5})\s*页|\d{1,5}\s*/\s*(\d{1,5})\s*页")
_ANNOUNCED_ENTRIES = re.compile(r"共\s*有?\s*(\d{1,6})\s*(?:条|篇|项)|(\d{1,6})\s*条记录")


def announced(response: Response) -> dict[str, int | None]:
    """How many pages and entries a list page says its column has (its pager's "共5页",
    "共48条", a TRS ``createPageHTML`` count, a JCMS recordset's ``totalrecord``), so that a
    crawl that read far fewer can say so. None where the page does not say."""
    found: dict[str, int | None] = {"pages": None, "entries": None}
    if not isinstance(response, TextResponse):
        return found
    if "xml" in (response.headers.get("Content-Type") or b"").decode("latin-1") or \
            DATAPROXY in response.url:
        total = _TOTAL.search(response.text)
        found["entries"] = int(total[1]) if total else None
        return found
    if not response.text.lstrip()[:1] == "<":  # a JSON list API answer paginates itself
        return found
    script = _CREATE_PAGE.search(response.text) or _COUNT_PAGE.search(response.text)
    # The pager's words, with the markup between them dropped (共<b>5</b>页).
    words = "".join(response.xpath(
        "//body//text()[not(ancestor::script) and not(ancestor::style)]").getall())
    words = re.sub(r"\s+", "", words)
    pages = [int(a or b) for a, b in _ANNOUNCED_PAGES.findall(words)]
    if script:
        pages.append(int(script[1]))
    entries = [int(a or b) for a, b in _ANNOUNCED_ENTRIES.findall(words)]
    found["pages"] = max(pages) if pages else None
    found["entries"] = max(entries) if entries else None
    return found


class Family:
    name: ClassVar[str]
    #: Detection order (lower first): the most specific markers are tried first; generic,
    #: which takes any page, last.
    priority: ClassVar[int]
    #: Detail-page or file URLs this family's lists point to.
    links: ClassVar[re.Pattern[str] | None] = None

    def detect(self, response: Response) -> bool:
        raise NotImplementedError

    def parse_list(self, response: Response) -> Iterator[Listed | Request]:
        raise NotImplementedError

    def documents(self, response: Response) -> Iterator[Listed]:
        yield from list_items(response.selector, response.url, self.links)


def _attachment_or(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern + r"|\.(pdf|docx?|wps|xlsx?|et|ofd)(\?|$)", re.I)


# createPageHTML(count, current, "index", "html") or: var countPage = N//共多少页
_CREATE_PAGE = re.compile(r"createPageHTML\(\s*(\d+)\s*,\s*(\d+)\s*,\s*[\"'](\w+)[\"']\s*,"
                          r"\s*[\"'](\w+)[\"']")
_COUNT_PAGE = re.compile(r"var\s+countPage\s*=\s*(\d+)")
_CURRENT_PAGE = re.compile(r"var\s+currentPage\s*=\s*(\d+)")


def index_pages(response: Response) -> Iterator[Request]:
    """TRS-style static pagination: ``index.html``, ``index_1.html``, … from the page's script.
    Only the first page announces the others, so each is requested once."""
    text = response.text
    match = _CREATE_PAGE.search(text)
    if match:
        count, current, prefix, ext = int(match[1]), int(match[2]), match[3], match[4]
    else:
        count_match = _COUNT_PAGE.search(text)
        if not count_match:
            return
        current_match = _CURRENT_PAGE.search(text)
        count, current = int(count_match[1]), int(current_match[1]) if current_match else 0
        tail = urlsplit(response.url).path.rsplit("/", 1)[-1]
        prefix, ext = "index", (tail.rsplit(".", 1)[-1] if "." in tail else "html")
    if current != 0:
        return
    for page in range(1, count):
        yield Request(urljoin(response.url, f"{prefix}_{page}.{ext}"))


class Trs(Family):
    """TRS WCM: detail pages ``…/YYYYMM/tYYYYMMDD_<id>.html``, lists ``index_N.html``."""

    name = "trs"
    priority = 40
    links = _attachment_or(r"/t\d{8}_\d+\.s?html?(\?|$)")

    def detect(self, response):
        text = response.text
        return bool(_CREATE_PAGE.search(text) or _COUNT_PAGE.search(text)
                    or "TRS_Editor" in text or re.search(r"/t\d{8}_\d+\.s?html", text))

    def parse_list(self, response):
        yield from self.documents(response)
        yield from index_pages(response)


class Ucap(Family):
    """开普云 Ucap (and www.gov.cn): static lists, ``createPageHTML`` or "下一页" paging."""

    name = "ucap"
    priority = 30
    links = _attachment_or(r"/t\d{8}_\d+\.s?html?(\?|$)|/content_\d+\.html?|/\d{6}/[\w-]+\.s?html?")

    def detect(self, response):
        return bool(re.search(r"ucap|UCAP-CONTENT", response.text, re.I))

    def parse_list(self, response):
        yield from self.documents(response)
        pages = list(index_pages(response))
        yield from pages or pager_links(response)


# -- Hanweb JCMS ---------------------------------------------------------------------------
_HANWEB_KEYS = ("col", "webid", "path", "columnid", "sourceContentType", "unitid", "webname",
                "permissiontype")
_JPAAS_KEYS = {"webid": "webId", "pageid": "pageId", "tagid": "tagId", "tplsetid": "tplSetId"}
_RECORD = re.compile(r"<record>\s*<!\[CDATA\[(.*?)\]\]>\s*</record>", re.S)
_TOTAL = re.compile(r"<totalrecord>\s*(\d+)\s*</totalrecord>")
DATAPROXY = "/module/web/jpage/dataproxy.jsp"
JPAAS = "/api-gateway/jpaas-publish-server/front/page/build/unit"
#: Records per dataproxy.jsp call (what the JCMS front end asks for: three pages of 15).
DATAPROXY_BATCH = 45


class Hanweb(Family):
    """大汉 JCMS: column pages ``/col/colN/index.html`` whose list comes from ``dataproxy.jsp``
    (POSTed form, XML recordset) or from the jpaas JSON API; details ``/art/Y/M/D/art_C_ID``."""

    name = "hanweb"
    priority = 20
    links = _attachment_or(r"/art/\d{4}/\d{1,2}/\d{1,2}/art_\d+_\d+\.html|/art_\d+_\d+\.html")

    def detect(self, response):
        text = response.text
        return bool("dataproxy.jsp" in text or "jpage" in text.lower() or "jpaas" in text
                    or re.search(r"/col/col\d+/", response.url + text))

    def parse_list(self, response):
        if DATAPROXY in response.url:
            yield from self._recordset(response)
        elif JPAAS in response.url:
            yield from self._jpaas_answer(response)
        else:
            yield from self.documents(response)  # a static list, or nothing but the script
            yield from self._column_requests(response)

    def _column_requests(self, response) -> Iterator[Request]:
        text = response.text
        config = {}
        for key in _HANWEB_KEYS:
            match = re.search(rf"\b{key}\s*[:=]\s*['\"]?([^,'\"}}\s]*)", text)
            if match:
                config[key] = match[1]
        if config.get("columnid"):
            yield self.dataproxy_request(response.url, config, start=1)
        jpaas = {}
        for match in re.finditer(r"(?:data-)?(web-?id|page-?id|tag-?id|tpl-?set-?id)"
                                 r"[\"']?\s*[:=]\s*[\"']?([\w-]+)", text, re.I):
            jpaas.setdefault(_JPAAS_KEYS[match[1].replace("-", "").lower()], match[2])
        if len(jpaas) == 4 and not config.get("columnid"):
            yield self.jpaas_request(response.url, jpaas, page=1)

    @staticmethod
    def dataproxy_request(base: str, config: dict, start: int) -> Request:
        form = {"col": "1", "appid": "1", **config}
        query = urlencode({"startrecord": start, "endrecord": start + DATAPROXY_BATCH - 1,
                           "perpage": 15})
        return FormRequest(urljoin(base, f"{DATAPROXY}?{query}"), formdata=form,
                           meta={"hanweb_form": form, "hanweb_start": start})

    def _recordset(self, response) -> Iterator[Listed | Request]:
        text = response.text
        for record in _RECORD.findall(text):
            yield from list_items(Selector(text=record), response.url, self.links)
        total = int(m[1]) if (m := _TOTAL.search(text)) else 0
        start = response.meta.get("hanweb_start", 1)
        if start + DATAPROXY_BATCH <= total and "hanweb_form" in response.meta:
            yield self.dataproxy_request(response.url, response.meta["hanweb_form"],
                                         start + DATAPROXY_BATCH)

    @staticmethod
    def jpaas_request(base: str, config: dict, page: int, size: int = 15) -> Request:
        query = urlencode({**config, "parseType": "bulidstatic", "pageType": "column",
                           "paramJson": json.dumps({"pageNo": page, "pageSize": size})})
        return Request(urljoin(base, f"{JPAAS}?{query}"),
                       meta={"jpaas": config, "jpaas_page": page, "jpaas_size": size})

    def _jpaas_answer(self, response) -> Iterator[Listed | Request]:
        data = (json.loads(response.text) or {}).get("data") or {}
        items = list(list_items(Selector(text=data.get("html") or "<p></p>"), response.url,
                                self.links))
        yield from items
        page, size = response.meta.get("jpaas_page", 1), response.meta.get("jpaas_size", 15)
        total = int(data.get("total") or 0)
        if items and page * size < total and "jpaas" in response.meta:
            yield self.jpaas_request(response.url, response.meta["jpaas"], page + 1, size)


# -- Guangdong gkmlpt ----------------------------------------------------------------------
_GKMLPT_SID = re.compile(r"SID\s*:\s*['\"]?(\w+)")
_GKMLPT_TREE = re.compile(r"TREE\s*:\s*\{\s*\"?id\"?\s*:\s*(\d+)")


class Gkmlpt(Family):
    """广东 gkmlpt: ``window._CONFIG = {SID, TREE}`` and ``/gkmlpt/api/all/{category}?page=N``,
    whose items carry the 索引号, publisher and 文号 (kept as list context)."""

    name = "gkmlpt"
    priority = 10

    def detect(self, response):
        return "_CONFIG" in response.text or "/gkmlpt/" in response.url

    def parse_list(self, response):
        if "/gkmlpt/api/" in response.url:
            yield from self._api_answer(response)
            return
        sid = _GKMLPT_SID.search(response.text)
        fragment = urlsplit(response.url).fragment
        tree = _GKMLPT_TREE.search(response.text)
        category = fragment if fragment.isdigit() else (tree[1] if tree else "0")
        if sid:
            yield self.api_request(response.url, category, sid[1], 1)

    @staticmethod
    def api_request(base: str, category: str, sid: str, page: int) -> Request:
        return Request(urljoin(base, f"/gkmlpt/api/all/{category}?page={page}&sid={sid}"),
                       meta={"gkmlpt": (category, sid), "gkmlpt_page": page})

    def _api_answer(self, response) -> Iterator[Listed | Request]:
        data = json.loads(response.text)
        articles = data.get("articles") or []
        for item in articles:
            if not isinstance(item, dict) or not item.get("url"):
                continue
            stamp = item.get("date") or item.get("publish_time")
            date = _date(str(stamp)) if isinstance(stamp, str | int | float) else None
            extra = {key: str(item[src]) for src, key in
                     (("identifier", "index_no"), ("publisher", "issuing_agency"),
                      ("document_number", "doc_no")) if item.get(src)}
            # Attachments are fetched from the detail page, which links them too.
            yield Listed(urljoin(response.url, item["url"]), item.get("title"), date, extra)
        page = response.meta.get("gkmlpt_page", 1)
        size = int(data.get("size") or len(articles) or 1)
        if articles and page * size < int(data.get("total") or 0) and "gkmlpt" in response.meta:
            category, sid = response.meta["gkmlpt"]
            yield self.api_request(response.url, category, sid, page + 1)


# -- anything else -------------------------------------------------------------------------
log = logging.getLogger(__name__)


class Generic(Family):
    """Any list page: the links judged to be annual reports (:func:`judge_report_link`); with
    ``govreports crawl --verbose`` a log line says why each other candidate was passed over."""

    name = "generic"
    priority = 100

    def __init__(self, pattern: str | None = None):
        self.pattern = re.compile(pattern) if pattern else None

    def detect(self, response):
        return True

    def parse_list(self, response):
        for item in anchors(response.selector, response.url):
            judged = judge_report_link(item, self.pattern)
            if judged.taken:
                yield item
            elif judged.why != NO_WORDING:  # a candidate, passed over: say why
                log.info("not taken as a report (%s): %r %s", judged.why, item.title, item.url)
        yield from pager_links(response)


#: The one registry of CMS families, in detection order: the registry's ``cms`` values (with
#: ``auto``) and detection both read it, so a new family is one class and one entry here.
FAMILIES: dict[str, type[Family]] = {
    f.name: f for f in sorted((Gkmlpt, Hanweb, Ucap, Trs, Generic), key=lambda f: f.priority)}


def family(name: str, *, report_pattern: str | None = None) -> Family:
    return Generic(report_pattern) if name == "generic" else FAMILIES[name]()


def detect(response: Response, *, report_pattern: str | None = None) -> Family:
    """The family of a first page (by :attr:`Family.priority`; generic when nothing else
    matches)."""
    for cls in FAMILIES.values():
        candidate = family(cls.name, report_pattern=report_pattern)
        if candidate.detect(response):
            return candidate
    return Generic(report_pattern)
