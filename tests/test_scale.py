"""What ``make scale`` is built from, checked small: the S3 endpoint that counts requests by
price class (a real server process on loopback, asked by boto3), and the lake benchmark on a
lake of a few hundred reports (its DuckDB and pyarrow queries give the same answers, and its
nights land what they say)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
LOCAL = ROOT / "infra" / "local"


@pytest.fixture(scope="module")
def counting_s3():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([sys.executable, str(LOCAL / "s3count.py"), "-H", "127.0.0.1",
                               "-p", str(port)], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.2)
    import boto3

    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                          aws_access_key_id="testing", aws_secret_access_key="testing")
    client.create_bucket(Bucket="counted")
    client.put_object(Bucket="counted", Key="a/one", Body=b"12345")
    yield endpoint, client
    server.terminate()
    server.wait()


def _counts(endpoint: str, reset: bool = False) -> dict:
    request = urllib.request.Request(endpoint + "/_counts" + ("/reset" if reset else ""),
                                     method="POST" if reset else "GET")
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.loads(answer.read())


CALLS = {
    "put": (lambda c: c.put_object(Bucket="counted", Key="a/two", Body=b"abc"), "PUT", 3),
    "get": (lambda c: c.get_object(Bucket="counted", Key="a/one")["Body"].read(), "GET", 0),
    "list": (lambda c: c.list_objects_v2(Bucket="counted", Prefix="a/"), "LIST", 0),
    "head": (lambda c: c.head_object(Bucket="counted", Key="a/one"), "HEAD", 0),
    "copy": (lambda c: c.copy_object(Bucket="counted", Key="b/one",
                                     CopySource="counted/a/one"), "COPY", 0),
    "delete": (lambda c: c.delete_object(Bucket="counted", Key="b/one"), "DELETE", 0),
    "delete-many": (lambda c: c.delete_objects(Bucket="counted", Delete={
        "Objects": [{"Key": "b/two"}]}), "DELETE", None),
}


@pytest.mark.parametrize("call,operation,sent", CALLS.values(), ids=CALLS.keys())
def test_the_counting_endpoint_counts_each_request_by_its_price_class(counting_s3, call,
                                                                      operation, sent):
    endpoint, client = counting_s3
    _counts(endpoint, reset=True)
    call(client)
    counts = _counts(endpoint)
    assert counts["requests"] == {operation: 1}
    if sent is not None:
        assert counts["bytes_in"][operation] == sent
    if operation == "GET":
        assert counts["bytes_out"]["GET"] == 5


def test_the_lake_benchmark_answers_alike_in_duckdb_and_pyarrow_and_lands_its_nights(tmp_path):
    sys.path.insert(0, str(LOCAL))
    try:
        import scalelake
    finally:
        sys.path.remove(str(LOCAL))
    results = scalelake.run([300], tmp_path)
    figures = results["sizes"]["300"]["local"]
    assert figures["reports"] == 300
    assert figures["objects"]["reports"]["objects"] == figures["objects"]["report_stats"][
        "objects"] > 31
    for query, answer in figures["duckdb"].items():
        assert figures["pyarrow"][query]["rows"] == answer["rows"] > 0, query
    new_only, night = figures["night_new_only"], figures["night"]
    assert new_only["rechecked"] == 0 and 0 < night["rechecked"] < 300 / 10
    assert new_only["reports"] == night["reports"]
    assert abs(night["reports"] - scalelake.NIGHT_REPORTS) <= len(scalelake.PROVINCE_WEIGHTS)
    # A night writes the partitions its new reports go to (reports, cells and versions); its
    # re-checks move last_seen in partitions of other years too.
    assert new_only["written"] == 3 * len(scalelake.PROVINCE_WEIGHTS)
    assert night["written"] > new_only["written"]
    assert figures["quality_page_s"] > 0
    assert not os.path.exists(tmp_path / "lake-300")  # the grown lake goes when measured
