#!/usr/bin/env python3
"""An S3 endpoint on loopback that counts what it is asked: moto's server (the WSGI app
``moto_server`` runs) behind a middleware that counts requests by S3 operation and the bytes
each way. ``GET /_counts`` answers the counts so far as JSON; ``POST /_counts/reset`` answers
them and starts again from zero. What ``make scale`` reads S3's request bill from.

    python infra/local/s3count.py -H 127.0.0.1 -p PORT

Operations follow S3's price classes: ``PUT``, ``COPY``, ``POST`` and ``LIST`` are billed as
tier-1 requests, ``GET``, ``HEAD`` and the rest as tier-2, ``DELETE`` is free; ``other`` is a
request to another service on the same endpoint (STS's AssumeRole).
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import threading
from collections import Counter
from urllib.parse import parse_qs

#: Operations billed as tier-1 requests (PUT, COPY, POST, LIST) and free ones; the rest are
#: tier-2 (GET and all other requests): S3's price classes.
TIER1 = ("PUT", "COPY", "POST", "LIST")
FREE = ("DELETE",)


def operation(method: str, path: str, query: str, headers: dict[str, str]) -> str:
    """The S3 operation class of one path-style request."""
    parts = [p for p in path.split("/") if p]
    params = parse_qs(query, keep_blank_values=True)
    if not parts:
        return "other" if method == "POST" else "LIST"  # STS; ListBuckets
    if method == "GET":
        return "GET" if len(parts) > 1 else "LIST"
    if method == "HEAD":
        return "HEAD"
    if method == "PUT":
        return "COPY" if "x-amz-copy-source" in headers else "PUT"
    if method == "DELETE":
        return "DELETE"
    if method == "POST":
        return "DELETE" if "delete" in params else "POST"  # multi-object delete is free
    return "other"


class Counts:
    def __init__(self):
        self.lock = threading.Lock()
        self.data = self._empty()

    @staticmethod
    def _empty() -> dict[str, Counter]:
        return {"requests": Counter(), "bytes_in": Counter(), "bytes_out": Counter(),
                "status": Counter()}

    def add(self, op: str, status: int, bytes_in: int, bytes_out: int) -> None:
        with self.lock:
            self.data["requests"][op] += 1
            self.data["bytes_in"][op] += bytes_in
            self.data["bytes_out"][op] += bytes_out
            self.data["status"][str(status)] += 1

    def snapshot(self, *, reset: bool = False) -> dict:
        """The counts so far; with ``reset``, counting starts again from zero in the same
        step (no request falls between the two)."""
        with self.lock:
            data = {name: dict(counter) for name, counter in self.data.items()}
            if reset:
                self.data = self._empty()
        return data


class Counting:
    """WSGI middleware: counts every request to ``app`` by :func:`operation`."""

    def __init__(self, app):
        self.app = app
        self.counts = Counts()

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path in ("/_counts", "/_counts/reset"):
            data = self.counts.snapshot(reset=path.endswith("/reset"))
            body = json.dumps(data).encode()
            start_response("200 OK", [("Content-Type", "application/json"),
                                      ("Content-Length", str(len(body)))])
            return [body]
        headers = {k[5:].lower().replace("_", "-"): v for k, v in environ.items()
                   if k.startswith("HTTP_")}
        op = operation(environ["REQUEST_METHOD"], path, environ.get("QUERY_STRING", ""),
                       headers)
        bytes_in = int(environ.get("CONTENT_LENGTH") or 0)
        status = [0]

        def counted_start(code, response_headers, exc_info=None):
            status[0] = int(code.split()[0])
            return start_response(code, response_headers, exc_info)

        # The whole answer is read before it is sent, so that it is counted before the client
        # can ask for the counts (moto holds every object in memory anyway).
        answer = self.app(environ, counted_start)
        try:
            body = b"".join(answer)
        finally:
            if hasattr(answer, "close"):
                answer.close()
        self.counts.add(op, status[0], bytes_in, len(body))
        return [body]


def main() -> None:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import run_simple

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, required=True)
    args = parser.parse_args()
    if not ipaddress.ip_address(args.host).is_loopback:
        parser.error(f"{args.host} is not a loopback address")
    run_simple(args.host, args.port, Counting(DomainDispatcherApplication(create_backend_app)),
               threaded=True)


if __name__ == "__main__":
    main()
