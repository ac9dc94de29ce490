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

A start URL is the column that lists every year (one inside a year's folder is refused unless
the entry says ``single_year: true`` and its ``single_year_reason``); one body is one entry,
its other addresses listed as ``mirrors``.
"""

from __future__ import annotations

import codecs
import os
import re
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from pipelines import families as _families
from pipelines.errors import ConfigError
from pipelines.families.lists import year_folder
from pipelines.regions import is_region_code, split_region
from pipelines.settings import current

#: The registry shipped with the project (real portals, each with where its URL came from).
DEFAULT_REGISTRY = Path(__file__).with_name("portals.yaml")
#: Fixture portals served by ``govreports serve-samples`` on its default addresses.
SAMPLE_REGISTRY = Path(__file__).with_name("sample_portals.yaml")

#: ``cms`` values: ``auto`` (detect on the first page) or a family of pipelines.families.
FAMILIES = ("auto", *_families.FAMILIES)
#: A portal id's length at most: it names a folder of the lake (``_crawl/<id>/``), Scrapy stats
#: keys and log lines (the registry's longest is 22; ``serve-samples --copies`` adds a suffix).
MAX_ID_CHARS = 80
_ID = re.compile(r"[a-z0-9][a-z0-9-]*")  # fullmatch: no trailing newline


class Portal(BaseModel):
    """One configured portal column (or a few columns of one body): a registry entry, checked
    by pydantic (unknown fields refused; each error names the entry and the field)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    name: str = Field(min_length=1)
    start_urls: tuple[str, ...] = Field(min_length=1)
    cms: Literal[FAMILIES] = "auto"  # type: ignore[valid-type]
    province: str | None = None
    region: str | None = None
    #: Hosts besides the start URLs' whose pages and attachments belong to the portal.
    domains: tuple[str, ...] = ()
    encoding: str | None = None  # a charset override for a portal known to mis-declare
    max_list_pages: int = Field(50, ge=1, strict=True)
    #: Generic lists: replaces the annual-report wording a link's normalised title must have
    #: (pipelines.families.lists.judge_report_link).
    report_pattern: str | None = None
    delay: float | None = Field(None, ge=0)  # seconds between requests to one host, if above
    enabled: bool = True
    source: str | None = None  # where the URL came from
    note: str | None = None
    kind: Literal["column", "hub"] = "column"  # see takes_document
    #: An entry may start at one year's column only when the site has no column listing every
    #: year (it opens a new column each year): ``single_year: true`` with the reason.
    single_year: bool = False
    single_year_reason: str | None = None
    #: The same body's column published elsewhere (another host, an old address): listed, not
    #: crawled (one body, one entry).
    mirrors: tuple[str, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _given(cls, entry):
        """Required fields left empty are missing; a region alone gives the province."""
        if isinstance(entry, dict):
            entry = {k: v for k, v in entry.items()
                     if k not in ("id", "name", "start_urls") or v not in (None, "", [])}
            region = entry.get("region")
            if entry.get("province") is None and region is not None \
                    and is_region_code(str(region)):
                entry["province"] = split_region(str(region))[0]
        return entry

    @field_validator("id")
    @classmethod
    def _id(cls, pid: str) -> str:
        if not _ID.fullmatch(pid):
            raise ValueError("must match [a-z0-9-]+ (e.g. yn-baoshan-longyang)")
        if len(pid) > MAX_ID_CHARS:
            raise ValueError(f"is {len(pid)} characters long, more than {MAX_ID_CHARS}: "
                             "shorten it (e.g. yn-baoshan-longyang)")
        return pid

    @field_validator("start_urls", "domains", mode="before")
    @classmethod
    def _a_list(cls, value):
        if isinstance(value, str):
            raise ValueError('must be a list, e.g. ["http://www.example.gov.cn/zwgk/zfxxgknb/"]')
        return value

    @field_validator("start_urls")
    @classmethod
    def _absolute(cls, urls: tuple[str, ...]) -> tuple[str, ...]:
        for url in urls:
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError(f"start URL {url!r} must be an absolute http(s) URL")
        return urls

    @field_validator("domains")
    @classmethod
    def _hosts(cls, domains: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(d.lower() for d in domains)

    @field_validator("province", "region", mode="before")
    @classmethod
    def _code(cls, value):
        if value is not None and not is_region_code(str(value)):
            raise ValueError(f"{value!r} is not a GB/T 2260 code: use six digits in quotes, "
                             'e.g. "530000" or "530502"')
        return None if value is None else str(value)

    @field_validator("encoding")
    @classmethod
    def _charset(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                codecs.lookup(value)
            except LookupError:
                raise ValueError(f"{value!r} is not a charset Python knows (use e.g. gbk, "
                                 "gb18030, utf-8, big5)") from None
        return value

    @field_validator("report_pattern")
    @classmethod
    def _pattern(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a regular expression ({exc})") from None
        return value

    @model_validator(mode="after")
    def _region_in_province(self) -> Portal:
        if self.province is not None and self.province[2:] != "0000":
            raise ValueError(f"province {self.province!r} must be a province-level code such "
                             f"as {self.province[:2]}0000; put a county's code in 'region'")
        if self.province and self.region and split_region(self.region)[0] != self.province:
            raise ValueError(f"region {self.region} is not inside province {self.province}")
        return self

    @model_validator(mode="after")
    def _every_year(self) -> Portal:
        if self.single_year:
            if not self.single_year_reason:
                raise ValueError("single_year: true needs single_year_reason: why no column "
                                 "of the site lists every year")
            return self
        for url in self.start_urls:
            folder = year_folder(url)
            if folder is not None:
                raise ValueError(
                    f"start URL {url!r} is one year's column ({folder}/): start at the column "
                    "that lists every year (its parent) so that next year's report is found, "
                    "or say single_year: true with a single_year_reason")
        return self

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
        # LibYAML's loader where PyYAML has it: every crawl shard reads the whole registry, and
        # the pure-Python one took 4 s for 10,000 portals (make scale).
        data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
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
    try:
        return Portal.model_validate(entry)
    except ValidationError as exc:
        raise ConfigError(f"{where}: {_first_error(exc)}") from None


def _first_error(exc: ValidationError) -> str:
    """pydantic's first error as one line naming the field."""
    error = exc.errors()[0]
    field = ".".join(str(part) for part in error["loc"]) or "entry"
    if error["type"] == "missing":
        return f"'{field}' is required"
    if error["type"] == "extra_forbidden":
        return (f"unknown field {field}; allowed: "
                f"{', '.join(sorted(Portal.model_fields))}")
    message = error["msg"].removeprefix("Value error, ")
    return message if not error["loc"] else f"{field}: {message}"


def dump_portals(portals: list[dict]) -> str:
    """A registry file's text for the given entries (used by ``serve-samples``)."""
    import yaml

    return yaml.safe_dump({"portals": portals}, allow_unicode=True, sort_keys=False)

