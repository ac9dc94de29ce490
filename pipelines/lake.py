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
    _reports/<yyyy-mm-dd>/index.html               a day's quality page (pipelines.quality_page)
    _reports/latest/index.html                     the latest of them
    _quarantine/<yyyymmddThhmmssZ>/<key>           a damaged object set aside (pipelines.doctor)

Readers never stop at one damaged object: a sidecar, manifest or reject that is not what the
lake writes is skipped, and a partition file that is not readable Parquet of the table's
schema is left out of queries and rebuilt by the next load; each is recorded once in
:attr:`Lake.damage` (the commands name them, ``govreports doctor`` lists and repairs them).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.errors import LakeConflict, LakeDamaged
from pipelines.lease import Lease
from pipelines.records import (
    CrawlEntry,
    RawDocument,
    Reject,
    Report,
    RunManifest,
    Source,
    source_id_of,
)
from pipelines.schema import NULL_PARTITION, TABLES, schema_problem
from pipelines.store import Store, json_bytes, key_part, lake_url_from_env, open_store

# Arrow's default allocator (mimalloc in the pyarrow wheels) keeps what a run frees for its own
# reuse: an ingest of 10,000 pages peaked 30 MB higher than with the system allocator, which
# gives freed memory back (1,000 pages: 19 MB; measured by tests/bench/bench_layouts.py). Every
# process that builds or reads the lake's tables imports this module first.
pa.set_memory_pool(pa.system_memory_pool())

PARTITION_FILE = "data.parquet"
LOAD_LEASE = "_lease/load.json"
LOAD_INTENT = "_lease/intent.json"
WORK = "_work/"
RUNS = "_runs/"
REPORT_PAGES = "_reports/"
QUARANTINE = "_quarantine/"
_PARTITION_KEY = re.compile(r"^(?P<table>[a-z_]+)/province=(?P<p>[^/]+)/year=(?P<y>[^/]+)/")
_PROVINCE = re.compile(r"^[0-9]{2}0000$")
_YEAR = re.compile(r"^[0-9]{4}$")
_RAW_KEY = re.compile(r"^raw/(?P<pre>[0-9a-f]{2})/(?P<sha>[0-9a-f]{64})"
                      r"(?:\.(?P<src>[0-9a-f]{16})\.json)?$")
SOURCE_ROLES = ("document", "attachment", "list")


@dataclass(frozen=True)
class Damage:
    """One object of the lake that is not what the lake writes: its key, a stable ``kind``
    (``sidecar_damaged``, ``partition_damaged``, ``manifest_damaged``, …; see
    :mod:`pipelines.doctor`) and what is wrong with it."""

    key: str
    kind: str
    detail: str

    def line(self) -> str:
        return f"{self.key}: {self.detail} [{self.kind}]"


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

    @classmethod
    def of(cls, report: Report) -> Partition:
        """The partition a report lands in: its province and report year."""
        return cls(report.province_code, report.metadata.report_year)


