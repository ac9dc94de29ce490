"""What any list page may hold, whatever its family: report links judged on their titles, a
pager, per-year sub-columns, and what the pager says the column holds."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from urllib.parse import urljoin, urlsplit

from pipelines.families.base import Family, LinkShapes, Listed, ListPage, NextPage

#: Annual-report wording, on a normalised title (pipelines.repair.normalize_title).
REPORT_WORDING = re.compile(r"年度报告|年报|(信息公开|政务公开).{0,12}报告")
_DISCLOSURE = re.compile(r"信息公开|政务公开|政府信息")
_YEAR = re.compile(r"(?:19|20)\d{2}年|二[〇零○]..年")
#: Titles about reports that are not one: notices asking for them, reviews, readings.
_ABOUT_REPORTS = re.compile(r"通知|公告|公示|征求|招标|采购|会议|培训|评议|考核|检查|通报|解读|图解"
                            r"|目录|指南")
#: Document URLs no family's shapes name but many sites use.
LOOSE_DOCUMENT_SHAPES = LinkShapes("/content_{id}*", "/art/*", "/{dated}/*")
#: A link reading only a year ("2019年度", "2020年报"): a per-year sub-column, unless its URL
#: has a document's shape.
_YEAR_COLUMN = re.compile(r"((?:19|20)\d{2})年?度?(年报|年度报告)?")
#: A folder named for a year below a column (``xxgknb2020/``, ``2024/``, ``nb2022/bmnb2022/``,
#: ``2018year/``): a per-year sub-column, whatever its link reads ("市政府", "部门").
_YEAR_FOLDER = re.compile(r"(?<!\d)(?:199\d|20[0-4]\d)(?!\d)")
#: The path of a column (a folder, or its index page), as opposed to a document's.
_COLUMN_PATH = re.compile(r"/(?:(?:index|default|list)(?:_\d+)?\.s?html?)?$", re.I)
#: Points a candidate needs: the wording alone gives 2, each other signal 1.
TAKE_SCORE = 3
NO_WORDING = "no annual-report wording"


@cache
def _document_shapes() -> LinkShapes:
    from pipelines.families import FAMILIES

    shapes = LOOSE_DOCUMENT_SHAPES
    for family in FAMILIES.values():
        shapes = shapes | family.links
    return shapes


def is_document_url(url: str) -> bool:
    """Whether a URL has the shape of a document on any family's site (or a file)."""
    return _document_shapes().match(url)


#: A news item's verbs: a meeting held, work deployed, a visit.
_NEWS = re.compile(r"召开|举办|举行|开展|部署|出席|调研|走访|座谈|动员|推进会|培训班|工作会")


def not_a_report(item: Listed) -> str | None:
    """Why a link a family's link shapes took is not a report, judged on its title alone
    (None: it may be one). A report column also lists notices about reports (编制…的通知),
    readings of them (解读, 图解) and news (召开政务公开工作会议); a title that reads as a report
    (年度报告, 年报 at its end), a body's name or a bare year is never passed over."""
    from pipelines.repair import normalize_title

    title = normalize_title(item.title or "")
    if not title or (REPORT_WORDING.search(title) and title.endswith(("报告", "年报"))):
        return None
    about = _ABOUT_REPORTS.search(title)
    if about:
        return f"about reports, not one ({about[0]})"
    news = _NEWS.search(title) if not REPORT_WORDING.search(title) else None
    return f"news, not a report ({news[0]})" if news else None


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
    document_url = is_document_url(item.url)
    if _YEAR_COLUMN.fullmatch(title) and not document_url:
        return Judged(False, 0, "a per-year sub-column")
    about = _ABOUT_REPORTS.search(title)
    if about and not title.endswith(("报告", "年报")):
        return Judged(False, 0, f"about reports, not one ({about[0]})")
    signals = {"disclosure wording": _DISCLOSURE.search(title), "year": _YEAR.search(title),
               "document URL": document_url, "row date": item.date}
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


