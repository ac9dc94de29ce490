"""Damage to the raw zone never spreads into the tables: raw bytes are checked against their
recorded sha256 before processing, and a document whose bytes are lost or damaged keeps the
row it has; a damaged partition, sidecar, manifest or reject is skipped by readers, named, and
healed by the next load (issue 26)."""

from __future__ import annotations

import json
import tempfile
import uuid
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipelines.lake import Lake
from tests.conftest import SEEDS


def _flip(data: bytes) -> bytes:
    middle = len(data) // 2
    return data[:middle] + bytes([data[middle] ^ 0x55]) + data[middle + 1:]


DAMAGE = {
    "bit-flip": _flip,
    "cut-to-55-percent": lambda data: data[:len(data) * 55 // 100],
    "emptied": lambda data: b"",
    "one-byte-appended": lambda data: data + b"\n",
    "deleted": None,
}
REASON = {"deleted": "raw_missing"}


def _on_backends(names: str, cases: dict[str, tuple], s3: set[str]):
    """Parametrise ``lake_url`` with ``names``: every case (id → values) on local disk, and the
    cases named in ``s3`` on the loopback S3 endpoint as well. Above the store a damage is met
    the same way on both backends (the store's own contract runs on both in test_store.py);
    the S3 cases keep one of each way the store is reached (a read that fails on open, one
    that fails mid-scan, an object gone, a listing), where a test on every case would cost
    five times the CPU of the local ones for moto alone."""
    unknown = s3 - set(cases)
    assert not unknown, unknown
    params = [pytest.param(backend, *values, id=f"{backend}-{case}")
              for backend in ("local", "s3") for case, values in cases.items()
              if backend == "local" or case in s3]
    return pytest.mark.parametrize(f"lake_url,{names}", params, indirect=["lake_url"])


def _rows(cli, lake_url) -> dict[str, str]:
    done = cli("query", "--lake", lake_url, "--format", "json",
               "select doc_id, content_sha256, text from reports")
    assert done.returncode == 0, done.stderr
    return {r["doc_id"]: (r["content_sha256"], r["text"]) for r in json.loads(done.stdout)}


def _change(lake: Lake, key: str, change) -> None:
    """Apply ``change`` (bytes → bytes) to the object at ``key``; None deletes it."""
    if change is None:
        lake.store.delete(key)
    else:
        lake.store.write(key, change(lake.store.read(key)))


#: Per backend (and test worker): a lake that one ``govreports ingest`` of the seeds made.
_SEEDED: dict[str, str] = {}


def _ingested(cli, lake_url: str) -> None:
    """``lake_url`` holds what ``govreports ingest SEEDS`` lands: a copy, object by object, of
    one such ingest (each test damages its own copy; the ingest itself is tested elsewhere)."""
    backend = "s3" if lake_url.startswith("s3://") else "local"
    if backend not in _SEEDED:
        if backend == "s3":
            import boto3

            name = f"govreports-seeded-{uuid.uuid4().hex[:12]}"
            boto3.client("s3").create_bucket(Bucket=name)
            source = f"s3://{name}/lake"
        else:
            source = str(Path(tempfile.mkdtemp(prefix="govreports-seeded-")) / "lake")
        assert cli("ingest", "--lake", source, SEEDS).returncode == 0
        _SEEDED[backend] = source
    source_store = Lake.open(_SEEDED[backend]).store
    target = Lake.open(lake_url, writable=True).store
    for key in list(source_store.list("")):
        target.write(key, source_store.read(key))


def _victim(cli, lake_url, n: int):
    """The seeds ingested: their rows, the lake, and its n-th raw document by URL."""
    _ingested(cli, lake_url)
    lake = Lake.open(lake_url)
    return _rows(cli, lake_url), lake, sorted(lake.raw_documents(),
                                              key=lambda d: d.source.url)[n]


@_on_backends("damage,force", {f"{d}-{'process-force' if f else 'process'}": (d, f)
                               for d in DAMAGE for f in (False, True)},
              s3={"bit-flip-process", "bit-flip-process-force", "deleted-process-force"})
def test_damaged_raw_bytes_are_a_reject_and_the_good_row_is_kept(cli, lake_url, damage, force):
    before, lake, victim = _victim(cli, lake_url, 2)
    _change(lake, lake.raw_key(victim.sha256), DAMAGE[damage])
    done = cli("process", "--lake", lake_url, *(["--force"] if force else []))
    assert _rows(cli, lake_url) == before  # every row, the damaged document's included
    rejects = {r["doc_id"]: r["reason"] for r in Lake.open(lake_url).rejects().values()}
    if not force:  # up to date: its bytes are not read again, and its row stays
        assert done.returncode == 0 and rejects == {}, done.stdout + done.stderr
        return
    reason = REASON.get(damage, "raw_damaged")
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"[{reason}]" in " ".join(done.stdout.split()), done.stdout
    assert rejects == {victim.doc_id: reason}


# -- partitions: damaged, of another schema, stray; readers skip them, loads rebuild them ----

def _other_schema(data: bytes) -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(pa.table({"doc_id": ["x"] * 7, "n": list(range(7))}), sink)
    return sink.getvalue().to_pybytes()


def _phantoms(data: bytes) -> bytes:
    """The lake's own schema, with rows that have no doc_id appended."""
    rows = pq.read_table(pa.BufferReader(data))
    blank = pa.Table.from_pylist([{}] * 7, schema=rows.schema)
    sink = pa.BufferOutputStream()
    pq.write_table(pa.concat_tables([rows, blank]), sink)
    return sink.getvalue().to_pybytes()


def _zeroed_footer(data: bytes) -> bytes:
    return data[:-200] + bytes(200)


def _zeroed_inside(data: bytes) -> bytes:
    """Pages zeroed, the footer sound: only a reader of the pages finds it."""
    start = 4
    return data[:start] + bytes(len(data) // 2) + data[start + len(data) // 2:]


PARTITION_DAMAGE = {
    "truncated": lambda data: data[:len(data) // 2],
    "zeroed-footer": _zeroed_footer,
    "zeroed-inside": _zeroed_inside,
    "emptied": lambda data: b"",
    "not-parquet": lambda data: b"PAR1 this is not parquet\n",
    "other-schema": _other_schema,
    "rows-without-doc-id": _phantoms,
}


def _cells(cli, lake_url) -> list:
    done = cli("query", "--lake", lake_url, "--format", "json",
               "select doc_id, \"table\", row_key, column_key, raw from report_stats "
               "order by all")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _damage_partition(lake: Lake, table: str, damage: str, province: str | None = None) -> str:
    """Damage the partition of ``table`` (of ``province``) holding most rows; returns its
    key."""
    parts = [p for p in lake.partitions(table) if province in (None, p.province)]
    key = max((p.key(table) for p in parts),
              key=lambda k: pq.read_metadata(pa.BufferReader(lake.store.read(k))).num_rows)
    lake.store.write(key, PARTITION_DAMAGE[damage](lake.store.read(key)))
    return key


@_on_backends("damage,table", {f"{d}-{t}": (d, t) for d in PARTITION_DAMAGE
                               for t in ("reports", "report_stats")},
              s3={"truncated-reports", "zeroed-inside-report_stats", "rows-without-doc-id-reports"})
def test_a_damaged_partition_is_skipped_by_readers_and_rebuilt_by_process(
        cli, lake_url, table, damage, tmp_path):
    _ingested(cli, lake_url)
    rows, cells = _rows(cli, lake_url), _cells(cli, lake_url)
    key = _damage_partition(Lake.open(lake_url), table, damage)
    # Readers: no crash, no phantom row, the file named in one line.
    done = cli("query", "--lake", lake_url, "--format", "json",
               f"select count(*) - count(doc_id) as phantoms, count(*) as n from {table}")
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)[0]
    assert answer["phantoms"] == 0
    assert answer["n"] < len(rows if table == "reports" else cells)
    assert key in done.stderr and "doctor --repair" in done.stderr
    page = cli("report", "--lake", lake_url, "--out", tmp_path / "page")
    assert page.returncode == 0 and key in page.stderr, page.stderr
    # The load: the command the message names rebuilds every row and cell, the file's bytes
    # set aside under _quarantine/.
    fixed = cli("process", "--lake", lake_url)
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert key in " ".join(fixed.stdout.split())
    assert _rows(cli, lake_url) == rows
    assert _cells(cli, lake_url) == cells
    lake = Lake.open(lake_url)
    assert [k for k in lake.store.list("_quarantine/") if k.endswith(key)]
    again = cli("query", "--lake", lake_url, "select count(*) from reports")
    assert again.returncode == 0 and "damaged" not in again.stderr


@_on_backends("table,damage,command", {
    f"{t}-{d}-{c}": (t, d, c) for t, d in (("reports", "truncated"), ("report_stats", "truncated"),
                                           ("report_stats", "deleted"))
    for c in ("ingest", "process-scoped", "process-force")},
    s3={"reports-truncated-ingest", "report_stats-deleted-process-scoped"})
def test_any_load_heals_a_damaged_partition(cli, lake_url, table, damage, command, tmp_path):
    """Not only a plain ``process``: a load of other documents, and a rebuild of another
    scope, rebuild the damaged partition whole (they read again what no readable row stands
    for, and the reports whose cells are not all there: ``stats_cells``)."""
    seeds = sorted(Path(SEEDS).iterdir())
    assert cli("ingest", "--lake", lake_url, *seeds[:4]).returncode == 0
    rows, cells = _rows(cli, lake_url), _cells(cli, lake_url)
    lake = Lake.open(lake_url)
    if damage == "deleted":
        lake.store.delete(lake.partitions(table)[0].key(table))
    else:
        _damage_partition(lake, table, damage)
    if command == "ingest":
        done = cli("ingest", "--lake", lake_url, seeds[4])
    elif command == "process-scoped":  # a scope that does not name the damaged partition
        done = cli("process", "--lake", lake_url, "--year", "2009")
    else:
        done = cli("process", "--lake", lake_url, "--force")
    assert done.returncode == 0, done.stdout + done.stderr
    after = _rows(cli, lake_url)
    assert {d: after[d] for d in rows} == rows
    assert [c for c in _cells(cli, lake_url) if c["doc_id"] in rows] == cells


def test_a_stray_partition_folder_is_no_partition(cli, lake_url):
    _ingested(cli, lake_url)
    rows = _rows(cli, lake_url)
    lake = Lake.open(lake_url)
    some = lake.store.read(lake.partitions("reports")[0].key("reports"))
    strays = ["reports/province=530000/year=2031/data.parquet",  # a new partition: another schema
              "reports/province=yunnan/year=2020/data.parquet",  # no province code
              "reports/province=530000/year=2020/extra/data.parquet"]
    lake.store.write(strays[0], _other_schema(some))
    for key in strays[1:]:
        lake.store.write(key, some)
    done = cli("query", "--lake", lake_url, "--format", "json",
               "select count(*) as n, count(doc_id) as ids from reports")
    assert done.returncode == 0 and json.loads(done.stdout) == [{"n": len(rows), "ids": len(rows)}]
    assert all(key in done.stderr for key in strays), done.stderr
    assert cli("process", "--lake", lake_url).returncode == 0
    assert _rows(cli, lake_url) == rows
    assert not Lake.open(lake_url).store.exists(strays[0])  # set aside under _quarantine/


# -- sidecars: lost or damaged, the row stays and a reject says why ---------------------------

SIDECAR_DAMAGE = {
    "deleted": None,
    "cut-short": lambda data: data[:len(data) // 2],
    "a-list": lambda data: b"[1, 2, 3]",
    "wrong-types": lambda data: json.dumps({**json.loads(data), "size": "big",
                                            "headers": [1]}).encode(),
    "not-utf8": lambda data: b"\xff\xfe" + data,
    "another-documents": lambda data: json.dumps(
        {**json.loads(data), "url": "file:///elsewhere.txt"}).encode(),
}


@_on_backends("damage,force", {f"{d}-{'process-force' if f else 'process'}": (d, f)
                               for d in SIDECAR_DAMAGE for f in (False, True)},
              s3={"deleted-process", "cut-short-process-force", "another-documents-process"})
def test_a_lost_or_damaged_sidecar_keeps_the_row_with_a_reject(cli, lake_url, damage, force):
    before, lake, victim = _victim(cli, lake_url, 1)
    key = lake.sidecar_key(victim.sha256, victim.source.source_id)
    _change(lake, key, SIDECAR_DAMAGE[damage])
    done = cli("process", "--lake", lake_url, *(["--force"] if force else []))
    assert "Traceback" not in done.stderr, done.stderr
    assert _rows(cli, lake_url) == before  # the row stays
    reason = "sidecar_missing" if damage == "deleted" else "sidecar_damaged"
    rejects = {r["doc_id"]: r["reason"] for r in Lake.open(lake_url).rejects().values()}
    assert rejects == {victim.doc_id: reason}
    assert done.returncode == 1 and f"[{reason}]" in " ".join(done.stdout.split())
    if damage != "deleted":
        assert key in " ".join(done.stdout.split())  # the damaged sidecar named
    # Ingesting the file again heals it: the reject goes, the row is as it was.
    assert cli("ingest", "--lake", lake_url, victim.source.url[len("file://"):]).returncode == 0
    assert Lake.open(lake_url).rejects() == {}
    assert _rows(cli, lake_url) == before


# -- manifests and rejects: a damaged one is skipped and named --------------------------------

JSON_DAMAGE = {
    "not-utf8": lambda data: b"\xff" + data,
    "cut-in-half": lambda data: data[:len(data) // 2],
    "a-list": lambda data: b"[]",
    "wrong-shape": lambda data: json.dumps({**json.loads(data), "portals": {
        "p": {"counts": [], "failures": [1], "blocked": "x"}}}).encode(),
}


@pytest.mark.parametrize("damage", list(JSON_DAMAGE), ids=list(JSON_DAMAGE))
def test_a_damaged_manifest_or_reject_is_skipped_and_named(cli, lake_url, damage, tmp_path):
    _ingested(cli, lake_url)
    lake = Lake.open(lake_url)
    crawl = {"run_id": "20260101T000000Z-crawl", "command": "crawl",
             "started_at": "2026-01-01T00:00:00+00:00",
             "portals": {"p": {"counts": {"status": "ok"}, "landed": [], "failures": []}}}
    manifest = lake.write_manifest(crawl["run_id"], crawl)
    lake.write_json(lake.reject_key("file:bad"), {"doc_id": "file:bad", "reason": "empty"})
    reject = lake.reject_key("file:bad")
    for key in (manifest, reject):
        lake.store.write(key, JSON_DAMAGE[damage](lake.store.read(key)))
    page = cli("report", "--lake", lake_url, "--out", tmp_path / "page")
    assert page.returncode == 0, page.stderr
    assert manifest in page.stderr
    if damage != "wrong-shape":  # a reject of another shape is still a reject's fields
        assert reject in page.stderr
    done = cli("query", "--lake", lake_url, "select count(*) from rejects")
    assert done.returncode == 0, done.stderr


# -- govreports doctor ------------------------------------------------------------------------

def _first_doc(lake: Lake):
    return sorted(lake.raw_documents(), key=lambda d: d.source.url)[0]


def _sidecar_of(lake: Lake) -> str:
    doc = _first_doc(lake)
    return lake.sidecar_key(doc.sha256, doc.source.source_id)


def _dead_pid() -> int:
    import os
    pid = 999_999
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return pid
        except PermissionError:
            pass
        pid -= 1


def _stale_temp(lake: Lake) -> str:
    from pipelines.store import _HOST, TMP_DIR
    name = f"{_dead_pid()}.{_HOST}.abc.tmp"
    folder = Path(lake.url[len("file://"):]) / TMP_DIR
    folder.mkdir(exist_ok=True)
    (folder / name).write_bytes(b"half")
    return f"{TMP_DIR}/{name}"


def _write(key: str, data: bytes):
    def damage(lake: Lake) -> str:
        lake.store.write(key, data)
        return key
    return damage


def _replace(pick, change):
    def damage(lake: Lake) -> str:
        key = pick(lake)
        _change(lake, key, change)
        return key
    return damage


def _partition_key(table):
    return lambda lake: lake.partitions(table)[0].key(table)


def _expired_lease(lake: Lake) -> str:
    lake.store.write("_lease/load.json", json.dumps(
        {"run_id": "old", "host": "elsewhere", "pid": 1, "since": 1.0, "renewed": 1.0,
         "expires": 2.0}).encode())
    return "_lease/load.json"


#: kind → (how to cause it, what the finding's key is, whether --repair fixes it)
DOCTOR_CASES = {
    "raw_without_sidecar": (_replace(_sidecar_of, None),
                            lambda lake, key: lake.raw_key(_RAW_SHA(key)), False),
    "sidecar_without_raw": (_replace(lambda lake: lake.raw_key(_first_doc(lake).sha256), None),
                            lambda lake, _key: _sidecar_of(lake), False),
    "hash_mismatch": (_replace(lambda lake: lake.raw_key(_first_doc(lake).sha256), _flip),
                      None, False),  # quarantined: the bytes must be fetched again
    "sidecar_damaged": (_replace(_sidecar_of, lambda data: data[:9]), None, False),
    "partition_damaged-reports": (_replace(_partition_key("reports"), lambda d: d[:99]),
                                  None, True),
    "partition_damaged-report_stats": (_replace(_partition_key("report_stats"), _zeroed_footer),
                                       None, True),
    "stray_object-raw": (_write("raw/zz/notes.txt", b"hello"), None, True),
    "stray_object-table": (_write("reports/province=530000/year=2020/copy.parquet", b"x"),
                           None, True),
    "manifest_damaged": (_write("_runs/20260101T000000Z-x.json", b"{\"run_id\": "), None, True),
    "reject_damaged": (_write("rejects/x.json", b"[]"), None, True),
    "state_damaged": (_write("_crawl/portal-a/state.json", b"\x00\x01"), None, True),
    "stuck_lease": (_expired_lease, None, True),
    "interrupted_load": (_write("_lease/intent.json", json.dumps(
        {"run_id": "x", "targets": {"file:///gone.txt": ["530000", 2019]}}).encode()),
                         None, True),
    "intent_damaged": (_write("_lease/intent.json", b'{"run_id": "x", "targets": [1]}'),
                       None, True),
}


def _RAW_SHA(sidecar_key: str) -> str:
    return sidecar_key.split("/")[2].split(".")[0]


@_on_backends("case", {case: (case,) for case in DOCTOR_CASES},
              s3={"raw_without_sidecar", "hash_mismatch", "partition_damaged-reports",
                  "stray_object-table", "stuck_lease", "interrupted_load"})
def test_doctor_names_each_kind_of_damage_and_repairs_what_it_can(cli, lake_url, case):
    kind = case.split("-")[0]
    cause, named, repairable = DOCTOR_CASES[case]
    _ingested(cli, lake_url)
    before = _rows(cli, lake_url)
    sound = cli("doctor", "--lake", lake_url)
    assert sound.returncode == 0 and "the lake is sound" in sound.stdout, sound.stdout
    lake = Lake.open(lake_url)
    key = cause(lake)
    key = named(lake, key) if named else key
    found = cli("doctor", "--lake", lake_url, "--format", "json")
    assert found.returncode == 1, found.stdout + found.stderr
    findings = {(f["kind"], f["key"]) for f in json.loads(found.stdout)["findings"]}
    assert (kind, key) in findings, findings
    fixed = cli("doctor", "--lake", lake_url, "--repair", "--format", "json")
    assert "Traceback" not in fixed.stderr, fixed.stderr
    report = json.loads(fixed.stdout)
    mine = [f for f in report["findings"] if f["key"] == key]
    assert mine and mine[0]["done"], report
    assert fixed.returncode == (0 if repairable else 1), report["remaining"]
    if repairable:
        assert report["remaining"] == []
        assert cli("doctor", "--lake", lake_url).returncode == 0
    # Nothing the raw zone supports was lost, and the quarantine holds what was set aside.
    after = _rows(cli, lake_url)
    assert set(after) == set(before)
    if mine[0]["done"].startswith("quarantined"):
        kept = mine[0]["done"].split(" as ")[1].split(",")[0]
        assert Lake.open(lake_url).store.exists(kept)


def test_doctor_on_a_missing_lake_is_one_line(cli, tmp_path):
    done = cli("doctor", "--lake", tmp_path / "nowhere")
    assert done.returncode == 2 and "does not exist" in done.stderr


def test_doctor_removes_a_killed_writers_temporary_file(cli, tmp_path):
    """A local lake only: on S3 a PUT is whole, and leaves no temporary object."""
    lake_url = str(tmp_path / "lake")
    _ingested(cli, lake_url)
    key = _stale_temp(Lake.open(lake_url))
    found = cli("doctor", "--lake", lake_url, "--format", "json")
    assert found.returncode == 1
    assert {(f["kind"], f["key"]) for f in json.loads(found.stdout)["findings"]} == {
        ("stale_temp", key)}
    assert cli("doctor", "--lake", lake_url, "--repair").returncode == 0
    assert not (tmp_path / "lake" / key).exists()


@pytest.mark.parametrize("table", ["reports", "report_stats"])
def test_the_scheduler_stages_heal_a_damaged_partition_outside_their_scope(cli, lake_url, table):
    """The Airflow path (plan, decode, extract, load): a reprocess of another province reads
    the damaged partition's documents too, and its load rebuilds that partition whole."""
    from pipelines import stages

    _ingested(cli, lake_url)
    rows, cells = _rows(cli, lake_url), _cells(cli, lake_url)
    lake = Lake.open(lake_url, writable=True)
    key = _damage_partition(lake, table, "truncated", province="220000")
    planned = stages.plan(lake, "heal", scope=stages.scope_of(provinces=["530000"]))
    assert lake.read_json(planned["plan"])["heal"]
    stages.decode(lake, "heal")
    stages.extract(lake, "heal")
    loaded = stages.load(lake, "heal", run_id="heal")
    assert key in loaded["written"]
    assert _rows(cli, lake_url) == rows and _cells(cli, lake_url) == cells
    manifest = lake.read_json(loaded["manifest"])
    assert any(key in warning for warning in manifest["warnings"])
