"""A body that ends before its document does is never taken for a whole document: the
format's own end marker decides (pipelines/truncation.py), in the extract stage (a reject
``truncated``, whoever brought the bytes) and in the crawler (a failure ``truncated``, fetched
again next run, the bytes kept in raw/)."""

from __future__ import annotations

import json

import pytest

from crawlers.samples.server import Page, SampleServer
from crawlers.samples.sites import _pdf
from pipelines.errors import DocumentRejected
from pipelines.extract import extract, sniff_kind
from pipelines.lake import Lake
from pipelines.truncation import cut_short
from tests.attachment_files import docx_bytes, ofd_bytes, pdf_bytes, xlsx_bytes
from tests.conftest import SEEDS
from tests.portal_sites import FAST, detail_page, many_reports_site, write_registry

SEED_TEXT = next(SEEDS.glob("003_*.txt")).read_text(encoding="utf-8")
PAGE = detail_page("西邑乡2019年政府信息公开工作年度报告", "2020-01-15").body.replace(
    b"</div>", "".join(f"<p>{line}</p>" for line in SEED_TEXT.splitlines()).encode() + b"</div>")
#: Whole documents of every judged format (a real CJK PDF as the sample portals draw it).
WHOLE = {
    "pdf-cjk": _pdf(SEED_TEXT.splitlines()[:40]),
    "pdf-plain": pdf_bytes(),
    "docx": docx_bytes(),
    "xlsx": xlsx_bytes(),
    "ofd": ofd_bytes(),
    "html": PAGE,
}
#: Where a body may stop: fractions of it, or all but its last bytes.
CUTS = {"half": 0.5, "ninety-percent": 0.9, "all-but-40-bytes": -40, "all-but-3-bytes": -3,
        "all-but-30-bytes": -30}


def _cut(data: bytes, at: float) -> bytes:
    return data[:int(len(data) * at)] if at > 0 else data[:int(at)]


def _cut_cases():
    for name, whole in WHOLE.items():
        for label, at in CUTS.items():
            data = _cut(whole, at)
            # A page cut after a '>' cannot be told from a page without closing tags, and one
            # cut within its </html> has its whole body: neither is called cut.
            if name == "html" and (data.rstrip().endswith(b">") or b"</body>" in data):
                continue
            yield pytest.param(name, data, id=f"{name}-{label}")


@pytest.mark.parametrize("name,data", list(_cut_cases()))
def test_a_document_cut_short_is_named(name, data):
    kind = sniff_kind(data, f"report.{name.split('-')[0]}")
    assert cut_short(data, kind), (name, kind)
    with pytest.raises(DocumentRejected) as rejected:
        extract(data, filename=f"report.{name.split('-')[0]}")
    assert rejected.value.reason == "truncated"


#: Whole documents that look unusual at their end and must not be called cut.
NOT_CUT = {
    "pdf-whitespace-after-eof": pdf_bytes() + b"\r\n\r\n  \n",
    "pdf-junk-after-eof": pdf_bytes() + b"\x00" * 1000,
    "pdf-incremental-update": pdf_bytes() + b"1 0 obj\n<<>>\nendobj\n%%EOF\n",
    "zip-with-a-comment": docx_bytes()[:-2] + (100).to_bytes(2, "little") + b"c" * 100,
    "html-without-closing-tags": b"<html><body><p>\xe6\x8a\xa5\xe5\x91\x8a</p>\n</div>\n",
    "html-closing-tags-uppercase": b"<HTML><BODY><P>x</P></BODY></HTML>",
    "html-script-after-body": b"<html><body>x</body></html><script>var a = 1 < 2",
    "fragment-without-html": b"<div><p>\xe6\x8a\xa5\xe5\x91\x8a",
    "plain-text": "报告".encode() * 10,
}


@pytest.mark.parametrize("data", list(NOT_CUT.values()), ids=list(NOT_CUT))
def test_a_whole_document_is_not_called_cut(data):
    assert cut_short(data, sniff_kind(data, None)) is None


