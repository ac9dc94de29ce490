"""The pipeline's stages as tasks for a scheduler (the Airflow DAGs in ``dags/``): thin adapters
over :mod:`pipelines.batch` that keep its records in the lake, so that each task may run on any
worker and a retry of one never needs the others again.

Each adapter returns only keys and counts (what an XCom may carry). A *batch* names one piece of
work; its files live under ``_work/<batch>/``, so running a stage again on the same batch
rewrites the same keys::

    plan     crawl manifests or a scope  → _work/<batch>/plan.json         (batch.Plan)
    decode   one unit's raw bytes        → _work/<batch>/decoded/…         text + charset evidence
                                           _work/<batch>/units/<u>/decode-done.json (batch.UnitDone)
    extract  one unit, decoded           → _work/<batch>/units/<u>/reports-NNNNN.parquet, …
                                           _work/<batch>/units/<u>/done.json        (batch.UnitDone)
    load     every unit's staged rows    → reports/, report_stats/ partitions, _runs/<run>.json

A *work unit* is a bounded number of documents (``GOVREPORTS_UNIT_DOCS``, see
:func:`pipelines.batch.work_units`): decode and extract run once per unit (Airflow maps them
over the units), and a retried unit redoes only its own work. The load, one task, merges what
every unit staged, one partition at a time under the lake's load lease. Rejected documents are
recorded under ``rejects/`` by the stage that rejects them, and in the unit's record for the
run manifest. The CLI runs the same stage functions in one process (:func:`pipelines.batch.run`).
"""

from __future__ import annotations

from dataclasses import asdict

import pyarrow as pa
import pyarrow.parquet as pq

from pipelines import batch as stages_of
from pipelines import process
from pipelines.batch import Plan, Scope, UnitDone
from pipelines.decode import Decoded
from pipelines.errors import ConfigError
from pipelines.lake import Lake
from pipelines.records import (
    RawDocument,
    RunManifest,
    batch_id,
    source_id_of,
)
from pipelines.settings import current
from pipelines.spool import Spool


def crawled_documents(lake: Lake, manifest: dict | RunManifest,
                      crawl_states: dict[str, dict] | None = None) -> list[RawDocument]:
    """The raw documents a crawl's landings touch: what landed (in this run, in an earlier try
    of it, or in an interrupted crawl it took on), what it revalidated, plus the page an
    attachment belongs to and the attachments of a page (so a page whose attachment landed in a
    later, resumed crawl is processed with it). ``crawl_states``: see
    :meth:`~pipelines.lake.Lake.crawl_state`."""
    sidecars: list[str] = []
    manifest = RunManifest.of(manifest)
    for portal_id, outcome in sorted(manifest.portals.items()):
        landed = [d["url"] for d in outcome.landed if d["role"] != "list"]
        landed += outcome.revalidated  # confirmed unchanged: reprocessed all the same
        state = lake.crawl_state(portal_id, crawl_states)
        # What an earlier try of the same run landed (a retried task reuses its run id).
        landed += [url for url, entry in state.items()
                   if entry.run == manifest.run_id and not entry.alias_of]
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
        # Each URL's bytes from this portal: the one sidecar of that sha256 and source.
        sidecars += [lake.sidecar_key(state[url].sha256, source_id_of(portal_id, url))
                     for url in sorted(u for u in urls if u in state)]
    return lake.sidecar_documents(sidecars)


def scope_of(provinces=(), years=(), published_from: str | None = None,
             published_to: str | None = None, portals=()) -> Scope:
    """A checked scope (what backfill and reprocess are given); empty means everything."""
    return Scope.of(provinces, years, published_from, published_to, portals)


# -- the stages ---------------------------------------------------------------------------------

