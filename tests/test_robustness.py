"""No document stops a batch: real-world page quirks, hostile files and junk become reports or
rejects with a reason, through the CLI and in a property-based test of the per-document path;
the worker pool's time budget, memory bound and crash handling; input folders that hold
special files and links."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.document import build_report, extract_document
from pipelines.errors import DocumentRejected
from pipelines.extract import extract
from pipelines.records import RawDocument, Source
from pipelines.workers import Workers, guarded
from tests import attachment_files as files
from tests.conftest import SEEDS

ROOT = Path(__file__).parent.parent
REPORT = next(SEEDS.glob("003_*.txt")).read_text(encoding="utf-8")
# The report's last line: what a page that lost its deep end would miss.
LAST_LINE = [line for line in REPORT.splitlines() if line.strip()][-1].strip()
BODY = "".join(f"<p>{line}</p>" for line in REPORT.splitlines() if line.strip())


def _page(before: str = "", after: str = "", head: str = "", body: str = BODY) -> str:
    return (f"{before}<html><head><meta charset=\"utf-8\">{head}<title>年度报告</title></head>"
            f"<body><div id=\"zoom\">{body}</div></body></html>{after}")


def _deep(levels: int, tag: str = "font") -> str:
    return f"<{tag}>" * levels + BODY  # never closed, as Word exports leave them


# Pages every CMS serves: each must become a report holding the report's last line.
QUIRK_PAGES = {
    "comment-before-html": _page(before="<!-- 由TRS WCM生成 -->\n"),
    "comment-after-html": _page(after="\n<!-- 2020-01-31 10:00:00 -->"),
    "pi-before-html": _page(before="<?php include 'head.php'; ?>"),
    "ssi-after-html": _page(after='<!--#include virtual="/footer.shtml"-->'),
    "ie-conditional-before": _page(before="<!--[if lt IE 9]><script src=x.js></script>"
                                          "<![endif]-->"),
    "cdata-in-body": _page(body="<![CDATA[ var a = 1; ]]>" + BODY),
    "doctype-xhtml": '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" '
                     '"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">' + _page(),
    "xml-declaration-utf8": '<?xml version="1.0" encoding="utf-8"?>\n' + _page(),
    "comment-inside-number": _page(body=BODY + "<p>共12<!-- x -->件</p>"),
    "nesting-300": _page(body=_deep(300)),
    "nesting-3000-font": _page(body=_deep(3000)),
    "nesting-3000-span": _page(body=_deep(3000, "span")),
}


@pytest.mark.parametrize("html", QUIRK_PAGES.values(), ids=QUIRK_PAGES.keys())
def test_a_quirky_page_is_a_whole_report(html):
    result = extract(html.encode("utf-8"), filename="page.html")
    assert LAST_LINE in result.text
    assert "西邑乡" in result.text


def test_an_xhtml_page_in_gbk_declared_only_by_its_xml_declaration():
    html = '<?xml version="1.0" encoding="gb2312"?>\n' + _page().replace(
        '<meta charset="utf-8">', "")
    result = extract(html.encode("gb18030"), filename="page.html")
    assert result.encoding_declared == "gb2312" and LAST_LINE in result.text


def test_a_page_too_deep_even_without_inline_tags_is_rejected_with_the_reason():
    with pytest.raises(DocumentRejected) as caught:
        extract(_page(body=_deep(3000, "div")).encode(), filename="page.html")
    assert caught.value.reason == "too_deep"


def test_many_unterminated_cms_markers_are_read_in_linear_time():
    # 600 KB of Hanweb begin markers without an end: the old lazy pattern ran for minutes.
    markers = "<!--ZJEG_RSS.content.begin-->x" * 20000
    spaces = " " * 200000 + "x"  # a long run of spaces (the old trailing-space pattern)
    with Workers(1, timeout=60) as workers:
        ((_, outcome),) = workers.run("extract", extract, [
            ("page", (_page(body=markers + spaces + BODY).encode(),))])
    assert not isinstance(outcome, DocumentRejected), outcome
    assert LAST_LINE in outcome.text


JUNK = {
    "one-nul-byte": (b"\x00", "junk.txt", "no_text"),
    "one-ff-byte": (b"\xff", "junk.txt", "no_text"),
    "nul-bytes": (b"\x00" * 4096, "junk.txt", "binary"),
    "nuls-in-text": ("年度报告".encode() + b"\x00" * 400, "junk.txt", "binary"),
    "json-content-object": (json.dumps({"title": "年报", "content": {"a": 1}}).encode(),
                            "item.json", "bad_json"),
    "json-list": (b"[1, 2, 3]", "item.json", "unsupported_json"),
    "latin-text": (b"root:x:0:0:root:/root:/bin/bash\n" * 20, "passwd.txt", "no_text"),
}


@pytest.mark.parametrize(("data", "name", "reason"), JUNK.values(), ids=JUNK.keys())
def test_junk_is_rejected_with_a_reason(data, name, reason):
    with pytest.raises(DocumentRejected) as caught:
        extract(data, filename=name)
    assert caught.value.reason == reason


GKMLPT = {
    "number-title": {"title": 2019, "identifier": "x/2020-1", "content": BODY},
    "list-title": {"title": ["年报"], "publisher": {"name": "某局"}, "content": BODY},
    "non-string-attachment-url": {"title": "年报", "content": BODY,
                                  "attachment": [{"url": 5}, {"url": None}, "x", {"name": 1}]},
    "attachment-not-a-list": {"title": "年报", "content": BODY, "attachment": {"url": "a.pdf"}},
    "number-timestamp": {"title": "年报", "publish_time": 1580400000, "content": BODY},
}


@pytest.mark.parametrize("item", GKMLPT.values(), ids=GKMLPT.keys())
def test_gkmlpt_items_with_unexpected_types_are_reports(item):
    raw = _raw(json.dumps(item, ensure_ascii=False).encode(), "item.json")
    extracted = extract_document(raw, json.dumps(item, ensure_ascii=False).encode())
    report, _cells = build_report(raw, extracted)
    assert LAST_LINE in report.text
    assert report.metadata.title is None or isinstance(report.metadata.title, str)


def _truncated_docx() -> bytes:
    data = files.docx_bytes()
    archive = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as rebuilt:
        for info in archive.infolist():
            part = archive.read(info)
            if info.filename == "word/document.xml":
                part = part[: len(part) // 2]  # an XML part cut in the middle
            rebuilt.writestr(info.filename, part)
    return out.getvalue()


def _ofd_with_bad_numbers() -> bytes:
    return files.ofd_bytes().replace(b'Boundary="', b'Boundary="NaN x ').replace(
        b'X="', b'X="abc')


OFFICE = {
    "truncated-docx-part": (_truncated_docx, "report.docx", "corrupt_docx"),
    # Cut short: the zip's central directory is gone (pipelines/truncation.py says so).
    "cut-docx-archive": (lambda: files.docx_bytes()[:-200], "report.docx", "truncated"),
    "cut-xlsx-archive": (lambda: files.xlsx_bytes()[:-150], "stats.xlsx", "truncated"),
}


@pytest.mark.parametrize(("build", "name", "reason"), OFFICE.values(), ids=OFFICE.keys())
def test_damaged_office_files_are_rejected_as_corrupt(build, name, reason):
    with pytest.raises(DocumentRejected) as caught:
        extract(build(), filename=name)
    assert caught.value.reason == reason


def test_an_ofd_whose_boundaries_are_not_numbers_keeps_its_text():
    result = extract(_ofd_with_bad_numbers(), filename="report.ofd")
    assert "一、总体情况" in result.text.split("\n")


# -- the worker pool: budget, memory, crashes -------------------------------------------------

def _sleep(seconds):
    import time

    time.sleep(seconds)
    return "woke"


def _allocate(megabytes):
    return len(bytearray(megabytes * 1024 * 1024))


def _die():
    os._exit(9)


def _fail():
    return {}["missing"]


def test_the_memory_bound_is_on_what_a_document_adds_not_on_what_the_parent_mapped():
    """A process that has mapped gigabytes (DuckDB reserves them for its buffers after one
    query) still gets working workers: the bound counts from the worker's own start."""
    import mmap

    reserved = mmap.mmap(-1, 3 << 30)  # address space only: never touched, no memory used
    try:
        with Workers(1, timeout=30.0, memory_mb=256) as workers:
            outcomes = dict(workers.run("extract", _allocate, [("modest", (64,)),
                                                               ("greedy", (512,))]))
    finally:
        reserved.close()
    assert outcomes["modest"] == 64 << 20
    assert isinstance(outcomes["greedy"], DocumentRejected)
    assert outcomes["greedy"].reason == "too_large"


