"""Politeness beyond Scrapy's defaults: robots.txt ``Crawl-delay``, ``Retry-After`` and a
portal's own ``delay``.

Scrapy obeys robots.txt rules but ignores ``Crawl-delay``, and retries a 429/503 at once. This
downloader middleware keeps, per download slot (one host), a floor under the slot's delay: the
host's Crawl-delay or the portal's ``delay`` (and DOWNLOAD_DELAY), raised for a while by a
``Retry-After``. AutoThrottle adapts the delay to latency; the floor is re-applied after each of
its adjustments and before each request, so it never goes below. The delay is counted from the
host's answer, not from when Scrapy let the request go: the host sees at least the floor
between two requests (tests/bench/bench_crawl.py measures the smallest gap at 120 hosts).
"""

from __future__ import annotations

import logging
import time
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

from scrapy import signals
from scrapy.exceptions import IgnoreRequest

from pipelines.errors import Terminal

log = logging.getLogger(__name__)


def retry_after_seconds(value: str | bytes | None, now: float | None = None) -> float | None:
    """Seconds a ``Retry-After`` header asks for (delta-seconds or an HTTP date), or None."""
    if value is None:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return max(0.0, when - (time.time() if now is None else now))


class TooLongRetryAfter(IgnoreRequest, Terminal):
    """Raised when a host asks to come back later than ``RETRY_AFTER_MAX`` allows: the URL is
    recorded as failed for this run (a later run will try again)."""


class HostBlocked(IgnoreRequest, Terminal):
    """A request not sent because its host stopped this run: it showed an anti-bot wall or
    asked to be left alone longer than ``RETRY_AFTER_MAX``. A later run tries again."""

    def __init__(self, host: str, reason: str):
        super().__init__(f"not requested: {host} stopped this run ({reason})")


def stop_host(crawler, request, reason: str) -> None:
    """No more requests to ``request``'s host in this run (see
    :meth:`PolitenessMiddleware.stop_host`)."""
    politeness = crawler.get_downloader_middleware(PolitenessMiddleware)
    if politeness is not None:
        politeness.stop_host(request, reason)


class PolitenessMiddleware:
    """Crawl-delay and Retry-After as per-host delay floors."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.max_wait = crawler.settings.getfloat("RETRY_AFTER_MAX", 300.0)
        self.codes = set(crawler.settings.getlist("RETRY_AFTER_HTTP_CODES", [429, 503]))
        self.min_delay = crawler.settings.getfloat("DOWNLOAD_DELAY")
        # A portal's own delay is a floor for its hosts; then Crawl-delays, as robots.txt
        # files are read: slot key → floor.
        self.floors: dict[str, float] = {
            host: float(delay)
            for host, delay in getattr(crawler.spider, "host_delays", {}).items()}
        self.held: dict[str, float] = {}  # slot key → delay before a Retry-After raised it
        #: host → why no more requests go to it in this run (an anti-bot wall, a Retry-After
        #: beyond RETRY_AFTER_MAX).
        self.blocked_hosts: dict[str, str] = {}
        crawler.signals.connect(self.robots_parsed, signal=signals.robots_parsed)
        crawler.signals.connect(self.response_downloaded, signal=signals.response_downloaded)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def _slot(self, request):
        downloader = self.crawler.engine.downloader
        key = downloader.get_slot_key(request)
        return key, downloader.slots.get(key)

    def stop_host(self, request, reason: str) -> None:
        """No more requests to ``request``'s host in this run: remember why, and fail the
        requests already waiting in its download slot (they passed the middlewares before the
        host said stop, and would otherwise still be sent)."""
        from twisted.python.failure import Failure

        host = urlsplit(request.url).hostname or ""
        if host in self.blocked_hosts:
            return
        self.blocked_hosts[host] = reason
        key, slot = self._slot(request)
        while slot is not None and slot.queue:
            waiting, deferred = slot.queue.popleft()
            deferred.errback(Failure(HostBlocked(host, reason)))

    def robots_parsed(self, robotparser, request):
        agent = self.crawler.settings.get("ROBOTSTXT_USER_AGENT") or \
            self.crawler.settings.get("USER_AGENT")
        delay = robotparser.crawl_delay(agent)
        if not delay:
            return
        key, slot = self._slot(request)
        self.floors[key] = max(self.floors.get(key, 0.0), float(delay))
        if slot is not None:
            slot.delay = max(slot.delay, self.floors[key])
        log.info("robots.txt of %s asks for Crawl-delay %ss", key, delay)

    def response_downloaded(self, response, request, spider=None):
        # Runs after AutoThrottle's own handler of the same signal, and before the downloader
        # takes the slot's next request: the delay counts from this answer. (Set only in
        # process_response, it came too late: the downloader had already sent the next
        # request if this one took longer than the delay since it left the queue, and a crawl
        # process busy with 250 hosts on two cores sent requests 0.2 s after an answer.)
        self._answered(request)
        key, slot = self._slot(request)
        if slot is None:
            return
        if key in self.held and 200 <= response.status < 400:
            slot.delay = self.held.pop(key)  # the host is answering again
        slot.delay = max(slot.delay, self.floors.get(key, 0.0))

    def process_request(self, request, spider=None):
        host = urlsplit(request.url).hostname or ""
        if host in self.blocked_hosts:
            raise HostBlocked(host, self.blocked_hosts[host])
        key, slot = self._slot(request)
        if slot is not None:  # whatever lowered it since (AutoThrottle), the floor holds
            slot.delay = max(slot.delay, self.floors.get(key, 0.0), self.min_delay)

    def _answered(self, request) -> None:
        # Scrapy counts a host's delay from when a request leaves its queue, before the
        # connection is made: a slow connect followed by a quick one put two requests less than
        # the delay apart at the host. Counted from the answer, the host sees at least the delay
        # between two requests (one at a time per host: nothing else is in flight). A response
        # is stamped by response_downloaded (before the downloader takes the next request), a
        # failure here.
        _key, slot = self._slot(request)
        if slot is not None:
            slot.lastseen = max(slot.lastseen, time.monotonic())

    def process_exception(self, request, exception, spider=None):
        self._answered(request)

    def process_response(self, request, response, spider=None):
        if response.status not in self.codes:
            return response
        wait = retry_after_seconds(response.headers.get("Retry-After"))
        if wait is None:
            return response
        if wait > self.max_wait:
            self.stop_host(request, f"Retry-After {wait:.0f}s")
            raise TooLongRetryAfter(f"HTTP {response.status} with Retry-After {wait:.0f}s, more "
                                    f"than RETRY_AFTER_MAX={self.max_wait:.0f}s")
        key, slot = self._slot(request)
        if slot is not None:
            self.held.setdefault(key, slot.delay)
            slot.delay = max(slot.delay, wait)
            # The downloader stamps slots with time.monotonic() (Scrapy >= 2.13); the next
            # request to this host waits `wait` from now.
            slot.lastseen = time.monotonic()
        return response  # RetryMiddleware schedules the retry, which the slot now holds back
