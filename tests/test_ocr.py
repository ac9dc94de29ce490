"""Reports that exist only as images, read by OCR (pipelines.ocr) through ``govreports ingest``
as a user runs it: a scanned PDF with a red seal and a slight skew, a page image on its own, a
corrupt and a huge image, a scan over its time budget. The scans are drawn here from the seed
reports (tests/scans.py), so each has its gold text and the metadata the text path finds."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import unicodedata
import zlib
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from crawlers.samples.server import Page, SampleServer, Site
from pipelines.ocr import _lines, pages_hint
from tests.conftest import GOVREPORTS, SEEDS
from tests.portal_sites import FAST, trs_list, write_registry
from tests.scans import draw_page, image_bytes, page_lines, scanned_pdf, table3

SEAL = "某某县人民政府办公室"
REALPAGES = Path(__file__).parent / "realpages"
#: The seed reports drawn: the 2019-template township report (two pages) and a 街道's.
TOWNSHIP = SEEDS / "003_6f0460d6ccc8a243.txt"
STREET = SEEDS / "000_755e354edfb80570.txt"
FIELDS = ("title", "report_year", "issuing_agency", "province_code", "document_kind")


def _rows(cli, lake, sql):
    done = cli("query", "--lake", lake, "--format", "json", sql)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _f1(found: str, gold: str) -> float:
    """Character F1 (bag of characters, NFKC, no spaces) of OCR's text against the drawn one."""
    def bag(text):
        return Counter(c for c in unicodedata.normalize("NFKC", text) if not c.isspace())
    got, want = bag(found), bag(gold)
    overlap = sum((got & want).values())
    return 2 * overlap / (sum(got.values()) + sum(want.values())) if overlap else 0.0


@pytest.fixture(scope="module")
def drawn(tmp_path_factory):
    """A folder of scans and, beside it, the same pages' text as plain-text files."""
    scans = tmp_path_factory.mktemp("scans")
    texts = tmp_path_factory.mktemp("texts")
    township = page_lines(TOWNSHIP.read_text(encoding="utf-8"), lines=80)
    street = page_lines(STREET.read_text(encoding="utf-8"))
    (scans / "township.pdf").write_bytes(scanned_pdf([
        draw_page(township[:40], seal=SEAL, skew=1.5), draw_page(township[40:], skew=-1.0)]))
    (scans / "street.png").write_bytes(image_bytes(draw_page(street, noise=True)))
    (texts / "township.txt").write_text("\n".join(township), encoding="utf-8")
    (texts / "street.txt").write_text("\n".join(street), encoding="utf-8")
    return scans, texts


#: A page's budget in these tests: they are about what OCR reads, not how fast (a test worker
#: shares two cores with three others; the budget's own test sets it low).
AMPLE = {"GOVREPORTS_LAKE": "", "GOVREPORTS_OCR_PAGE_SECONDS": "900"}
NO_RECHECK = {"GOVREPORTS_RECHECK_MAX": "0"}


@pytest.fixture(scope="module")
def ingested(drawn, tmp_path_factory):
    """The scans and the texts, each ingested into a lake of its own, as a user would (in a
    process of its own: its workers take its environment)."""
    scans, texts = drawn
    lakes = tmp_path_factory.mktemp("lakes")
    for name, folder in (("scans", scans), ("texts", texts)):
        done = subprocess.run([*GOVREPORTS, "ingest", "--lake", str(lakes / name), str(folder)],
                              capture_output=True, text=True, timeout=900,
                              env={**os.environ, **AMPLE})
        assert done.returncode == 0, done.stdout + done.stderr
    return lakes / "scans", lakes / "texts"


@pytest.mark.parametrize("name", ["township", "street"], ids=["scanned-pdf-seal-skew",
                                                             "page-image-with-grain"])
def test_a_scan_is_read_as_its_text_would_be(cli, drawn, ingested, name):
    scan_lake, text_lake = ingested
    columns = ", ".join(FIELDS)
    [scan] = _rows(cli, scan_lake, f"select {columns}, text, ocr_engine, ocr_engine_version, "
                                   f"ocr_pages, ocr_confidence, ocr_low_confidence_pages "
                                   f"from reports where url like '%{name}%'")
    [text] = _rows(cli, text_lake, f"select {columns}, text, ocr_engine from reports "
                                   f"where url like '%{name}%'")
    assert {f: scan[f] for f in FIELDS} == {f: text[f] for f in FIELDS}
    gold = (drawn[1] / f"{name}.txt").read_text(encoding="utf-8")
    assert _f1(scan["text"], gold) >= 0.97
    assert (scan["ocr_engine"], scan["ocr_pages"]) == (
        "rapidocr+openvino", 2 if name == "township" else 1)
    assert scan["ocr_engine_version"].startswith("1.4")
    assert scan["ocr_confidence"] > 0.9 and scan["ocr_low_confidence_pages"] == []
    assert text["ocr_engine"] is None  # the text path never runs OCR


