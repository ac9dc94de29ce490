"""infra/ checked by what can run here: the compose file against the Compose specification's
schema, the Helm values against the chart's top-level keys and our DAGs' needs, the Terraform
parsed as HCL (and ``terraform fmt`` when the tool is installed), with the Glue tables equal to
the lake's schema."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import hcl2
import pytest
import yaml

from pipelines.regions import PROVINCES
from pipelines.schema import (
    NULL_PARTITION,
    REPORT_STATS_SCHEMA,
    REPORT_VERSIONS_SCHEMA,
    REPORTS_SCHEMA,
    athena_columns,
)

ROOT = Path(__file__).parent.parent
INFRA = ROOT / "infra"
sys.path.insert(0, str(ROOT / "dags"))  # as Airflow does for its DAGS_FOLDER
from _govreports import CRAWL_POOL, CRAWL_QUEUE, LOAD_POOL  # noqa: E402

SCHEMAS = {"reports": REPORTS_SCHEMA, "report_stats": REPORT_STATS_SCHEMA,
           "report_versions": REPORT_VERSIONS_SCHEMA}


# -- compose ------------------------------------------------------------------------------------

COMPOSE = INFRA / "compose" / "docker-compose.yml"


def test_the_compose_file_is_valid_against_the_compose_specification():
    checker = Path(sys.executable).with_name("check-jsonschema")
    done = subprocess.run([str(checker), "--builtin-schema", "vendor.compose-spec",
                           str(COMPOSE)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def interpolate(text: str) -> str:
    """Compose's ``${VAR:-default}`` with nothing set, ``${VAR:?why}`` with VAR set to
    ``secret``, and ``$$`` → ``$``."""
    text = re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", text)
    text = re.sub(r"\$\{[A-Z_]+:\?[^}]*\}", "secret", text)
    return text.replace("$$", "$")


def test_the_compose_file_has_no_default_secrets_and_publishes_to_this_host_only():
    text = COMPOSE.read_text(encoding="utf-8")
    for name in ("POSTGRES_PASSWORD", "MINIO_ROOT_PASSWORD", "AIRFLOW_JWT_SECRET",
                 "AIRFLOW_FERNET_KEY"):
        assert re.findall(rf"\$\{{{name}:(.)", text) and \
            set(re.findall(rf"\$\{{{name}:(.)", text)) == {"?"}, name
    ports = [p for s in yaml.safe_load(interpolate(text))["services"].values()
             for p in s.get("ports", [])]
    assert ports and all(p.startswith("127.0.0.1:") for p in ports)


def test_the_stack_creates_the_bucket_its_airflow_writes_to_and_the_pools_the_dags_use():
    stack = yaml.safe_load(interpolate(COMPOSE.read_text(encoding="utf-8")))
    services = stack["services"]
    lakes = {s["environment"]["GOVREPORTS_LAKE"] for name, s in services.items()
             if name.startswith("airflow-")}
    assert len(lakes) == 1  # every Airflow component reads and writes one lake
    bucket = lakes.pop().split("/")[2]
    assert f"lake/{bucket}" in services["minio-init"]["command"][0]
    assert "pools import" in services["airflow-init"]["command"][-1]
    pools = json.loads((INFRA / "airflow" / "pools.json").read_text(encoding="utf-8"))
    assert pools[CRAWL_POOL]["slots"] >= 1 and pools[LOAD_POOL]["slots"] == 1  # one load at once


# -- helm ---------------------------------------------------------------------------------------

#: Top-level keys of the official chart's values.yaml (chart 1.16+, Airflow 3) that these
#: values use; a misspelt key would be silently ignored by Helm.
CHART_KEYS = {"executor", "images", "dags", "env", "secret", "config", "workers", "scheduler",
              "apiServer", "dagProcessor", "triggerer", "migrateDatabaseJob", "postgresql",
              "data", "redis", "extraEnv", "logs", "fernetKey", "webserverSecretKey"}


def test_the_helm_values_use_only_chart_keys_and_create_the_pools_the_dags_use():
    values = yaml.safe_load((INFRA / "helm" / "values.yaml").read_text(encoding="utf-8"))
    assert set(values) <= CHART_KEYS, set(values) - CHART_KEYS
    assert {s["envName"] for s in values["secret"]} == {"AIRFLOW_CONN_AWS_DEFAULT"}
    assert f"pools set {CRAWL_POOL} " in values["migrateDatabaseJob"]["args"][-1]
    assert f"pools set {LOAD_POOL} 1 " in values["migrateDatabaseJob"]["args"][-1]


# -- one set of Celery settings: local e2e, compose, helm ---------------------------------------

CELERY_ENV = INFRA / "airflow" / "celery.env"


def celery_settings() -> dict[str, str]:
    pairs = [line.split("=", 1) for line in CELERY_ENV.read_text("utf-8").splitlines()
             if line.strip() and not line.startswith("#")]
    return {name.strip(): value.strip() for name, value in pairs}


def airflow_options(settings: dict[str, str]) -> dict[tuple[str, str], str]:
    """``AIRFLOW__SECTION__KEY`` settings as (section, key) → value, the executor left out."""
    return {tuple(name.lower().split("__")[1:3]): value for name, value in settings.items()
            if name.startswith("AIRFLOW__") and name != "AIRFLOW__CORE__EXECUTOR"}


def queues_of(command: str) -> set[str]:
    match = re.search(r"--queues[ =](\S+)", command)
    return set(match[1].split(",")) if match else set()


def test_the_shared_celery_settings_serve_the_queues_the_dags_use():
    settings = celery_settings()
    assert settings["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    queues = set(settings["GOVREPORTS_WORKER_QUEUES"].split(","))
    assert queues == {settings["AIRFLOW__OPERATORS__DEFAULT_QUEUE"], CRAWL_QUEUE}
    # Redis must not hand a running crawl shard (6 h at most) to another worker.
    assert int(settings["AIRFLOW__CELERY_BROKER_TRANSPORT_OPTIONS__VISIBILITY_TIMEOUT"]) > 6 * 3600


def test_compose_uses_the_shared_celery_settings():
    settings = celery_settings()
    compose = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    common = compose["x-airflow-common"]
    assert (COMPOSE.parent / common["env_file"]).resolve() == CELERY_ENV.resolve()
    # Nothing set beside the file contradicts it.
    overlap = set(common["environment"]) & set(settings)
    assert not overlap, overlap
    worker = compose["services"]["airflow-worker"]
    assert queues_of(worker["command"]) == set(settings["GOVREPORTS_WORKER_QUEUES"].split(","))


def test_helm_uses_the_shared_celery_settings():
    settings = celery_settings()
    values = yaml.safe_load((INFRA / "helm" / "values.yaml").read_text(encoding="utf-8"))
    assert values["executor"] == settings["AIRFLOW__CORE__EXECUTOR"]
    assert values["redis"]["enabled"] is True
    for (section, key), value in airflow_options(settings).items():
        assert str(values["config"].get(section, {}).get(key)).lower() == value.lower(), \
            (section, key)
    assert queues_of(values["workers"]["args"][-1]) == \
        set(settings["GOVREPORTS_WORKER_QUEUES"].split(","))


def test_the_local_celery_deployment_uses_the_shared_celery_settings(tmp_path):
    import importlib.util
    from importlib.machinery import SourceFileLoader

    loader = SourceFileLoader("localdeploy", str(INFRA / "local" / "localdeploy.py"))
    local = importlib.util.module_from_spec(importlib.util.spec_from_loader(loader.name, loader))
    loader.exec_module(local)
    env = local.airflow_env(tmp_path, "postgresql+psycopg2://airflow@127.0.0.1:1/airflow",
                          "redis://127.0.0.1:2/0", 3, tmp_path / "lake", tmp_path / "p.yaml", 10)
    assert {k: env[k] for k in celery_settings()} == celery_settings()


# -- terraform ----------------------------------------------------------------------------------

TERRAFORM = INFRA / "terraform"


@pytest.fixture(scope="module")
def terraform() -> dict:
    parsed: dict[str, list] = {}
    for path in sorted(TERRAFORM.glob("*.tf")):
        with path.open(encoding="utf-8") as handle:
            options = hcl2.SerializationOptions(strip_string_quotes=True, explicit_blocks=False)
            for kind, blocks in hcl2.load(handle, serialization_options=options).items():
                parsed.setdefault(kind, []).extend(blocks)
    return parsed


def resources(terraform: dict, kind: str) -> dict:
    found = {}
    for block in terraform.get("resource", []):
        for name, body in block.get(kind, {}).items():
            found[name] = body
    return found


def unquote(value):
    return value.strip('"') if isinstance(value, str) else value


def test_the_bucket_is_versioned_encrypted_private_and_has_lifecycle_rules(terraform):
    versioning = resources(terraform, "aws_s3_bucket_versioning")["lake"]
    assert unquote(versioning["versioning_configuration"][0]["status"]) == "Enabled"
    block = resources(terraform, "aws_s3_bucket_public_access_block")["lake"]
    assert all(block[k] is True for k in ("block_public_acls", "block_public_policy",
                                          "ignore_public_acls", "restrict_public_buckets"))
    sse = resources(terraform, "aws_s3_bucket_server_side_encryption_configuration")["lake"]
    assert "sse_algorithm" in sse["rule"][0]["apply_server_side_encryption_by_default"][0]
    rules = {unquote(r["id"]): r for r in
             resources(terraform, "aws_s3_bucket_lifecycle_configuration")["lake"]["rule"]}
    assert "_work/" in unquote(rules["work-expires"]["filter"][0]["prefix"])
    assert "expiration" in rules["work-expires"]
    assert "expiration" not in rules["raw-infrequent-access"]  # raw bytes are never deleted
    assert "abort_incomplete_multipart_upload" in rules["old-partition-versions"]
    policy = terraform["data"][0]["aws_iam_policy_document"]["lake"]["statement"][0]
    assert unquote(policy["effect"]) == "Deny"
    assert unquote(policy["condition"][0]["variable"]) == "aws:SecureTransport"


def test_the_glue_tables_have_the_lake_schema_and_project_its_partitions(terraform):
    local = {k: v for block in terraform["locals"] for k, v in block.items()}
    for table, schema in SCHEMAS.items():
        declared = [(unquote(c["name"]), unquote(c["type"])) for c in local["tables"][table]]
        assert declared == athena_columns(schema), table
    assert [unquote(p) for p in local["provinces"]] == [*sorted(PROVINCES), NULL_PARTITION]
    glue = resources(terraform, "aws_glue_catalog_table")["tables"]
    parameters = glue["parameters"]
    assert parameters["projection.enabled"] == "true"
    assert [unquote(k["name"]) for k in glue["partition_keys"]] == ["province", "year"]
    assert "province=$${province}/year=$${year}/" in parameters["storage.location.template"]


def test_the_athena_ddl_in_the_docs_has_the_lake_schema():
    doc = (ROOT / "docs" / "lake.md").read_text(encoding="utf-8")
    ddl = re.search(r"CREATE EXTERNAL TABLE govreports_reports \((.*?)\)\nPARTITIONED", doc,
                    re.S)[1]
    compact = re.sub(r"\s+", " ", ddl).replace(", ", ",").replace(": ", ":").replace(" >", ">")
    expected = ",".join(f"{name} {kind}" for name, kind in athena_columns(REPORTS_SCHEMA))
    assert compact.strip() == expected


@pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform is not installed")
def test_the_terraform_is_formatted():
    done = subprocess.run(["terraform", f"-chdir={TERRAFORM}", "fmt", "-check", "-diff"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