def test_a_process_that_has_run_queries_still_processes_every_document(cli, tmp_path):
    """DuckDB and Arrow leave thread pools behind a query; workers forked from such a process
    crashed on the next batch (worker_died). They come from a clean fork server."""
    for lake in ("first", "second", "third"):
        ingested = cli("ingest", SEEDS, "--lake", tmp_path / lake)
        assert ingested.returncode == 0, ingested.stdout
        queried = cli("query", "--lake", tmp_path / lake, "select count(*) from reports")
        assert queried.returncode == 0, queried.stderr


def test_workers_reject_what_overruns_exhausts_or_crashes_and_go_on():
    with Workers(2, timeout=1.0, memory_mb=512) as workers:
        outcomes = dict(workers.run("extract", _sleep, [("slow", (30,)), ("quick", (0,))]))
        outcomes.update(workers.run("extract", _allocate, [("greedy", (2048,)),
                                                           ("modest", (16,))]))
        outcomes.update(workers.run("extract", _die, [("dies", ())]))
        outcomes.update(workers.run("extract", _fail, [("fails", ())]))
        outcomes.update(workers.run("extract", _sleep, [("after", (0,))]))
    reasons = {key: value.reason for key, value in outcomes.items()
               if isinstance(value, DocumentRejected)}
    assert reasons == {"slow": "too_slow", "greedy": "too_large", "dies": "worker_died",
                       "fails": "internal_error"}
    assert outcomes["quick"] == outcomes["after"] == "woke" and outcomes["modest"] == 16 << 20
    assert "KeyError: 'missing'" in str(outcomes["fails"])


