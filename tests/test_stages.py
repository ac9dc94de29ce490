"""The pipeline as separate stages (what the DAGs run) gives what ``process.run`` gives in one
go; each stage can run again alone; crawl shards never split a host."""

from __future__ import annotations

import json

import pytest

from crawlers.portals import Portal
from crawlers.shards import shards
from pipelines import process, stages
from pipelines.errors import ConfigError
from pipelines.lake import Lake
from pipelines.records import Source
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
    process.run(at_once, list(at_once.raw_documents()), process.new_run("process", at_once))
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
    assert stages.batch_id(a) != stages.batch_id(b)
    assert all(stages._UNSAFE.search(x) is None for x in (stages.batch_id(a), stages.batch_id(b)))
    assert stages.batch_id("scheduled-2026") == "scheduled-2026"  # a safe id is kept as it is


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
                       "cut.docx": ("extract", "corrupt_docx")}


def test_an_empty_batch_stages_and_loads_nothing(tmp_path):
    lake = seeded(tmp_path / "lake")
    process.run(lake, list(lake.raw_documents()), process.new_run("process", lake))
    before = partitions(lake)
    stages.plan(lake, "empty", crawl_manifests=[], scope=stages.scope_of())
    assert stages.decode(lake, "empty")["decoded"] == 0
    assert stages.extract(lake, "empty")["reports"] == 0
    loaded = stages.load(lake, "empty")
    assert loaded["reports"] == 0 and loaded["written"] == [] and partitions(lake) == before