class Lake:
    """A govreports lake on any :class:`~pipelines.store.Store`."""

    def __init__(self, store: Store):
        self.store = store
        #: Damaged objects the readers met and skipped, by key (see the module's docstring).
        self.damage: dict[str, Damage] = {}

    def note_damage(self, key: str, kind: str, detail: str) -> None:
        self.damage.setdefault(key, Damage(key, kind, detail))

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
        if not self._raw_intact(sha):
            self.store.write(key, data)
            wrote = True
        sidecar_key = self.sidecar_key(sha, source.source_id)
        sidecar = {"sha256": sha, "size": len(data), **source.to_json()}
        try:
            old = self.read_json(sidecar_key, None)
        except ValueError:  # damaged: replaced by the sidecar of this fetch
            old = None
        if old is not None and sidecar_problem(sidecar_key, old) is not None:
            old = None
        if old is not None:
            pick = max if current else min
            sidecar["fetched_at"] = pick(old.get("fetched_at") or source.fetched_at,
                                         source.fetched_at)
        if old != sidecar:
            self.write_json(sidecar_key, sidecar)
            wrote = True
        return RawDocument(sha, len(data), Source.from_json(sidecar)), wrote

    def _raw_intact(self, sha256: str) -> bool:
        """Whether the raw object of ``sha256`` is there with exactly those bytes (the same
        bytes stored again repair an object that bit rot, a cut or an emptying damaged)."""
        try:
            self.read_raw_checked(sha256)
        except (KeyError, LakeDamaged):
            return False
        return True

    def read_raw_checked(self, sha256: str) -> bytes:
        """The raw bytes of ``sha256``: KeyError when the object is gone, :class:`LakeDamaged`
        (its detail: how many bytes, hashing to what) when they are not those bytes."""
        data = self.read_raw(sha256)
        actual = hashlib.sha256(data).hexdigest()
        if actual != sha256:
            raise LakeDamaged(f"{self.raw_key(sha256)} holds {len(data)} bytes hashing to "
                              f"{actual[:16]}…", key=self.raw_key(sha256))
        return data

    def raw_zone(self) -> tuple[set[str], dict[str, list[str]], list[str]]:
        """What the raw zone holds, by key alone: the sha256 of its objects, the sidecar keys
        by sha256, and the keys that are neither (for ``govreports doctor``)."""
        objects: set[str] = set()
        sidecars: dict[str, list[str]] = {}
        strays: list[str] = []
        for key in self.store.list("raw/"):
            match = _RAW_KEY.match(key)
            if match is None or match["pre"] != match["sha"][:2]:
                strays.append(key)
            elif match["src"]:
                sidecars.setdefault(match["sha"], []).append(key)
            else:
                objects.add(match["sha"])
        return objects, sidecars, strays

    def crawled_portals(self) -> list[str]:
        """The portal ids that have crawl state."""
        return sorted({key.split("/")[1] for key in self.store.list("_crawl/")})

    def table_objects(self, table: str) -> list[str]:
        """Every key under a table's prefix (partition files and anything else put there)."""
        return list(self.store.list(f"{table}/"))

    def raw_documents(self) -> Iterator[RawDocument]:
        """Every (bytes, source) pair in the raw zone (a damaged sidecar is skipped, and
        noted)."""
        for key in self.store.list("raw/"):
            if key.endswith(".json"):
                doc = self.sidecar_document(key)
                if doc is not None:
                    yield doc

    def sources_of(self, sha256: str) -> list[RawDocument]:
        """Every recorded source of the bytes with this sha256."""
        prefix = self.raw_key(sha256) + "."
        return [doc for key in self.store.list(prefix) if key.endswith(".json")
                if (doc := self.sidecar_document(key)) is not None]

    def raw_document(self, sha256: str, source_id: str) -> RawDocument:
        """The raw document of these bytes from this source (its sidecar)."""
        key = self.sidecar_key(sha256, source_id)
        doc = self.sidecar_document(key)
        if doc is None:
            raise LakeDamaged(f"sidecar {key} is damaged ({self.damage[key].detail}): fetch or "
                              "ingest the document again", key=key)
        return doc

    def sidecar_key(self, sha256: str, source_id: str) -> str:
        return f"{self.raw_key(sha256)}.{key_part(source_id, 'source id')}.json"

    def sidecar_document(self, sidecar_key: str) -> RawDocument | None:
        """The sidecar's document; None (and noted) when the sidecar is damaged: not JSON, not
        of the sidecar's shape, or not about the bytes and source its key names. KeyError
        when it is missing."""
        try:
            meta = self.read_json(sidecar_key)
        except ValueError as exc:
            self.note_damage(sidecar_key, "sidecar_damaged", f"not JSON ({_first_line(exc)})")
            return None
        return self._sidecar_of(sidecar_key, meta)

    def sidecar_documents(self, sidecar_keys: list[str]) -> list[RawDocument]:
        """The documents of these sidecars, read a few at a time (on S3 one request each,
        never one after the other: a night's plan reads thousands); a missing one is left out,
        a damaged one left out and noted, as :meth:`sidecar_document` does."""
        return [doc for key, meta in self.read_json_many(sidecar_keys, "sidecar_damaged",
                                                         keyed=True)
                if (doc := self._sidecar_of(key, meta)) is not None]

    def _sidecar_of(self, sidecar_key: str, meta) -> RawDocument | None:
        problem = sidecar_problem(sidecar_key, meta)
        if problem is not None:
            self.note_damage(sidecar_key, "sidecar_damaged", problem)
            return None
        return RawDocument(meta["sha256"], meta["size"], Source.from_json(meta))

    def read_raw(self, sha256: str) -> bytes:
        return self.store.read(self.raw_key(sha256))

    # -- partitioned tables -----------------------------------------------------------------

    def partitions(self, table: str) -> list[Partition]:
        """The partitions of ``table`` that hold a data file (a data file under a folder that
        names no province or year is no partition: it is noted and left out)."""
        found = set()
        for key in self.store.list(f"{table}/"):
            match = _PARTITION_KEY.match(key)
            if not (match and key.endswith("/" + PARTITION_FILE)):
                continue
            p, y = match["p"], match["y"]
            if key != f"{match[0]}{PARTITION_FILE}" or not (
                    p == NULL_PARTITION or _PROVINCE.match(p)) or not (
                    y == NULL_PARTITION or _YEAR.match(y)):
                self.note_damage(key, "stray_object", "not a partition of the lake (its folder "
                                 "names no province or year): readers leave it out")
                continue
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
            parquet = pq.ParquetFile(pa.BufferReader(data), page_checksum_verification=True)
            problem = _magic_problem(data) or schema_problem(table, parquet.schema_arrow)
            if problem is None:  # only the columns asked for are read (and doc_id, checked)
                wanted = None if columns is None else [
                    c for c in dict.fromkeys(["doc_id", *columns])
                    if c in parquet.schema_arrow.names]
                rows = parquet.read(columns=wanted)
                if rows["doc_id"].null_count:
                    problem = f"{rows['doc_id'].null_count} row(s) without a doc_id"
                elif columns is None:
                    problem = statistics_problem(parquet.metadata, rows)
        except (pa.ArrowException, OSError) as exc:
            problem = _first_line(exc)
        if problem is not None:
            self.note_damage(key, "partition_damaged", problem)
            raise LakeDamaged(damaged_message(key, part, problem), key=key, version=version)
        return (rows.select([c for c in columns if c in rows.column_names])
                if columns is not None else rows), version

    def readable_partitions(self, table: str, *, whole: bool = False) -> list[Partition]:
        """The partitions of ``table`` whose file :meth:`partition_problem` finds sound (the
        others are noted), judged a few at a time (on S3 each is a request or two)."""
        from concurrent.futures import ThreadPoolExecutor

        parts = self.partitions(table)
        with ThreadPoolExecutor(max_workers=8) as pool:
            problems = list(pool.map(
                lambda part: self.partition_problem(table, part, whole=whole), parts))
        return [part for part, problem in zip(parts, problems, strict=True) if problem is None]

    def partition_problem(self, table: str, part: Partition, *, whole: bool = False
                          ) -> str | None:
        """Why the partition's file is not readable Parquet of the table's schema (noted),
        or None. Only its footer is read, unless ``whole``: a file cut or zeroed inside has a
        sound footer, and fails only when its pages are read."""
        key = part.key(table)
        if whole:  # as every load reads it (which notes the damage)
            try:
                self.read_partition_versioned(table, part)
            except LakeDamaged:
                return self.damage[key].detail
            return None
        try:
            filesystem, base = self.store.arrow_filesystem()
            with filesystem.open_input_file(f"{base}/{key}") as fh:
                problem = footer_problem(table, pq.ParquetFile(fh).metadata)
        except FileNotFoundError:
            return None  # removed since it was listed
        except (pa.ArrowException, OSError) as exc:
            problem = _first_line(exc)
        if problem is not None:
            self.note_damage(key, "partition_damaged", problem)
        return problem

    def quarantine(self, key: str, *, move: bool = False) -> str:
        """Set a damaged object's bytes aside under ``_quarantine/<UTC time>/<key>``: copied
        (a load then replaces the object), or ``move``d out of the lake's way; returns where.
        KeyError when the object is gone."""
        kept = f"{QUARANTINE}{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}/{key}"
        self.store.write(kept, self.store.read(key))
        if move:
            self.store.delete(key)
        return kept

    def write_partition_if(self, table: str, part: Partition, rows: pa.Table,
                           version: str | None) -> None:
        """Replace the partition's data file if it is still at ``version`` (None: only create
        it); :class:`~pipelines.errors.LakeConflict` if another run changed it."""
        self.store.write_if(part.key(table), _parquet(table, rows), version)

    def delete_partition_if(self, table: str, part: Partition, version: str) -> None:
        self.store.delete_if(part.key(table), version)

    def load_intent(self) -> dict | None:
        """Where the documents of the load that holds (or last held) the lease go."""
        try:
            intent = json.loads(self.store.read(LOAD_INTENT))
        except KeyError:
            return None
        except ValueError as exc:  # not JSON: nothing can be finished from it
            self.note_damage(LOAD_INTENT, "intent_damaged", f"not JSON ({_first_line(exc)})")
            return {}
        if not _intent_sound(intent):
            self.note_damage(LOAD_INTENT, "intent_damaged", "not a load's intent (targets: "
                             "doc id → [province, year]; absorbed: doc ids)")
            return {}
        return intent

    def write_load_intent(self, intent: dict) -> None:
        self.write_json(LOAD_INTENT, intent)

    def clear_load_intent(self) -> None:
        self.store.delete(LOAD_INTENT)

    def load_lease(self, run_id: str, command: str = "") -> Lease:
        """The lease a run holds while it merges rows into partitions (:mod:`pipelines.lease`)."""
        return Lease(self.store, LOAD_LEASE, run_id, command=command)

    # -- rejects and manifests --------------------------------------------------------------

    def rejects(self) -> dict[str, dict]:
        """Current rejects by doc_id (a damaged one is skipped, and noted)."""
        return {data["doc_id"]: data for data in self.rejects_read()}

    def rejects_read(self) -> Iterator[dict]:
        """Every reject object whose fields are strings (what :class:`Reject` writes)."""
        for key, data in self.read_json_many(self.reject_keys(), "reject_damaged", keyed=True):
            if isinstance(data.get("doc_id"), str) and all(
                    isinstance(v, str | None) for v in data.values()):
                yield data
            else:
                self.note_damage(key, "reject_damaged", "not a reject's fields (strings, with "
                                 "a doc_id)")

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

    def crawl_state(self, portal_id: str, memo: dict[str, dict[str, CrawlEntry]] | None = None
                    ) -> dict[str, CrawlEntry]:
        """What earlier crawls of this portal recorded, by URL. ``memo``: the states a run has
        read already, by portal (filled as they are read): a run that asks twice (the crawl's
        documents, then their sightings) reads each portal's state once."""
        if memo is not None and portal_id in memo:
            return memo[portal_id]
        state = self.crawl_state_and_journal(portal_id)[0]
        if memo is not None:
            memo[portal_id] = state
        return state

    def crawl_states(self, portal_ids: Iterable[str],
                     memo: dict[str, dict[str, CrawlEntry]]) -> None:
        """Read the crawl states of these portals into ``memo`` (see :meth:`crawl_state`), a
        few at a time: a night's plan reads one per portal, thousands, and one after the other
        they were most of its time (``make scale``)."""
        from concurrent.futures import ThreadPoolExecutor

        wanted = sorted(set(portal_ids) - set(memo))
        with ThreadPoolExecutor(max_workers=8) as pool:
            for portal_id, state in zip(wanted, pool.map(
                    lambda p: self.crawl_state_and_journal(p)[0], wanted), strict=True):
                memo[portal_id] = state

    def crawl_state_and_journal(
            self, portal_id: str) -> tuple[dict[str, CrawlEntry], list[CrawlEntry]]:
        """The state by URL, and the journal entries in it: those landed since the state was
        last compacted (at the end of a crawl), so at the start of a crawl what an interrupted
        one landed."""
        key = self.crawl_key(portal_id, "state.json")
        state = dict(self._crawl_entries(self.read_json_many([key], "state_damaged",
                                                              keyed=True)))
        journal = [entry for _url, entry in self._crawl_entries(
            self.read_json_many(self._crawl_journal(portal_id), "state_damaged", keyed=True),
            journal=True)]
        for entry in journal:
            state[entry.url] = entry
        return state, journal

    def _crawl_entries(self, objects, *, journal: bool = False):
        """(url, entry) of state objects (url → entry) or of journal objects (one entry
        each), given as (key, object); a damaged one is noted and left out: the crawler
        fetches its URLs again."""
        for key, data in objects:
            pairs = [(data.get("url"), data)] if journal else list(data.items())
            try:
                found = [(url, CrawlEntry.from_json(entry)) for url, entry in pairs]
                if not all(isinstance(url, str) and isinstance(entry.sha256, str)
                           and entry.url == url for url, entry in found):
                    raise ValueError("an entry's URL is not its key, or it has no sha256")
            except (TypeError, ValueError, AttributeError) as exc:
                self.note_damage(key, "state_damaged", f"not crawl state ({exc})")
                continue
            yield from found

    def _crawl_journal(self, portal_id: str) -> list[str]:
        return [key for key in self.store.list(self.crawl_key(portal_id, "journal/"))
                if key.endswith(".json")]

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
            except KeyError:
                data, version = b"", None
            # A damaged state or journal object is left out (noted), as when the state is
            # read: the crawl state is rebuilt from what is sound, the rest fetched again.
            state = {url: entry.to_json() for url, entry in self._crawl_entries(
                self._json_objects([(key, data)] if version else [], "state_damaged"))}
            landed = []
            for journal_key in journal_keys:
                try:
                    landed.append((journal_key, self.store.read(journal_key)))
                except KeyError:  # folded by a concurrent compaction, which holds it
                    continue
            journal = self._json_objects(landed, "state_damaged")
            for url, entry in self._crawl_entries(journal, journal=True):
                state[url] = entry.to_json()
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

    def manifests(self) -> Iterator[RunManifest]:
        """Every run manifest (one that is not a run manifest's shape is skipped, and noted)."""
        for key, data in self.read_json_many(self.manifest_keys(""), "manifest_damaged",
                                             keyed=True):
            try:
                yield RunManifest.from_json(data)
            except ValueError as problem:
                self.note_damage(key, "manifest_damaged", str(problem))

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

    def read_json_many(self, keys: list[str], kind: str = "object_damaged", *,
                       keyed: bool = False) -> Iterator:
        """The JSON objects at ``keys``, in order, read a few at a time (on S3 each is one
        request); an object gone since it was listed is left out, and one that is not a JSON
        object is left out and noted as a damage of ``kind``. ``keyed``: (key, object) pairs."""
        from concurrent.futures import ThreadPoolExecutor

        def read(key: str):
            try:
                return self._json_object(key, self.store.read(key), kind)
            except KeyError:
                return None

        with ThreadPoolExecutor(max_workers=8) as pool:
            for key, data in zip(keys, pool.map(read, keys), strict=True):
                if data is not None:
                    yield (key, data) if keyed else data

    def _json_objects(self, pairs: list[tuple[str, bytes]], kind: str
                      ) -> Iterator[tuple[str, dict]]:
        """(key, object) of the given (key, bytes) that are JSON objects; the others noted."""
        for key, data in pairs:
            found = self._json_object(key, data, kind)
            if found is not None:
                yield key, found

    def _json_object(self, key: str, data: bytes, kind: str) -> dict | None:
        """``data`` as a JSON object; None, and noted as a damage of ``kind``, when it is not
        JSON (or not UTF-8) or not an object."""
        try:
            found = json.loads(data)
        except ValueError as exc:
            self.note_damage(key, kind, f"not JSON ({_first_line(exc)})")
            return None
        if not isinstance(found, dict):
            self.note_damage(key, kind, f"a JSON {type(found).__name__}, not an object")
            return None
        return found

    def read_json(self, key: str, default=KeyError):
        """The JSON object at ``key``; ``default`` when it is missing (KeyError unless given)."""
        try:
            return json.loads(self.store.read(key))
        except KeyError:
            if default is KeyError:
                raise
            return default


