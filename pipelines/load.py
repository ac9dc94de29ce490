"""Load stage: report records → partition files, idempotently.

Each partition is one Parquet object, replaced in one atomic write, so a reader sees the old
partition or the new one, never a mix. A load upserts by ``doc_id``: the processed documents'
rows replace their earlier rows wherever those were (a document whose province or year changed
moves, it is not duplicated), and partitions inside a rebuild scope are replaced by exactly what
was processed. A partition whose rows would not change is not written at all.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

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
         rebuild: Callable[[Partition], bool] | None = None) -> LoadResult:
    """Write ``reports`` and their ``stats`` into the lake's partitions.

    ``rebuild`` marks partitions to be replaced by exactly the given rows (what ``process
    --province/--year`` rebuilds); every other partition keeps its rows except those of the
    given documents.
    """
    return load_rows(lake, [r.to_row() for r in reports], [c.to_row() for c in stats],
                     rebuild=rebuild)


def load_rows(lake: Lake, report_rows: list[dict], stat_rows: list[dict], *,
              rebuild: Callable[[Partition], bool] | None = None) -> LoadResult:
    """:func:`load` of rows in the tables' own form (as staged by :mod:`pipelines.stages`)."""
    where = {r["doc_id"]: Partition(r["province_code"], r["report_year"]) for r in report_rows}
    incoming = {
        "reports": _group((where[r["doc_id"]], r) for r in report_rows),
        "report_stats": _group((where[c["doc_id"]], c) for c in stat_rows
                               if c["doc_id"] in where),
    }
    ids = pa.array(sorted(where), type=pa.string())
    result = LoadResult()
    for table, new_rows in incoming.items():
        schema = TABLES[table]
        existing = set(lake.partitions(table))
        for part in sorted(existing | set(new_rows), key=Partition.sort_key):
            rows = pa.Table.from_pylist(new_rows.get(part, []), schema=schema)
            old = None
            if part in existing:
                in_scope = rebuild is not None and rebuild(part)
                if not in_scope and part not in new_rows:
                    # Only a document that moved can be here: look at the ids before the rows.
                    present = lake.read_partition(table, part, columns=["doc_id"])
                    if not pc.any(pc.is_in(present["doc_id"], value_set=ids)).as_py():
                        result.unchanged += 1
                        continue
                old = lake.read_partition(table, part)
                if not in_scope:
                    kept = old.filter(pc.invert(pc.is_in(old["doc_id"], value_set=ids)))
                    rows = pa.concat_tables([kept.cast(schema), rows])
            rows = rows.sort_by(SORT_KEYS[table])
            if old is not None and old.cast(schema).equals(rows):
                result.unchanged += 1
            elif rows.num_rows == 0:
                lake.delete_partition(table, part)
                result.deleted.append(part.key(table))
            else:
                lake.write_partition(table, part, rows)
                result.written.append(part.key(table))
    return result


def _group(pairs) -> dict[Partition, list[dict]]:
    grouped: dict[Partition, list[dict]] = defaultdict(list)
    for part, row in pairs:
        grouped[part].append(row)
    return grouped
