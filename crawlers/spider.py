"""The portal spider: walks each configured portal's lists with its CMS family, fetches the
documents and attachments they point to, and hands every body to the lander (the item
pipeline).

Navigation only (habit 1): lists are read by the CMS families (:mod:`pipelines.families`,
through :mod:`crawlers.families`), documents by
``pipelines/`` later. Incremental: what the lake's crawl state already holds is not requested
again unless its list entry changed (then conditionally, with the stored validators) or the
crawl is a ``revalidate`` one; attachments a landed page links to but that never landed (a crawl
killed mid-way) are fetched on the next run.
"""

from __future__ import annotations

import math
import mimetypes
from datetime import UTC, datetime, timedelta
from email.message import Message
from email.utils import collapse_rfc2231_value
from urllib.parse import unquote, urlsplit

import scrapy
from scrapy.http import Response, TextResponse

from crawlers.families import list_page, request
from crawlers.items import Fetched, Revalidated
from crawlers.manifest import CrawlManifestWriter, listed_url
from crawlers.portals import Portal, load_portals, select
from pipelines import families
from pipelines.extract import page_files
from pipelines.families.base import links_beyond_cap, markup_tree
from pipelines.families.lists import list_script
from pipelines.files import is_attachment_url
from pipelines.records import CrawlEntry, ListContext
from pipelines.settings import current

#: Sidecar context keys that, when a list shows a different value, mean the document changed.
WATCHED_CONTEXT = ("title", "date")

#: Attachments fetched for one document page at most: a report has a few (the report, its
#: tables, a scan); a page linking thousands of files is not one report's page.
MAX_ATTACHMENTS = 50

#: The smallest delay between two requests to one host (see ``PortalSpider.update_settings``).
MIN_DOWNLOAD_DELAY = 0.001