def plan(lake: Lake, batch: str, *, crawl_manifests: list[str] | None = None,
         scope: Scope | dict | None = None) -> dict:
    """Choose the documents of a batch: those the given crawl runs touched (their rows
    upserted), or (no crawl manifests) every raw document of the lake, for a reprocess of
    ``scope`` (its partitions rebuilt). Every document is read: a scheduler's batch is a
    reprocess or new landings."""
    scope = Scope.from_json(scope)
    states: dict[str, dict] = {}  # each portal's crawl state read once
    if crawl_manifests is not None:
        manifests = [RunManifest.of(lake.read_json(key)) for key in crawl_manifests]
        lake.crawl_states({p for m in manifests for p in m.portals}, states)
        docs = [d for m in manifests for d in crawled_documents(lake, m, states)]
    else:
        docs = [d for d in lake.raw_documents()
                if not scope.portals or d.source.portal_id in scope.portals]
    planned = stages_of.plan(lake, docs, batch=batch, scope=scope,
                             rebuild=crawl_manifests is None, force=True,
                             unit_size=current().unit_docs, crawl_manifests=crawl_manifests,
                             crawl_states=states)
    key = lake.work_key(batch, "plan.json")
    lake.write_json(key, planned.to_json())
    return {"batch": batch, "plan": key, "documents": len(planned.documents),
            "units": [{"batch": batch, "unit": u, "documents": len(indexes)}
                      for u, indexes in enumerate(planned.units)]}


def read_plan(lake: Lake, batch: str) -> Plan:
    try:
        body = lake.read_json(lake.work_key(batch, "plan.json"))
    except KeyError:
        raise ConfigError(f"batch {batch!r} has no plan in {lake.url}: run its plan stage "
                          "first") from None
    return Plan.from_json(body, lake)


#: Each stage's record of a unit, under ``_work/<batch>/units/<u>/``.
_DONE = {"decode": "decode-done.json", "extract": "done.json"}


def _unit_key(lake: Lake, batch: str, unit: int, name: str) -> str:
    return lake.work_key(batch, f"units/{unit:05d}/{name}")


def _each_unit(lake: Lake, batch: str, unit: int | None, stage: str, run) -> dict:
    """``run(plan, unit)`` → :class:`UnitDone` for one unit, or for every unit of the plan in
    turn (None); each record is written, and the counts added up."""
    planned = read_plan(lake, batch)
    units = [unit] if unit is not None else range(len(planned.units))
    total: dict = {"batch": batch}
    for u in units:
        done = run(planned, planned.check_unit(u))  # refused before any work
        lake.write_json(_unit_key(lake, batch, u, _DONE[stage]), done.to_json())
        for name, n in done.counts.items():
            total[name] = total.get(name, 0) + n
    if unit is not None:
        total["unit"] = unit
    return total


def unit_counts(lake: Lake, batch: str, stage: str, unit: int | None = None) -> dict:
    """The counts a stage recorded for one unit (or every unit): what a scheduler's task
    returns, read from the stage's own record."""
    units = [unit] if unit is not None else range(len(read_plan(lake, batch).units))
    total: dict = {"batch": batch}
    for u in units:
        body = lake.read_json(_unit_key(lake, batch, u, _DONE[stage]), None)
        if body is None:
            raise ConfigError(f"unit {u} of batch {batch!r} has no {stage} record in "
                              f"{lake.url}: run its {stage} stage first")
        for name, n in UnitDone.from_json(body).counts.items():
            total[name] = total.get(name, 0) + n
    if unit is not None:
        total["unit"] = unit
    return total


def decode(lake: Lake, batch: str, unit: int | None = None) -> dict:
    """Decode a work unit's text documents (every unit's when ``unit`` is None; charset
    detection and mojibake reversal, see :mod:`pipelines.decode`): their text and charset
    evidence go to ``_work/<batch>/decoded/<doc_id>.json`` (a file format read later:
    ``{"binary": true}``)."""

    def one(planned: Plan, u: int) -> UnitDone:
        mine, _others = planned.unit_documents(u)
        result = process.new_run("decode", lake)
        texts = binary = 0
        for chunk, _later in process.chunks(mine):  # each chunk written and let go
            decoded = process.decode_batch(lake, chunk, result)
            for doc_id, text in decoded.items():
                body = {"binary": True} if text is None else asdict(text)
                lake.write_json(lake.work_key(batch, f"decoded/{doc_id}.json"), body)
            texts += sum(1 for v in decoded.values() if v is not None)
            binary += sum(1 for v in decoded.values() if v is None)
        return UnitDone(u, "decode", {"decoded": texts, "binary": binary,
                                      "rejected": len(result.rejects)}, result.rejects)

    return _each_unit(lake, batch, unit, "decode", one)


