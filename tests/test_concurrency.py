"""Concurrent runs on one lake, raced for real: CLI processes at once on local disk and on the
loopback S3 endpoint, rows counted afterwards. The debug pauses (pipelines/load.py) widen the
windows in which runs used to lose each other's rows, so that every trial exercises them.

``GOVREPORTS_RACE_TRIALS`` (default 1: the pauses make every trial run the race) repeats each
race that many times.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from pipelines.lake import LOAD_LEASE, Lake
from pipelines.records import CrawlEntry
from pipelines.store import TMP_DIR
from tests.conftest import GOVREPORTS, SEEDS

pytestmark = pytest.mark.e2e  # real processes: crawls, races, Airflow

TRIALS = int(os.environ.get("GOVREPORTS_RACE_TRIALS", "1"))
SEED = next(SEEDS.glob("003_*.txt"))  # 西邑乡 2019


def _documents(folder: Path, prefix: str, count: int) -> Path:
    """``count`` distinct report texts (one partition: 2019, the province given at ingest)."""
    text = SEED.read_text(encoding="utf-8")
    folder.mkdir(parents=True)
    for n in range(count):
        (folder / f"{prefix}-{n:03d}.txt").write_text(f"{text}\n附注：{prefix} 第{n}份\n",
                                                      encoding="utf-8")
    return folder


def _start(lake_url: str, *args, env=None) -> subprocess.Popen:
    full = {**os.environ, "GOVREPORTS_LAKE": "", **(env or {})}
    return subprocess.Popen([*GOVREPORTS, *args, "--lake", lake_url, "--allow-rejects"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=full)


def _finish(proc: subprocess.Popen) -> tuple[int, str]:
    out, err = proc.communicate(timeout=300)
    return proc.returncode, out + err


def _doc_ids(lake_url: str) -> list[str]:
    lake = Lake.open(lake_url)
    return [row["doc_id"] for part in lake.partitions("reports")
            for row in lake.read_partition("reports", part, columns=["doc_id"]).to_pylist()]


def _ingest_args(folder: Path) -> list[str]:
    return ["ingest", str(folder), "--province", "530502"]


def _paused(release: Path, **pauses: str) -> dict:
    """A run's environment with debug pauses of at most the given seconds, each ended as soon
    as ``release`` exists (pipelines.load._debug_pause)."""
    return {"GOVREPORTS_DEBUG_RELEASE": str(release), **pauses}


def _when_paused(release: Path, run: subprocess.Popen) -> None:
    """Wait until ``run`` is in one of its debug pauses."""
    deadline = time.monotonic() + 90
    while not Path(f"{release}.paused").exists():
        assert time.monotonic() < deadline and run.poll() is None, run.communicate()
        time.sleep(0.05)


@pytest.mark.parametrize("trial", range(TRIALS), ids=lambda n: f"trial-{n}")
def test_two_ingests_at_once_lose_no_rows(lake_url, tmp_path, trial):
    first = _documents(tmp_path / "a", "a", 6)
    second = _documents(tmp_path / "b", "b", 6)
    pause = {"GOVREPORTS_DEBUG_LOAD_PAUSE": "0.4"}
    runs = [_start(lake_url, *_ingest_args(folder), env=pause) for folder in (first, second)]
    outcomes = [_finish(run) for run in runs]
    assert [code for code, _ in outcomes] == [0, 0], outcomes
    ids = _doc_ids(lake_url)
    assert len(ids) == 12 and len(set(ids)) == 12


@pytest.mark.parametrize("trial", range(TRIALS), ids=lambda n: f"trial-{n}")
def test_a_full_process_keeps_rows_an_ingest_landed_meanwhile(lake_url, tmp_path, cli, trial):
    base = _documents(tmp_path / "base", "base", 4)
    assert cli("ingest", *_ingest_args(base)[1:], "--lake", lake_url).returncode == 0
    # process lists the raw zone, then waits before loading; the ingest lands in between.
    # --force: every document read again (a process of an unchanged lake reads none).
    release = tmp_path / "release"
    process = _start(lake_url, "process", "--force",
                     env=_paused(release, GOVREPORTS_DEBUG_LEASE_PAUSE="90"))
    _when_paused(release, process)
    late = _documents(tmp_path / "late", "late", 2)
    code, output = _finish(_start(lake_url, *_ingest_args(late)))
    assert code == 0, output
    assert process.poll() is None, "process finished before the ingest: the race was not run"
    release.touch()
    code, output = _finish(process)
    assert code == 0, output
    manifest = _latest_manifest(lake_url, "process")
    assert manifest["counts"]["inputs"] == 4, "process must have listed the raw zone first"
    ids = _doc_ids(lake_url)
    assert len(ids) == 6 and len(set(ids)) == 6


def _when_holding_the_lease(lake_url: str, run: subprocess.Popen) -> Lake:
    """Wait until ``run`` holds the lake's load lease; the lake."""
    lake = Lake.open(lake_url)
    deadline = time.monotonic() + 90
    while not lake.store.exists(LOAD_LEASE):
        assert time.monotonic() < deadline and run.poll() is None, run.communicate()
        time.sleep(0.05)
    return lake


