"""The lake's table schemas: the contract consumers read (documented in ``docs/lake.md``).

Column names and types here are the contract; change them only with a ``SCHEMA_VERSION`` bump
and a note in ``docs/lake.md``. Partition columns (``province``, ``year``) live in the object
path (Hive style), not in the files.
"""

from __future__ import annotations

import pyarrow as pa

from pipelines.versions import PROCESSING_VERSION as PROCESSING_VERSION
from pipelines.versions import SCHEMA_VERSION as SCHEMA_VERSION
from pipelines.versions import VALUE_DIGITS, VALUE_SCALE

#: Hive's name for the partition of NULL values; DuckDB, pyarrow and Athena read it as NULL.
NULL_PARTITION = "__HIVE_DEFAULT_PARTITION__"

PARTITION_SCHEMA = pa.schema([("province", pa.string()), ("year", pa.int32())])

ATTACHMENT_TYPE = pa.struct(
    [
        ("url", pa.string()),
        ("filename", pa.string()),
        ("media_type", pa.string()),
        ("sha256", pa.string()),
        ("text", pa.string()),
    ]
)

#: ``report_stats.value``, and the old and new values of a changed cell.
VALUE_TYPE = pa.decimal128(VALUE_DIGITS, VALUE_SCALE)

REPORTS_SCHEMA = pa.schema(
    [
        ("doc_id", pa.string()),  # stable id: a web document's URL, a local file's path
        ("url", pa.string()),
        ("title", pa.string()),
        ("index_no", pa.string()),  # 索引号
        ("issuing_agency", pa.string()),  # 发文机构
        ("category", pa.string()),  # 公开目录 / 主题分类
        ("doc_no", pa.string()),  # 文号
        ("written_date", pa.date32()),  # 成文日期
        ("published_date", pa.date32()),  # 发布日期
        ("report_year", pa.int32()),  # the year the report covers
        ("report_year_evidence", pa.string()),
        ("document_kind", pa.string()),  # report | letter | notice | news | other
        ("document_kind_evidence", pa.string()),
        ("province_code", pa.string()),  # GB/T 2260, 6 digits
        ("province_name", pa.string()),
        ("city_code", pa.string()),
        ("county_code", pa.string()),
        ("region_evidence", pa.string()),
        ("report_key", pa.string()),  # the body, normalised, and the report year
        ("metadata_raw", pa.map_(pa.string(), pa.string())),  # field → value as found
        ("text", pa.string()),
        ("encoding_declared", pa.string()),
        ("encoding_detected", pa.string()),
        ("repairs", pa.list_(pa.string())),
        ("unrecoverable_chars", pa.int32()),  # lost characters flagged (?, U+FFFD, 锟斤拷)
        ("attachments", pa.list_(ATTACHMENT_TYPE)),
        ("linked_files", pa.list_(pa.string())),  # files the page links to, attached or not
        ("template", pa.string()),  # 2021 | 2019 | pre2019 | unknown
        ("stats_consistent", pa.bool_()),
        ("stats_failed_checks", pa.list_(pa.string())),
        ("stats_cells", pa.int32()),  # its rows in report_stats: a lost partition is found
        ("content_sha256", pa.string()),  # sha256 of the raw bytes this row was built from
        ("portal_id", pa.string()),
        ("fetched_at", pa.timestamp("us", tz="UTC")),
        ("schema_version", pa.int32()),
        ("processing_version", pa.int32()),  # PROCESSING_VERSION of the code that built it
        ("input_fingerprint", pa.string()),  # the raw bytes and their sidecar it was built from
        # Its versions (report_versions): the text and statistics normalised (pipelines.changes)
        ("content_digest", pa.string()),
        ("version", pa.int32()),  # 1, 2, …: contents this document has had
        ("first_seen", pa.timestamp("us", tz="UTC")),  # its first fetch, of any version
        ("last_seen", pa.timestamp("us", tz="UTC")),  # when the crawl last found it
        # OCR (pipelines.ocr): NULL for a document none of whose text came from page images
        ("ocr_engine", pa.string()),
        ("ocr_engine_version", pa.string()),
        ("ocr_pages", pa.int32()),  # pages read by OCR, attachments' included
        ("ocr_confidence", pa.float32()),  # their mean line confidence, 0–1
        ("ocr_low_confidence_pages", pa.list_(pa.int32())),  # 1-based, in reading order
    ]
)

REPORT_STATS_SCHEMA = pa.schema(
    [
        ("doc_id", pa.string()),
        ("table", pa.string()),  # 二 | 三 | 四 | pre2019
        ("row_key", pa.string()),
        ("row_label", pa.string()),  # the row's label as printed
        ("column_key", pa.string()),
        ("value", VALUE_TYPE),
        ("raw", pa.string()),  # the cell text as found
        ("unit", pa.string()),
        ("schema_version", pa.int32()),
    ]
)

