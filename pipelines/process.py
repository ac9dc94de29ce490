"""Process: raw documents → report records, in chunks, with rejects.

One document's work (bytes → text → record) is :mod:`pipelines.document`, run in worker
processes. :func:`extract_chunks` reads a work unit's documents chunk by chunk: it links pages
to the attachments they point to, and one bad document is recorded under ``rejects/`` with its
reason and never stops the rest. The stages that plan, run and load a batch are in
:mod:`pipelines.batch`.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.compute as pc

from pipelines import attachments
from pipelines.decode import Decoded
from pipelines.document import build_report, decode_one, extract_or_build
from pipelines.errors import DocumentRejected, LakeDamaged, RejectReason
from pipelines.extract import Extracted
from pipelines.files import is_attachment_url
from pipelines.lake import Lake, Partition
from pipelines.load import LoadResult
from pipelines.ocr import pages_hint
from pipelines.records import (
    RawDocument,
    Reject,
    Report,
    StatCell,
    input_fingerprint,
    new_run_id,
    reports_table,
    stats_table,
)
from pipelines.regions import contradicted
from pipelines.schema import PROCESSING_VERSION, upgraded
from pipelines.settings import current
from pipelines.workers import Workers, guarded

Progress = Callable[[int], None]


@dataclass
class TableState:
    """What the lake's tables hold, read once before a run processes anything."""

    #: Documents whose row needs no new reading (see :func:`table_state`).
    up_to_date: set[str] = field(default_factory=set)
    #: Documents with a readable row, and the readable cells of its partition.
    present: set[str] = field(default_factory=set)
    #: Partitions whose file, in either table, is damaged: rebuilt by the run's load.
    damaged: set[Partition] = field(default_factory=set)


def table_state(lake: Lake, versions: list[RawDocument]) -> TableState:
    """The documents whose row in ``reports`` was built from these very bytes and sidecar
    (``input_fingerprint``) by this :data:`~pipelines.schema.PROCESSING_VERSION`, holds no
    attachments (a page's attachments may have changed without it), and links to no file that
    is among ``versions`` now (a file that arrived after its page, in another command or
    night, joins that page's report): nothing to do for them. A document whose row, or whose
    statistical cells, are in a damaged partition file, or whose cells are not all there
    (``stats_cells``), is neither up to date nor present: it is read again, and its partition
    rebuilt (:func:`healing`)."""
    wanted = {d.doc_id: input_fingerprint(d.sha256, d.source) for d in versions}
    linked_now = {d.source.url for d in versions}
    state = TableState()
    cells: dict[Partition, Counter] = {}
    for part in lake.partitions("report_stats"):
        try:  # read whole: a damaged page of any column is found here, not by the load
            stats = lake.read_partition("report_stats", part)
        except LakeDamaged:
            state.damaged.add(part)
            continue
        if stats is not None:
            cells[part] = Counter(stats["doc_id"].to_pylist())
    for part in lake.partitions("reports"):
        try:
            rows = lake.read_partition("reports", part)
        except LakeDamaged:
            state.damaged.add(part)
            continue
        if rows is None or part in state.damaged:
            continue
        rows = upgraded("reports", rows)
        attached = pc.list_value_length(rows["attachments"]).to_pylist()
        found = cells.get(part, Counter())
        for doc_id, fingerprint, version, count, linked, expected in zip(
                rows["doc_id"].to_pylist(), rows["input_fingerprint"].to_pylist(),
                rows["processing_version"].to_pylist(), attached,
                rows["linked_files"].to_pylist(), rows["stats_cells"].to_pylist(),
                strict=True):
            if expected is not None and found[doc_id] != expected:
                state.damaged.add(part)  # its cells are lost (a file gone): rebuilt
                continue
            state.present.add(doc_id)
            if wanted.get(doc_id) == fingerprint and version == PROCESSING_VERSION \
                    and not count and not linked_now.intersection(linked or ()):
                state.up_to_date.add(doc_id)
    return state


def versions_to_read(lake: Lake, docs: Iterable[RawDocument]
                     ) -> tuple[list[RawDocument], set[str], TableState]:
    """What a run reads of ``docs`` (list pages never: they are kept, not reports): their
    :func:`current_versions` and the copies among them, plus what :func:`healing` adds when
    partitions are damaged; and the tables' state, read once."""
    versions, copies = current_versions(d for d in docs if d.source.role != "list")
    state = table_state(lake, versions)
    extra, extra_copies = healing(lake, versions, state)
    return versions + extra, copies | extra_copies, state


