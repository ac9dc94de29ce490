"""The lake's layout: raw zone, partitioned tables, rejects and run manifests.

This module is the only place that knows object keys, and it builds them from checked parts
(:func:`~pipelines.store.key_part`: an id is one plain name; the store itself refuses any key
that could leave the lake); ``docs/lake.md`` documents the same layout for consumers::

    raw/<sha256[:2]>/<sha256>                      bytes exactly as fetched or read
    raw/<sha256[:2]>/<sha256>.<source_id>.json     one sidecar per source of those bytes
    reports/province=<code>/year=<yyyy>/data.parquet
    report_stats/province=<code>/year=<yyyy>/data.parquet
    rejects/<doc_id>.json
    _runs/<run_id>.json
    _work/<batch>/…                                a scheduled run's stages (pipelines.stages)
    _lease/load.json                               held by the run merging rows (pipelines.lease)
    _lease/intent.json                             where that run's documents go (pipelines.load)
    _crawl/<portal_id>/state.json                  what the crawler knows of each URL
    _crawl/<portal_id>/journal/<source_id>.json    entries landed since the last compaction
    _reports/<yyyy-mm-dd>/index.html               the quality report of a day (pipelines.report)
    _reports/latest/index.html                     the latest of them
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.errors import LakeConflict, LakeDamaged
from pipelines.lease import Lease
from pipelines.records import CrawlEntry, RawDocument, Reject, Source, source_id_of
from pipelines.schema import NULL_PARTITION, TABLES
from pipelines.store import Store, json_bytes, key_part, lake_url_from_env, open_store

PARTITION_FILE = "data.parquet"
LOAD_LEASE = "_lease/load.json"
LOAD_INTENT = "_lease/intent.json"
WORK = "_work/"
RUNS = "_runs/"
REPORT_PAGES = "_reports/"
_PARTITION_KEY = re.compile(r"^(?P<table>[a-z_]+)/province=(?P<p>[^/]+)/year=(?P<y>[^/]+)/")


@dataclass(frozen=True)
class Partition:
    """A ``province=…/year=…`` partition; None is Hive's null partition."""

    province: str | None
    year: int | None

    def prefix(self, table: str) -> str:
        province = self.province if self.province is not None else NULL_PARTITION
        year = str(self.year) if self.year is not None else NULL_PARTITION
        return f"{table}/province={province}/year={year}/"

    def key(self, table: str) -> str:
        return self.prefix(table) + PARTITION_FILE

    def sort_key(self) -> tuple:
        return (self.province or "~", self.year or 0)

    def label(self) -> str:
        return f"province={self.province or 'NULL'} year={self.year or 'NULL'}"


