"""The portal registry (``crawlers/portals.yaml``): which columns to crawl and how.

A portal is a few lines of configuration, validated when a crawl starts; every message names
the registry file, the entry and the field, and says what to write instead::

    portals:
      - id: yn-baoshan-longyang        # unique, [a-z0-9-]+
        name: 保山市隆阳区人民政府
        province: "530000"              # optional, GB/T 2260
        region: "530502"                # optional, the body's own region code
        cms: auto                       # auto | trs | hanweb | ucap | gkmlpt | generic
        start_urls: ["http://www.example.gov.cn/zwgk/zfxxgknb/"]
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from pipelines import families as _families
from pipelines.errors import ConfigError
from pipelines.regions import is_region_code, split_region
from pipelines.settings import current

#: The registry shipped with the project (real portals, each with where its URL came from).
DEFAULT_REGISTRY = Path(__file__).with_name("portals.yaml")
#: Fixture portals served by ``govreports serve-samples`` on its default addresses.
SAMPLE_REGISTRY = Path(__file__).with_name("sample_portals.yaml")

#: ``cms`` values: ``auto`` (detect on the first page) or a family of pipelines.families.
FAMILIES = ("auto", *_families.FAMILIES)
_ID = re.compile(r"[a-z0-9][a-z0-9-]*")  # fullmatch: no trailing newline
#: A portal id's length at most: it names a folder of the lake (``_crawl/<id>/``), Scrapy stats
#: keys and log lines (the registry's longest is 22; ``serve-samples --copies`` adds a suffix).
MAX_ID_CHARS = 80
_FIELDS = {"id", "name", "province", "region", "cms", "start_urls", "domains", "encoding",
           "max_list_pages", "report_pattern", "delay", "enabled", "source", "note", "kind"}


@dataclass(frozen=True)
class Portal:
    """One configured portal column (or a few columns of one body)."""

    id: str
    name: str
    start_urls: tuple[str, ...]
    cms: str = "auto"
    province: str | None = None
    region: str | None = None
    #: Hosts besides the start URLs' whose pages and attachments belong to the portal.
    domains: tuple[str, ...] = ()
    encoding: str | None = None  # a charset override for a portal known to mis-declare
    max_list_pages: int = 50
    #: Generic lists: replaces the annual-report wording a link's normalised title must have
    #: (pipelines.families.lists.judge_report_link).
    report_pattern: str | None = None
    delay: float | None = None  # seconds between requests to one host, if above the default
    enabled: bool = True
    source: str | None = None  # where the URL came from
    note: str | None = None
    kind: str = "column"  # or "hub": see takes_document

    @property
    def hosts(self) -> tuple[str, ...]:
        """Every host name the crawl may fetch from for this portal."""
        names = [urlsplit(url).hostname or "" for url in self.start_urls] + list(self.domains)
        return tuple(dict.fromkeys(name.lower() for name in names if name))

    def is_body_of_hub(self, url: str) -> bool:
        """Whether ``url`` is a listed body's own page: a hub's document off the hub's host."""
        host = (urlsplit(url).hostname or "").lower()
        return self.kind == "hub" and host not in {
            (urlsplit(u).hostname or "").lower() for u in self.start_urls}

    def takes_document(self, url: str) -> bool:
        """Whether a listed document at ``url`` is this portal's to fetch: a column's documents
        live on its own hosts; a hub (``kind: hub``, a 年度报告集中公开 page) lists bodies'
        reports on their own hosts, taken when they are ``.gov.cn`` hosts (or the portal's)."""
        if self.serves(url):
            return True
        host = (urlsplit(url).hostname or "").lower()
        return self.kind == "hub" and (host == "gov.cn" or host.endswith(".gov.cn"))

    def serves(self, url: str) -> bool:
        """Whether ``url`` is on one of the portal's hosts or their subdomains (as Scrapy's
        offsite filter reads ``allowed_domains``)."""
        host = (urlsplit(url).hostname or "").lower()
        return any(host == h or host.endswith("." + h) for h in self.hosts)


def registry_path(given: str | os.PathLike | None = None) -> Path:
    """The registry to use: ``given``, else ``$GOVREPORTS_PORTALS``, else the shipped one."""
    return Path(given or current().portals or DEFAULT_REGISTRY)


def load_portals(path: str | os.PathLike | None = None) -> list[Portal]:
    """Read and validate a registry; raises :class:`ConfigError` naming the bad entry."""
    import yaml

    path = registry_path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"portal registry {str(path)!r} cannot be read ({exc.strerror}): "
                          "pass --portals FILE or set GOVREPORTS_PORTALS") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"portal registry {str(path)!r} is not valid YAML: "
                          f"{str(exc).splitlines()[0]}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("portals"), list):
        raise ConfigError(f"portal registry {str(path)!r} must be a mapping with a "
                          "'portals:' list")
    portals, seen = [], set()
    for number, entry in enumerate(data["portals"], 1):
        portal = _portal(entry, f"{path}: portal #{number}")
        if portal.id in seen:
            raise ConfigError(f"{path}: portal {portal.id!r} is listed twice: ids must be "
                              "unique")
        seen.add(portal.id)
        portals.append(portal)
    return portals


