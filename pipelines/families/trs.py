"""TRS WCM (拓尔思): detail pages ``…/YYYYMM/tYYYYMMDD_<id>.html``, lists ``index_N.html``
announced by the first page's ``createPageHTML`` script, the report in ``div.TRS_Editor``."""

from __future__ import annotations

import re

from pipelines.families.base import Container, Family, LinkShapes
from pipelines.families.lists import COUNT_PAGE, CREATE_PAGE, index_pages

_DETAIL = re.compile(r"/t\d{8}_\d+\.s?html")


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