class StagedFiles:
    """A unit's rows staged in the lake as the tables' own Parquet, one pair of files per
    chunk (``reports-NNNNN.parquet``, ``report_stats-NNNNN.parquet``), so that neither the
    task's memory nor the load's grows with the batch."""

    def __init__(self, lake: Lake, prefix: str):
        self.lake, self.prefix, self.chunks = lake, prefix, 0

    def add_tables(self, reports: pa.Table, cells: pa.Table) -> None:
        n = self.chunks
        _write_arrow(self.lake, f"{self.prefix}reports-{n:05d}.parquet", reports)
        _write_arrow(self.lake, f"{self.prefix}report_stats-{n:05d}.parquet", cells)
        self.chunks += 1

    def into(self, spool: Spool) -> None:
        """Every chunk staged under the prefix, in chunk order, added to ``spool``."""
        keys = [key for key in self.lake.store.list(self.prefix) if key.endswith(".parquet")]
        pairs = zip(*(sorted(k for k in keys if k[len(self.prefix):].startswith(f"{table}-"))
                      for table in ("reports", "report_stats")), strict=True)
        for reports_key, cells_key in pairs:
            spool.add_tables(_read_table(self.lake, reports_key),
                             _read_table(self.lake, cells_key))


def extract(lake: Lake, batch: str, unit: int | None = None) -> dict:
    """Text, metadata, attachments and statistics of a work unit's decoded documents (every
    unit's when ``unit`` is None), staged as rows of the lake's own tables
    (:class:`StagedFiles`). ``done.json`` is written last: the unit's files are complete, and
    the documents its pages took in as attachments (their own rows are dropped by the load)."""

    def decoded_for(chunk: list[RawDocument]) -> dict[str, Decoded | None]:
        decoded: dict[str, Decoded | None] = {}
        for doc in chunk:  # a document the decode stage rejected has no file
            data = lake.read_json(lake.work_key(batch, f"decoded/{doc.doc_id}.json"), None)
            if data is not None:
                decoded[doc.doc_id] = None if data.get("binary") else Decoded(**data)
        return decoded

    def one(planned: Plan, u: int) -> UnitDone:
        prefix = _unit_key(lake, batch, u, "")
        for key in lake.store.list(prefix):
            # An earlier try of this unit: its chunks and record (the decode stage's record
            # stays: the load reports its rejects, and keeps the rows of damaged raw bytes).
            if not key.endswith("/" + _DONE["decode"]):
                lake.store.delete(key)
        return stages_of.extract_unit(lake, planned, u, StagedFiles(lake, prefix),
                                      decoded_for=decoded_for)

    return _each_unit(lake, batch, unit, "extract", one)


def load(lake: Lake, batch: str, *, run_id: str | None = None) -> dict:
    """Merge what every work unit staged into the partitions (upsert by document; a
    province/year scope is rebuilt wholesale) and write the run manifest. Every unit must have
    finished its extract (in any order, on any worker, retried or not): the load reads only
    complete units, and refuses to run while one is missing."""
    planned = read_plan(lake, batch)
    prefixes = [_unit_key(lake, batch, u, "") for u in range(len(planned.units))]
    done = [lake.read_json(f"{prefix}{_DONE['extract']}", None) for prefix in prefixes]
    missing = [u for u, unit_done in enumerate(done) if unit_done is None]
    if missing:
        raise ConfigError(f"work unit(s) {', '.join(map(str, missing))} of batch {batch!r} have "
                          f"not finished their extract in {lake.url}: run (or clear) them first")
    records = [UnitDone.from_json(body) for body in done] + [
        UnitDone.from_json(body) for prefix in prefixes
        if (body := lake.read_json(f"{prefix}{_DONE['decode']}", None)) is not None]
    result = process.new_run("pipeline", lake)
    if run_id:
        result.run_id = batch_id(run_id)
    spool = Spool.on_disk()
    try:
        for prefix in prefixes:
            StagedFiles(lake, prefix).into(spool)
        stages_of.load(lake, planned, spool, records, result)
    finally:
        spool.close()
    return {"batch": batch, "manifest": result.manifest_key,
            "reports": sum(result.built.values()),
            "cells": sum(unit.counts.get("cells", 0) for unit in records),
            "rejects": len(result.rejects), "written": result.loaded.written,
            "deleted": result.loaded.deleted, "unchanged": result.loaded.unchanged}


# -- helpers ------------------------------------------------------------------------------------

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

