"""Typed records that flow between stages: what was fetched, and what a report became."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import operator
import re
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, TypedDict

from pipelines.versions import PROCESSING_VERSION, SCHEMA_VERSION

if TYPE_CHECKING:  # Arrow is imported where tables are built: the workers never build one
    import pyarrow as pa


@dataclass
class Metadata:
    """What a document says of itself (:mod:`pipelines.metadata` reads it); ``raw`` keeps each
    field's value as found, and where."""

    title: str | None = None
    index_no: str | None = None
    issuing_agency: str | None = None
    category: str | None = None
    doc_no: str | None = None
    written_date: date | None = None
    published_date: date | None = None
    report_year: int | None = None
    report_year_evidence: str | None = None
    #: report | letter | notice | news | other (:data:`pipelines.metadata.DOCUMENT_KINDS`)
    document_kind: str | None = None
    document_kind_evidence: str | None = None
    raw: dict[str, str] = field(default_factory=dict)


def new_run_id(started: datetime) -> str:
    """A run's id: its UTC start time and a random suffix (``_runs/<run_id>.json``)."""
    return f"{started:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"


_UNSAFE_ID = re.compile(r"[^A-Za-z0-9._-]+")
#: A batch id's length at most (before the hash of a changed id): one part of a lake key.
BATCH_ID_CHARS = 100


def batch_id(text: str) -> str:
    """A batch id (safe in object keys) from any run id: Airflow's hold ``:`` and ``+``, a
    manual one may be anything. A changed id carries a short hash of the original, so that two
    ids differing only in unsafe characters never share a batch."""
    safe = _UNSAFE_ID.sub("_", text).strip("_.")[:BATCH_ID_CHARS] or "batch"
    if safe == text:
        return safe
    return f"{safe}-{hashlib.sha256(text.encode('utf-8')).hexdigest()[:8]}"


def source_id_of(portal_id: str | None, url: str) -> str:
    """The first 16 hex digits of sha256(portal id + newline + URL): a sidecar's and a crawl-state
    entry's key."""
    return hashlib.sha256(f"{portal_id or ''}\n{url}".encode()).hexdigest()[:16]


class ListContext(TypedDict, total=False):
    """What the crawl knew of a document when it fetched it: the sidecar's and the crawl
    state's ``context``. A list page (or list API) gives the document's ``title`` and ``date``
    as listed and its own URL (``list_url``); a gkmlpt list also its ``index_no`` (索引号),
    ``issuing_agency``, ``doc_no`` (文号) and ``category`` (pipelines.document.LIST_FIELDS says
    which metadata each stands in for). An attachment names the ``page`` that links to it; a
    hub's document the ``body_host`` it lives on."""

    title: str
    date: str
    list_url: str
    index_no: str
    issuing_agency: str
    doc_no: str
    category: str
    page: str
    body_host: str


