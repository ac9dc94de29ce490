"""Reports that exist only as images, read by OCR (pipelines.ocr) through ``govreports ingest``
as a user runs it: a scanned PDF with a red seal and a slight skew, a page image on its own, a
corrupt and a huge image, a scan over its time budget. The scans are drawn here from the seed
reports (tests/scans.py), so each has its gold text and the metadata the text path finds."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import unicodedata
import zlib
from collections import Counter

import pytest

from pipelines.ocr import _lines, pages_hint
from tests.conftest import GOVREPORTS, SEEDS
from tests.scans import draw_page, image_bytes, page_lines, scanned_pdf

SEAL = "某某县人民政府办公室"
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
        "rapidocr-onnxruntime", 2 if name == "township" else 1)
    assert scan["ocr_engine_version"].startswith("1.4")
    assert scan["ocr_confidence"] > 0.9 and scan["ocr_low_confidence_pages"] == []
    assert text["ocr_engine"] is None  # the text path never runs OCR


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
], ids=["two-lines", "one-line-cut-in-two", "table-rows-as-cells", "two-columns",
        "table-not-columns"])
def test_boxes_become_lines_and_cells(boxes, lines):
    assert _lines(boxes) == lines