@pytest.mark.e2e  # real processes: busy ones beside the pools
def test_a_pool_closed_while_workers_start_prints_no_traceback():
    """A small batch ends before its pool's last workers are up. Pebble unlinks the pool's
    semaphores before it stops the workers, and one still starting printed a FileNotFoundError
    traceback on the caller's stderr (a CLI run's output, a DAG task's log). Busy processes
    beside the pools keep workers starting slowly, as a loaded machine does."""
    busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"])
            for _ in range(2 * (os.cpu_count() or 1))]
    try:
        rounds = subprocess.run([sys.executable, "-m", "tests.worker_rounds", "8", "4"],
                                capture_output=True, text=True, timeout=300, cwd=ROOT)
    finally:
        for proc in busy:
            proc.kill()
            proc.wait()
    assert rounds.returncode == 0, rounds.stderr
    assert rounds.stdout.split() == [str(n) for n in range(8)]
    assert "Traceback" not in rounds.stderr, rounds.stderr


def test_an_internal_error_names_the_stage_and_line_that_raised_it(monkeypatch):
    from pipelines import stat_tables

    def broken(doc_id, text):
        raise ValueError("a bug in a parser")

    monkeypatch.setattr(stat_tables, "parse", broken)
    raw = _raw(REPORT.encode(), "report.txt")
    extracted = extract_document(raw, REPORT.encode())
    with pytest.raises(DocumentRejected) as caught:
        guarded("report", build_report, raw, extracted)
    assert caught.value.reason == "internal_error"
    assert str(caught.value).startswith("ValueError: a bug in a parser (at pipelines/document.py:")


# -- property: the per-document path never raises anything but a reject ----------------------

_TEXT = st.sampled_from([line for line in REPORT.splitlines() if line.strip()][:40])
_BEFORE = st.sampled_from([
    "", "<!-- c -->", "<?xml version='1.0' encoding='utf-8'?>",
    "<?xml version=\"1.0\" encoding=\"gb2312\"?>", "<!DOCTYPE html>", "<!doctype HTML PUBLIC>",
    "<?php x ?>", "<!--[if IE]><p>ie</p><![endif]-->", "<!--#include file=\"a\"-->",
    "<![CDATA[x]]>", "\ufeff", "\ufeff<!-- bom then comment -->", "</html>", "<html>"])
