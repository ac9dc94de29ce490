"""The pipeline as separate stages (what the DAGs run) gives what ``batch.run`` gives in one
process; each stage can run again alone; crawl shards never split a host."""

from __future__ import annotations

import json

import pytest

from crawlers.portals import Portal
from crawlers.shards import shards
from pipelines import batch, process, stages
from pipelines.errors import ConfigError
from pipelines.lake import Lake
from pipelines.records import _UNSAFE_ID, Source, batch_id
from tests.conftest import SEEDS


def seeded(path) -> Lake:
    lake = Lake.open(str(path), writable=True)
    for seed in sorted(SEEDS.glob("*.txt")):
        lake.put_raw(seed.read_bytes(), Source(url=seed.as_uri(), kind="file",
                                               fetched_at="2026-01-01T00:00:00+00:00",
                                               filename=seed.name))
    return lake


def partitions(lake: Lake) -> dict[str, bytes]:
    return {k: lake.store.read(k) for table in ("reports/", "report_stats/")
            for k in lake.store.list(table)}


@pytest.mark.parametrize("chunk", ["500", "2"], ids=["one-chunk", "chunks-of-two"])
def test_the_stages_load_what_one_process_run_loads(tmp_path, monkeypatch, chunk):
    monkeypatch.setenv("GOVREPORTS_CHUNK_DOCS", chunk)
    at_once = seeded(tmp_path / "once")
    batch.run(at_once, list(at_once.raw_documents()), process.new_run("process", at_once))
    staged = seeded(tmp_path / "staged")
    planned = stages.plan(staged, "b1", scope=stages.scope_of())
    assert planned["documents"] == 5
    assert stages.decode(staged, "b1") == {"batch": "b1", "decoded": 5, "binary": 0,
                                           "rejected": 0}
    assert stages.extract(staged, "b1")["reports"] == 5
    loaded = stages.load(staged, "b1", run_id="nightly run #1")
    assert loaded["manifest"].startswith("_runs/nightly_run_1-")  # safe, and hashed
    ours, theirs = partitions(staged), partitions(at_once)
    assert ours.keys() == theirs.keys()
    for key in ours:  # same rows (the files differ only in write metadata)
        assert staged.read_partition(*_table_part(staged, key)).equals(
            at_once.read_partition(*_table_part(at_once, key)))
    manifest = json.loads(staged.store.read(loaded["manifest"]))
    assert manifest["counts"]["reports"] == 5 and manifest["batch"] == "b1"
    chunks = [k for k in staged.store.list("_work/b1/") if "/reports-" in k]
    assert len(chunks) == (3 if chunk == "2" else 1)  # one staged file per chunk


def _table_part(lake: Lake, key: str):
    table = key.split("/", 1)[0]
    (part,) = [p for p in lake.partitions(table) if key.startswith(p.prefix(table))]
    return table, part


def test_a_stage_run_again_rewrites_its_own_keys_and_changes_no_partition(tmp_path):
    lake = seeded(tmp_path / "lake")
    stages.plan(lake, "b", scope=stages.scope_of())
    stages.decode(lake, "b")
    stages.extract(lake, "b")
    stages.load(lake, "b")
    keys, before = sorted(lake.store.list("_work/b/")), partitions(lake)
    assert stages.extract(lake, "b")["reports"] == 5  # a retried task
    assert stages.load(lake, "b")["written"] == []
    assert sorted(lake.store.list("_work/b/")) == keys and partitions(lake) == before


def test_a_stage_without_its_plan_says_what_to_run_first(tmp_path):
    lake = seeded(tmp_path / "lake")
    with pytest.raises(ConfigError, match="batch 'nope' has no plan .*run its plan stage"):
        stages.decode(lake, "nope")


