"""DuckDB over the lake: views ``reports``, ``report_stats`` and ``report_versions`` with
partition columns, ``report_latest`` (one row per report however many copies were collected),
``report_panel`` (that row with the key figures of its statistical tables as named columns),
``report_changes`` (each change of a document's content), ``report_version_stats`` (every
version's statistics cells) and ``rejects`` (the documents set
aside, one row each).

The tables are registered as pyarrow datasets on the store's own filesystem (local or S3 with
the credentials boto3 resolved), so querying an ``s3://`` lake needs no DuckDB extension and no
second credential setup; scans stay lazy and partition filters prune files.
"""

from __future__ import annotations

import dataclasses
import re
import threading
import time
from dataclasses import dataclass

import duckdb
import pyarrow as pa
import pyarrow.dataset as ds

from pipelines.errors import InputError, Interrupted
from pipelines.lake import Lake
from pipelines.records import Reject
from pipelines.schema import PARTITION_SCHEMA, TABLES, dataset_schema
from pipelines.settings import current
from pipelines.stat_tables import OTHER_HANDLING, OTHER_OTHER, TABLE3_ROWS, TABLE4_COLUMNS


def table_dataset(lake: Lake, table: str, *, whole: bool = False) -> ds.Dataset | pa.Table:
    """A lazily read dataset of ``table`` (an empty table when nothing has landed yet) over
    its sound partition files: a file that is not readable Parquet of the table's schema is
    left out (and noted in ``lake.damage``), never read as rows. Each file's footer is
    checked, or (``whole``) the whole file, for a scan that failed inside one."""
    parts = lake.readable_partitions(table, whole=whole)
    if not parts:
        return dataset_schema(table).empty_table()
    filesystem, base = lake.store.arrow_filesystem()
    files = [f"{base}/{part.key(table)}" for part in parts]
    return ds.dataset(
        files,
        schema=dataset_schema(table),
        format=ds.ParquetFileFormat(default_fragment_scan_options=ds.ParquetFragmentScanOptions(
            page_checksum_verification=True)),
        filesystem=filesystem,
        partitioning=ds.HivePartitioning(PARTITION_SCHEMA),
        partition_base_dir=f"{base}/{table}",
    )


#: DuckDB settings of the lake's reader: no file, network or extension access of its own (the
#: views are scanned by pyarrow, on the store's filesystem), no Python variables as tables.
READ_ONLY = {"enable_external_access": False, "autoinstall_known_extensions": False,
             "autoload_known_extensions": False, "allow_community_extensions": False,
             "python_enable_replacements": False}


#: One row per report (``report_key``; a row without a key is its own report): the best copy,
#: with the URLs of the others. Best: a copy on a government (.gov.cn) host over one elsewhere
#: (a mirror) over an ingested file; then the newest (published, then fetched); then doc_id.
#: Only reports: a letter, notice or news item in a report column keeps its row in ``reports``
#: (a row written before schema 5 has no kind, and counts as a report until reprocessed).
REPORT_LATEST = """
CREATE VIEW report_latest AS
WITH copies AS (
  SELECT *, coalesce(report_key, 'doc:' || doc_id) AS _report,
         CASE WHEN regexp_matches(url, '^https?://([^/:]+[.])?gov[.]cn([:/]|$)') THEN 0
              WHEN url LIKE 'http%' THEN 1 ELSE 2 END AS _origin
  FROM reports
  WHERE coalesce(document_kind, 'report') = 'report'
), ranked AS (
  SELECT *, row_number() OVER (PARTITION BY _report ORDER BY _origin, published_date DESC NULLS
           LAST, fetched_at DESC NULLS LAST, doc_id) AS _rank,
         list(url ORDER BY url) OVER (PARTITION BY _report) AS _urls,
         count(*) OVER (PARTITION BY _report) AS copies
  FROM copies
)
SELECT * EXCLUDE (_report, _origin, _rank, _urls),
       list_filter(_urls, lambda u: u IS DISTINCT FROM url) AS other_sources
FROM ranked WHERE _rank = 1
"""


