"""Recall and wrong values of what the pipeline makes of real portal pages
(``tests/realpages/corpus.yaml``: saved pages no one here wrote, with gold values read off them).

    python -m tests.realpages.measure

Each page is processed as a crawled page twice: *bare* (nothing known of its portal) and
*registered* (its portal's region configured, as a registry entry would): a site's region is a
hint, so neither may make a value wrong. The held-out pages are reported apart.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import yaml

from tests.golden.metadata.recall import print_totals, verdict

HERE = Path(__file__).parent
CORPUS = HERE / "corpus.yaml"
#: The fields measured, as the reports table names them.
FIELDS = ("document_kind", "title", "report_year", "province_code", "city_code", "county_code",
          "issuing_agency", "published_date")
MODES = ("bare", "registered")


def load_pages(path: Path = CORPUS) -> list[dict]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def report_of(page: dict, mode: str):
    """The record of a saved page, processed as the crawler's page of its URL."""
    from pipelines.process import build_report, extract_document
    from pipelines.records import RawDocument, Source

    data = (HERE / "pages" / f"{page['id']}.html").read_bytes()
    source = Source(url=page["source"]["page_url"], kind="http", fetched_at="",
                    media_type="text/html", http_status=200, portal_id="realpages",
                    region=page["site_region"] if mode == "registered" else None)
    raw = RawDocument("0" * 64, len(data), source)
    report, _ = build_report(raw, extract_document(raw, data))
    return report


def judge(page: dict, report) -> dict[str, tuple[str, object]]:
    """Field → (right | wrong | missed | null, the value stored)."""
    row = report.to_row()
    return {name: (verdict(page["gold"][name], row.get(name)), row.get(name))
            for name in FIELDS if name in page["gold"]}


def measure(pages: list[dict], mode: str) -> dict[str, Counter]:
    totals = {name: Counter() for name in FIELDS}
    for page in pages:
        for name, (outcome, _value) in judge(page, report_of(page, mode)).items():
            totals[name][outcome] += 1
    return totals


def main() -> None:
    pages = load_pages()
    for held_out in (False, True):
        part = [p for p in pages if bool(p.get("holdout")) is held_out]
        if not part:
            continue
        for mode in MODES:
            name = "held-out pages" if held_out else "pages"
            print_totals(f"{len(part)} {name}, {mode}", measure(part, mode))


if __name__ == "__main__":
    main()
