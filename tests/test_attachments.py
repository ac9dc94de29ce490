"""Attachment readers: each format's text, and hostile files rejected with a reason."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from pipelines import attachments
from pipelines.attachments import MAX_BYTES
from pipelines.errors import DocumentRejected
from pipelines.extract import extract
from tests import attachment_files as files


def _sample_pdf(lines):
    from crawlers.samples.sites import _pdf

    return _pdf(lines)


def test_a_file_without_chinese_text_is_not_a_report():
    with pytest.raises(DocumentRejected) as caught:
        extract(files.pdf_bytes("Annual report 2019"), filename="report.pdf")
    assert caught.value.reason == "no_text" and "no Chinese text" in str(caught.value)


@pytest.mark.parametrize(
    ("name", "build", "kind", "expected"),
    [
        ("report.docx", files.docx_bytes, "docx", ["一、总体情况", "行政许可\t42"]),
        ("stats.xlsx", files.xlsx_bytes, "xlsx", ["主动公开政府信息数\t条\t501"]),
        ("report.ofd", files.ofd_bytes, "ofd", ["西邑乡2019年政府信息公开年度报告",
                                                "一、总体情况"]),
        ("report.pdf", lambda: _sample_pdf(["2019年政府信息公开工作年度报告", "一、总体情况"]),
         "pdf", ["2019年政府信息公开工作年度报告", "一、总体情况"]),
        ("misnamed.html", files.docx_bytes, "docx", ["一、总体情况"]),
        ("report.doc", files.doc_bytes, "doc", files.REPORT_LINES),
        # Kingsoft WPS text files of the Word 97 era are Word 97 binary documents.
        ("report.wps", files.doc_bytes, "doc", files.REPORT_LINES),
        ("stats.xls", files.xls_bytes, "xls", ["统计指标\t单位\t统计数",
                                               "主动公开政府信息数\t条\t501",
                                               "其中：主动公开规范性文件数\t条\t36"]),
        # Kingsoft's spreadsheets (.et) of that era are BIFF8 workbooks.
        ("stats.et", files.xls_bytes, "xls", ["主动公开政府信息数\t条\t501"]),
    ],
    ids=["docx", "xlsx", "ofd", "pdf", "docx-named-html", "doc", "wps", "xls", "et"],
)
def test_attachment_text(name, build, kind, expected):
    result = extract(build(), filename=name)
    assert result.kind == kind
    for line in expected:
        assert line in result.text.split("\n")


@pytest.mark.parametrize(
    ("name", "build", "reason"),
    [
        ("bomb.docx", files.zip_bomb_docx, "zip_bomb"),
        ("xxe.docx", files.xxe_docx, "xml_entities"),
        ("huge.pdf", lambda: b"%PDF-1.4\n" + bytes(MAX_BYTES), "too_large"),
        ("broken.pdf", lambda: b"%PDF-1.4\ngarbage\n%%EOF\n", "corrupt_pdf"),
        ("locked.pdf", lambda: files.pdf_bytes("password is encrypted", locked=True),
         "encrypted_pdf"),
        ("cut.pdf", lambda: b"%PDF-1.4\ngarbage", "truncated"),
        ("broken.doc", lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), "corrupt_doc"),
        ("broken.xls", lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), "corrupt_xls"),
        ("other.zip", lambda: files.ofd_bytes().replace(b"OFD.xml", b"XYZ.xml"),
         "unsupported_zip"),
    ],
    ids=["zip-bomb", "xxe", "over-size-limit", "corrupt-pdf", "encrypted-pdf", "cut-pdf",
         "corrupt-doc",
         "corrupt-xls",
         "unknown-zip"],
)
def test_hostile_or_broken_files_are_rejected_with_a_reason(name, build, reason):
    with pytest.raises(DocumentRejected) as caught:
        extract(build(), filename=name)
    assert caught.value.reason == reason and caught.value.stage == "extract"


@pytest.mark.parametrize("tool", ["antiword", "catdoc"], ids=["antiword-alone", "catdoc-alone"])
def test_each_doc_converter_reads_the_doc_on_its_own(tool, tmp_path, monkeypatch):
    # The "doc" case above would pass on the fallback alone: here each converter is the only one
    # on PATH.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / tool).symlink_to(shutil.which(tool))
    monkeypatch.setenv("PATH", str(bin_dir))
    # A paragraph longer than a terminal line stays one line (catdoc wraps at 72 unless -w).
    lines = [*files.REPORT_LINES, "本年度" + "主动公开政府信息" * 12 + "。"]
    text = attachments.doc_text(files.doc_bytes(lines))
    for line in lines:
        assert line in text.split("\n")


def test_catdoc_reads_a_doc_that_antiword_refuses(tmp_path):
    # A WordDocument stream under 4096 bytes lives in the compound file's mini stream, which
    # antiword does not read; catdoc does, and the reader falls back to it.
    data = files.doc_bytes(word_stream_size=0)
    path = tmp_path / "short.doc"
    path.write_bytes(data)
    antiword = subprocess.run(["antiword", "-m", "UTF-8.txt", path], capture_output=True,
                              check=False)
    assert antiword.returncode != 0 and b"too small" in antiword.stderr
    result = extract(data, filename="short.doc")
    assert result.kind == "doc"
    for line in files.REPORT_LINES:
        assert line in result.text.split("\n")
