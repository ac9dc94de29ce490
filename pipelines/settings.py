"""Settings read from the environment: one parser, checked at start-up.

Defaults live in the modules that use them; this module reads an override, refuses a bad one
with a :class:`~pipelines.errors.ConfigError` naming the variable, and :func:`check_settings`
validates them all before a command does any work.
"""

from __future__ import annotations

import os

from pipelines.errors import ConfigError


def number(name: str, default: float, minimum: float) -> float:
    """``$name`` as a number ≥ ``minimum``, or ``default`` when it is unset or blank."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = None
    if value is None or value != value or value < minimum:  # value != value: NaN
        raise ConfigError(f"{name}={raw!r} must be a number ≥ {minimum:g}: unset it for the "
                          f"default ({default:g})")
    return value


def check_settings() -> None:
    """Validate every setting of the processing library (a bad value is refused before
    anything is written)."""
    from pipelines.batch import unit_docs
    from pipelines.lease import lease_ttl, lease_wait
    from pipelines.query import query_timeout
    from pipelines.workers import default_jobs, doc_memory_mb, doc_timeout

    doc_timeout(), doc_memory_mb(), default_jobs(), lease_wait(), lease_ttl(), unit_docs()
    query_timeout()


def worker_hostname() -> str:
    """The host name Airflow records for a task's worker (``AIRFLOW__CORE__HOSTNAME_CALLABLE=
    pipelines.settings.worker_hostname``): ``GOVREPORTS_WORKER_NAME`` when set, so that several
    workers on one machine (``make celery-e2e``) are told apart; else the machine's name."""
    import socket

    return os.environ.get("GOVREPORTS_WORKER_NAME", "").strip() or socket.getfqdn()