def _network_unreachable() -> list[str] | None:
    """A command prefix that runs a process with no network at all (a network namespace of its
    own, not even loopback up), or None where this machine does not allow one."""
    import shutil

    command = ["unshare", "--net", "--map-root-user"]
    if shutil.which("unshare") is None or subprocess.run(
            [*command, "true"], capture_output=True).returncode != 0:
        return None
    return command


def test_ocr_runs_with_the_network_unreachable(cli, drawn, tmp_path):
    """The engine and its models are on this machine: a scan is read in a process that can
    reach no address, not even 127.0.0.1."""
    offline = _network_unreachable()
    if offline is None:
        pytest.skip("this machine allows no network namespace (unshare --net)")
    probe = subprocess.run([*offline, sys.executable, "-c",
                            "import socket; socket.create_connection(('127.0.0.1', 9), 2)"],
                           capture_output=True, text=True)
    assert probe.returncode != 0  # the namespace really has no network
    lake = tmp_path / "lake"
    done = subprocess.run([*offline, *GOVREPORTS, "ingest", "--lake", str(lake),
                           str(drawn[0] / "street.png")],
                          capture_output=True, text=True, timeout=900,
                          env={**os.environ, **AMPLE})
    assert done.returncode == 0, done.stdout + done.stderr
    [scan] = _rows(cli, lake, "select text, ocr_engine, ocr_pages from reports")
    gold = (drawn[1] / "street.txt").read_text(encoding="utf-8")
    assert (scan["ocr_engine"], scan["ocr_pages"]) == ("rapidocr+openvino", 1)
    assert _f1(scan["text"], gold) >= 0.97


def test_a_seals_lettering_is_no_text_of_the_report(cli, ingested):
    [scan] = _rows(cli, ingested[0], "select title, issuing_agency, text from reports "
                                     "where url like '%township%'")
    assert not any(SEAL in (scan[f] or "") or "某某县" in (scan[f] or "")
                   for f in ("title", "issuing_agency", "text"))


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _huge_png() -> bytes:
    """A PNG of a few hundred bytes whose header claims 100,000 × 100,000 pixels (a
    decompression bomb)."""
    return (b"\x89PNG\r\n\x1a\n"
            + _chunk(b"IHDR", struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0))
            + _chunk(b"IDAT", zlib.compress(b"\x00" * 1000)) + _chunk(b"IEND", b""))


@pytest.mark.parametrize("data,reason", [
    (b"\x89PNG\r\n\x1a\n" + b"not an image at all" * 20, "corrupt_image"),
    (_huge_png(), "too_large"),
], ids=["corrupt-image", "decompression-bomb"])
def test_an_image_that_cannot_be_read_is_a_reject_with_its_reason(cli, tmp_path, data, reason):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "scan.png").write_bytes(data)
    lake = tmp_path / "lake"
    done = cli("ingest", "--lake", lake, folder)
    assert done.returncode == 1 and "1 document(s) rejected" in done.stderr
    assert [r["reason"] for r in _rows(cli, lake, "select reason from rejects")] == [reason]


def test_a_scan_over_its_page_budget_is_too_slow_with_the_pages_read(cli, cli_process, drawn,
                                                                     tmp_path):
    lake = tmp_path / "lake"
    # in a process of its own: the workers' environment is the command's
    done = cli_process("ingest", "--lake", lake, drawn[0] / "township.pdf",
                       env={"GOVREPORTS_OCR_PAGE_SECONDS": "0.001"})
    assert done.returncode == 1, done.stderr
    [reject] = _rows(cli, lake, "select reason, message from rejects")
    assert reject["reason"] == "too_slow"
    assert "OCR read 1 of 2 page(s)" in reject["message"]


@pytest.mark.parametrize("data,pages", [
    (b"%PDF-1.4\n1 0 obj << /Type /Pages /Count 2 >>\n2 0 obj << /Type /Page >>\n"
     b"3 0 obj << /Type/Page >>", 2),
    (b"\x89PNG\r\n\x1a\n....", 1),
    (b"<html><body>page</body></html>", 0),
], ids=["pdf-page-objects", "image", "html"])
def test_a_documents_pages_are_counted_for_its_budget(data, pages):
    assert pages_hint(data) == pages


