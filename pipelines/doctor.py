"""``govreports doctor``: every damaged or orphaned object of a lake, and what can be repaired.

The readers already skip what is damaged (:attr:`pipelines.lake.Lake.damage`) and every load
rebuilds a damaged partition; the doctor looks at the whole lake at once, as an operator
would before trusting it, and with ``repair`` fixes what can be fixed:

=====================  ========================================  ==============================
kind                   what is wrong                             ``--repair``
=====================  ========================================  ==============================
raw_without_sidecar    raw bytes that no sidecar describes       cannot: ingest or fetch again
sidecar_without_raw    a sidecar whose bytes are gone            cannot: ingest or fetch again
hash_mismatch          raw bytes that are not their sha256       quarantined (fetch again)
sidecar_damaged        a sidecar that is not the lake's          quarantined (the row is kept)
partition_damaged      not readable Parquet of the table         quarantined and rebuilt
stray_object           an object the lake never writes there     quarantined
manifest_damaged       a run manifest that is not one            quarantined
reject_damaged         a reject that is not one                  quarantined
state_damaged          crawl state that is not one               quarantined (URLs re-fetched)
intent_damaged         a load's intent that is not one           quarantined
stale_temp             a killed writer's temporary file          removed
stuck_lease            a load lease whose holder is gone         removed
interrupted_load       a load's intent left by a killed load     finished (by the rebuild)
=====================  ========================================  ==============================

Quarantined objects are moved under ``_quarantine/<UTC time>/<key>``: nothing is deleted.
The rebuild is ``govreports process`` (:func:`pipelines.batch.run` over the whole raw zone),
which reads again every document no sound row stands for.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from pipelines import batch, process
from pipelines.errors import LakeDamaged
from pipelines.lake import LOAD_INTENT, LOAD_LEASE, PARTITION_FILE, Lake
from pipelines.lease import stuck
from pipelines.schema import TABLES

#: What ``--repair`` does with each kind (None: it cannot repair it, and says what to do).
REPAIRS: dict[str, str | None] = {
    "raw_without_sidecar": None, "sidecar_without_raw": None,
    "hash_mismatch": "quarantine", "sidecar_damaged": "quarantine",
    "partition_damaged": "rebuild", "stray_object": "quarantine",
    "manifest_damaged": "quarantine", "reject_damaged": "quarantine",
    "state_damaged": "quarantine", "object_damaged": "quarantine",
    "stale_temp": "remove", "stuck_lease": "remove", "interrupted_load": "rebuild",
    "intent_damaged": "quarantine",
}

#: What a user does about what ``--repair`` cannot fix.
CANNOT = {
    "raw_without_sidecar": "the bytes are kept; ingest or fetch the document again to give "
                           "them a source",
    "sidecar_without_raw": "the row, if any, is kept; ingest or fetch the document again",
}

@dataclass
class Finding:
    key: str
    kind: str
    detail: str
    done: str | None = None  # what --repair did

    def line(self) -> str:
        return f"{self.key}: {self.detail} [{self.kind}]"

    def to_json(self) -> dict:
        return {"key": self.key, "kind": self.kind, "detail": self.detail,
                "repair": REPAIRS.get(self.kind), "done": self.done}


def examine(lake: Lake, *, hashes: bool = True) -> list[Finding]:
    """Every damaged or orphaned object of the lake (``hashes``: read every raw object and
    check it against its sha256, the costly part on a large lake)."""
    found: dict[str, Finding] = {}

    def note(key: str, kind: str, detail: str) -> None:
        found.setdefault(key, Finding(key, kind, detail))

    for finding in _raw_zone(lake, hashes):
        note(finding.key, finding.kind, finding.detail)
    for table in TABLES:
        for part in lake.partitions(table):
            lake.partition_problem(table, part, whole=True)
        for key in lake.table_objects(table):
            if not key.endswith("/" + PARTITION_FILE):
                note(key, "stray_object", "not a partition file: readers leave it out")
    list(lake.manifests())
    list(lake.rejects_read())
    _crawl_states(lake)
    for name in lake.store.stale_temporary():
        note(f".tmp/{name}", "stale_temp", "a temporary file a killed writer left")
    lease = stuck(lake.store, LOAD_LEASE)
    if lease:
        note(LOAD_LEASE, "stuck_lease", lease)
    if lake.load_intent() and not lake.store.exists(LOAD_LEASE):
        note(LOAD_INTENT, "interrupted_load", "a load was killed before it finished: the next "
             "load finishes it")
    for damage in lake.damage.values():  # what the readers above skipped
        note(damage.key, damage.kind, damage.detail)
    return sorted(found.values(), key=lambda f: (f.kind, f.key))


def _raw_zone(lake: Lake, hashes: bool) -> Iterator[Finding]:
    objects, sidecars, strays = lake.raw_zone()
    for key in strays:
        yield Finding(key, "stray_object", "not a raw object or sidecar the lake writes")
    for sha in sorted(objects - sidecars.keys()):
        yield Finding(lake.raw_key(sha), "raw_without_sidecar", "no sidecar says where these "
                      "bytes came from")
    for sha in sorted(sidecars.keys() - objects):
        for key in sidecars[sha]:
            yield Finding(key, "sidecar_without_raw", f"its bytes {lake.raw_key(sha)} are gone")
    for keys in sidecars.values():
        for key in keys:
            lake.sidecar_document(key)  # a damaged one is noted in lake.damage
    if hashes:
        def check(sha: str) -> Finding | None:
            try:
                lake.read_raw_checked(sha)
            except KeyError:
                return None
            except LakeDamaged as damage:
                return Finding(lake.raw_key(sha), "hash_mismatch",
                               f"{damage}, not their key's sha256")
            return None

        with ThreadPoolExecutor(max_workers=8) as pool:
            yield from filter(None, pool.map(check, sorted(objects)))


def _crawl_states(lake: Lake) -> None:
    for portal_id in lake.crawled_portals():
        lake.crawl_state(portal_id)


def repair(lake: Lake, findings: list[Finding], *, jobs: int | None = None
           ) -> process.RunResult | None:
    """Fix what can be fixed (each finding's ``done`` says what was done); returns the
    rebuild's run when one ran."""
    rebuild = False
    for finding in findings:
        action = REPAIRS.get(finding.kind)
        if action == "quarantine":
            try:
                finding.done = f"quarantined as {lake.quarantine(finding.key, move=True)}"
            except KeyError:
                finding.done = "gone already"
        elif action == "remove" and finding.kind == "stale_temp":
            lake.store.clean_temporary()
            finding.done = "removed"
        elif action == "remove":
            try:
                _data, version = lake.store.read_versioned(finding.key)
                lake.store.delete_if(finding.key, version)
                finding.done = "removed"
            except KeyError:
                finding.done = "gone already"
        elif action == "rebuild":
            rebuild = True
        else:
            finding.done = f"cannot repair: {CANNOT[finding.kind]}"
    if not rebuild:
        return None
    result = process.new_run("doctor --repair", lake)
    batch.run(lake, list(lake.raw_documents()), result, rebuild=True, jobs=jobs)
    for finding in findings:
        if REPAIRS.get(finding.kind) == "rebuild":
            kept = result.loaded.quarantined.get(finding.key)
            finding.done = (f"quarantined as {kept}, rebuilt from the raw zone" if kept
                            else "rebuilt from the raw zone")
    return result
