"""The DAGs' task bodies (``dags/_govreports.py``) without Airflow: shard planning and which
crawl manifests a batch processes."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from pipelines.errors import ConfigError, LakeBusy, LakeDamaged, StoreError
from pipelines.lake import Lake
from tests.portal_sites import write_registry

sys.path.insert(0, str(Path(__file__).parent.parent / "dags"))  # as Airflow does
import _govreports as tasks  # noqa: E402

PORTALS = [{"id": f"p{i}", "name": f"门户{i}", "province": "530000" if i % 2 else "220000",
            "start_urls": [f"http://www{i}.example.gov.cn/ndbg/"]} for i in range(6)]


@pytest.fixture
def params(tmp_path, monkeypatch):
    monkeypatch.delenv("GOVREPORTS_CRAWL_SHARDS", raising=False)
    registry = write_registry(tmp_path / "portals.yaml", PORTALS)
    return {"portals_file": str(registry), "lake": str(tmp_path / "lake")}


def test_a_replanned_batch_processes_only_the_manifests_of_its_shards(params):
    lake = Lake.open(params["lake"], writable=True)
    for shard in range(4):  # an earlier try of the run had four shards
        lake.write_manifest(f"b-crawl-{shard}", {"portals": {}})
    planned = tasks.plan_shards({**params, "shards": 2}, "b")
    assert [s["shard"] for s in planned] == [0, 1]
    assert tasks.crawl_manifests(params, "b") == ["_runs/b-crawl-0.json", "_runs/b-crawl-1.json"]


@pytest.mark.parametrize("given,expected", [({}, 4), ({"shards": 3}, 3)],
                         ids=["environment", "param"])
def test_the_shard_count_comes_from_the_param_else_the_environment(params, monkeypatch,
                                                                   given, expected):
    monkeypatch.setenv("GOVREPORTS_CRAWL_SHARDS", "4")
    assert len(tasks.plan_shards({**params, **given})) == expected


@pytest.mark.parametrize("provinces", [["530000"], [530000]], ids=["string", "number"])
def test_provinces_select_portals_however_they_are_written(params, provinces):
    planned = tasks.plan_shards({**params, "provinces": provinces, "shards": 1})
    assert planned[0]["portals"] == ["p1", "p3", "p5"]


def test_a_selection_that_matches_no_portal_fails_without_retry(params):
    with pytest.raises(tasks.Permanent, match="no enabled portal matches"):
        tasks.plan_shards({**params, "provinces": ["650000"]})


def test_a_bad_setting_fails_a_task_at_once_in_one_line_and_the_dags_still_parse(params,
                                                                                 monkeypatch):
    from airflow.sdk.exceptions import AirflowFailException

    monkeypatch.setenv("GOVREPORTS_CRAWL_SHARDS", "many")
    assert tasks.parse_settings().crawl_shards == 4  # the defaults, for the DAG files
    with pytest.raises(AirflowFailException) as failed:
        tasks.airflow_call(tasks.plan_shards, params)
    assert str(failed.value) == ("GOVREPORTS_CRAWL_SHARDS='many' must be an integer ≥ 1: unset it "
                                 "for the default (4)")


@pytest.mark.parametrize("error,retried", [
    (lambda: LakeBusy("lake busy since …"), True),
    (lambda: StoreError("S3 answered 503"), True),
    (lambda: ConfigError("bad lake URL"), False),
    (lambda: LakeDamaged("cut file"), False),
    (lambda: tasks.Permanent("no portal"), False),
], ids=["busy-lake", "storage", "configuration", "damaged-file", "dag-own"])
def test_a_task_is_retried_after_a_transient_error_and_failed_after_a_terminal_one(error,
                                                                                   retried):
    from airflow.sdk.exceptions import AirflowFailException

    def body():
        raise error()

    with pytest.raises(Exception) as raised:
        tasks.airflow_call(body)
    assert isinstance(raised.value, AirflowFailException) is not retried, raised.value


# -- the aws_default connection, through Airflow's Amazon provider -------------------------------

ROLE = "arn:aws:iam::123456789012:role/govreports-lake"


ENDPOINT, TEMPORARY, SOME = "<the endpoint>", "<not the connection's>", "<some value>"


@pytest.mark.parametrize("extra,keys,expected", [
    ({}, True, {"AWS_ACCESS_KEY_ID": "AKIDGIVEN", "AWS_SECRET_ACCESS_KEY": "given-secret",
                "AWS_ENDPOINT_URL_S3": ENDPOINT, "AWS_DEFAULT_REGION": "us-east-1"}),
    ({"role_arn": ROLE}, True, {"AWS_ACCESS_KEY_ID": TEMPORARY, "AWS_SECRET_ACCESS_KEY": TEMPORARY,
                                "AWS_SESSION_TOKEN": SOME, "AWS_ENDPOINT_URL_S3": ENDPOINT,
                                "AWS_DEFAULT_REGION": "us-east-1"}),
    ({}, False, {"AWS_ENDPOINT_URL_S3": ENDPOINT, "AWS_DEFAULT_REGION": "us-east-1"}),
    (None, False, {}),
], ids=["keys", "assumed-role", "no-keys-the-standard-chain", "no-connection"])
def test_the_aws_default_connection_becomes_the_standard_variables(
        s3_endpoint, monkeypatch, extra, keys, expected):
    import json

    monkeypatch.delenv("AIRFLOW_CONN_AWS_DEFAULT", raising=False)
    if extra is not None:
        connection = {"conn_type": "aws", "extra": {
            "endpoint_url": s3_endpoint, "region_name": "us-east-1", **extra}}
        if "role_arn" in extra:  # the loopback endpoint answers STS too
            connection["extra"]["service_config"] = {"sts": {"endpoint_url": s3_endpoint}}
        if keys:
            connection.update(login="AKIDGIVEN", password="given-secret")
        monkeypatch.setenv("AIRFLOW_CONN_AWS_DEFAULT", json.dumps(connection))
    env = tasks.aws_environment()
    assert set(env) == set(expected)
    for name, want in expected.items():
        if want == ENDPOINT:
            assert env[name] == s3_endpoint
        elif want == TEMPORARY:
            assert env[name] and env[name] not in ("AKIDGIVEN", "given-secret"), name
        elif want == SOME:
            assert env[name], name
        else:
            assert env[name] == want, name
