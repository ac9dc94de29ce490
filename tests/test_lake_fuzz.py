"""Lake damage, fuzzed: random truncation, bit flips, deletion and wrong types in raw objects,
sidecars, manifests, rejects, crawl state, partitions of both tables and the lease; then
``doctor --repair`` and ``process``, as an operator would run them.

Whatever the damage: nothing crashes, no phantom row appears, every damaged object the lake
can tell is named by the doctor, and no good row is lost (a row may go only when both its
partition and its document's raw bytes or sidecar were damaged: nothing is left to rebuild it
from)."""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.lake import Lake
from pipelines.records import CrawlEntry
from tests.conftest import SEEDS

#: Examples per run (``GOVREPORTS_LAKE_FUZZ_EXAMPLES``); each copies a small lake and runs the
#: doctor and a process over it.
EXAMPLES = int(os.environ.get("GOVREPORTS_LAKE_FUZZ_EXAMPLES", "40"))

TARGETS = ("raw", "sidecar", "manifest", "reject", "crawl_state", "reports", "report_stats",
           "lease", "intent")
BINARY = {"raw", "reports", "report_stats"}
#: Operations per kind of object. JSON objects get no random bit flip: a flipped letter in a
#: string value (a date, a file name) is a different but well-formed object that nothing can
#: tell from the original; its cut, emptied, mistyped and undecodable forms are tested.
OPS = {"binary": ("truncate", "flip", "delete", "empty", "other_schema"),
       "json": ("truncate", "delete", "empty", "wrong_types", "not_utf8", "a_list")}


@dataclass(frozen=True)
class Damage:
    target: str
    index: int
    op: str
    where: float  # the fraction of the object's length where a cut or a flip happens


@st.composite
def damages(draw) -> list[Damage]:
    found = []
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        target = draw(st.sampled_from(TARGETS))
        ops = OPS["binary" if target in BINARY else "json"]
        if target == "raw":
            ops = tuple(op for op in ops if op != "other_schema")
        found.append(Damage(target, draw(st.integers(min_value=0, max_value=20)),
                            draw(st.sampled_from(ops)),
                            draw(st.floats(min_value=0.0, max_value=0.95))))
    return found


def _cli(*args) -> tuple[int, str, str]:
    from crawlers.cli import main

    result = CliRunner().invoke(main, [str(a) for a in args],
                                env={"GOVREPORTS_LAKE": "", "GOVREPORTS_LEASE_WAIT": "5"})
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        import traceback
        raise AssertionError("".join(traceback.format_exception(result.exception)))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def base_lake(tmp_path_factory) -> Path:
    """A small lake with an object of every kind: the seeds' raw zone and rows, a reject, a
    crawl manifest and crawl state."""
    root = tmp_path_factory.mktemp("fuzz")
    inputs = root / "inputs"
    shutil.copytree(SEEDS, inputs)
    (inputs / "empty.txt").write_bytes(b"")
    lake_dir = root / "lake"
    code, out, err = _cli("ingest", "--lake", lake_dir, inputs, "--jobs", "1")
    assert code == 1, out + err  # the empty file is rejected
    lake = Lake.open(str(lake_dir), writable=True)
    entry = CrawlEntry(url="http://127.0.0.1/a.html", sha256="0" * 64, fetched_at="2026")
    lake.put_crawl_entry("portal-a", entry)
    lake.compact_crawl_state("portal-a")
    lake.write_manifest("20260101T000000Z-crawl", {
        "run_id": "20260101T000000Z-crawl", "command": "crawl",
        "started_at": "2026-01-01T00:00:00+00:00",
        "portals": {"portal-a": {"counts": {"status": "ok"}, "landed": [], "failures": []}}})
    return lake_dir


def _objects(lake: Lake, target: str) -> list[str]:
    keys = {
        "raw": [k for k in lake.store.list("raw/") if not k.endswith(".json")],
        "sidecar": [k for k in lake.store.list("raw/") if k.endswith(".json")],
        "manifest": list(lake.store.list("_runs/")),
        "reject": list(lake.store.list("rejects/")),
        "crawl_state": list(lake.store.list("_crawl/")),
        "reports": list(lake.store.list("reports/")),
        "report_stats": list(lake.store.list("report_stats/")),
        "lease": ["_lease/load.json"],
        "intent": ["_lease/intent.json"],
    }[target]
    return sorted(keys)