_AFTER = st.sampled_from(["", "<!-- end -->", "<?x?>", "</body></html>", "<script>x</script>",
                          "<!-- unterminated", "<![CDATA[", "<html><body>again"])
_TAGS = st.sampled_from(["font", "span", "div", "p", "b", "table", "tr", "td", "o:p", "li"])
_CONTAINER = st.sampled_from([
    ("<div id=\"zoom\">", "</div>"), ("<div class=\"TRS_Editor\">", "</div>"),
    ("<!--ZJEG_RSS.content.begin-->", "<!--ZJEG_RSS.content.end-->"),
    ("<!--ZJEG_RSS.content.begin-->", ""), ("<div>", "</div>"), ("", "")])
_ENCODING = st.sampled_from(["utf-8", "gb18030", "big5", "utf-16", "utf-8-sig"])


@st.composite
def pages(draw) -> tuple[bytes, str]:
    depth = draw(st.sampled_from([0, 1, 5, 100, 260, 2100, 3000]))
    tag = draw(_TAGS)
    opening, closing = draw(_CONTAINER)
    lines = draw(st.lists(_TEXT, min_size=0, max_size=6))
    body = "".join(f"<p>{line}</p>" for line in lines)
    html = (draw(_BEFORE) + "<html><head><title>报告</title></head><body>" + opening
            + f"<{tag}>" * depth + body + closing + "</body></html>" + draw(_AFTER))
    data = html.encode(draw(_ENCODING), errors="replace")
    if draw(st.booleans()):
        cut = draw(st.integers(min_value=0, max_value=len(data)))
        data = data[:cut]
    return data, draw(st.sampled_from(["page.html", "page.htm", "page.shtml", "page"]))


_JSON_VALUE = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | _TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                max_size=3), max_leaves=6)


@st.composite
def gkmlpt_items(draw) -> tuple[bytes, str]:
    keys = ["title", "identifier", "publisher", "document_number", "content", "attachment",
            "publish_time", "created_at"]
    item = {key: draw(_JSON_VALUE | st.just(BODY)) for key in keys if draw(st.booleans())}
    item.setdefault("title", draw(_JSON_VALUE))
    return json.dumps(item, ensure_ascii=False).encode(), "item.json"


# Built once: the builders stamp zip entries with the time, and a strategy must be repeatable.
_OFFICE_BYTES = {"r.docx": files.docx_bytes(), "s.xlsx": files.xlsx_bytes(),
                 "r.ofd": files.ofd_bytes()}


@st.composite
def office_files(draw) -> tuple[bytes, str]:
    name = draw(st.sampled_from(sorted(_OFFICE_BYTES)))
    data = _OFFICE_BYTES[name]
    if draw(st.booleans()):
        data = data[: draw(st.integers(min_value=0, max_value=len(data)))]
    else:  # flip bytes inside the archive
        position = draw(st.integers(min_value=0, max_value=len(data) - 1))
        data = data[:position] + bytes([data[position] ^ 0xFF]) + data[position + 1:]
    return data, name


def _raw(data: bytes, name: str) -> RawDocument:
    import hashlib

    source = Source(url=f"file:///fuzz/{name}", kind="file", fetched_at="2026-01-01T00:00:00",
                    filename=name)
    return RawDocument(hashlib.sha256(data).hexdigest(), len(data), source)


FUZZ_EXAMPLES = int(os.environ.get("GOVREPORTS_FUZZ_EXAMPLES", "1000"))


