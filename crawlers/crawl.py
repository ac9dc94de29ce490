"""Run a crawl from Python (the CLI's ``crawl`` and ``run``), and find what to process after it.

Scrapy's Twisted reactor starts once per process and cannot be restarted, so a process runs one
crawl (all chosen portals together, one download slot per host); schedulers run each crawl in
its own process (``govreports crawl`` in a subprocess or an Airflow task).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from crawlers.portals import Portal
from pipelines.records import portal_outcomes


@dataclass
class CrawlRun:
    """A finished crawl: its crawl manifest (the one record of it) and the manifest's key."""

    manifest: dict
    manifest_key: str

    @property
    def down(self) -> dict[str, str]:
        """Portals none of whose list pages could be fetched, with why."""
        return {portal_id: ", ".join(outcome.down_reasons()) or "nothing fetched"
                for portal_id, outcome in portal_outcomes(self.manifest).items()
                if outcome.is_down()}


def crawl(portals: list[Portal], lake_url: str | None, *, registry: str | None = None,
          settings: dict | None = None, revalidate: bool = False, run_id: str | None = None,
          log_level: str = "WARNING") -> CrawlRun:
    """Crawl the portals into the lake in this process; returns the run manifest."""
    from scrapy.crawler import CrawlerProcess
    from scrapy.utils.project import get_project_settings

    from crawlers.manifest import CrawlManifestWriter
    from crawlers.spider import PortalSpider

    project = get_project_settings()
    if not project.get("BOT_NAME") == "govreports":  # run outside the repository root
        project.setmodule("crawlers.settings", priority="project")
    project.set("LOG_LEVEL", log_level, priority="cmdline")
    if registry:
        project.set("GOVREPORTS_PORTALS", str(registry), priority="cmdline")
    for name, value in (settings or {}).items():
        project.set(name, value, priority="cmdline")
    process = CrawlerProcess(project)
    logging.getLogger("scrapy").setLevel(log_level)
    crawler = process.create_crawler(PortalSpider)
    process.crawl(crawler, portals=portals, lake=lake_url, revalidate=revalidate,
                  run_id=run_id)
    process.start()
    writer = crawler.get_extension(CrawlManifestWriter)
    return CrawlRun(writer.as_json("finished"), writer.manifest_key)