@pytest.mark.parametrize("name", list(WHOLE))
def test_the_whole_documents_are_whole(name):
    assert cut_short(WHOLE[name], sniff_kind(WHOLE[name], f"x.{name.split('-')[0]}")) is None


def test_ingest_rejects_a_file_cut_short_and_keeps_its_bytes(cli, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "report.pdf").write_bytes(_cut(WHOLE["pdf-cjk"], 0.6))
    (folder / "page.html").write_bytes(_cut(PAGE, 0.7))
    (folder / "whole.html").write_bytes(PAGE)
    done = cli("ingest", folder, "--lake", tmp_path / "lake", "--province", "530000")
    assert done.returncode == 1, done.stdout + done.stderr
    lake = Lake.open(str(tmp_path / "lake"))
    rejects = {r["url"].rsplit("/", 1)[-1]: r["reason"] for r in lake.rejects().values()}
    assert rejects == {"report.pdf": "truncated", "page.html": "truncated"}
    assert len(list(lake.raw_documents())) == 3  # nothing lost


def _crawls(lake_dir) -> list[dict]:
    lake = Lake.open(str(lake_dir))
    manifests = [m.body for m in lake.manifests() if m.command == "crawl"]
    return sorted(manifests, key=lambda m: m["started_at"])


@pytest.mark.parametrize("what", ["page", "attachment"])
def test_a_body_shorter_than_its_document_is_recorded_truncated_and_fetched_again(
        tmp_path, cli_process, what):
    """The server declares a Content-Length shorter than the body it sends: the client reads
    exactly that many bytes and cannot see the lie; the document's end marker shows it."""
    site = many_reports_site("liar", "127.0.0.50", reports=1)
    path = "/ndbg/202001/t20200115_0.html"
    pdf = WHOLE["pdf-cjk"]
    page = site.routes[path]
    page.body = page.body.replace(b"</div>", b'<a href="./report.pdf">report.pdf</a></div>')
    site.routes["/ndbg/202001/report.pdf"] = Page(pdf, "application/pdf")
    lying = site.routes[path] if what == "page" else site.routes["/ndbg/202001/report.pdf"]
    whole = lying.body
    lying.declared_length = len(whole) * 6 // 10
    with SampleServer([site]):
        registry = write_registry(tmp_path / "p.yaml", [{
            "id": "liar", "name": "谎", "cms": "trs",
            "start_urls": [site.url("/ndbg/index.html")]}])
        first = cli_process("run", "--portals", registry, "--lake", tmp_path / "lake", *FAST,
                            "--allow-rejects")
        manifest = _crawls(tmp_path / "lake")[-1]["portals"]["liar"]
        lying.declared_length = None  # the next night the server tells the truth
        second = cli_process("run", "--portals", registry, "--lake", tmp_path / "lake", *FAST)
    assert first.returncode == 0, first.stderr
    failures = {f["url"].rsplit("/", 1)[-1]: f["reason"] for f in manifest["failures"]}
    cut_name = path.rsplit("/", 1)[-1] if what == "page" else "report.pdf"
    assert failures == {cut_name: "truncated"}, manifest["failures"]
    assert cut_name not in {d["url"].rsplit("/", 1)[-1] for d in manifest["landed"]}
    lake = Lake.open(str(tmp_path / "lake"))
    cut = whole[:len(whole) * 6 // 10]
    assert any(d.size == len(cut) for d in lake.raw_documents())  # the cut bytes are kept
    assert second.returncode == 0, second.stderr
    rows = json.loads(cli_process("query", "--lake", tmp_path / "lake", "--format", "json",
                                  "select url, attachments from reports").stdout)
    assert len(rows) == 1 and rows[0]["url"].endswith(path)
    if what == "attachment":
        assert [a["sha256"] for a in rows[0]["attachments"]] != []