class Lake:
    """A govreports lake on any :class:`~pipelines.store.Store`."""

    def __init__(self, store: Store):
        self.store = store

    @classmethod
    def open(cls, url: str | None = None, *, writable: bool = False) -> Lake:
        """Open (and check) the lake at ``url`` or ``$GOVREPORTS_LAKE`` or ``./lake``."""
        store = open_store(lake_url_from_env(url))
        store.check(writable=writable)
        return cls(store)

    @property
    def url(self) -> str:
        return self.store.url

    # -- raw zone ---------------------------------------------------------------------------

    @staticmethod
    def raw_key(sha256: str) -> str:
        key_part(sha256, "sha256")
        return f"raw/{sha256[:2]}/{sha256}"

    def put_raw(self, data: bytes, source: Source, *, current: bool = False
                ) -> tuple[RawDocument, bool]:
        """Store bytes by content and record their source; returns the document and whether
        anything new was written. Storing the same bytes from the same web source again changes
        nothing: the first ``fetched_at`` is kept, other sidecar fields take the latest value.
        ``current``: these bytes are their source's current version again although an earlier
        fetch recorded them (a local file put back to earlier bytes, v1 → v2 → v1): this
        fetch's time is kept, so that they are the latest version."""
        sha = hashlib.sha256(data).hexdigest()
        key = self.raw_key(sha)
        wrote = False
        if not self.store.exists(key):
            self.store.write(key, data)
            wrote = True
        sidecar_key = f"{key}.{source.source_id}.json"
        sidecar = {"sha256": sha, "size": len(data), **source.to_json()}
        old = self.read_json(sidecar_key, None)
        if old is not None:
            pick = max if current else min
            sidecar["fetched_at"] = pick(old.get("fetched_at") or source.fetched_at,
                                         source.fetched_at)
        if old != sidecar:
            self.write_json(sidecar_key, sidecar)
            wrote = True
        return RawDocument(sha, len(data), Source.from_json(sidecar)), wrote

    def raw_documents(self) -> Iterator[RawDocument]:
        """Every (bytes, source) pair in the raw zone."""
        for key in self.store.list("raw/"):
            if key.endswith(".json"):
                yield self._raw_document(key)

    def sources_of(self, sha256: str) -> list[RawDocument]:
        """Every recorded source of the bytes with this sha256."""
        prefix = self.raw_key(sha256) + "."
        return [self._raw_document(key) for key in self.store.list(prefix) if key.endswith(".json")]

    def raw_document(self, sha256: str, source_id: str) -> RawDocument:
        """The raw document of these bytes from this source (its sidecar)."""
        return self._raw_document(f"{self.raw_key(sha256)}.{key_part(source_id, 'source id')}.json")

    def _raw_document(self, sidecar_key: str) -> RawDocument:
        meta = self.read_json(sidecar_key)
        return RawDocument(meta["sha256"], meta["size"], Source.from_json(meta))

    def read_raw(self, sha256: str) -> bytes:
        return self.store.read(self.raw_key(sha256))

    # -- partitioned tables -----------------------------------------------------------------

    def partitions(self, table: str) -> list[Partition]:
        """The partitions of ``table`` that hold a data file."""
        found = set()
        for key in self.store.list(f"{table}/"):
            match = _PARTITION_KEY.match(key)
            if match and key.endswith("/" + PARTITION_FILE):
                p, y = match["p"], match["y"]
                found.add(Partition(None if p == NULL_PARTITION else p,
                                    None if y == NULL_PARTITION else int(y)))
        return sorted(found, key=Partition.sort_key)

    def read_partition(self, table: str, part: Partition, columns=None) -> pa.Table | None:
        """The partition's rows (None when it has no data file); :class:`LakeDamaged` when the
        file is not readable Parquet."""
        return self.read_partition_versioned(table, part, columns)[0]

    def read_partition_versioned(self, table: str, part: Partition, columns=None
                                 ) -> tuple[pa.Table | None, str | None]:
        """The partition's rows and its file's version (for :meth:`write_partition_if`)."""
        key = part.key(table)
        try:
            data, version = self.store.read_versioned(key)
        except KeyError:
            return None, None
        try:
            return pq.read_table(pa.BufferReader(data), columns=columns), version
        except (pa.ArrowException, OSError) as exc:
            raise LakeDamaged(damaged_message(key, part, exc)) from exc

    def write_partition(self, table: str, part: Partition, rows: pa.Table) -> None:
        """Replace the partition's data file in one atomic write."""
        self.store.write(part.key(table), _parquet(table, rows))

    def write_partition_if(self, table: str, part: Partition, rows: pa.Table,
                           version: str | None) -> None:
        """Replace the partition's data file if it is still at ``version`` (None: only create
        it); :class:`~pipelines.errors.LakeConflict` if another run changed it."""
        self.store.write_if(part.key(table), _parquet(table, rows), version)

    def delete_partition(self, table: str, part: Partition) -> None:
        self.store.delete(part.key(table))

    def delete_partition_if(self, table: str, part: Partition, version: str) -> None:
        self.store.delete_if(part.key(table), version)

    def load_intent(self) -> dict | None:
        """Where the documents of the load that holds (or last held) the lease go."""
        try:
            return json.loads(self.store.read(LOAD_INTENT))
        except KeyError:
            return None
        except ValueError:  # not JSON (written by hand?): nothing can be finished from it
            return {}

    def write_load_intent(self, intent: dict) -> None:
        self.write_json(LOAD_INTENT, intent)

    def clear_load_intent(self) -> None:
        self.store.delete(LOAD_INTENT)

    def load_lease(self, run_id: str, command: str = "") -> Lease:
        """The lease a run holds while it merges rows into partitions (:mod:`pipelines.lease`)."""
        return Lease(self.store, LOAD_LEASE, run_id, command=command)

    # -- rejects and manifests --------------------------------------------------------------

    def rejects(self) -> dict[str, dict]:
        """Current rejects by doc_id."""
        return {data["doc_id"]: data for data in self.read_json_many(self.reject_keys())}

    def reject_keys(self) -> list[str]:
        """The keys of the current rejects' JSON objects."""
        return sorted(key for key in self.store.list("rejects/") if key.endswith(".json"))

    def put_reject(self, reject: Reject, existing: dict | None) -> None:
        if existing != reject.to_json():
            self.write_json(self.reject_key(reject.doc_id), reject.to_json())

    def delete_reject(self, doc_id: str) -> None:
        self.store.delete(self.reject_key(doc_id))

    @staticmethod
    def reject_key(doc_id: str) -> str:
        return f"rejects/{key_part(doc_id, 'document id')}.json"

    # -- crawl state ------------------------------------------------------------------------
    # A crawl remembers each fetched URL (its bytes' sha256 and HTTP validators) in the lake,
    # so any worker can run any night. Entries are journalled one object per URL as they land
    # (a crawl killed mid-way loses nothing it stored) and folded into one state object when a
    # crawl ends, so that starting a crawl reads one object plus the few journalled since.

    def crawl_state(self, portal_id: str) -> dict[str, CrawlEntry]:
        """What earlier crawls of this portal recorded, by URL."""
        return self.crawl_state_and_journal(portal_id)[0]

    def crawl_state_and_journal(
            self, portal_id: str) -> tuple[dict[str, CrawlEntry], list[CrawlEntry]]:
        """The state by URL, and the journal entries in it: those landed since the state was
        last compacted (at the end of a crawl), so at the start of a crawl what an interrupted
        one landed."""
        state = {url: CrawlEntry.from_json(entry) for url, entry in
                 self.read_json(self.crawl_key(portal_id, "state.json"), {}).items()}
        journal = [CrawlEntry.from_json(entry) for entry in self._crawl_journal(portal_id)]
        for entry in journal:
            state[entry.url] = entry
        return state, journal

    def _crawl_journal(self, portal_id: str) -> Iterator[dict]:
        for key in self.store.list(self.crawl_key(portal_id, "journal/")):
            if key.endswith(".json"):
                yield self.read_json(key)

    @staticmethod
    def crawl_key(portal_id: str, name: str) -> str:
        """A key of a portal's crawl state (``name``: ``state.json``, ``journal/…``)."""
        return f"_crawl/{key_part(portal_id, 'portal id')}/{name}"

    def put_crawl_entry(self, portal_id: str, entry: CrawlEntry) -> None:
        source_id = source_id_of(portal_id, entry.url)
        self.write_json(self.crawl_key(portal_id, f"journal/{source_id}.json"), entry.to_json())

    def compact_crawl_state(self, portal_id: str) -> int:
        """Fold the journal into the state object; returns the number of URLs known.

        Two crawls of one portal may compact at once: the state is swapped conditionally on
        the version read (and read again on a conflict), so neither loses the other's entries.
        """
        key = self.crawl_key(portal_id, "state.json")
        for _attempt in range(50):
            journal_keys = list(self.store.list(self.crawl_key(portal_id, "journal/")))
            try:
                data, version = self.store.read_versioned(key)
                state = json.loads(data)
            except KeyError:
                state, version = {}, None
            for journal_key in journal_keys:
                entry = self.read_json(journal_key, None)
                if entry is None:  # folded by a concurrent compaction, which holds it
                    continue
                state[entry["url"]] = entry
            if not journal_keys:
                return len(state)
            try:
                self.store.write_if(key, json_bytes(state), version)
            except LakeConflict:
                continue
            for journal_key in journal_keys:  # only once the state holds them
                self.store.delete(journal_key)
            return len(state)
        raise LakeConflict(f"crawl state of {portal_id} in {self.url} kept changing while "
                           "it was compacted: run the crawl again")

    @staticmethod
    def manifest_key(run_id: str) -> str:
        return f"{RUNS}{key_part(run_id, 'run id')}.json"

    def write_manifest(self, run_id: str, manifest: dict) -> str:
        key = self.manifest_key(run_id)
        self.write_json(key, manifest)
        return key

    def manifest_keys(self, run_id_prefix: str) -> list[str]:
        """The keys of the run manifests whose run id starts with ``run_id_prefix``."""
        return sorted(k for k in self.store.list(f"{RUNS}{run_id_prefix}") if k.endswith(".json"))

    def manifests(self) -> Iterator[dict]:
        """Every run manifest."""
        return self.read_json_many(self.manifest_keys(""))

    @staticmethod
    def report_page_key(name: str) -> str:
        """Where the quality report of a day (``2026-12-03``) or the ``latest`` one is kept."""
        return f"{REPORT_PAGES}{key_part(name, 'report page')}/index.html"

    # -- a batch's work files (the scheduler's stages, pipelines.stages) ---------------------

    @staticmethod
    def work_key(batch: str, name: str) -> str:
        return f"{WORK}{key_part(batch, 'batch')}/{name}"

    # -- JSON objects -----------------------------------------------------------------------

    def write_json(self, key: str, data) -> None:
        """Every JSON object of the lake is written here (one format: UTF-8, sorted keys)."""
        self.store.write(key, json_bytes(data))

    def read_json_many(self, keys: list[str]) -> Iterator[dict]:
        """The JSON objects at ``keys``, in order, read a few at a time (on S3 each is one
        request); an object gone since it was listed is left out."""
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=8) as pool:
            yield from (data for data in pool.map(lambda key: self.read_json(key, None), keys)
                        if data is not None)

    def read_json(self, key: str, default=KeyError):
        """The JSON object at ``key``; ``default`` when it is missing (KeyError unless given)."""
        try:
            return json.loads(self.store.read(key))
        except KeyError:
            if default is KeyError:
                raise
            return default


def damaged_message(key: str, part: Partition, exc: Exception) -> str:
    """One line naming a damaged partition file and the command that rebuilds it."""
    scope = "".join(f" --{flag} {value}" for flag, value in
                    (("province", part.province), ("year", part.year)) if value is not None)
    reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return (f"partition file {key} is damaged ({reason}): rebuild it from the raw zone with "
            f"`govreports process{scope}`")


def _parquet(table: str, rows: pa.Table) -> bytes:
    assert rows.schema.equals(TABLES[table]), f"{table} rows do not match the schema"
    sink = pa.BufferOutputStream()
    pq.write_table(rows, sink, compression="zstd")
    return sink.getvalue().to_pybytes()
