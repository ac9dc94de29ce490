"""The CLI as a user runs it: ingest → query → process over a local and an S3 lake."""

from __future__ import annotations

import json
import os
from pathlib import Path

import boto3
import pytest

from pipelines.schema import SCHEMA_VERSION
from tests.conftest import SEEDS


def _rows(cli, lake_url, sql):
    result = cli("query", "--lake", lake_url, "--format", "json", sql)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _lake_objects(lake_url, tmp_path):
    """Every object of the lake with its bytes, wherever it lives."""
    if lake_url.startswith("s3://"):
        bucket, _, prefix = lake_url[5:].partition("/")
        s3 = boto3.client("s3")
        listed = s3.list_objects_v2(Bucket=bucket, Prefix=prefix + "/").get("Contents", [])
        return {o["Key"][len(prefix) + 1:]:
                s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read() for o in listed}
    root = tmp_path / "lake"
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in root.rglob("*") if p.is_file()} if root.exists() else {}


def _data_objects(objects):
    return {k: v for k, v in objects.items() if not k.startswith("_runs/")}


def test_ingest_then_query_the_seeds(cli, lake_url):
    result = cli("ingest", "--lake", lake_url, SEEDS)
    assert result.returncode == 0, result.stderr
    assert "inputs 5 · reports 5 · rejects 0" in result.stdout
    rows = _rows(cli, lake_url, "select province, year, issuing_agency, county_code, "
                                "index_no, cast(published_date as varchar) as published, "
                                "schema_version from reports")
    assert {r.pop("schema_version") for r in rows} == {SCHEMA_VERSION}
    assert sorted(rows, key=lambda r: (r["year"], r["issuing_agency"])) == sorted([
        {"province": "530000", "year": 2019, "issuing_agency": "隆阳区西邑乡人民政府",
         "county_code": "530502", "index_no": "01525767-7-/2020-0131001",
         "published": "2020-01-31"},
        {"province": "530000", "year": 2019, "issuing_agency": "牟定县信访局",
         "county_code": "532323", "index_no": None, "published": None},
        {"province": "220000", "year": 2019, "issuing_agency": "刘房子街道办事处",
         "county_code": None, "index_no": None, "published": None},
        {"province": "520000", "year": 2020, "issuing_agency": "七星关区人民政府市东街道办事处",
         "county_code": "520502", "index_no": None, "published": "2021-01-30"},
        {"province": "220000", "year": 2013, "issuing_agency": "龙潭区人民政府",
         "county_code": "220203", "index_no": None, "published": None},
    ], key=lambda r: (r["year"], r["issuing_agency"]))


def test_reingest_and_process_add_nothing(cli, lake_url, tmp_path):
    assert cli("ingest", "--lake", lake_url, SEEDS).returncode == 0
    before = _data_objects(_lake_objects(lake_url, tmp_path))
    again = cli("ingest", "--lake", lake_url, SEEDS)
    assert again.returncode == 0, again.stderr
    assert "partitions written 0" in again.stdout
    processed = cli("process", "--lake", lake_url)
    assert processed.returncode == 0, processed.stderr
    assert "partitions written 0" in processed.stdout
    assert _data_objects(_lake_objects(lake_url, tmp_path)) == before
    assert _rows(cli, lake_url, "select count(*) as n from reports") == [{"n": 5}]
    runs = [k for k in _lake_objects(lake_url, tmp_path) if k.startswith("_runs/")]
    assert len(runs) == 3


def test_province_partitions_and_region_columns(cli, tmp_path):
    lake_url = str(tmp_path / "lake")  # the store does not matter here
    seed = next(SEEDS.glob("003_*.txt"))
    assert cli("ingest", "--lake", lake_url, "--province", "530502", seed).returncode == 0
    [row] = _rows(cli, lake_url, "select province, year, province_code, province_name, "
                                 "city_code, county_code, region_evidence from reports")
    assert row == {"province": "530000", "year": 2019, "province_code": "530000",
                   "province_name": "云南省", "city_code": "530500", "county_code": "530502",
                   "region_evidence": "configured region 530502"}


def test_unknown_partition_reads_as_null(cli, tmp_path):
    lake_url = str(tmp_path / "lake")  # the store does not matter here
    note = _bad_file(tmp_path, "note.txt",
                     "本单位政务公开工作情况说明，未注明年份和地区。".encode())
    assert cli("ingest", "--lake", lake_url, note).returncode == 0
    rows = _rows(cli, lake_url, "select province, year from reports")
    assert rows == [{"province": None, "year": None}]


def test_process_rebuilds_a_partition_after_a_region_correction(cli, lake_url):
    seed = next(SEEDS.glob("000_*.txt"))
    assert cli("ingest", "--lake", lake_url, "--province", "530000", seed).returncode == 0
    # The same file again with its right region: the row moves, it is not duplicated.
    assert cli("ingest", "--lake", lake_url, "--province", "220000", seed).returncode == 0
    assert _rows(cli, lake_url, "select province, year from reports") == [
        {"province": "220000", "year": 2019}]
    rebuilt = cli("process", "--lake", lake_url, "--province", "220000", "--year", "2019")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert _rows(cli, lake_url, "select count(*) as n from reports") == [{"n": 1}]


