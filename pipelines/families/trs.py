"""TRS WCM (拓尔思): detail pages ``…/YYYYMM/tYYYYMMDD_<id>.html``, lists ``index_N.html``
announced by the first page's ``createPageHTML`` script, the report in ``div.TRS_Editor``.

A column whose list a script fills from TRS's search server (WAS5, ``/was5/web/search?channelid=
…&templet=docs.jsp&classsql=chnlid%3D…&prepage=N&page=N``, or Fujian's ``/fjdzapp/search`` with
the same parameters, named in the page's script) is read through it: a GET per page, answered by
JSON-like text whose strings may hold raw line breaks: ``docs`` (``title``, ``url`` or
``chnldocurl``, ``pubdate``/``pubtime``/``time``) and ``pagenum``, or ``data`` (``doctitle``,
``docpuburl`` or ``chnldocurl``, ``docreltime``) and ``pageCount``, as Fujian sites answer
public crawlers (a GET, a form POST, and both answers are seen in their code)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

from pipelines.families.base import (
    Container,
    Family,
    LinkShapes,
    Listed,
    ListPage,
    NextPage,
    list_date,
)
from pipelines.families.lists import COUNT_PAGE, CREATE_PAGE, index_pages

_DETAIL = re.compile(r"/t\d{8}_\d+\.s?html?")
#: TRS's search server (WAS5) and Fujian's copy of its interface: the paths a script names.
_SEARCH_SERVERS = ("/was5/web/search", "/fjdzapp/search")
_SEARCH_URL = re.compile(r"(?:https?://[\w.:-]+)?(?:" + "|".join(map(re.escape, _SEARCH_SERVERS))
                         + r")\?[^\s'\"<>\\]+")


class Trs(Family):
    name = "trs"
    priority = 40
    links = LinkShapes("/t{yyyymmdd}_{id}.{html}")
    containers = (Container(10, tag="div", class_token="TRS_Editor"),
                  Container(11, class_token="trs_editor_view"),
                  Container(12, class_token="Custom_UnionStyle"),
                  # Fujian's shared government-site platform: the article's box, around a
                  # TRS_Editor on newer pages, the pasted text itself on older ones.
                  Container(13, tag="div", class_token="article_content"))

    def detect(self, page):
        text = page.text
        return bool(CREATE_PAGE.search(text) or COUNT_PAGE.search(text)
                    or "TRS_Editor" in text or any(path in text for path in _SEARCH_SERVERS)
                    or _DETAIL.search(text))

    def parse_list(self, page):
        if "was5" in page.state:
            yield from _was5_answer(page)
            return
        yield from self.documents(page)
        yield from index_pages(page)
        search = _SEARCH_URL.search(page.text)
        if search:
            yield was5_request(urljoin(page.url, search[0].replace("&amp;", "&")), 1)


def was5_request(url: str, number: int) -> NextPage:
    """Page ``number`` of a WAS5 search the column's script names."""
    parts = urlsplit(url)
    query = {**dict(parse_qsl(parts.query, keep_blank_values=True)), "page": str(number)}
    return NextPage(parts._replace(query=urlencode(query)).geturl(),
                    state={"was5": url, "page": number})


def _was5_answer(page: ListPage) -> Iterator[Listed | NextPage]:
    try:
        data = json.loads(page.text.replace("\r", "").replace("\n", ""))
    except ValueError:
        return
    if not isinstance(data, dict):
        return
    docs = data.get("docs") or data.get("data")
    found = 0
    for doc in docs if isinstance(docs, list) else []:
        if not isinstance(doc, dict):
            continue
        link = doc.get("url") or doc.get("docpuburl") or doc.get("chnldocurl")
        if not link:
            continue
        found += 1
        title = doc.get("title") or doc.get("doctitle")
        dated = doc.get("pubdate") or doc.get("pubtime") or doc.get("time") \
            or doc.get("docreltime")
        yield Listed(urljoin(page.url, str(link)), str(title or "") or None,
                     list_date(str(dated)) if dated else None)
    number = page.state.get("page", 1)
    try:
        pages = int(data.get("pagenum") or data.get("pageCount") or 0)
    except (TypeError, ValueError):
        pages = 0
    if found and number < pages:
        yield was5_request(page.state["was5"], number + 1)
