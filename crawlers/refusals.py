"""Typed refusals for the requests Scrapy's own middlewares refuse.

Scrapy's robots.txt, redirect, offsite and decompression middlewares refuse a request with a
bare ``IgnoreRequest`` whose only distinction is its message text. These subclasses (installed
in place of Scrapy's, see ``crawlers/settings.py``) raise a subclass per cause instead, so the
crawl's tally classifies failures by exception type (``crawlers.tally.failure_reason``).
"""

from __future__ import annotations

from scrapy.downloadermiddlewares.httpcompression import HttpCompressionMiddleware
from scrapy.downloadermiddlewares.offsite import OffsiteMiddleware
from scrapy.downloadermiddlewares.redirect import RedirectMiddleware
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.utils.httpobj import urlparse_cached


class RobotsDisallowed(IgnoreRequest):
    """robots.txt disallows the URL for our user agent."""


class TooManyRedirects(IgnoreRequest):
    """The URL redirected more than ``REDIRECT_MAX_TIMES`` times."""


class Offsite(IgnoreRequest):
    """The URL is on a host the crawl does not take documents from."""


class TooLargeDecompressed(IgnoreRequest):
    """The body grew past ``DOWNLOAD_MAXSIZE`` while being decompressed."""


def _retyped(refusal: type[IgnoreRequest], exc: IgnoreRequest) -> IgnoreRequest:
    typed = refusal(*exc.args)
    typed.__cause__ = exc.__cause__ or exc
    return typed


class TypedRobotsTxtMiddleware(RobotsTxtMiddleware):
    def process_request_2(self, rp, request):
        try:
            return super().process_request_2(rp, request)
        except IgnoreRequest as exc:  # the only refusal of this method: robots.txt says no
            raise _retyped(RobotsDisallowed, exc) from exc


class TypedRedirectMiddleware(RedirectMiddleware):
    def process_response(self, request, response, spider=None):
        try:
            return super().process_response(request, response)
        except IgnoreRequest as exc:  # its only refusal: max redirections reached
            raise _retyped(TooManyRedirects, exc) from exc


class TypedOffsiteMiddleware(OffsiteMiddleware):
    """Also lets through the robots.txt request of a host whose request it let through (a hub's
    body on its own ``.gov.cn`` host): Scrapy makes it without the first request's
    ``allow_offsite``, filtered it, and so fetched the body without reading its robots.txt."""

    def process_request(self, request, spider=None):
        if request.meta.get("dont_obey_robotstxt") and \
                urlparse_cached(request).path == "/robots.txt":
            return None  # made by the robots.txt middleware (after this one) for an admitted host
        try:
            return super().process_request(request)
        except IgnoreRequest as exc:  # its only refusal: an offsite host
            raise _retyped(Offsite, exc) from exc


class TypedHttpCompressionMiddleware(HttpCompressionMiddleware):
    def process_response(self, request, response, spider=None):
        try:
            return super().process_response(request, response)
        except IgnoreRequest as exc:  # its only refusal: DOWNLOAD_MAXSIZE once decompressed
            raise _retyped(TooLargeDecompressed, exc) from exc


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
