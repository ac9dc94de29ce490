"""One document's work, as a worker process runs it (:mod:`pipelines.workers`): raw bytes →
extracted text → report record and statistical cells.

:func:`extract_document` (bytes in, extracted text out) and :func:`build_report` (extracted
document and its attachments in, record and statistical cells out) are the pure per-document
path; :mod:`pipelines.process` runs them over a batch. Nothing here reads the lake or imports
Arrow: the workers' fork server preloads this module, and every module it pulls in is paid at
the start of every run.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal, InvalidOperation

from pipelines import attachments, stat_tables
from pipelines.changes import content_digest
from pipelines.decode import Decoded, decode
from pipelines.errors import DocumentRejected
from pipelines.extract import POINTER_HANZI, Extracted, extract, needs_decoding
from pipelines.files import is_attachment_url
from pipelines.metadata import (
    document_kind,
    extract_metadata,
    not_a_report,
    parse_date,
    report_key,
    report_year,
)
from pipelines.ocr import OcrRun
from pipelines.records import (
    Attachment,
    ListContext,
    RawDocument,
    Report,
    StatCell,
    input_fingerprint,
)
from pipelines.regions import PROVINCES, resolve_region, split_region
from pipelines.repair import repair_title
from pipelines.rows import readable
from pipelines.versions import VALUE_DIGITS, VALUE_SCALE

_HANZI = re.compile(r"[\u4e00-\u9fff]")


def _basename(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1]


def extract_document(raw: RawDocument, data: bytes,
                     decoded: Decoded | None = None) -> Extracted:
    """Decode (unless ``decoded`` is given), extract and repair one raw document (raises
    :class:`DocumentRejected`)."""
    source = raw.source
    return extract(data, filename=source.filename, headers=source.headers,
                   encoding=source.encoding, url=source.url, decoded=decoded)


def build_report(raw: RawDocument, extracted: Extracted,
                 attached: list[tuple[RawDocument, Extracted | None]] = ()
                 ) -> tuple[Report, list[StatCell]]:
    """The report record (and its statistical cells) of one extracted document and the
    attachments its page links to. A page whose own text is only a pointer to its attachments,
    or whose report was published as pictures, takes their text as the report's."""
    source = raw.source
    text = extracted.text
    attachment_rows = [
        Attachment(url=doc.source.url, filename=doc.source.filename or _basename(doc.source.url),
                   media_type=doc.source.media_type or (ext.kind if ext else None),
                   sha256=doc.sha256, text=readable(ext.text) if ext else None)
        for doc, ext in attached]
    attachment_text = "\n".join(ext.text for _, ext in attached if ext and ext.text)
    from_attachments = bool(attachment_text) and (
        bool(extracted.pictures) or len(_HANZI.findall(text)) < POINTER_HANZI)
    if from_attachments:
        text = attachment_text
    if not _HANZI.search(text):
        raise DocumentRejected("no_text", "no Chinese text: the page only points to files that "
                               "were not fetched or could not be read", stage="report")
    meta = extract_metadata(text, title=extracted.title, meta=extracted.meta,
                            metadata_lines=extracted.metadata_lines, from_files=from_attachments)
    _fill_from_list_page(meta, source.context or {}, text)
    report = Report(
        doc_id=raw.doc_id,
        url=source.url,
        content_sha256=raw.sha256,
        fetched_at=datetime.fromisoformat(source.fetched_at) if source.fetched_at else None,
        portal_id=source.portal_id,
        metadata=meta,
        text=readable(text),
        encoding_declared=extracted.encoding_declared,
        encoding_detected=extracted.encoding_detected,
        repairs=list(extracted.repairs),
        unrecoverable_chars=extracted.unrecoverable_chars,
        attachments=attachment_rows,
        linked_files=sorted({url for url, _label in extracted.links}),
    )
    stats = stat_tables.parse(raw.doc_id, text)
    report.template = stats.template
    report.stats_consistent = stats.consistent
    report.stats_failed_checks = stats.failed_checks + [f"ambiguous: {n}" for n in stats.notes] \
        + [f"missing: {m}" for m in stats.missing]
    report.stats_cells = len(stats.cells)
    for cell in stats.cells:
        if cell.value is not None and not _representable(cell.value):
            # A wrong value is worse than NULL: the cell keeps its raw text, and says why.
            report.stats_failed_checks.append(
                f"unrepresentable: {cell.table} {cell.row_key} {cell.column_key} "
                f"{cell.raw!r} (more than {VALUE_SCALE} decimals or {VALUE_DIGITS} digits)")
            cell.value = None
    # A local file's region is the user's word (ingest --province); a portal's is a hint.
    given = {"override" if source.portal_id is None else "configured": source.region}
    region = resolve_region(
        **given, site_id_code=extracted.meta.get("SiteIDCode"), index_no=meta.index_no,
        agency=meta.issuing_agency, title=meta.title, opening=text[:2000],
        year=meta.report_year)
    if region is not None:
        report.region_evidence = region.evidence
    if region is not None and region.code is not None:
        province, city, county = split_region(region.code)
        report.province_code, report.city_code, report.county_code = province, city, county
        report.province_name = PROVINCES[province]
    report.report_key = report_key(meta.issuing_agency, meta.report_year,
                                   report.county_code or report.city_code or report.province_code)
    _with_ocr(report, [extracted.ocr, *(ext.ocr for _, ext in attached if ext)]
              if from_attachments else [extracted.ocr])
    report.input_fingerprint = input_fingerprint(raw.sha256, source)
    report.content_digest = content_digest(report.text, (
        ((c.table, c.row_key, c.column_key), c.value) for c in stats.cells))
    return report, stats.cells