def damaged_message(key: str, part: Partition, problem: str) -> str:
    """One line naming a damaged partition file and the command that rebuilds it."""
    scope = "".join(f" --{flag} {value}" for flag, value in
                    (("province", part.province), ("year", part.year)) if value is not None)
    return (f"partition file {key} is damaged ({problem}): rebuild it from the raw zone with "
            f"`govreports process{scope}`")


def _first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0] if str(exc).strip() else type(exc).__name__


def _magic_problem(data: bytes) -> str | None:
    """A Parquet file begins and ends with ``PAR1``; pyarrow reads one whose first bytes are
    damaged, other readers (Athena, DuckDB's own) refuse it."""
    if data[:4] != b"PAR1" or data[-4:] != b"PAR1":
        return "no Parquet magic bytes (PAR1) at its start or end"
    return None


def statistics_problem(metadata: pq.FileMetaData, rows: pa.Table) -> str | None:
    """Why the footer's column chunks do not describe the values read (or None): each names
    a column of the file, and its statistics (min, max, null count) are those of its values.
    Readers skip row groups by statistics (a query filtered on ``doc_id`` trusts its min and
    max), so statistics a flipped bit changed hide rows, although every value reads right."""
    import pyarrow.compute as pc

    start = 0
    for group in range(metadata.num_row_groups):
        chunk_meta = metadata.row_group(group)
        chunk = rows.slice(start, chunk_meta.num_rows)
        start += chunk_meta.num_rows
        for index in range(chunk_meta.num_columns):
            column = chunk_meta.column(index)
            stats, name = column.statistics, column.path_in_schema
            if name.split(".")[0] not in chunk.column_names:
                return f"a column chunk names a column {name!r} the file does not have"
            if stats is None or name not in chunk.column_names:
                continue  # a nested column's leaf, or no statistics written
            values = chunk[name]
            if stats.has_null_count and stats.null_count != values.null_count:
                return f"the statistics of {name} count {stats.null_count} nulls, not " \
                       f"{values.null_count}"
            if stats.has_min_max and values.null_count < len(values):
                found = pc.min_max(values)
                if (stats.min, stats.max) != (found["min"].as_py(), found["max"].as_py()):
                    return f"the statistics of {name} say min {stats.min!r}, max " \
                           f"{stats.max!r}, not those of its values"
    return None


