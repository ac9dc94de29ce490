"""Spider loader: one spider per portal of the registry, plus ``portals`` (all of them).

``scrapy list`` shows the registry; ``scrapy crawl yn-baoshan-longyang`` crawls one portal;
``scrapy crawl portals -a portal=a,b`` several in one process (one download slot per host
across them). A portal is configuration, so no spider class is written per portal.
"""

from __future__ import annotations

from crawlers.portals import load_portals
from crawlers.spider import PortalSpider


class PortalSpiderLoader:
    def __init__(self, settings):
        portals = load_portals(settings.get("GOVREPORTS_PORTALS"))
        self._spiders = {PortalSpider.name: PortalSpider}
        for portal in portals:
            self._spiders[portal.id] = type(
                f"PortalSpider_{portal.id.replace('-', '_')}", (PortalSpider,),
                {"name": portal.id, "portal_ids": (portal.id,),
                 "allowed_domains": list(portal.hosts),
                 "__doc__": f"{portal.name} ({portal.cms}): {', '.join(portal.start_urls)}"})

    @classmethod
    def from_settings(cls, settings):
        return cls(settings)

    def load(self, spider_name: str):
        try:
            return self._spiders[spider_name]
        except KeyError:
            raise KeyError(f"Spider not found: {spider_name}") from None

    def list(self) -> list[str]:
        return sorted(self._spiders)

    def find_by_request(self, request) -> list[str]:
        return [name for name, cls in self._spiders.items()
                if cls is not PortalSpider and cls.handles_request(request)]