@dataclass(frozen=True)
class Indicator:
    """A ``report_panel`` column: the sum of a report's ``report_stats`` cells of ``table`` whose
    ``row_key`` and ``column_key`` are among those listed (NULL when it has none of them)."""

    column: str
    table: str
    row_keys: tuple[str, ...]
    column_keys: tuple[str, ...]
    meaning: str  # what docs/lake.md says of it


def _table3_rows(prefix: str) -> tuple[str, ...]:
    return tuple(key for key, _, _ in TABLE3_ROWS if key.startswith(prefix))


_REVIEW_GROUPS = {"review": ("administrative_review", "行政复议"),
                  "litigation_direct": ("litigation_direct", "行政诉讼 未经复议直接起诉"),
                  "litigation_after_review": ("litigation_after_review", "行政诉讼 复议后起诉")}
_RESULTS = {"maintained": "结果维持", "corrected": "结果纠正", "other": "其他结果",
            "pending": "尚未审结", "total": "总计"}
assert tuple(_RESULTS) == TABLE4_COLUMNS

#: The panel's indicator columns, in order. Cell keys are the statistics stage's
#: (:mod:`pipelines.stat_tables`); a pre-2019 统计表 has no fixed keys, so its reports have NULL
#: indicators (their cells stay in ``report_stats``).
PANEL_INDICATORS: tuple[Indicator, ...] = (
    Indicator("requests_received", "三", ("received_new",), ("total",),
              "表三 一、本年新收政府信息公开申请数量, 总计 column"),
    Indicator("requests_from_natural_persons", "三", ("received_new",), ("natural_person",),
              "表三 一、本年新收, 自然人 column"),
    Indicator("requests_carried_over", "三", ("carried_over",), ("total",),
              "表三 二、上年结转政府信息公开申请数量, 总计"),
    Indicator("outcome_disclosed", "三", ("disclosed",), ("total",), "表三 （一）予以公开, 总计"),
    Indicator("outcome_partially_disclosed", "三", ("partially_disclosed",), ("total",),
              "表三 （二）部分公开, 总计"),
    Indicator("outcome_withheld", "三", _table3_rows("withheld_"), ("total",),
              "表三 （三）不予公开: the sum of its eight reasons, 总计"),
    Indicator("outcome_unavailable", "三", _table3_rows("unavailable_"), ("total",),
              "表三 （四）无法提供: the sum of its three reasons, 总计"),
    Indicator("outcome_not_handled", "三", _table3_rows("not_handled_"), ("total",),
              "表三 （五）不予处理: the sum of its five reasons, 总计"),
    Indicator("outcome_other", "三", (OTHER_HANDLING, *_table3_rows("other_"), OTHER_OTHER),
              ("total",),
              "表三 （六）其他处理: the 2019 row, or the sum of the three 2021 rows, 总计"),
    Indicator("requests_handled", "三", ("total_handled",), ("total",), "表三 （七）总计, 总计"),
    Indicator("requests_carried_forward", "三", ("carried_forward",), ("total",),
              "表三 四、结转下年度继续办理, 总计"),
    Indicator("fees_10k_yuan", "二", ("administrative_fees",), ("amount_10k_yuan",),
              "表二 （八）行政事业性收费 本年收费金额（万元）; 2021 template only (the 2019 "
              "template counts fee items, not amounts)"),
    Indicator("rules_made", "二", ("rules",), ("made", "newly_made"),
              "表二 （一）规章: 本年制发件数 (2021) or 本年新制作数量 (2019)"),
    Indicator("rules_in_force", "二", ("rules",), ("in_force",),
              "表二 （一）规章 现行有效件数; 2021 template only"),
    Indicator("normative_documents_made", "二", ("normative_documents",), ("made", "newly_made"),
              "表二 （一）(行政)规范性文件: 本年制发件数 (2021) or 本年新制作数量 (2019)"),
    Indicator("normative_documents_in_force", "二", ("normative_documents",), ("in_force",),
              "表二 （一）规范性文件 现行有效件数; 2021 template only"),
    Indicator("licensing_decisions", "二", ("administrative_licensing",), ("decisions",),
              "表二 （五）行政许可 处理决定数量"),
    Indicator("penalty_decisions", "二", ("administrative_penalty",), ("decisions",),
              "表二 （六）行政处罚 处理决定数量"),
    Indicator("coercion_decisions", "二", ("administrative_coercion",), ("decisions",),
              "表二 （六）行政强制 处理决定数量"),
    *(Indicator(f"{prefix}_{result}", "四", (group,), (result,), f"表四 {label} {result_label}")
      for prefix, (group, label) in _REVIEW_GROUPS.items()
      for result, result_label in _RESULTS.items()),
)

