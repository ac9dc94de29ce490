"""A failed request's reason key comes from the exception's type, not its message."""

from __future__ import annotations

import pytest
from scrapy import Request
from scrapy.exceptions import (
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
)
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.error import ConnectionRefusedError, DNSLookupError, TCPTimedOutError
from twisted.python.failure import Failure
from twisted.web._newclient import ResponseFailed, ResponseNeverReceived, _DataLoss

from crawlers.guards import AntiBotBlocked, ForbiddenAddress, GuardedResolver
from crawlers.outcomes import failure_reason
from crawlers.politeness import HostBlocked, TooLongRetryAfter
from crawlers.refusals import Offsite, RobotsDisallowed, TooLargeDecompressed, TooManyRedirects
from pipelines.errors import CrawlFailure, Terminal

URL = "http://127.0.0.1/ndbg/t20200115_1.html"


def _http_error(status: int) -> HttpError:
    return HttpError(Response(URL, status=status), "Ignoring non-200 response")


def _failed(exc: BaseException) -> Failure:
    try:
        raise exc
    except BaseException:
        failure = Failure()
    failure.request = Request(URL)
    return failure


CASES = {
    # Messages that would mislead a classifier reading text: each says something else.
    "robots": (RobotsDisallowed("a redirect page"), "robots_disallowed"),
    "redirects": (TooManyRedirects("robots.txt"), "too_many_redirects"),
    "offsite": (Offsite("max size"), "offsite"),
    "decompressed-too-large": (TooLargeDecompressed("redirect"), "too_large"),
    "cancelled-too-large": (DownloadCancelledError("whatever"), "too_large"),
    "other-ignore": (IgnoreRequest("Forbidden by robots.txt"), "ignored"),
    "http-404": (_http_error(404), "http_404"),
    "http-503": (_http_error(503), "http_503"),
    "timeout": (DownloadTimeoutError("took long"), "timeout"),
    "tcp-timeout": (TCPTimedOutError(), "timeout"),
    "refused": (DownloadConnectionRefusedError("no"), "connection_failed"),
    "twisted-refused": (ConnectionRefusedError(), "connection_failed"),
    "dns": (DNSLookupError("no such name"), "dns"),
    "truncated": (ResponseDataLossError("short"), "truncated"),
    "twisted-truncated": (ResponseFailed([Failure(_DataLoss())]), "truncated"),
    "never-received": (ResponseNeverReceived([Failure(ValueError("reset"))]), "connection_lost"),
    "anti-bot": (AntiBotBlocked("ruishu", URL, 412), "anti_bot"),
    "forbidden-address": (ForbiddenAddress("refusing 10.0.0.1"), "forbidden_address"),
    "retry-after": (TooLongRetryAfter("Retry-After 9000s"), "retry_after_too_long"),
    "host-blocked": (HostBlocked("127.0.0.1", "anti-bot ruishu"), "host_blocked"),
    "unknown": (KeyError("x"), "error"),
}


@pytest.mark.parametrize("exc,reason", CASES.values(), ids=CASES.keys())
def test_a_failure_is_classified_by_its_type(exc, reason):
    assert failure_reason(_failed(exc))[0] == reason


REFUSALS = {name: case for name, case in CASES.items() if isinstance(case[0], Terminal)}


@pytest.mark.parametrize("exc,reason", REFUSALS.values(), ids=REFUSALS.keys())
def test_a_terminal_refusal_is_a_reason_the_dag_does_not_retry(exc, reason):
    assert not CrawlFailure.is_transient(failure_reason(_failed(exc))[0])


def test_an_unknown_exception_is_named_in_the_message():
    assert failure_reason(_failed(KeyError("x"))) == ("error", "KeyError: 'x'")


def test_a_name_the_resolver_refused_is_a_forbidden_address(monkeypatch):
    monkeypatch.setitem(GuardedResolver.refused, "127.0.0.1", "refusing: loopback")
    assert failure_reason(_failed(DNSLookupError("no results"))) == (
        "forbidden_address", "refusing: loopback")