@pytest.mark.parametrize("fmt", ["csv", "json", "table"])
def test_query_formats(cli, tmp_path, fmt):
    lake = str(tmp_path / "lake")
    cli("ingest", "--lake", lake, SEEDS)
    result = cli("query", "--lake", lake, "--format", fmt,
                 "select count(*) as n from reports")
    assert result.returncode == 0, result.stderr
    expected = {"csv": "n\n5\n", "json": '[\n {\n  "n": 5\n }\n]\n'}.get(fmt)
    if expected:
        assert result.stdout == expected
    else:
        assert "│ 5 │" in result.stdout and "1 row(s)" in result.stdout


def test_query_on_an_empty_lake_sees_empty_tables(cli, tmp_path):
    rows = _rows(cli, str(tmp_path / "empty"), "select count(*) as n from report_stats")
    assert rows == [{"n": 0}]


@pytest.mark.parametrize("command", [[], ["ingest"], ["process"], ["query"]],
                         ids=["main", "ingest", "process", "query"])
def test_every_command_has_help(cli, command):
    result = cli(*command, "--help")
    assert result.returncode == 0 and "Usage:" in result.stdout and "--help" in result.stdout


# -- bad input: one line naming the input and the fix; nothing stored is damaged ------------

def _bad_file(tmp_path, name, data):
    path = tmp_path / "inputs" / name
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("empty.html", b"", "empty"),
        ("blank.txt", b"  \n\n ", "empty"),
        # a picture under a page's name is read as the image it is: this one is corrupt
        ("picture.html", b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" * 64, "corrupt_image"),
        ("blob.html", b"\x00\x00\x00\rIHDR" * 64, "binary"),
        ("noise.txt", bytes(range(128, 256)) * 8, "implausible"),
        ("broken.pdf", b"%PDF-1.7\nnot really a pdf\n%%EOF\n", "corrupt_pdf"),
        ("broken.docx", b"PK\x03\x04 not a zip" + b"PK\x05\x06" + bytes(18), "unsupported_zip"),
        ("cut.pdf", b"%PDF-1.7\nnot really a pdf", "truncated"),
        ("cut.docx", b"PK\x03\x04 not a zip", "truncated"),
    ],
    ids=["empty-file", "whitespace-only", "image-as-html", "binary-as-html", "undecodable-bytes",
         "corrupt-pdf", "partless-zip-named-docx", "cut-pdf", "cut-docx"],
)
def test_bad_documents_are_rejected_kept_and_do_not_stop_the_batch(
        cli, tmp_path, name, data, reason):
    lake_url = str(tmp_path / "lake")  # the store does not matter here
    bad = _bad_file(tmp_path, name, data)
    good = next(SEEDS.glob("004_*.txt"))
    result = cli("ingest", "--lake", lake_url, bad, good)
    assert result.returncode == 1
    assert f"rejected {bad.as_uri()}" in result.stdout and f"[{reason}]" in result.stdout
    assert "--allow-rejects" in result.stderr
    assert _rows(cli, lake_url, "select count(*) as n from reports") == [{"n": 1}]
    objects = _lake_objects(lake_url, tmp_path)
    assert data in objects.values()  # the raw bytes are kept
    [reject_key] = [k for k in objects if k.startswith("rejects/")]
    assert json.loads(objects[reject_key])["reason"] == reason
    allowed = cli("ingest", "--lake", lake_url, "--allow-rejects", bad)
    assert allowed.returncode == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ingest", "--lake", "{lake}", "missing.html"], "input 'missing.html' does not exist"),
        (["ingest", "--lake", "ftp://host/lake", "{seed}"], "unsupported lake URL 'ftp://host/lake'"),
        (["ingest", "--lake", "{lake}", "--province", "12", "{seed}"], "--province '12'"),
        (["query", "--lake", "{lake}", "select * from nowhere"], "query failed"),
        (["ingest", "--lake", "{file}/lake", "{seed}"], "is not writable"),
        (["ingest", "--lake", "{file}", "{seed}"], "is a file, not a directory"),
        (["ingest", "--lake", "", "{seed}"], "--lake is empty"),
        (["ingest", "--lake", " ", "{seed}"], "--lake is empty"),
        (["ingest", "--lake", "s3://bucket//lake", "{seed}"], "the prefix must be plain folder"),
        (["ingest", "--lake", "s3://bucket/a//b/", "{seed}"], "the prefix must be plain folder"),
        (["query", "--lake", "s3://bucket/lake?x=1", "select 1"], "plain folder names"),
        (["ingest", "--lake", "file://{lake}?x=1", "{seed}"], "has a query or fragment"),
        (["ingest", "--lake", "file://{lake}#top", "{seed}"], "has a query or fragment"),
        (["process", "--lake", "{lake}", "--year", "-1"], "--year -1 is not a report year"),
        (["process", "--lake", "{lake}", "--year", "1989"], "--year 1989 is not a report year"),
        (["process", "--lake", "{lake}", "--year", "3000"], "--year 3000 is not a report year"),
        (["stage", "decode", "--lake", "{lake}", "--batch", "../../x"], "--batch '../../x'"),
    ],
    ids=["missing-path", "unknown-scheme", "bad-province", "bad-sql", "unwritable-lake",
         "lake-is-a-file", "empty-lake", "blank-lake", "s3-empty-part", "s3-inner-empty-part",
         "s3-query", "file-query", "file-fragment", "negative-year", "year-before-1990",
         "year-far-ahead", "batch-path"],
)
def test_bad_input_gets_one_clear_line(cli, tmp_path, args, message):
    lake = tmp_path / "lake"
    assert cli("ingest", "--lake", lake, SEEDS).returncode == 0
    before = _lake_objects(str(lake), tmp_path)
    a_file = _bad_file(tmp_path, "plain-file", b"x")
    seed = next(SEEDS.glob("000_*.txt"))
    filled = [a.format(lake=lake, seed=seed, file=a_file) for a in args]
    result = cli(*filled)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr
    assert _lake_objects(str(lake), tmp_path) == before


