"""Any other site: list links judged to be annual reports on their titles
(:func:`pipelines.families.lists.judge_report_link`), any pager, and the ``#zoom`` box many
site templates hold an article in."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

from pipelines.families.base import Container, Family, Listed
from pipelines.families.lists import NO_WORDING, judge_report_link, pager_links

log = logging.getLogger(__name__)


class Generic(Family):
    """With ``govreports crawl --verbose`` a log line says why each candidate link that was
    passed over was."""

    name = "generic"
    priority = 100
    containers = (Container(30, element_id="zoom"),)

    def __init__(self, pattern: str | None = None):
        self.pattern = re.compile(pattern) if pattern else None

    def detect(self, page):
        return True

    def parse_list(self, page):
        yield from self.reports(page)
        yield from pager_links(page)

    def reports(self, page) -> Iterator[Listed]:
        """The page's links judged to be reports on their titles."""
        for item in page.anchors:
            judged = judge_report_link(item, self.pattern)
            if judged.taken:
                yield item
            elif judged.why != NO_WORDING:  # a candidate, passed over: say why
                log.info("not taken as a report (%s): %r %s", judged.why, item.title, item.url)
