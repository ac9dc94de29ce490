"""大汉 JCMS (Hanweb): column pages ``/col/colN/index.html`` whose list comes from
``dataproxy.jsp`` (a POSTed form answered by an XML recordset), from the jpaas JSON API, or
from the 信息公开 module's ``module/xxgk/search.jsp`` (a POSTed form answered by an HTML
fragment, ``currpage`` by ``currpage``, "共N页"); details ``/art/Y/M/D/art_C_ID.html``, the
report between ``ZJEG_RSS.content`` markers.

The search.jsp call is read as real pages make it: the column page's
``loadDynamic('/module/xxgk/search.jsp?…&area=AREA', 'divID', 'infotypeId', …, 'webid')``
(its string pieces joined, the script's variables left empty), answered by rows
``tr.tr_main_value_odd|even`` (link, ``title``/``mc``, date in ``rq`` or the third cell) or, in
the newer template, ``div.zfxxgk_list_con|zfxxgk_zdgkc|zfxxgk_item`` list items (shapes as
public crawlers of Zhejiang, Jiangsu, Jilin and Harbin sites read them)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

from pipelines.families.base import (
    Family,
    LinkShapes,
    Listed,
    ListPage,
    Markers,
    NextPage,
    list_date,
    list_items,
    markup_tree,
)
from pipelines.families.lists import ANNOUNCED_PAGES

_COLUMN_KEYS = ("col", "webid", "path", "columnid", "sourceContentType", "unitid", "webname",
                "permissiontype")
_JPAAS_KEYS = {"webid": "webId", "pageid": "pageId", "tagid": "tagId", "tplsetid": "tplSetId"}
_JPAAS_CONFIG = re.compile(r"(?:data-)?(web-?id|page-?id|tag-?id|tpl-?set-?id)"
                           r"[\"']?\s*[:=]\s*[\"']?([\w-]+)", re.I)
_RECORD = re.compile(r"<record>\s*<!\[CDATA\[(.*?)\]\]>\s*</record>", re.S)
_TOTAL = re.compile(r"<totalrecord>\s*(\d+)\s*</totalrecord>")
_COLUMN_URL = re.compile(r"/col/col\d+/")
DATAPROXY = "/module/web/jpage/dataproxy.jsp"
JPAAS = "/api-gateway/jpaas-publish-server/front/page/build/unit"
#: Records per dataproxy.jsp call (what the JCMS front end asks for: three pages of 15).
DATAPROXY_BATCH = 45
XXGK_SEARCH = "/module/xxgk/search.jsp"
#: ``loadDynamic(url expression, 'divid', 'infotypeId', a, b, 'webid', …)``: the url is string
#: pieces joined by ``+ variable +``.
_LOAD_DYNAMIC = re.compile(
    r"loadDynamic\(\s*('[^']*'(?:\s*\+\s*[^'+]+?\s*\+\s*'[^']*')*)\s*,\s*'([^']*)'"
    r"(?:\s*,\s*'([^']*)')?(?:\s*,\s*'([^']*)')?(?:\s*,\s*'([^']*)')?(?:\s*,\s*'([^']*)')?")
#: The search form's fields a browser sends empty.
_XXGK_BLANK = ("vc_title", "vc_number", "vc_filenumber", "vc_all", "texttype", "fbtime")


class Hanweb(Family):
    name = "hanweb"
    priority = 20
    links = LinkShapes("/art/{yyyy}/{m}/{d}/art_{id}_{id}.html", "/art_{id}_{id}.html")
    markers = Markers(re.compile(r"<!--ZJEG_RSS\.content\.begin-->", re.I),
                      re.compile(r"<!--ZJEG_RSS\.content\.end-->", re.I))

    def detect(self, page):
        text = page.text
        return bool("dataproxy.jsp" in text or "jpage" in text.lower() or "jpaas" in text
                    or "module/xxgk/" in text or _COLUMN_URL.search(page.url + text))

    def parse_list(self, page):
        if DATAPROXY in page.url:
            yield from self._recordset(page)
        elif JPAAS in page.url:
            yield from self._jpaas_answer(page)
        elif XXGK_SEARCH in page.url and "xxgk" in page.state:
            yield from self._xxgk_answer(page)
        else:
            yield from self.documents(page)  # a static list, or nothing but the script
            yield from self._column_requests(page)

    def announced_entries(self, page):
        if DATAPROXY not in page.url and not page.is_xml:
            return None
        total = _TOTAL.search(page.text)
        return int(total[1]) if total else None

    def _column_requests(self, page: ListPage) -> Iterator[NextPage]:
        config = {}
        for key in _COLUMN_KEYS:
            match = re.search(rf"\b{key}\s*[:=]\s*['\"]?([^,'\"}}\s]*)", page.text)
            if match:
                config[key] = match[1]
        if config.get("columnid"):
            yield dataproxy_request(page.url, config, start=1)
            return
        jpaas = {}
        for match in _JPAAS_CONFIG.finditer(page.text):
            jpaas.setdefault(_JPAAS_KEYS[match[1].replace("-", "").lower()], match[2])
        if len(jpaas) == 4:
            yield jpaas_request(page.url, jpaas, number=1)
            return
        call = _LOAD_DYNAMIC.search(page.text)
        if call and XXGK_SEARCH in call[1]:
            yield xxgk_request(page.url, call, number=1)

    def _xxgk_answer(self, page: ListPage) -> Iterator[Listed | NextPage]:
        """A search.jsp answer's rows, then its next page while "共N页" says there is one (or,
        with no total, while a page has rows)."""
        found = 0
        root = page.root
        rows = root.xpath("//tr[contains(@class, 'tr_main_value')]") if root is not None else []
        items = root.xpath("//div[contains(@class, 'zfxxgk_list_con') or contains(@class, "
                           "'zfxxgk_zdgkc') or contains(@class, 'zfxxgk_item')]//li") \
            if root is not None and not rows else []
        for row in rows + items:
            link = next(iter(row.xpath(".//a[@href]")), None)
            if link is None:
                continue
            cells = row.xpath("./td")
            dated = link.get("rq") or (cells[2].text_content() if len(cells) > 2 else
                                       " ".join(row.xpath(".//span//text() | .//b//text()")))
            title = (link.get("title") or link.get("mc") or link.text_content()).strip()
            found += 1
            yield Listed(urljoin(page.url, link.get("href").strip()), title or None,
                         list_date(dated.strip()) if dated else None)
        number = page.state.get("page", 1)
        pages = ANNOUNCED_PAGES.search(page.text)
        total = int(pages[1] or pages[2]) if pages else None
        if found and (total is None or number < total):
            yield NextPage(page.url, form={**page.state["xxgk"], "currpage": str(number + 1)},
                           state={"xxgk": page.state["xxgk"], "page": number + 1})

    def _recordset(self, page: ListPage) -> Iterator[Listed | NextPage]:
        for record in _RECORD.findall(page.text):
            yield from list_items(markup_tree(f"<html><body>{record}</body></html>"), page.url,
                                  self.links)
        total = int(m[1]) if (m := _TOTAL.search(page.text)) else 0
        start = page.state.get("start", 1)
        if start + DATAPROXY_BATCH <= total and "form" in page.state:
            yield dataproxy_request(page.url, page.state["form"], start + DATAPROXY_BATCH)

    def _jpaas_answer(self, page: ListPage) -> Iterator[Listed | NextPage]:
        data = (json.loads(page.text) or {}).get("data") or {}
        items = list(list_items(markup_tree(f"<html><body>{data.get('html') or ''}</body></html>"),
                                page.url, self.links))
        yield from items
        number, size = page.state.get("page", 1), page.state.get("size", 15)
        total = int(data.get("total") or 0)
        if items and number * size < total and "config" in page.state:
            yield jpaas_request(page.url, page.state["config"], number + 1, size)


def dataproxy_request(base: str, config: dict, start: int) -> NextPage:
    """A page of a JCMS column's recordset: ``DATAPROXY_BATCH`` records from ``start``."""
    form = {"col": "1", "appid": "1", **config}
    query = urlencode({"startrecord": start, "endrecord": start + DATAPROXY_BATCH - 1,
                       "perpage": 15})
    return NextPage(urljoin(base, f"{DATAPROXY}?{query}"), form=form,
                    state={"form": form, "start": start})