def test_missing_bucket_names_the_bucket(cli, aws_env):
    result = cli("ingest", "--lake", "s3://no-such-bucket/lake", SEEDS)
    assert result.returncode == 2
    assert "bucket 'no-such-bucket' does not exist" in result.stderr
    assert "aws s3 mb s3://no-such-bucket" in result.stderr


def test_missing_credentials_say_what_to_set(cli, bucket, monkeypatch):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    result = cli("ingest", "--lake", f"s3://{bucket}/lake", SEEDS)
    assert result.returncode == 2
    assert "no AWS credentials" in result.stderr and "AWS_ACCESS_KEY_ID" in result.stderr
    assert boto3.client("s3", aws_access_key_id="testing", aws_secret_access_key="testing"
                        ).list_objects_v2(Bucket=bucket).get("KeyCount") == 0


GOLDEN = Path(__file__).parent / "golden" / "encoding"


def test_ingested_pages_carry_their_encoding_evidence(cli, tmp_path):
    lake_url = str(tmp_path / "lake")  # the store does not matter here
    pages = [GOLDEN / "mirror-pinyin" / "input.html", GOLDEN / "gbk-undeclared" / "input.html"]
    result = cli("ingest", "--lake", lake_url, "--encoding", "big5", *pages)
    assert result.returncode == 0, result.stderr
    rows = _rows(cli, lake_url, "select encoding_declared, encoding_detected, repairs, "
                                "unrecoverable_chars, text like '%政务公开%' as simplified "
                                "from reports order by encoding_declared nulls first")
    # A wrong override (big5) decodes neither page into plausible Chinese, so the evidence
    # wins on both; the evidence columns say what the bytes really were.
    assert rows == [
        {"encoding_declared": None, "encoding_detected": "gb18030", "repairs": [],
         "unrecoverable_chars": 0, "simplified": True},
        {"encoding_declared": "utf-8", "encoding_detected": "utf-8",
         "repairs": ["markup_residue", "pinyin_removed", "t2s"], "unrecoverable_chars": 3,
         "simplified": True},
    ]


def test_an_unknown_encoding_label_is_refused(cli, tmp_path):
    result = cli("ingest", "--lake", tmp_path / "lake", "--encoding", "klingon", SEEDS)
    assert result.returncode == 2
    assert "--encoding 'klingon'" in result.stderr and not (tmp_path / "lake").exists()


def test_a_report_published_as_an_attachment(cli, tmp_path):
    lake_url = str(tmp_path / "lake")  # the store does not matter here
    from tests import attachment_files

    folder = tmp_path / "portal"
    folder.mkdir()
    (folder / "t20200131_1.html").write_text(
        '<html><head><meta charset="utf-8"><title>西邑乡2019年政府信息公开年度报告</title></head>'
        '<body><div id="zoom"><p>详见附件。</p>'
        '<p><a href="./W020200131.docx">西邑乡2019年政府信息公开年度报告.docx</a></p></div>'
        "</body></html>", encoding="utf-8")
    lines = [*attachment_files.REPORT_LINES, "隆阳区西邑乡人民政府", "2020年1月20日"]
    (folder / "W020200131.docx").write_bytes(attachment_files.docx_bytes(lines))
    result = cli("ingest", "--lake", lake_url, folder)
    assert result.returncode == 0, result.stderr
    rows = _rows(cli, lake_url, "select title, issuing_agency, report_year, county_code, "
                                "text like '%行政许可%' as has_attachment_text, "
                                "len(attachments) as n, attachments[1].filename as filename "
                                "from reports")
    assert rows == [{"title": "西邑乡2019年政府信息公开年度报告",
                     "issuing_agency": "隆阳区西邑乡人民政府", "report_year": 2019,
                     "county_code": "530502", "has_attachment_text": True, "n": 1,
                     "filename": "W020200131.docx"}]


