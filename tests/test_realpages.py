"""Real portal pages (tests/realpages/corpus.yaml): no value the pipeline stores may be wrong,
with or without the portal's region configured; NULL is allowed where the page does not say.
Recall per field: ``python -m tests.realpages.measure`` (floors: tests/test_recall_floors.py)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from tests.realpages.measure import HERE, MODES, judge, load_pages, report_of

PAGES = load_pages()


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("page", PAGES, ids=[p["id"] for p in PAGES])
def test_no_value_of_a_real_page_is_wrong(page, mode):
    verdicts = judge(page, report_of(page, mode))
    wrong = {name: value for name, (outcome, value) in verdicts.items() if outcome == "wrong"}
    assert not wrong, f"wrong values (gold: {page['gold']})"


@pytest.mark.parametrize("page", PAGES, ids=[p["id"] for p in PAGES])
def test_a_real_page_is_its_sources_copy(page):
    """Each page says where it was copied from, and is the file that was copied (unedited)."""
    source = page["source"]
    assert source["repo"].count("/") == 1 and source["path"] and len(source["commit"]) == 40
    assert source["page_url"].startswith(("http://", "https://"))
    data = Path(HERE / "pages" / f"{page['id']}.html").read_bytes()
    assert hashlib.sha256(data).hexdigest() == page["sha256"]
    assert set(page["gold"]) >= {"document_kind", "report_year", "province_code",
                                 "issuing_agency"}


def test_every_saved_page_is_in_the_corpus():
    assert sorted(p.stem for p in (HERE / "pages").glob("*.html")) == \
        sorted(p["id"] for p in PAGES)