def healing(lake: Lake, versions: list[RawDocument], state: TableState
            ) -> tuple[list[RawDocument], set[str]]:
    """When partitions are damaged: the documents a run must read besides ``versions`` so that
    the load rebuilds those partitions whole (every current document of the raw zone no
    readable row stands for), and the copies among them (:func:`current_versions`)."""
    if not state.damaged:
        return [], set()
    mine = {d.doc_id for d in versions}
    everything, copies = current_versions(
        d for d in lake.raw_documents() if d.source.role != "list")
    return [d for d in everything if d.doc_id not in mine and d.doc_id not in state.present], \
        copies - mine


def chunks(docs: list[RawDocument]) -> Iterator[tuple[list[RawDocument], list[RawDocument]]]:
    """(chunk, the documents after it), ``GOVREPORTS_CHUNK_DOCS`` at a time (a run's memory is
    bounded by what a chunk holds, whatever the number of documents): pages first, files (PDF,
    Word, …) after, so that a page reads the files it links to with it, whichever chunk they
    would fall in; files no page links to are reports of their own."""
    size = current().chunk_docs
    ordered = sorted(docs, key=lambda d: (is_attachment_url(d.source.url), d.source.url))
    for start in range(0, len(ordered), size):
        yield ordered[start:start + size], ordered[start + size:]


def extract_chunks(lake: Lake, docs: list[RawDocument], result: RunResult, *,
                   decoded_for: Callable[[list[RawDocument]], dict] | None = None,
                   keep: Callable[[Report], bool] | None = None,
                   progress: Progress | None = None, held_back: Iterable[RawDocument] = (),
                   jobs: int | None = None) -> Iterator[tuple[pa.Table, pa.Table]]:
    """:func:`extract_batch` over :func:`chunks` of ``docs``: each chunk's rows of ``reports``
    and of ``report_stats``, to be stored and let go before the next. A document a page pulled
    in from a later chunk (or from ``held_back``) is read once; ``decoded_for(chunk)`` gives a
    chunk's decoded texts when a decode stage ran. Once exhausted, ``result.read`` holds every
    document read."""
    waiting = {doc.doc_id: doc for doc in held_back}
    read: list[RawDocument] = []
    taken: set[str] = set()
    for chunk, later in chunks(docs):
        chunk = [d for d in chunk if d.doc_id not in taken]
        result.read = []
        rows = extract_batch(
            lake, chunk, decoded_for(chunk) if decoded_for else None, result, keep=keep,
            progress=progress, jobs=jobs,
            held_back=[*waiting.values(), *(d for d in later if d.doc_id not in taken)])
        for doc in result.read:
            taken.add(doc.doc_id)
            waiting.pop(doc.doc_id, None)
        read.extend(result.read)
        yield rows
    result.read = read

def latest_versions(docs: Iterable[RawDocument]) -> list[RawDocument]:
    """One version per document: the most recently fetched bytes; among equal fetch times the
    smallest URL and sha256, so that the choice never depends on listing order."""
    ordered = sorted(docs, key=lambda d: (d.source.url, d.sha256))
    ordered.sort(key=lambda d: d.source.fetched_at, reverse=True)  # stable: keeps the tie order
    best: dict[str, RawDocument] = {}
    for doc in ordered:
        best.setdefault(doc.doc_id, doc)
    return sorted(best.values(), key=lambda d: d.doc_id)


def current_versions(docs: Iterable[RawDocument]) -> tuple[list[RawDocument], set[str]]:
    """The documents to build rows from, and the ids of the copies among the rest.

    A document is its URL (a web page) or its path (a local file): its current version is its
    latest bytes (:func:`latest_versions`). Local files whose current bytes are identical are
    one report, whatever their paths: the path ingested last stands for them (what it was
    ingested with, ``--province`` say, applies), the smallest among equals; the others are
    copies, whose own rows go."""
    versions = latest_versions(docs)
    by_bytes: dict[str, list[RawDocument]] = {}
    for doc in versions:
        if doc.source.kind == "file":
            by_bytes.setdefault(doc.sha256, []).append(doc)
    copies = set()
    for same in by_bytes.values():
        same.sort(key=lambda d: d.source.url)
        same.sort(key=lambda d: d.source.fetched_at, reverse=True)  # stable: URL order in ties
        copies.update(d.doc_id for d in same[1:])
    return [d for d in versions if d.doc_id not in copies], copies