def test_statistics_land_in_report_stats(cli, tmp_path):
    lake_url = str(tmp_path / "lake")  # the store does not matter here
    assert cli("ingest", "--lake", lake_url, SEEDS).returncode == 0
    by_table = _rows(cli, lake_url, 'select "table", count(*) as n from report_stats '
                                    "group by all order by all")
    assert by_table == [{"table": "pre2019", "n": 106}, {"table": "三", "n": 322},
                        {"table": "二", "n": 44}, {"table": "四", "n": 30}]
    summary = cli("query", "--lake", lake_url, "--format", "csv",
                  "select row_key, column_key, sum(value) from report_stats group by all")
    assert summary.returncode == 0 and "other_external_services,previous_year,42" in summary.stdout
    reports = _rows(cli, lake_url, "select template, stats_consistent, "
                                   "len(stats_failed_checks) as failed from reports "
                                   "order by template")
    assert reports == [
        {"template": "2019", "stats_consistent": True, "failed": 0},
        {"template": "2019", "stats_consistent": True, "failed": 0},
        {"template": "pre2019", "stats_consistent": None, "failed": 0},
        {"template": "unknown", "stats_consistent": None, "failed": 0},
        {"template": "unknown", "stats_consistent": None, "failed": 0},
    ]


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["query", "--lake", "s3://{bucket}/lake", "select 1"], {"AWS_PROFILE": "nope"},
         "AWS_PROFILE 'nope' is not a profile"),
        (["query", "--lake", "s3://{bucket}/lake", "select 1"],
         {"AWS_ENDPOINT_URL_S3": "http//127.0.0.1:9"}, "AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL"),
        (["query", "--lake", "s3://Bad_Bucket!/lake", "select 1"], {},
         "'Bad_Bucket!' is not a valid S3 bucket name"),
        (["query", "--lake", "s3://{bucket}/../x", "select 1"], {},
         "the prefix must be plain folder names"),
        (["ingest", "--lake", "{lake}", "--province", "530000\n", "{seed}"], {},
         "--province '530000\\n' is not a GB/T 2260 code"),
        (["ingest", "--lake", "{lake}", "--province", "５３００００", "{seed}"], {},
         "is not a GB/T 2260 code"),
        (["ingest", "--lake", "{lake}", "{seed}"], {"GOVREPORTS_DOC_TIMEOUT": "soon"},
         "GOVREPORTS_DOC_TIMEOUT='soon' must be a number"),
        (["ingest", "--lake", "{lake}", "{seed}"], {"GOVREPORTS_CHUNK_DOCS": "0"},
         "GOVREPORTS_CHUNK_DOCS='0' must be an integer ≥ 1"),
        (["ingest", "--lake", "{lake}", "{seed}"], {"GOVREPORTS_LEASE_TTL": "nan"},
         "GOVREPORTS_LEASE_TTL='nan' must be a number ≥ 1"),
        (["ingest", "--lake", "{lake}", "{seed}"], {"GOVREPORTS_JOBS": "2.5"},
         "GOVREPORTS_JOBS='2.5' must be an integer ≥ 1"),
        (["ingest", "--lake", "{lake}", "{seed}"], {"GOVREPORTS_ALLOW_LOOPBACK": "maybe"},
         "GOVREPORTS_ALLOW_LOOPBACK='maybe' must be one of"),
        (["settings"], {"GOVREPORTS_RETRY_DELAY": "-1"},
         "GOVREPORTS_RETRY_DELAY='-1' must be a number ≥ 0"),
    ],
    ids=["unknown-aws-profile", "malformed-endpoint", "invalid-bucket-name", "dotdot-prefix",
         "province-with-newline", "fullwidth-province", "bad-doc-timeout", "zero-chunk-docs",
         "nan-lease-ttl", "fractional-jobs", "unsure-loopback", "negative-retry-delay"],
)
def test_bad_configuration_gets_one_line_and_exit_2(cli, bucket, tmp_path, args, env, message):
    seed = next(SEEDS.glob("000_*.txt"))
    filled = [a.format(lake=tmp_path / "lake", seed=seed, bucket=bucket) for a in args]
    result = cli(*filled, env=env)
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr
    assert not (tmp_path / "lake").exists()  # refused before anything was written


READ_ONLY = {
    "copy-over-a-partition": "copy (select * from reports limit 0) to '{target}' (format parquet)",
    "read-a-system-file": "select * from read_text('/etc/hostname')",
    "read-a-lake-file-directly": "select * from read_parquet('{target}')",
    "attach": "attach '{tmp}/other.duckdb' as other",
    "install-extension": "install httpfs",
    "lift-the-lock": "set enable_external_access = true",
}


@pytest.mark.parametrize("lake_url,sql", [
    *[pytest.param("local", sql, id=f"local-{name}") for name, sql in READ_ONLY.items()],
    # The statements that name a lake file, with S3 paths.
    *[pytest.param("s3", READ_ONLY[name], id=f"s3-{name}")
      for name in ("copy-over-a-partition", "read-a-lake-file-directly")],
], indirect=["lake_url"])
def test_query_is_read_only(cli, lake_url, tmp_path, sql):
    ingested = cli("ingest", "--lake", lake_url, SEEDS)
    assert ingested.returncode == 0, ingested.stdout
    before = _data_objects(_lake_objects(lake_url, tmp_path))
    target = next(k for k in before if k.startswith("reports/"))
    root = str(tmp_path / "lake") if not lake_url.startswith("s3://") else lake_url
    result = cli("query", "--lake", lake_url,
                 sql.format(target=f"{root}/{target}", tmp=tmp_path))
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "query refused" in lines[0], result.stderr
    assert _data_objects(_lake_objects(lake_url, tmp_path)) == before
    assert not (tmp_path / "other.duckdb").exists()


