"""Process: raw documents → report records → lake partitions, with rejects and a run manifest.

:func:`build_report` is the pure per-document path (bytes in, record out). :func:`run` drives a
batch: one bad document is recorded under ``rejects/`` with its reason and never stops the rest.
"""

from __future__ import annotations

import dataclasses
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from pipelines.errors import DocumentRejected
from pipelines.extract import extract
from pipelines.lake import Lake, Partition
from pipelines.load import LoadResult, load, partition_of
from pipelines.metadata import extract_metadata
from pipelines.records import RawDocument, Reject, Report, StatCell
from pipelines.regions import PROVINCES, is_region_code, split_region

Progress = Callable[[int], None]


def build_report(raw: RawDocument, data: bytes) -> tuple[Report, list[StatCell]]:
    """The report record (and its statistical cells) of one raw document.

    Raises :class:`DocumentRejected` when the bytes hold no usable text.
    """
    source = raw.source
    extracted = extract(data, filename=source.filename, headers=source.headers,
                        encoding=source.encoding)
    meta = extract_metadata(extracted.text, title=extracted.title, meta=extracted.meta)
    report = Report(
        doc_id=raw.doc_id,
        url=source.url,
        content_sha256=raw.sha256,
        fetched_at=datetime.fromisoformat(source.fetched_at) if source.fetched_at else None,
        portal_id=source.portal_id,
        **{f.name: getattr(meta, f.name) for f in dataclasses.fields(meta) if f.name != "raw"},
        text=extracted.text,
        encoding_declared=extracted.encoding_declared,
        encoding_detected=extracted.encoding_detected,
        repairs=list(extracted.repairs),
        unrecoverable_chars=extracted.unrecoverable_chars,
        template="unknown",
    )
    if is_region_code(source.region):
        province, city, county = split_region(source.region)
        report.province_code, report.city_code, report.county_code = province, city, county
        report.province_name = PROVINCES[province]
        report.region_evidence = f"configured region {source.region}"
    return report, []


def latest_versions(docs: Iterable[RawDocument]) -> list[RawDocument]:
    """One version per document: the most recently fetched bytes; among equal fetch times the
    smallest URL and sha256, so that the choice never depends on listing order."""
    ordered = sorted(docs, key=lambda d: (d.source.url, d.sha256))
    ordered.sort(key=lambda d: d.source.fetched_at, reverse=True)  # stable: keeps the tie order
    best: dict[str, RawDocument] = {}
    for doc in ordered:
        best.setdefault(doc.doc_id, doc)
    return sorted(best.values(), key=lambda d: d.doc_id)


@dataclass
class RunResult:
    run_id: str
    command: str
    lake: str
    inputs: list[RawDocument] = field(default_factory=list)
    reports: list[Report] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (input, why) never stored
    loaded: LoadResult = field(default_factory=LoadResult)
    timings: dict[str, float] = field(default_factory=dict)
    started_at: str = ""
    manifest_key: str | None = None

    def manifest(self) -> dict:
        by_partition: dict[str, int] = {}
        for report in self.reports:
            label = partition_of(report).label()
            by_partition[label] = by_partition.get(label, 0) + 1
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
                "reports": len(self.reports),
                "rejects": len(self.rejects),
                "skipped": len(self.skipped),
                "partitions_written": len(self.loaded.written),
                "partitions_deleted": len(self.loaded.deleted),
                "partitions_unchanged": self.loaded.unchanged,
            },
            "reports_by_partition": by_partition,
            "outputs": {"written": self.loaded.written, "deleted": self.loaded.deleted},
            "rejects": [r.to_json() for r in self.rejects],
            "skipped": [{"input": i, "why": w} for i, w in self.skipped],
            "timings_s": {k: round(v, 3) for k, v in self.timings.items()},
        }


def new_run(command: str, lake: Lake) -> RunResult:
    now = datetime.now(UTC)
    run_id = f"{now:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"
    return RunResult(run_id=run_id, command=command, lake=lake.url, started_at=now.isoformat())


def run(lake: Lake, docs: Iterable[RawDocument], result: RunResult, *,
        rebuild: Callable[[Partition], bool] | None = None,
        keep: Callable[[Report], bool] | None = None,
        progress: Progress | None = None) -> RunResult:
    """Process raw documents into the lake and write the run manifest.

    ``keep`` filters which built reports are loaded (``process --province``); ``rebuild`` marks
    partitions replaced wholesale. Rejected documents keep whatever row they had before.
    """
    started = time.perf_counter()
    versions = latest_versions(docs)
    result.inputs = versions
    known_rejects = lake.rejects()
    stats: list[StatCell] = []
    for doc in versions:
        try:
            report, cells = build_report(doc, lake.read_raw(doc.sha256))
        except DocumentRejected as exc:
            reject = Reject(doc.doc_id, doc.sha256, doc.source.url, exc.stage, exc.reason,
                            str(exc))
            lake.put_reject(reject, known_rejects.get(doc.doc_id))
            result.rejects.append(reject)
        else:
            if keep is None or keep(report):
                result.reports.append(report)
                stats.extend(cells)
            if doc.doc_id in known_rejects:
                lake.delete_reject(doc.doc_id)
        if progress:
            progress(1)
    result.timings["process"] = time.perf_counter() - started
    started = time.perf_counter()
    result.loaded = load(lake, result.reports, stats, rebuild=rebuild)
    result.timings["load"] = time.perf_counter() - started
    result.manifest_key = lake.write_manifest(result.run_id, result.manifest())
    return result
