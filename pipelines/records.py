"""Typed records that flow between stages: what was fetched, and what a report became."""

from __future__ import annotations

import dataclasses
import hashlib
import operator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from pipelines.metadata import Metadata
from pipelines.schema import REPORT_STATS_SCHEMA, REPORTS_SCHEMA, SCHEMA_VERSION


def source_id_of(portal_id: str | None, url: str) -> str:
    """The first 16 hex digits of sha256(portal id + newline + URL): a sidecar's and a crawl-state
    entry's key."""
    return hashlib.sha256(f"{portal_id or ''}\n{url}".encode()).hexdigest()[:16]


@dataclass(frozen=True)
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
    context: dict[str, str] = field(default_factory=dict)
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


@dataclass(frozen=True)
class RawDocument:
    """One stored version of one document: its bytes' address and where they came from."""

    sha256: str
    size: int
    source: Source

    @property
    def doc_id(self) -> str:
        """Stable report id. A web document is its URL (a changed page is a new version of the
        same report); a local file is its content (the same file ingested from two paths is one
        report)."""
        basis = self.source.url if self.source.kind == "http" else f"sha256:{self.sha256}"
        return hashlib.sha256(basis.encode()).hexdigest()[:32]


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
    text: str | None = None
    encoding_declared: str | None = None
    encoding_detected: str | None = None
    repairs: list[str] = field(default_factory=list)
    unrecoverable_chars: int | None = None
    attachments: list[Attachment] = field(default_factory=list)
    template: str | None = None
    stats_consistent: bool | None = None
    stats_failed_checks: list[str] = field(default_factory=list)
    schema_version: int = SCHEMA_VERSION

    @staticmethod
    def columns() -> list[str]:
        """The columns a report flattens into, in field order (the schema must list the same)."""
        return [column for column, _ in Report._flat()]

    def to_row(self) -> dict:
        row = {column: value(self) for column, value in self._flat()}
        row["metadata_raw"] = sorted(self.metadata.raw.items())  # Arrow maps take pairs
        row["attachments"] = [dataclasses.asdict(a) for a in self.attachments]
        return {name: row[name] for name in REPORTS_SCHEMA.names}

    @staticmethod
    def _flat():
        """(column, getter) for every column: the report's fields, the metadata's inlined."""
        for f in dataclasses.fields(Report):
            if f.name != "metadata":
                yield f.name, operator.attrgetter(f.name)
                continue
            for m in dataclasses.fields(Metadata):
                yield _META_COLUMN.get(m.name, m.name), operator.attrgetter(f"metadata.{m.name}")


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

    def to_row(self) -> dict:
        row = dataclasses.asdict(self)
        return {name: row[name] for name in REPORT_STATS_SCHEMA.names}


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