# -- the installed entry point, in subprocesses ---------------------------------------------------

def test_the_console_script_ingests_into_s3_and_another_process_reads_it(cli_process, bucket):
    lake_url = f"s3://{bucket}/lake"
    ingested = cli_process("ingest", "--lake", lake_url, SEEDS)
    assert ingested.returncode == 0, ingested.stderr
    assert "inputs 5 · reports 5 · rejects 0" in ingested.stdout
    queried = cli_process("query", "--lake", lake_url, "--format", "csv",
                          "select count(*) as n from reports")
    assert (queried.returncode, queried.stdout) == (0, "n\n5\n"), queried.stderr


#: Statements that run (nearly) forever, of different shapes: a join, a scan of the lake's
#: views multiplied out, a recursive CTE, a sort of a huge range.
ENDLESS = {
    "join": "select count(*) from range(4e6::bigint) a, range(4e6::bigint) b "
            "where a.range + b.range = 7",
    "scan-of-the-views": "select count(*) from reports r, range(1e12::bigint) n "
                         "where length(r.title) = n.range",
    "recursive-cte": "with recursive t(n) as (select 1 union all select n + 1 from t) "
                     "select max(n) from t",
    "sort": "select range from range(1e10::bigint) order by random() limit 1",
}


#: One lake with a seed, per test worker: the statements below only read it.
_SEEDED: list[str] = []


def _seeded_lake(cli_process, tmp_path) -> str:
    if not _SEEDED:
        lake = str(tmp_path / "lake")
        assert cli_process("ingest", "--lake", lake, next(SEEDS.glob("000_*"))).returncode == 0
        _SEEDED.append(lake)
    return _SEEDED[0]


@pytest.mark.parametrize("sql", list(ENDLESS.values()), ids=list(ENDLESS))
def test_ctrl_c_stops_any_statement_within_a_second(cli_process, tmp_path, sql):
    import signal
    import subprocess
    import time

    from tests.conftest import GOVREPORTS

    lake = _seeded_lake(cli_process, tmp_path)
    started = time.monotonic()  # the cost of a query's start-up on this machine, now
    assert cli_process("query", "--lake", lake, "select 1").returncode == 0
    start_up = time.monotonic() - started
    run = subprocess.Popen([*GOVREPORTS, "query", "--lake", lake, sql], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, cwd=tmp_path,
                           env={**os.environ, "GOVREPORTS_LAKE": ""})
    time.sleep(start_up + 2)  # well into the statement
    assert run.poll() is None, run.communicate()
    sent = time.monotonic()
    run.send_signal(signal.SIGINT)
    _out, err = run.communicate(timeout=30)
    assert time.monotonic() - sent < 1.5, "Ctrl-C took longer than a second to stop it"
    assert run.returncode == 130, err
    assert err.strip().splitlines() == ["govreports: error: query stopped (Ctrl-C)"], err


@pytest.mark.parametrize("sql", list(ENDLESS.values()), ids=list(ENDLESS))
def test_a_statement_past_its_time_limit_is_stopped(cli_process, tmp_path, sql):
    lake = _seeded_lake(cli_process, tmp_path)
    done = cli_process("query", "--lake", lake, sql, env={"GOVREPORTS_QUERY_TIMEOUT": "1.5"})
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "stopped after 1.5 s (GOVREPORTS_QUERY_TIMEOUT)" in lines[0]


@pytest.mark.parametrize("value", ["0", "-1", "soon", "nan"], ids=["zero", "negative", "word",
                                                                   "nan"])
def test_a_bad_query_timeout_is_refused_before_the_query(cli, tmp_path, value):
    done = cli("query", "--lake", tmp_path / "lake", "select 1",
               env={"GOVREPORTS_QUERY_TIMEOUT": value})
    assert done.returncode == 2 and "GOVREPORTS_QUERY_TIMEOUT" in done.stderr, done.stderr


WITHOUT_REPORTLAB = """
import sys
sys.modules["reportlab"] = None  # as if only the runtime dependencies were installed
from crawlers.cli import main
main(sys.argv[1:])
"""


@pytest.mark.parametrize("args,code,message", [
    (["ingest", "--lake", "{tmp}/lake", str(SEEDS)], 0, "inputs 5 · reports 5"),
    (["serve-samples", "--port", "0", "--", "true"], 2, "pip install 'govreports[samples]'"),
], ids=["ingest", "serve-samples"])
def test_the_runtime_needs_no_reportlab_and_the_samples_say_how_to_get_it(tmp_path, args, code,
                                                                         message):
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", WITHOUT_REPORTLAB,
                           *[a.format(tmp=tmp_path) for a in args]], capture_output=True,
                          text=True, cwd=tmp_path, timeout=120,
                          env={**os.environ, "GOVREPORTS_LAKE": ""})
    assert done.returncode == code, done.stdout + done.stderr
    assert message in done.stdout + done.stderr
    if code:
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr


# -- one report, one row ------------------------------------------------------------------------

