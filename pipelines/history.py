"""Each document's versions (``report_versions``), kept by the load.

A document (a URL, or a local file's path) has a new version when a fetch brings bytes whose
report text or statistics differ, once normalised (:mod:`pipelines.changes`), from those of
its latest version; other bytes that only change its page's template, a visit counter or a
timestamp are the same version seen again (its ``last_seen`` moves). Going back to an earlier
content (v1 → v2 → v1) is a new version too: each version is compared with the one before it.

The load calls :func:`record_versions` before it merges: the version rows of the documents it
loads are spooled with their reports (all of a document's versions go where its ``reports`` row
goes, as its ``report_stats`` rows do, so the load's upsert and move guarantees hold for them),
and each report row gets its ``version``, ``first_seen`` and ``last_seen``. Reprocessing the same
bytes (a new processing version) makes no new version.

A re-check that finds a document's bytes unchanged (a 304, or the same bytes again) lands
nothing new, and its row is not read again: the crawl state's ``checked_at`` says when the page
(and each file it links to) was last found as it is. Every load moves ``last_seen`` to that
moment in the rows of the documents it was given (:func:`sightings`, :func:`sighted`), when the
row was built from those very bytes, its attachments' included.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.compute as pc

from pipelines.changes import compare
from pipelines.errors import LakeDamaged
from pipelines.lake import Lake, Partition
from pipelines.records import RawDocument
from pipelines.schema import REPORT_VERSIONS_SCHEMA, SCHEMA_VERSION
from pipelines.spool import Spool

#: What a report row says of its version (the text is read only for a changed document).
_ROW = ["doc_id", "url", "content_sha256", "content_digest", "fetched_at", "version",
        "first_seen", "last_seen", "title", "report_year", "issuing_agency", "province_code",
        "template", "stats_cells", "stats_consistent", "attachments"]
#: Which of its fields make a version's row (the rest is what changed).
_DESCRIBED = ("url", "title", "report_year", "issuing_agency", "province_code", "template",
              "text_chars", "stats_cells", "stats_consistent")


@dataclass(frozen=True)
class Dated:
    """A report row's ``version``, ``first_seen`` and ``last_seen``, as the load writes them."""

    version: int
    first_seen: object
    last_seen: object


@dataclass(frozen=True)
class Sighting:
    """What the crawl state says of a document now: the sha256 its URL holds and when that was
    last found (a landing, or a 304), and the same of each file its page links to."""

    sha256: str
    at: str  # ISO 8601
    files: dict[str, str] = field(default_factory=dict)  # a linked file's sha256 → when

    def when(self, sha256: str | None, attachments: Iterable[str]) -> datetime | None:
        """When the crawl last found the bytes a row was built from (``sha256`` and its
        attachments' sha256), all of them; None when the page or a file holds others now."""
        attachments = list(attachments)
        if sha256 != self.sha256 or any(sha not in self.files for sha in attachments):
            return None
        return min(as_utc(datetime.fromisoformat(moment))
                   for moment in (self.at, *(self.files[sha] for sha in attachments)))

    def to_json(self) -> dict:
        return {"sha256": self.sha256, "at": self.at, "files": self.files}

    @classmethod
    def from_json(cls, data: dict) -> Sighting:
        return cls(data["sha256"], data["at"], dict(data.get("files") or {}))


def sightings(lake: Lake, docs: Iterable[RawDocument],
              states: dict[str, dict] | None = None) -> dict[str, Sighting]:
    """The crawl state's :class:`Sighting` of each crawled document among ``docs`` whose URL
    still holds these bytes, by ``doc_id`` (``states``: see :meth:`Lake.crawl_state`)."""
    by_portal: dict[str, list[RawDocument]] = defaultdict(list)
    for doc in docs:
        if doc.source.kind == "http" and doc.source.portal_id:
            by_portal[doc.source.portal_id].append(doc)
    found: dict[str, Sighting] = {}
    for portal_id, mine in sorted(by_portal.items()):
        state = lake.crawl_state(portal_id, states)
        for doc in mine:
            entry = state.get(doc.source.url)
            if entry is None or entry.sha256 != doc.sha256 or not entry.last_checked:
                continue
            files: dict[str, str] = {}
            for link in entry.links:
                linked = state.get(link)
                if linked is not None and linked.last_checked:
                    # The same file under two links: the earlier check is what both show.
                    files[linked.sha256] = min(files.get(linked.sha256, linked.last_checked),
                                               linked.last_checked)
            found[doc.doc_id] = Sighting(entry.sha256, entry.last_checked, files)
    return found


