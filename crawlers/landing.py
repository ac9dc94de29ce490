"""Item pipeline: every fetched body goes to the lake's raw zone with its sidecar, then into the
portal's crawl state (in that order, so the state never names bytes the lake does not hold).

Lake writes are blocking calls (local disk or S3); they run in Twisted's thread pool so the
crawl's other hosts keep downloading meanwhile.
"""

from __future__ import annotations

import logging

from scrapy.exceptions import DropItem
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.threads import deferToThread

from crawlers.items import Fetched, Revalidated
from pipelines.records import Source, source_id_of

log = logging.getLogger(__name__)

#: Response headers kept in the sidecar: what decoding and revalidation need. Volatile ones
#: (Date, Set-Cookie, Age, …) would make every fetch of unchanged bytes look new.
KEPT_HEADERS = ("content-type", "content-length", "content-encoding", "content-language",
                "content-disposition", "etag", "last-modified", "server")


class LandingPipeline:
    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    async def process_item(self, item: Fetched | Revalidated) -> Fetched | Revalidated:
        spider = self.crawler.spider
        tally = spider.tallies[item.portal_id]
        try:
            if isinstance(item, Revalidated):
                await maybe_deferred_to_future(deferToThread(
                    self.revalidated, item, spider.lake, spider.known[item.portal_id],
                    spider.run_id))
                return item
            sha, wrote = await maybe_deferred_to_future(deferToThread(
                self.land, item, spider.lake, spider.run_id))
        except Exception as exc:  # a storage failure: recorded, never a silent loss
            tally.fail(item.url, "landing_failed", f"{type(exc).__name__}: {exc}")
            log.error("%s: could not be stored in the lake: %s", item.url, exc)
            raise DropItem(f"{item.url}: not stored ({exc})") from exc
        known = spider.known.setdefault(item.portal_id, {})
        for url in {item.url, item.listed_url or item.url}:
            known[url] = {"sha256": sha}
        tally.landed.append({"url": item.url, "sha256": sha, "role": item.role, "new": wrote})
        return item

    @staticmethod
    def revalidated(item: Revalidated, lake, known: dict, run_id: str) -> None:
        entry = known.get(item.url)
        if entry is None or entry.get("context") == item.context:
            return
        lake.put_crawl_entry(item.portal_id, source_id_of(item.portal_id, item.url),
                             {**entry, "context": item.context, "run": run_id})

    @staticmethod
    def land(item: Fetched, lake, run_id: str | None = None) -> tuple[str, bool]:
        headers = {k: v for k, v in item.headers.items() if k in KEPT_HEADERS}
        source = Source(url=item.url, kind="http", fetched_at=item.fetched_at,
                        filename=item.filename, media_type=item.media_type,
                        http_status=item.status, headers=headers, portal_id=item.portal_id,
                        region=item.region, encoding=item.encoding, context=item.context,
                        role=item.role)
        doc, wrote = lake.put_raw(item.body, source)
        if item.role != "list":
            entry = {"url": item.url, "sha256": doc.sha256, "role": item.role,
                     "etag": headers.get("etag"), "last_modified": headers.get("last-modified"),
                     "fetched_at": doc.source.fetched_at, "context": item.context,
                     "links": item.links, "run": run_id}
            lake.put_crawl_entry(item.portal_id, source.source_id, entry)
            if item.listed_url and item.listed_url != item.url:
                # The list's URL redirects here: known under it too, so the next run skips it.
                lake.put_crawl_entry(item.portal_id, source_id_of(item.portal_id, item.listed_url),
                                     {**entry, "url": item.listed_url, "alias_of": item.url})
        return doc.sha256, wrote