def _latest_manifest(lake_url: str, command: str) -> dict:
    lake = Lake.open(lake_url)
    manifests = [json.loads(lake.store.read(k)) for k in lake.store.list("_runs/")]
    return max((m for m in manifests if m.get("command") == command),
               key=lambda m: m["finished_at"])


def test_a_busy_lake_is_named_and_the_waiter_can_retry(lake_url, tmp_path):
    release = tmp_path / "release"
    holder = _start(lake_url, *_ingest_args(_documents(tmp_path / "a", "a", 2)),
                    env=_paused(release, GOVREPORTS_DEBUG_LOAD_PAUSE="90"))
    _when_holding_the_lease(lake_url, holder)
    code, output = _finish(_start(lake_url, *_ingest_args(_documents(tmp_path / "b", "b", 2)),
                                  env={"GOVREPORTS_LEASE_WAIT": "0.5"}))
    assert code == 3, output
    assert "busy since" in output and "held by run" in output and "Traceback" not in output
    assert holder.poll() is None, "the holder finished before the waiter gave up"
    release.touch()
    assert _finish(holder)[0] == 0
    # The documents of the refused run are in raw/: a later process lands them.
    code, output = _finish(_start(lake_url, "process"))
    assert code == 0, output
    assert len(set(_doc_ids(lake_url))) == 4


def test_a_killed_holder_does_not_lock_the_lake(lake_url, tmp_path):
    holder = _start(lake_url, *_ingest_args(_documents(tmp_path / "a", "a", 2)),
                    env={"GOVREPORTS_DEBUG_LOAD_PAUSE": "30"})
    lake = _when_holding_the_lease(lake_url, holder)
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    assert lake.store.exists(LOAD_LEASE)  # left behind by the kill
    started = time.monotonic()
    code, output = _finish(_start(lake_url, *_ingest_args(_documents(tmp_path / "b", "b", 2)),
                                  env={"GOVREPORTS_LEASE_WAIT": "20"}))
    assert code == 0, output
    assert time.monotonic() - started < 20  # taken over at once: its holder is gone
    assert not lake.store.exists(LOAD_LEASE)
    code, output = _finish(_start(lake_url, "process"))
    assert code == 0 and len(set(_doc_ids(lake_url))) == 4, output


def test_temporary_files_of_a_killed_writer_are_removed_by_the_next_run(tmp_path, cli):
    lake_dir = tmp_path / "lake"
    dead = subprocess.Popen(["true"])  # a pid that has exited
    dead.wait()
    host = _host()
    leftover = lake_dir / TMP_DIR / f"{dead.pid}.{host}.0123456789abcdef.tmp"
    leftover.parent.mkdir(parents=True)
    leftover.write_bytes(b"half a partition")
    mine = lake_dir / TMP_DIR / f"{os.getpid()}.{host}.fedcba9876543210.tmp"  # a live writer's
    mine.write_bytes(b"being written")
    elsewhere = lake_dir / TMP_DIR / f"{dead.pid}.another-host.00000000.tmp"  # not ours to judge
    elsewhere.write_bytes(b"another host's")
    result = cli("ingest", SEED, "--lake", lake_dir)
    assert result.returncode == 0, result.stderr
    assert not leftover.exists() and mine.exists() and elsewhere.exists()


def _host() -> str:
    from pipelines import store

    return store._HOST


def _land_and_compact(lake_url: str, name: str, count: int, env: dict) -> None:
    os.environ.update(env)
    lake = Lake.open(lake_url, writable=True)
    for n in range(count):
        url = f"http://127.0.0.1/{name}/{n}.html"
        lake.put_crawl_entry("portal", CrawlEntry(url=url, sha256="0" * 64))
        if n % 3 == 2:
            lake.compact_crawl_state("portal")
    lake.compact_crawl_state("portal")