#: The panel's columns before the indicators: who, which year, which copy, how consistent.
PANEL_IDENTITY = ("report_key", "report_year", "province_code", "province_name", "city_code",
                  "county_code", "issuing_agency", "title", "doc_id", "url", "copies",
                  "template", "stats_consistent", "failed_checks")


def _quoted(values: tuple[str, ...]) -> str:
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)


def _panel_sql() -> str:
    sums = ",\n         ".join(
        f"CAST(sum(value) FILTER (WHERE \"table\" = '{i.table}' AND row_key IN "
        f"({_quoted(i.row_keys)}) AND column_key IN ({_quoted(i.column_keys)})) "
        f"AS DECIMAL(20, 4)) AS {i.column}" for i in PANEL_INDICATORS)
    identity = ", ".join(f"l.{c}" for c in PANEL_IDENTITY if c != "failed_checks")
    return f"""
CREATE VIEW report_panel AS
WITH indicators AS (
  SELECT doc_id,
         {sums}
  FROM report_stats GROUP BY doc_id
)
SELECT {identity}, len(l.stats_failed_checks) AS failed_checks,
       {", ".join(f"i.{i.column}" for i in PANEL_INDICATORS)}
FROM report_latest AS l LEFT JOIN indicators AS i ON i.doc_id = l.doc_id
"""


#: One row per report (as ``report_latest``: the best copy of each ``report_key``) with the key
#: figures of its statistical tables as named columns (:data:`PANEL_INDICATORS`).
REPORT_PANEL = _panel_sql()

#: ``rejects/<doc_id>.json`` as rows: the fields of :class:`pipelines.records.Reject`.
REJECTS_SCHEMA = pa.schema([(f.name, pa.string()) for f in dataclasses.fields(Reject)])

#: One row per change of a document's content: each version after the first, against the one
#: before it (``report_versions`` holds every version).
REPORT_CHANGES = """
CREATE VIEW report_changes AS
SELECT v.doc_id, v.url, v.version - 1 AS from_version, v.version AS to_version,
       v.previous_sha256 AS from_sha256, p.attachments_sha256 AS from_attachments_sha256,
       v.previous_fetched_at AS from_fetched_at,
       v.content_sha256 AS to_sha256, v.attachments_sha256 AS to_attachments_sha256,
       v.fetched_at AS to_fetched_at,
       v.chars_added, v.chars_removed, v.sections_changed, v.cells_changed,
       v.year_changed, v.agency_changed, v.template_changed, v.province, v.year
FROM report_versions AS v
LEFT JOIN report_versions AS p ON p.doc_id = v.doc_id AND p.version = v.version - 1
WHERE v.version > 1
"""