def _copy(title: str, published: str) -> str:
    return (f"标题：{title}\n发布日期：{published}\n一、总体情况\n"
            "本局认真贯彻落实《中华人民共和国政府信息公开条例》，全年主动公开政府信息三百余条。\n")


def test_copies_of_one_report_are_one_row_of_report_latest(cli, lake_url, tmp_path):
    """The same report as its body wrote it and as a county page copied it (the body named
    with its city), a later correction, and another body's report."""
    folder = tmp_path / "copies"
    folder.mkdir()
    (folder / "own.txt").write_text(_copy("清水县教育局2020年政府信息公开工作年度报告",
                                          "2021-01-20"), encoding="utf-8")
    (folder / "hub.txt").write_text(_copy("天水市清水县教育局2020年政府信息公开工作年度报告",
                                          "2021-02-10"), encoding="utf-8")
    (folder / "other.txt").write_text(_copy("天水市教育局2020年政府信息公开工作年度报告",
                                            "2021-01-25"), encoding="utf-8")
    (folder / "earlier.txt").write_text(_copy("清水县教育局2019年政府信息公开工作年度报告",
                                              "2020-01-22"), encoding="utf-8")
    assert cli("ingest", "--lake", lake_url, folder).returncode == 0
    rows = _rows(cli, lake_url, "select report_key, copies, url, other_sources "
                                "from report_latest order by report_key")
    assert [(r["report_key"], r["copies"]) for r in rows] == [
        ("620500:教育局/2020", 1), ("620521:教育局/2019", 1), ("620521:教育局/2020", 2)]
    newest = rows[2]  # the newer copy wins; the other is listed
    assert newest["url"].endswith("hub.txt") and len(newest["other_sources"]) == 1
    assert newest["other_sources"][0].endswith("own.txt")
    total = _rows(cli, lake_url, "select count(*) as n from reports")
    assert total == [{"n": 4}]  # every copy is still a row of reports


def test_a_letter_and_news_in_a_report_column_keep_their_rows_but_are_no_reports(
        cli, lake_url, tmp_path):
    """A column holding the report, the letter that sent it on and a news item: three rows of
    reports, each with its kind, and one report in report_latest and report_panel."""
    folder = tmp_path / "column"
    folder.mkdir()
    report = next(SEEDS.glob("003_*.txt"))
    (folder / "report.txt").write_bytes(report.read_bytes())
    (folder / "letter.txt").write_text(
        "关于报送《隆阳区西邑乡2019年政府信息公开工作年度报告》的函\n区政府办公室：\n"
        "现将我乡2019年度报告报送你们，请审阅。\n特此函告。\n隆阳区西邑乡人民政府\n2020年1月20日\n",
        encoding="utf-8")
    (folder / "news.txt").write_text(
        "西邑乡召开政务公开工作推进会\n近日，西邑乡召开政务公开工作推进会，部署年度报告编制工作。\n",
        encoding="utf-8")
    assert cli("ingest", "--lake", lake_url, folder).returncode == 0
    kinds = _rows(cli, lake_url, "select regexp_extract(url, '[a-z]+[.]txt$') as name, "
                                 "document_kind, document_kind_evidence from reports order by 1")
    assert [(r["name"], r["document_kind"]) for r in kinds] == [
        ("letter.txt", "letter"), ("news.txt", "news"), ("report.txt", "report")]
    assert all(r["document_kind_evidence"] for r in kinds)
    for view in ("report_latest", "report_panel"):
        latest = _rows(cli, lake_url, f"select url from {view}")
        assert [r["url"].rsplit("/", 1)[-1] for r in latest] == ["report.txt"], view


def test_a_reports_tables_read_as_rows_of_cells(cli, lake_url, tmp_path):
    page = tmp_path / "pages" / "report.html"
    page.parent.mkdir()
    page.write_text(
        "<html><head><meta charset='utf-8'>"
        "<title>清水县人民政府2020年政府信息公开工作年度报告</title></head>"
        "<body><div id='zoom'><p>一、总体情况</p>"
        + "<p>本机关认真贯彻落实政府信息公开条例，主动公开政府信息，依法办理依申请公开。</p>" * 4
        + "<table><tr><td>信息内容</td><td><p>本年制发</p><p>件数</p></td><td>本年废止件数</td>"
        "<td>现行有效件数</td></tr><tr><td>规章</td><td>0</td><td></td><td>3</td></tr></table>"
        "</div></body></html>", encoding="utf-8")
    assert cli("ingest", "--lake", lake_url, page.parent).returncode == 0
    [row] = _rows(cli, lake_url, "select text from reports")
    lines = row["text"].splitlines()
    assert "信息内容 | 本年制发 件数 | 本年废止件数 | 现行有效件数" in lines
    assert "规章 | 0 |  | 3" in lines  # the blank cell stays a cell


