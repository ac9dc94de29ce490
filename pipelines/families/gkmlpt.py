"""广东 gkmlpt (政府信息公开目录平台): a column page sets ``window._CONFIG = {SID, TREE}`` and
its list comes from ``/gkmlpt/api/all/{category}?page=N``, whose items carry the 索引号,
publisher and 文号; a document may be fetched as one such JSON item."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

from pipelines.errors import DocumentRejected
from pipelines.families.base import Family, Listed, ListPage, NextPage, list_date
from pipelines.metadata import LABELS

if TYPE_CHECKING:
    from pipelines.records import ListContext

_SID = re.compile(r"SID\s*:\s*['\"]?(\w+)")
_TREE = re.compile(r"TREE\s*:\s*\{\s*\"?id\"?\s*:\s*(\d+)")
API = "/gkmlpt/api/"

#: An item's keys → the metadata label each carries (pipelines.metadata.LABELS), in order of
#: trust: the document renders them as label⇥value lines, the list keeps them as context.
FIELDS = (("identifier", "索引号"), ("publisher", "发布机构"), ("document_number", "文号"),
          ("classify_main_name", "分类"), ("classify_theme_name", "主题分类"),
          ("created_at", "成文日期"), ("written_time", "成文日期"),
          ("display_publish_time", "发布日期"), ("publish_time", "发布日期"),
          ("date", "发布日期"))
#: The item keys whose values are dates: Unix seconds or milliseconds, read in China time by
#: pipelines.metadata.parse_date on both sides.
DATE_KEYS = ("date", "publish_time")
#: Keys that mark a JSON document as one gkmlpt item.
ITEM_KEYS = frozenset({"identifier", "publisher", "title"})


def scalar(value) -> str | None:
    """An item's field as text: a string or a number; anything else (a list, an object, a
    boolean) is not a value of ours."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return value.strip() or None
    return None


def item_fields(item: dict) -> list[tuple[str, str]]:
    """(label, value) of every field an item states, in :data:`FIELDS` order."""
    return [(label, value) for key, label in FIELDS if (value := scalar(item.get(key)))]


def list_context(item: dict) -> ListContext:
    """What a list item says about its document beyond title and date, under the sidecar
    context's keys (pipelines.document.LIST_FIELDS): the first value of each field."""
    context: ListContext = {}
    for label, value in item_fields(item):
        name = LABELS[label]
        if name in ("index_no", "issuing_agency", "doc_no", "category"):
            context.setdefault(name, value)
    return context


@dataclass(frozen=True)
class Item:
    """A document served as one gkmlpt JSON item, its fields checked for their types."""

    title: str | None
    fields: list[tuple[str, str]]
    content: str | None  # the report as HTML
    attachments: list[tuple[str, str]]  # (URL, name)


def read_item(item, url: str) -> Item:
    """An item as loaded from JSON. An API answer is data from outside: every field is checked
    for the type it must have, and what is not an item is rejected with its reason."""
    if not isinstance(item, dict) or not (ITEM_KEYS & item.keys()):
        raise DocumentRejected("unsupported_json", "a JSON document that is not a gkmlpt item",
                               stage="extract")
    content = item.get("content")
    if content is not None and not isinstance(content, str):
        raise DocumentRejected("bad_json", f"the gkmlpt item's content is a "
                               f"{type(content).__name__}, not HTML", stage="extract")
    listed = item.get("attachment")
    attachments = [(urljoin(url, a["url"].strip()), scalar(a.get("name")) or "")
                   for a in (listed if isinstance(listed, list) else [])
                   if isinstance(a, dict) and isinstance(a.get("url"), str) and a["url"].strip()]
    title = item.get("title")
    return Item(title.strip() or None if isinstance(title, str) else None, item_fields(item),
                content or None, attachments)


class Gkmlpt(Family):
    name = "gkmlpt"
    priority = 10

    def detect(self, page):
        return "_CONFIG" in page.text or "/gkmlpt/" in page.url

    def parse_list(self, page):
        if API in page.url:
            yield from self._api_answer(page)
            return
        sid = _SID.search(page.text)
        fragment = urlsplit(page.url).fragment
        tree = _TREE.search(page.text)
        category = fragment if fragment.isdigit() else (tree[1] if tree else "0")
        if sid:
            yield api_request(page.url, category, sid[1], 1)

    def _api_answer(self, page: ListPage) -> Iterator[Listed | NextPage]:
        import json

        data = json.loads(page.text)
        articles = data.get("articles") or []
        for item in articles:
            if not isinstance(item, dict) or not isinstance(item.get("url"), str):
                continue
            date = next((found for key in DATE_KEYS if (found := list_date(item.get(key)))),
                        None)
            title = item.get("title") if isinstance(item.get("title"), str) else None
            # Attachments are fetched from the detail page, which links them too.
            yield Listed(urljoin(page.url, item["url"]), title, date, list_context(item))
        number = page.state.get("page", 1)
        size = int(data.get("size") or len(articles) or 1)
        if articles and number * size < int(data.get("total") or 0) and "category" in page.state:
            yield api_request(page.url, page.state["category"], page.state["sid"], number + 1)


def api_request(base: str, category: str, sid: str, number: int) -> NextPage:
    """Page ``number`` of a gkmlpt category's list API."""
    return NextPage(urljoin(base, f"{API}all/{category}?page={number}&sid={sid}"),
                    state={"category": category, "sid": sid, "page": number})