def test_two_crawls_compacting_one_portal_state_lose_no_entry(lake_url, aws_env):
    import multiprocessing

    context = multiprocessing.get_context("spawn")  # fresh processes, as two workers are
    workers = [context.Process(target=_land_and_compact, args=(lake_url, name, 30, aws_env))
               for name in ("a", "b")]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
        assert worker.exitcode == 0
    state = Lake.open(lake_url).crawl_state("portal")
    assert len(state) == 60


# -- documents that change partition while runs overlap (from an adversarial review) ----------

def _one(folder: Path, text_suffix: str = "移动的那一份") -> Path:
    folder.mkdir(parents=True)
    (folder / "d-000.txt").write_text(f"{SEED.read_text(encoding='utf-8')}\n附注：{text_suffix}\n",
                                      encoding="utf-8")
    return folder


def _placements(lake_url: str) -> dict[str, list[str]]:
    lake = Lake.open(lake_url)
    where: dict[str, list[str]] = {}
    for part in lake.partitions("reports"):
        for row in lake.read_partition("reports", part, columns=["doc_id"]).to_pylist():
            where.setdefault(row["doc_id"], []).append(part.province)
    return where


@pytest.mark.parametrize("scope", [["--province", "530000", "--year", "2019"], []],
                         ids=["scoped-process", "full-process"])
def test_a_newer_version_landed_during_a_process_is_neither_lost_nor_reverted(
        lake_url, tmp_path, cli, scope):
    base = _documents(tmp_path / "base", "base", 3)
    assert cli("ingest", *_ingest_args(base)[1:], "--lake", lake_url).returncode == 0
    # The document first lands in 520000 (its first path said so) ...
    first = _one(tmp_path / "p1")
    assert cli("ingest", first, "--province", "520102", "--lake", lake_url).returncode == 0
    release = tmp_path / "release"
    process = _start(lake_url, "process", "--force", *scope,
                     env=_paused(release, GOVREPORTS_DEBUG_LEASE_PAUSE="90"))
    _when_paused(release, process)
    # ... and while process works on what it listed, the same bytes arrive from a new path
    # that says 530502: a newer version, which must win.
    second = _one(tmp_path / "p2")
    code, output = _finish(_start(lake_url, *_ingest_args(second)))
    assert code == 0, output
    assert process.poll() is None, "process finished before the ingest: the race was not run"
    release.touch()
    code, output = _finish(process)
    assert code == 0, output
    where = _placements(lake_url)
    assert len(where) == 4 and all(len(places) == 1 for places in where.values()), where
    assert sorted(p for places in where.values() for p in places) == ["530000"] * 4


def test_a_load_killed_while_moving_a_document_leaves_no_duplicate_after_the_next_run(
        lake_url, tmp_path, cli):
    base = _documents(tmp_path / "base", "base", 2)
    assert cli("ingest", *_ingest_args(base)[1:], "--lake", lake_url).returncode == 0
    assert cli("ingest", *_ingest_args(_one(tmp_path / "p1"))[1:], "--lake",
               lake_url).returncode == 0
    mover = _start(lake_url, "ingest", str(_one(tmp_path / "p2")), "--province", "520102",
                   env={"GOVREPORTS_DEBUG_LOAD_PAUSE": "1.5"})
    lake = Lake.open(lake_url)
    target = "reports/province=520000/year=2019/data.parquet"
    deadline = time.monotonic() + 90
    while not lake.store.exists(target):
        assert time.monotonic() < deadline and mover.poll() is None, mover.communicate()
        time.sleep(0.05)
    mover.send_signal(signal.SIGKILL)  # its new partition is written, the old not yet
    mover.wait()
    assert sum(len(p) for p in _placements(lake_url).values()) == 4  # 3 documents, 1 twice
    later = _documents(tmp_path / "later", "later", 1)
    code, output = _finish(_start(lake_url, *_ingest_args(later)))
    assert code == 0, output
    where = _placements(lake_url)
    assert len(where) == 4 and all(len(places) == 1 for places in where.values()), where


