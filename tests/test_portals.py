"""The portal registry: validation with messages that name the entry, and the shipped
registries. The CMS families are tested in tests/test_families.py."""

from __future__ import annotations

import os
import subprocess
from datetime import UTC, datetime

import pytest
import yaml

from crawlers.portals import DEFAULT_REGISTRY, SAMPLE_REGISTRY, load_portals, select
from crawlers.samples.server import Page, SampleServer, Site
from crawlers.samples.sites import sample_portals
from pipelines.errors import ConfigError
from tests.conftest import GOVREPORTS

GOOD = {"id": "yn-baoshan-longyang", "name": "保山市隆阳区人民政府",
        "start_urls": ["http://www.longyang.gov.cn/zwgk/zfxxgknb/"]}

BAD = [
    ("missing-name", {**GOOD, "name": None}, "portal 'yn-baoshan-longyang': 'name' is required"),
    ("bad-id", {**GOOD, "id": "Yn_Baoshan"}, "id: must match [a-z0-9-]+"),
    ("id-of-300-characters", {**GOOD, "id": "a" * 300}, "id: is 300 characters long, more than 80"),
    ("id-of-81-characters", {**GOOD, "id": "yn-" + "b" * 78}, "81 characters long"),
    ("url-not-list", {**GOOD, "start_urls": "http://www.longyang.gov.cn/"},
     "start_urls: must be a list"),
    ("relative-url", {**GOOD, "start_urls": ["/zwgk/"]},
     "start_urls: start URL '/zwgk/' must be an absolute http(s) URL"),
    ("ftp-url", {**GOOD, "start_urls": ["ftp://www.longyang.gov.cn/"]},
     "must be an absolute http(s) URL"),
    ("unknown-cms", {**GOOD, "cms": "wordpress"}, "cms: Input should be 'auto', 'gkmlpt'"),
    ("unknown-field", {**GOOD, "start_url": "x"}, "unknown field start_url; allowed: cms, delay"),
    ("province-not-province", {**GOOD, "province": "530502"}, "must be a province-level code"),
    ("region-outside-province", {**GOOD, "province": "220000", "region": "530502"},
     "region 530502 is not inside province 220000"),
    ("region-not-a-code", {**GOOD, "region": 530502.5}, "region: 530502.5 is not a GB/T 2260 code"),
    ("bad-encoding", {**GOOD, "encoding": "gbk2"}, "encoding: 'gbk2' is not a charset"),
    ("bad-pattern", {**GOOD, "report_pattern": "年度(报告"},
     "report_pattern: not a regular expression"),
    ("zero-pages", {**GOOD, "max_list_pages": 0},
     "max_list_pages: Input should be greater than or equal to 1"),
    ("negative-delay", {**GOOD, "delay": -1}, "delay: Input should be greater than or equal to 0"),
    ("pages-as-text", {**GOOD, "max_list_pages": "5"}, "max_list_pages: Input should be a valid"),
    ("empty-start-urls", {**GOOD, "start_urls": []}, "'start_urls' is required"),
    ("domains-string", {**GOOD, "domains": "longyang.gov.cn"}, "domains: must be a list"),
    ("not-a-mapping", ["yn-baoshan-longyang"], "portal #1 must be a mapping"),
    # an entry that starts at one year's column never sees next year's report
    ("one-year-folder", {**GOOD, "start_urls": [
        "https://www.tj.gov.cn/zwgk/zfxxgkzl/gknb/xxgknb2020/tjsrmzf/"]},
     "is one year's column (xxgknb2020/): start at the column that lists every year"),
    ("one-year-bare-folder", {**GOOD, "start_urls": ["http://www.qingdao.gov.cn/ndbg/2018/"]},
     "is one year's column (2018/)"),
    ("one-year-folder-with-index", {**GOOD, "start_urls": [
        "https://ghx.gov.cn/ghx/zfxxgk/zfxxgknb/2024/xzf/index.html"]},
     "is one year's column (2024/)"),
    ("single-year-without-reason", {**GOOD, "single_year": True},
     "single_year: true needs single_year_reason"),
]