@dataclass(frozen=True, slots=True)  # slots: a run holds one per document
class Source:
    """Where a raw object came from: one fetch of a URL, or one read of a local file.

    This is the raw zone's JSON sidecar (see ``docs/lake.md``). ``region`` is the region code the
    caller configured (a portal's ``region`` or ``ingest --province``), the most trusted signal
    for partitioning; ``context`` holds what the list page said about the document.
    """

    url: str  # http(s)://… or file:///…
    kind: str  # "http" | "file"
    fetched_at: str  # ISO 8601, UTC
    filename: str | None = None
    media_type: str | None = None
    http_status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    portal_id: str | None = None
    region: str | None = None
    encoding: str | None = None  # charset override the caller configured for this source
    context: ListContext = field(default_factory=dict)
    #: ``document`` (a report page or file), ``attachment`` (a file a page links to) or
    #: ``list`` (a portal's list page or list API answer, kept but never processed).
    role: str = "document"

    @property
    def source_id(self) -> str:
        """Identity of the source (not of the fetch): the same URL from the same portal."""
        return source_id_of(self.portal_id, self.url)

    def to_json(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> Source:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


def input_fingerprint(sha256: str, source: Source) -> str:
    """What a row was built from: the raw bytes and everything their sidecar tells processing
    (region, encoding override, headers, list-page context, …), not when they were fetched.
    Equal fingerprints and processing versions make equal rows."""
    told = {k: v for k, v in source.to_json().items() if k != "fetched_at"}
    data = json.dumps([sha256, told], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(data.encode()).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class RawDocument:
    """One stored version of one document: its bytes' address and where they came from."""

    sha256: str
    size: int
    source: Source

    @property
    def doc_id(self) -> str:
        """Stable report id: the document's URL. A web document is its URL and a local file
        its path (``file://`` URL), so that new bytes at the same place are a new version of
        the same report (the same file under two paths is one report: see
        :func:`pipelines.process.current_versions`)."""
        return hashlib.sha256(self.source.url.encode()).hexdigest()[:32]


@dataclass
class Attachment:
    url: str | None
    filename: str | None
    media_type: str | None
    sha256: str | None
    text: str | None


@dataclass
class Report:
    """One row of ``reports``: the document's identity, its :class:`~pipelines.metadata.Metadata`
    (what the document says of itself), its region, text, evidence and statistics summary.
    Unknown values stay None (NULL), never guessed. :meth:`to_row` flattens it into the
    table's columns (the metadata's fields, ``Metadata.raw`` as ``metadata_raw``)."""

    doc_id: str
    url: str | None
    content_sha256: str
    fetched_at: datetime | None
    portal_id: str | None = None
    metadata: Metadata = field(default_factory=Metadata)
    province_code: str | None = None
    province_name: str | None = None
    city_code: str | None = None
    county_code: str | None = None
    region_evidence: str | None = None
    report_key: str | None = None
    text: str | None = None
    encoding_declared: str | None = None
    encoding_detected: str | None = None
    repairs: list[str] = field(default_factory=list)
    unrecoverable_chars: int | None = None
    attachments: list[Attachment] = field(default_factory=list)
    #: URLs of the files (PDF, Word, …) the page links to, whether or not they were there to be
    #: attached: a file that arrives later makes the page's row out of date.
    linked_files: list[str] = field(default_factory=list)
    template: str | None = None
    stats_consistent: bool | None = None
    stats_failed_checks: list[str] = field(default_factory=list)
    stats_cells: int | None = None  # its rows in report_stats
    schema_version: int = SCHEMA_VERSION
    processing_version: int = PROCESSING_VERSION
    input_fingerprint: str | None = None
    #: Its text and statistics normalised (pipelines.changes): equal for one version's fetches.
    content_digest: str | None = None
    #: Set by the load from the document's earlier rows (pipelines.history).
    version: int | None = None
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    ocr_engine: str | None = None
    ocr_engine_version: str | None = None
    ocr_pages: int | None = None
    ocr_confidence: float | None = None
    ocr_low_confidence_pages: list[int] | None = None

    def to_row(self) -> dict:
        """The report's row of ``reports`` as Python values (see :func:`reports_table`)."""
        return reports_table([self]).to_pylist()[0]

    @staticmethod
    def _flat():
        """(column, getter) for every column: the report's fields, the metadata's inlined."""
        for f in dataclasses.fields(Report):
            if f.name != "metadata":
                yield f.name, operator.attrgetter(f.name)
                continue
            for m in dataclasses.fields(Metadata):
                yield _META_COLUMN.get(m.name, m.name), operator.attrgetter(f"metadata.{m.name}")


@functools.cache
def _report_getters() -> dict:
    """Column → getter of a report; TypeError when a field has no column, or the reverse."""
    from pipelines.schema import REPORTS_SCHEMA

    getters = dict(Report._flat())
    if set(getters) != set(REPORTS_SCHEMA.names):
        differ = sorted(set(getters) ^ set(REPORTS_SCHEMA.names))
        raise TypeError(f"Report and REPORTS_SCHEMA disagree on {differ}")
    return getters


def reports_table(reports: list[Report]) -> pa.Table:
    """Reports as rows of ``reports``, built column by column (no dictionary per row)."""
    import pyarrow as pa

    from pipelines.schema import REPORTS_SCHEMA

    getters = _report_getters()
    columns = []
    for column in REPORTS_SCHEMA:
        if column.name == "metadata_raw":
            values = [sorted(r.metadata.raw.items()) for r in reports]  # Arrow maps take pairs
        elif column.name == "attachments":
            values = [[dataclasses.astuple(a) for a in r.attachments] for r in reports]
        else:
            get = getters[column.name]
            values = [get(r) for r in reports]
        columns.append(pa.array(values, type=column.type))
    return pa.Table.from_arrays(columns, schema=REPORTS_SCHEMA)


def stats_table(cells: list[StatCell]) -> pa.Table:
    """Statistical cells as rows of ``report_stats``, column by column."""
    import pyarrow as pa

    from pipelines.schema import REPORT_STATS_SCHEMA

    return pa.Table.from_arrays(
        [pa.array([getattr(c, column.name) for c in cells], type=column.type)
         for column in REPORT_STATS_SCHEMA], schema=REPORT_STATS_SCHEMA)


#: Metadata fields whose column has another name.
_META_COLUMN = {"raw": "metadata_raw"}


@dataclass
class StatCell:
    """One row of ``report_stats``: a statistical cell of a report (filled by the stats stage)."""

    doc_id: str
    table: str
    row_key: str
    column_key: str
    value: Decimal | None
    raw: str | None
    unit: str | None = None
    row_label: str | None = None  # the row's label as printed (Chinese)
    schema_version: int = SCHEMA_VERSION



@dataclass(frozen=True)
class Reject:
    """A document set aside, with the reason; stored under ``rejects/<doc_id>.json``."""

    doc_id: str
    sha256: str
    url: str
    stage: str
    reason: str
    message: str

    def to_json(self) -> dict:
        return dataclasses.asdict(self)


# -- what a crawl remembers and says (written by crawlers/, read by stages and the DAGs) ---------

@dataclass(frozen=True)
class CrawlEntry:
    """What the lake's crawl state holds of one fetched URL (``_crawl/<portal_id>/``): its bytes,
    the validators for a conditional request, what the list said of it (``context``), the
    attachments it links to, the run that landed it. ``alias_of``: this URL was listed but
    redirects to that one (so the next run skips it too)."""

    url: str
    sha256: str
    role: str = "document"
    etag: str | None = None
    last_modified: str | None = None
    fetched_at: str | None = None
    context: ListContext = field(default_factory=dict)
    links: tuple[str, ...] = ()
    run: str | None = None
    alias_of: str | None = None
    #: When a fetch last found what it holds (a landing, or a 304 answer); ISO 8601, UTC.
    checked_at: str | None = None

    @property
    def last_checked(self) -> str:
        """When it was last checked (its fetch, for an entry from before ``checked_at``)."""
        return self.checked_at or self.fetched_at or ""

    def to_json(self) -> dict:
        data = dataclasses.asdict(self)
        data["links"] = list(self.links)
        return data

    @classmethod
    def from_json(cls, data: dict) -> CrawlEntry:
        names = {f.name for f in dataclasses.fields(cls)}
        found = {k: v for k, v in data.items() if k in names}
        found["links"] = tuple(found.get("links") or ())
        found["context"] = dict(found.get("context") or {})
        return cls(**found)


#: A list that announced at least this many entries for each one it yielded reads as a layout
#: the crawler missed (``suspect_empty``), not as a column of news around a few reports.
ANNOUNCED_PER_LISTED = 2


@dataclass(frozen=True)
class PortalOutcome:
    """One portal's part of a crawl manifest (``_runs/<run_id>.json`` → ``portals``): its
    ``counts`` and the URLs behind them. The one place that says what the counts mean."""

    portal_id: str
    counts: dict
    landed: tuple[dict, ...] = ()  # {url, sha256, role, new}
    revalidated: tuple[str, ...] = ()  # URLs a 304 confirmed unchanged
    failures: tuple[dict, ...] = ()  # {url, reason, message}
    blocked: tuple[dict, ...] = ()  # {url, kind, status}: anti-bot walls
    needs_browser: tuple[dict, ...] = ()  # {url, script}: lists a script fills, unread

    @staticmethod
    def judge(counts: dict) -> tuple[str, str | None]:
        """``down`` (no list page fetched), ``needs_browser`` (no report listed, and list
        pages a script fills from an interface no family reads), ``failing`` (the lists named
        reports, but none landed and none was known already: every one failed or was refused),
        ``suspect_empty``, ``partial`` (fewer entries read than the lists announced, more
        than half, the rest behind a script's interface no family reads),
        (lists fetched, but they pointed to no report, or to far fewer than their pagers
        announced, or the pager announced pages that were never read: a layout the crawler does
        not read) or ``ok``; and why."""
        pages, listed = counts.get("list_pages", 0), counts.get("listed")
        if pages == 0:
            return "down", "no list page could be fetched"
        if listed is None:  # a manifest older than the count
            return "ok", None
        if listed == 0 and counts.get("needs_browser"):
            return "needs_browser", (f"{counts['needs_browser']} list page(s) filled by a "
                                     "script from an interface no family reads (see "
                                     "needs_browser): a browser would be needed")
        if listed == 0:
            return "suspect_empty", f"{pages} list page(s) read, no report among their links"
        reached = sum(counts.get(name) or 0 for name in (
            "documents", "attachments", "known_skipped", "not_modified"))
        refused = (counts.get("failed") or 0) + (counts.get("blocked") or 0)
        if not reached and refused:
            return "failing", (f"{listed} report(s) listed, none landed: {refused} request(s) "
                               "failed or were refused (see failures and blocked)")
        items = counts.get("announced_entries") or 0
        if items > ANNOUNCED_PER_LISTED * listed:
            return "suspect_empty", f"the lists announced {items} entries, {listed} read"
        announced_pages = counts.get("announced_pages") or 0
        if announced_pages > pages and not counts.get("list_pages_capped"):
            return "suspect_empty", (f"the pager announced {announced_pages} pages, "
                                     f"{pages} read")
        read = listed + (counts.get("passed_over") or 0)
        if items > read and counts.get("needs_browser"):
            return "partial", (f"the lists announced {items} entries, {read} read (the rest "
                               "behind a script's interface: see needs_browser)")
        return "ok", None

    @property
    def status(self) -> str:
        return self.counts.get("status") or self.judge(self.counts)[0]

    def is_down(self) -> bool:
        """Whether no list page of the portal could be fetched."""
        return self.status == "down"

    def down_reasons(self) -> list[str]:
        """Why a down portal is down: its failure reasons and anti-bot walls, once each."""
        reasons = [f["reason"] for f in self.failures] + \
                  [f"anti_bot:{b['kind']}" for b in self.blocked]
        return list(dict.fromkeys(reasons))

    def to_json(self) -> dict:
        return {"portal_id": self.portal_id, "counts": self.counts,
                "landed": list(self.landed), "revalidated": list(self.revalidated),
                "failures": list(self.failures), "blocked": list(self.blocked),
                "needs_browser": list(self.needs_browser)}

    @classmethod
    def from_json(cls, portal_id: str, data: dict) -> PortalOutcome:
        return cls(portal_id, dict(data["counts"]), tuple(data.get("landed") or ()),
                   tuple(data.get("revalidated") or ()), tuple(data.get("failures") or ()),
                   tuple(data.get("blocked") or ()), tuple(data.get("needs_browser") or ()))


def portal_outcomes(manifest: dict) -> dict[str, PortalOutcome]:
    """The per-portal outcomes of a crawl manifest's JSON, by portal id (read once as
    :attr:`RunManifest.portals` where the manifest comes from the lake)."""
    return {pid: PortalOutcome.from_json(pid, data)
            for pid, data in manifest.get("portals", {}).items()}


@dataclass(frozen=True)
class RunManifest:
    """A run manifest (``_runs/<run_id>.json``, see docs/lake.md) as its readers use it: its
    run, command and start, its ``counts`` (a crawl's or a processing run's), a crawl's
    ``status`` and per-portal outcomes; ``body`` is the whole JSON. Written by the run's own
    record (:class:`pipelines.process.RunResult`, ``crawlers.manifest``); read back with
    :meth:`from_json`, which refuses a shape its readers could not rely on."""

    run_id: str
    command: str
    started_at: str | None
    counts: dict
    status: str | None = None
    portals: dict[str, PortalOutcome] = field(default_factory=dict)
    body: dict = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_json(cls, body) -> RunManifest:
        """The manifest in ``body``; :class:`ValueError` saying what is wrong with its shape."""
        if not isinstance(body, dict):
            raise ValueError(f"a JSON {type(body).__name__}, not an object")
        run_id, command = body.get("run_id"), body.get("command")
        if not isinstance(run_id, str) or not isinstance(command, str):
            raise ValueError("no run_id or command (strings)")
        if not isinstance(body.get("started_at"), str | None):
            raise ValueError("started_at is not a string")
        counts = body.get("counts") or {}
        if not isinstance(counts, dict):
            raise ValueError("counts is not an object")
        portals: dict[str, PortalOutcome] = {}
        if command == "crawl":
            try:
                portals = portal_outcomes(body)
                for outcome in portals.values():
                    outcome.down_reasons()
                    if not isinstance(outcome.status, str):
                        raise TypeError("a portal's status is not a string")
            except (TypeError, KeyError, AttributeError, ValueError) as exc:
                raise ValueError(f"not a crawl manifest's shape ({type(exc).__name__}: "
                                 f"{exc})") from None
        status = body.get("status")
        return cls(run_id, command, body.get("started_at"), counts,
                   status if isinstance(status, str) else None, portals, body)

    @classmethod
    def of(cls, manifest: dict | RunManifest) -> RunManifest:
        return manifest if isinstance(manifest, RunManifest) else cls.from_json(manifest)