@pytest.mark.parametrize("kwargs,message", [
    ({"provinces": ["530502"]}, "must be a province-level"),
    ({"published_from": "2020-13-01"}, "must be a date"),
], ids=["county-as-province", "bad-date"])
def test_a_bad_scope_is_refused(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        stages.scope_of(**kwargs)


def portal(pid: str, *urls: str) -> Portal:
    return Portal(id=pid, name=pid, start_urls=tuple(urls))


def test_portals_sharing_a_host_share_a_shard():
    portals = [portal("a", "http://x.gov.cn/1/"), portal("b", "http://y.gov.cn/"),
               portal("c", "http://x.gov.cn/2/"), portal("d", "http://z.gov.cn/"),
               portal("e", "http://w.gov.cn/", "http://z.gov.cn/e/")]
    result = shards(portals, 3)
    assert len(result) == 3 and sorted(sum(result, [])) == ["a", "b", "c", "d", "e"]
    together = {frozenset(s) for s in result}
    assert any({"a", "c"} <= s for s in together) and any({"d", "e"} <= s for s in together)
    assert shards(portals, 3) == result  # deterministic
    assert len(shards(portals, 10)) == 3  # never an empty shard
    assert shards(portals, 1) == [["a", "b", "c", "d", "e"]]


@pytest.mark.parametrize("a,b", [("重跑", "补跑"), ("a:b", "a+b"), ("run 1", "run_1")],
                         ids=["non-ascii", "punctuation", "space-vs-underscore"])
def test_run_ids_that_differ_only_in_unsafe_characters_get_different_batches(a, b):
    assert batch_id(a) != batch_id(b)
    assert all(_UNSAFE_ID.search(x) is None for x in (batch_id(a), batch_id(b)))
    assert batch_id("scheduled-2026") == "scheduled-2026"  # a safe id is kept as it is


def test_hostile_raw_documents_are_rejected_by_the_stages_and_the_batch_lands(tmp_path):
    """What the DAG's decode and extract tasks meet in a lake whose raw zone holds documents
    that used to crash them: each becomes a reject of its stage, the seeds still land."""
    lake = seeded(tmp_path / "lake")
    hostile = {
        "comment-first.html": "<!-- x --><html><body><div id=zoom>"
                              + next(SEEDS.glob("003_*.txt")).read_text("utf-8")
                              + "</div></body></html><!-- y -->",
        "nul.txt": "\x00",
        "item.json": '{"title": 5, "content": {"a": 1}}',
        "cut.docx": "PK\x03\x04 cut",
    }
    for name, text in hostile.items():
        lake.put_raw(text.encode("utf-8"), Source(url=f"file:///in/{name}", kind="file",
                                                  fetched_at="2026-01-01T00:00:00+00:00",
                                                  filename=name))
    stages.plan(lake, "h", scope=stages.scope_of())
    assert stages.decode(lake, "h")["rejected"] == 0
    extracted = stages.extract(lake, "h")
    assert extracted["reports"] == 6 and extracted["rejected"] == 3
    loaded = stages.load(lake, "h")
    assert loaded["reports"] == 6
    reasons = {r["url"].rsplit("/", 1)[-1]: (r["stage"], r["reason"])
               for r in lake.rejects().values()}
    assert reasons == {"nul.txt": ("extract", "no_text"), "item.json": ("extract", "bad_json"),
                       "cut.docx": ("extract", "truncated")}


def test_an_empty_batch_stages_and_loads_nothing(tmp_path):
    lake = seeded(tmp_path / "lake")
    batch.run(lake, list(lake.raw_documents()), process.new_run("process", lake))
    before = partitions(lake)
    stages.plan(lake, "empty", crawl_manifests=[], scope=stages.scope_of())
    assert stages.decode(lake, "empty")["decoded"] == 0
    assert stages.extract(lake, "empty")["reports"] == 0
    loaded = stages.load(lake, "empty")
    assert loaded["reports"] == 0 and loaded["written"] == [] and partitions(lake) == before


# -- work units: what the DAG maps over workers -------------------------------------------------

def portals_with_attachments(path, portals: int = 3) -> Lake:
    """Each portal: one page per seed, the last linking to a Word file that is its report (a
    page shorter than the report: the file is the report)."""
    from tests.attachment_files import docx_bytes

    lake = Lake.open(str(path), writable=True)
    seeds = sorted(SEEDS.glob("*.txt"))
    for p in range(portals):
        host = f"http://p{p}.example.gov.cn"
        for n, seed in enumerate(seeds):
            body = seed.read_text("utf-8").replace("\n", "<br>")
            if n == len(seeds) - 1:
                body = '<p>附件：<a href="/files/report.docx">年度报告</a></p>'
            html = f"<html><body><div id=zoom>{body}</div></body></html>"
            lake.put_raw(html.encode("utf-8"), Source(
                url=f"{host}/ndbg/{n}.html", kind="http", portal_id=f"p{p}",
                fetched_at="2026-01-01T00:00:00+00:00", media_type="text/html"))
        lake.put_raw(docx_bytes(), Source(
            url=f"{host}/files/report.docx", kind="http", portal_id=f"p{p}", role="attachment",
            fetched_at="2026-01-01T00:00:00+00:00",
            media_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document"))
    return lake


def rows(lake: Lake) -> list[tuple]:
    from pipelines.query import run_query

    return run_query(lake, "select doc_id, title, report_year, province_code, text, "
                           "len(attachments) from reports order by doc_id")[1]


@pytest.mark.parametrize("unit_docs,order", [
    ("4", "forward"), ("4", "backward"), ("5", "backward"), ("1", "forward"), ("100", "forward"),
], ids=["units-of-4", "units-of-4-last-first", "units-cutting-a-portal", "one-document-units",
        "one-unit"])
def test_work_units_in_any_order_load_what_one_process_run_loads(tmp_path, monkeypatch,
                                                                  unit_docs, order):
    at_once = portals_with_attachments(tmp_path / "once")
    batch.run(at_once, list(at_once.raw_documents()), process.new_run("process", at_once))
    monkeypatch.setenv("GOVREPORTS_UNIT_DOCS", unit_docs)
    lake = portals_with_attachments(tmp_path / "units")
    planned = stages.plan(lake, "u", scope=stages.scope_of())
    units = planned["units"]
    assert planned["documents"] == 18
    assert [u["unit"] for u in units] == list(range(len(units)))
    assert sum(u["documents"] for u in units) == 18
    assert max(u["documents"] for u in units) <= int(unit_docs)
    for unit in (units if order == "forward" else reversed(units)):
        assert stages.decode(lake, "u", unit["unit"])["unit"] == unit["unit"]
        stages.extract(lake, "u", unit["unit"])
    loaded = stages.load(lake, "u")
    assert rows(lake) == rows(at_once)
    assert loaded["reports"] == 15  # 3 portals × 5 pages, the Word files absorbed by their page
    assert sum(row[5] for row in rows(lake)) == 3


def test_a_retried_unit_redoes_only_its_own_work_and_the_load_waits_for_every_unit(
        tmp_path, monkeypatch):
    monkeypatch.setenv("GOVREPORTS_UNIT_DOCS", "6")
    lake = portals_with_attachments(tmp_path / "lake")
    units = stages.plan(lake, "r", scope=stages.scope_of())["units"]
    assert len(units) == 3  # one per portal
    for unit in units[:2]:
        stages.decode(lake, "r", unit["unit"])
        stages.extract(lake, "r", unit["unit"])
    with pytest.raises(ConfigError, match=r"work unit\(s\) 2 of batch 'r' have not finished"):
        stages.load(lake, "r")
    stages.decode(lake, "r", 2)
    stages.extract(lake, "r", 2)
    others = {k: lake.store.read(k) for k in lake.store.list("_work/r/units/")
              if not k.startswith("_work/r/units/00001/")}
    lake.store.write("_work/r/units/00001/reports-00099.parquet", b"left by a killed try")
    assert stages.extract(lake, "r", 1)["reports"] == 5  # the retry
    assert {k: lake.store.read(k) for k in lake.store.list("_work/r/units/")
            if not k.startswith("_work/r/units/00001/")} == others
    assert not lake.store.exists("_work/r/units/00001/reports-00099.parquet")
    assert stages.load(lake, "r")["reports"] == 15
    with pytest.raises(ConfigError, match="has 3 work unit\\(s\\), not a unit 7"):
        stages.extract(lake, "r", 7)


def test_a_stage_runs_through_the_cli_one_unit_at_a_time(tmp_path, monkeypatch, cli):
    """``govreports stage``, what the DAG's decode and extract tasks run: counts as JSON, and
    exit 2 with one line naming the fix for a batch or unit the plan does not have."""
    monkeypatch.setenv("GOVREPORTS_UNIT_DOCS", "6")
    lake = portals_with_attachments(tmp_path / "lake")
    units = stages.plan(lake, "c", scope=stages.scope_of())["units"]
    for unit in units:
        for name in ("decode", "extract"):
            ran = cli("stage", name, "--lake", tmp_path / "lake", "--batch", "c",
                      "--unit", unit["unit"])
            assert ran.returncode == 0, ran.stderr
            assert json.loads(ran.stdout)["unit"] == unit["unit"]
    assert stages.load(lake, "c")["reports"] == 15
    missing = cli("stage", "decode", "--lake", tmp_path / "lake", "--batch", "nope")
    assert missing.returncode == 2 and "run its plan stage first" in missing.stderr
    too_far = cli("stage", "extract", "--lake", tmp_path / "lake", "--batch", "c", "--unit", 9)
    assert too_far.returncode == 2 and "not a unit 9" in too_far.stderr


@pytest.mark.parametrize("batch", ["../../outside", "a/../../../outside", "..", "./../../outside",
                                   "", "_work/../../outside", "x" * 300],
                         ids=["parent", "parent-inside", "only-parent", "dot-parent", "empty",
                              "nested", "too-long"])
@pytest.mark.parametrize("name", ["decode", "extract"])
def test_a_stage_never_reads_writes_or_deletes_outside_the_lake(tmp_path, cli, name, batch):
    """``--batch`` is one name under ``_work/``: a path out of the lake is refused before
    anything is read, even where a plan and a unit's files wait outside to be taken."""
    lake = seeded(tmp_path / "lake")
    stages.plan(lake, "b", scope=stages.scope_of())
    outside = tmp_path / "outside"
    (outside / "units" / "00000").mkdir(parents=True)
    (outside / "plan.json").write_bytes(lake.store.read("_work/b/plan.json"))
    (outside / "units" / "00000" / "reports-00000.parquet").write_bytes(b"someone's file")
    before = sorted(p.relative_to(outside).as_posix() for p in outside.rglob("*"))
    ran = cli("stage", name, "--lake", tmp_path / "lake", "--batch", batch)
    assert ran.returncode == 2, ran.stderr
    assert "--batch" in ran.stderr and len(ran.stderr.strip().splitlines()) == 1, ran.stderr
    assert sorted(p.relative_to(outside).as_posix() for p in outside.rglob("*")) == before
    assert (outside / "units" / "00000" / "reports-00000.parquet").read_bytes() == b"someone's file"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lake", "outside"]


@pytest.mark.parametrize("run_id", ["..", ".", "...", "a" * 400, "../../x"],
                         ids=["parent", "dot", "dots", "long", "path"])
def test_any_run_id_gives_a_batch_that_is_one_safe_key_part(run_id):
    from pipelines.store import key_part

    assert key_part(batch_id(run_id), "batch")


@pytest.mark.parametrize("damage", ["bit-flip", "emptied", "deleted"])
def test_a_reprocess_keeps_the_row_of_a_document_whose_raw_bytes_are_damaged(tmp_path, damage):
    lake = seeded(tmp_path / "lake")

    def run(batch: str) -> None:
        stages.plan(lake, batch, scope=stages.scope_of())
        stages.decode(lake, batch, None)
        stages.extract(lake, batch, None)
        stages.load(lake, batch)

    run("first")
    before = partitions(lake)
    victim = sorted(lake.raw_documents(), key=lambda d: d.source.url)[1]
    key = lake.raw_key(victim.sha256)
    if damage == "deleted":
        lake.store.delete(key)
    else:
        data = lake.store.read(key)
        lake.store.write(key, b"" if damage == "emptied" else data[:-1] + bytes([data[-1] ^ 1]))
    run("again")
    assert partitions(lake) == before
    reason = "raw_missing" if damage == "deleted" else "raw_damaged"
    assert {r["doc_id"]: r["reason"] for r in lake.rejects().values()} == {victim.doc_id: reason}


# -- the records the stages travel in -----------------------------------------------------------

def test_a_plan_and_its_units_records_read_back_as_written(tmp_path):
    """The plan, and each unit's record of what a stage did, are typed records whose JSON
    (what a task on another worker reads) gives them back unchanged."""
    from pipelines.batch import Plan, Scope, UnitDone
    from pipelines.lake import Partition
    from pipelines.records import Reject

    lake = seeded(tmp_path / "lake")
    docs = list(lake.raw_documents())
    plan = Plan("b", Scope.of(provinces=["530000"], years=[2019]), docs, [[0, 1], [2, 3, 4]],
                held={docs[0].doc_id}, copies={"c" * 16}, heal={Partition("530000", 2019)},
                rebuild=True, crawl_manifests=None)
    again = Plan.from_json(json.loads(json.dumps(plan.to_json())), lake)
    assert again == plan
    done = UnitDone(1, "extract", {"reports": 2, "cells": 9, "rejected": 1},
                    [Reject("d", "s", "u", "extract", "no_text", "why")], ["d", "e"], ["e"],
                    ["a warning"])
    assert UnitDone.from_json(json.loads(json.dumps(done.to_json()))) == done


@pytest.mark.parametrize("scope,rebuilt", [
    ({}, {("530000", 2019), ("220000", 2020), (None, None)}),
    ({"provinces": ["530000"]}, {("530000", 2019)}),
    ({"years": [2020]}, {("220000", 2020)}),
    ({"portals": ["p1"]}, None),
    ({"published_from": "2020-01-01"}, None),
], ids=["everything", "a-province", "a-year", "portals-name-rows", "dates-name-rows"])
def test_which_partitions_a_reprocess_rebuilds(scope, rebuilt):
    from pipelines.batch import Scope
    from pipelines.lake import Partition

    parts = [Partition("530000", 2019), Partition("220000", 2020), Partition(None, None)]
    chosen = Scope.of(**scope).partitions()
    assert (None if chosen is None else {(p.province, p.year) for p in parts if chosen(p)}) \
        == rebuilt


def test_a_stages_counts_are_read_from_its_record_not_from_output(tmp_path):
    """What a scheduler's task returns for a unit is what the stage recorded in the lake; a
    unit whose stage has not run is one clear message."""
    lake = seeded(tmp_path / "lake")
    stages.plan(lake, "rec", scope=stages.scope_of())
    with pytest.raises(ConfigError, match="unit 0 of batch 'rec' has no extract record"):
        stages.unit_counts(lake, "rec", "extract", 0)
    decoded = stages.decode(lake, "rec", 0)
    extracted = stages.extract(lake, "rec", 0)
    assert stages.unit_counts(lake, "rec", "decode", 0) == decoded
    assert stages.unit_counts(lake, "rec", "extract", 0) == extracted
    assert extracted["reports"] == 5
