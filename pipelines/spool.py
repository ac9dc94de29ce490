"""Rows on their way to the lake, grouped by partition: in memory for a small batch, spilled to
local Arrow files for a large one, so that a run's memory does not grow with its documents.

A run processes its documents in chunks (:func:`pipelines.process.run`); each chunk's rows are
added here and dropped from memory; the load then reads one partition's rows at a time
(:func:`pipelines.load.load_spooled`). What stays in memory per document is its identity: the
partition it goes to and the version it was built from.
"""

from __future__ import annotations

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


def _table(table: str, rows: list[dict]) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=TABLES[table])


class Spool:
    """Rows by table and partition. ``folder`` None keeps them in memory; a folder receives
    one Arrow file per table, partition and chunk (removed by :meth:`close`)."""

    def __init__(self, folder: Path | None = None):
        self.folder = folder
        self._memory: dict[tuple[str, Partition], list[pa.Table]] = defaultdict(list)
        self._files: dict[tuple[str, Partition], list[Path]] = defaultdict(list)
        #: doc_id → (fetched_at, content_sha256, url) of every report row added.
        self.versions: dict[str, tuple] = {}
        #: doc_id → the partition its row goes to.
        self.where: dict[str, Partition] = {}
        self._chunks = 0

    @classmethod
    def on_disk(cls) -> Spool:
        return cls(Path(tempfile.mkdtemp(prefix="govreports-spool-")))

    def add_rows(self, report_rows: list[dict], stat_rows: list[dict]) -> None:
        """One chunk's rows (statistics of reports not among them are left out)."""
        self._chunks += 1
        for row in report_rows:
            self.versions[row["doc_id"]] = (row["fetched_at"], row["content_sha256"], row["url"])
            self.where[row["doc_id"]] = Partition(row["province_code"], row["report_year"])
        chunk_where = {row["doc_id"]: self.where[row["doc_id"]] for row in report_rows}
        for table, rows in (("reports", report_rows), ("report_stats", stat_rows)):
            grouped: dict[Partition, list[dict]] = defaultdict(list)
            for row in rows:
                if row["doc_id"] in chunk_where:
                    grouped[chunk_where[row["doc_id"]]].append(row)
            for part, part_rows in grouped.items():
                self._put(table, part, _table(table, part_rows))

    def add(self, reports: list[Report], cells: list[StatCell]) -> None:
        """One chunk's reports and cells, their columns built straight from the records."""
        self._chunks += 1
        by_part: dict[Partition, list[Report]] = defaultdict(list)
        for report in reports:
            part = Partition(report.province_code, report.metadata.report_year)
            by_part[part].append(report)
            self.versions[report.doc_id] = (report.fetched_at, report.content_sha256,
                                            report.url)
            self.where[report.doc_id] = part
        cells_by_part: dict[Partition, list[StatCell]] = defaultdict(list)
        ours = {report.doc_id: self.where[report.doc_id] for report in reports}
        for cell in cells:
            if cell.doc_id in ours:
                cells_by_part[ours[cell.doc_id]].append(cell)
        for part, part_reports in by_part.items():
            self._put("reports", part, reports_table(part_reports))
        for part, part_cells in cells_by_part.items():
            self._put("report_stats", part, stats_table(part_cells))

    def _put(self, table: str, part: Partition, rows: pa.Table) -> None:
        if self.folder is None:
            self._memory[(table, part)].append(rows)
            return
        path = self.folder / f"{table}-{len(self._files)}-{self._chunks}.arrow"
        with pa.OSFile(str(path), "wb") as sink, ipc.new_file(sink, rows.schema) as writer:
            writer.write_table(rows)
        self._files[(table, part)].append(path)

    def partitions(self, table: str) -> set[Partition]:
        keys = self._memory.keys() if self.folder is None else self._files.keys()
        return {part for name, part in keys if name == table}

    def rows(self, table: str, part: Partition, *, leave_out: set[str] = frozenset()
             ) -> pa.Table:
        """The partition's rows (without those of the ``leave_out`` documents)."""
        if self.folder is None:
            pieces = self._memory.get((table, part), [])
        else:
            pieces = [ipc.open_file(pa.memory_map(str(path))).read_all()
                      for path in self._files.get((table, part), [])]
        rows = pa.concat_tables(pieces) if pieces else TABLES[table].empty_table()
        if leave_out and rows.num_rows:
            ids = pa.array(sorted(leave_out), type=pa.string())
            rows = rows.filter(pc.invert(pc.is_in(rows["doc_id"], value_set=ids)))
        return rows

    def leave_out(self, doc_ids: set[str]) -> None:
        """Forget where the ``doc_ids`` go (their rows are left out at load)."""
        for doc_id in doc_ids:
            self.versions.pop(doc_id, None)
            self.where.pop(doc_id, None)

    def close(self) -> None:
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