def footer_problem(table: str, metadata: pq.FileMetaData) -> str | None:
    """Why a partition file of ``table`` is not the lake's, judged from its Parquet footer
    alone: another schema, or rows without a ``doc_id`` (by the null counts of its
    statistics; readers would count them as phantom reports)."""
    problem = schema_problem(table, metadata.schema.to_arrow_schema())
    if problem is not None:
        return problem
    column = metadata.schema.names.index("doc_id")
    nulls = 0
    for group in range(metadata.num_row_groups):
        stats = metadata.row_group(group).column(column).statistics
        nulls += stats.null_count if stats is not None and stats.has_null_count else 0
    return f"{nulls} row(s) without a doc_id" if nulls else None


def _intent_sound(intent) -> bool:
    """Whether a load's intent is of the shape a load writes."""
    if not isinstance(intent, dict):
        return False
    targets, absorbed = intent.get("targets") or {}, intent.get("absorbed") or []
    return isinstance(targets, dict) and isinstance(absorbed, list) and all(
        isinstance(doc_id, str) for doc_id in absorbed) and all(
        isinstance(where, list) and len(where) == 2 and isinstance(where[0], str | None)
        and (where[1] is None or (isinstance(where[1], int) and not isinstance(where[1], bool)))
        for where in targets.values())


