"""``govreports portals check``: one polite GET of a start URL, outside Scrapy, to tell an
operator whether a portal answers, which CMS family it looks like and whether a wall is up."""

from __future__ import annotations

import re
import socket
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import urlsplit

from crawlers.guards import ForbiddenAddress, check_address, detect_anti_bot


@dataclass
class Probe:
    status: int | None
    family: str | None
    note: str
    #: What the first page says about the entry: each a short key, then its detail.
    flags: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status == 200 and not self.note.startswith(("anti-bot", "refused"))

    @property
    def verdict(self) -> str:
        """One line: ``ok``, or what is wrong with the entry."""
        if not self.ok:
            return self.note
        return "; ".join(self.flags) if self.flags else "ok"


#: Flags of a start page, by key (the summary counts them).
FLAGS = ("one-year column", "redirects off its host", "a single report, not a list",
         "no report link", "newest report", "list filled by script")
_TITLE_YEAR = re.compile(r"((?:19|20)\d{2})\s*年")


def list_flags(url: str, final: str, text: str, *, today: date | None = None) -> tuple[
        str, list[str]]:
    """The CMS family of a start page and what is wrong with it as a registry entry's start:
    a one-year column, a redirect to another host, a single report instead of a list, no
    report link (nor year sub-column) on it, a newest report more than two years old, a list
    a script fills (its data interface named)."""
    from pipelines import families
    from pipelines.families.lists import list_script, year_folder
    from pipelines.metadata import is_report_title

    today = today or date.today()
    page = families.ListPage.parse(final, text)
    family = families.detect(page)
    found, _by, _passed = families.read_list(page, family)
    documents = [item for item in found if isinstance(item, families.Listed)]
    flags = []
    folder = year_folder(url)
    if folder:
        flags.append(f"one-year column ({folder}/)")
    if (urlsplit(final).hostname or "") != (urlsplit(url).hostname or ""):
        flags.append(f"redirects off its host (to {urlsplit(final).hostname})")
    title = page.root.findtext(".//title") if page.root is not None else None
    if not documents:
        if is_report_title((title or "").strip()) and _TITLE_YEAR.search(title or ""):
            flags.append("a single report, not a list")
        elif not any(isinstance(item, families.NextPage) for item in found):
            flags.append("no report link on the first page")
        scripted = list_script(text)
        if scripted:
            flags.append(f"list filled by script ({scripted})")
    years = [int(m[1]) for item in documents for m in [_TITLE_YEAR.search(item.title or "")]
             if m] + [int(item.date[:4]) - 1 for item in documents if item.date]
    if years and max(years) < today.year - 2:
        flags.append(f"newest report {max(years)}, over two years old")
    return family.name, flags


def probe(url: str, *, timeout: float = 15.0) -> Probe:
    from crawlers import settings
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
    family, flags = list_flags(url, final, text)
    note = "ok" if status == 200 else f"HTTP {status}"
    if final != url:
        note += f" (redirected to {final})"
    return Probe(status, family, note, flags if status == 200 else [])
