"""One batch of processing, whichever driver runs it: plan → (decode) → extract → load.

The CLI (``ingest``, ``process``, ``run``, ``doctor --repair``) runs these stage functions in
one process (:func:`run`); Airflow maps the same functions over work units through the thin
adapters of :mod:`pipelines.stages`, which keep the records below under ``_work/<batch>/``.
What travels between the stages is typed: the batch's :class:`Scope`, its :class:`Plan`, and
each unit's :class:`UnitDone` (counts come from these records, never from a process's output).

A unit's rows go to a :class:`~pipelines.spool.Spool` (in one process) or to staged Parquet
files (:mod:`pipelines.stages`, for tasks on other workers); the load merges them. Decoding is
a stage of its own only for a scheduler (a retry of a unit's extract then reads the decoded
texts again); in one process each document is decoded where it is extracted, its bytes read
once.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

import pyarrow as pa

from pipelines import load as loading
from pipelines import process
from pipelines.errors import ConfigError
from pipelines.history import Sighting, sightings
from pipelines.lake import Lake, Partition
from pipelines.records import RawDocument, Reject, Report, Source
from pipelines.settings import current
from pipelines.spool import Spool


def work_units(docs: list[RawDocument], size: int) -> list[list[int]]:
    """Indexes of ``docs`` per work unit: each portal's documents together while they fit in
    ``size`` (a page and the files it links to come from one portal, so they are read in one
    unit), portals packed in order; a larger portal is cut, in URL order, into units of its
    own (neighbouring URLs: a page and its files are usually in one folder). A page that links
    to a file of another unit still reads it (:func:`extract_unit` holds the batch's other
    documents back for that) and the load drops that file's own row. Never empty: an empty
    batch is one empty unit, so that its load runs and records the run."""
    by_portal: dict[str, list[int]] = {}
    for i, doc in sorted(enumerate(docs), key=lambda pair: pair[1].source.url):
        by_portal.setdefault(doc.source.portal_id or "", []).append(i)
    units: list[list[int]] = []
    filling: list[int] = []
    for _portal, indexes in sorted(by_portal.items()):
        if len(indexes) > size:
            units.extend(indexes[start:start + size] for start in range(0, len(indexes), size))
            continue
        if len(filling) + len(indexes) > size:
            units.append(filling)
            filling = []
        filling.extend(indexes)
    if filling or not units:
        units.append(filling)
    return units

#: The earliest year a scope or ``process --year`` may name. Reports under the State Council's
#: regulation exist from 2008 (:data:`pipelines.regions.FIRST_REPORT_YEAR`), but local rules
#: asked for disclosure reports in the 1990s already.
EARLIEST_REPORT_YEAR = 1990


def check_report_year(year: int, what: str = "year") -> int:
    """``year`` when it can be a report's year (:data:`EARLIEST_REPORT_YEAR` … next year: a report
    covers a year that has begun); :class:`ConfigError` naming ``what`` otherwise."""
    last = date.today().year + 1
    if not EARLIEST_REPORT_YEAR <= year <= last:
        raise ConfigError(f"{what} {year} is not a report year: give one from "
                          f"{EARLIEST_REPORT_YEAR} to {last}")
    return year


@dataclass(frozen=True)
class Scope:
    """Which reports a batch keeps (all, when empty): provinces, report years, portals and a
    window of publication dates. A reprocess of provinces and years rebuilds those partitions
    wholesale; portals and dates name rows, which are upserted."""

    provinces: tuple[str, ...] = ()
    years: tuple[int, ...] = ()
    portals: tuple[str, ...] = ()
    published_from: str | None = None
    published_to: str | None = None

    @classmethod
    def of(cls, provinces=(), years=(), published_from: str | None = None,
           published_to: str | None = None, portals=()) -> Scope:
        """A checked scope: each value names what is wrong with it."""
        scope = cls(tuple(sorted({str(p) for p in provinces or ()})),
                    tuple(sorted({int(y) for y in years or ()})),
                    tuple(sorted({str(p) for p in portals or ()})),
                    published_from or None, published_to or None)
        for year in scope.years:
            check_report_year(year)
        for province in scope.provinces:
            if not re.fullmatch(r"[0-9]{2}0000", province):
                raise ConfigError(f"province {province!r} must be a province-level GB/T 2260 "
                                  "code such as 530000")
        for name in ("published_from", "published_to"):
            value = getattr(scope, name)
            if value:
                try:
                    date.fromisoformat(value)
                except ValueError:
                    raise ConfigError(f"{name} {value!r} must be a date, YYYY-MM-DD") from None
        return scope

    def keeps(self, report: Report) -> bool:
        if self.provinces and report.province_code not in self.provinces:
            return False
        if self.years and report.metadata.report_year not in self.years:
            return False
        if self.portals and report.portal_id not in self.portals:
            return False
        published = report.metadata.published_date
        published = published.isoformat() if published else None
        if self.published_from and (published is None or published < self.published_from):
            return False
        return not (self.published_to and (published is None
                                           or published > self.published_to))

    def partitions(self) -> Callable[[Partition], bool] | None:
        """The partitions a reprocess of this scope rebuilds wholesale; None when the scope
        names rows (portals, dates), which are upserted."""
        if self.portals or self.published_from or self.published_to:
            return None
        return lambda part: ((not self.provinces or part.province in self.provinces)
                             and (not self.years or part.year in self.years))

    def to_json(self) -> dict:
        return {"provinces": list(self.provinces), "years": list(self.years),
                "portals": list(self.portals), "published_from": self.published_from,
                "published_to": self.published_to}

    @classmethod
    def from_json(cls, body: dict | Scope | None) -> Scope:
        if isinstance(body, Scope):
            return body
        return cls.of(**(body or {}))


@dataclass
class Plan:
    """The documents of a batch and how they are split into work units.

    ``documents`` are the current versions the batch stands for; ``units`` index the ones to
    read; the others (``held``) are up to date and read only when a page of the batch links
    to one. ``rebuild``: the scope's partitions are replaced wholesale (a reprocess), else the
    batch's rows are upserted (a crawl's batch, an ingest). ``heal``: damaged partitions,
    rebuilt whatever the scope."""

    batch: str
    scope: Scope = field(default_factory=Scope)
    documents: list[RawDocument] = field(default_factory=list)
    units: list[list[int]] = field(default_factory=lambda: [[]])
    held: set[str] = field(default_factory=set)
    copies: set[str] = field(default_factory=set)
    heal: set[Partition] = field(default_factory=set)
    rebuild: bool = False
    crawl_manifests: list[str] | None = None
    #: What the crawl state says of the documents now: their rows' ``last_seen`` moves there.
    seen: dict[str, Sighting] = field(default_factory=dict)

    def unit_documents(self, unit: int) -> tuple[list[RawDocument], list[RawDocument]]:
        """A unit's documents, and the batch's others (which its pages may link to)."""
        mine = set(self.units[self.check_unit(unit)])
        return ([d for i, d in enumerate(self.documents) if i in mine],
                [d for i, d in enumerate(self.documents) if i not in mine])

    def check_unit(self, unit: int) -> int:
        """``unit``, when the plan has it; a :class:`ConfigError` saying so otherwise."""
        if not 0 <= unit < len(self.units):
            raise ConfigError(f"batch {self.batch!r} has {len(self.units)} work unit(s), not a "
                              f"unit {unit}: plan it again")
        return unit

    def keep(self) -> Callable[[Report], bool]:
        """Which built reports the batch loads: its scope's, and every report landing in a
        partition it heals."""
        keeps, heal = self.scope.keeps, self.heal
        if not heal:
            return keeps
        return lambda report: keeps(report) or Partition.of(report) in heal

    def rebuilds(self) -> Callable[[Partition], bool] | None:
        return self.scope.partitions() if self.rebuild else None

    def to_json(self) -> dict:
        return {"batch": self.batch, "scope": self.scope.to_json(),
                "crawl_manifests": self.crawl_manifests, "rebuild": self.rebuild,
                # Each document's sidecar too: a unit's task builds its documents (and the
                # batch's others, which its pages may link to) from this one file.
                "documents": [{"sha256": d.sha256, "source_id": d.source.source_id,
                               "size": d.size, "source": d.source.to_json()}
                              for d in self.documents],
                "held": sorted(self.held), "copies": sorted(self.copies),
                "heal": [[p.province, p.year] for p in sorted(self.heal,
                                                              key=Partition.sort_key)],
                "units": self.units,
                "seen": {doc_id: s.to_json() for doc_id, s in sorted(self.seen.items())}}

    @classmethod
    def from_json(cls, body: dict, lake: Lake) -> Plan:
        documents = [RawDocument(d["sha256"], d["size"], Source.from_json(d["source"]))
                     if "source" in d
                     else lake.raw_document(d["sha256"], d["source_id"])  # before sidecars
                     for d in body["documents"]]
        crawl_manifests = body.get("crawl_manifests")
        return cls(body["batch"], Scope.from_json(body.get("scope")), documents,
                   body.get("units") or [list(range(len(documents)))],  # planned before units
                   set(body.get("held", ())), set(body.get("copies", ())),
                   {Partition(p, y) for p, y in body.get("heal", ())},
                   body.get("rebuild", crawl_manifests is None), crawl_manifests,
                   {doc_id: Sighting.from_json(s) for doc_id, s in body.get("seen", {}).items()})


@dataclass
class UnitDone:
    """What a stage did with one work unit: its counts, its rejects, and what the load needs
    of it (the documents it read, the files its pages took in as attachments)."""

    unit: int
    stage: str  # decode | extract
    counts: dict[str, int] = field(default_factory=dict)
    rejects: list[Reject] = field(default_factory=list)
    read: list[str] = field(default_factory=list)
    attached: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return {"unit": self.unit, "stage": self.stage, "counts": self.counts,
                "rejects": [r.to_json() for r in self.rejects], "read": self.read,
                "attached": self.attached, "warnings": self.warnings}

    @classmethod
    def from_json(cls, body: dict) -> UnitDone:
        return cls(body["unit"], body["stage"], dict(body.get("counts") or {}),
                   [Reject(**r) for r in body.get("rejects") or ()], list(body.get("read") or ()),
                   list(body.get("attached") or ()), list(body.get("warnings") or ()))


# -- the stages ---------------------------------------------------------------------------------

def plan(lake: Lake, docs: Iterable[RawDocument], *, batch: str, scope: Scope | None = None,
         rebuild: bool = False, force: bool = True, unit_size: int | None = None,
         crawl_manifests: list[str] | None = None,
         crawl_states: dict[str, dict] | None = None) -> Plan:
    """Plan a batch over ``docs``: their current versions (and, when partitions are damaged,
    the documents that rebuild them whole: :func:`pipelines.process.healing`), split into
    work units of ``unit_size`` documents (one unit when None). Unless ``force``, documents
    whose rows are up to date are held, not read; a document set aside for lost or damaged
    raw bytes or sidecar is read again, so that its reject goes once they are sound.
    ``crawl_states``: the crawl states the caller has read (:meth:`Lake.crawl_state`)."""
    versions, copies, state = process.versions_to_read(lake, docs)
    held = set() if force else state.up_to_date - {
        doc_id for doc_id, reject in lake.rejects().items()
        if reject.get("reason") in process.RAW_DAMAGE | process.SIDECAR_DAMAGE}
    to_read = [i for i, d in enumerate(versions) if d.doc_id not in held]
    size = unit_size or max(1, len(to_read))
    units = [[to_read[i] for i in unit]
             for unit in work_units([versions[i] for i in to_read], size)]
    return Plan(batch, scope or Scope(), versions, units, held, copies, state.damaged, rebuild,
                crawl_manifests, sightings(lake, versions, crawl_states))


class Staging(Protocol):
    """Where a unit's rows go, a chunk at a time: a :class:`~pipelines.spool.Spool` in one
    process, staged files in the lake for a scheduler's tasks."""

    def add_tables(self, reports: pa.Table, cells: pa.Table) -> None: ...


