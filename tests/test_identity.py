"""One identity rule for documents across commands (docs/lake.md, "Identity"): a document is
its URL or its path; new bytes at a path replace its row; identical bytes under two paths are
one row; a page and a file it links to are one report whichever came first."""

from __future__ import annotations

import hashlib
import json

import pytest

from pipelines.lake import Lake
from tests import attachment_files
from tests.conftest import SEEDS

SEED = next(SEEDS.glob("003_*.txt")).read_text(encoding="utf-8")  # 西邑乡 2019


def _rows(cli, lake_url, sql: str) -> list[dict]:
    done = cli("query", "--lake", lake_url, "--format", "json", sql)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _page(text: str, href: str) -> str:
    return ('<html><head><meta charset="utf-8"><title>西邑乡2019年政府信息公开年度报告</title>'
            f'</head><body><div id="zoom">{text}'
            f'<p><a href="{href}">西邑乡2019年政府信息公开年度报告.docx</a></p></div>'
            "</body></html>")


PAGE_TEXTS = {
    # A page that only points to its file: no report until the file is there.
    "pointer-page": "<p>详见附件。</p>",
    # A page that is a report of its own, and links to a file besides.
    "full-page": "".join(f"<p>{line}</p>" for line in SEED.splitlines()),
}
LAYOUTS = {"same-folder": "W020200131.docx", "subfolder": "files/W020200131.docx"}


@pytest.mark.parametrize("order", ["page-first", "file-first"])
@pytest.mark.parametrize("layout", list(LAYOUTS.values()), ids=list(LAYOUTS))
@pytest.mark.parametrize("page_text", list(PAGE_TEXTS.values()), ids=list(PAGE_TEXTS))
def test_a_page_and_its_file_ingested_apart_are_one_report_after_process(
        cli, tmp_path, order, layout, page_text):
    lake = str(tmp_path / "lake")
    folder = tmp_path / "portal"
    page = folder / "t20200131_1.html"
    attachment = folder / layout
    attachment.parent.mkdir(parents=True)
    page.write_text(_page(page_text, f"./{layout}"), encoding="utf-8")
    lines = [*attachment_files.REPORT_LINES, "隆阳区西邑乡人民政府", "2020年1月20日"]
    attachment.write_bytes(attachment_files.docx_bytes(lines))
    first, second = (page, attachment) if order == "page-first" else (attachment, page)
    for path in (first, second):
        done = cli("ingest", "--lake", lake, path, "--allow-rejects")
        assert done.returncode == 0, done.stdout + done.stderr
    done = cli("process", "--lake", lake)
    assert done.returncode == 0, done.stdout + done.stderr
    rows = _rows(cli, lake, "select url, len(attachments) as n, attachments[1].url as file, "
                            "text like '%行政许可%' as has_file_text from reports")
    assert rows == [{"url": page.as_uri(), "n": 1, "file": attachment.as_uri(),
                     "has_file_text": True}]
    again = cli("process", "--lake", lake)  # and it stays so
    assert again.returncode == 0 and "partitions written 0" in again.stdout, again.stdout


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


EDITS = {
    "year-changed": lambda text: text.replace("2019年", "2017年"),
    "one-character": lambda text: text.replace("一、总体情况", "一、总体状况", 1),
    "appended": lambda text: text + "\n附：本报告电子版可在政府网站下载。\n",
}


@pytest.mark.parametrize("edit", list(EDITS.values()), ids=list(EDITS))
def test_a_file_edited_in_place_is_one_row_of_its_latest_bytes(cli, lake_url, tmp_path, edit):
    folder = tmp_path / "in"
    folder.mkdir()
    report = folder / "report.txt"
    original = SEED.encode()
    edited = edit(SEED).encode()
    for data in (original, edited):
        report.write_bytes(data)
        assert cli("ingest", "--lake", lake_url, folder).returncode == 0
    rows = _rows(cli, lake_url, "select url, content_sha256 from reports")
    assert rows == [{"url": report.as_uri(), "content_sha256": _sha(edited)}]
    assert cli("process", "--lake", lake_url, "--force").returncode == 0
    assert _rows(cli, lake_url, "select content_sha256 from reports") == [
        {"content_sha256": _sha(edited)}]
    # Both versions stay in the raw zone; putting the first bytes back makes them current.
    lake = Lake.open(lake_url)
    assert {d.sha256 for d in lake.raw_documents()} == {_sha(original), _sha(edited)}
    report.write_bytes(original)
    assert cli("ingest", "--lake", lake_url, folder).returncode == 0
    assert cli("process", "--lake", lake_url).returncode == 0
    assert _rows(cli, lake_url, "select content_sha256 from reports") == [
        {"content_sha256": _sha(original)}]


def test_a_year_changed_in_place_moves_the_row(cli, tmp_path):
    lake = str(tmp_path / "lake")
    report = tmp_path / "report.txt"
    report.write_text(SEED, encoding="utf-8")
    assert cli("ingest", "--lake", lake, report, "--province", "530000").returncode == 0
    before = _rows(cli, lake, "select report_year from reports")
    report.write_text(EDITS["year-changed"](SEED), encoding="utf-8")
    assert cli("ingest", "--lake", lake, report, "--province", "530000").returncode == 0
    after = _rows(cli, lake, "select report_year, year from reports")
    assert len(after) == 1 and after[0]["report_year"] != before[0]["report_year"]
    assert after[0]["year"] == after[0]["report_year"]


def test_identical_bytes_under_two_paths_are_one_row_until_one_changes(cli, tmp_path):
    lake = str(tmp_path / "lake")
    a, b = tmp_path / "a" / "report.txt", tmp_path / "b" / "copy.txt"
    for path in (a, b):
        path.parent.mkdir()
        path.write_text(SEED, encoding="utf-8")
    for path in (b, a):  # the path ingested last stands for both
        assert cli("ingest", "--lake", lake, path).returncode == 0
    assert _rows(cli, lake, "select url from reports") == [{"url": a.as_uri()}]
    assert cli("process", "--lake", lake, "--force").returncode == 0
    assert _rows(cli, lake, "select url from reports") == [{"url": a.as_uri()}]
    b.write_text(EDITS["appended"](SEED), encoding="utf-8")
    assert cli("ingest", "--lake", lake, b).returncode == 0
    assert _rows(cli, lake, "select url from reports order by url") == [
        {"url": a.as_uri()}, {"url": b.as_uri()}]
    b.write_text(SEED, encoding="utf-8")  # the same bytes again: one report, b's now
    assert cli("ingest", "--lake", lake, b).returncode == 0
    assert _rows(cli, lake, "select url from reports") == [{"url": b.as_uri()}]
    assert cli("process", "--lake", lake).returncode == 0
    assert _rows(cli, lake, "select url from reports") == [{"url": b.as_uri()}]