def _other_schema() -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(pa.table({"doc_id": [None, "x"], "n": [1, 2]}), sink)
    return sink.getvalue().to_pybytes()


EXPIRED_LEASE = json.dumps({"run_id": "old", "command": "process", "host": "elsewhere",
                            "pid": 1, "since": 1.0, "renewed": 1.0, "expires": 2.0}).encode()


#: The intent a killed load leaves (its documents' partitions), damaged by the fuzz.
INTENT = json.dumps({"run_id": "old", "targets": {"file:///x.txt": ["530000", 2019]},
                     "absorbed": []}).encode()


def _apply(lake: Lake, damage: Damage) -> tuple[str, str] | None:
    """Damage one object; returns (its key, the operation) when something changed."""
    keys = _objects(lake, damage.target)
    if not keys:  # all deleted by an earlier damage
        return None
    key = keys[damage.index % len(keys)]
    try:
        data = lake.store.read(key)
    except KeyError:
        data = {"lease": EXPIRED_LEASE, "intent": INTENT}.get(damage.target)
    if data is None:
        return None
    cut = int(len(data) * damage.where)
    new = {
        "truncate": data[:cut],
        "flip": data[:cut] + bytes([data[cut] ^ 0x24]) + data[cut + 1:] if data else b"",
        "empty": b"",
        "other_schema": _other_schema(),
        "wrong_types": json.dumps(_mistyped(data)).encode(),
        "not_utf8": b"\xff\xfe" + data,
        "a_list": b"[1, 2]",
        "delete": None,
    }[damage.op]
    if new is None:
        if damage.target in ("lease", "intent"):
            return None  # no lease is a free lease, no intent a finished load
        lake.store.delete(key)
        return key, damage.op
    if new == data:
        return None
    lake.store.write(key, new)
    return key, damage.op


def _same_rows(now: bytes | None, was: bytes | None) -> bool:
    """Whether two versions of a partition file give a reader the same thing: the same rows
    and schema, and column chunks that name the same columns with the same statistics (what
    readers filter by). A bit flipped where no reader looks (a page header's statistics, a
    size field kept for information, padding) changes nothing anyone reads: no damage to
    name."""
    if now is None or was is None or now[:4] != b"PAR1" or now[-4:] != b"PAR1":
        return False
    try:
        mine, theirs = (pq.ParquetFile(pa.BufferReader(d), page_checksum_verification=True)
                        for d in (now, was))
        return _chunks(mine.metadata) == _chunks(theirs.metadata) and \
            mine.schema_arrow.equals(theirs.schema_arrow) and mine.read().equals(theirs.read())
    except (pa.ArrowException, OSError):
        return False


def _chunks(metadata: pq.FileMetaData) -> list:
    """Each column chunk's column and statistics, row group by row group."""
    return [(group.num_rows, [(chunk["path_in_schema"], chunk["statistics"])
                              for chunk in group.to_dict()["columns"]])
            for group in (metadata.row_group(i) for i in range(metadata.num_row_groups))]


def _mistyped(data: bytes):
    try:
        value = json.loads(data)
    except ValueError:
        return {"doc_id": 5}
    if isinstance(value, dict):
        return {k: [v] if not isinstance(v, list) else {"x": v} for k, v in value.items()}
    return {"wrong": value}


def _rows(lake_dir: Path) -> dict[str, tuple]:
    code, out, err = _cli("query", "--lake", lake_dir, "--format", "json",
                          "select doc_id, content_sha256, text, province_code, report_year "
                          "from reports")
    assert code == 0, err
    return {r["doc_id"]: (r["content_sha256"], r["text"], r["province_code"], r["report_year"])
            for r in json.loads(out)}