def _box(left: float, top: float, width: float, text: str) -> list:
    return [[[left, top], [left + width, top], [left + width, top + 30],
             [left, top + 30]], text, 0.99]


@pytest.mark.parametrize("boxes,lines", [
    ([_box(100, 100, 300, "一、总体情况"), _box(100, 160, 600, "全年主动公开信息120条。")],
     ["一、总体情况", "全年主动公开信息120条。"]),
    # one line the engine cut in two (a small gap), and a table row's cells (wide gaps)
    ([_box(100, 100, 200, "本年度报告根据"), _box(305, 102, 200, "条例编制")],
     ["本年度报告根据条例编制"]),
    ([_box(100, 100, 200, "（一）自然人"), _box(700, 104, 30, "2"), _box(900, 98, 30, "0"),
      _box(100, 160, 200, "（二）法人"), _box(700, 160, 30, "1"), _box(900, 161, 30, "3")],
     ["（一）自然人\t2\t0", "（二）法人\t1\t3"]),
    # a page in two columns: the left one is read first, then the right one
    ([box for i in range(6) for box in (_box(100, 100 + 60 * i, 500, f"左栏第{i}行文字内容"),
                                        _box(800, 100 + 60 * i, 500, f"右栏第{i}行文字内容"))],
     [f"左栏第{i}行文字内容" for i in range(6)] + [f"右栏第{i}行文字内容" for i in range(6)]),
    # a table's rows are no columns: a label and short numbers
    ([box for i in range(6) for box in (_box(100, 100 + 60 * i, 90, f"第{i}项"),
                                        _box(800, 100 + 60 * i, 40, str(i)))],
     [f"第{i}项\t{i}" for i in range(6)]),
    # a table's rows: a label wrapped in its cell (two lines around the row's numbers) is one
    # cell; a group's label spanning two rows goes, line by line, to the row it lies nearest,
    # before the row's own label; a heading above the table is a line of its own
    ([_box(100, 20, 400, "三、收到和处理政府信息公开申请情况"),
      _box(100, 130, 120, "（三）不予公"), _box(100, 170, 30, "开"),
      _box(300, 100, 300, "2.其他法律行政法规禁止公"), _box(300, 140, 30, "开"),
      _box(700, 121, 30, "3"), _box(800, 119, 30, "9"), _box(900, 120, 45, "36"),
      _box(300, 210, 300, "3.危及“三安全一稳定”"), _box(700, 211, 30, "0"),
      _box(800, 209, 30, "3"), _box(900, 210, 45, "17")],
     ["三、收到和处理政府信息公开申请情况", "（三）不予公\t2.其他法律行政法规禁止公开\t3\t9\t36",
      "开\t3.危及“三安全一稳定”\t0\t3\t17"]),
], ids=["two-lines", "one-line-cut-in-two", "table-rows-as-cells", "two-columns",
        "table-not-columns", "table-rows-with-wrapped-labels"])
def test_boxes_become_lines_and_cells(boxes, lines):
    assert _lines(boxes) == lines


# -- reports published as pictures: which images of a page are its pages ----------------------

_HEADER = ('<div class="head"><a href="/"><img src="/images/logo.png"></a>'
           '<img src="/images/banner_line.jpg" width="1000" height="4"></div>')
_FOOTER = ('<div class="foot">主办单位：某某县人民政府办公室 <a href="http://bszs.conac.cn/sitename">'
           '<img src="/images/red.png"></a><img src="/images/gongan.png" width="20"></div>')
_MENU = "<ul>" + "".join(f'<li><a href="/c{i}/">栏目{i}</a><img src="/i{i}.jpg"></li>'
                         for i in range(12)) + "</ul>"
_TEXT = "<p>本机关认真贯彻落实《中华人民共和国政府信息公开条例》，主动公开政府信息。</p>" * 12


def _page(content: str, title: str = "某某镇2020年政府信息公开工作年度报告") -> str:
    return (f'<html><head><meta charset="utf-8"><title>{title}</title></head><body>'
            f"{_HEADER}{_MENU}{content}{_FOOTER}</body></html>")