def sighted(table: str, rows: pa.Table, seen: dict[str, Sighting]) -> pa.Table:
    """``rows`` of ``reports`` or ``report_versions`` (sorted by document and version), with
    ``last_seen`` moved to the :class:`Sighting` of their document where it is later and the
    row (a document's latest version) was built from the bytes sighted."""
    if not seen or not rows.num_rows or table not in ("reports", "report_versions"):
        return rows
    ids = pa.array(sorted(seen), type=pa.string())
    hits = pc.indices_nonzero(pc.is_in(rows["doc_id"], value_set=ids)).to_pylist()
    if not hits:
        return rows
    doc_ids = rows["doc_id"].to_pylist()
    if table == "report_versions":  # a document's latest version is its last row
        hits = [i for i in hits if i + 1 == rows.num_rows or doc_ids[i + 1] != doc_ids[i]]
    last_seen = rows["last_seen"].to_pylist()
    files = "attachments" if table == "reports" else "attachments_sha256"
    moved = False
    for i, row in zip(hits, rows.select(["content_sha256", files]).take(hits).to_pylist(),
                      strict=True):
        at = seen[doc_ids[i]].when(row["content_sha256"], _bytes(row)[1])
        if at is not None and (last_seen[i] is None or at > as_utc(last_seen[i])):
            last_seen[i], moved = at, True
    if not moved:
        return rows
    index = rows.schema.get_field_index("last_seen")
    return rows.set_column(index, rows.schema.field(index),
                           pa.array(last_seen, type=rows.schema.field(index).type))