def _phantoms(lake_dir: Path) -> int:
    code, out, err = _cli("query", "--lake", lake_dir, "--format", "json",
                          "select (select count(*) - count(doc_id) from reports) + "
                          "(select count(*) - count(doc_id) from report_stats) as n")
    assert code == 0, err
    return json.loads(out)[0]["n"]


def _cells(lake_dir: Path) -> dict[str, list]:
    code, out, err = _cli("query", "--lake", lake_dir, "--format", "json",
                          "select doc_id, \"table\", row_key, column_key, raw from report_stats "
                          "order by all")
    assert code == 0, err
    cells: dict[str, list] = {}
    for cell in json.loads(out):
        cells.setdefault(cell["doc_id"], []).append(cell)
    return cells


class Before(tuple):
    """The base lake's rows, cells and raw documents (shown short in a failure's report)."""

    def __repr__(self) -> str:
        return f"<the base lake: {len(self[0])} rows>"


@pytest.fixture(scope="module")
def before(base_lake):
    lake = Lake.open(str(base_lake))
    docs = {d.doc_id: d for d in lake.raw_documents()}
    return Before((_rows(base_lake), _cells(base_lake), docs))


@settings(max_examples=EXAMPLES, derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(plan=damages())
def test_a_damaged_lake_heals_without_losing_a_good_row(base_lake, before, tmp_path_factory,
                                                       plan):
    rows_before, cells_before, docs = before
    lake_dir = tmp_path_factory.mktemp("damaged") / "lake"
    shutil.copytree(base_lake, lake_dir)
    lake = Lake.open(str(lake_dir))
    done = [d for d in (_apply(lake, damage) for damage in plan) if d]
    base = Lake.open(str(base_lake)).store
    last = {}  # each object that ends other than it began, and its last operation
    for key, op in done:
        try:
            now = lake.store.read(key)
        except KeyError:
            now = None
        try:
            was = base.read(key)
        except KeyError:
            was = None
        if now != was and not _same_rows(now, was):
            last[key] = "delete" if now is None else op
    damaged = set(last)

    code, out, _err = _cli("doctor", "--lake", lake_dir, "--format", "json", "--no-hashes")
    assert code in (0, 1)
    code, out, err = _cli("doctor", "--lake", lake_dir, "--format", "json")
    assert code in (0, 1), err
    named = {f["key"] for f in json.loads(out)["findings"]}
    for key, op in last.items():  # every damaged object the lake can tell is named
        if op == "delete" and not key.startswith("raw/"):
            continue  # a manifest, reject or partition that is gone is simply absent
        if key.startswith("raw/") and op == "delete":
            sha = key.split("/")[2].split(".")[0]
            assert any(sha in k for k in named), (key, named)
        else:
            assert key in named, (key, op, named)

    code, out, err = _cli("doctor", "--lake", lake_dir, "--repair", "--format", "json",
                          "--jobs", "1")
    assert code in (0, 1), err
    code, out, err = _cli("process", "--lake", lake_dir, "--jobs", "1")
    assert code in (0, 1), out + err

    assert _phantoms(lake_dir) == 0
    rows_after = _rows(lake_dir)
    assert set(rows_after) <= set(rows_before)  # no row of nothing
    lost_source = {doc_id for doc_id, doc in docs.items()
                   if any(doc.sha256 in key for key in damaged if key.startswith("raw/"))}
    hit = {key.split("/")[1] + "/" + key.split("/")[2] for key in damaged
           if key.startswith(("reports/", "report_stats/"))}
    for doc_id, (_sha, _text, province, year) in rows_before.items():
        part = f"province={province or '__HIVE_DEFAULT_PARTITION__'}/year=" \
               f"{year or '__HIVE_DEFAULT_PARTITION__'}"
        if doc_id in lost_source and part in hit:
            continue  # both copies of it damaged: nothing is left to rebuild it from
        assert doc_id in rows_after, (doc_id, done)
        assert rows_after[doc_id] == rows_before[doc_id], (doc_id, done)
    cells_after = _cells(lake_dir)
    for doc_id, cells in cells_before.items():
        if doc_id in lost_source:
            continue
        assert cells_after.get(doc_id) == cells, (doc_id, done)
