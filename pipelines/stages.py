"""The pipeline as separate stages, for a scheduler (the Airflow DAGs in ``dags/``).

Each stage reads its inputs from the lake, writes its outputs there and returns only keys and
counts (what an XCom may carry). A *batch* names one piece of work; its files live under
``_work/<batch>/``, so running a stage again on the same batch rewrites the same keys and a
retry of one stage never needs the others again::

    plan     crawl manifests or a scope  → _work/<batch>/plan.json         documents, work units
    decode   one unit's raw bytes        → _work/<batch>/decoded/…         text + charset evidence
    extract  one unit, decoded           → _work/<batch>/units/<u>/reports-NNNNN.parquet, …
    load     every unit's staged rows    → reports/, report_stats/ partitions, _runs/<run>.json

A *work unit* is a bounded number of documents (``GOVREPORTS_UNIT_DOCS``), a portal's documents
together while they fit: decode and extract run once per unit (Airflow maps them over the
units, on any worker), and a retried unit redoes only its own work. The load, one task, merges
what every unit staged, one partition at a time under the lake's load lease. Rejected documents
are recorded under ``rejects/`` by the stage that rejects them (and in
``_work/<batch>/units/<u>/<stage>-rejects.json`` for the run manifest). ``process.run`` is the
same path in one process, for the CLI.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import asdict
from datetime import date

import pyarrow as pa
import pyarrow.parquet as pq

from pipelines import process
from pipelines.decode import Decoded
from pipelines.errors import ConfigError
from pipelines.lake import Lake, Partition
from pipelines.load import load_spooled
from pipelines.records import (
    RawDocument,
    Reject,
    Report,
    Source,
    reports_table,
    stats_table,
)
from pipelines.settings import number
from pipelines.spool import Spool

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
#: A batch id's length at most (before the hash of a changed id): one part of a lake key.
BATCH_ID_CHARS = 100

#: Documents per work unit at most (``GOVREPORTS_UNIT_DOCS``): the grain of the mapped decode and
#: extract tasks, and what a retry of one of them redoes.
UNIT_DOCS = 200


def unit_docs() -> int:
    return int(number("GOVREPORTS_UNIT_DOCS", UNIT_DOCS, 1))


def work_units(docs: list[RawDocument], size: int) -> list[list[int]]:
    """Indexes of ``docs`` per work unit: each portal's documents together while they fit in
    ``size`` (a page and the files it links to come from one portal, so they are read in one
    unit), portals packed in order; a larger portal is cut, in URL order, into units of its
    own (neighbouring URLs: a page and its files are usually in one folder). A page that links
    to a file of another unit still reads it (:func:`extract` holds the batch's other documents
    back for that) and the load drops that file's own row. Never empty: an empty batch is one
    empty unit, so that its load runs and records the run."""
    by_portal: dict[str, list[int]] = {}
    for i, doc in sorted(enumerate(docs), key=lambda pair: pair[1].source.url):
        by_portal.setdefault(doc.source.portal_id or "", []).append(i)
    units: list[list[int]] = []
    current: list[int] = []
    for _portal, indexes in sorted(by_portal.items()):
        if len(indexes) > size:
            units.extend(indexes[start:start + size] for start in range(0, len(indexes), size))
            continue
        if len(current) + len(indexes) > size:
            units.append(current)
            current = []
        current.extend(indexes)
    if current or not units:
        units.append(current)
    return units


def batch_id(text: str) -> str:
    """A batch id (safe in object keys) from any run id: Airflow's hold ``:`` and ``+``, a
    manual one may be anything. A changed id carries a short hash of the original, so that two
    ids differing only in unsafe characters never share a batch."""
    safe = _UNSAFE.sub("_", text).strip("_.")[:BATCH_ID_CHARS] or "batch"
    if safe == text:
        return safe
    return f"{safe}-{hashlib.sha256(text.encode('utf-8')).hexdigest()[:8]}"


def crawled_documents(lake: Lake, manifest: dict) -> list[RawDocument]:
    """The raw documents a crawl's landings touch: what landed (in this run, in an earlier try
    of it, or in an interrupted crawl it took on), what it revalidated, plus the page an
    attachment belongs to and the attachments of a page (so a page whose attachment landed in a
    later, resumed crawl is processed with it)."""
    docs: list[RawDocument] = []
    for portal_id, data in sorted(manifest["portals"].items()):
        landed = [d["url"] for d in data["landed"] if d["role"] != "list"]
        landed += data.get("revalidated") or []  # confirmed unchanged: reprocessed all the same
        state = lake.crawl_state(portal_id)
        # What an earlier try of the same run landed (a retried task reuses its run id).
        landed += [url for url, entry in state.items()
                   if entry.run == manifest.get("run_id") and not entry.alias_of]
        if not landed:
            continue
        urls: set[str] = set()
        for url in landed:
            group = {url}
            entry = state.get(url)
            if entry is not None and entry.context.get("page"):
                group.add(entry.context["page"])
            for member in list(group):
                if member in state:
                    group.update(state[member].links)
            urls.update(group)
        for url in sorted(u for u in urls if u in state):
            docs.extend(d for d in lake.sources_of(state[url].sha256)
                        if d.source.url == url and d.source.portal_id == portal_id)
    return docs


# -- scope: which partitions a reprocess rebuilds -----------------------------------------------

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


def scope_of(provinces=(), years=(), published_from: str | None = None,
             published_to: str | None = None, portals=()) -> dict:
    """A checked scope (what backfill and reprocess are given); empty means everything."""
    scope = {"provinces": sorted({str(p) for p in provinces or ()}),
             "years": sorted({int(y) for y in years or ()}),
             "portals": sorted({str(p) for p in portals or ()}),
             "published_from": published_from or None, "published_to": published_to or None}
    for year in scope["years"]:
        check_report_year(year)
    for province in scope["provinces"]:
        if not re.fullmatch(r"[0-9]{2}0000", province):
            raise ConfigError(f"province {province!r} must be a province-level GB/T 2260 code "
                              "such as 530000")
    for name in ("published_from", "published_to"):
        if scope[name]:
            try:
                date.fromisoformat(scope[name])
            except ValueError:
                raise ConfigError(f"{name} {scope[name]!r} must be a date, YYYY-MM-DD") from None
    return scope


def _in_scope(scope: dict, report: Report) -> bool:
    if scope["provinces"] and report.province_code not in scope["provinces"]:
        return False
    if scope["years"] and report.metadata.report_year not in scope["years"]:
        return False
    if scope["portals"] and report.portal_id not in scope["portals"]:
        return False
    published = report.metadata.published_date
    published = published.isoformat() if published else None
    if scope["published_from"] and (published is None or published < scope["published_from"]):
        return False
    return not (scope["published_to"] and (published is None
                                           or published > scope["published_to"]))


def _rebuilds(body: dict):
    """Partitions a reprocess replaces wholesale: only a reprocess (not a crawl's batch, which
    upserts) whose scope is made of provinces and years names whole partitions (portals and
    dates name rows, which are upserted)."""
    scope = body["scope"]
    if body["crawl_manifests"] is not None or scope["portals"] or scope["published_from"] \
            or scope["published_to"]:
        return None
    if not scope["provinces"] and not scope["years"]:
        return lambda part: True
    return lambda part: ((not scope["provinces"] or part.province in scope["provinces"])
                         and (not scope["years"] or part.year in scope["years"]))


# -- the stages ---------------------------------------------------------------------------------

def plan(lake: Lake, batch: str, *, crawl_manifests: list[str] | None = None,
         scope: dict | None = None) -> dict:
    """Choose the documents of a batch: those the given crawl runs touched, or (no crawl
    manifests) every raw document of the lake, for a reprocess of ``scope``."""
    scope = scope or scope_of()
    if crawl_manifests is not None:
        docs = [d for key in crawl_manifests
                for d in crawled_documents(lake, lake.read_json(key))]
    else:
        docs = [d for d in lake.raw_documents()
                if not scope["portals"] or d.source.portal_id in scope["portals"]]
    # A damaged partition is rebuilt whole: the documents no readable row stands for are read
    # too, and their reports kept whatever the scope (as process.run does).
    versions, copies, state = process.versions_to_read(lake, docs)
    units = work_units(versions, unit_docs())
    body = {"batch": batch, "scope": scope, "crawl_manifests": crawl_manifests,
            # Each document's sidecar too: a unit's task builds its documents (and the batch's
            # others, which its pages may link to) from this one file, not one read per
            # document of the batch.
            "documents": [{"sha256": d.sha256, "source_id": d.source.source_id,
                           "size": d.size, "source": d.source.to_json()} for d in versions],
            # Local files whose bytes equal another path's: one report, their own rows go.
            "copies": sorted(copies),
            # Damaged partitions, [province, year]: rebuilt by the load, whatever the scope.
            "heal": [[p.province, p.year] for p in sorted(state.damaged,
                                                          key=Partition.sort_key)],
            "units": units}
    key = lake.work_key(batch, "plan.json")
    lake.write_json(key, body)
    return {"batch": batch, "plan": key, "documents": len(versions),
            "units": [{"batch": batch, "unit": u, "documents": len(indexes)}
                      for u, indexes in enumerate(units)]}


def _plan_of(lake: Lake, batch: str) -> dict:
    try:
        body = lake.read_json(lake.work_key(batch, "plan.json"))
    except KeyError:
        raise ConfigError(f"batch {batch!r} has no plan in {lake.url}: run its plan stage "
                          "first") from None
    body.setdefault("units", [list(range(len(body["documents"])))])  # planned before units
    return body


def _planned(lake: Lake, batch: str) -> tuple[dict, list[RawDocument]]:
    """The plan and its documents (built from the sidecars the plan carries)."""
    body = _plan_of(lake, batch)
    return body, [RawDocument(d["sha256"], d["size"], Source.from_json(d["source"]))
                  if "source" in d
                  else lake.raw_document(d["sha256"], d["source_id"])  # planned before sidecars
                  for d in body["documents"]]


def _each_unit(lake: Lake, batch: str, unit: int | None, stage) -> dict:
    """``stage(unit, plan, its documents, the batch's other documents)`` for one unit, or for
    every unit of the plan in turn (None), with the counts added up; the plan is read once."""
    body, docs = _planned(lake, batch)
    if unit is not None and not 0 <= unit < len(body["units"]):
        raise ConfigError(f"batch {batch!r} has {len(body['units'])} work unit(s), not a unit "
                          f"{unit}: plan it again")
    total: dict = {"batch": batch}
    for u in [unit] if unit is not None else range(len(body["units"])):
        mine = set(body["units"][u])
        counts = stage(u, body, [d for i, d in enumerate(docs) if i in mine],
                       [d for i, d in enumerate(docs) if i not in mine])
        for name, n in counts.items():
            total[name] = total.get(name, 0) + n
    if unit is not None:
        total["unit"] = unit
    return total


def _unit_key(lake: Lake, batch: str, unit: int, name: str) -> str:
    return lake.work_key(batch, f"units/{unit:05d}/{name}")


def decode(lake: Lake, batch: str, unit: int | None = None) -> dict:
    """Decode a work unit's text documents (every unit's when ``unit`` is None; charset
    detection and mojibake reversal, see :mod:`pipelines.decode`): their text and charset
    evidence go to ``_work/<batch>/decoded/<doc_id>.json`` (a file format read later:
    ``{"binary": true}``)."""

    def one(u: int, _body: dict, docs: list[RawDocument], _others) -> dict:
        result = process.new_run("decode", lake)
        texts = binary = 0
        for chunk, _later in process.chunks(docs):  # each chunk written and let go
            decoded = process.decode_batch(lake, chunk, result)
            for doc_id, text in decoded.items():
                body = {"binary": True} if text is None else asdict(text)
                lake.write_json(lake.work_key(batch, f"decoded/{doc_id}.json"), body)
            texts += sum(1 for v in decoded.values() if v is not None)
            binary += sum(1 for v in decoded.values() if v is None)
        _write_rejects(lake, _unit_key(lake, batch, u, "decode-rejects.json"), result.rejects)
        return {"decoded": texts, "binary": binary, "rejected": len(result.rejects)}

    return _each_unit(lake, batch, unit, one)


def extract(lake: Lake, batch: str, unit: int | None = None) -> dict:
    """Text, metadata, attachments and statistics of a work unit's decoded documents (every
    unit's when ``unit`` is None), staged as rows of the lake's own tables: one pair of files
    per chunk of documents (``_work/<batch>/units/<u>/reports-NNNNN.parquet``,
    ``report_stats-NNNNN.parquet``), so that neither this task's memory nor the load's grows
    with the batch. ``done.json`` is written last: the unit's files are complete, and the
    documents its pages took in as attachments (their own rows are dropped by the load)."""
    return _each_unit(lake, batch, unit, lambda *planned: _extract_unit(lake, batch, *planned))


def _extract_unit(lake: Lake, batch: str, unit: int, body: dict, docs: list[RawDocument],
                  others: list[RawDocument]) -> dict:
    prefix = _unit_key(lake, batch, unit, "")
    for key in lake.store.list(prefix):
        # An earlier try of this unit: its chunks, rejects and done.json (the decode stage's
        # rejects stay: the load reports them, and keeps the rows of damaged raw documents).
        if not key.endswith("/decode-rejects.json"):
            lake.store.delete(key)
    result = process.new_run("extract", lake)
    scope = body["scope"]
    keep = process.keep_also_into(lambda report: _in_scope(scope, report),
                                  {Partition(p, y) for p, y in body.get("heal", [])})

    def decoded_for(chunk: list[RawDocument]) -> dict[str, Decoded | None]:
        decoded: dict[str, Decoded | None] = {}
        for doc in chunk:  # a document the decode stage rejected has no file
            data = lake.read_json(lake.work_key(batch, f"decoded/{doc.doc_id}.json"), None)
            if data is not None:
                decoded[doc.doc_id] = None if data.get("binary") else Decoded(**data)
        return decoded

    reports = cells = 0
    for n, (chunk_reports, chunk_cells) in enumerate(process.extract_chunks(
            lake, docs, result, decoded_for=decoded_for, held_back=others,
            keep=keep)):
        _write_arrow(lake, f"{prefix}reports-{n:05d}.parquet", reports_table(chunk_reports))
        _write_arrow(lake, f"{prefix}report_stats-{n:05d}.parquet", stats_table(chunk_cells))
        reports += len(chunk_reports)
        cells += len(chunk_cells)
    _write_rejects(lake, f"{prefix}extract-rejects.json", result.rejects)
    lake.write_json(f"{prefix}done.json", {"reports": reports, "cells": cells,
                                           "attached": sorted(result.attached)})
    return {"reports": reports, "cells": cells, "rejected": len(result.rejects)}


def _staged(lake: Lake, prefix: str) -> list[tuple[str, str]]:
    """A unit's staged files, (reports, report_stats) per chunk, in chunk order."""
    keys = [key for key in lake.store.list(prefix) if key.endswith(".parquet")]
    return list(zip(*(sorted(k for k in keys if k[len(prefix):].startswith(f"{table}-"))
                      for table in ("reports", "report_stats")), strict=True))


