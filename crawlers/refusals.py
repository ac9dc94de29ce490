"""Typed refusals for the requests Scrapy's own middlewares refuse.

Scrapy's robots.txt, redirect, offsite and decompression middlewares refuse a request with a
bare ``IgnoreRequest`` whose only distinction is its message text. These subclasses (installed
in place of Scrapy's, see ``crawlers/settings.py``) raise a subclass per cause instead, so the
crawl's outcome classifies failures by exception type (``crawlers.outcomes.failure_reason``).
"""

from __future__ import annotations

import logging
import weakref
from contextlib import contextmanager

from scrapy import signals
from scrapy.downloadermiddlewares.httpcompression import HttpCompressionMiddleware
from scrapy.downloadermiddlewares.offsite import OffsiteMiddleware
from scrapy.downloadermiddlewares.redirect import RedirectMiddleware
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest, StopDownload
from scrapy.utils.httpobj import urlparse_cached

from pipelines.errors import Terminal

logger = logging.getLogger(__name__)


class RobotsDisallowed(IgnoreRequest, Terminal):
    """robots.txt disallows the URL for our user agent."""


class TooManyRedirects(IgnoreRequest, Terminal):
    """The URL redirected more than ``REDIRECT_MAX_TIMES`` times."""


class Offsite(IgnoreRequest, Terminal):
    """The URL is on a host the crawl does not take documents from."""


class TooLargeDecompressed(IgnoreRequest, Terminal):
    """The body grew past ``DOWNLOAD_MAXSIZE`` while being decompressed."""


@contextmanager
def _refusals_as(refusal: type[IgnoreRequest]):
    """A bare ``IgnoreRequest`` raised inside becomes ``refusal`` (the one refusal the
    wrapped Scrapy method makes)."""
    try:
        yield
    except IgnoreRequest as exc:
        raise refusal(*exc.args) from exc


#: robots.txt read at most (``GOVREPORTS_ROBOTSTXT_MAXSIZE``), Google's limit: what lies
#: beyond is ignored, as Google ignores it. A 50 MB robots.txt otherwise costs over 1 GB to
#: parse.
ROBOTSTXT_MAXSIZE = 500 * 1024


def _is_robots(request) -> bool:
    return bool(request.meta.get("dont_obey_robotstxt")) and \
        urlparse_cached(request).path == "/robots.txt"


class TypedRobotsTxtMiddleware(RobotsTxtMiddleware):
    """Scrapy's, refusing with :class:`RobotsDisallowed`, and reading at most
    ``GOVREPORTS_ROBOTSTXT_MAXSIZE`` bytes of a robots.txt: the download stops there (Scrapy's
    ``bytes_received`` signal, whether or not a Content-Length was sent) and the rules are read
    up to the last whole line within the cap. The portal's crawl record counts
    ``robots_truncated``."""

    def __init__(self, crawler):
        super().__init__(crawler)
        self.maxsize = crawler.settings.getint("GOVREPORTS_ROBOTSTXT_MAXSIZE", ROBOTSTXT_MAXSIZE)
        self._received: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        crawler.signals.connect(self._bytes_received, signal=signals.bytes_received)

    def _bytes_received(self, data, request, spider=None) -> None:
        if not _is_robots(request):
            return
        self._received[request] = self._received.get(request, 0) + len(data)
        if self._received[request] > self.maxsize:
            raise StopDownload(fail=False)  # the response goes on with what was received

    async def _parse_robots(self, response, netloc, request) -> None:
        if len(response.body) > self.maxsize:
            cut = response.body[:self.maxsize]
            response = response.replace(body=cut[:cut.rfind(b"\n") + 1])
            portal = request.meta.get("portal")
            if portal:  # the portal's crawl record
                from crawlers.outcomes import (
                    PortalOutcomeBuilder,  # it imports this module's refusals
                )

                PortalOutcomeBuilder(portal, self.crawler.stats).count("robots_truncated")
            logger.warning("robots.txt of %s is longer than %d bytes: the rest is ignored",
                           netloc, self.maxsize)
        await super()._parse_robots(response, netloc, request)

    def process_request_2(self, rp, request):
        with _refusals_as(RobotsDisallowed):
            return super().process_request_2(rp, request)


class TypedRedirectMiddleware(RedirectMiddleware):
    def process_response(self, request, response, spider=None):
        with _refusals_as(TooManyRedirects):  # max redirections reached
            return super().process_response(request, response)


class TypedOffsiteMiddleware(OffsiteMiddleware):
    """Also lets through the robots.txt request of a host whose request it let through (a hub's
    body on its own ``.gov.cn`` host): Scrapy makes it without the first request's
    ``allow_offsite``, filtered it, and so fetched the body without reading its robots.txt."""

    def process_request(self, request, spider=None):
        if request.meta.get("dont_obey_robotstxt") and \
                urlparse_cached(request).path == "/robots.txt":
            return None  # made by the robots.txt middleware (after this one) for an admitted host
        with _refusals_as(Offsite):
            return super().process_request(request)


class TypedHttpCompressionMiddleware(HttpCompressionMiddleware):
    def process_response(self, request, response, spider=None):
        with _refusals_as(TooLargeDecompressed):  # DOWNLOAD_MAXSIZE once decompressed
            return super().process_response(request, response)


#: Scrapy's middleware → ours, at the same place in the chain.
REPLACED = {
    "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware":
        ("crawlers.refusals.TypedOffsiteMiddleware", 50),
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware":
        ("crawlers.refusals.TypedRobotsTxtMiddleware", 100),
    "scrapy.downloadermiddlewares.httpcompression.HttpCompressionMiddleware":
        ("crawlers.refusals.TypedHttpCompressionMiddleware", 590),
    "scrapy.downloadermiddlewares.redirect.RedirectMiddleware":
        ("crawlers.refusals.TypedRedirectMiddleware", 600),
}
