"""TRS WCM (拓尔思): detail pages ``…/YYYYMM/tYYYYMMDD_<id>.html``, lists ``index_N.html``
announced by the first page's ``createPageHTML`` script, the report in ``div.TRS_Editor``."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urljoin, urlsplit

from pipelines.families.base import Container, Family, LinkShapes, ListPage, NextPage
from pipelines.families.lists import COUNT_PAGE, CREATE_PAGE

_CURRENT_PAGE = re.compile(r"var\s+currentPage\s*=\s*(\d+)")
_DETAIL = re.compile(r"/t\d{8}_\d+\.s?html")


def index_pages(page: ListPage) -> Iterator[NextPage]:
    """TRS-style static pagination: ``index.html``, ``index_1.html``, … from the page's script.
    Only the first page announces the others, so each is requested once."""
    match = CREATE_PAGE.search(page.text)
    if match:
        count, current, prefix, ext = int(match[1]), int(match[2]), match[3], match[4]
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
                    or "TRS_Editor" in text or _DETAIL.search(text))

    def parse_list(self, page):
        yield from self.documents(page)
        yield from index_pages(page)