def select(portals: list[Portal], ids: list[str] | tuple[str, ...] = ()) -> list[Portal]:
    """The portals named by ``ids`` (every enabled one when none is named)."""
    if not ids:
        return [p for p in portals if p.enabled]
    by_id = {p.id: p for p in portals}
    unknown = [i for i in ids if i not in by_id]
    if unknown:
        raise ConfigError(f"unknown portal id(s) {', '.join(map(repr, unknown))}: "
                          f"the registry has {', '.join(sorted(by_id)) or 'none'}")
    return [by_id[i] for i in ids]


def _portal(entry: object, where: str) -> Portal:
    if not isinstance(entry, dict):
        raise ConfigError(f"{where} must be a mapping (id:, name:, start_urls:, …)")
    if isinstance(entry.get("id"), str):
        where = f"{where.rsplit(':', 1)[0]}: portal {entry['id']!r}"
    unknown = sorted(set(entry) - _FIELDS)
    if unknown:
        raise ConfigError(f"{where}: unknown field(s) {', '.join(unknown)}; "
                          f"allowed: {', '.join(sorted(_FIELDS))}")
    for required in ("id", "name", "start_urls"):
        if entry.get(required) in (None, "", []):
            raise ConfigError(f"{where}: '{required}' is required")
    pid = entry["id"]
    if not isinstance(pid, str) or not _ID.fullmatch(pid):
        raise ConfigError(f"{where}: id must match [a-z0-9-]+ (e.g. yn-baoshan-longyang)")
    if len(pid) > MAX_ID_CHARS:
        raise ConfigError(f"{where}: id is {len(pid)} characters long, more than "
                          f"{MAX_ID_CHARS}: shorten it (e.g. yn-baoshan-longyang)")
    urls = entry["start_urls"]
    if isinstance(urls, str) or not isinstance(urls, list):
        raise ConfigError(f"{where}: start_urls must be a list of URLs, e.g. "
                          '["http://www.example.gov.cn/zwgk/zfxxgknb/"]')
    for url in urls:
        parts = urlsplit(str(url))
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"{where}: start URL {url!r} must be an absolute http(s) URL")
    cms = entry.get("cms", "auto")
    if cms not in FAMILIES:
        raise ConfigError(f"{where}: cms {cms!r} is not one of {' | '.join(FAMILIES)}")
    province = _code(entry.get("province"), "province", where)
    region = _code(entry.get("region"), "region", where)
    if province is not None and province[2:] != "0000":
        raise ConfigError(f"{where}: province {province!r} must be a province-level code "
                          f"such as {province[:2]}0000; put a county's code in 'region'")
    if province and region and split_region(region)[0] != province:
        raise ConfigError(f"{where}: region {region} is not inside province {province}")
    encoding = entry.get("encoding")
    if encoding is not None:
        import codecs
        try:
            codecs.lookup(str(encoding))
        except LookupError:
            raise ConfigError(f"{where}: encoding {encoding!r} is not a charset Python knows "
                              "(use e.g. gbk, gb18030, utf-8, big5)") from None
    pattern = entry.get("report_pattern")
    if pattern is not None:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ConfigError(f"{where}: report_pattern is not a regular expression "
                              f"({exc})") from None
    numbers = {}
    for name, kind, low in (("max_list_pages", int, 1), ("delay", float, 0)):
        value = entry.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float) or value < low \
                or (kind is int and not isinstance(value, int)):
            raise ConfigError(f"{where}: {name} must be a {kind.__name__} ≥ {low}")
        numbers[name] = kind(value)
    kind = entry.get("kind", "column")
    if kind not in ("column", "hub"):
        raise ConfigError(f"{where}: kind {kind!r} is not one of column, hub")
    domains = entry.get("domains") or []
    if isinstance(domains, str) or not all(isinstance(d, str) for d in domains):
        raise ConfigError(f"{where}: domains must be a list of host names")
    return Portal(
        id=pid, name=str(entry["name"]), start_urls=tuple(map(str, urls)), cms=cms,
        province=province or (split_region(region)[0] if region else None), region=region,
        domains=tuple(d.lower() for d in domains), encoding=encoding,
        report_pattern=pattern, enabled=bool(entry.get("enabled", True)),
        source=entry.get("source"), note=entry.get("note"), kind=kind, **numbers)


def _code(value: object, name: str, where: str) -> str | None:
    if value is None:
        return None
    code = str(value)
    if not is_region_code(code):
        raise ConfigError(f"{where}: {name} {value!r} is not a GB/T 2260 code: use six digits "
                          "in quotes, e.g. \"530000\" or \"530502\"")
    return code


def dump_portals(portals: list[dict]) -> str:
    """A registry file's text for the given entries (used by ``serve-samples``)."""
    import yaml

    return yaml.safe_dump({"portals": portals}, allow_unicode=True, sort_keys=False)

