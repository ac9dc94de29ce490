"""``govreports report`` as a user runs it, on a local and an S3 lake: the page's numbers equal
``govreports query`` over the same lake; bad input gets a page or one clear line."""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import lxml.html
import pytest

from pipelines import plots
from pipelines import quality_page as stage
from pipelines.lake import Lake
from pipelines.records import PortalOutcome
from pipelines.regions import MAINLAND_PROVINCES
from tests.conftest import SEEDS


def _bad(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / "inputs" / name
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(data)
    return path


def _query(cli, lake_url: str, sql: str) -> list[dict]:
    result = cli("query", "--lake", lake_url, "--format", "json", sql)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


#: Pages made of a lake by ``govreports report``, by lake URL: the filled lakes are read only,
#: so each backend's page is made once (per test worker) and every test reads it.
_PAGES: dict[str, str] = {}
#: Per backend: the filled lake (see ``filled``).
_FILLED: dict[str, str] = {}


def _report(cli, lake_url: str, tmp_path: Path):
    if lake_url not in _PAGES or lake_url not in _FILLED.values():
        out = tmp_path / "page"
        result = cli("report", "--lake", lake_url, "--out", out)
        assert result.returncode == 0, result.stderr
        assert str(out / "index.html") in result.stdout  # tells the user where the page is
        _PAGES[lake_url] = (out / "index.html").read_text(encoding="utf-8")
    text = _PAGES[lake_url]
    return text, lxml.html.fromstring(text)


@pytest.fixture
def filled(cli, lake_url, tmp_path):
    """A lake with the seeds (five reports in three provinces) and two rejects: one per backend
    (and test worker), which the tests only read."""
    backend = "s3" if lake_url.startswith("s3://") else "local"
    if backend not in _FILLED:
        bad = [_bad(tmp_path, "broken.pdf", b"%PDF-1.7\nnot really a pdf\n%%EOF\n"),
               _bad(tmp_path, "empty.html", b"")]
        result = cli("ingest", "--lake", lake_url, "--allow-rejects", SEEDS, *bad)
        assert result.returncode == 0, result.stderr
        _FILLED[backend] = lake_url
    return _FILLED[backend]


@pytest.mark.parametrize("province,year", [("530000", 2019), ("220000", 2013), ("110000", 2019)],
                         ids=["two-reports", "one-report", "an-empty-province"])
def test_the_heatmap_counts_what_a_query_counts(cli, filled, tmp_path, province, year):
    _, page = _report(cli, filled, tmp_path)
    [cell] = page.xpath(f'//td[@data-province="{province}"][@data-year="{year}"]')
    [expected] = _query(cli, filled, "select count(*) as n from report_latest where "
                                     f"province_code = '{province}' and report_year = {year}")
    assert int(cell.text) == expected["n"]


def test_the_heatmap_lists_all_31_provinces(cli, filled, tmp_path):
    text, page = _report(cli, filled, tmp_path)
    listed = {td.get("data-province") for td in page.xpath('//td[@data-year]')}
    assert set(MAINLAND_PROVINCES) <= listed
    assert page.xpath('//figure[@id="coverage-heatmap"]/*[local-name()="svg"]')
    [total] = page.xpath('//div[@id="total-reports"]/b/text()')
    assert int(total) == _query(cli, filled, "select count(*) as n from report_latest")[0]["n"]


@pytest.mark.parametrize("field", ["title", "index_no", "published_date", "county_code"])
def test_completeness_is_what_a_query_computes(cli, filled, tmp_path, field):
    _, page = _report(cli, filled, tmp_path)
    for province in ("530000", "all"):
        [cell] = page.xpath(f'//td[@data-province="{province}"][@data-field="{field}"]')
        where = f"where province_code = '{province}'" if province != "all" else ""
        [expected] = _query(cli, filled, f"select round(100.0 * count({field}) / count(*), 1) "
                                         f"as pct from reports {where}")
        assert float(cell.text) == expected["pct"], (province, field)


def test_rejects_by_reason_are_what_a_query_counts(cli, filled, tmp_path):
    _, page = _report(cli, filled, tmp_path)
    expected = _query(cli, filled, "select reason, count(*) as n from rejects group by all")
    assert {r["reason"] for r in expected} == {"corrupt_pdf", "empty"}
    for row in expected:
        [cell] = page.xpath(f'//td[@data-reason-count="{row["reason"]}"]')
        assert int(cell.text) == row["n"]
    [total] = page.xpath('//div[@id="total-rejects"]/b/text()')
    assert int(total) == sum(r["n"] for r in expected)


def test_the_page_is_one_file_that_needs_nothing_else(cli, filled, tmp_path):
    text, page = _report(cli, filled, tmp_path)
    assert "<script" not in text and not re.search(r'(src|href)="(https?:)?//', text)
    assert not page.xpath("//link | //img | //iframe")
    ids = re.findall(r'\sid="([^"]+)"', text)  # figures inlined side by side share no id
    assert len(ids) == len(set(ids)) and len(ids) > 100


@pytest.mark.parametrize("contents", ["nothing", "only-rejects"])
def test_a_lake_without_reports_gets_a_page_that_says_so(cli, lake_url, tmp_path, contents):
    if contents == "only-rejects":
        bad = _bad(tmp_path, "broken.pdf", b"%PDF-1.7\nnot really a pdf\n%%EOF\n")
        assert cli("ingest", "--lake", lake_url, "--allow-rejects", bad).returncode == 0
    elif not lake_url.startswith("s3://"):
        Path(lake_url).mkdir()
    text, page = _report(cli, lake_url, tmp_path)
    assert page.xpath('//p[@id="no-reports"]')
    assert not page.xpath('//figure[@id="coverage-heatmap"]')
    assert bool(page.xpath('//td[@data-reason-count="corrupt_pdf"]')) == (contents != "nothing")


def test_a_missing_lake_gets_one_line_naming_it(cli, tmp_path):
    result = cli("report", "--lake", tmp_path / "nowhere", "--out", tmp_path / "page")
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert f"lake {(tmp_path / 'nowhere').as_uri()} does not exist" in line
    assert not (tmp_path / "nowhere").exists() and not (tmp_path / "page").exists()


# -- portal health from the crawl manifests -----------------------------------------------------

def _crawl(lake: Lake, run_id: str, started: str, portals: dict[str, PortalOutcome]) -> None:
    lake.write_manifest(run_id, {"command": "crawl", "status": "finished", "run_id": run_id,
                                 "started_at": started,
                                 "portals": {p: o.to_json() for p, o in portals.items()}})


def _outcome(pid: str, status: str, failures=(), blocked=()) -> PortalOutcome:
    counts = {"status": status, "list_pages": 0 if status == "down" else 2,
              "status_note": "the lists announced 48 entries, 3 read"
              if status == "suspect_empty" else None}
    return PortalOutcome(pid, counts, failures=tuple(failures), blocked=tuple(blocked))


@pytest.fixture
def crawled(tmp_path):
    lake = Lake.open(str(tmp_path / "lake"), writable=True)
    _crawl(lake, "r1", "2026-11-01T00:00:00+00:00", {
        "alpha": _outcome("alpha", "ok"), "beta": _outcome("beta", "ok")})
    _crawl(lake, "r2", "2026-11-02T00:00:00+00:00", {
        "alpha": _outcome("alpha", "down", failures=[
            {"url": "http://a.gov.cn/1", "reason": "timeout", "message": "30 s"},
            {"url": "http://a.gov.cn/2", "reason": "timeout", "message": "30 s"}],
            blocked=[{"url": "http://a.gov.cn/", "kind": "ruishu", "status": 412}]),
        "beta": _outcome("beta", "suspect_empty")})
    lake.write_manifest("p1", {"command": "process", "started_at": "2026-11-03T00:00:00+00:00"})
    return lake


@pytest.mark.parametrize("portal,status,last_ok,failures,walls", [
    ("alpha", "down", "2026-11-01T00:00:00+00:00", {"timeout": 2}, {"ruishu": 1}),
    ("beta", "suspect_empty", "2026-11-01T00:00:00+00:00", {}, {}),
], ids=["down-behind-a-wall", "suspect-empty"])
def test_portal_health_is_the_latest_crawl_and_the_last_ok_one(crawled, portal, status, last_ok,
                                                              failures, walls):
    health = {h.portal_id: h for h in stage.portal_health(crawled)}
    assert set(health) == {"alpha", "beta"}
    h = health[portal]
    assert (h.crawls, h.last_status, h.last_ok) == (2, status, last_ok)
    assert (dict(h.failures), dict(h.blocked)) == (failures, walls)
    [cell] = lxml.html.fromstring(stage.build(crawled, generated="t")).xpath(
        f'//td[@data-portal-status="{portal}"]')
    assert cell.text == status


# -- the plots ----------------------------------------------------------------------------------

def test_every_label_is_drawn_with_a_font_that_has_its_glyphs(cli, filled, tmp_path):
    lake = Lake.open(filled)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        stage.build(lake, generated="t")
    assert [str(w.message) for w in caught if "Glyph" in str(w.message)] == []


@pytest.mark.parametrize("font,expected", [("WenQuanYi Micro Hei", "530000 云南省"),
                                           (None, "530000")], ids=["cjk-font", "no-cjk-font"])
def test_labels_keep_their_chinese_only_with_a_cjk_font(monkeypatch, font, expected):
    monkeypatch.setattr(plots, "cjk_font", lambda: font)
    assert plots.label("530000 云南省") == expected


def test_svg_ids_are_prefixed_with_their_references():
    svg = '<svg><path id="g1"/><use xlink:href="#g1"/><g clip-path="url(#c2)"/></svg>'
    assert plots.svg_ids_prefixed(svg, "f-") == (
        '<svg><path id="f-g1"/><use xlink:href="#f-g1"/><g clip-path="url(#f-c2)"/></svg>')


def test_what_the_lake_says_is_text_on_the_page_never_markup(cli, tmp_path):
    """The page is autoescaped: a lake path, a portal's status note or the generation time
    holding markup shows as that text, and the page gains no element from it."""
    lake_dir = tmp_path / "<b>lake</b>"
    note = '<img src=x onerror="alert(1)">'
    lake = Lake.open(str(lake_dir), writable=True)
    lake.write_manifest("20260101T000000Z-crawl", {
        "run_id": "20260101T000000Z-crawl", "command": "crawl", "status": "finished",
        "started_at": "2026-01-01T00:00:00+00:00", "finished_at": "2026-01-01T00:10:00+00:00",
        "portals": {"p-1": PortalOutcome("p-1", {"status": "suspect_empty",
                                                 "status_note": note}).to_json()}})
    page = stage.build(Lake.open(str(lake_dir)), generated="2026-01-02 <i>now</i>")
    tree = lxml.html.fromstring(page)
    assert not tree.xpath("//img | //i | //body//b[normalize-space()='lake']")
    assert "&lt;i&gt;now&lt;/i&gt;" in page
    assert note in tree.text_content()


def test_reports_changed_after_publication_are_counted_and_their_largest_changes_listed(
        cli, lake_url, tmp_path):
    from tests.test_versions import SEED, _edited

    folder = tmp_path / "in"
    folder.mkdir()
    for text in (SEED.read_text(encoding="utf-8"), _edited(SEED.read_text(encoding="utf-8"))):
        (folder / "report.txt").write_text(text, encoding="utf-8")
        assert cli("ingest", "--lake", lake_url, folder).returncode == 0
    out = tmp_path / "page"
    assert cli("report", "--lake", lake_url, "--out", out).returncode == 0
    page = lxml.html.fromstring((out / "index.html").read_text(encoding="utf-8"))
    [counted] = _query(cli, lake_url, "select province, year, count(*) as changes "
                                      "from report_changes group by all")
    cell = page.xpath(f'//td[@data-changed-reports="{counted["province"]}/{counted["year"]}"]')
    assert cell and cell[0].text_content() == "1"
    rows = [[td.text_content() for td in tr.xpath("td")]
            for tr in page.xpath('//table[@id="largest-changes"]/tr[td]')]
    assert {(r[3], r[4], r[5]) for r in rows} == {("三/received_new/natural_person", "0", "2"),
                                                  ("三/received_new/total", "0", "2")}
    assert all(r[1].startswith("v1 ") and r[2].startswith("v2 ") for r in rows)
    [shas] = _query(cli, lake_url, "select from_sha256, to_sha256 from report_changes")
    links = page.xpath('//table[@id="largest-changes"]//a/@href')
    assert f"/raw/{shas['from_sha256'][:2]}/{shas['from_sha256']}" in " ".join(links)
    assert f"/raw/{shas['to_sha256'][:2]}/{shas['to_sha256']}" in " ".join(links)


def test_reports_read_by_ocr_are_counted_with_their_low_confidence_pages(cli, cli_process,
                                                                         tmp_path):
    from tests.scans import draw_page, image_bytes, page_lines
    from tests.test_ocr import AMPLE, STREET

    folder = tmp_path / "in"
    folder.mkdir()
    # a clear page, and the same page blurred and faded: read with low confidence
    lines = page_lines(STREET.read_text(encoding="utf-8"))
    (folder / "clear.png").write_bytes(image_bytes(draw_page(lines)))
    faded = draw_page(lines, dpi=80).point(lambda v: 150 + v * 105 // 255)
    (folder / "faded.png").write_bytes(image_bytes(faded, "JPEG", quality=8))
    lake = tmp_path / "lake"
    assert cli_process("ingest", "--lake", lake, folder, env=AMPLE).returncode == 0
    out = tmp_path / "page"
    assert cli("report", "--lake", lake, "--out", out).returncode == 0
    page = lxml.html.fromstring((out / "index.html").read_text(encoding="utf-8"))
    counted = _query(cli, lake, "select report_year, sum(len(ocr_low_confidence_pages)) as low, "
                                "sum(ocr_pages) as pages from reports "
                                "where ocr_engine is not null group by all")
    assert sum(c["pages"] for c in counted) == 2 and sum(c["low"] for c in counted) == 1
    for row in counted:
        year = str(row["report_year"]) if row["report_year"] is not None else "unknown"
        [cell] = page.xpath(f'//td[@data-ocr-low="{year}"]')
        assert int(cell.text_content()) == row["low"]
    assert "read by OCR" in page.xpath('string(//h2[@id="ocr"]/following-sibling::p[1])')