def jpaas_request(base: str, config: dict, number: int, size: int = 15) -> NextPage:
    """Page ``number`` of a jpaas column, ``size`` items a page."""
    query = urlencode({**config, "parseType": "bulidstatic", "pageType": "column",
                       "paramJson": json.dumps({"pageNo": number, "pageSize": size})})
    return NextPage(urljoin(base, f"{JPAAS}?{query}"),
                    state={"config": config, "page": number, "size": size})


def xxgk_request(base: str, call: re.Match, number: int) -> NextPage:
    """Page ``number`` of the 信息公开 module's search, as the column page's ``loadDynamic``
    call asks for it: the query its string pieces make, POSTed with the div, the info type
    and the site id its other arguments give."""
    target = "".join(re.findall(r"'([^']*)'", call[1]))
    query = dict(parse_qsl(urlsplit(target).query, keep_blank_values=True))
    form = {**dict.fromkeys(_XXGK_BLANK, ""), **query, "divid": call[2],
            "infotypeId": query.get("infotypeId") or call[3] or "",
            "jdid": call[6] or query.get("jdid") or "",
            "sortfield": query.get("sortfield") or "createdatetime:0,orderid:0",
            "currpage": str(number)}
    return NextPage(urljoin(base, target), form=form, state={"xxgk": form, "page": number})