@pytest.mark.parametrize("entry,message", [(e, m) for _, e, m in BAD],
                         ids=[name for name, _, _ in BAD])
def test_a_bad_entry_is_refused_with_a_message_naming_it(tmp_path, entry, message):
    path = tmp_path / "portals.yaml"
    path.write_text(yaml.safe_dump({"portals": [entry]}, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_portals(path)
    assert str(path) in str(caught.value)
    assert message in str(caught.value)


@pytest.mark.parametrize("text,message", [
    ("portals: [", "is not valid YAML"),
    ("- id: a\n", "must be a mapping with a 'portals:' list"),
    (yaml.safe_dump({"portals": [GOOD, GOOD]}, allow_unicode=True), "is listed twice"),
], ids=["not-yaml", "no-portals-key", "duplicate-id"])
def test_a_bad_registry_file_is_refused(tmp_path, text, message):
    path = tmp_path / "portals.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_portals(path)


def test_a_missing_registry_says_how_to_point_at_one(tmp_path):
    with pytest.raises(ConfigError, match="pass --portals FILE or set GOVREPORTS_PORTALS"):
        load_portals(tmp_path / "nowhere.yaml")


def test_the_registry_path_comes_from_the_environment(tmp_path, monkeypatch):
    path = tmp_path / "mine.yaml"
    path.write_text(yaml.safe_dump({"portals": [GOOD]}, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("GOVREPORTS_PORTALS", str(path))
    assert [p.id for p in load_portals()] == ["yn-baoshan-longyang"]


def test_a_region_gives_the_province_and_domains_widen_the_hosts(tmp_path):
    path = tmp_path / "p.yaml"
    entry = {**GOOD, "region": "530502", "domains": ["File.Longyang.gov.cn"], "cms": "hanweb"}
    path.write_text(yaml.safe_dump({"portals": [entry]}, allow_unicode=True), encoding="utf-8")
    (portal,) = load_portals(path)
    assert portal.province == "530000" and portal.region == "530502"
    assert portal.hosts == ("www.longyang.gov.cn", "file.longyang.gov.cn")


def test_the_starter_registry_is_valid_and_says_where_each_url_came_from():
    portals = load_portals(DEFAULT_REGISTRY)
    assert len(portals) >= 20
    provinces = {p.province for p in portals}
    assert {"220000", "530000", "520000"} <= provinces  # 吉林, 云南, 贵州: the seeds' provinces
    assert all(p.source for p in portals), [p.id for p in portals if not p.source]


def test_select_names_unknown_ids_and_skips_disabled_portals(tmp_path):
    path = tmp_path / "p.yaml"
    entries = [GOOD, {**GOOD, "id": "off", "enabled": False}]
    path.write_text(yaml.safe_dump({"portals": entries}, allow_unicode=True), encoding="utf-8")
    portals = load_portals(path)
    assert [p.id for p in select(portals)] == ["yn-baoshan-longyang"]
    assert [p.id for p in select(portals, ["off"])] == ["off"]  # named: crawled anyway
    with pytest.raises(ConfigError, match="unknown portal id\\(s\\) 'nope'"):
        select(portals, ["nope"])


SAMPLES = {s.entry["id"]: s for s in sample_portals(8780)}


def test_the_shipped_sample_registry_loads():
    assert {p.id for p in load_portals(SAMPLE_REGISTRY)} == set(SAMPLES)


@pytest.mark.parametrize("args,message", [
    (["crawl", "--portals", "bad.yaml"], "portal 'x': cms: Input should be 'auto'"),
    (["crawl", "--portals", "good.yaml", "--portal", "nope"], "unknown portal id(s) 'nope'"),
    (["crawl", "--portals", "good.yaml", "--set", "DOWNLOAD_DELAY"], "must be NAME=VALUE"),
], ids=["bad-entry", "unknown-portal", "bad-set"])
def test_the_cli_refuses_bad_input_with_one_clear_line(tmp_path, cli, args, message):
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump({"portals": [
        {**GOOD, "id": "x", "cms": "joomla"}]}), encoding="utf-8")
    (tmp_path / "good.yaml").write_text(yaml.safe_dump({"portals": [GOOD]}), encoding="utf-8")
    result = cli(*args, "--lake", tmp_path / "lake")
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "lake" / "_runs").exists()  # nothing was crawled


# -- coverage by province (`govreports portals list`) ------------------------------------------

#: The 31 provincial-level divisions (GB/T 2260 110000 … 650000; not Hong Kong, Macau, Taiwan).
MAINLAND = ("110000 120000 130000 140000 150000 210000 220000 230000 310000 320000 330000 "
            "340000 350000 360000 370000 410000 420000 430000 440000 450000 460000 500000 "
            "510000 520000 530000 540000 610000 620000 630000 640000 650000").split()


def _missing(stdout: str) -> list[str]:
    (line,) = [ln for ln in stdout.splitlines()
               if ln.startswith("provinces with no enabled portal: ")]
    rest = line.split(": ", 1)[1]
    return [] if rest == "none" else rest.split(", ")


def test_portals_list_counts_enabled_portals_per_province_and_names_the_missing(tmp_path, cli):
    from tests.portal_sites import write_registry

    registry = write_registry(tmp_path / "coverage.yaml", [
        {**GOOD, "province": "530000"},
        {**GOOD, "id": "yn-kunming", "region": "530100"},  # the province comes from the region
        {**GOOD, "id": "jl-office", "province": "220000"},
        {**GOOD, "id": "jl-off", "province": "220000", "enabled": False},  # not counted
        {**GOOD, "id": "central-body"},  # no province
    ])
    result = cli("portals", "list", "--portals", registry)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "coverage by province (enabled portals; 4 of 5 portals enabled):" in lines
    assert "  530000 云南省: 2" in lines
    assert "  220000 吉林省: 1" in lines
    assert "  650000 新疆维吾尔自治区: 0" in lines
    assert "enabled portals with no province (central bodies): 1" in lines
    assert "provinces covered: 2 of 31" in lines
    missing = _missing(result.stdout)
    assert "110000 北京市" in missing and "650000 新疆维吾尔自治区" in missing
    assert len(missing) == 29
    assert not [m for m in missing if m.startswith(("530000", "220000"))]
    assert not [m for m in missing if m.startswith(("710000", "810000", "820000"))]


def test_the_shipped_registry_covers_all_31_provincial_level_divisions(cli):
    from pipelines.regions import PROVINCES

    assert set(MAINLAND) <= set(PROVINCES) and len(MAINLAND) == 31
    portals = [p for p in load_portals(DEFAULT_REGISTRY) if p.enabled]
    covered = {p.province for p in portals}
    assert set(MAINLAND) <= covered, sorted(set(MAINLAND) - covered)
    result = cli("portals", "list", "--portals", DEFAULT_REGISTRY)
    assert result.returncode == 0, result.stderr
    assert "provinces covered: 31 of 31" in result.stdout.splitlines()
    assert _missing(result.stdout) == []


@pytest.mark.parametrize("url", [
    "http://www.shandong.gov.cn/col/col97672/index.html",  # single_year, with its reason
    "https://www.wehdz.gov.cn/2022/zfxxgk/dfbm/bgs/zfxxgkndbg_43660/",  # a site's 2022 section
    "https://www.gzlps.gov.cn/zwgk/bmxxgk/szfb/zfxxgknb_5751035/",  # a column's number
], ids=["single-year-with-reason", "site-section-named-for-a-year", "column-number"])
def test_an_entry_that_sees_every_year_or_says_why_not_is_taken(tmp_path, url):
    entry = {**GOOD, "start_urls": [url]}
    if "shandong" in url:
        entry |= {"single_year": True, "single_year_reason": "a new column each year"}
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump({"portals": [entry]}, allow_unicode=True), encoding="utf-8")
    assert load_portals(path)[0].start_urls == (url,)


def test_the_shipped_registry_names_one_body_once_and_its_mirrors():
    portals = load_portals(DEFAULT_REGISTRY)
    starts = {url for p in portals for url in p.start_urls}
    mirrors = [url for p in portals for url in p.mirrors]
    assert mirrors and not starts & set(mirrors)
    assert all(p.single_year_reason for p in portals if p.single_year)


def test_the_shipped_registry_has_hubs_each_with_its_source():
    hubs = [p for p in load_portals(DEFAULT_REGISTRY) if p.kind == "hub"]
    assert len(hubs) >= 10 and all(p.source for p in hubs)


def test_the_shipped_registry_lists_each_start_url_once():
    urls = [url for p in load_portals(DEFAULT_REGISTRY) for url in p.start_urls]
    assert len(urls) == len(set(urls)), sorted({u for u in urls if urls.count(u) > 1})


def test_copies_of_the_sample_portals_have_hosts_and_ids_of_their_own():
    from crawlers.samples.sites import registry_entries, sample_portals

    one = registry_entries(sample_portals(8780))
    three = registry_entries(sample_portals(8780, copies=3))
    assert three[:5] == one  # the first copy is the shipped registry's portals
    assert len({e["id"] for e in three}) == 15
    hosts = {url.split("/")[2] for e in three for url in e["start_urls"]}
    assert len(hosts) == 15 and {h.split(".")[2] for h in hosts} == {"0", "1", "2"}
    assert {e["id"] for e in three[10:]} == {e["id"] + "-002" for e in one}


def test_ten_thousand_sample_portals_are_ten_thousand_hosts_served_by_one_loop():
    """``make scale``'s largest run: every copy on hosts of its own beyond 127.0.255.x, all
    answered by one server's loop (one thread waiting on every socket, not one per site)."""
    import threading
    import urllib.request

    from crawlers.samples.server import SampleServer
    from crawlers.samples.sites import sample_portals

    samples = sample_portals(0, copies=2000)
    hosts = {s.site.host for s in samples}
    assert len(samples) == len(hosts) == 10_000
    assert {"127.0.0.11", "127.1.44.15", "127.7.207.15"} <= hosts  # copies 0, 300, 1999
    picked = [samples[0], samples[1502], samples[-1]]
    before = threading.active_count()
    with SampleServer([s.site for s in picked]) as server:
        assert threading.active_count() == before + 1
        for sample in picked:
            with urllib.request.urlopen(sample.site.url(sample.start_paths[0]), timeout=10) as r:
                assert r.status == 200
        assert [h.site for h in server.hits] == [s.site.name for s in picked]


@pytest.mark.parametrize("copies", [0, 2001], ids=["none", "too-many"])
def test_a_bad_number_of_copies_is_refused(copies):
    from crawlers.samples.sites import sample_portals

    with pytest.raises(ConfigError, match="give 1 to 2000 copies"):
        sample_portals(8780, copies=copies)


@pytest.mark.parametrize("command", ["crawl", "run"])
def test_a_portal_id_too_long_for_the_lake_is_one_line_before_the_crawl(tmp_path, cli_process,
                                                                        command):
    path = tmp_path / "portals.yaml"
    path.write_text(yaml.safe_dump({"portals": [{**GOOD, "id": "x" * 300}]}), encoding="utf-8")
    done = cli_process(command, "--portals", path, "--lake", tmp_path / "lake")
    assert done.returncode == 2, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "more than 80" in done.stderr
    assert not (tmp_path / "lake" / "_crawl").exists()


# -- portals check on loopback portals of each kind --------------------------------------------

def _html(title: str, body: str) -> Page:
    return Page(f'<html><head><meta charset="utf-8"><title>{title}</title></head><body>{body}'
                "</body></html>".encode())


def _reports(*years: int) -> str:
    return "<ul>" + "".join(
        f'<li><a href="./{year + 1}02/t{year + 1}0210_{i}.html">'
        f"某某局{year}年政府信息公开工作年度报告</a><span>{year + 1}-02-10</span></li>"
        for i, year in enumerate(years)) + "</ul>"


THIS_YEAR = datetime.now(UTC).year
#: Entry → (path of its start page, the page, what its verdict must say).
CHECKED = {
    "ok": ("/ok/index.html", _html("政府信息公开年报", _reports(THIS_YEAR - 1, THIS_YEAR - 2)),
           "ok"),
    "one-year": ("/gknb/xxgknb2020/index.html", _html("2020年度", _reports(2020)),
                 "one-year column (xxgknb2020/)"),
    "single-report": ("/nb/202402/t20240201_1.html", _html(
        "某某局2023年政府信息公开工作年度报告",
        "<p>一、总体情况</p><p>本机关认真贯彻落实条例。</p>"),
        "a single report, not a list"),
    "no-report-link": ("/empty/index.html", _html("政务动态", '<ul><li><a href="./a.html">'
                                                            "我局召开工作会议</a></li></ul>"),
                       "no report link on the first page"),
    "old": ("/old/index.html", _html("政府信息公开年报", _reports(2015, 2016)),
            "newest report 2016, over two years old"),
    "script-filled": ("/js/index.html", _html("政府信息公开年报", (
        '<table id="list"></table><script>$.ajax({url: "/js/list2.trsapi", data: '
        "{page: 1}, success: render});</script>")), "list filled by script (list2.trsapi)"),
    "redirected": ("/moved/index.html", None, "redirects off its host (to 127.0.0.60)"),
}


@pytest.fixture(scope="module")
def checked(tmp_path_factory):
    """``govreports portals check`` over one loopback portal of each kind, its output."""
    site, elsewhere = Site("chk", "127.0.0.59"), Site("elsewhere", "127.0.0.60")
    elsewhere.routes["/ndbg/index.html"] = _html("政府信息公开年报", _reports(THIS_YEAR - 1))
    for path, page, _ in CHECKED.values():
        if page is not None:
            site.routes[path] = page
    tmp = tmp_path_factory.mktemp("check")
    with SampleServer([site, elsewhere]):
        site.routes["/moved/index.html"] = Page(b"", status=302, headers={
            "Location": elsewhere.url("/ndbg/index.html")})
        entries = [{"id": name, "name": "检查", "start_urls": [site.url(path)],
                    **({"single_year": True, "single_year_reason": "a test of the flag"}
                       if name == "one-year" else {})}
                   for name, (path, _, _) in CHECKED.items()]
        registry = tmp / "p.yaml"
        registry.write_text(yaml.safe_dump({"portals": entries}, allow_unicode=True), "utf-8")
        done = subprocess.run([*GOVREPORTS, "portals", "check", "--portals", str(registry)],
                              capture_output=True, text=True, timeout=120,
                              env={**os.environ, "COLUMNS": "400"})
    return done


@pytest.mark.parametrize("name", list(CHECKED))
def test_portals_check_gives_each_entry_a_verdict(checked, name):
    [row] = [line for line in checked.stdout.splitlines() if line.startswith(f"│ {name} ")]
    assert CHECKED[name][2] in row, row
    if name == "one-year":
        assert "(single_year: a test of the flag)" in row


def test_portals_check_sums_up_and_fails_when_an_entry_is_flagged(checked):
    assert checked.returncode == 1
    summary = checked.stdout.strip().splitlines()[-1]
    assert summary.startswith(f"{len(CHECKED)} start URL(s): 1 ok, "), summary
    # the 2020 column is old too, and the script's empty table holds no report link either
    counts = {"one-year column": 1, "redirects off its host": 1, "a single report, not a list": 1,
              "no report link": 2, "newest report": 2, "list filled by script": 1}
    for key, n in counts.items():
        assert f", {n} {key}" in summary, (key, summary)