#: One row per version of each document: its first version, then each fetch whose report text
#: or statistics (normalised: pipelines.changes) differ from the version before; with what
#: changed against that one. The current version is also the document's row of ``reports``.
REPORT_VERSIONS_SCHEMA = pa.schema(
    [
        ("doc_id", pa.string()),
        ("version", pa.int32()),
        ("url", pa.string()),
        ("content_sha256", pa.string()),  # the raw bytes this version was first read from
        ("attachments_sha256", pa.list_(pa.string())),  # and its attachments' (a page's PDF)
        ("content_digest", pa.string()),
        ("fetched_at", pa.timestamp("us", tz="UTC")),  # its first fetch
        ("last_seen", pa.timestamp("us", tz="UTC")),  # when the crawl last found it
        ("title", pa.string()),
        ("report_year", pa.int32()),
        ("issuing_agency", pa.string()),
        ("province_code", pa.string()),
        ("template", pa.string()),
        ("text_chars", pa.int32()),
        ("stats_cells", pa.int32()),
        ("stats_consistent", pa.bool_()),
        # against the version before (NULL for version 1)
        ("previous_sha256", pa.string()),
        ("previous_fetched_at", pa.timestamp("us", tz="UTC")),
        ("chars_added", pa.int32()),
        ("chars_removed", pa.int32()),
        ("sections_changed", pa.list_(pa.string())),
        ("cells_changed", pa.list_(pa.struct([("cell", pa.string()), ("old", VALUE_TYPE),
                                              ("new", VALUE_TYPE)]))),
        ("year_changed", pa.bool_()),
        ("agency_changed", pa.bool_()),
        ("template_changed", pa.bool_()),
        ("schema_version", pa.int32()),
    ]
)

TABLES: dict[str, pa.Schema] = {"reports": REPORTS_SCHEMA, "report_stats": REPORT_STATS_SCHEMA,
                                "report_versions": REPORT_VERSIONS_SCHEMA}


def upgraded(table: str, rows: pa.Table) -> pa.Table:
    """Rows written under an earlier version of the contract, with the columns added since
    (NULL) and the current types: what a partition rewrite and a reader see."""
    schema = TABLES[table]
    for field in schema:
        if field.name not in rows.column_names:
            rows = rows.append_column(field, pa.nulls(rows.num_rows, field.type))
    return rows.select(schema.names).cast(schema)


#: Columns a partition file may lack: added to the contract since it began (``upgraded`` gives
#: them NULL). Every other column must be in the file, with the contract's type.
ADDED_COLUMNS = {"reports": frozenset({"report_key", "processing_version", "input_fingerprint",
                                       "linked_files", "stats_cells", "document_kind",
                                       "document_kind_evidence", "content_digest", "version",
                                       "first_seen", "last_seen", "ocr_engine",
                                       "ocr_engine_version", "ocr_pages", "ocr_confidence",
                                       "ocr_low_confidence_pages"}),
                 "report_stats": frozenset(), "report_versions": frozenset()}


def schema_problem(table: str, schema: pa.Schema) -> str | None:
    """Why a partition file of ``table`` with this schema is not one of the lake's (a column
    the contract does not have, or of another type, or a column missing), or None."""
    expected = TABLES[table]
    for found in schema:
        if found.name not in expected.names:
            return f"column {found.name!r} is not a {table} column"
        if not found.type.equals(expected.field(found.name).type):
            return (f"column {found.name!r} is {found.type}, not "
                    f"{expected.field(found.name).type}")
    missing = [name for name in expected.names
               if name not in schema.names and name not in ADDED_COLUMNS[table]]
    if missing:
        return f"column(s) {', '.join(missing)} missing"
    return None


def dataset_schema(table: str) -> pa.Schema:
    """The schema a reader sees: the file columns plus the partition columns."""
    schema = TABLES[table]
    for field in PARTITION_SCHEMA:
        schema = schema.append(field)
    return schema


def athena_type(arrow: pa.DataType) -> str:
    """The Athena/Glue (Hive DDL) type a Parquet column of this Arrow type reads as: what
    ``infra/terraform`` and the DDL in ``docs/lake.md`` declare."""
    if pa.types.is_string(arrow):
        return "string"
    if pa.types.is_int32(arrow):
        return "int"
    if pa.types.is_int64(arrow):
        return "bigint"
    if pa.types.is_boolean(arrow):
        return "boolean"
    if pa.types.is_float32(arrow):
        return "float"
    if pa.types.is_date(arrow):
        return "date"
    if pa.types.is_timestamp(arrow):
        return "timestamp"
    if pa.types.is_decimal(arrow):
        return f"decimal({arrow.precision},{arrow.scale})"
    if pa.types.is_map(arrow):
        return f"map<{athena_type(arrow.key_type)},{athena_type(arrow.item_type)}>"
    if pa.types.is_list(arrow):
        return f"array<{athena_type(arrow.value_type)}>"
    if pa.types.is_struct(arrow):
        fields = ",".join(f"{f.name}:{athena_type(f.type)}" for f in arrow)
        return f"struct<{fields}>"
    raise TypeError(f"no Athena type for {arrow}")


def athena_columns(schema: pa.Schema) -> list[tuple[str, str]]:
    return [(f.name, athena_type(f.type)) for f in schema]