def test_ingested_golden_texts_get_their_stated_metadata(cli, lake_url, tmp_path):
    """Three metadata goldens through `govreports ingest`, as a user would load plain texts."""
    from tests.golden.metadata.recall import FIELDS, load_cases

    chosen = {"region-from-a-code-in-the-index-number", "no-title-as-of-the-year-end",
              "published-before-the-year-ended"}
    cases = {c["id"]: c for c in load_cases() if c["id"] in chosen}
    folder = tmp_path / "texts"
    folder.mkdir()
    for case_id, case in cases.items():
        (folder / f"{case_id}.txt").write_text(case["text"], encoding="utf-8")
    assert cli("ingest", "--lake", lake_url, folder).returncode == 0
    rows = _rows(cli, lake_url, f"select url, report_year_evidence, region_evidence, "
                                f"{', '.join(FIELDS)} from reports")
    assert len(rows) == len(chosen)
    for row in rows:
        case = cases[row["url"].rsplit("/", 1)[-1].removesuffix(".txt")]
        assert {k: row[k] for k in FIELDS} == {
            k: (str(v) if k.endswith("_code") and v else v) for k, v in case["expect"].items()}
    evidence = {r["url"].rsplit("/", 1)[-1]: r for r in rows}
    assert evidence["region-from-a-code-in-the-index-number.txt"]["region_evidence"] == (
        "索引号 330212/2019-00031 starts with region code 330212 (the document names no place)")
    assert "before the year ended" in evidence["published-before-the-year-ended.txt"][
        "report_year_evidence"]


# -- what a process leaves alone ------------------------------------------------------------

def test_a_process_of_an_unchanged_lake_reads_nothing_again(cli, lake_url):
    assert cli("ingest", "--lake", lake_url, SEEDS).returncode == 0
    before = _rows(cli, lake_url, "select doc_id, input_fingerprint, processing_version "
                                  "from reports order by doc_id")
    again = cli("process", "--lake", lake_url)
    assert again.returncode == 0, again.stderr
    assert "reports 0 " in again.stdout and "up to date, not read again 5" in again.stdout
    assert _rows(cli, lake_url, "select doc_id, input_fingerprint, processing_version "
                                "from reports order by doc_id") == before
    forced = cli("process", "--force", "--lake", lake_url)
    assert "reports 5 " in forced.stdout and "not read again" not in forced.stdout


def test_an_unchanged_file_is_read_again_when_a_new_page_links_it(cli, tmp_path):
    """A report file ingested alone, then the page that publishes it: the file, unchanged, is
    read with the page and becomes its attachment (its own row goes)."""
    from tests import attachment_files

    lake_url = str(tmp_path / "lake")
    folder = tmp_path / "portal"
    folder.mkdir()
    lines = [*attachment_files.REPORT_LINES, "隆阳区西邑乡人民政府", "2020年1月20日"]
    (folder / "W020200131.docx").write_bytes(attachment_files.docx_bytes(lines))
    assert cli("ingest", "--lake", lake_url, folder / "W020200131.docx").returncode == 0
    assert _rows(cli, lake_url, "select count(*) as n from reports") == [{"n": 1}]
    (folder / "t20200131_1.html").write_text(
        '<html><head><meta charset="utf-8"><title>西邑乡2019年政府信息公开年度报告</title></head>'
        '<body><div id="zoom"><p>详见附件。</p>'
        '<p><a href="./W020200131.docx">西邑乡2019年政府信息公开年度报告.docx</a></p></div>'
        "</body></html>", encoding="utf-8")
    assert cli("ingest", "--lake", lake_url, folder).returncode == 0
    rows = _rows(cli, lake_url, "select url, len(attachments) as n from reports")
    assert [(r["url"].rsplit("/", 1)[-1], r["n"]) for r in rows] == [("t20200131_1.html", 1)]


def test_a_batch_in_chunks_lands_what_it_lands_in_one(cli, tmp_path):
    """The same inputs processed one document per chunk (spooled to disk, loaded partition by
    partition) and in one chunk: the same rows, pages with their files however they sort."""
    from tests import attachment_files

    folder = tmp_path / "inputs"
    (folder / "seeds").mkdir(parents=True)
    for seed in SEEDS.glob("*.txt"):
        (folder / "seeds" / seed.name).write_bytes(seed.read_bytes())
    (folder / "uploads").mkdir()  # a file in another folder than its page, sorting before it
    lines = [*attachment_files.REPORT_LINES, "隆阳区西邑乡人民政府", "2020年1月20日"]
    (folder / "uploads" / "W020200131.docx").write_bytes(attachment_files.docx_bytes(lines))
    (folder / "zpages").mkdir()
    (folder / "zpages" / "t20200131_1.html").write_text(
        '<html><head><meta charset="utf-8"><title>西邑乡2019年政府信息公开年度报告</title></head>'
        '<body><div id="zoom"><p>详见附件。</p>'
        '<p><a href="../uploads/W020200131.docx">附件</a></p></div></body></html>',
        encoding="utf-8")
    sql = ("select url, title, report_year, province_code, len(attachments) as files, "
           "(select count(*) from report_stats s where s.doc_id = r.doc_id) as cells "
           "from reports r order by url")
    landed = {}
    for chunk in ("1", "500"):
        lake_url = str(tmp_path / f"lake-{chunk}")
        done = cli("ingest", "--lake", lake_url, folder, env={"GOVREPORTS_CHUNK_DOCS": chunk})
        assert done.returncode == 0, done.stdout + done.stderr
        landed[chunk] = [{**row, "url": row["url"].rsplit("/", 2)[-2:]}
                         for row in _rows(cli, lake_url, sql)]
    assert landed["1"] == landed["500"]
    assert len(landed["1"]) == 6
    assert [r["files"] for r in landed["1"] if r["url"][0] == "zpages"] == [1]


