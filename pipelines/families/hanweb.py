"""大汉 JCMS (Hanweb): column pages ``/col/colN/index.html`` whose list comes from
``dataproxy.jsp`` (a POSTed form answered by an XML recordset) or from the jpaas JSON API;
details ``/art/Y/M/D/art_C_ID.html``, the report between ``ZJEG_RSS.content`` markers."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from urllib.parse import urlencode, urljoin

from pipelines.families.base import (
    Family,
    LinkShapes,
    Listed,
    ListPage,
    Markers,
    NextPage,
    list_items,
    markup_tree,
)

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


class Hanweb(Family):
    name = "hanweb"
    priority = 20
    links = LinkShapes("/art/{yyyy}/{m}/{d}/art_{id}_{id}.html", "/art_{id}_{id}.html")
    markers = Markers(re.compile(r"<!--ZJEG_RSS\.content\.begin-->", re.I),
                      re.compile(r"<!--ZJEG_RSS\.content\.end-->", re.I))

    def detect(self, page):
        text = page.text
        return bool("dataproxy.jsp" in text or "jpage" in text.lower() or "jpaas" in text
                    or _COLUMN_URL.search(page.url + text))

    def parse_list(self, page):
        if DATAPROXY in page.url:
            yield from self._recordset(page)
        elif JPAAS in page.url:
            yield from self._jpaas_answer(page)
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