@dataclass
class RunResult:
    run_id: str
    command: str
    lake: str
    inputs: list[RawDocument] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (input, why) never stored
    #: Reports whose configured region (``ingest --province``, a portal's region) stands
    #: against the document's own place names: the URL and the evidence.
    warnings: list[str] = field(default_factory=list)
    read: list[RawDocument] = field(default_factory=list)  # the inputs processed this time
    attached: set[str] = field(default_factory=set)  # inputs that are a page's attachment
    unchanged: int = 0  # inputs whose rows were up to date: not read again
    #: (province_code, province_name, report_year) → reports built (kept for the summary when
    #: the reports themselves are spooled and let go: see :func:`pipelines.batch.load`).
    built: Counter = field(default_factory=Counter)
    loaded: LoadResult = field(default_factory=LoadResult)
    timings: dict[str, float] = field(default_factory=dict)
    started_at: str = ""
    manifest_key: str | None = None

    def manifest(self) -> dict:
        by_partition: dict[str, int] = {}
        for (province, _name, year), n in self.built.items():
            label = Partition(province, year).label()
            by_partition[label] = by_partition.get(label, 0) + n
        return {
            "run_id": self.run_id,
            "command": self.command,
            "lake": self.lake,
            "started_at": self.started_at,
            "finished_at": datetime.now(UTC).isoformat(),
            "inputs": [{"doc_id": d.doc_id, "sha256": d.sha256, "url": d.source.url,
                        "size": d.size} for d in self.inputs],
            "counts": {
                "inputs": len(self.inputs),
                "reports": sum(self.built.values()),
                "rejects": len(self.rejects),
                "skipped": len(self.skipped),
                "unchanged": self.unchanged,
                "partitions_written": len(self.loaded.written),
                "partitions_deleted": len(self.loaded.deleted),
                "partitions_unchanged": self.loaded.unchanged,
                # processed, but the lake holds a newer version of them already (not loaded)
                "stale_versions": len(self.loaded.stale),
            },
            "reports_by_partition": by_partition,
            "outputs": {"written": self.loaded.written, "deleted": self.loaded.deleted},
            "rejects": [r.to_json() for r in self.rejects],
            "skipped": [{"input": i, "why": w} for i, w in self.skipped],
            "timings_s": {k: round(v, 3) for k, v in self.timings.items()},
            "lease_taken_over": self.loaded.lease_taken_over,
            "warnings": list(self.warnings),
        }


def new_run(command: str, lake: Lake) -> RunResult:
    started = datetime.now(UTC)
    return RunResult(run_id=new_run_id(started), command=command, lake=lake.url,
                     started_at=started.isoformat())


#: Reject reasons that say the raw zone lost or damaged a document's bytes, not that the
#: document is bad: the row it has stays as it was (a row goes only when its document changes).
RAW_DAMAGE = frozenset({RejectReason.RAW_MISSING, RejectReason.RAW_DAMAGED})
#: Reject reasons of a row kept although its document's sidecar is lost or damaged.
SIDECAR_DAMAGE = frozenset({RejectReason.SIDECAR_MISSING, RejectReason.SIDECAR_DAMAGED})


def raw_damaged(rejects: Iterable[Reject]) -> set[str]:
    """The documents among ``rejects`` whose raw bytes are lost or damaged (:data:`RAW_DAMAGE`):
    a load leaves them out of what it lists and keeps their rows, as if they were unchanged."""
    return {r.doc_id for r in rejects if r.reason in RAW_DAMAGE}


def record_load(lake: Lake, result: RunResult) -> None:
    """After the load: the rows it kept although their sidecar is lost or damaged become
    rejects (the row stays; the reject says why its document could not be read), and what it
    set aside or removed, and the damaged objects the run met, become warnings."""
    known = lake.rejects() if result.loaded.kept_unsourced else {}
    for doc_id, sha256, url, reason in result.loaded.kept_unsourced:
        what = "missing" if reason == "sidecar_missing" else "damaged"
        reject = Reject(doc_id, sha256, url, "load", reason,
                        f"the sidecar of {doc_id} is {what}: its row is kept; fetch or ingest "
                        "the document again (`govreports doctor` lists the raw zone's damage)")
        lake.put_reject(reject, known.get(doc_id))
        result.rejects.append(reject)
    result.warnings += result.loaded.warnings()
    result.warnings += [f"skipped damaged {d.line()}" for d in lake.damage.values()
                        if d.key not in result.loaded.quarantined]


