"""The crawl manifest's writer, as a Scrapy extension. The crawl manifest
(``_runs/<run_id>.json``, read back as :class:`pipelines.records.RunManifest`) is the one
record of a crawl: per portal, its :class:`~pipelines.records.PortalOutcome` (counts in
``crawler.stats`` under ``govreports/<portal_id>/…``, landed URLs, failures, walls). The
writer also knows what the lake already holds of each portal (its crawl state), and writes the
manifest as the spider opens and again when it closes.

The spider only navigates; it, the lander and the failure signals record through this one
object (``crawler.get_extension(CrawlManifestWriter)``).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from scrapy import signals
from scrapy.exceptions import NotConfigured

from crawlers.outcomes import PortalOutcomeBuilder, failure_reason
from pipelines.errors import CrawlFailure
from pipelines.lake import Lake
from pipelines.records import CrawlEntry, batch_id, new_run_id

log = logging.getLogger(__name__)


class CrawlManifestWriter:
    def __init__(self, crawler):
        spider = crawler.spider
        settings = crawler.settings
        self.crawler = crawler
        self.portals = spider.portals
        self.revalidate = spider.revalidate
        self.lake = Lake.open(spider.lake_url or settings.get("GOVREPORTS_LAKE"), writable=True)
        started = datetime.now(UTC)
        self.run_id = batch_id(spider.run_id) if spider.run_id else new_run_id(started)
        self.started_at = started.isoformat()
        self.outcomes = {pid: PortalOutcomeBuilder(pid, crawler.stats) for pid in self.portals}
        #: portal → URL → what the lake's crawl state holds of it (updated as bytes land).
        self.known: dict[str, dict[str, CrawlEntry]] = {}
        self.manifest_key: str | None = None
        crawler.signals.connect(self.opened, signal=signals.spider_opened)
        crawler.signals.connect(self.closed, signal=signals.spider_closed)
        crawler.signals.connect(self.scheduled, signal=signals.request_scheduled)
        crawler.signals.connect(self.dropped, signal=signals.request_dropped)
        crawler.signals.connect(self.callback_failed, signal=signals.spider_error)

    @classmethod
    def from_crawler(cls, crawler):
        if getattr(crawler.spider, "portals", None) is None:
            raise NotConfigured("the crawl manifest keeps the books of the portal spider only")
        return cls(crawler)

    # -- opening and closing ---------------------------------------------------------------

    def opened(self, spider=None) -> None:
        for portal_id in self.portals:
            state, journal = self.lake.crawl_state_and_journal(portal_id)
            self.known[portal_id] = state
            # A journal not yet folded into the state is what a crawl killed mid-way landed:
            # this run takes those landings on, so that they get processed with its own.
            for entry in journal:
                if entry.run != self.run_id and not entry.alias_of:
                    self.outcomes[portal_id].land(entry.url, entry.sha256, entry.role,
                                                 new=False, resumed_from=entry.run)
        self.write_manifest("running")

    def closed(self, spider=None, reason: str = "finished") -> None:
        for portal_id in self.portals:
            self.lake.compact_crawl_state(portal_id)
        self.write_manifest("finished", finish_reason=reason)

    def as_json(self, status: str, **extra) -> dict:
        portals = {pid: built.build().to_json() for pid, built in self.outcomes.items()}
        totals: dict[str, int] = {}
        for data in portals.values():
            for key, value in data["counts"].items():
                if isinstance(value, int) and not isinstance(value, bool):
                    totals[key] = totals.get(key, 0) + value
        return {"run_id": self.run_id, "command": "crawl", "lake": self.lake.url,
                "status": status, "started_at": self.started_at,
                "finished_at": datetime.now(UTC).isoformat() if status != "running" else None,
                "revalidate": self.revalidate, "counts": totals, "portals": portals, **extra}

    def write_manifest(self, status: str, **extra) -> None:
        self.manifest_key = self.lake.write_manifest(self.run_id, self.as_json(status, **extra))

    # -- failures --------------------------------------------------------------------------

    def request_failed(self, failure) -> None:
        """A request's errback: recorded under the URL that was listed."""
        request = failure.request
        outcome = self.outcomes.get(request.meta.get("portal"))
        if outcome is None:
            return
        reason, message = failure_reason(failure)
        if reason == CrawlFailure.OFFSITE and request.meta.get("redirect_urls"):
            # A hub's body whose redirect left the hosts documents are taken from.
            self._record_redirect(request, reason, "redirects off the portal, not followed")
            return
        url = listed_url(request)
        if reason == CrawlFailure.ANTI_BOT:
            outcome.block(url, failure.value.kind, failure.value.status)
        else:
            outcome.fail(url, reason, message)
        log.warning("%s: %s (%s)", url, message, reason)

    def callback_failed(self, failure, response, spider=None) -> None:
        """A list or page the spider could not read (a maintenance page where JSON was
        expected, a binary list): recorded, so that the portal is not reported as fine."""
        outcome = self.outcomes.get(response.meta.get("portal"))
        if outcome is None:
            return
        message = f"{type(failure.value).__name__}: {failure.value}"
        outcome.fail(response.url, CrawlFailure.PARSE_ERROR, message)
        log.warning("%s: could not be read: %s (parse_error)", response.url, message)

    def scheduled(self, request, spider=None) -> None:
        """A redirect off the portal is dropped by Scrapy's offsite filter as it is scheduled,
        silently: record it, under the URL that was listed."""
        if request.meta.get("allow_offsite") or request.dont_filter:
            return  # not filtered here; if the guard revokes the leave, the errback says so
        verdict = self._redirect_verdict(request)
        if verdict and verdict[0] == "offsite":
            self._record_redirect(request, *verdict)

    def dropped(self, request, spider=None) -> None:
        """The scheduler drops a redirect to a URL requested already (a loop, or another listed
        URL of the same document) silently, without an errback: record why."""
        verdict = self._redirect_verdict(request)
        if verdict and verdict[0] != "offsite":
            self._record_redirect(request, *verdict)

    def _redirect_verdict(self, request) -> tuple[str, str] | None:
        chain = request.meta.get("redirect_urls")
        portal = self.portals.get(request.meta.get("portal"))
        if not chain or portal is None:
            return None
        if request.url in chain:
            return CrawlFailure.REDIRECT_LOOP, "redirects in a loop"
        if not portal.takes_document(request.url):
            return CrawlFailure.OFFSITE, "redirects off the portal, not followed"
        return CrawlFailure.REDIRECT_TO_KNOWN, "redirects to a URL this crawl requested already"

    def _record_redirect(self, request, reason: str, why: str) -> None:
        chain = request.meta["redirect_urls"]
        message = f"{why}: {' -> '.join([*chain, request.url])}"
        self.outcomes[request.meta["portal"]].fail(chain[0], reason, message)
        log.warning("%s: %s (%s)", chain[0], message, reason)


def listed_url(request) -> str:
    """The URL a request was made for, before any redirect."""
    return (request.meta.get("redirect_urls") or [request.url])[0]
