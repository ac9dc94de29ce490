"""Item pipeline: every fetched body goes to the lake's raw zone with its sidecar, then into the
portal's crawl state (in that order, so the state never names bytes the lake does not hold).

Lake writes are blocking calls (local disk or S3); they run in Twisted's thread pool so the
crawl's other hosts keep downloading meanwhile.
"""

from __future__ import annotations

from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.threads import deferToThread

from crawlers.items import Fetched
from pipelines.records import Source

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

    async def process_item(self, item: Fetched) -> Fetched:
        spider = self.crawler.spider
        sha, wrote = await maybe_deferred_to_future(deferToThread(self.land, item, spider.lake))
        spider.known.setdefault(item.portal_id, {})[item.url] = {"sha256": sha}
        spider.reports[item.portal_id].landed.append(
            {"url": item.url, "sha256": sha, "role": item.role, "new": wrote})
        return item

    @staticmethod
    def land(item: Fetched, lake) -> tuple[str, bool]:
        headers = {k: v for k, v in item.headers.items() if k in KEPT_HEADERS}
        source = Source(url=item.url, kind="http", fetched_at=item.fetched_at,
                        filename=item.filename, media_type=item.media_type,
                        http_status=item.status, headers=headers, portal_id=item.portal_id,
                        region=item.region, encoding=item.encoding, context=item.context,
                        role=item.role)
        doc, wrote = lake.put_raw(item.body, source)
        if item.role != "list":
            lake.put_crawl_entry(item.portal_id, source.source_id, {
                "url": item.url, "sha256": doc.sha256, "role": item.role,
                "etag": headers.get("etag"), "last_modified": headers.get("last-modified"),
                "fetched_at": doc.source.fetched_at, "context": item.context,
                "links": item.links})
        return doc.sha256, wrote