def _with_bytes(lake: Lake, doc: RawDocument, *more) -> tuple | DocumentRejected:
    """A document's arguments for a worker: itself and its raw bytes (and ``more``), or the
    reject when its bytes are gone from the raw zone (a sidecar without its object) or are not
    the bytes its sidecar recorded (bit rot, a cut or emptied object: they never become a
    row that claims the recorded sha256)."""
    try:
        data = lake.read_raw_checked(doc.sha256)
    except KeyError:
        return DocumentRejected("raw_missing", f"{lake.raw_key(doc.sha256)} is missing from "
                                "the lake: fetch or ingest the document again (its row, if "
                                "any, is kept)", stage="read")
    except LakeDamaged as damage:
        return DocumentRejected("raw_damaged", f"{damage}, not the {doc.size} bytes recorded: "
                                "the raw object is damaged; fetch or ingest the document again "
                                "(its row, if any, is kept)", stage="read")
    return (doc, data, *more)


def decode_batch(lake: Lake, docs: list[RawDocument], result: RunResult,
                 progress: Progress | None = None) -> dict[str, Decoded | None]:
    """Encoding repair: each text document's bytes → text with its charset evidence (None for
    file formats whose readers decode themselves). Undecodable documents are rejected (stage
    ``decode``) and left out of the answer."""
    known_rejects = lake.rejects()
    decoded: dict[str, Decoded | None] = {}
    by_id = {doc.doc_id: doc for doc in docs}
    with Workers() as workers:
        inputs = ((doc.doc_id, _with_bytes(lake, doc)) for doc in docs)
        for doc_id, outcome in workers.run("decode", decode_one, inputs,
                                            count=len(docs)):
            if isinstance(outcome, DocumentRejected):
                _reject(lake, by_id[doc_id], outcome, result, known_rejects)
            else:
                decoded[doc_id] = outcome
            if progress:
                progress(1)
    return decoded


def extract_batch(lake: Lake, docs: list[RawDocument],
                  decoded: dict[str, Decoded | None] | None, result: RunResult, *,
                  keep: Callable[[Report], bool] | None = None,
                  progress: Progress | None = None,
                  held_back: Iterable[RawDocument] = (),
                  jobs: int | None = None) -> tuple[pa.Table, pa.Table]:
    """Extraction: text, metadata, attachments and statistics of the documents, decoded by
    :func:`decode_batch` (``decoded``) or, when it is None, here as each is read. Files a page
    of the batch links to become its attachments; every other document a report. Returns the
    rows of ``reports`` and ``report_stats`` of the reports ``keep`` accepts.

    Each document's steps run in a worker (:mod:`pipelines.workers`): whatever goes wrong with
    one document rejects that document only.

    ``held_back`` documents (unchanged since they were processed) are left alone unless a page
    of the batch links to one: then it is read with the batch (it may have become that page's
    attachment) and appended to ``docs``."""
    known_rejects = lake.rejects()
    docs = list(docs)
    by_id = {doc.doc_id: doc for doc in docs}
    extracted: dict[str, Extracted | None] = {doc.doc_id: None for doc in docs}
    failed: set[str] = set()
    todo = [doc for doc in docs if decoded is None or doc.doc_id in decoded]  # else rejected
    # Rejected by the decode stage: their rejects stand (this stage never read them).
    failed.update(doc.doc_id for doc in docs if decoded is not None and doc.doc_id not in decoded)
    waiting = {doc.source.url: doc for doc in held_back}
    built: dict[str, tuple[Report, list[StatCell]]] = {}
    scan_time = _scan_time(current().ocr_page_seconds)
    with Workers(jobs) as workers:
        while todo:
            inputs = ((doc.doc_id, _with_bytes(lake, doc, None if decoded is None
                                               else decoded.get(doc.doc_id)))
                      for doc in todo)
            for doc_id, outcome in workers.run("extract", extract_or_build, inputs,
                                                count=len(todo), extra_time=scan_time):
                if isinstance(outcome, DocumentRejected):
                    _reject(lake, by_id[doc_id], outcome, result, known_rejects)
                    failed.add(doc_id)
                elif isinstance(outcome, tuple):  # a page that links no file: built already
                    built[doc_id] = outcome
                else:
                    extracted[doc_id] = outcome
                if progress:
                    progress(1)
            linked = {url for doc in todo if extracted[doc.doc_id] is not None
                      for url, _label in extracted[doc.doc_id].links}
            todo = [waiting.pop(url) for url in sorted(linked & waiting.keys())]
            for doc in todo:  # pulled in: read with the batch after all
                docs.append(doc)
                by_id[doc.doc_id] = doc
                extracted[doc.doc_id] = None
        by_url = {doc.source.url: doc for doc in docs}
        attached_to: dict[str, list[RawDocument]] = {}
        for doc in docs:
            page = extracted[doc.doc_id]
            for url, _label in page.links if page else ():
                target = by_url.get(url)
                if target is None or target.doc_id == doc.doc_id:
                    continue
                found = extracted[target.doc_id]
                if found is not None and found.kind not in attachments.READERS:
                    continue  # a linked page (whatever its URL says) is a document of its own
                attached_to.setdefault(doc.doc_id, []).append(target)
        attachment_ids = {a.doc_id for targets in attached_to.values() for a in targets}
        result.attached |= attachment_ids
        pages = ((doc.doc_id, (doc, extracted[doc.doc_id],
                               [(a, extracted[a.doc_id]) for a in attached_to.get(doc.doc_id, [])]))
                 for doc in docs
                 if extracted[doc.doc_id] is not None and doc.doc_id not in attachment_ids)
        outcomes, report_rows, cell_rows = loadable(itertools.chain(
            built.items(), workers.run("report", build_report, pages)))
        kept: list[int] = []  # rows of report_rows, and of cell_rows, to load
        kept_cells: list[int] = []
        row = cell_row = 0
        for doc_id, outcome in outcomes:
            if isinstance(outcome, DocumentRejected):
                _reject(lake, by_id[doc_id], outcome, result, known_rejects)
                failed.add(doc_id)
                continue
            report, cells = outcome
            if keep is None or keep(report):
                if contradicted(report.region_evidence):
                    result.warnings.append(f"{report.url}: {report.region_evidence}")
                result.built[(report.province_code, report.province_name,
                              report.metadata.report_year)] += 1
                kept.append(row)
                kept_cells.extend(range(cell_row, cell_row + len(cells)))
            row += 1
            cell_row += len(cells)
    for doc in docs:
        if doc.doc_id not in failed and doc.doc_id in known_rejects:
            lake.delete_reject(doc.doc_id)
    result.read = docs
    return (report_rows.take(pa.array(kept, type=pa.int64())),
            cell_rows.take(pa.array(kept_cells, type=pa.int64())))


