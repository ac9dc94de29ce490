"""Damage to the raw zone never spreads into the tables: raw bytes are checked against their
recorded sha256 before processing, and a document whose bytes are lost or damaged keeps the
row it has (issue 26, first part: the rest of the damage classes are still open)."""

from __future__ import annotations

import json

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


def _rows(cli, lake_url) -> dict[str, str]:
    done = cli("query", "--lake", lake_url, "--format", "json",
               "select doc_id, content_sha256, text from reports")
    assert done.returncode == 0, done.stderr
    return {r["doc_id"]: (r["content_sha256"], r["text"]) for r in json.loads(done.stdout)}


@pytest.mark.parametrize("force", [False, True], ids=["process", "process-force"])
@pytest.mark.parametrize("damage", list(DAMAGE), ids=list(DAMAGE))
def test_damaged_raw_bytes_are_a_reject_and_the_good_row_is_kept(cli, lake_url, damage, force):
    assert cli("ingest", "--lake", lake_url, SEEDS).returncode == 0
    before = _rows(cli, lake_url)
    lake = Lake.open(lake_url)
    victim = sorted(lake.raw_documents(), key=lambda d: d.source.url)[2]
    key = lake.raw_key(victim.sha256)
    if DAMAGE[damage] is None:
        lake.store.delete(key)
    else:
        lake.store.write(key, DAMAGE[damage](lake.store.read(key)))
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
