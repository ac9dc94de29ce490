"""What the crawler refuses to do: reach private networks, and fight anti-bot walls.

* :func:`check_address` refuses private, link-local, cloud-metadata and other non-public
  addresses (10/8, 172.16/12, 192.168/16, 169.254/16, fc00::/7, fe80::/10, …). Loopback stays
  allowed: the fixture portals live there. :class:`AddressGuardMiddleware` applies it to URLs
  whose host is an address, :class:`GuardedResolver` to what a host name resolves to (a public
  name pointing at 10.0.0.5 is refused too, before any connection is made).
* :func:`detect_anti_bot` recognises the challenge pages of 瑞数 (HTTP 412 with ``$_ts``),
  加速乐 (521 with ``__jsl_clearance``) and cookie-setting JavaScript redirects. They are
  recorded per portal and URL and never retried or solved.
"""

from __future__ import annotations

import ipaddress
import re

from scrapy.exceptions import IgnoreRequest
from scrapy.resolver import CachingThreadedResolver
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.error import DNSLookupError

from pipelines.errors import Terminal
from pipelines.settings import current

#: Names that are metadata services whatever they resolve to.
METADATA_HOSTS = frozenset({"metadata.google.internal", "metadata", "instance-data",
                            "metadata.tencentyun.com", "100.100.100.200"})


class ForbiddenAddress(IgnoreRequest, Terminal):
    """Raised by the guard for a request to a private, link-local or metadata address;
    retrying cannot help: the URL or the DNS answer points inside a private network."""


class AntiBotBlocked(IgnoreRequest, Terminal):
    """Raised by :class:`AntiBotMiddleware` when a portal answers with a challenge page;
    ``kind`` names the wall. Retrying soon will not help; the portal needs a person."""

    def __init__(self, kind: str, url: str, status: int):
        super().__init__(f"anti-bot challenge ({kind}, HTTP {status}) at {url}")
        self.kind = kind
        self.status = status


#: Loopback is this machine (a worker's own services); only local fixture portals live there.
LOOPBACK_ENV = "GOVREPORTS_ALLOW_LOOPBACK"


def loopback_allowed() -> bool:
    return current().allow_loopback


def check_address(address: str, *, host: str | None = None) -> None:
    """Raise :class:`ForbiddenAddress` unless ``address`` is public (or loopback, when
    ``GOVREPORTS_ALLOW_LOOPBACK`` is set: the sample portals, the tests)."""
    name = (host or address).lower().rstrip(".")
    if name in METADATA_HOSTS:
        raise ForbiddenAddress(f"refusing {name}: a cloud metadata service")
    try:
        ip = ipaddress.ip_address(address.strip("[]"))
    except ValueError:
        return  # a host name: the resolver checks what it resolves to
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        if loopback_allowed():
            return
        raise ForbiddenAddress(f"refusing {name}: loopback is this machine; set "
                               f"{LOOPBACK_ENV}=1 to crawl local fixture portals")
    if (ip.is_private or ip.is_link_local or ip.is_multicast or ip.is_reserved
            or ip.is_unspecified or ip in _SHARED):
        shown = f"{name} ({ip})" if host and host != address else str(ip)
        raise ForbiddenAddress(f"refusing {shown}: a private, link-local or metadata address "
                               "is never crawled")


_SHARED = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT, also a metadata range


class AddressGuardMiddleware:
    """Downloader middleware: the guard for URLs that name an address (or a metadata host), and
    for redirects of documents a hub let off its portal's hosts (``allow_offsite``): such a
    redirect keeps that leave only while it stays on a host the portal takes documents from."""

    def __init__(self, crawler=None):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_request(self, request, spider=None):
        check_address(urlparse_cached(request).hostname or "")
        if request.meta.get("allow_offsite") and request.meta.get("redirect_urls"):
            spider = getattr(self.crawler, "spider", None)
            portal = getattr(spider, "portals", {}).get(request.meta.get("portal"))
            if portal is not None and not portal.takes_document(request.url):
                request.meta["allow_offsite"] = False  # Scrapy's offsite filter decides


class GuardedResolver(CachingThreadedResolver):
    """Scrapy's caching resolver, refusing names that resolve to a forbidden address.

    Twisted turns the refusal into its own "no results for hostname lookup" error, so the
    reason is kept here (``refused``, by name) for the crawl's outcome to report."""

    #: name → why it was refused, in this crawl process.
    refused: dict[str, str] = {}

    def getHostByName(self, name, timeout=()):  # noqa: N802 (Twisted's interface)
        return super().getHostByName(name, timeout).addCallback(self.checked, name)

    @classmethod
    def checked(cls, address: str, name: str) -> str:
        try:
            check_address(address, host=name)
        except ForbiddenAddress as exc:
            cls.refused[name.lower().rstrip(".")] = str(exc)
            raise DNSLookupError(str(exc)) from exc
        return address


_TS = re.compile(rb"\$_ts\s*=|\$_ts\.", re.I)
_JSL = re.compile(rb"__jsl_clearance", re.I)
_COOKIE_JS = re.compile(rb"document\.cookie\s*=.{0,400}?(location|reload)", re.I | re.S)


def detect_anti_bot(body: bytes) -> str | None:
    """The kind of anti-bot challenge a response is, or None."""
    head = body[:8192]
    if _TS.search(head):
        return "ruishu"  # 瑞数: usually HTTP 412 with a $_ts script
    if _JSL.search(head):
        return "jiasule"  # 加速乐: usually HTTP 521 setting __jsl_clearance
    if len(body) < 4096 and _COOKIE_JS.search(head) and b"<p" not in head.lower():
        return "cookie-challenge"
    return None


class AntiBotMiddleware:
    """Downloader middleware: a challenge page becomes :class:`AntiBotBlocked` (recorded by the
    spider's errback), never a document and never a retry."""

    def __init__(self, crawler=None):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_response(self, request, response, spider=None):
        kind = detect_anti_bot(response.body)
        if kind:
            if self.crawler is not None:  # no more requests to this host in this run
                from crawlers.politeness import stop_host

                stop_host(self.crawler, request, f"anti-bot {kind}")
            raise AntiBotBlocked(kind, request.url, response.status)
        return response