@pytest.mark.parametrize("content,pictures", [
    ('<div class="TRS_Editor"><p style="text-align:center"><img src="./W020210315_1.jpg" '
     'width="600"></p><p><img src="./W020210315_2.jpg" style="width:600px"></p></div>',
     ["W020210315_1.jpg", "W020210315_2.jpg"]),
    # a lazy loader's placeholder in src, the scan in data-original
    ('<div class="article"><img src="/images/loading.gif" data-original="/u/2021/p1.png">'
     '<img src="/images/loading.gif" data-original="/u/2021/p2.png"></div>',
     ["/u/2021/p1.png", "/u/2021/p2.png"]),
    # thumbnails linking to the full scans: the scans
    ('<div class="TRS_Editor"><a href="./big1.jpg"><img src="./small1.jpg"></a>'
     '<a href="./big2.jpg"><img src="./small2.jpg"></a></div>',
     ["big1.jpg", "big2.jpg"]),
    # no family container: the block holding the images, with a caption
    ('<div class="main"><div class="con"><p>某某镇2020年年报（图片版）</p>'
     '<p><img src="/u/a.jpeg"></p><p><img src="/u/b.jpeg"></p></div></div>',
     ["/u/a.jpeg", "/u/b.jpeg"]),
    # a report with its own text keeps its illustration unread
    (f'<div class="TRS_Editor">{_TEXT}<p><img src="./W0202103_chart.png"></p></div>', []),
    (f'<div class="con">{_TEXT}<p><img src="/u/photo.jpg"></p></div>', []),
    # icons and rules in the content are no pages; nor is an image that links to a page
    ('<div class="TRS_Editor"><img src="./pdf_icon.gif" width="16" height="16">'
     '<a href="./t2021_2.html"><img src="./next.jpg"></a></div>', []),
    # only the template's images
    ('<div class="TRS_Editor"><p>暂无内容</p></div>', []),
], ids=["trs-column-of-scans", "lazy-loaded", "thumbnails-of-scans", "no-container",
        "text-report-illustration", "news-photo", "icons-and-linked-images", "template-only"])
def test_the_pictures_a_report_is_made_of(content, pictures):
    from pipelines.extract import page_files, parse_page

    base = "http://127.0.0.81/ndbg/202103/t20210315_1.html"
    html = _page(content)
    links, found = page_files(parse_page(html), html, base)
    assert [url.removeprefix("http://127.0.0.81") for url in found] == [
        picture if picture.startswith("/") else "/ndbg/202103/" + picture
        for picture in pictures]
    assert set(found) <= {url for url, _ in links}  # the crawler fetches what is read


TOWNSHIP_TITLE = "西邑乡2019年政府信息公开年度报告"
STREET_TITLE = "刘房子街道2019年度政务公开工作年度报告"


def _picture_portal() -> Site:
    """A TRS column on a loopback host listing two reports published as images: a page whose
    content is a column of two scans (with a template's logo, menu and badges around it), and
    a page that links its scan as an attachment."""
    township = page_lines(TOWNSHIP.read_text(encoding="utf-8"), lines=80)
    street = page_lines(STREET.read_text(encoding="utf-8"))
    site = Site("pictures", "127.0.0.81")
    site.routes["/ndbg/index.html"] = trs_list([
        ("./202103/t20210315_1.html", TOWNSHIP_TITLE, "2020-01-31"),
        ("./202103/t20210315_2.html", STREET_TITLE, "2020-01-20")], 0, 1)
    site.routes["/ndbg/202103/t20210315_1.html"] = Page(_page(
        '<div class="TRS_Editor"><p style="text-align:center"><img src="./W020210315_1.jpg" '
        'width="600"></p><p style="text-align:center"><img src="./W020210315_2.jpg" '
        'width="600"></p></div>', TOWNSHIP_TITLE).encode("utf-8"))
    site.routes["/ndbg/202103/t20210315_2.html"] = Page(_page(
        f'<div class="TRS_Editor"><p>附件：<a href="./P020210315_scan.png">{STREET_TITLE}'
        "（扫描件）</a></p></div>", STREET_TITLE).encode("utf-8"))
    for name, scan in (("W020210315_1.jpg", draw_page(township[:40], seal=SEAL, skew=1.0)),
                       ("W020210315_2.jpg", draw_page(township[40:], skew=-1.0))):
        site.routes[f"/ndbg/202103/{name}"] = Page(image_bytes(scan, "JPEG", quality=85),
                                                   content_type="image/jpeg")
    site.routes["/ndbg/202103/P020210315_scan.png"] = Page(
        image_bytes(draw_page(street, noise=True)), content_type="image/png")
    for path in ("/images/logo.png", "/images/red.png", "/images/gongan.png"):
        site.routes[path] = Page(image_bytes(draw_page(["某某县人民政府门户网站"])),
                                 content_type="image/png")
    return site


