"""Recall and wrong values of what the pipeline makes of real portal pages
(``tests/realpages/corpus.yaml``: saved pages no one here wrote, with gold values read off them)
and of real report texts (``tests/realpages/texts.yaml``: the openings of real pages).

    python -m tests.realpages.measure [--held-out | --candidates DIR]

Each page is processed as a crawled page twice: *bare* (nothing known of its portal) and
*registered* (its portal's region configured, as a registry entry would): a site's region is a
hint, so neither may make a value wrong. A text is ingested as a plain-text file. Held-out
pages and texts are reported apart. An agency is right when it names the gold's body: the same
name once leading place names and a final 人民政府 (a 街道's 办事处) are set aside, in
simplified characters (东至县青山乡 = 青山乡人民政府, 下管鎮 = 下管镇,
桃园路街道 = 桃园路街道办事处).
"""

from __future__ import annotations

import functools
from collections import Counter
from pathlib import Path

import yaml

from tests.golden.metadata.recall import ingested_report, print_totals, verdict

HERE = Path(__file__).parent
CORPUS = HERE / "corpus.yaml"
TEXTS = HERE / "texts.yaml"
#: The fields measured, as the reports table names them.
FIELDS = ("document_kind", "title", "report_year", "province_code", "city_code", "county_code",
          "issuing_agency", "published_date")
MODES = ("bare", "registered")


def load_pages(path: Path = CORPUS) -> list[dict]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def report_of(page: dict, mode: str):
    """The record of a saved page, processed as the crawler's page of its URL."""
    data = (HERE / "pages" / f"{page['id']}.html").read_bytes()
    return crawled_report(data, page["source"]["page_url"],
                          page["site_region"] if mode == "registered" else None)


def crawled_report(data: bytes, url: str, region: str | None):
    """The record of a page's bytes as a portal's crawl lands them (``region``: the portal's
    configured region)."""
    from pipelines.document import build_report, extract_document
    from pipelines.records import RawDocument, Source

    source = Source(url=url, kind="http", fetched_at="", media_type="text/html",
                    http_status=200, portal_id="realpages", region=region)
    raw = RawDocument("0" * 64, len(data), source)
    report, _ = build_report(raw, extract_document(raw, data))
    return report


def text_report_of(item: dict, folder: Path = HERE / "texts"):
    """The record of a real report text, ingested as a plain-text file (no portal, no region)."""
    return ingested_report((folder / f"{item['id']}.txt").read_bytes(),
                           f"file:///realtexts/{item['id']}.txt")


def measure_candidates(folder: Path) -> None:
    """A new round's texts before they join the tests (``folder``: its ``entries.yaml`` and
    ``texts/``, labelled as texts.yaml's header says), measured once on the code as it stands:
    the totals per field, and every wrong or missed value with its gold."""
    items = load_pages(folder / "entries.yaml")
    print_totals(f"{len(items)} candidate texts ({folder})",
                 measure(items, "text", texts=folder / "texts", show=True))


def judge(page: dict, report) -> dict[str, tuple[str, object]]:
    """Field → (right | wrong | missed | null, the value stored)."""
    row = report.to_row()
    verdicts = {}
    for name in FIELDS:
        if name not in page["gold"]:
            continue
        expected, got = page["gold"][name], row.get(name)
        if name == "issuing_agency" and got is not None:
            accepted = expected if isinstance(expected, list) else [expected]
            expected = [got if same_body(got, a) else a for a in accepted]
        verdicts[name] = (verdict(expected, got), got)
    return verdicts


def same_body(one: str, other: str | None) -> bool:
    """Whether two names name one body: equal once leading place names and a final 人民政府
    (a 街道's final 办事处) are set aside."""
    return other is not None and _core(one) == _core(other)


def _core(name: str) -> str:
    from pipelines.repair import normalize_title

    name = normalize_title(name)  # a gold read off a 繁體 page is written in 繁體
    # leading places, named in full or without their level (东至县青山乡, 河北饶阳经济开发区,
    # 泰州医药高新区)
    while (place := next((s for s in _place_names() if name.startswith(s)
                          and len(name) > len(s)), None)):
        name = name[len(place):]
    # a street office of a district's government: 两江新区人民政府大石坝街道办事处, 宣武区政府…
    for government in ("人民政府", "政府"):
        name = name.removeprefix(government) if name != government else name
    name = name.removesuffix("人民政府")
    # a 街道 is its 办事处: 桃园路街道 = 桃园路街道办事处
    return name.removesuffix("办事处") if name.endswith("街道办事处") else name


@functools.cache
def _place_names() -> list[str]:
    """Places' names, also without their level (河北, 泰州, 饶阳), longest first: how a body's
    name may begin."""
    from pipelines.regions import places

    names = set(places()) | {name[:-1] for name in places() if len(name) >= 3
                             and name[-1] in "省市县区"}
    return sorted((name for name in names if len(name) >= 2), key=len, reverse=True)


def measure(pages: list[dict], mode: str, *, texts: Path = HERE / "texts",
            show: bool = False) -> dict[str, Counter]:
    """Outcome counts per field over pages (mode: bare | registered) or texts (mode: text,
    read from ``texts``); with ``show``, every wrong or missed value printed with its gold."""
    totals = {name: Counter() for name in FIELDS}
    for page in pages:
        report = text_report_of(page, texts) if mode == "text" else report_of(page, mode)
        for name, (outcome, value) in judge(page, report).items():
            totals[name][outcome] += 1
            if show and outcome in ("wrong", "missed"):
                print(f"  {outcome:6} {name:15} {page['id']}: gold {page['gold'][name]!r}, "
                      f"stored {value!r}")
    return {name: counts for name, counts in totals.items() if counts}


def main() -> None:
    """The pages and texts in the tests; with ``--held-out``, those kept aside instead; with
    ``--candidates DIR``, a new round's texts before they join."""
    import sys

    if "--candidates" in sys.argv[1:]:
        measure_candidates(Path(sys.argv[sys.argv.index("--candidates") + 1]))
        return
    pages, texts = load_pages(), load_pages(TEXTS)
    for held_out in (("--held-out" in sys.argv[1:]),):
        for items, modes, what in ((pages, MODES, "pages"), (texts, ("text",), "texts")):
            part = [p for p in items if bool(p.get("holdout")) is held_out]
            for mode in modes if part else ():
                print_totals(f"{len(part)} {'held-out ' if held_out else ''}{what}, {mode}",
                             measure(part, mode))


if __name__ == "__main__":
    main()