def extract_unit(lake: Lake, plan: Plan, unit: int, staging: Staging, *,
                 decoded_for: Callable[[list[RawDocument]], dict] | None = None,
                 progress: process.Progress | None = None,
                 jobs: int | None = None) -> UnitDone:
    """Text, metadata, attachments and statistics of one unit's documents, chunk by chunk into
    ``staging`` (each chunk's rows let go before the next). ``decoded_for`` gives a chunk's texts
    when a decode stage ran; else each document is decoded as it is extracted."""
    mine, others = plan.unit_documents(unit)
    result = process.new_run("extract", lake)
    reports = cells = 0
    for chunk_reports, chunk_cells in process.extract_chunks(
            lake, mine, result, decoded_for=decoded_for, keep=plan.keep(), progress=progress,
            held_back=others, jobs=jobs):
        staging.add_tables(chunk_reports, chunk_cells)
        reports += chunk_reports.num_rows
        cells += chunk_cells.num_rows
    return UnitDone(unit, "extract", {"reports": reports, "cells": cells,
                                      "rejected": len(result.rejects)},
                    result.rejects, sorted(d.doc_id for d in result.read),
                    sorted(result.attached), result.warnings)


def load(lake: Lake, plan: Plan, spool: Spool, done: list[UnitDone],
         result: process.RunResult) -> process.RunResult:
    """Merge what the units spooled into the partitions (upserted, or the scope rebuilt
    wholesale), record what the load kept or set aside, and write the run manifest."""
    rejects = [r for unit in done for r in unit.rejects]
    damaged = process.raw_damaged(rejects)
    read = {doc_id for unit in done if unit.stage == "extract" for doc_id in unit.read}
    listed = [d for d in plan.documents if d.doc_id in read and d.doc_id not in damaged]
    listed_ids = {d.doc_id for d in listed}
    absorbed = {doc_id for unit in done for doc_id in unit.attached} | plan.copies
    result.inputs = plan.documents
    result.unchanged = len(plan.held)
    result.rejects = rejects
    result.attached = absorbed - plan.copies
    result.warnings += [w for unit in done for w in unit.warnings]
    where = {d: part for d, part in spool.where.items() if d not in absorbed}
    result.built = Counter((part.province, spool.names.get(part.province), part.year)
                           for part in where.values())
    started = time.perf_counter()
    result.loaded = loading.load(
        lake, spool, rebuild=plan.rebuilds(),
        listed=[(d.doc_id, d.sha256, d.source.url) for d in listed],
        unchanged=[(d.doc_id, d.sha256) for d in plan.documents if d.doc_id not in listed_ids],
        absorbed=absorbed, seen=plan.seen, run_id=result.run_id, command=result.command)
    process.record_load(lake, result)
    result.timings["load"] = time.perf_counter() - started
    manifest = result.manifest()
    manifest.update(batch=plan.batch, scope=plan.scope.to_json(),
                    crawl_manifests=plan.crawl_manifests)
    result.manifest_key = lake.write_manifest(result.run_id, manifest)
    return result