def sidecar_problem(key: str, meta) -> str | None:
    """Why a sidecar's JSON is not one the lake writes for the bytes and source its key names
    (``raw/<sha[:2]>/<sha256>.<source_id>.json``), or None."""
    if not isinstance(meta, dict):
        return f"a JSON {type(meta).__name__}, not an object"
    optional = ("filename", "media_type", "portal_id", "region", "encoding")
    wrong = [name for name in ("url", "kind", "fetched_at") if not isinstance(meta.get(name), str)]
    wrong += [name for name in optional if not isinstance(meta.get(name), str | None)]
    wrong += [name for name in ("headers", "context")
              if not isinstance(meta.get(name, {}), dict)
              or not all(isinstance(v, str) for v in meta.get(name, {}).values())]
    if not isinstance(meta.get("size"), int) or isinstance(meta.get("size"), bool) \
            or meta["size"] < 0:
        wrong.append("size")
    status = meta.get("http_status")
    if status is not None and (not isinstance(status, int) or isinstance(status, bool)):
        wrong.append("http_status")
    if meta.get("role", "document") not in SOURCE_ROLES:
        wrong.append("role")
    if wrong:
        return f"field(s) {', '.join(wrong)} missing or of the wrong type"
    match = _RAW_KEY.match(key)
    if match is None or not match["src"] or meta.get("sha256") != match["sha"]:
        return "its sha256 is not the one its key names"
    if source_id_of(meta.get("portal_id"), meta["url"]) != match["src"]:
        return "its portal and URL are not the source its key names"
    return None


def _parquet(table: str, rows: pa.Table) -> bytes:
    assert rows.schema.equals(TABLES[table]), f"{table} rows do not match the schema"
    sink = pa.BufferOutputStream()
    # Page checksums: a flipped bit in a page is found when it is read, never taken as a value.
    pq.write_table(rows, sink, compression="zstd", write_page_checksum=True)
    return sink.getvalue().to_pybytes()
