"""Load stage: report records → partition files, idempotently.

Each partition is one Parquet object, replaced in one atomic write, so a reader sees the old
partition or the new one, never a mix. A load upserts by ``doc_id``: the processed documents'
rows replace their earlier rows wherever those were (a document whose province or year changed
moves, it is not duplicated), and partitions inside a rebuild scope are rebuilt from what the
run read (never dropping rows of documents it did not read). A partition whose rows would not
change is not written at all. Concurrent loads are safe: see :func:`load`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from pipelines.errors import LakeConflict, LakeDamaged
from pipelines.history import Sighting, as_utc, dated_rows, record_versions, sighted
from pipelines.lake import Lake, Partition
from pipelines.records import source_id_of
from pipelines.schema import TABLES, upgraded
from pipelines.settings import current
from pipelines.spool import Spool

SORT_KEYS = {
    "reports": [("doc_id", "ascending")],
    "report_versions": [("doc_id", "ascending"), ("version", "ascending")],
    "report_stats": [("doc_id", "ascending"), ("table", "ascending"),
                     ("row_key", "ascending"), ("column_key", "ascending")],
}


#: The tables in the order a load writes them: a document's ``reports`` row last.
LOAD_ORDER = ("report_stats", "report_versions", "reports")


@dataclass
class LoadResult:
    written: list[str] = field(default_factory=list)  # object keys replaced or created
    deleted: list[str] = field(default_factory=list)  # partitions left empty, removed
    unchanged: int = 0
    stale: list[str] = field(default_factory=list)  # doc ids a newer version holds already
    lease_taken_over: str | None = None  # why the load took a stale lease over, if it did
    #: Damaged partition files this load replaced: their key → where their bytes were set
    #: aside (``_quarantine/…``).
    quarantined: dict[str, str] = field(default_factory=dict)
    #: Rows a rebuild kept although no sidecar names their document (lost or damaged):
    #: (doc_id, sha256, url, reason ``sidecar_missing`` | ``sidecar_damaged``).
    kept_unsourced: list[tuple[str, str, str, str]] = field(default_factory=list)
    #: Rows a rebuild removed because the raw bytes they claim are other documents'.
    removed_unsourced: list[str] = field(default_factory=list)

    def warnings(self) -> list[str]:
        """What the load did that a user must hear of, one line each."""
        return [*(f"partition file {key} was damaged: set aside as {kept} and rebuilt from "
                  "the raw zone" for key, kept in sorted(self.quarantined.items())),
                *(f"removed the row of {doc_id}: the raw bytes it claims are other "
                  "documents'" for doc_id in self.removed_unsourced)]


def load(lake: Lake, spool: Spool, *,
         rebuild: Callable[[Partition], bool] | None = None,
         listed: Iterable[tuple[str, str, str]] | None = None,
         unchanged: Iterable[tuple[str, str]] = (), absorbed: Iterable[str] = (),
         seen: dict[str, Sighting] | None = None, run_id: str = "",
         command: str = "load") -> LoadResult:
    """Write the reports and cells a run spooled (:mod:`pipelines.spool`) into the lake's
    partitions, one partition's rows in memory at a time.

    ``rebuild`` marks partitions to be replaced by what this run read (what ``process
    --province/--year`` rebuilds): there, the rows of the document versions in ``listed``
    (``(doc_id, sha256, url)`` of what the run read from the raw zone; the spooled reports at
    least) are replaced, and rows no raw document stands behind are removed; rows of versions
    the run did not read (another run's, landed meanwhile) are kept. Every other partition
    keeps its rows except those of the spooled documents. ``unchanged``: ``(doc_id, sha256)``
    of documents the run found up to date (their rows stay; a raw document stands behind
    them: no need to look it up). ``absorbed``: documents that are now a page's attachment:
    a row they had as reports of their own goes. ``seen``: what the crawl state says of the
    given documents now (:func:`pipelines.history.sightings`): a row built from the bytes it
    found has its ``last_seen`` moved there, read again or not.

    Concurrent runs never lose or duplicate each other's rows:

    - the merge runs under the lake's load lease (:mod:`pipelines.lease`), checked before each
      partition is swapped, and each swap is conditional on the version read (read and merged
      again on a conflict);
    - a row is never replaced by one made from an older version of its document (``fetched_at``
      decides), so a run that read the raw zone before another landed a newer version does not
      put the older one back;
    - a load first records where its documents go (``_lease/intent.json``) and writes the
      partitions that receive rows before those that only lose some: a load killed half-way
      leaves at worst a document in two partitions, and the next load removes the copy the
      intent does not name."""
    versions = spool.versions
    result = LoadResult()
    _debug_pause("debug_lease_pause")
    with lake.load_lease(run_id or "unnamed", command) as lease:
        result.lease_taken_over = lease.took_over
        _finish_interrupted(lake, lease, result)
        stale, where_now = _stale(lake, versions)
        stale |= set(absorbed)
        where = {d: part for d, part in spool.where.items() if d not in stale}
        produced = set(where)
        read = {tuple(v) for v in listed or ()} | {
            (d, versions[d][1], versions[d][2]) for d in produced}
        # An absorbed document's own row goes wherever it is (it has no new one).
        merge = _Merge(lake, lease, produced=produced | set(absorbed), listed=read,
                       rebuild=rebuild, seen=seen)
        merge.backed(unchanged)
        lease.check()  # every write of a load is made by the lease's holder only
        lake.write_load_intent({"run_id": run_id, "targets": {
            doc_id: [part.province, part.year] for doc_id, part in sorted(where.items())},
            "absorbed": sorted(set(absorbed))})
        # Each document's versions, found from its rows in the lake (pipelines.history).
        dated = record_versions(lake, spool, stale, where_now)
        # Statistics and versions first: a load cut short leaves no report without its cells.
        for table in LOAD_ORDER:
            receiving = spool.partitions(table)
            existing = set(lake.partitions(table))
            # Partitions that receive rows before those that only lose some (see above).
            order = sorted(existing | receiving,
                           key=lambda p: (p not in receiving, Partition.sort_key(p)))
            for part in order:
                rows = spool.rows(table, part, leave_out=stale) if part in receiving else None
                if table == "reports" and rows is not None:
                    rows = dated_rows(rows, dated)
                _count(result, table, part, merge.partition(table, part, rows))
        lease.check()
        lake.clear_load_intent()
    result.stale = sorted(stale - set(absorbed))
    result.quarantined = merge.quarantined
    result.kept_unsourced = sorted(merge.kept_unsourced.values())
    result.removed_unsourced = sorted(merge.removed_unsourced)
    return result


def _count(result: LoadResult, table: str, part: Partition, outcome: str) -> None:
    if outcome == "written":
        result.written.append(part.key(table))
    elif outcome == "deleted":
        result.deleted.append(part.key(table))
    else:
        result.unchanged += 1


def _stale(lake: Lake, versions: dict[str, tuple]) -> tuple[set[str], dict[str, Partition]]:
    """Documents whose row in the lake comes from a newer fetch than the version processed;
    and local files whose bytes another path, ingested later, now stands for (identical bytes
    under two paths are one row: :func:`pipelines.process.current_versions`). Also the
    partition each processed document's row is in now (read in the same pass, for
    :func:`~pipelines.history.record_versions`)."""
    where_now: dict[str, Partition] = {}
    if not versions:
        return set(), where_now
    ids = pa.array(sorted(versions), type=pa.string())
    files_by_sha: dict[str, list[str]] = {}
    for doc_id, (_fetched, sha, url) in versions.items():
        if (url or "").startswith("file:"):
            files_by_sha.setdefault(sha, []).append(doc_id)
    shas = pa.array(sorted(files_by_sha), type=pa.string())
    stale = set()
    for part in lake.partitions("reports"):
        try:
            rows = lake.read_partition("reports", part,
                                       columns=["doc_id", "fetched_at", "content_sha256", "url"])
        except LakeDamaged:  # rebuilt by this load
            continue
        if rows is None:  # removed since it was listed (by a run that took an expired lease)
            continue
        rows = rows.filter(pc.or_(pc.is_in(rows["doc_id"], value_set=ids),
                                  pc.is_in(rows["content_sha256"], value_set=shas)))
        for doc_id, fetched, sha, url in zip(*(rows[c].to_pylist() for c in rows.column_names),
                                             strict=True):
            if doc_id in versions:
                where_now[doc_id] = part
            if fetched is None:
                continue
            ours = [doc_id] if doc_id in versions else \
                files_by_sha.get(sha, []) if (url or "").startswith("file:") else []
            stale.update(d for d in ours
                         if versions[d][0] is None or as_utc(fetched) > as_utc(versions[d][0]))
    return stale, where_now


def _finish_interrupted(lake: Lake, lease, result: LoadResult) -> None:
    """A load that was killed (or lost its lease) after writing some partitions may have left
    a moved document in both its old and its new partition: remove it from every partition
    its intent does not name. Once every document reached its target (the partitions that
    only lose rows come last), the rows of the documents it absorbed (now a page's attachment,
    or a copy of another path's bytes) go too."""
    intent = lake.load_intent()
    if intent is None:
        return
    if not intent.get("targets") and not intent.get("absorbed"):
        lease.check()
        lake.clear_load_intent()
        return
    targets = {doc_id: Partition(p, y) for doc_id, (p, y) in
               (intent.get("targets") or {}).items()}
    absorbed = set(intent.get("absorbed") or ())
    # Only a document whose row reached its target has a copy to remove (the load may have
    # died before writing it: then its old row is all there is, and stays).
    ids = pa.array(sorted(targets), type=pa.string())
    arrived = set()
    for part in lake.partitions("reports"):
        try:
            rows = lake.read_partition("reports", part, columns=["doc_id"])
        except LakeDamaged:  # rebuilt by this load
            continue
        if rows is None:  # removed since it was listed
            continue
        present = rows["doc_id"]
        arrived |= {d for d in pc.filter(present, pc.is_in(present, value_set=ids)).to_pylist()
                    if targets[d] == part}
    gone = absorbed if arrived == set(targets) else set()
    merge = _Merge(lake, lease, produced=set(), listed=set(), rebuild=None)
    for table in LOAD_ORDER:
        for part in lake.partitions(table):
            misplaced = {d for d in arrived if targets[d] != part} | gone
            if misplaced:
                merge.produced = pa.array(sorted(misplaced), type=pa.string())
                _count(result, table, part, merge.partition(table, part, None))
    result.quarantined.update(merge.quarantined)
    lease.check()
    lake.clear_load_intent()


#: Attempts at one partition's conditional swap before the load gives up (exit 3: retry).
MAX_ATTEMPTS = 20


class _Merge:
    """One load's merge of new rows into partitions, one partition at a time."""

    def __init__(self, lake: Lake, lease, *, produced: set[str],
                 listed: set[tuple[str, str, str]],
                 rebuild: Callable[[Partition], bool] | None,
                 seen: dict[str, Sighting] | None = None):
        self.lake = lake
        self.lease = lease
        self.produced = pa.array(sorted(produced), type=pa.string())
        self.listed = listed
        self.rebuild = rebuild
        self.seen = seen or {}
        self._kept_ids: dict[Partition, pa.Array] = {}  # rebuilt partitions: report ids kept
        self._backed: dict[tuple[str, str], bool] = {}
        self._sources_of: dict[str, list] = {}
        self.quarantined: dict[str, str] = {}
        self.kept_unsourced: dict[str, tuple[str, str, str, str]] = {}
        self.removed_unsourced: set[str] = set()

    def partition(self, table: str, part: Partition, new_rows: pa.Table | None) -> str:
        """Merge ``new_rows`` (None: none) into the partition; written, deleted or
        unchanged."""
        rows_in = new_rows if new_rows is not None else TABLES[table].empty_table()
        in_scope = self.rebuild is not None and self.rebuild(part)
        for _attempt in range(MAX_ATTEMPTS):
            try:
                old, version = self.lake.read_partition_versioned(table, part)
            except LakeDamaged as damage:
                # Its bytes set aside, it is replaced by what the run built for it: a run that
                # meets a damaged partition reads again every document no readable row stands
                # for (pipelines.process.healing), so its rows are rebuilt from the raw zone.
                if damage.key not in self.quarantined:
                    self.quarantined[damage.key] = self.lake.quarantine(damage.key)
                old, version = None, damage.version
            rows = rows_in
            if old is not None:
                old = upgraded(table, old)
                rows = pa.concat_tables([self._kept(table, part, old, in_scope), rows_in])
            rows = sighted(table, rows.sort_by(SORT_KEYS[table]), self.seen)
            if old is not None and old.sort_by(SORT_KEYS[table]).equals(rows):
                return "unchanged"
            if old is None and version is None and rows.num_rows == 0:
                return "unchanged"
            _debug_pause("debug_load_pause")
            self.lease.check()  # still ours: a run paused past its lease must not write
            try:
                if rows.num_rows == 0:
                    self.lake.delete_partition_if(table, part, version)
                    return "deleted"
                self.lake.write_partition_if(table, part, rows, version)
                return "written"
            except LakeConflict:
                continue  # another run changed it since we read it: read and merge again
        raise LakeConflict(f"{part.key(table)} in {self.lake.url} kept changing while this run "
                           f"merged into it ({MAX_ATTEMPTS} attempts): run the command again")

    def _kept(self, table: str, part: Partition, old: pa.Table, in_scope: bool) -> pa.Table:
        """The old rows that stay: outside a rebuild, all but the produced documents'; inside
        one, also not the listed versions' nor those no raw document stands behind."""
        if not in_scope:
            return old.filter(pc.invert(pc.is_in(old["doc_id"], value_set=self.produced)))
        if table == "reports":
            kept = self._kept_reports(old)
            self._kept_ids[part] = kept
        else:
            kept = self._kept_ids.get(part)
            if kept is None:  # statistics go first: judge by the partition's reports
                try:
                    reports = self.lake.read_partition("reports", part)
                except LakeDamaged:  # rebuilt from the raw zone: the cells are built anew
                    reports = None
                kept = (self._kept_reports(upgraded("reports", reports))
                        if reports is not None else pa.array([], type=pa.string()))
        return old.filter(pc.is_in(old["doc_id"], value_set=kept))

    def _kept_reports(self, rows: pa.Table) -> pa.Array:
        keep = [doc_id for doc_id, sha, url, portal in zip(
                    *(rows[c].to_pylist() for c in ("doc_id", "content_sha256", "url",
                                                    "portal_id")), strict=True)
                if (doc_id, sha, url) not in self.listed
                and self._stays(doc_id, sha, url, portal)]
        kept = pa.array(keep, type=pa.string())
        return pc.filter(kept, pc.invert(pc.is_in(kept, value_set=self.produced))) \
            if len(kept) else kept

    def _stays(self, doc_id: str, sha256: str | None, url: str | None,
               portal_id: str | None) -> bool:
        """Whether a rebuild keeps a row that no version it read stands for: when a raw
        document stands behind it (another run's, landed meanwhile), and when only damage
        hides its document (its sidecar damaged or lost, its raw bytes lost or set aside): the
        row is kept and the run records a reject. A row goes only when its bytes are in the
        raw zone and their sidecars name other documents (a row that claims bytes not its
        own, written by hand or by a bug): the load names it."""
        if self._is_backed(doc_id, sha256):
            return True
        if sha256 and self._sources(sha256) \
                and self.lake.store.exists(self.lake.raw_key(sha256)):
            self.removed_unsourced.add(doc_id)
            return False
        sidecar = self.lake.sidecar_key(sha256, source_id_of(portal_id, url)) \
            if sha256 and url else None
        reason = "sidecar_damaged" if sidecar and self.lake.store.exists(sidecar) \
            else "sidecar_missing"
        self.kept_unsourced[doc_id] = (doc_id, sha256, url, reason)
        return True

    def backed(self, pairs: Iterable[tuple[str, str]]) -> None:
        """``(doc_id, sha256)`` pairs known to have a raw document behind them."""
        self._backed.update({pair: True for pair in pairs})

    def _is_backed(self, doc_id: str, sha256: str | None) -> bool:
        """Whether a raw document stands behind a row: one of its bytes' sources has its id."""
        if not sha256:
            return False
        key = (doc_id, sha256)
        if key not in self._backed:
            self._backed[key] = any(d.doc_id == doc_id for d in self._sources(sha256))
        return self._backed[key]

    def _sources(self, sha256: str) -> list:
        """:meth:`~pipelines.lake.Lake.sources_of`, listed once per sha256 by a merge."""
        if sha256 not in self._sources_of:
            self._sources_of[sha256] = self.lake.sources_of(sha256)
        return self._sources_of[sha256]


def _debug_pause(setting: str) -> None:
    # Fault injection for the race tests (tests/test_concurrency.py): widens the windows where
    # concurrent runs used to lose rows, between reading a partition and swapping it
    # (GOVREPORTS_DEBUG_LOAD_PAUSE) and between listing the raw zone and loading
    # (GOVREPORTS_DEBUG_LEASE_PAUSE). Zero in normal use. With GOVREPORTS_DEBUG_RELEASE (a file),
    # a pause says it has begun (<file>.paused) and ends as soon as the file exists: a test
    # releases the run once its race is set up instead of waiting out the seconds.
    settings = current()
    seconds, release = getattr(settings, setting), settings.debug_release
    if not seconds:
        return
    if not release:
        time.sleep(seconds)
        return
    Path(f"{release}.paused").touch()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not Path(release).exists():
        time.sleep(0.02)
