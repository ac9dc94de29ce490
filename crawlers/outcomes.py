"""What a crawl did, per portal: written into the run manifest (``_runs/<run_id>.json``).

A crawl never decides that a document is lost: every request that did not end in landed bytes
is listed here with its URL and a stable reason key, and anti-bot walls are listed apart.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
)
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.defer import CancelledError
from twisted.internet.error import (
    ConnectError,
    ConnectionRefusedError,
    DNSLookupError,
    TCPTimedOutError,
    TimeoutError,
)
from twisted.web._newclient import ResponseFailed, ResponseNeverReceived, _DataLoss
from twisted.web.http import PotentialDataLoss

from crawlers.guards import AntiBotBlocked, ForbiddenAddress, GuardedResolver
from crawlers.politeness import HostBlocked, TooLongRetryAfter
from crawlers.refusals import Offsite, RobotsDisallowed, TooLargeDecompressed, TooManyRedirects
from pipelines.errors import CrawlFailure
from pipelines.records import PortalOutcome


class PortalOutcomeBuilder:
    """Builds what one portal's crawl did, its :class:`PortalOutcome` in the crawl manifest. Its
    counts live in the
    crawl's stats (``crawler.stats``) under ``govreports/<portal_id>/…``, where Scrapy's stats
    dump and monitoring extensions see them too; the URLs behind them are kept here."""

    def __init__(self, portal_id: str, stats):
        self.portal_id = portal_id
        self.stats = stats
        self.prefix = f"govreports/{portal_id}/"
        self.landed: list[dict] = []  # {url, sha256, role, new}
        self.failures: list[dict] = []  # {url, reason, message}
        self.blocked: list[dict] = []  # {url, kind, status}
        self.revalidated: list[str] = []  # URLs a 304 confirmed unchanged
        self.browser_lists: list[dict] = []  # {url, script}: lists only a browser would read

    def count(self, name: str, n: int = 1) -> None:
        self.stats.inc_value(self.prefix + name, n)

    def get(self, name: str, default=0):
        return self.stats.get_value(self.prefix + name, default)

    def detected(self, family: str) -> None:
        """The CMS family the portal's first list page was read as."""
        if self.get("family", None) is None:
            self.stats.set_value(self.prefix + "family", family)

    def announced(self, *, pages: int | None, entries: int | None) -> None:
        """What a list page's pager says the column holds (the largest seen counts)."""
        if pages:
            self.stats.max_value(self.prefix + "announced_pages", pages)
        if entries:
            self.stats.max_value(self.prefix + "announced_entries", entries)

    def needs_browser(self, url: str, script: str) -> None:
        """A list page whose entries a script fills from an interface no family reads."""
        self.browser_lists.append({"url": url, "script": script})
        self.count("needs_browser")

    def land(self, url: str, sha256: str, role: str, *, new: bool, **extra) -> None:
        self.landed.append({"url": url, "sha256": sha256, "role": role, "new": new, **extra})
        if role != "list":
            self.count(f"{role}s")
            if new:
                self.count("new_bytes")

    def fail(self, url: str, reason: CrawlFailure | str, message: str) -> None:
        """``reason``: a :class:`CrawlFailure` or an ``http_<status>`` key (another string is
        a bug: ValueError)."""
        CrawlFailure.of(reason)
        reason = str(reason)
        self.failures.append({"url": url, "reason": reason, "message": message})
        self.count("failed")
        self.count(f"failed/{reason}")

    def block(self, url: str, kind: str, status: int) -> None:
        self.blocked.append({"url": url, "kind": kind, "status": status})
        self.count("blocked")

    def revalidate(self, url: str) -> None:
        self.revalidated.append(url)
        self.count("not_modified")

    def counts(self) -> dict:
        counts = {
            "family": self.get("family", None),
            **{name: self.get(name) for name in (
                "list_pages", "listed", "documents", "attachments", "new_bytes",
                "not_modified", "known_skipped", "failed", "blocked", "announced_pages",
                "announced_entries", "robots_truncated", "links_capped", "rechecked",
                "recheck_unchanged", "recheck_changed", "passed_over", "needs_browser")},
            "list_pages_capped": bool(self.get("list_pages_capped", False)),
            # Which rules found the listed documents: the family's, and the generic ones for
            # the reports the family's link shapes missed.
            "listed_by": {name.rsplit("listed_by_", 1)[1]: value for name, value in
                          self.stats.get_stats().items()
                          if name.startswith(self.prefix + "listed_by_")},
        }
        counts["status"], counts["status_note"] = PortalOutcome.judge(counts)
        return counts

    def build(self) -> PortalOutcome:
        return PortalOutcome(self.portal_id, self.counts(),
                             tuple(d for d in self.landed if d["role"] != "list"),
                             tuple(self.revalidated), tuple(self.failures), tuple(self.blocked),
                             tuple(self.browser_lists))