def _other_links(page: ListPage) -> Iterator[tuple[Listed, str]]:
    """The links of a list page to other pages of its host, with their normalised labels."""
    from pipelines.repair import normalize_title

    here = urlsplit(page.url)
    for item in page.anchors:
        if urlsplit(item.url).netloc == here.netloc and item.url != page.url:
            yield item, normalize_title(item.title or "")


def pager_links(page: ListPage) -> Iterator[NextPage]:
    """Pager links: 下一页, 尾页, ›/» and the like, and page numbers that lead to
    ``index_N``/``list_N``/``?page=N``-style pages of the same column."""
    yield from navigation(page, None)


def navigation(page: ListPage, family: Family | None) -> Iterator[NextPage]:
    """The further list pages of any list page, whatever its family announces: its pager
    (:func:`pager_links`) and, given the page's ``family``, per-year sub-columns (a link
    reading only "2019年度", "2020年" or "2021", or a folder below the page's that is named
    for a year, ``xxgknb2020/``, ``nb2022/bmnb2022/``, whatever its link reads; never a
    document). The crawler drops what it requested already and bounds the rest by
    ``max_list_pages``."""
    column = urlsplit(page.url).path.rsplit("/", 1)[0]
    if family is not None:  # a script pager (TRS's createPageHTML, countPage) on any page
        yield from index_pages(page)
    for item, label in _other_links(page):
        target = urlsplit(item.url)
        page_like = bool(_PAGE_HREF.search(target.path + ("?" + target.query
                                                          if target.query else "")))
        if _PAGER_LABEL.match(label) or (page_like and target.path.rsplit("/", 1)[0] == column):
            yield NextPage(item.url)
        elif family is not None and not (is_document_url(item.url)
                                         or family.links.match(item.url)) and (
                _YEAR_COLUMN.fullmatch(label) or _year_folder(column, target.path)):
            yield NextPage(item.url)


def year_folder(url: str) -> str | None:
    """The folder of a column URL that is named for one year (``xxgknb2020``, ``2018year``),
    or None: a registry entry starting there never sees next year's reports. A site's first
    folder is its section, not a column's year (``www.wehdz.gov.cn/2022/zfxxgk/…``, a site
    rebuilt in 2022)."""
    folders = urlsplit(url).path.split("/")[2:-1]
    return next((folder for folder in folders if _YEAR_FOLDER.search(folder)), None)


def _year_folder(column: str, path: str) -> bool:
    """Whether ``path`` is a column below ``column`` (a list page's folder) and a year's: its
    folders below ``column`` name a year (a per-year sub-column known only by its folder's
    name), or ``column`` is a year's folder itself (``xxgknb2020/`` split by body:
    ``xxgknb2020/tjsrmzf/``)."""
    if not path.startswith(column + "/") or not _COLUMN_PATH.search(path):
        return False
    below = path[len(column) + 1:].rsplit("/", 1)[0]
    return bool(below) and bool(_YEAR_FOLDER.search(below)
                                or _YEAR_FOLDER.search(column.rsplit("/", 1)[-1]))


#: What a pager says the whole column holds: "共5页", "1/5页", "共48条", "48条记录".
ANNOUNCED_PAGES = re.compile(r"共\s*(\d{1,5})\s*页|\d{1,5}\s*/\s*(\d{1,5})\s*页")
_ANNOUNCED_ENTRIES = re.compile(r"共\s*有?\s*(\d{1,6})\s*(?:条|篇|项)|(\d{1,6})\s*条记录")
# createPageHTML(count, current, "index", "html") or: var countPage = N//共多少页
CREATE_PAGE = re.compile(r"createPageHTML\(\s*(\d+)\s*,\s*(\d+)\s*,\s*[\"'](\w+)[\"']\s*,"
                         r"\s*[\"'](\w+)[\"']")
COUNT_PAGE = re.compile(r"var\s+countPage\s*=\s*(\d+)")
#: A TRS list model's pager config: ``pagebar: {prepage: 10, recordCount: '20', …}``.
RECORD_COUNT = re.compile(r"recordCount\s*:\s*['\"]?(\d{1,6})")