def test_a_run_paused_past_its_lease_writes_nothing_more(lake_url, tmp_path, cli):
    assert cli("ingest", *_ingest_args(_one(tmp_path / "p1"))[1:], "--lake",
               lake_url).returncode == 0
    short = {"GOVREPORTS_LEASE_TTL": "2"}
    stopped = _start(lake_url, "ingest", str(_one(tmp_path / "p2")), "--province", "520102",
                     env={**short, "GOVREPORTS_DEBUG_LOAD_PAUSE": "1"})
    _when_holding_the_lease(lake_url, stopped)
    stopped.send_signal(signal.SIGSTOP)
    try:
        time.sleep(3)  # past its lease: the next run takes it over
        code, output = _finish(_start(lake_url, "ingest", str(_one(tmp_path / "p3")),
                                      "--province", "220102", env=short))
        assert code == 0, output
    finally:
        stopped.send_signal(signal.SIGCONT)
    code, output = _finish(stopped)
    assert code == 3 and "lost the lease" in output, output
    where = _placements(lake_url)
    assert len(where) == 1 and list(where.values()) == [["220000"]], where


_NOW = time.time()
#: Leases another run left that no run will renew: each must be taken over, on this run's clock.
_DEAD_LEASES = {
    "expires-in-ten-years": {"run_id": "gone", "host": "elsewhere", "pid": 7,
                             "renewed": _NOW - 86400, "expires": _NOW + 10 * 365 * 86400},
    "renewed-in-the-future": {"run_id": "skewed", "host": "elsewhere", "pid": 7,
                              "renewed": _NOW + 3600, "expires": _NOW + 7200},
    "expires-never": {"run_id": "huge-ttl", "host": "elsewhere", "pid": 7,
                      "renewed": _NOW, "expires": 1e300},
    "null": None,
    "list": [1],
    "string": "held",
    "empty-object": {},
    "expires-as-text": {"run_id": "x", "renewed": _NOW, "expires": "tomorrow"},
    "expires-as-bool": {"run_id": "x", "renewed": _NOW, "expires": True},
    "not-json": b"\x00\xffnot json",
}


@pytest.mark.parametrize("lease", list(_DEAD_LEASES.values()), ids=list(_DEAD_LEASES))
def test_a_lease_no_one_renews_is_taken_over_whatever_it_says(lake_url, tmp_path, cli, lease):
    lake = Lake.open(lake_url, writable=True)
    lake.store.write(LOAD_LEASE, lease if isinstance(lease, bytes) else json.dumps(lease).encode())
    started = time.monotonic()
    ran = cli("ingest", SEED, "--lake", lake_url, "--province", "530502",
              env={"GOVREPORTS_LEASE_TTL": "1", "GOVREPORTS_LEASE_WAIT": "60"})
    assert ran.returncode == 0, ran.stderr
    assert time.monotonic() - started < 30  # taken over after a TTL, not after the wait
    assert "took the load lease" in ran.stdout and "Traceback" not in ran.stderr
    manifest = _latest_manifest(lake_url, "ingest")
    assert manifest["lease_taken_over"].startswith("took the load lease")
    assert len(_doc_ids(lake_url)) == 1 and not lake.store.exists(LOAD_LEASE)


def test_a_lease_its_holder_renews_is_not_taken_over(lake_url, tmp_path, cli):
    """The other side: a holder that keeps renewing keeps the lake, however long it holds it."""
    release = tmp_path / "release"
    holder = _start(lake_url, *_ingest_args(_documents(tmp_path / "a", "a", 1)),
                    env=_paused(release, GOVREPORTS_DEBUG_LOAD_PAUSE="90",
                                GOVREPORTS_LEASE_TTL="1.5"))
    _when_holding_the_lease(lake_url, holder)
    ran = cli("ingest", SEED, "--lake", lake_url, "--province", "530502",
              env={"GOVREPORTS_LEASE_TTL": "1.5", "GOVREPORTS_LEASE_WAIT": "3"})
    assert ran.returncode == 3 and "busy since" in ran.stderr, ran.stdout + ran.stderr
    assert holder.poll() is None, "the holder finished before the waiter gave up"
    release.touch()
    assert _finish(holder)[0] == 0


def test_a_folder_where_the_lease_belongs_is_one_line(tmp_path, cli):
    (tmp_path / "lake" / "_lease" / "load.json").mkdir(parents=True)
    ran = cli("ingest", SEED, "--lake", tmp_path / "lake", "--province", "530502")
    assert ran.returncode == 2 and "is a folder" in ran.stderr, ran.stderr
    assert len(ran.stderr.strip().splitlines()) == 1, ran.stderr