def failure_reason(failure) -> tuple[str, str]:
    """A stable reason key and a message for a failed request (a Twisted ``Failure``), by the
    exception's type."""
    exc = failure.value
    message = str(exc) or type(exc).__name__
    name = type(exc).__name__
    if isinstance(exc, DNSLookupError | CannotResolveHostError):
        # A lookup GuardedResolver refused reaches here as "no results" (Twisted drops its
        # message): the resolver remembers why.
        request = getattr(failure, "request", None)
        host = (urlsplit(request.url).hostname or "") if request is not None else ""
        refused = GuardedResolver.refused.get(host.rstrip("."))
        if refused:
            return CrawlFailure.FORBIDDEN_ADDRESS, refused
        return CrawlFailure.DNS, message
    if isinstance(exc, HttpError):  # an IgnoreRequest too
        return CrawlFailure.http(exc.response.status), f"HTTP {exc.response.status}"
    for types, reason in _BY_TYPE:
        if isinstance(exc, types):
            return reason, message
    if isinstance(exc, ResponseDataLossError):
        return CrawlFailure.TRUNCATED, "the body ended before its declared length"
    if isinstance(exc, ResponseFailed) and any(
            r.check(_DataLoss, PotentialDataLoss) for r in exc.reasons):
        reasons = " ".join(str(r.value) for r in exc.reasons)
        return CrawlFailure.TRUNCATED, f"the body ended before its declared length ({reasons})"
    if isinstance(exc, ResponseFailed | ResponseNeverReceived):
        reasons = " ".join(str(r.value) for r in getattr(exc, "reasons", []))
        return CrawlFailure.CONNECTION_LOST, reasons or message
    return CrawlFailure.ERROR, f"{name}: {message}"


#: Exception types → reason keys, most specific first (the refusals are IgnoreRequests).
_BY_TYPE: tuple[tuple[type | tuple[type, ...], CrawlFailure], ...] = (
    ((DownloadCancelledError, CancelledError, TooLargeDecompressed), CrawlFailure.TOO_LARGE),
    ((DownloadTimeoutError, TimeoutError, TCPTimedOutError), CrawlFailure.TIMEOUT),
    ((DownloadConnectionRefusedError, ConnectionRefusedError, ConnectError),
     CrawlFailure.CONNECTION_FAILED),
    (AntiBotBlocked, CrawlFailure.ANTI_BOT),
    (ForbiddenAddress, CrawlFailure.FORBIDDEN_ADDRESS),
    (TooLongRetryAfter, CrawlFailure.RETRY_AFTER_TOO_LONG),
    (HostBlocked, CrawlFailure.HOST_BLOCKED),
    (RobotsDisallowed, CrawlFailure.ROBOTS_DISALLOWED),
    (TooManyRedirects, CrawlFailure.TOO_MANY_REDIRECTS),
    (Offsite, CrawlFailure.OFFSITE),
    (IgnoreRequest, CrawlFailure.IGNORED),
    (DownloadFailedError, CrawlFailure.CONNECTION_LOST),
)