#: Every version's statistics, one row per cell (``table/row_key/column_key``, as in
#: ``cells_changed``): not stored twice but read back from what the lake keeps. The current
#: version's cells are ``report_stats``; an earlier version's cell holds the old value of the
#: first change to it after that version, or, if none came, the current value (a cell a
#: version did not have is absent: its old or its current value is NULL).
REPORT_VERSION_STATS = """
CREATE VIEW report_version_stats AS
WITH current AS (
  SELECT doc_id, "table" || '/' || row_key || '/' || column_key AS cell, value
  FROM report_stats
), changed AS (
  SELECT v.doc_id, v.version, c.cell, c.old
  FROM report_versions AS v, unnest(v.cells_changed) AS t(c)
), cells AS (
  SELECT doc_id, cell FROM current UNION SELECT doc_id, cell FROM changed
), later AS (
  SELECT v.doc_id, v.version, c.cell, v.province, v.year,
         min({'version': ch.version, 'old': ch.old})
           FILTER (WHERE ch.version IS NOT NULL) AS first_change
  FROM report_versions AS v
  JOIN cells AS c ON c.doc_id = v.doc_id
  LEFT JOIN changed AS ch ON ch.doc_id = v.doc_id AND ch.cell = c.cell
                          AND ch.version > v.version
  GROUP BY ALL
)
SELECT l.doc_id, l.version, l.cell,
       CASE WHEN l.first_change IS NULL THEN cur.value ELSE l.first_change.old END AS value,
       l.province, l.year
FROM later AS l
LEFT JOIN current AS cur ON cur.doc_id = l.doc_id AND cur.cell = l.cell
WHERE (CASE WHEN l.first_change IS NULL THEN cur.value ELSE l.first_change.old END) IS NOT NULL
"""

#: The views beyond the tables.
VIEWS = ("report_latest", "report_panel", "report_changes", "report_version_stats",
         "rejects")


def rejects_table(lake: Lake) -> pa.Table:
    """The lake's rejects, one row each."""
    rows = [{name: data.get(name) for name in REJECTS_SCHEMA.names}
            for data in lake.read_json_many(lake.reject_keys())]
    return pa.Table.from_pylist(rows, schema=REJECTS_SCHEMA)