def load(lake: Lake, batch: str, *, run_id: str | None = None) -> dict:
    """Merge what every work unit staged into the partitions (upsert by document; a
    province/year scope is rebuilt wholesale) and write the run manifest. Every unit must have
    finished its extract (in any order, on any worker, retried or not): the load reads only
    complete units, and refuses to run while one is missing."""
    body, docs = _planned(lake, batch)
    prefixes = [_unit_key(lake, batch, u, "") for u in range(len(body["units"]))]
    done = [lake.read_json(f"{prefix}done.json", None) for prefix in prefixes]
    missing = [u for u, unit_done in enumerate(done) if unit_done is None]
    if missing:
        raise ConfigError(f"work unit(s) {', '.join(map(str, missing))} of batch {batch!r} have "
                          f"not finished their extract in {lake.url}: run (or clear) them first")
    result = process.new_run("pipeline", lake)
    if run_id:
        result.run_id = batch_id(run_id)
    result.inputs = docs
    attached = {doc_id for unit_done in done for doc_id in unit_done.get("attached", [])} | \
        set(body.get("copies", []))
    spool = Spool.on_disk()
    try:
        cells = 0
        for prefix in prefixes:
            for reports_key, cells_key in _staged(lake, prefix):
                chunk_cells = _read_table(lake, cells_key)
                spool.add_tables(_read_table(lake, reports_key), chunk_cells)
                cells += chunk_cells.num_rows
        where = {d: part for d, part in spool.where.items() if d not in attached}
        rejects = [Reject(**r) for prefix in prefixes for stage in ("decode", "extract")
                   for r in lake.read_json(f"{prefix}{stage}-rejects.json", [])]
        damaged = process.raw_damaged(rejects)
        result.loaded = load_spooled(
            lake, spool, rebuild=_rebuilds(body),
            listed=[(d.doc_id, d.sha256, d.source.url) for d in docs
                    if d.doc_id not in damaged],
            unchanged=[(d.doc_id, d.sha256) for d in docs if d.doc_id in damaged],
            absorbed=attached, run_id=result.run_id, command=f"pipeline {batch}")
    finally:
        spool.close()
    result.rejects = rejects
    process.record_load(lake, result)
    manifest = result.manifest()
    manifest["batch"] = batch
    manifest["scope"] = body["scope"]
    manifest["crawl_manifests"] = body["crawl_manifests"]
    manifest["counts"]["reports"] = len(where)
    manifest["reports_by_partition"] = _by_partition(where)
    key = lake.write_manifest(result.run_id, manifest)
    return {"batch": batch, "manifest": key, "reports": len(where), "cells": cells,
            "rejects": len(rejects), "written": result.loaded.written,
            "deleted": result.loaded.deleted, "unchanged": result.loaded.unchanged}


# -- helpers ------------------------------------------------------------------------------------

def _by_partition(where: dict[str, Partition]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for part in where.values():
        counts[part.label()] = counts.get(part.label(), 0) + 1
    return counts


def _write_rejects(lake: Lake, key: str, rejects: list[Reject]) -> None:
    lake.write_json(key, [r.to_json() for r in rejects])


def _write_arrow(lake: Lake, key: str, rows: pa.Table) -> None:
    sink = pa.BufferOutputStream()
    pq.write_table(rows, sink)
    lake.store.write(key, sink.getvalue().to_pybytes())


def _read_table(lake: Lake, key: str) -> pa.Table:
    try:
        data = lake.store.read(key)
    except KeyError:
        raise ConfigError(f"{key} is missing in {lake.url}: run the batch's extract stage "
                          "first") from None
    return pq.read_table(pa.BufferReader(data))