def announced(page: ListPage, family: Family | None = None) -> dict[str, int | None]:
    """How many pages and entries a list page says its column has (its pager's "共5页",
    "共48条", a TRS ``createPageHTML`` count, a data interface's own total), so that a crawl
    that read far fewer can say so. None where the page does not say."""
    found: dict[str, int | None] = {"pages": None, "entries": None}
    entries = family.announced_entries(page) if family is not None else None
    if entries is not None or page.is_xml:
        return {"pages": None, "entries": entries}
    if page.root is None:  # a JSON list API answer paginates itself
        return found
    script = CREATE_PAGE.search(page.text) or COUNT_PAGE.search(page.text)
    # The pager's words, with the markup between them dropped (共<b>5</b>页).
    words = "".join(page.root.xpath(
        "//body//text()[not(ancestor::script) and not(ancestor::style)]"))
    words = re.sub(r"\s+", "", words)
    pages = [int(a or b) for a, b in ANNOUNCED_PAGES.findall(words)]
    if script:
        pages.append(int(script[1]))
    counts = [int(a or b) for a, b in _ANNOUNCED_ENTRIES.findall(words)]
    counts += [int(n) for n in RECORD_COUNT.findall(page.text)]
    found["pages"] = max(pages) if pages else None
    found["entries"] = max(counts) if counts else None
    return found


_CURRENT_PAGE = re.compile(r"var\s+currentPage\s*=\s*(\d+)")
#: A TRS pager configured as ``Pager({size: 5, current: 0, prefix: 'index', suffix: 'html'})``
#: (Beijing's sites, as a public crawler follows them).
_PAGER_CONFIG = re.compile(r"\bPager\(\s*\{([^{}]{0,300})\}")


def index_pages(page: ListPage) -> Iterator[NextPage]:
    """TRS-style static pagination: ``index.html``, ``index_1.html``, … from the page's script.
    Only the first page announces the others, so each is requested once."""
    match = CREATE_PAGE.search(page.text)
    pager = _PAGER_CONFIG.search(page.text)
    if match:
        count, current, prefix, ext = int(match[1]), int(match[2]), match[3], match[4]
    elif pager:
        config = dict(re.findall(r"(\w+)\s*:\s*['\"]?([\w.-]+)", pager[1]))
        count, current = int(config.get("size") or 0), int(config.get("current") or 0)
        prefix, ext = config.get("prefix", "index"), config.get("suffix", "html")
    else:
        count_match = COUNT_PAGE.search(page.text)
        if not count_match:
            return
        current_match = _CURRENT_PAGE.search(page.text)
        count, current = int(count_match[1]), int(current_match[1]) if current_match else 0
        tail = urlsplit(page.url).path.rsplit("/", 1)[-1]
        prefix, ext = "index", (tail.rsplit(".", 1)[-1] if "." in tail else "html")
    if current != 0:
        return
    for number in range(1, count):
        yield NextPage(urljoin(page.url, f"{prefix}_{number}.{ext}"))


#: What a page whose list a script fills names: its data interface when it names one, else the
#: script call. A family that reads the interface (Hanweb's dataproxy.jsp, jpaas) finds its
#: documents through it; any other such page would need a browser.
_LIST_SCRIPTS = (re.compile(r"dataproxy\.jsp|module/xxgk/search\.jsp|\w+\.trsapi|jpaas"
                            r"|was5/web/search|fjdzapp/search|irs/front/list"),
                 re.compile(r"\$\.(?:ajax|get|post|getJSON)\(|XMLHttpRequest|fetch\("))


def list_script(text: str, *, interfaces_only: bool = False) -> str | None:
    """The data interface (or, unless ``interfaces_only``, the script call) that fills a list
    page, or None."""
    found = _LIST_SCRIPTS[0].search(text) or (
        None if interfaces_only else _LIST_SCRIPTS[1].search(text))
    return found[0] if found else None
