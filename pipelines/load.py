"""Load stage: report records → partition files, idempotently.

Each partition is one Parquet object, replaced in one atomic write, so a reader sees the old
partition or the new one, never a mix. A load upserts by ``doc_id``: the processed documents'
rows replace their earlier rows wherever those were (a document whose province or year changed
moves, it is not duplicated), and partitions inside a rebuild scope are rebuilt from what the
run read (never dropping rows of documents it did not read). A partition whose rows would not
change is not written at all. Concurrent loads are safe: see :func:`load_rows`.
"""

from __future__ import annotations

import os
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

from pipelines.errors import LakeBusy, LakeConflict, LakeDamaged
from pipelines.lake import Lake, Partition
from pipelines.records import Report, StatCell
from pipelines.schema import TABLES

SORT_KEYS = {
    "reports": [("doc_id", "ascending")],
    "report_stats": [("doc_id", "ascending"), ("table", "ascending"),
                     ("row_key", "ascending"), ("column_key", "ascending")],
}


@dataclass
class LoadResult:
    written: list[str] = field(default_factory=list)  # object keys replaced or created
    deleted: list[str] = field(default_factory=list)  # partitions left empty, removed
    unchanged: int = 0


def partition_of(report: Report) -> Partition:
    """The partition a report lands in: its province and report year (None → null partition)."""
    return Partition(report.province_code, report.report_year)


def load(lake: Lake, reports: Iterable[Report], stats: Iterable[StatCell], *,
         rebuild: Callable[[Partition], bool] | None = None,
         listed: Iterable[str] | None = None, run_id: str = "", command: str = "load"
         ) -> LoadResult:
    """Write ``reports`` and their ``stats`` into the lake's partitions.

    ``rebuild`` marks partitions to be replaced by what this run read (what ``process
    --province/--year`` rebuilds): there, the rows of the documents in ``listed`` (the doc ids
    the run read from the raw zone; the given reports' ids at least) are replaced, and rows no
    raw document stands behind are removed; rows of documents the run did not read (another
    run's, landed meanwhile) are kept. Every other partition keeps its rows except those of the
    given documents.
    """
    return load_rows(lake, [r.to_row() for r in reports], [c.to_row() for c in stats],
                     rebuild=rebuild, listed=listed, run_id=run_id, command=command)


def load_rows(lake: Lake, report_rows: list[dict], stat_rows: list[dict], *,
              rebuild: Callable[[Partition], bool] | None = None,
              listed: Iterable[str] | None = None, run_id: str = "",
              command: str = "load") -> LoadResult:
    """:func:`load` of rows in the tables' own form (as staged by :mod:`pipelines.stages`).

    The merge runs under the lake's load lease (:mod:`pipelines.lease`), and each partition is
    swapped conditionally on the version it was read at, read and merged again on a conflict:
    concurrent runs never lose or duplicate each other's rows."""
    where = {r["doc_id"]: Partition(r["province_code"], r["report_year"]) for r in report_rows}
    incoming = {
        "reports": _group((where[r["doc_id"]], r) for r in report_rows),
        "report_stats": _group((where[c["doc_id"]], c) for c in stat_rows
                               if c["doc_id"] in where),
    }
    merge = _Merge(lake, produced=set(where), listed=set(listed or ()) | set(where),
                   rebuild=rebuild)
    result = LoadResult()
    _debug_pause("GOVREPORTS_DEBUG_LEASE_PAUSE")
    with lake.load_lease(run_id or "unnamed", command) as lease:
        merge.lease = lease
        for table, new_rows in incoming.items():
            existing = set(lake.partitions(table))
            for part in sorted(existing | set(new_rows), key=Partition.sort_key):
                outcome = merge.partition(table, part, new_rows.get(part, []))
                if outcome == "written":
                    result.written.append(part.key(table))
                elif outcome == "deleted":
                    result.deleted.append(part.key(table))
                else:
                    result.unchanged += 1
    return result


#: Attempts at one partition's conditional swap before the load gives up (exit 3: retry).
MAX_ATTEMPTS = 20


class _Merge:
    """One load's merge of new rows into partitions, one partition at a time."""

    def __init__(self, lake: Lake, *, produced: set[str], listed: set[str],
                 rebuild: Callable[[Partition], bool] | None):
        self.lake = lake
        self.produced = pa.array(sorted(produced), type=pa.string())
        self.listed = pa.array(sorted(listed), type=pa.string())
        self.rebuild = rebuild
        self.kept: dict[Partition, pa.Array] = {}  # rebuilt partitions: report ids kept
        self.lease = None
        self._backed: dict[tuple[str, str], bool] = {}

    def partition(self, table: str, part: Partition, new_rows: list[dict]) -> str:
        schema = TABLES[table]
        rows_in = pa.Table.from_pylist(new_rows, schema=schema)
        in_scope = self.rebuild is not None and self.rebuild(part)
        for _attempt in range(MAX_ATTEMPTS):
            try:
                old, version = self.lake.read_partition_versioned(table, part)
            except LakeDamaged:
                if not in_scope:
                    raise
                old, version = None, self.lake.store.read_versioned(part.key(table))[1]
            rows = rows_in
            if old is not None:
                old = old.cast(schema)
                rows = pa.concat_tables([self._kept(table, part, old, in_scope), rows_in])
            rows = rows.sort_by(SORT_KEYS[table])
            if old is not None and old.sort_by(SORT_KEYS[table]).equals(rows):
                return "unchanged"
            if old is None and version is None and rows.num_rows == 0:
                return "unchanged"
            _debug_pause("GOVREPORTS_DEBUG_LOAD_PAUSE")
            if self.lease is not None and self.lease.lost:
                raise LakeBusy(f"this run lost the lease of {self.lake.url} (not renewed in "
                               "time, another run took it over): run the command again")
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
        one, all but the listed documents' and those no raw document stands behind."""
        if not in_scope:
            return old.filter(pc.invert(pc.is_in(old["doc_id"], value_set=self.produced)))
        if table == "reports":
            unread = old.filter(pc.invert(pc.is_in(old["doc_id"], value_set=self.listed)))
            keep = [doc_id for doc_id, sha in zip(unread["doc_id"].to_pylist(),
                                                   unread["content_sha256"].to_pylist(),
                                                   strict=True)
                    if self._is_backed(doc_id, sha)]
            self.kept[part] = pa.array(keep, type=pa.string())
        kept = self.kept.get(part, pa.array([], type=pa.string()))
        return old.filter(pc.is_in(old["doc_id"], value_set=kept))

    def _is_backed(self, doc_id: str, sha256: str | None) -> bool:
        """Whether a raw document stands behind a row: one of its bytes' sources has its id."""
        if not sha256:
            return False
        key = (doc_id, sha256)
        if key not in self._backed:
            self._backed[key] = any(d.doc_id == doc_id for d in self.lake.sources_of(sha256))
        return self._backed[key]


def _debug_pause(name: str) -> None:
    # Fault injection for the race tests (tests/test_concurrency.py): widens the windows where
    # concurrent runs used to lose rows, between reading a partition and swapping it
    # (GOVREPORTS_DEBUG_LOAD_PAUSE) and between listing the raw zone and loading
    # (GOVREPORTS_DEBUG_LEASE_PAUSE). Seconds; unset in normal use.
    pause = os.environ.get(name)
    if pause:
        time.sleep(float(pause))


def _group(pairs) -> dict[Partition, list[dict]]:
    grouped: dict[Partition, list[dict]] = defaultdict(list)
    for part, row in pairs:
        grouped[part].append(row)
    return grouped