@settings(max_examples=FUZZ_EXAMPLES, derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(document=pages() | gkmlpt_items() | office_files())
def test_the_per_document_path_never_raises_anything_but_a_reject(document):
    data, name = document
    raw = _raw(data, name)
    try:
        extracted = guarded("extract", extract_document, raw, data)
        report, _cells = guarded("report", build_report, raw, extracted)
    except DocumentRejected as exc:
        # A known quirk must be handled, not caught by the safety net.
        assert exc.reason != "internal_error", str(exc)
        return
    assert report.text and report.doc_id == raw.doc_id


# -- through the CLI: one batch of everything ---------------------------------------------------

def test_a_batch_of_quirks_and_junk_lands_every_good_page_and_rejects_the_rest(cli, tmp_path):
    folder = tmp_path / "inputs"
    folder.mkdir()
    for name, html in QUIRK_PAGES.items():
        (folder / f"{name}.html").write_text(html.replace("西邑乡", f"西邑乡{name}", 1),
                                             encoding="utf-8")
    for name, (data, filename, _reason) in JUNK.items():
        (folder / f"{name}{Path(filename).suffix}").write_bytes(data)
    (folder / "truncated.docx").write_bytes(_truncated_docx())
    result = cli("ingest", folder, "--lake", tmp_path / "lake")
    assert result.returncode == 1, result.stderr  # rejects, documented exit code
    assert "Traceback" not in result.stderr
    lake_rows = cli("query", "--lake", tmp_path / "lake", "--format", "json",
                    "select url, text from reports")
    rows = json.loads(lake_rows.stdout)
    assert len(rows) == len(QUIRK_PAGES)
    assert all(LAST_LINE in row["text"] for row in rows)
    rejects = {Path(r["url"]).stem: r["reason"] for r in _rejects(tmp_path / "lake")}
    assert rejects == {**{name: reason for name, (_d, _f, reason) in JUNK.items()},
                       "truncated": "corrupt_docx"}


def _rejects(lake: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in (lake / "rejects").glob("*.json")]


def test_a_time_budget_sets_a_slow_document_aside_and_later_runs_go_on(cli, tmp_path):
    page = tmp_path / "page.html"
    # Long enough to take well over the budget even in a warm worker.
    paragraphs = "<p>本机关认真贯彻落实政府信息公开条例，主动公开政府信息。</p>" * 20000
    page.write_text(QUIRK_PAGES["comment-before-html"].replace("</body>", paragraphs + "</body>"),
                    encoding="utf-8")
    slow = cli("ingest", page, "--lake", tmp_path / "lake",
               env={"GOVREPORTS_DOC_TIMEOUT": "0.001"})
    assert slow.returncode == 1 and "too_slow" in slow.stdout, slow.stdout + slow.stderr
    again = cli("process", "--lake", tmp_path / "lake")
    assert again.returncode == 0, again.stdout + again.stderr
    assert not _rejects(tmp_path / "lake")  # the reject is cleared once it processes


# -- input folders ------------------------------------------------------------------------------

def test_special_files_and_outward_links_are_passed_over_and_said(cli, tmp_path):
    folder = tmp_path / "inputs"
    (folder / "sub").mkdir(parents=True)
    seed = next(SEEDS.glob("000_*.txt"))
    (folder / "report.txt").write_bytes(seed.read_bytes())
    os.mkfifo(folder / "pipe.html")
    (folder / "broken.html").symlink_to(tmp_path / "nowhere.html")
    (folder / "system.txt").symlink_to("/etc/hostname")
    (folder / "outside").symlink_to("/etc")
    (folder / "sub" / "inside.txt").symlink_to(folder / "report.txt")
    result = cli("ingest", folder, "--lake", tmp_path / "lake")
    assert result.returncode == 0, result.stdout + result.stderr
    said = result.stdout
    assert "pipe.html: not a regular file" in said
    assert "broken.html: a broken symbolic link" in said
    assert "system.txt: a symbolic link leading out of the folder" in said
    assert "outside: a symbolic link leading out of the folder" in said
    assert "inputs 1 " in said  # report.txt and the link to it inside the folder: one document


def test_a_fifo_named_directly_is_refused_in_one_line(cli, tmp_path):
    os.mkfifo(tmp_path / "pipe.html")
    result = cli("ingest", tmp_path / "pipe.html", "--lake", tmp_path / "lake")
    assert result.returncode == 2 and "not a regular file or folder" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_document_whose_raw_bytes_are_gone_is_a_reject_and_the_rest_land(cli, tmp_path):
    lake = tmp_path / "lake"
    seeds = sorted(SEEDS.glob("*.txt"))
    assert cli("ingest", *seeds, "--lake", lake).returncode == 0
    victim = next(p for p in (lake / "raw").rglob("*") if p.is_file() and "." not in p.name)
    victim.unlink()
    result = cli("process", "--force", "--lake", lake)  # every document read again
    assert result.returncode == 1 and "[raw_missing]" in result.stdout, result.stdout
    assert "reports 4 " in result.stdout


# -- findings of an adversarial review: each a class, each shape a case ----------------------

def _p(text: str) -> str:
    return f"<w:p><w:r><w:t>{text}</w:t></w:r></w:p>"


_LAST = "六、其他需要报告的事项：无。"
DOCX_SHAPES = {
    "content-control": f"<w:sdt><w:sdtContent>{_p(_LAST)}</w:sdtContent></w:sdt>",
    "tracked-insertion": f'<w:p><w:ins w:id="1" w:author="a"><w:r><w:t>{_LAST}</w:t></w:r>'
                         "</w:ins></w:p>",
    "smart-tag": f'<w:p><w:smartTag w:uri="u" w:element="e"><w:r><w:t>{_LAST}</w:t></w:r>'
                 "</w:smartTag></w:p>",
    "simple-field": f'<w:p><w:fldSimple w:instr="DOCPROPERTY x"><w:r><w:t>{_LAST}</w:t></w:r>'
                    "</w:fldSimple></w:p>",
    "nested-table": f"<w:tbl><w:tr><w:tc><w:tbl><w:tr><w:tc>{_p(_LAST)}</w:tc></w:tr></w:tbl>"
                    "</w:tc></w:tr></w:tbl>",
    "text-box": "<w:p><w:r><mc:AlternateContent><mc:Choice Requires=\"wps\"><w:drawing>"
                "<wp:inline><a:graphic><a:graphicData><wps:wsp><wps:txbx><w:txbxContent>"
                f"{_p(_LAST)}</w:txbxContent></wps:txbx></wps:wsp></a:graphicData></a:graphic>"
                "</wp:inline></w:drawing></mc:Choice><mc:Fallback><w:pict><v:shape><v:textbox>"
                f"<w:txbxContent>{_p(_LAST)}</w:txbxContent></v:textbox></v:shape></w:pict>"
                "</mc:Fallback></mc:AlternateContent></w:r></w:p>",
}


@pytest.mark.parametrize("shape", DOCX_SHAPES.values(), ids=DOCX_SHAPES.keys())
def test_docx_text_wrapped_the_ways_word_writes_it_is_kept_once(shape):
    body = _p("西邑乡2019年政府信息公开年度报告") + shape
    text = extract(files.docx_with_body(body), filename="report.docx").text
    assert text.count(_LAST) == 1, text


def test_docx_deleted_text_and_tab_stops_are_not_text_but_tabs_are():
    body = ('<w:p><w:pPr><w:tabs><w:tab w:val="left" w:pos="720"/></w:tabs></w:pPr>'
            "<w:r><w:t>行政许可</w:t></w:r><w:r><w:tab/><w:t>42</w:t></w:r></w:p>"
            "<w:p><w:del w:id=\"2\" w:author=\"a\"><w:r><w:delText>删掉的话</w:delText></w:r>"
            "</w:del><w:r><w:t>保留的话</w:t></w:r></w:p>")
    lines = extract(files.docx_with_body(body), filename="report.docx").text.split("\n")
    assert lines == ["行政许可\t42", "保留的话"]


def test_an_xlsx_with_a_stale_dimension_is_read_in_full():
    data = files.xlsx_bytes()
    archive = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as rebuilt:
        for info in archive.infolist():
            part = archive.read(info)
            if info.filename.startswith("xl/worksheets/"):
                import re

                part = re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1"/>', part)
            rebuilt.writestr(info.filename, part)
    text = extract(out.getvalue(), filename="stats.xlsx").text
    assert "其中：主动公开规范性文件数\t条\t36" in text.split("\n")


def test_a_gkmlpt_item_keeps_every_line_of_its_content():
    item = {"title": "年报", "identifier": "x/2020-1", "content": BODY}
    text = extract(json.dumps(item, ensure_ascii=False).encode(), filename="item.json").text
    expected = [" ".join(line.split()) for line in REPORT.splitlines() if line.strip()]
    assert [" ".join(line.split()) for line in text.split("\n") if line] == expected


def test_hanweb_markers_that_cut_through_elements_keep_the_report():
    html = ("<html><body><div class=wrap><!--ZJEG_RSS.content.begin--></div><div class=main>"
            + BODY + "</div><!--ZJEG_RSS.content.end--></body></html>")
    assert LAST_LINE in extract(html.encode(), filename="page.html").text


@pytest.mark.parametrize("control", ["button", "object"])
def test_an_unclosed_control_does_not_swallow_the_rest_of_the_report(control):
    half = len(BODY) // 2
    cut = BODY.index("<p>", half)
    html = _page(body=BODY[:cut] + f"<{control}>" + BODY[cut:])
    assert LAST_LINE in extract(html.encode(), filename="page.html").text


SURROGATES = {
    "in-content": {"title": "年报", "content": "<p>政府信息公开\ud800年度报告</p>" + BODY},
    "in-title": {"title": "年度报告\ud800", "content": BODY},
    "in-identifier": {"title": "年报", "identifier": "x\udc00/2020", "content": BODY},
    "in-attachment-name": {"title": "年报", "content": BODY,
                           "attachment": [{"url": "a.pdf", "name": "附件\ud800"}]},
}


@pytest.mark.parametrize("item", SURROGATES.values(), ids=SURROGATES.keys())
def test_lone_surrogates_become_replacement_characters_and_the_row_loads(item, tmp_path):
    from pipelines.process import loadable

    data = json.dumps(item).encode()  # \ud800 escapes, as an API writes them
    raw = _raw(data, "item.json")
    built = build_report(raw, extract_document(raw, data))
    [(_, checked)], _, _ = loadable([(raw.doc_id, built)])
    report, _ = checked
    assert LAST_LINE in report.text and "\ud800" not in report.text + (report.metadata.title or "")
    assert report.unrecoverable_chars >= (1 if "\ud800" in item.get("content", "") else 0)


def test_statistics_values_the_lake_cannot_hold_are_null_with_a_note():
    from pipelines.process import loadable

    seed = next(SEEDS.glob("000_*.txt")).read_text(encoding="utf-8")
    text = seed + "\n统计表\n统计指标\n统计数\n1.主动公开政府信息数\n0.123456\n"
    raw = _raw(text.encode(), "report.txt")
    [(_, (report, cells))], _, _ = loadable([(raw.doc_id, build_report(
        raw, extract_document(raw, text.encode())))])
    assert any(check.startswith("unrepresentable:") and "0.123456" in check
               for check in report.stats_failed_checks)
    assert all(cell.value is None for cell in cells if cell.raw == "0.123456")


def test_a_record_the_lake_cannot_hold_rejects_its_document_only():
    from pipelines.process import loadable

    seeds = sorted(SEEDS.glob("*.txt"))[:3]
    outcomes = []
    for path in seeds:
        raw = _raw(path.read_bytes(), path.name)
        outcomes.append((raw.doc_id, build_report(raw, extract_document(raw, path.read_bytes()))))
    outcomes[1][1][0].stats_cells = 2**40  # beyond the column's int32
    checked = dict(loadable(outcomes)[0])
    bad = checked[outcomes[1][0]]
    assert isinstance(bad, DocumentRejected) and bad.reason == "internal_error"
    assert bad.stage == "report" and "too large" in str(bad), str(bad)
    assert all(isinstance(checked[key], tuple) for key, _ in (outcomes[0], outcomes[2]))


def test_two_pages_that_link_to_each_other_are_two_reports(cli, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    for name, other, place in (("a.doc", "b.doc", "甲"), ("b.doc", "a.doc", "乙")):
        page = _page(body=BODY.replace("西邑乡", f"西邑乡{place}", 1)
                     + f'<p><a href="{(folder / other).as_uri()}">{other}</a></p>')
        (folder / name).write_text(page, encoding="utf-8")
    result = cli("ingest", folder, "--lake", tmp_path / "lake")
    assert result.returncode == 0 and "reports 2 " in result.stdout, result.stdout


def test_a_page_pointing_to_a_file_that_is_not_there_is_not_a_report(cli, tmp_path):
    page = tmp_path / "page.html"
    page.write_text('<html><body><p>Download</p><a href="report.pdf">report</a></body></html>')
    result = cli("ingest", page, "--lake", tmp_path / "lake")
    assert result.returncode == 1 and "[no_text]" in result.stdout, result.stdout


def test_a_file_whose_text_is_random_characters_is_implausible():
    import random

    rng = random.Random(7)
    noise = "".join(chr(rng.randint(0x4E00, 0x9FFF)) for _ in range(800))
    from pipelines.extract import _readable

    with pytest.raises(DocumentRejected) as caught:
        _readable(noise, "pdf")
    assert caught.value.reason == "implausible"
    assert _readable(REPORT, "pdf") == REPORT


def test_a_file_name_that_is_not_utf8_is_ingested(cli, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    name = os.fsdecode(b"bad\xff\xfename.txt")
    (folder / name).write_bytes(next(SEEDS.glob("000_*.txt")).read_bytes())
    result = cli("ingest", folder, "--lake", tmp_path / "lake")
    assert result.returncode == 0 and "reports 1 " in result.stdout, result.stdout + result.stderr


SLOW_SHAPES = {
    "furniture-emsp-run": _page(body="<p>字体" + "&emsp;" * 3000 + "x</p>" + BODY),
    "label-then-spaces": _page(body="<table><tr><td>索引号：a" + "&emsp;" * 80000
                                    + "b</td></tr></table>" + BODY),
    "question-marks": _page(body="<p>" + "?" * 100000 + "</p>" + BODY),
    "title-spaces": _page(head="<title>年度报告" + " " * 100000 + "x</title>"),
    "hanweb-unterminated": _page(body="<!--ZJEG_RSS.content.begin-->x" * 20000 + BODY),
    "trailing-spaces": _page(body="<pre>" + " " * 200000 + "x</pre>" + BODY),
}


@pytest.mark.parametrize("html", SLOW_SHAPES.values(), ids=SLOW_SHAPES.keys())
def test_pathological_pages_are_read_in_linear_time(html):
    # Each took from 40 s to hours with a quadratic or cubic pattern; 30 s is a generous
    # budget for a linear pass over a few hundred KB.
    raw = _raw(html.encode(), "page.html")
    with Workers(1, timeout=30) as workers:
        ((_, outcome),) = workers.run("extract", _extract_and_build,
                                      [("page", (raw, html.encode()))])
    assert not isinstance(outcome, DocumentRejected), outcome
    assert LAST_LINE in outcome.text


def _extract_and_build(raw, data):
    return build_report(raw, extract_document(raw, data))[0]


DECODINGS = {
    "meta-punycode": ('<meta charset="punycode">', "utf-8"),
    "meta-undefined": ('<meta charset="undefined">', "gb18030"),
    "big5-declared-gb2312": ('<meta charset="gb2312">', "big5hkscs"),
    "utf32-bom": ("", "utf-32"),
    "utf16le-no-bom": ("", "utf-16-le"),
}


@pytest.mark.parametrize(("head", "codec"), DECODINGS.values(), ids=DECODINGS.keys())
def test_odd_charsets_and_labels_still_give_the_report(head, codec):
    html = _page(head=head).replace('<meta charset="utf-8">', "")
    if codec.startswith("big5"):  # a traditional copy, as Big5 pages are
        import opencc

        html = opencc.OpenCC("s2t").convert(html)
    text = extract(html.encode(codec, errors="replace"), filename="page.html").text
    assert "西邑乡" in text and "其他需要报告的事项" in text


def test_word_soft_line_breaks_are_line_breaks_not_binary():
    data = REPORT.replace("\n", "\x0b").encode()
    text = extract(data, filename="report.txt").text
    assert LAST_LINE in text.split("\n")


def test_storing_keeps_the_input_order_with_a_bounded_window_of_calls_ahead():
    """``ingest`` stores files through threads: results come back in input order, and no more
    than the window of calls is submitted ahead (ten thousand futures held memory)."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from pipelines import ingest

    lock = threading.Lock()
    started: list[int] = []
    seen_ahead: list[int] = []
    yielded = 0

    def slow_square(n: int) -> int:
        with lock:
            started.append(n)
            seen_ahead.append(len(started) - yielded)
        return n * n

    results = []
    with ThreadPoolExecutor(max_workers=ingest.STORE_THREADS) as pool:
        for value in ingest._in_order(pool, slow_square, list(range(500))):
            results.append(value)
            with lock:
                yielded += 1
    assert results == [n * n for n in range(500)]
    assert max(seen_ahead) <= 4 * ingest.STORE_THREADS