def _scan_time(per_page: float) -> Callable[[tuple], float]:
    """A document's time to extract beyond ``GOVREPORTS_DOC_TIMEOUT``: ``per_page``
    (``GOVREPORTS_OCR_PAGE_SECONDS``) for each page OCR may read (:func:`pipelines.ocr.pages_hint`;
    ``args``: a worker's, the document and its bytes)."""
    return lambda args: per_page * pages_hint(args[1])


def _as_tables(report: Report, cells: list[StatCell]) -> None:
    reports_table([report])
    stats_table(cells)


def _tables(outcomes: list[tuple[str, object]]) -> tuple[pa.Table, pa.Table]:
    """The rows of the records among ``outcomes`` (rejects left out), in their order."""
    built = [outcome for _, outcome in outcomes if not isinstance(outcome, DocumentRejected)]
    return (reports_table([report for report, _ in built]),
            stats_table([cell for _, cells in built for cell in cells]))


def loadable(outcomes: Iterable[tuple[str, object]]
             ) -> tuple[list[tuple[str, object]], pa.Table, pa.Table]:
    """The workers' records converted to the tables' Arrow types, once, here (the staging
    stores these rows): a value the lake cannot hold rejects its document, not the whole
    batch at load time. Returns the outcomes (a record that does not convert becomes its
    reject) and the rows of their records. The records are converted together (a tenth of the
    cost of one by one); only when that fails is each tried alone, to find the one at fault."""
    outcomes = list(outcomes)
    try:
        return outcomes, *_tables(outcomes)
    except Exception:  # noqa: BLE001 - which document, and why, is found one by one below
        pass
    checked = []
    for doc_id, outcome in outcomes:
        if not isinstance(outcome, DocumentRejected):
            try:
                guarded("report", _as_tables, *outcome)
            except DocumentRejected as exc:
                outcome = exc
        checked.append((doc_id, outcome))
    return checked, *_tables(checked)


def _reject(lake: Lake, doc: RawDocument, exc: DocumentRejected, result: RunResult,
            known_rejects: dict[str, dict]) -> None:
    reject = Reject(doc.doc_id, doc.sha256, doc.source.url, exc.stage, exc.reason, str(exc))
    lake.put_reject(reject, known_rejects.get(doc.doc_id))
    result.rejects.append(reject)
