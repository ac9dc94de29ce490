"""The crawler's side of the CMS families (pipelines.families, where everything about each
platform lives): a Scrapy response as the :class:`~pipelines.families.ListPage` a family
reads, and a :class:`~pipelines.families.NextPage` it asks for as a Scrapy request."""

from __future__ import annotations

from scrapy import FormRequest, Request
from scrapy.http import Response, TextResponse

from pipelines.families import ListPage, NextPage

#: The meta key a list request carries its family's state under (NextPage.state).
STATE = "family_state"


def list_page(response: Response) -> ListPage:
    """What a family reads of a response: a binary answer where a list was expected is a page
    with no text and no links."""
    content_type = (response.headers.get("Content-Type") or b"").decode("latin-1")
    state = response.meta.get(STATE, {}) if response.request is not None else {}
    if not isinstance(response, TextResponse):
        return ListPage(response.url, "", None, content_type, state)
    return ListPage.parse(response.url, response.text, content_type=content_type, state=state)


def request(found: NextPage) -> Request:
    """The Scrapy request for a further list page (without callback: the spider routes it)."""
    meta = {STATE: dict(found.state)} if found.state else {}
    if found.form is not None:
        return FormRequest(found.url, formdata=dict(found.form), meta=meta)
    return Request(found.url, meta=meta)