@pytest.mark.parametrize("jobs,code", [("1", 0), ("3", 0), ("0", 2)],
                         ids=["one-worker", "three-workers", "zero-refused"])
def test_jobs_sets_the_worker_processes(cli, tmp_path, jobs, code):
    lake_url = str(tmp_path / "lake")
    done = cli("ingest", "--lake", lake_url, "--jobs", jobs, SEEDS)
    assert done.returncode == code, done.stdout + done.stderr
    if code == 0:
        assert "inputs 5 · reports 5 · rejects 0" in done.stdout
        assert _rows(cli, lake_url, "select count(*) as n from reports") == [{"n": 5}]


_BODY = ("<p>一、总体情况</p><p>本机关认真贯彻落实《中华人民共和国政府信息公开条例》，"
         "主动公开政府信息，全年主动公开政府信息三百余条。</p>")
#: Where a title may print markup literally: the <title>, an ArticleTitle meta, the page's
#: heading, a 标题 line of a text file; raw, escaped, or in other case.
LITERAL_MARKUP_TITLES = {
    "title-tag": ("a.html", "<html><head><meta charset='utf-8'><title>西邑乡2019年政府信息"
                            f"公开年度报告</table></title></head><body><div id='zoom'>{_BODY}"
                            "</div></body></html>"),
    "escaped-in-title-tag": ("b.html", "<html><head><meta charset='utf-8'><title>西邑乡2019年"
                                       "政府信息公开年度报告&lt;/TABLE&gt;</title></head><body>"
                                       f"<div id='zoom'>{_BODY}</div></body></html>"),
    "article-title-meta": ("c.html", "<html><head><meta charset='utf-8'><meta name='ArticleTitle'"
                                     " content='西邑乡2019年政府信息公开年度报告</table>'></head>"
                                     f"<body><div id='zoom'>{_BODY}</div></body></html>"),
    "heading": ("d.html", "<html><head><meta charset='utf-8'></head><body><div id='zoom'>"
                          "<h1>西邑乡2019年政府信息公开年度报告&lt;/table&gt;&lt;/tr&gt;</h1>"
                          f"{_BODY}</div></body></html>"),
    "text-title-line": ("e.txt", "标题：西邑乡2019年政府信息公开年度报告</table>\n一、总体情况\n"
                                 "本机关认真贯彻落实《中华人民共和国政府信息公开条例》，主动公开政府"
                                 "信息，全年主动公开政府信息三百余条。\n"),
}


@pytest.mark.parametrize("name,content", list(LITERAL_MARKUP_TITLES.values()),
                         ids=list(LITERAL_MARKUP_TITLES))
def test_a_title_printing_markup_literally_is_stored_without_it(cli, tmp_path, name, content):
    (tmp_path / name).write_text(content, encoding="utf-8")
    assert cli("ingest", "--lake", tmp_path / "lake", tmp_path / name).returncode == 0
    rows = _rows(cli, str(tmp_path / "lake"), "select title from reports")
    assert rows == [{"title": "西邑乡2019年政府信息公开年度报告"}]


def test_a_list_page_title_is_repaired_like_the_documents_own():
    from pipelines.document import _fill_from_list_page
    from pipelines.metadata import Metadata

    meta = Metadata()
    _fill_from_list_page(meta, {"title": "政務(wù)公開2019年度報(bào)告</table>",
                                "issuing_agency": "西邑乡人民政府&nbsp;"}, "")
    assert meta.title == "政务公开2019年度报告"
    assert meta.issuing_agency == "西邑乡人民政府"
    assert meta.raw["title"] == "政務(wù)公開2019年度報(bào)告</table> (list page)"


@pytest.mark.parametrize("province,warned", [
    ("220000", True),   # another province
    ("520102", True),   # a district of another province
    ("530000", False),  # the document's own province: refined by its names
    ("530502", False),  # its own county
    ("530100", True),   # another city of the same province
], ids=["other-province", "other-provinces-district", "own-province", "own-county",
        "other-city-same-province"])
def test_an_explicit_province_stands_against_the_documents_names_with_a_warning(
        cli, tmp_path, province, warned):
    seed = next(SEEDS.glob("003_*.txt"))  # 西邑乡, 隆阳区 (530502)
    done = cli("ingest", "--lake", tmp_path / "lake", "--province", province, seed)
    assert done.returncode == 0, done.stderr
    row, = _rows(cli, str(tmp_path / "lake"), "select province_code, county_code, "
                                              "region_evidence from reports")
    assert row["province_code"] == province[:2] + "0000"  # the user's value stands
    assert ("kept although the document names 530502" in row["region_evidence"]) is warned
    assert ("warning" in done.stdout) is warned, done.stdout
    manifest = _latest_manifest_of(tmp_path / "lake")
    assert bool(manifest["warnings"]) is warned


def _latest_manifest_of(lake_dir) -> dict:
    from pipelines.lake import Lake

    lake = Lake.open(str(lake_dir))
    return lake.read_json(lake.manifest_keys("")[-1])
