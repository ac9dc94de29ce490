"""Rows on their way to the lake, grouped by partition: in memory for a small batch, spilled to
local Arrow files for a large one, so that a run's memory does not grow with its documents.

A run processes its documents in chunks (:func:`pipelines.batch.run`); each chunk's rows are
added here and dropped from memory; the load then reads one partition's rows at a time
(:func:`pipelines.load.load`). What stays in memory per document is its identity: the
partition it goes to and the version it was built from.
"""

from __future__ import annotations

import itertools
import shutil
import tempfile
from collections import defaultdict
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc as ipc

from pipelines.lake import Partition
from pipelines.records import Report, StatCell, reports_table, stats_table
from pipelines.schema import TABLES


class Spool:
    """Rows by table and partition. ``folder`` None keeps them in memory; a folder receives
    one Arrow file per table, partition and chunk (removed by :meth:`close`)."""

    def __init__(self, folder: Path | None = None):
        self.folder = folder
        #: (table, partition) → its pieces: tables in memory, or the files holding them.
        self._pieces: dict[tuple[str, Partition], list[pa.Table | Path]] = defaultdict(list)
        #: doc_id → (fetched_at, content_sha256, url) of every report row added.
        self.versions: dict[str, tuple] = {}
        #: doc_id → the partition its row goes to.
        self.where: dict[str, Partition] = {}
        #: province_code → province_name, as the rows give them (for a run's summary).
        self.names: dict[str | None, str | None] = {}
        self._files = itertools.count()  # one name per file written, whatever its partition

    @classmethod
    def on_disk(cls) -> Spool:
        return cls(Path(tempfile.mkdtemp(prefix="govreports-spool-")))

    def add(self, reports: list[Report], cells: list[StatCell]) -> None:
        """One chunk's reports and cells, their columns built straight from the records."""
        self.add_tables(reports_table(reports), stats_table(cells))

    def add_tables(self, reports: pa.Table, cells: pa.Table) -> None:
        """One chunk's rows, each table split by the partition of its report (cells of
        reports not among them are left out)."""
        ids = reports["doc_id"].to_pylist()
        parts = [Partition(p, y) for p, y in zip(reports["province_code"].to_pylist(),
                                                 reports["report_year"].to_pylist(),
                                                 strict=True)]
        for doc_id, fetched, sha, url, part in zip(
                ids, reports["fetched_at"].to_pylist(), reports["content_sha256"].to_pylist(),
                reports["url"].to_pylist(), parts, strict=True):
            self.versions[doc_id] = (fetched, sha, url)
            self.where[doc_id] = part
        self.names.update(zip(reports["province_code"].to_pylist(),
                              reports["province_name"].to_pylist(), strict=True))
        chunk = dict(zip(ids, parts, strict=True))
        cell_parts = [chunk.get(doc_id) for doc_id in cells["doc_id"].to_pylist()]
        for table, rows, row_parts in (("reports", reports, parts),
                                       ("report_stats", cells, cell_parts)):
            rows_of: dict[Partition, list[int]] = defaultdict(list)
            for i, part in enumerate(row_parts):
                if part is not None:
                    rows_of[part].append(i)
            for part, indices in rows_of.items():
                self._put(table, part, rows.take(indices))

    def add_rows(self, table: str, part: Partition, rows: pa.Table) -> None:
        """Rows of another table for one partition (the load's ``report_versions``)."""
        if rows.num_rows:
            self._put(table, part, rows)

    def _put(self, table: str, part: Partition, rows: pa.Table) -> None:
        pieces = self._pieces[(table, part)]
        if self.folder is None:
            pieces.append(rows)
            return
        path = self.folder / f"{table}-{next(self._files):06d}.arrow"
        with pa.OSFile(str(path), "wb") as sink, ipc.new_file(sink, rows.schema) as writer:
            writer.write_table(rows)
        pieces.append(path)

    def partitions(self, table: str) -> set[Partition]:
        return {part for name, part in self._pieces if name == table}

    def rows(self, table: str, part: Partition, *, leave_out: set[str] = frozenset()
             ) -> pa.Table:
        """The partition's rows (without those of the ``leave_out`` documents)."""
        pieces = [ipc.open_file(pa.memory_map(str(piece))).read_all()
                  if isinstance(piece, Path) else piece
                  for piece in self._pieces.get((table, part), [])]
        rows = pa.concat_tables(pieces) if pieces else TABLES[table].empty_table()
        if leave_out and rows.num_rows:
            ids = pa.array(sorted(leave_out), type=pa.string())
            rows = rows.filter(pc.invert(pc.is_in(rows["doc_id"], value_set=ids)))
        return rows

    def close(self) -> None:
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