def _with_ocr(report: Report, runs: list[OcrRun | None]) -> None:
    """The report's OCR columns: what OCR read of the documents its text came from."""
    runs = [run for run in runs if run is not None and run.pages]
    if not runs:
        return
    total = OcrRun(runs[0].engine, runs[0].version)
    for run in runs:
        total.add(run)
    report.ocr_engine, report.ocr_engine_version = total.engine, total.version
    report.ocr_pages, report.ocr_low_confidence_pages = total.pages, total.low_pages
    report.ocr_confidence = round(total.confidence, 4) if total.confidence is not None else None


def _representable(value) -> bool:
    try:
        exact = value == value.quantize(Decimal(1).scaleb(-VALUE_SCALE))
    except InvalidOperation:
        return False
    return exact and abs(value) < Decimal(10) ** (VALUE_DIGITS - VALUE_SCALE)


def extract_or_build(raw: RawDocument, data: bytes,
                     decoded: Decoded | None = None) -> Extracted | tuple[Report, list[StatCell]]:
    """:func:`extract_document`, and for a page that links no file (most pages) the record
    too, in the same worker task: the extracted page need not travel to the caller and back.
    A file, or a page with links, comes back extracted (the batch decides what is attached to
    what)."""
    extracted = extract_document(raw, data, decoded)
    if extracted.links or extracted.kind in attachments.READERS or \
            is_attachment_url(raw.source.url):
        return extracted
    return build_report(raw, extracted)


#: List-page context keys (sidecar ``context``, :class:`~pipelines.records.ListContext`) → the
#: metadata field they stand in for.
LIST_FIELDS = {"title": "title", "index_no": "index_no", "issuing_agency": "issuing_agency",
               "doc_no": "doc_no", "category": "category", "date": "published_date"}


def _fill_from_list_page(meta, context: ListContext, text: str) -> None:
    """What the portal's list page (or list API) said fills only what the document itself
    does not state; ``metadata_raw`` marks each such value ``(list page)``."""
    for key, name in LIST_FIELDS.items():
        # Repaired as the document's own values are: an anchor's text may carry the same
        # markup residue, pinyin annotations or 繁體 as the page (a title printing "</table>").
        found = (context.get(key) or "").strip()
        value = repair_title(found).strip()
        if not value or getattr(meta, name) is not None:
            continue
        parsed = parse_date(value) if name == "published_date" else value
        if parsed is None:
            continue
        setattr(meta, name, parsed)
        meta.raw[name] = f"{found} (list page)"
    if meta.report_year is None and (meta.title or meta.published_date):
        meta.report_year, meta.report_year_evidence = report_year(
            meta.title, text, meta.published_date)
    if "title" in meta.raw and meta.raw["title"].endswith("(list page)"):
        meta.document_kind, meta.document_kind_evidence = document_kind(meta.title, text)
    not_a_report(meta)


def decode_one(raw: RawDocument, data: bytes) -> Decoded | None:
    if not needs_decoding(data, raw.source.filename):
        return None
    attachments.check_size(data, "text")
    return decode(data, headers=raw.source.headers, override=raw.source.encoding)
