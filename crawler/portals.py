"""The registry of portals (crawler/portals.yaml): which sites to crawl, where to start, which hosts are theirs."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

PORTAL_BUDGETS = ("pager_pages", "page_links", "portal_requests")  # crawler.budgets: what an entry may set


class UnknownPortal(ValueError):
    """A portal name that is not in the registry."""


@dataclass(frozen=True)
class Portal:
    name: str
    start_urls: tuple[str, ...]
    hosts: tuple[str, ...]
    region: str | None = None
    region_code: str | None = None
    hints: dict[str, Any] = field(default_factory=dict)
    budgets: dict[str, int] = field(default_factory=dict)  # crawler.budgets limits of its own (pager_pages …)


# A registry of your own instead of the shipped one (`nianbao crawl --registry FILE` sets it).
REGISTRY_ENV = "NIANBAO_REGISTRY"


def load_registry(text: str | None = None) -> dict[str, Portal]:
    """Portals by name, from the YAML file named by $NIANBAO_REGISTRY, else the one shipped in the package
    (or `text`, for tests)."""
    if text is None:
        own = os.environ.get(REGISTRY_ENV)
        source = Path(own) if own else resources.files("crawler") / "portals.yaml"
        text = source.read_text(encoding="utf-8")
    portals: dict[str, Portal] = {}
    for entry in yaml.safe_load(text)["portals"]:
        portal = Portal(
            name=entry["name"], start_urls=tuple(entry["start_urls"]),
            hosts=tuple(entry.get("hosts") or sorted({urlsplit(u).hostname for u in entry["start_urls"]})),
            region=entry.get("region"), region_code=str(entry["region_code"]) if entry.get("region_code") else None,
            hints=entry.get("hints") or {}, budgets=_budgets(entry),
        )
        if portal.name in portals:
            raise ValueError(f"portal {portal.name!r} is registered twice")
        portals[portal.name] = portal
    return portals


def _budgets(entry: dict[str, Any]) -> dict[str, int]:
    """An entry's `budgets:` (crawler.budgets), checked: a typo must not leave a portal without its limit."""
    budgets = entry.get("budgets") or {}
    wrong = [k for k, v in budgets.items()
             if k not in PORTAL_BUDGETS or not isinstance(v, int) or isinstance(v, bool) or v < 1]
    if wrong:
        raise ValueError(f"portal {entry['name']!r}: bad budgets {', '.join(map(repr, wrong))} "
                         f"(each of {', '.join(PORTAL_BUDGETS)} is a whole number above 0)")
    return dict(budgets)


def resolve(names: list[str] | None, start_urls: list[str] | None) -> list[Portal]:
    """The portals a crawl covers: registered ones by name (every registered one when neither names nor
    `start_urls` are given), plus an ad-hoc portal per host of `start_urls` (that host only, no registry entry
    needed). An unknown name raises UnknownPortal, listing the registered ones."""
    registry = load_registry()
    if not names and not start_urls:
        return list(registry.values())
    unknown = [n for n in names or [] if n not in registry]
    if unknown:
        raise UnknownPortal(f"unknown portal {', '.join(unknown)}: registered portals are {', '.join(sorted(registry))}"
                            " (`nianbao portals` lists them)")
    chosen = [registry[n] for n in names or []]
    by_host: dict[str, list[str]] = {}
    for url in start_urls or []:
        host = urlsplit(url).hostname
        if urlsplit(url).scheme not in ("http", "https") or not host:
            raise ValueError(f"not an http(s) URL: {url!r}")
        by_host.setdefault(host, []).append(url)
    for host, urls in by_host.items():
        registered = next((p for p in registry.values() if host in p.hosts), None)
        chosen.append(Portal(
            name=registered.name if registered else host, start_urls=tuple(urls), hosts=(host,),
            region=registered.region if registered else None,
            region_code=registered.region_code if registered else None,
            hints=registered.hints if registered else {},
            budgets=registered.budgets if registered else {},
        ))
    return chosen
