"""What a crawl did, per portal: written into the run manifest (``_runs/<run_id>.json``).

A crawl never decides that a document is lost: every request that did not end in landed bytes
is listed here with its URL and a stable reason key, and anti-bot walls are listed apart.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from scrapy.exceptions import IgnoreRequest
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.error import (
    ConnectError,
    ConnectionRefusedError,
    DNSLookupError,
    TCPTimedOutError,
    TimeoutError,
)
from twisted.web._newclient import ResponseFailed, ResponseNeverReceived

from crawlers.guards import AntiBotBlocked, ForbiddenAddress, GuardedResolver
from crawlers.politeness import HostBlocked, TooLongRetryAfter


def _status(list_pages: int, listed: int | None) -> str:
    """``down`` (no list page fetched), ``suspect_empty`` (lists fetched, but they pointed to
    no report: a layout the crawler does not read) or ``ok``. ``listed`` None: not counted."""
    if list_pages == 0:
        return "down"
    return "suspect_empty" if listed == 0 else "ok"


def status_of(counts: dict) -> str:
    """A portal's outcome from its manifest ``counts`` (manifests older than ``status`` did
    not count what their lists pointed to)."""
    return counts.get("status") or _status(counts.get("list_pages", 0), counts.get("listed"))


def is_down(counts: dict) -> bool:
    """Whether no list page of the portal could be fetched."""
    return status_of(counts) == "down"


@dataclass
class PortalTally:
    """The counts and lists of one portal's crawl (not an annual report: a tally)."""

    portal_id: str
    list_pages: int = 0
    landed: list[dict] = field(default_factory=list)  # {url, sha256, role, new}
    not_modified: int = 0  # conditional requests answered 304
    known_skipped: int = 0  # URLs already in the lake, not requested again
    failures: list[dict] = field(default_factory=list)  # {url, reason, message}
    blocked: list[dict] = field(default_factory=list)  # {url, kind, status}
    revalidated: list[str] = field(default_factory=list)  # URLs a 304 confirmed unchanged
    family: str | None = None
    listed: int = 0  # documents the list pages pointed to (known or not)

    def status(self) -> str:
        return _status(self.list_pages, self.listed)

    def fail(self, url: str, reason: str, message: str) -> None:
        self.failures.append({"url": url, "reason": reason, "message": message})

    def summary(self) -> dict:
        roles = Counter(d["role"] for d in self.landed)
        return {
            "family": self.family,
            "status": self.status(),
            "list_pages": self.list_pages,
            "listed": self.listed,
            "documents": roles.get("document", 0),
            "attachments": roles.get("attachment", 0),
            "new_bytes": sum(1 for d in self.landed if d["new"] and d["role"] != "list"),
            "not_modified": self.not_modified,
            "known_skipped": self.known_skipped,
            "failed": len(self.failures),
            "blocked": len(self.blocked),
        }

    def to_json(self) -> dict:
        return {"portal_id": self.portal_id, "counts": self.summary(),
                "landed": [d for d in self.landed if d["role"] != "list"],
                "revalidated": self.revalidated, "failures": self.failures,
                "blocked": self.blocked}


#: Scrapy's own download exceptions (``scrapy.exceptions``, newer releases), by class name so
#: that older releases, which raise Twisted's errors instead, import this module too.
_SCRAPY_DOWNLOAD_ERRORS = {
    "DownloadTimeoutError": "timeout",
    "ResponseDataLossError": "truncated",
    "DownloadConnectionRefusedError": "connection_failed",
    "CannotResolveHostError": "dns",
    "DownloadFailedError": "connection_lost",
}


def failure_reason(failure) -> tuple[str, str]:
    """A stable reason key and a message for a failed request (a Twisted ``Failure``)."""
    exc = failure.value
    message = str(exc) or type(exc).__name__
    name = type(exc).__name__
    if "max size" in message or "maxsize" in message.lower():
        return "too_large", message
    if isinstance(exc, DNSLookupError) or name == "CannotResolveHostError":
        # A lookup GuardedResolver refused reaches here as "no results" (Twisted drops its
        # message): the resolver remembers why.
        request = getattr(failure, "request", None)
        host = (urlsplit(request.url).hostname or "") if request is not None else ""
        refused = GuardedResolver.refused.get(host.rstrip("."))
        if refused or "refusing" in message:
            return "forbidden_address", refused or message
    if name in _SCRAPY_DOWNLOAD_ERRORS:
        reason = _SCRAPY_DOWNLOAD_ERRORS[name]
        if reason == "truncated":
            message = "the body ended before its declared length"
        return reason, message
    if isinstance(exc, HttpError):
        return f"http_{exc.response.status}", f"HTTP {exc.response.status}"
    if isinstance(exc, AntiBotBlocked):
        return "anti_bot", message
    if isinstance(exc, ForbiddenAddress):
        return "forbidden_address", message
    if isinstance(exc, TooLongRetryAfter):
        return "retry_after_too_long", message
    if isinstance(exc, HostBlocked):
        return "host_blocked", message
    if isinstance(exc, IgnoreRequest):
        lowered = message.lower()
        if "robots.txt" in lowered:
            return "robots_disallowed", message
        if "redirect" in lowered:
            return "too_many_redirects", message
        if "offsite" in lowered or "filtered" in lowered:
            return "offsite", message
        return "ignored", message
    if isinstance(exc, DNSLookupError):
        return "dns", message
    if isinstance(exc, TimeoutError | TCPTimedOutError):
        return "timeout", message
    if isinstance(exc, ResponseFailed | ResponseNeverReceived):
        reasons = " ".join(str(r.value) for r in getattr(exc, "reasons", []))
        if "DataLoss" in repr(getattr(exc, "reasons", "")) or "length" in reasons.lower():
            return "truncated", f"the body ended before its declared length ({reasons})"
        return "connection_lost", reasons or message
    if isinstance(exc, ConnectionRefusedError | ConnectError):
        return "connection_failed", message
    return name, message