def test_reports_published_as_pictures_are_crawled_and_read(cli, cli_process, drawn, ingested,
                                                           tmp_path):
    """Through ``govreports run`` on a loopback portal: the scans a page is made of and the
    scan a page links to are fetched with their pages (and none of the template's images),
    kept with the report, and read as its text, with the text path's metadata."""
    site = _picture_portal()
    lake = tmp_path / "lake"
    with SampleServer([site]) as server:
        registry = write_registry(tmp_path / "p.yaml", [{
            "id": "pictures", "name": "图片版", "cms": "trs",
            "start_urls": [site.url("/ndbg/index.html")]}])
        done = cli_process("run", "--portals", registry, "--lake", lake, *FAST,
                           env={**AMPLE, **NO_RECHECK})
        assert done.returncode == 0, done.stdout + done.stderr
        fetched = sorted(h.path for h in server.hits if h.path.endswith((".jpg", ".png")))
    assert fetched == ["/ndbg/202103/P020210315_scan.png", "/ndbg/202103/W020210315_1.jpg",
                       "/ndbg/202103/W020210315_2.jpg"]  # no logo, no badge
    fields = ", ".join(("report_year", "issuing_agency", "province_code", "document_kind"))
    rows = {row["name"]: row for row in _rows(cli, lake, (
        f"select case when url like '%_1.html' then 'township' else 'street' end as name, "
        f"{fields}, text, ocr_pages, len(attachments) as files, "
        f"len(list_filter(attachments, lambda f: f.sha256 is not null)) as kept from reports"))}
    texts = {row["name"]: row for row in _rows(cli, ingested[1], (
        f"select case when url like '%township%' then 'township' else 'street' end as name, "
        f"{fields} from reports"))}
    for name, pages in (("township", 2), ("street", 1)):
        scan, text = rows.pop(name), texts[name]
        assert (scan.pop("ocr_pages"), scan.pop("files"), scan.pop("kept")) == (
            pages, pages, pages), name
        gold = (drawn[1] / f"{name}.txt").read_text(encoding="utf-8")
        found = scan.pop("text")
        assert _f1(found, gold) >= 0.97, name
        assert SEAL not in found and "门户网站" not in found, name
        assert scan == text, name
    assert rows == {}


REAL_PICTURES = yaml.safe_load((REALPAGES / "pictures" / "sources.yaml").read_text("utf-8"))


@pytest.mark.parametrize("name", sorted(REAL_PICTURES))
def test_the_pictures_of_real_pages(name):
    from pipelines.extract import page_files, parse_page

    case = REAL_PICTURES[name]
    html = (REALPAGES / case["file"]).read_text(encoding="utf-8")
    links, found = page_files(parse_page(html), html, case["url"])
    assert found == case["pictures"]
    assert set(found) <= {url for url, _ in links}


@pytest.mark.parametrize("ruled,skew", [(True, 1.5), (False, -1.0)],
                         ids=["ruled-table-skewed", "unruled-table"])
def test_a_statistics_table_in_a_scan_becomes_its_numbers(cli, tmp_path, ruled, skew):
    """A 2021-template 表三 drawn as a Word table prints (wrapped labels, spanned groups),
    scanned at 200 dpi, ingested as a PDF of page images: its cells are read by position."""
    draw, gold = table3(11)
    page = draw(ruled=ruled)
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "table.pdf").write_bytes(scanned_pdf([page.rotate(skew, fillcolor="white")]))
    lake = tmp_path / "lake"
    done = subprocess.run([*GOVREPORTS, "ingest", "--lake", str(lake), str(folder)],
                          capture_output=True, text=True, timeout=900,
                          env={**os.environ, **AMPLE})
    assert done.returncode == 0, done.stdout + done.stderr
    [report] = _rows(cli, lake, "select template, stats_consistent, ocr_pages from reports")
    assert (report["template"], report["ocr_pages"]) == ("2021", 1)
    cells = {(c["row_key"], c["column_key"]): c["value"] for c in _rows(
        cli, lake, "select row_key, column_key, value from report_stats where \"table\" = '三'")}
    right = sum(1 for key, value in cells.items()
                if value is not None and Decimal(str(value)) == gold.get(key))
    assert right >= 0.9 * len(gold), (right, len(gold))
    # A number misread is caught by the checks: the table is not called consistent.
    assert report["stats_consistent"] is (right == len(cells) == len(gold))


@pytest.mark.parametrize("page", sorted(p.name for p in (REALPAGES / "pages").glob("*.htm*")))
def test_no_real_text_page_is_taken_for_pictures(page):
    """The real-pages corpus (reports, letters, notices and news published as text, in their
    portals' templates: breadcrumb icons, logos, badges, QR codes): none is a report made of
    pictures, so none of their images is fetched or read."""
    from pipelines.extract import page_files, parse_page

    html = (REALPAGES / "pages" / page).read_text(encoding="utf-8", errors="replace")
    assert page_files(parse_page(html), html, "https://www.example.gov.cn/a/b.html")[1] == []