def as_utc(moment: datetime) -> datetime:
    """A timestamp read back without its zone (an older file's), as the UTC it was written in."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def record_versions(lake: Lake, spool: Spool, leave_out: set[str],
                    where_now: dict[str, Partition]) -> dict[str, Dated]:
    """Spool the version rows of every document the spool holds a report of (but those left
    out); return each one's :class:`Dated` for its report row. ``where_now``: the partition
    each one's row is in now (the load's scan of the lake): its versions are there too, so only
    those partitions are read."""
    produced = {doc_id for doc_id in spool.where if doc_id not in leave_out}
    if not produced:
        return {}
    earlier, current = _earlier(lake, {d: p for d, p in where_now.items() if d in produced})
    dated: dict[str, Dated] = {}
    # One partition's rows at a time: a batch's version rows are spooled, not held.
    for part in spool.partitions("reports"):
        rows = spool.rows("reports", part, leave_out=leave_out)
        described = rows.select(_ROW).append_column(
            "text_chars", pc.utf8_length(rows["text"]).cast(pa.int32()))
        changed: dict[str, tuple[dict, Partition | None]] = {}  # new version → the one before
        here: list[dict] = []
        for new in described.to_pylist():
            doc_id = new["doc_id"]
            versions = sorted(earlier.pop(doc_id, []), key=lambda v: v["version"])
            if not versions and doc_id in current:
                versions = [_first_of(current[doc_id])]  # a row from before versions were kept
            last = versions[-1] if versions else None
            if last is None:
                versions.append(_version(new, 1))
            elif _bytes(new) == _bytes(last) or (
                    new["content_digest"] is not None
                    and new["content_digest"] == last["content_digest"]):
                _seen_again(last, new)
            else:
                following = _version(new, last["version"] + 1, previous=last)
                if new["content_sha256"] == last["content_sha256"]:
                    # Only its files changed (a page's PDF replaced): it arrived with them.
                    following["fetched_at"] = following["last_seen"] = max(
                        filter(None, (_arrived(lake, new, last), new["fetched_at"])),
                        default=None)
                versions.append(following)
                changed[doc_id] = (following, where_now.get(doc_id))
            first = versions[0]
            dated[doc_id] = Dated(versions[-1]["version"], first["fetched_at"],
                                  versions[-1]["last_seen"])
            here.extend(versions)
        # The new texts of the changed documents, from the rows read above.
        new_texts = _texts(rows, pa.array(sorted(changed), type=pa.string()))
        del rows, described
        _what_changed(lake, spool, changed, new_texts, leave_out)
        spool.add_rows("report_versions", part,
                       pa.Table.from_pylist(here, schema=REPORT_VERSIONS_SCHEMA))
    return dated


def _earlier(lake: Lake, where_now: dict[str, Partition]
             ) -> tuple[dict[str, list[dict]], dict[str, dict]]:
    """The version rows of these documents, and the report row of those that have none (a
    row from before versions were kept), from the partitions their rows are in."""
    earlier: dict[str, list[dict]] = defaultdict(list)
    current: dict[str, dict] = {}
    by_part: dict[Partition, list[str]] = defaultdict(list)
    for doc_id, part in where_now.items():
        by_part[part].append(doc_id)
    for part, doc_ids in by_part.items():
        ids = pa.array(sorted(doc_ids), type=pa.string())
        for row in _rows(lake, "report_versions", part, ids, None):
            earlier[row["doc_id"]].append(row)
        unversioned = [d for d in doc_ids if d not in earlier]
        if unversioned:
            current.update((row["doc_id"], row) for row in _rows(
                lake, "reports", part, pa.array(unversioned, type=pa.string()), _ROW))
    return earlier, current


def dated_rows(rows: pa.Table, dated: dict[str, Dated]) -> pa.Table:
    """Report rows with the ``version``, ``first_seen`` and ``last_seen`` the load found."""
    found = [dated.get(doc_id) for doc_id in rows["doc_id"].to_pylist()]
    for name in ("version", "first_seen", "last_seen"):
        values = [getattr(d, name) if d else None for d in found]
        index = rows.schema.get_field_index(name)
        rows = rows.set_column(index, rows.schema.field(index),
                               pa.array(values, type=rows.schema.field(index).type))
    return rows


def _rows(lake: Lake, table: str, part: Partition, ids: pa.Array, columns: list[str] | None):
    """The rows of ``table`` in ``part`` whose document is among ``ids``."""
    try:
        rows = lake.read_partition(table, part, columns=columns)
    except LakeDamaged:  # set aside and rebuilt by this load: its versions are lost
        return []
    if rows is None:
        return []
    return rows.filter(pc.is_in(rows["doc_id"], value_set=ids)).to_pylist()


def _bytes(row: dict) -> tuple:
    """The raw bytes a version was read from: its own and its attachments' (a report that is
    its page's PDF changes when the PDF does, the page's bytes unchanged)."""
    if "attachments_sha256" in row:  # a version's row
        return row["content_sha256"], tuple(sorted(row["attachments_sha256"] or ()))
    return row["content_sha256"], tuple(sorted(a["sha256"] or "" for a in
                                               row.get("attachments") or ()))


def _arrived(lake: Lake, new: dict, last: dict):
    """When the attachments a version has and the one before had not were first fetched (the
    latest of them), from their sidecars."""
    fresh = set(_bytes(new)[1]) - set(_bytes(last)[1])
    times = [datetime.fromisoformat(doc.source.fetched_at) for sha in fresh
             for doc in lake.sources_of(sha) if doc.source.fetched_at]
    return max(times, default=None)


def _version(row: dict, number: int, *, previous: dict | None = None) -> dict:
    version = {name: row.get(name) for name in _DESCRIBED}
    version.update(doc_id=row["doc_id"], version=number, content_sha256=row["content_sha256"],
                   attachments_sha256=list(_bytes(row)[1]),
                   content_digest=row["content_digest"], fetched_at=row["fetched_at"],
                   last_seen=row["fetched_at"], schema_version=SCHEMA_VERSION)
    if previous is not None:
        version.update(previous_sha256=previous["content_sha256"],
                       previous_fetched_at=previous["fetched_at"],
                       year_changed=row["report_year"] != previous["report_year"],
                       agency_changed=row["issuing_agency"] != previous["issuing_agency"],
                       template_changed=row["template"] != previous["template"])
    return version


def _first_of(old: dict) -> dict:
    """The version a report row stood for before versions were kept: its first."""
    version = _version(old, 1)
    version.update(fetched_at=old["first_seen"] or old["fetched_at"],
                   last_seen=old["last_seen"] or old["fetched_at"])
    return version


def _seen_again(last: dict, new: dict) -> None:
    """The same content fetched again: the version was seen then; the same bytes reprocessed
    describe it as this processing reads it."""
    if new["fetched_at"] is not None and (last["last_seen"] is None
                                          or new["fetched_at"] > last["last_seen"]):
        last["last_seen"] = new["fetched_at"]
    if _bytes(new) == _bytes(last):
        last.update({name: new.get(name) for name in _DESCRIBED},
                    content_digest=new["content_digest"])


def _what_changed(lake: Lake, spool: Spool, changed: dict[str, tuple[dict, Partition | None]],
                  new_texts: dict[str, str | None], leave_out: set[str]) -> None:
    """Fill each new version's differences with the version before it (the document's row in
    the lake, with its cells), one partition of earlier rows at a time: only changed documents'
    texts are read."""
    by_old: dict[Partition | None, list[str]] = defaultdict(list)
    for doc_id, (_version_row, old_part) in changed.items():
        by_old[old_part].append(doc_id)
    for old_part, doc_ids in by_old.items():
        ids = pa.array(sorted(doc_ids), type=pa.string())
        old_texts = _texts(lake.read_partition("reports", old_part, columns=["doc_id", "text"])
                           if old_part is not None else None, ids)
        old_cells = _cells(lake.read_partition("report_stats", old_part)
                           if old_part is not None else None, ids)
        new_cells: dict[str, list] = defaultdict(list)
        for part in {spool.where[d] for d in doc_ids}:
            for doc_id, cells in _cells(spool.rows("report_stats", part,
                                                   leave_out=leave_out), ids).items():
                new_cells[doc_id].extend(cells)
        for doc_id in doc_ids:
            version = changed[doc_id][0]
            change = compare(old_texts.get(doc_id), new_texts.get(doc_id),
                             old_cells.get(doc_id, []), new_cells.get(doc_id, []))
            version.update(chars_added=change.chars_added, chars_removed=change.chars_removed,
                           sections_changed=change.sections_changed,
                           cells_changed=[{"cell": cell, "old": old, "new": new}
                                          for cell, old, new in change.cells_changed])


def _texts(rows: pa.Table | None, ids: pa.Array) -> dict[str, str | None]:
    if rows is None:
        return {}
    rows = rows.filter(pc.is_in(rows["doc_id"], value_set=ids))
    return dict(zip(rows["doc_id"].to_pylist(), rows["text"].to_pylist(), strict=True))


def _cells(rows: pa.Table | None, ids: pa.Array) -> dict[str, list]:
    found: dict[str, list] = defaultdict(list)
    if rows is None:
        return found
    rows = rows.filter(pc.is_in(rows["doc_id"], value_set=ids))
    for doc_id, table, row_key, column_key, value in zip(
            *(rows[c].to_pylist() for c in ("doc_id", "table", "row_key", "column_key",
                                            "value")), strict=True):
        found[doc_id].append(((table, row_key, column_key), value))
    return found