def run(lake: Lake, docs: Iterable[RawDocument], result: process.RunResult, *,
        scope: Scope | None = None, rebuild: bool = False,
        progress: process.Progress | None = None, force: bool = False,
        jobs: int | None = None,
        crawl_states: dict[str, dict] | None = None) -> process.RunResult:
    """Every stage of a batch in this process: the CLI's ``ingest``, ``process`` and ``run``.

    ``scope`` filters which built reports are loaded (``process --province``); with
    ``rebuild`` its partitions are replaced wholesale. Rejected documents keep whatever row
    they had before. Documents whose row was built from the same bytes by the same processing
    version are not read again (they keep their rows) unless ``force``. A damaged partition
    file of either table is rebuilt whole, whatever the scope, and the load sets the file's
    bytes aside under ``_quarantine/``."""
    started = time.perf_counter()
    planned = plan(lake, docs, batch=result.run_id, scope=scope, rebuild=rebuild, force=force,
                   crawl_states=crawl_states)
    if progress and planned.held:
        progress(len(planned.held))
    to_read = sum(len(unit) for unit in planned.units)
    spool = Spool.on_disk() if to_read > current().chunk_docs else Spool()
    try:
        done = [extract_unit(lake, planned, unit, spool, progress=progress, jobs=jobs)
                for unit in range(len(planned.units))]
        result.timings["process"] = time.perf_counter() - started
        load(lake, planned, spool, done, result)
    finally:
        spool.close()
    return result
