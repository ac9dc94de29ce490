"""Split a crawl into shards that can run side by side (Airflow's mapped crawl tasks, one
process each) without breaking politeness: portals that share a host always go to the same
shard, so that one process — one download slot — holds each host's delay and connection limit.
"""

from __future__ import annotations

from crawlers.portals import Portal


def shards(portals: list[Portal], count: int) -> list[list[str]]:
    """At most ``count`` shards of portal ids (none empty), balanced by number of portals;
    deterministic for a given registry."""
    if count < 1:
        raise ValueError("a crawl needs at least one shard")
    # Portals connected through a shared host form one group (union-find over hosts).
    parent: dict[str, str] = {}

    def root(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for portal in portals:
        for host in portal.hosts:
            parent[root(f"host:{host}")] = root(f"portal:{portal.id}")
    groups: dict[str, list[str]] = {}
    for portal in portals:
        groups.setdefault(root(f"portal:{portal.id}"), []).append(portal.id)
    # Largest group first into the lightest shard (ties: the lowest index).
    bins: list[list[str]] = [[] for _ in range(min(count, len(groups)))]
    for group in sorted(groups.values(), key=lambda g: (-len(g), g)):
        min(bins, key=len).extend(group)
    return [sorted(b) for b in bins]
