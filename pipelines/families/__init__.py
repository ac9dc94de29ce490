"""Everything the project knows about each CMS platform, one module per family: its link
shapes, pagers and data interfaces, list parsing, content containers and markers, JSON field
maps and timestamps, as data plus pure functions over text and lxml trees.

The crawler turns what a family returns (:class:`~pipelines.families.base.Listed`,
:class:`~pipelines.families.base.NextPage`) into requests; the extractor reads its
:class:`~pipelines.families.base.Container` and :class:`~pipelines.families.base.Markers`.
What any list page may hold whatever its family (a pager, report titles, per-year
sub-columns) is in :mod:`pipelines.families.lists`.

A new family is one module here (a :class:`~pipelines.families.base.Family` subclass, added to
:data:`FAMILIES`), one sample portal in crawlers/samples/sites.py and one golden directory
tests/golden/extract/<name>; tests/test_families.py runs over every family and fails when one
of the three is missing.
"""

from __future__ import annotations

from pipelines.families.base import (
    MAX_PAGE_LINKS,
    Container,
    Family,
    LinkShapes,
    Listed,
    ListPage,
    Markers,
    NextPage,
    attachment_links,
    html_parser,
    links_beyond_cap,
    page_links,
)
from pipelines.families.generic import Generic
from pipelines.families.gkmlpt import Gkmlpt
from pipelines.families.hanweb import Hanweb
from pipelines.families.lists import announced, judge_report_link, navigation, not_a_report
from pipelines.families.trs import Trs
from pipelines.families.ucap import Ucap

#: The one registry of CMS families, in detection order: the portal registry's ``cms`` values
#: (with ``auto``), detection and the extractor's containers all read it.
FAMILIES: dict[str, type[Family]] = {
    f.name: f for f in sorted((Gkmlpt, Hanweb, Ucap, Trs, Generic), key=lambda f: f.priority)}

#: Every family's content containers, narrowest first: (family name, container).
CONTAINERS: tuple[tuple[str, Container], ...] = tuple(sorted(
    ((f.name, c) for f in FAMILIES.values() for c in f.containers), key=lambda fc: fc[1].rank))
#: Families whose templates mark the report's text with comments: (family name, markers).
MARKERS: tuple[tuple[str, Markers], ...] = tuple(
    (f.name, f.markers) for f in FAMILIES.values() if f.markers is not None)


def family(name: str, *, report_pattern: str | None = None) -> Family:
    """The family called ``name`` (the generic one with the portal's ``report_pattern``)."""
    return Generic(report_pattern) if name == "generic" else FAMILIES[name]()


def detect(page: ListPage, *, report_pattern: str | None = None) -> Family:
    """The family of a first page (by :attr:`Family.priority`; generic when nothing else
    matches)."""
    for cls in FAMILIES.values():
        candidate = family(cls.name, report_pattern=report_pattern)
        if candidate.detect(page):
            return candidate
    return Generic(report_pattern)


def read_list(page: ListPage, found: Family, *, report_pattern: str | None = None
              ) -> tuple[list[Listed | NextPage], dict[str, int], list[tuple[Listed, str]]]:
    """What a list page holds, how many of its documents each set of rules found, and the
    links passed over with why.

    The rules: the page's family's (the registry's ``cms``, or the detected one), whose link
    shapes take a column's documents, less the ones whose titles say they are a notice or news
    (:func:`~pipelines.families.lists.not_a_report`: a report column that mixes them in); and
    the generic rules' (report titles judged on their words) for the reports the family's
    shapes missed: a family is a hint, and a site that changed its templates, or links reports
    in shapes the family does not know (a TRS page without a date, a numeric id, a 32-hex
    Hanweb article), is still read. Then what any list page may hold (:func:`navigation`)."""
    items: list[Listed | NextPage] = []
    passed: list[tuple[Listed, str]] = []
    for item in found.parse_list(page):
        why = not_a_report(item) if isinstance(item, Listed) else None
        if why is None:
            items.append(item)
        else:
            passed.append((item, why))
    seen = {item.url for item in items if isinstance(item, Listed)}
    seen |= {item.url for item, _ in passed}
    by = {found.name: sum(isinstance(item, Listed) for item in items)}
    if found.name != "generic":
        missed = [item for item in Generic(report_pattern).reports(page) if item.url not in seen]
        items += missed
        by["generic"] = len(missed)
    # Further pages once each: a script pager is the family's paging and any page's.
    asked = {(item.url, tuple(sorted((item.form or {}).items())))
             for item in items if isinstance(item, NextPage)}
    for further in navigation(page, found):
        key = (further.url, tuple(sorted((further.form or {}).items())))
        if key not in asked:
            asked.add(key)
            items.append(further)
    return items, {k: n for k, n in by.items() if n}, passed


__all__ = ["CONTAINERS", "FAMILIES", "MARKERS", "MAX_PAGE_LINKS", "Container", "Family",
           "LinkShapes", "ListPage", "Listed", "Markers", "NextPage", "announced",
           "attachment_links", "detect", "family", "html_parser", "judge_report_link",
           "links_beyond_cap", "navigation", "page_links", "read_list"]
