"""开普云 Ucap (and www.gov.cn): static lists paged by ``createPageHTML`` or "下一页", the
report in ``#UCAP-CONTENT`` or ``<ucapcontent>``."""

from __future__ import annotations

import re

from pipelines.families.base import Container, Family, LinkShapes
from pipelines.families.lists import index_pages, pager_links

_MARK = re.compile(r"ucap|UCAP-CONTENT", re.I)


class Ucap(Family):
    name = "ucap"
    priority = 30
    links = LinkShapes("/t{yyyymmdd}_{id}.{html}", "/content_{id}.{htm}",
                       "/{yyyymm}/{name}.{html}")
    containers = (Container(20, element_id="UCAP-CONTENT"), Container(21, tag="ucapcontent"))

    def detect(self, page):
        return bool(_MARK.search(page.text))

    def parse_list(self, page):
        yield from self.documents(page)
        pages = list(index_pages(page))
        yield from pages or pager_links(page)
