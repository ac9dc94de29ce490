"""What the spider hands to the lander (the item pipeline): one fetched body and where it came
from, or a known document the server confirmed unchanged (304)."""

from __future__ import annotations

from dataclasses import dataclass, field

from pipelines.records import ListContext


@dataclass
class Fetched:
    portal_id: str
    url: str
    role: str  # document | attachment | list
    body: bytes
    status: int
    headers: dict[str, str]
    fetched_at: str
    context: ListContext = field(default_factory=dict)
    links: list[str] = field(default_factory=list)  # attachment URLs a document links to
    region: str | None = None
    encoding: str | None = None
    filename: str | None = None
    media_type: str | None = None
    listed_url: str | None = None  # the URL the list gave, when a redirect led elsewhere
    #: A re-check of a known URL (``spider.recheck_due``): the bytes it held before.
    rechecked_sha256: str | None = None


@dataclass
class Revalidated:
    """A conditional request answered 304: the stored bytes stand; the state takes the list
    entry's new context (so the same check is not repeated every night)."""

    portal_id: str
    url: str
    context: ListContext
    #: The night's re-check of a known URL (its context is the state's own, not a list's).
    recheck: bool = False