def connect(lake: Lake, *, rejects: bool = True, whole: bool = False
            ) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with one view per lake table, read-only towards the
    world: SQL can read the views and nothing else (``COPY … TO``, ``ATTACH``, ``INSTALL``,
    ``read_csv('/etc/…')`` are refused), and the configuration is locked once the views are
    registered so that no statement can lift that. The tables are scanned lazily; the rejects
    are read when the connection is made (one JSON object each), so ``rejects=False`` leaves
    the view empty for SQL that does not read it. ``whole``: see :func:`table_dataset`."""
    con = duckdb.connect(config=READ_ONLY)
    for table in TABLES:
        con.register(table, table_dataset(lake, table, whole=whole))
    con.register("rejects", rejects_table(lake) if rejects else REJECTS_SCHEMA.empty_table())
    con.execute(REPORT_LATEST)
    con.execute(REPORT_PANEL)
    con.execute(REPORT_CHANGES)
    con.execute(REPORT_VERSION_STATS)
    con.execute("SET lock_configuration = true")
    return con



def run_query(lake: Lake, sql: str, *, timeout: float | None = None
              ) -> tuple[list[str], list[tuple]]:
    """Column names and rows of ``sql`` over the lake; :class:`InputError` for a statement
    that tries to reach beyond the lake's views or runs longer than ``timeout`` seconds
    (default ``GOVREPORTS_QUERY_TIMEOUT``), :class:`Interrupted` when Ctrl-C stopped it,
    :class:`LakeDamaged` naming a damaged partition file."""
    # Reading every reject for SQL that never names the view would cost a request per reject.
    rejects = re.search(r"\brejects\b", sql, re.IGNORECASE) is not None
    limit = current().query_timeout if timeout is None else timeout
    try:
        changes = [s.type.name for s in duckdb.extract_statements(sql)
                   if s.type.name in _REFUSED_STATEMENTS]
    except duckdb.ParserException:
        changes = []  # the statement's own syntax error: DuckDB says it when it runs
    if changes:
        raise _refused(f"a {changes[0]} statement")
    try:
        return on_sound_files(lake, lambda con: _bounded(con, sql, limit), rejects=rejects)
    except duckdb.PermissionException as exc:
        raise _refused(str(exc).splitlines()[0]) from None


#: Statement types refused before they run (the connection's settings are locked as well:
#: these would fail on it, less clearly). Files, databases and extensions are refused by the
#: connection itself (a PermissionException).
_REFUSED_STATEMENTS = frozenset({"SET", "ATTACH", "DETACH", "LOAD", "COPY", "EXPORT"})


def _refused(why: str) -> InputError:
    return InputError(
        f"query refused ({why}): `govreports query` only reads the lake's views "
        f"({', '.join([*TABLES, *VIEWS])}); it cannot read or write files, attach "
        "databases, install extensions or change settings")


#: DuckDB's errors that are the statement's own (its syntax, names, types, a refusal, a stop):
#: no file is read again for them. Any other error may be a file that failed mid-scan.
_STATEMENT_ERRORS = (duckdb.ParserException, duckdb.BinderException, duckdb.CatalogException,
                     duckdb.ConversionException, duckdb.OutOfRangeException,
                     duckdb.PermissionException, duckdb.InterruptException,
                     duckdb.NotImplementedException, duckdb.TypeMismatchException)


def on_sound_files(lake: Lake, work, *, rejects: bool = True):
    """``work(connection)`` over the lake's sound partition files. Footers are checked first;
    a scan that still fails on a file (cut or zeroed inside) is run again once over the files
    found sound when read whole. The files left out are in ``lake.damage``."""
    try:
        return work(connect(lake, rejects=rejects))
    except (duckdb.Error, pa.ArrowException, OSError) as exc:
        if isinstance(exc, _STATEMENT_ERRORS):
            raise  # the statement's own error (a typo, a refusal): no file is read again
        before = len(lake.damage)
        con = connect(lake, rejects=rejects, whole=True)
        if len(lake.damage) == before:
            raise  # no damaged file: the statement's own error
        return work(con)


def _bounded(con: duckdb.DuckDBPyConnection, sql: str, timeout: float
             ) -> tuple[list[str], list[tuple]]:
    """Run ``sql`` to its rows in a thread while this one waits, so that the deadline and
    Ctrl-C (delivered to the main thread only) can both interrupt DuckDB, which checks for an
    interrupt between vectors: a statement of any shape stops within a second."""
    answer: dict = {}
    done = threading.Event()

    def execute() -> None:
        try:
            relation = con.sql(sql)
            # None: a statement without a result (e.g. SET)
            answer["rows"] = ([], []) if relation is None else (relation.columns,
                                                                 relation.fetchall())
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting thread
            answer["error"] = exc
        finally:
            done.set()

    worker = threading.Thread(target=execute, name="govreports-query", daemon=True)
    deadline = time.monotonic() + timeout
    try:
        worker.start()
        while not done.wait(0.1) and time.monotonic() < deadline:
            pass
    except KeyboardInterrupt:
        _interrupt(con, done)
        raise Interrupted("query stopped (Ctrl-C)") from None
    if not done.is_set():
        _interrupt(con, done)
        raise InputError(f"query stopped after {timeout:g} s (GOVREPORTS_QUERY_TIMEOUT): "
                         "narrow it (a filter on province_code or report_year, a LIMIT, no "
                         "cross join) or raise the setting")
    if "error" in answer:
        raise answer["error"]
    return answer["rows"]


def _interrupt(con: duckdb.DuckDBPyConnection, done: threading.Event) -> None:
    """Interrupt the statement until its thread has finished: an interrupt that comes before
    DuckDB began the statement is lost, and a process must not exit while that thread is in
    DuckDB (the interpreter's shutdown would abort it mid-statement)."""
    deadline = time.monotonic() + 10
    while not done.is_set() and time.monotonic() < deadline:
        con.interrupt()
        done.wait(0.05)
