"""The crawl as a user runs it: `govreports run` over the sample portals, incremental re-runs,
changed documents, revalidation, and the Scrapy project commands."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from crawlers.portals import dump_portals, load_portals
from crawlers.samples.server import Page, SampleServer
from crawlers.samples.sites import SAMPLE_REGISTRY_NOTE, registry_entries, sample_portals
from pipelines.lake import Lake
from pipelines.query import run_query
from tests.conftest import GOVREPORTS
from tests.portal_sites import FAST

pytestmark = pytest.mark.e2e  # real processes: crawls, races, Airflow

ROOT = Path(__file__).parent.parent


@pytest.fixture
def samples(tmp_path):
    """The sample portals on free ports, and a registry file that crawls them."""
    portals = sample_portals(port=0)
    with SampleServer([p.site for p in portals]) as server:
        registry = tmp_path / "portals.yaml"
        registry.write_text(dump_portals(registry_entries(portals)), encoding="utf-8")
        yield server, portals, registry


def detail_hits(server, since: int = 0) -> list[str]:
    """Requests for documents and attachments (not lists, APIs or robots.txt)."""
    return [f"{h.site}{h.path}" for h in server.hits[since:] if DOCUMENT_PATH.search(h.path)]


#: Detail pages and attachments of the sample portals (TRS, Hanweb, gkmlpt, PDF).
DOCUMENT_PATH = re.compile(r"/t\d{8}_\d+\.html|/art_\d+_\d+\.html|/post_\d+\.html|\.pdf$")


def reports(lake_url: str) -> list[dict]:
    columns, rows = run_query(Lake.open(lake_url), "select * from reports order by portal_id")
    return [dict(zip(columns, row, strict=True)) for row in rows]


def _without(column: str, rows: list[dict]) -> list[dict]:
    return sorted(({k: v for k, v in r.items() if k != column} for r in rows),
                  key=lambda r: r["doc_id"])


def test_run_lands_every_sample_report_with_metadata_then_a_rerun_fetches_no_document(
        cli_process, samples, lake_url):
    server, portals, registry = samples
    first = cli_process("run", "--portals", registry, "--lake", lake_url, *FAST)
    assert first.returncode == 0, first.stderr + first.stdout
    assert "parse_error" not in first.stdout + first.stderr  # every list read, JSON ones too

    rows = reports(lake_url)
    assert len(rows) == sum(p.reports for p in portals)
    assert {r["portal_id"] for r in rows} == {p.entry["id"] for p in portals}
    for row in rows:
        assert "报告" in row["title"], row["title"]
        assert row["report_year"] in (2013, 2019, 2020), row
        assert row["published_date"] is not None, row["title"]
        assert row["issuing_agency"], row["title"]
        assert row["province_code"] in ("220000", "520000", "530000"), row
        assert row["url"].startswith("http://127.0.0."), row["url"]
    by_portal = {r["portal_id"]: r for r in rows if r["portal_id"] != "sample-trs-jilin"}
    assert by_portal["sample-hanweb-longyang"]["county_code"] == "530502"
    assert by_portal["sample-gkmlpt-mouding"]["index_no"] == "11532323015243210X/2020-00005"
    assert by_portal["sample-ucap-qixingguan"]["template"] == "2019"
    # The report that exists only as a PDF: its page points to the attachment, which holds it.
    longtan = next(r for r in rows if r["title"].startswith("龙潭区"))
    assert longtan["attachments"][0]["media_type"] == "application/pdf"
    assert "依申请公开" in longtan["text"] and longtan["report_year"] == 2013
    # The 繁體 mirror comes out simplified, without its pinyin.
    mirror = by_portal["sample-mirror-big5"]
    assert "西邑乡" in mirror["text"] and "貫徹" not in mirror["text"]
    assert not re.search(r"\([a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]+\)", mirror["text"])

    assert len(set(detail_hits(server))) == 7  # 6 report pages (one twice listed) + 1 PDF
    since = len(server.hits)
    second = cli_process("run", "--portals", registry, "--lake", lake_url, *FAST)
    assert second.returncode == 0, second.stderr + second.stdout
    # Nothing asked for again but the night's share of re-checks (tests/test_recheck.py):
    # conditional requests, answered 304, at most a page and its file per portal.
    again = [h for h in server.hits[since:] if DOCUMENT_PATH.search(h.path)]
    assert all(h.conditional and h.status == 304 for h in again), again
    assert len(again) <= 2 * len(portals)
    assert "reports 0" in second.stdout  # nothing read again
    # What a 304 changes: the re-checked reports were seen tonight, the rest stays as it was.
    after = reports(lake_url)
    assert _without("last_seen", after) == _without("last_seen", rows)
    before = {r["doc_id"]: r["last_seen"] for r in rows}
    moved = {(r["portal_id"], urlsplit(r["url"]).path) for r in after
             if r["last_seen"] != before[r["doc_id"]]}
    rechecked = {(h.site, h.path) for h in again}
    assert moved and moved == {(r["portal_id"], urlsplit(r["url"]).path) for r in after} & \
        rechecked
    assert all(r["last_seen"] >= before[r["doc_id"]] for r in after)


def test_a_changed_list_entry_is_fetched_conditionally_and_versioned(cli_process, samples,
                                                                    tmp_path):
    server, portals, registry = samples
    lake = str(tmp_path / "lake")
    assert cli_process("run", "--portals", registry, "--lake", lake, *FAST).returncode == 0
    ucap = next(p for p in portals if p.entry["id"] == "sample-ucap-qixingguan")
    path = "/xxgk/ndbg/202101/t20210130_3001.html"
    old = ucap.site.routes[path].body
    # The portal corrects the report and shows a new date in its list.
    revised = old.replace("一、总体情况".encode(), "一、总体情况（修订）".encode())
    ucap.site.routes[path] = Page(revised)
    listing = ucap.site.routes["/xxgk/ndbg/index.htm"]
    listing.body = listing.body.replace(b"2021-01-30", b"2021-02-05")

    since = len(server.hits)
    # (without the night's re-check, which may pick this page too: tests/test_recheck.py)
    result = cli_process("run", "--portals", registry, "--lake", lake, *FAST,
                         env={"GOVREPORTS_RECHECK_MAX": "0"})
    assert result.returncode == 0, result.stderr
    fetched = [h for h in server.hits[since:] if h.path == path]
    assert len(fetched) == 1 and fetched[0].conditional and fetched[0].status == 200
    rows = [r for r in reports(lake) if r["portal_id"] == "sample-ucap-qixingguan"]
    assert len(rows) == 1 and "（修订）" in rows[0]["text"]
    versions = [d for d in Lake.open(lake).raw_documents() if d.source.url.endswith(path)]
    assert len(versions) == 2  # both versions kept in raw/


def test_revalidate_asks_every_known_document_conditionally(cli_process, samples, tmp_path):
    server, portals, registry = samples
    lake = str(tmp_path / "lake")
    assert cli_process("crawl", "--portals", registry, "--lake", lake, *FAST).returncode == 0
    since = len(server.hits)
    result = cli_process("crawl", "--portals", registry, "--lake", lake, "--revalidate", *FAST)
    assert result.returncode == 0, result.stderr
    again = [h for h in server.hits[since:] if f"{h.site}{h.path}" in detail_hits(server, since)]
    assert again and all(h.conditional and h.status == 304 for h in again), again
    [manifest_key] = [k for k in Lake.open(lake).store.list("_runs/")][-1:]
    manifest = json.loads(Lake.open(lake).store.read(manifest_key))
    assert manifest["revalidate"] and manifest["counts"]["not_modified"] == len(again)


def test_the_shipped_sample_registry_matches_the_sample_portals():
    shipped = load_portals(ROOT / "crawlers" / "sample_portals.yaml")
    built = registry_entries(sample_portals())
    assert [(p.id, p.cms, p.start_urls, p.region, p.province) for p in shipped] == [
        (e["id"], e["cms"], tuple(e["start_urls"]), e.get("region"),
         e.get("province") or (e["region"][:2] + "0000")) for e in built]
    assert SAMPLE_REGISTRY_NOTE in (ROOT / "crawlers" / "sample_portals.yaml").read_text("utf-8")


def scrapy(*args, env):
    return subprocess.run([str(Path(sys.executable).with_name("scrapy")), *args],
                          capture_output=True, text=True, cwd=ROOT, timeout=300,
                          env={**os.environ, **env})


def test_scrapy_list_and_crawl_work_from_the_project(samples, tmp_path):
    server, portals, registry = samples
    env = {"GOVREPORTS_PORTALS": str(registry), "GOVREPORTS_LAKE": str(tmp_path / "lake")}
    listed = scrapy("list", env=env)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.split() == sorted(["portals", *(p.entry["id"] for p in portals)])

    crawled = scrapy("crawl", "sample-ucap-qixingguan", "-s", "DOWNLOAD_DELAY=0", env=env)
    assert crawled.returncode == 0, crawled.stderr
    lake = Lake.open(str(tmp_path / "lake"))
    landed = [d for d in lake.raw_documents() if d.source.role != "list"]
    assert [d.source.portal_id for d in landed] == ["sample-ucap-qixingguan"]
    assert landed[0].source.context["title"].startswith("毕节市七星关区")
    assert lake.crawl_state("sample-ucap-qixingguan")  # compacted at the end of the crawl


def test_serve_samples_serves_while_a_command_runs_and_passes_its_status_on(tmp_path, cli_process):
    registry = tmp_path / "samples.yaml"
    result = cli_process("serve-samples", "--port", "0", "--registry", registry, "--",
                 GOVREPORTS[0], "run", "--portals", registry, "--lake", tmp_path / "lake", *FAST)
    assert result.returncode == 0, result.stderr
    assert "reports 6" in result.stdout
    failing = cli_process("serve-samples", "--port", "0", "--", "sh", "-c", "exit 7")
    assert failing.returncode == 7
