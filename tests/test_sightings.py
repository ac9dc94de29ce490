"""A re-check that finds a report's bytes unchanged (a 304, or the same bytes again) moves its
``last_seen``, in ``reports`` and in its latest version, and only when the row was built from
the bytes the crawl state names, its attachments' included (pipelines.history.sighted)."""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa
import pytest

from pipelines.history import Sighting, sighted
from pipelines.schema import REPORT_VERSIONS_SCHEMA, REPORTS_SCHEMA

LANDED = datetime(2026, 3, 1, 2, 30, tzinfo=UTC)
NIGHT = "2026-04-02T02:41:00+00:00"
EARLIER = "2026-02-01T02:00:00+00:00"


def _report(sha: str = "page", files: tuple[str, ...] = ()) -> pa.Table:
    row = {"doc_id": "d1", "content_sha256": sha, "last_seen": LANDED,
           "attachments": [{"url": f"http://127.0.0.1/{f}.pdf", "sha256": f} for f in files]}
    return pa.Table.from_pylist([row], schema=REPORTS_SCHEMA)


@pytest.mark.parametrize("sighting, files, moved", [
    pytest.param(Sighting("page", NIGHT), (), True, id="304-on-the-page"),
    pytest.param(Sighting("other", NIGHT), (), False, id="the-page-holds-other-bytes-now"),
    pytest.param(Sighting("page", EARLIER), (), False, id="a-check-before-the-row-never-goes-back"),
    pytest.param(Sighting("page", NIGHT, {"pdf": NIGHT}), ("pdf",), True, id="page-and-pdf-304"),
    pytest.param(Sighting("page", NIGHT, {"pdf2": NIGHT}), ("pdf",), False,
                 id="its-pdf-was-replaced"),
    pytest.param(Sighting("page", NIGHT), ("pdf",), False, id="its-pdf-never-checked"),
    pytest.param(Sighting("page", NIGHT, {"pdf": EARLIER}), ("pdf",), False,
                 id="its-pdf-last-checked-before"),
])
def test_a_report_is_seen_again_only_with_the_bytes_it_was_built_from(sighting, files, moved):
    rows = sighted("reports", _report(files=files), {"d1": sighting})
    expected = datetime.fromisoformat(NIGHT) if moved else LANDED
    assert rows["last_seen"].to_pylist() == [expected]


def test_the_later_of_the_checks_of_a_page_and_its_pdf_is_not_taken():
    later = "2026-04-02T02:45:00+00:00"
    rows = sighted("reports", _report(files=("pdf",)),
                   {"d1": Sighting("page", later, {"pdf": NIGHT})})
    assert rows["last_seen"].to_pylist() == [datetime.fromisoformat(NIGHT)]


def test_only_the_latest_version_of_a_document_is_seen_again():
    versions = pa.Table.from_pylist([
        {"doc_id": "d1", "version": 1, "content_sha256": "page", "attachments_sha256": [],
         "last_seen": LANDED},
        {"doc_id": "d1", "version": 2, "content_sha256": "edited", "attachments_sha256": [],
         "last_seen": LANDED},
        {"doc_id": "d1", "version": 3, "content_sha256": "page", "attachments_sha256": [],
         "last_seen": LANDED},
        {"doc_id": "d2", "version": 1, "content_sha256": "page", "attachments_sha256": [],
         "last_seen": LANDED}], schema=REPORT_VERSIONS_SCHEMA)
    rows = sighted("report_versions", versions, {"d1": Sighting("page", NIGHT)})
    assert rows["last_seen"].to_pylist() == [LANDED, LANDED, datetime.fromisoformat(NIGHT),
                                             LANDED]
    assert sighted("report_versions", versions, {"d1": Sighting("edited", NIGHT)}).equals(
        versions)  # version 2 is not what the page holds: the page went back to version 1


def test_statistics_rows_are_left_as_they_are():
    cells = pa.table({"doc_id": ["d1"]})
    assert sighted("report_stats", cells, {"d1": Sighting("page", NIGHT)}) is cells
