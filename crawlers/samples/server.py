"""A small HTTP server for fixture portals, on loopback addresses only.

Each :class:`Site` listens on its own 127.x.y.z address, so that several sites are several
hosts to a crawler (Scrapy keeps one download slot, one delay, per host name). Routes are static
:class:`Page` objects or functions of the request (list APIs, faults). Every request is logged
(:attr:`SampleServer.hits`) so tests can assert what a crawl fetched, and static pages answer
conditional requests (``If-None-Match`` / ``If-Modified-Since``) with 304.

Hand-written on :mod:`http.server` because a test fixture needs exact control of the wire
(wrong Content-Length, stalls, redirect loops) that a framework would tidy away.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import select
import selectors
import socket
import socketserver
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

#: Last-Modified of every static fixture page (fixed, so that runs are reproducible).
FIXED_MTIME = formatdate(1_700_000_000, usegmt=True)


@dataclass
class Page:
    """One response. ``delay`` stalls before answering; ``truncate`` promises more bytes than
    it sends and closes the connection; ``validators`` adds ETag/Last-Modified and 304s;
    ``declared_length`` sends that Content-Length whatever the body's (a header that lies
    short: the client reads that many bytes), and -1 sends none (the body ends when the
    connection closes)."""

    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    truncate: bool = False
    validators: bool = True
    declared_length: int | None = None


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # without the query
    query: dict[str, str]
    form: dict[str, str]
    headers: dict[str, str]


Route = Page | Callable[[Request], Page]


@dataclass
class Site:
    """One fixture host: its address, routes by path (``/a/b.html`` or ``/api?x=1``) and
    robots.txt. ``port`` 0 picks a free port when the server starts."""

    name: str
    host: str
    routes: dict[str, Route] = field(default_factory=dict)
    robots: str = "User-agent: *\nAllow: /\n"
    port: int = 0

    def __post_init__(self):
        if not ipaddress.ip_address(self.host).is_loopback:
            raise ValueError(f"fixture site {self.name!r}: {self.host} is not a loopback "
                             "address; fixture servers only listen on 127.0.0.0/8")

    @property
    def base(self) -> str:
        return f"http://{self.host}:{self.port}"

    def url(self, path: str) -> str:
        return self.base + path


@dataclass(frozen=True)
class Hit:
    site: str
    method: str
    path: str  # with the query
    status: int
    at: float
    conditional: bool


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def server_bind(self) -> None:
        # HTTPServer's own asks the resolver for the address's name (getfqdn): with no DNS
        # reachable some loopback addresses wait seconds for it, and 10,000 sites waited hours.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def handle_error(self, request, client_address) -> None:
        # A client that hangs up (a crawler's timeout, a cancelled oversized download) is part
        # of the faults these sites serve, not a server error worth a traceback.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class SampleServer:
    """Serve sites until :meth:`stop`; usable as a context manager."""

    def __init__(self, sites: list[Site], hits_log: Path | None = None):
        self.sites = sites
        self.hits: list[Hit] = []
        #: Where each hit is also written, one JSON line each, as it is answered: for a
        #: process that reads another's server (``make scale``).
        self._hits_log = hits_log.open("a", encoding="utf-8") if hits_log else None
        self._answered: dict[str, list[tuple[float, float]]] = {}  # site → (start, end)
        self._lock = threading.Lock()
        self._servers: list[ThreadingHTTPServer] = []
        self._stopping = threading.Event()
        self._loop: threading.Thread | None = None

    def start(self) -> SampleServer:
        for site in self.sites:
            server = _QuietServer((site.host, site.port), _handler(site, self))
            site.port = server.server_address[1]
            self._servers.append(server)
        self._stopping.clear()
        self._loop = threading.Thread(target=self._accept, name="sample-sites", daemon=True)
        self._loop.start()
        return self

    def _accept(self) -> None:
        """One loop waits on every site's socket (each connection is then answered on a
        thread of its own). A loop per site, as ``serve_forever`` would run, wakes each site
        twice a second: 10,000 sites kept a core busy doing nothing."""
        with selectors.DefaultSelector() as selector:
            for server in self._servers:
                selector.register(server, selectors.EVENT_READ)
            while not self._stopping.is_set():
                for key, _ in selector.select(timeout=0.2):
                    key.fileobj._handle_request_noblock()  # accept, and answer on a thread

    def stop(self) -> None:
        self._stopping.set()
        if self._loop is not None:
            self._loop.join()
            self._loop = None
        for server in self._servers:
            server.server_close()
        self._servers.clear()
        if self._hits_log is not None:
            self._hits_log.close()
            self._hits_log = None

    def __enter__(self) -> SampleServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def record(self, hit: Hit) -> None:
        with self._lock:
            self.hits.append(hit)
            if self._hits_log is not None:
                self._hits_log.write(json.dumps(asdict(hit)) + "\n")
                self._hits_log.flush()

    def answered(self, site: str, start: float, end: float) -> None:
        with self._lock:
            self._answered.setdefault(site, []).append((start, end))

    #: A client that gives up on a request (its timeout) may send the next one a moment before
    #: this server notices the hang-up; overlaps shorter than this are that, not concurrency.
    HANGUP_SLACK_S = 0.05

    @property
    def peak_in_flight(self) -> dict[str, int]:
        """Site → the most requests answered at once (see HANGUP_SLACK_S)."""
        peaks = {}
        with self._lock:
            for site, spans in self._answered.items():
                events = sorted([(start, 0) for start, _ in spans]
                                + [(max(start, end - self.HANGUP_SLACK_S), 1)
                                   for start, end in spans])  # at a tie, starts come first
                running = peak = 0
                for _at, kind in events:
                    running += 1 if kind == 0 else -1
                    peak = max(peak, running)
                peaks[site] = peak
        return peaks

    def hits_of(self, site: str) -> list[Hit]:
        with self._lock:
            return [h for h in self.hits if h.site == site]


def _handler(site: Site, server: SampleServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "govreports-samples"

        def log_message(self, *args) -> None:  # the hit log replaces stderr chatter
            pass

        def do_GET(self) -> None:
            self._serve()

        def do_HEAD(self) -> None:
            self._serve(head=True)

        def do_POST(self) -> None:
            self._serve()

        def _serve(self, head: bool = False) -> None:
            started = time.monotonic()
            try:
                self._answer(head)
            finally:
                server.answered(site.name, started, time.monotonic())

        def _answer(self, head: bool) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            form_body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
            request = Request(
                method=self.command, path=parts.path,
                query={k: v[-1] for k, v in parse_qs(parts.query).items()},
                form={k: v[-1] for k, v in parse_qs(form_body).items()},
                headers={k.lower(): v for k, v in self.headers.items()})
            if parts.path == "/robots.txt" and "/robots.txt" not in site.routes:
                page = Page(site.robots.encode(), "text/plain; charset=utf-8")
            else:
                route = site.routes.get(self.path) or site.routes.get(parts.path)
                if route is None:
                    page = Page(b"<html><body>404 Not Found</body></html>", status=404,
                                validators=False)
                else:
                    page = route(request) if callable(route) else route
            conditional = bool(request.headers.get("if-none-match")
                               or request.headers.get("if-modified-since"))
            status, headers, body = self._respond(page, request)
            server.record(Hit(site.name, self.command, self.path, status, time.time(),
                              conditional))
            if page.delay and not self._stall(page.delay):
                self.close_connection = True  # the client gave up waiting (its timeout)
                return
            try:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                if head or status == 304:
                    return
                if page.truncate:
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout)
                self.close_connection = True

        def _stall(self, seconds: float) -> bool:
            """Wait before answering; False as soon as the client hangs up."""
            end = time.monotonic() + seconds
            while (left := end - time.monotonic()) > 0:
                ready, _, _ = select.select([self.connection], [], [], min(left, 0.05))
                if ready:
                    try:
                        if not self.connection.recv(1, socket.MSG_PEEK):
                            return False  # end of stream: the client closed
                    except ConnectionError:
                        return False
                    time.sleep(max(0.0, end - time.monotonic()))  # bytes waiting: not a hang-up
                    break
            return True

        def _respond(self, page: Page, request: Request) -> tuple[int, dict, bytes]:
            headers = {"Content-Type": page.content_type, **page.headers}
            if page.validators and page.status == 200:
                etag = '"' + hashlib.sha256(page.body).hexdigest()[:16] + '"'
                headers.update({"ETag": etag, "Last-Modified": FIXED_MTIME})
                if request.headers.get("if-none-match") == etag or (
                        "if-none-match" not in request.headers
                        and request.headers.get("if-modified-since") == FIXED_MTIME):
                    return 304, {"ETag": etag}, b""
            headers["Content-Length"] = str(len(page.body) * (2 if page.truncate else 1))
            if page.declared_length is not None:
                # No length: the close ends the body; a lying one: whatever the client left
                # unread must not be taken for the next answer on this connection.
                self.close_connection = True
                headers.pop("Content-Length")
                if page.declared_length >= 0:
                    headers["Content-Length"] = str(page.declared_length)
            return page.status, headers, page.body

    return Handler