class PortalSpider(scrapy.Spider):
    """Crawl portals of the registry: ``scrapy crawl portals [-a portal=ID,ID]`` or
    ``scrapy crawl <portal-id>``; ``-a lake=URL`` (default ``$GOVREPORTS_LAKE`` or ./lake),
    ``-a revalidate=1`` re-checks every known document with a conditional request."""

    name = "portals"
    portal_ids: tuple[str, ...] = ()  # set on the per-portal spiders the loader makes

    def __init__(self, *args, portal: str | None = None, portals: list[Portal] | None = None,
                 registry: str | None = None, lake: str | None = None,
                 revalidate: str | bool = False, run_id: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        ids = tuple(p for p in (portal or "").split(",") if p) or self.portal_ids
        self._given = portals
        self._ids = ids
        self._registry = registry
        self.lake_url = lake
        self.revalidate = str(revalidate).lower() not in ("", "0", "false", "no")
        self.run_id = run_id
        self.portals: dict[str, Portal] = {}
        self.list_requests: dict[str, set] = {}  # portal → list requests made (_list_key)
        self.writer: CrawlManifestWriter | None = None  # found as the crawl starts

    @classmethod
    def update_settings(cls, settings):
        super().update_settings(settings)
        # With DOWNLOAD_DELAY = 0, Scrapy (2.19) hands every queued request of a host to the
        # download handler at once: a slot counts a transfer only when its coroutine starts, so
        # CONCURRENT_REQUESTS_PER_DOMAIN = 1 stops holding. A millisecond floor restores one
        # request at a time per host (measured in tests/test_crawl_faults.py).
        if settings.getfloat("DOWNLOAD_DELAY") < MIN_DOWNLOAD_DELAY:
            settings.set("DOWNLOAD_DELAY", MIN_DOWNLOAD_DELAY, priority=100)
        # The spider records through its manifest, whatever settings module runs it.
        settings.setdefault_in_component_priority_dict("EXTENSIONS", CrawlManifestWriter, 0)

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        portals = spider._given or select(
            load_portals(spider._registry or settings.get("GOVREPORTS_PORTALS")), spider._ids)
        spider.portals = {p.id: p for p in portals}
        spider.allowed_domains = sorted({h for p in portals for h in p.hosts})
        # A portal's own delay is a floor for its hosts (see crawlers.politeness).
        spider.host_delays = {h: p.delay for p in portals if p.delay for h in p.hosts}
        return spider

    # -- navigation ------------------------------------------------------------------------

    async def start(self):
        self.writer = self.crawler.get_extension(CrawlManifestWriter)
        for portal in self.portals.values():
            for url in portal.start_urls:
                yield self._list_request(scrapy.Request(url), portal, family=portal.cms, n=1)
        if self.revalidate:
            return  # every known document is asked for again as its list names it
        settings = current()
        now = datetime.now(UTC)
        for portal in self.portals.values():
            known = self.writer.known.get(portal.id, {})
            for entry in recheck_due(known, now=now, days=settings.recheck_days,
                                     cap=settings.recheck_max):
                yield self._recheck(portal, entry)
                # A page's files with it: a file replaced under its URL lands the same night
                # as its page is read again, and joins its report.
                for link in entry.links:
                    if link in known and known[link].role == "attachment":
                        yield self._recheck(portal, known[link])

    def _recheck(self, portal: Portal, entry: CrawlEntry) -> scrapy.Request:
        """A conditional request for a known page or file, after the night's lists and new
        documents (lower priority), under the same per-host floor."""
        _policy, headers = fetch_policy(entry, entry.context, revalidate=True)
        # Not in the duplicate filter: a list that names the page with a new title or date
        # tonight asks for it too, and that request must not be dropped as a duplicate of
        # this one (the list's context would wait a night).
        return scrapy.Request(entry.url, headers=headers, callback=self.parse_document,
                              errback=self.failed, priority=-1, dont_filter=True, meta={
                                  "portal": portal.id, "role": entry.role,
                                  "context": dict(entry.context), "recheck": entry.sha256,
                                  "handle_httpstatus_list": [304],
                                  "allow_offsite": not portal.serves(entry.url)})

    def _list_request(self, request: scrapy.Request, portal: Portal, *, family: str, n: int):
        self.list_requests.setdefault(portal.id, set()).add(_list_key(request))
        meta = {**request.meta, "portal": portal.id, "family": family, "list_page": n}
        return request.replace(callback=self.parse_list, errback=self.failed, meta=meta)

    def parse_list(self, response: Response):
        portal = self.portals[response.meta["portal"]]
        outcome = self.writer.outcomes[portal.id]
        outcome.count("list_pages")
        page = list_page(response)
        self._count_links_capped(response.url, portal, beyond=links_beyond_cap(page.root))
        yield self._fetched(response, portal, role="list", context={})
        name = response.meta["family"]
        family = (families.detect(page, report_pattern=portal.report_pattern)
                  if name == "auto" else families.family(name,
                                                         report_pattern=portal.report_pattern))
        outcome.announced(**families.announced(page, family))
        outcome.detected(family.name)
        n = response.meta["list_page"]
        # What the family announces and the reports the generic rules find beyond it, then
        # what any list page may hold (a plain pager under a CMS's URL shapes, per-year
        # sub-columns): each list URL once per run.
        found_on_page, found_by, passed = families.read_list(
            page, family, report_pattern=portal.report_pattern)
        for rules, n in found_by.items():
            outcome.count(f"listed_by_{rules}", n)
        for item, why in passed:
            self.logger.info("not taken as a report (%s): %r %s", why, item.title, item.url)
            outcome.count("passed_over")
        asked = [item.url for item in found_on_page if isinstance(item, families.NextPage)]
        script = list_script(page.text, interfaces_only=bool(found_on_page))
        if script and not any(script in url for url in asked):
            # a list a script fills (in part: a static first page) from an interface no
            # family reads
            outcome.needs_browser(response.url, script)
        for found in found_on_page:
            if isinstance(found, families.Listed):
                outcome.count("listed")
                yield from self._follow(portal, found.url, role="document",
                                        context=found.context(response.url))
                continue
            found = request(found)
            if (_list_key(found) in self.list_requests[portal.id]
                  or not portal.serves(found.url)):
                continue
            elif len(self.list_requests[portal.id]) < portal.max_list_pages:
                # A bound on list pages per portal and run, however they are announced (TRS
                # names every index_N page on the first one).
                yield self._list_request(found, portal, family=family.name, n=n + 1)
            else:
                outcome.count("list_pages_capped")

    def _follow(self, portal: Portal, url: str, *, role: str, context: ListContext):
        host = urlsplit(url).hostname or ""
        page_host = urlsplit(context.get("page", "")).hostname
        if not (portal.takes_document(url) or (role == "attachment" and host == page_host)):
            return  # a list may link anywhere; the portal's documents live on its hosts
        offsite = not portal.serves(url)  # a body's own .gov.cn host, listed by a hub
        if role == "document" and portal.is_body_of_hub(url):
            context = {**context, "body_host": host}
        known = self.writer.known[portal.id]
        entry = known.get(url)
        policy, headers = fetch_policy(entry, context, revalidate=self.revalidate)
        if policy == "skip":
            self.writer.outcomes[portal.id].count("known_skipped")
            for link in entry.links:  # attachments that never landed
                if link not in known:
                    yield from self._follow(portal, link, role="attachment",
                                            context={"page": url})
            return
        yield scrapy.Request(url, headers=headers, callback=self.parse_document,
                             errback=self.failed, meta={
                                 "portal": portal.id, "role": role, "context": context,
                                 "handle_httpstatus_list": [304], "allow_offsite": offsite})

    def parse_document(self, response: Response):
        portal = self.portals[response.meta["portal"]]
        outcome = self.writer.outcomes[portal.id]
        if response.meta.get("recheck"):
            outcome.count("rechecked")
        if response.status == 304:
            url = listed_url(response.request)
            outcome.revalidate(url)
            yield Revalidated(portal.id, url, dict(response.meta["context"]),
                              recheck=bool(response.meta.get("recheck")))
            return
        role, context = response.meta["role"], response.meta["context"]
        links = []
        if role == "document" and isinstance(response, TextResponse) and \
                not is_attachment_url(response.url):
            # The files the extractor will join to this page (its attachments, the pictures
            # of a report published as images), on the portal's hosts or the page's own.
            hosts = {*portal.hosts, urlsplit(response.url).hostname or ""}
            files, _pictures = page_files(markup_tree(response.text), response.text, response.url)
            links = [url for url, _ in files if (urlsplit(url).hostname or "") in hosts]
            if len(links) > MAX_ATTACHMENTS:
                self._count_links_capped(response.url, portal, beyond=len(links) - MAX_ATTACHMENTS,
                                         what="attachments", cap=MAX_ATTACHMENTS)
            links = links[:MAX_ATTACHMENTS]
        fetched = self._fetched(response, portal, role=role, context=context, links=links)
        fetched.rechecked_sha256 = response.meta.get("recheck")
        yield fetched
        for url in links:
            yield from self._follow(portal, url, role="attachment",
                                    context={"page": response.url})

    def _count_links_capped(self, url: str, portal: Portal, *, beyond: int,
                            what: str = "links", cap: int = families.MAX_PAGE_LINKS) -> None:
        """Count a page whose links (or attachments) beyond ``cap`` were cut, once."""
        if beyond <= 0:
            return
        self.logger.warning("%s: %d %s beyond the first %d are not %s", url, beyond, what,
                            cap, "fetched" if what == "attachments" else "read")
        self.writer.outcomes[portal.id].count("links_capped")

    def _fetched(self, response: Response, portal: Portal, *, role: str, context: dict,
                 links: list[str] = ()) -> Fetched:
        headers = {k.decode("latin-1").lower(): v[0].decode("latin-1")
                   for k, v in response.headers.items() if v}
        media_type = (headers.get("content-type") or "").split(";")[0].strip() or None
        return Fetched(
            portal_id=portal.id, url=response.url, role=role, body=response.body,
            status=response.status, headers=headers,
            fetched_at=datetime.now(UTC).isoformat(), context=dict(context),
            links=list(links),
            # A hub's body is somewhere in the hub's province, not in the hub's own region.
            region=portal.province if portal.is_body_of_hub(response.url)
            else portal.region or portal.province,
            encoding=portal.encoding, filename=_filename(response, headers),
            media_type=media_type or mimetypes.guess_type(response.url)[0],
            listed_url=listed_url(response.request) if response.request else None)

    def failed(self, failure):
        self.writer.request_failed(failure)


def _filename(response: Response, headers: dict[str, str]) -> str | None:
    """The file name a response gives itself: ``Content-Disposition``'s ``filename*`` (RFC
    2231/5987, as the standard library's email parser reads it) or ``filename``, else the
    URL's last segment. Percent-escapes are undone in both (portals send them raw)."""
    disposition = headers.get("content-disposition")
    if disposition:
        message = Message()
        message["content-disposition"] = disposition
        names = [value for key, value in message.get_params([], header="content-disposition")
                 if key == "filename" and value]
        # RFC 6266: filename* (decoded to a (charset, language, text) triple) wins.
        name = next((v for v in names if isinstance(v, tuple)), names[0] if names else None)
        if name:
            return unquote(collapse_rfc2231_value(name))
    name = unquote(urlsplit(response.url).path.rsplit("/", 1)[-1])
    return name or None


def fetch_policy(entry: CrawlEntry | None, context: ListContext, *,
                 revalidate: bool = False) -> tuple[str, dict[str, str]]:
    """How to fetch a listed URL, from what the lake knows of it (its crawl-state ``entry``)
    and what the list says now (``context``): ``skip`` (known, and the list's title and date
    unchanged), ``conditional`` (known but changed, or ``revalidate``: ask with its validators
    for a changed version only) or ``fresh`` (never fetched). Returns the policy and the
    request headers."""
    if entry is None:
        return "fresh", {}
    unchanged = all(entry.context.get(k) == context.get(k)
                    for k in WATCHED_CONTEXT if context.get(k))
    if unchanged and not revalidate:
        return "skip", {}
    headers = {}
    if entry.etag:
        headers["If-None-Match"] = entry.etag
    if entry.last_modified:
        headers["If-Modified-Since"] = entry.last_modified
    return "conditional", headers


def recheck_due(known: dict[str, CrawlEntry], *, now: datetime, days: float,
                cap: int) -> list[CrawlEntry]:
    """The known pages a night re-checks (each with its files): the longest-unchecked first,
    as many as it takes for each to be checked within ``days`` nights (a ``1/days`` share, and
    at least every one whose last check is older than that), at most ``cap``. Lists are read
    every night anyway; an alias (a listed URL that redirects) is checked as its target."""
    entries = {e.url: e for e in known.values() if e.role == "document" and not e.alias_of}
    ordered = sorted(entries.values(), key=lambda e: (e.last_checked, e.url))
    horizon = (now - timedelta(days=days)).isoformat()
    overdue = sum(1 for e in ordered if e.last_checked < horizon)
    return ordered[:min(cap, max(math.ceil(len(ordered) / days), overdue))]


def _list_key(request: scrapy.Request) -> tuple:
    """A list request's identity: method, URL and body (a Hanweb dataproxy.jsp page is a POST
    to one URL with the records it wants in the body)."""
    return request.method, request.url, request.body
