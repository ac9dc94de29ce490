"""``govreports portals check``: one polite GET of a start URL, outside Scrapy, to tell an
operator whether a portal answers, which CMS family it looks like and whether a wall is up."""

from __future__ import annotations

import socket
import urllib.error
import urllib.request
from dataclasses import dataclass
from urllib.parse import urlsplit

from crawlers.guards import ForbiddenAddress, check_address, detect_anti_bot


@dataclass
class Probe:
    status: int | None
    family: str | None
    note: str

    @property
    def ok(self) -> bool:
        return self.status == 200 and not self.note.startswith(("anti-bot", "refused"))


def probe(url: str, *, timeout: float = 15.0) -> Probe:
    from crawlers import settings
    from pipelines import families
    from pipelines.decode import decode
    from pipelines.errors import DocumentRejected

    host = urlsplit(url).hostname or ""
    try:
        check_address(host)
        for info in socket.getaddrinfo(host, None):
            check_address(info[4][0], host=host)
    except ForbiddenAddress as exc:
        return Probe(None, None, f"refused: {exc}")
    except OSError as exc:
        return Probe(None, None, f"DNS: {exc}")
    request = urllib.request.Request(url, headers={"User-Agent": settings.USER_AGENT})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310
            status, body, final = answer.status, answer.read(2 << 20), answer.url
            content_type = answer.headers.get("Content-Type") or ""
    except urllib.error.HTTPError as exc:
        status, body, final = exc.code, exc.read(65536), url
        content_type = exc.headers.get("Content-Type") or ""
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        return Probe(None, None, f"unreachable: {getattr(exc, 'reason', exc)}")
    kind = detect_anti_bot(body)
    if kind:
        return Probe(status, None, f"anti-bot: {kind}")
    try:
        text = decode(body, headers={"content-type": content_type}).text
    except DocumentRejected:  # no bytes, or bytes that are no text: nothing to detect on
        text = ""
    family = families.detect(families.ListPage.parse(final, text)).name
    note = "ok" if status == 200 else f"HTTP {status}"
    if final != url:
        note += f" (redirected to {final})"
    return Probe(status, family, note)
