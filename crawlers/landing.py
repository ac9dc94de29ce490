"""Item pipeline: every fetched body goes to the lake's raw zone with its sidecar, then into the
portal's crawl state (in that order, so the state never names bytes the lake does not hold).

Lake writes are blocking calls (local disk or S3); they run in Twisted's thread pool so the
crawl's other hosts keep downloading meanwhile.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from dataclasses import replace
from datetime import UTC, datetime

from scrapy.exceptions import DropItem, NotConfigured
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.threads import deferToThread

from crawlers.items import Fetched, Revalidated
from crawlers.manifest import CrawlManifestWriter
from pipelines.errors import CrawlFailure
from pipelines.extract import sniff_kind
from pipelines.records import CrawlEntry, Source
from pipelines.truncation import cut_short

log = logging.getLogger(__name__)

#: Response headers kept in the sidecar: what decoding and revalidation need. Volatile ones
#: (Date, Set-Cookie, Age, …) would make every fetch of unchanged bytes look new.
KEPT_HEADERS = ("content-type", "content-length", "content-encoding", "content-language",
                "content-disposition", "etag", "last-modified", "server")


class Lander:
    """The crawl's item pipeline (Scrapy's term): lands each fetched body in the lake's raw zone
    and records it in the crawl manifest."""

    def __init__(self, writer: CrawlManifestWriter):
        self.writer = writer
        #: One lock per URL: its crawl-state entry is read and written by one landing at a
        #: time (a list's request and the night's re-check of one page may land together).
        self._url_locks: dict[str, threading.Lock] = defaultdict(threading.Lock)

    @classmethod
    def from_crawler(cls, crawler):
        writer = crawler.get_extension(CrawlManifestWriter)
        if writer is None:
            raise NotConfigured("the lander records through the crawl manifest writer")
        return cls(writer)

    async def process_item(self, item: Fetched | Revalidated) -> Fetched | Revalidated:
        writer = self.writer
        outcome = writer.outcomes[item.portal_id]
        known = writer.known.setdefault(item.portal_id, {})
        lock = self._url_locks[item.url]
        try:
            if isinstance(item, Revalidated):
                await maybe_deferred_to_future(deferToThread(
                    _under, lock, self.revalidated, item, writer.lake, known, writer.run_id))
                if item.recheck:
                    outcome.count("recheck_unchanged")
                return item
            entry, wrote, cut = await maybe_deferred_to_future(deferToThread(
                _under, lock, self._land_known, item, writer.lake, writer.run_id, known))
        except Exception as exc:  # a storage failure: recorded, never a silent loss
            outcome.fail(item.url, CrawlFailure.LANDING_FAILED, f"{type(exc).__name__}: {exc}")
            log.error("%s: could not be stored in the lake: %s", item.url, exc)
            raise DropItem(f"{item.url}: not stored ({exc})") from exc
        if cut:
            # Kept in raw/ (nothing is lost), but not landed: the crawl state does not name it,
            # so the next run fetches it again, and processing rejects these bytes.
            outcome.fail(item.url, CrawlFailure.TRUNCATED,
                       f"{cut} (kept in raw/, fetched again next run)")
            log.warning("%s: %s", item.url, cut)
            return item
        outcome.land(item.url, entry.sha256, item.role, new=wrote)
        if item.rechecked_sha256 is not None:  # the night's re-check: what it found
            outcome.count("recheck_unchanged" if entry.sha256 == item.rechecked_sha256
                          else "recheck_changed")
        return item

    @classmethod
    def _land_known(cls, item: Fetched, lake, run_id: str | None,
                    known: dict[str, CrawlEntry]) -> tuple[CrawlEntry, bool, str | None]:
        """:meth:`land`, and the state the crawl knows updated with it. A re-check carries the
        state's context, which a list may have renewed tonight."""
        if item.rechecked_sha256 is not None and item.url in known:
            item.context = dict(known[item.url].context)
        entry, wrote, cut = cls.land(item, lake, run_id)
        if not cut:
            for url in {item.url, item.listed_url or item.url}:
                known[url] = entry
        return entry, wrote, cut

    @staticmethod
    def revalidated(item: Revalidated, lake, known: dict[str, CrawlEntry], run_id: str) -> None:
        """A 304: the stored bytes stand, checked now (the rolling re-check goes by that),
        with what the list says of them now."""
        entry = known.get(item.url)
        if entry is None:
            return
        context = entry.context if item.recheck else dict(item.context)
        checked = replace(entry, context=context, run=run_id,
                          checked_at=datetime.now(UTC).isoformat())
        lake.put_crawl_entry(item.portal_id, checked)
        known[item.url] = checked

    @staticmethod
    def land(item: Fetched, lake, run_id: str | None = None
             ) -> tuple[CrawlEntry, bool, str | None]:
        """Store the bytes and their sidecar, then (not for list pages, nor for a body that
        ends before its document does: :func:`~pipelines.truncation.cut_short`) the
        crawl-state entry; returns the entry, whether the bytes were new to the lake, and why
        the body is cut short (None when it is whole)."""
        cut = None if item.role == "list" else \
            cut_short(item.body, sniff_kind(item.body, item.filename or item.url))
        headers = {k: v for k, v in item.headers.items() if k in KEPT_HEADERS}
        source = Source(url=item.url, kind="http", fetched_at=item.fetched_at,
                        filename=item.filename, media_type=item.media_type,
                        http_status=item.status, headers=headers, portal_id=item.portal_id,
                        region=item.region, encoding=item.encoding, context=item.context,
                        role=item.role)
        doc, wrote = lake.put_raw(item.body, source)
        entry = CrawlEntry(url=item.url, sha256=doc.sha256, role=item.role,
                           etag=headers.get("etag"), last_modified=headers.get("last-modified"),
                           fetched_at=doc.source.fetched_at, context=dict(item.context),
                           links=tuple(item.links), run=run_id, checked_at=item.fetched_at)
        if item.role != "list" and cut is None:
            lake.put_crawl_entry(item.portal_id, entry)
            if item.listed_url and item.listed_url != item.url:
                # The list's URL redirects here: known under it too, so the next run skips it.
                alias = replace(entry, url=item.listed_url, alias_of=item.url)
                lake.put_crawl_entry(item.portal_id, alias)
        return entry, wrote, cut


def _under(lock: threading.Lock, call, *args):
    with lock:
        return call(*args)
