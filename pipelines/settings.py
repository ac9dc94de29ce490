"""Every setting govreports reads from the environment: one typed record, one reader.

Each setting's name, type, default, bound and meaning are written once, in :class:`Settings`.
:func:`current` is the only reader of ``os.environ`` in the project: the CLI, the crawler, the
processing library and the DAGs all read the same record. A bad value is refused with
:class:`BadSetting`, one line naming the variable, the bound and the default; the CLI checks
every setting before a command does any work, and a DAG's tasks when the first one starts
(the DAG files import whatever the environment says).

This module imports nothing of the project (a leaf: ``setup.cfg``'s import contracts check it).
It is a dataclass rather than pydantic-settings: every CLI process and document worker reads
it, and pydantic-settings costs a third of a second to import, half of the CLI's own start-up.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

PREFIX = "GOVREPORTS_"
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


class BadSetting(ValueError):
    """An environment variable whose value is not what its setting takes. The message is one
    line naming the variable, what it must be and its default."""


def _setting(kind: type, default: Any, doc: str, *, minimum: float | None = None) -> Any:
    return field(default=default, metadata={"kind": kind, "minimum": minimum, "doc": doc})


@dataclass(frozen=True)
class Settings:
    """The settings, each read from ``GOVREPORTS_<NAME>``; unset or blank means the default."""

    lake: str = _setting(str, "./lake", "The lake: a folder, file:///abs/path or "
                                        "s3://bucket/prefix (a command's --lake wins)")
    portals: str = _setting(str, "", "The portal registry YAML (a command's --portals wins; "
                                     "default crawlers/portals.yaml)")
    jobs: int | None = _setting(int, None, "Worker processes for the per-document work "
                                           "(default: one per core)", minimum=1)
    doc_timeout: float = _setting(float, 120.0, "Seconds one step on one document may take "
                                                "before it is a too_slow reject", minimum=0.001)
    ocr_page_seconds: float = _setting(float, 30.0, "Seconds OCR may take a page of a scan (a "
                                                     "scan's budget is this times its pages, on "
                                                     "top of GOVREPORTS_DOC_TIMEOUT)",
                                        minimum=0.001)
    doc_memory_mb: int = _setting(int, 2048, "MiB of address space a document worker may map "
                                             "beyond its start (too_large beyond)", minimum=256)
    ocr_memory_mb: int = _setting(int, 3072, "MiB of address space more that a worker which "
                                             "loads the OCR engine may map", minimum=0)
    chunk_docs: int = _setting(int, 500, "Documents a run extracts and spools at a time: its "
                                         "memory is bounded by what a chunk holds", minimum=1)
    unit_docs: int = _setting(int, 200, "Documents per work unit at most: what one Airflow "
                                        "task decodes and extracts", minimum=1)
    lease_ttl: float = _setting(float, 60.0, "Seconds a load lease lives unless renewed (runs "
                                              "sharing a lake must share it)", minimum=1)
    lease_wait: float = _setting(float, 900.0, "Seconds a load waits for a busy lake before it "
                                               "stops with 'lake busy'", minimum=0)
    query_timeout: float = _setting(float, 300.0, "Seconds a `govreports query` statement may "
                                                  "run", minimum=0.1)
    contact_url: str = _setting(str, "https://github.com/govreports/govreports#crawler",
                                "The URL the crawler's User-Agent names for site operators")
    allow_loopback: bool = _setting(bool, False, "Let the crawler fetch from 127.0.0.0/8 (the "
                                                 "sample portals, the tests); never in production")
    recheck_days: float = _setting(float, 30.0, "Days within which a nightly crawl re-checks "
                                                "every known page (and its files) with a "
                                                "conditional request, the longest-unchecked first",
                                   minimum=1)
    recheck_max: int = _setting(int, 500, "Known pages one portal's crawl re-checks at most "
                                          "a night, with their files (0: none)", minimum=0)
    crawl_shards: int = _setting(int, 4, "A DAG run's crawl processes at most (a host is only "
                                         "ever in one)", minimum=1)
    crawl_settings: str = _setting(str, "", "Scrapy settings for the DAGs' crawls, as "
                                            "NAME=VALUE pairs separated by spaces")
    retry_delay: float = _setting(float, 300.0, "Seconds before a DAG task's transient failure "
                                                "is retried (a crawl shard waits twice as "
                                                "long)", minimum=0)
    nightly_schedule: str = _setting(str, "30 2 * * *", "When the nightly DAG runs: a cron "
                                                        "expression in Asia/Shanghai, or none")
    worker_name: str = _setting(str, "", "The host name Airflow records for this worker "
                                         "(default: the machine's name)")
    debug_load_pause: float = _setting(float, 0.0, "Testing only: seconds a load pauses "
                                                   "between its read and its write", minimum=0)
    debug_lease_pause: float = _setting(float, 0.0, "Testing only: seconds a load pauses before "
                                                    "it takes its lease", minimum=0)
    debug_release: str = _setting(str, "", "Testing only: a file whose creation ends those "
                                           "pauses early (a pause writes <file>.paused)")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """The settings ``environ`` (default: this process's environment) gives;
        :class:`BadSetting` for the first value that is not what its setting takes."""
        environ = os.environ if environ is None else environ
        given = {}
        for spec in fields(cls):
            raw = environ.get(env_name(spec.name), "").strip()
            if raw:
                given[spec.name] = _parse(spec, raw)
        return cls(**given)

    def values(self) -> list[str]:
        """Each setting's value, shown as ``govreports settings`` prints it (in field order)."""
        return [_shown(getattr(self, spec.name)) for spec in fields(self)]

    @staticmethod
    def describe() -> list[dict[str, str]]:
        """One row per setting: its variable, type, default, bound and meaning (what
        ``govreports settings`` prints and the README shows)."""
        return [{"variable": env_name(spec.name), "type": spec.metadata["kind"].__name__,
                 "default": _shown(spec.default), "bound": _bound(spec),
                 "meaning": spec.metadata["doc"]} for spec in fields(Settings)]


def env_name(name: str) -> str:
    return PREFIX + name.upper()


def current() -> Settings:
    """The settings of this process's environment now (read afresh: a test or a DAG task may
    have changed it)."""
    return Settings.from_env()


def _parse(spec, raw: str) -> Any:
    kind, minimum = spec.metadata["kind"], spec.metadata["minimum"]
    name = env_name(spec.name)
    if kind is str:
        return raw
    if kind is bool:
        if raw.lower() in _TRUE + _FALSE:
            return raw.lower() in _TRUE
        raise BadSetting(f"{name}={raw!r} must be one of {', '.join(_TRUE + _FALSE)}: "
                         f"{_unset(spec)}")
    try:
        value = kind(raw)
    except ValueError:
        value = None
    if value is None or value != value or (minimum is not None and value < minimum):
        # value != value: NaN, which passes every comparison
        raise BadSetting(f"{name}={raw!r} must be {'an integer' if kind is int else 'a number'}"
                         f"{_bound(spec) and ' ' + _bound(spec)}: {_unset(spec)}")
    return value


def _unset(spec) -> str:
    if spec.default is None:
        return "unset it for the default"
    return f"unset it for the default ({_shown(spec.default)})"


def _bound(spec) -> str:
    return "" if spec.metadata["minimum"] is None else f"≥ {spec.metadata['minimum']:g}"


def _shown(default: Any) -> str:
    if isinstance(default, bool):
        return "1" if default else "0"
    if default is None:
        return "—"
    if isinstance(default, float):
        return f"{default:g}"
    return str(default)


def aws_environment() -> tuple[tuple[str, str], ...]:
    """The ``AWS_*`` variables of this process (boto3 reads them itself: endpoint, region,
    keys, profile, role); :mod:`pipelines.store` shares one S3 client while they stay the
    same."""
    return tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("AWS_")))


def worker_hostname() -> str:
    """The host name Airflow records for a task's worker (``AIRFLOW__CORE__HOSTNAME_CALLABLE=
    pipelines.settings.worker_hostname``): ``GOVREPORTS_WORKER_NAME`` when set, so that several
    workers on one machine (``make celery-e2e``) are told apart; else the machine's name."""
    import socket

    return current().worker_name or socket.getfqdn()
