"""Where the crawler may connect: one host policy for every request Scrapy sends, each redirect hop included.

Why here and not on the links: a portal controls its answers, so a report's attachment that answers
`302 Location: http://169.254.169.254/…` or `http://localhost:6379/` must be refused where the request is sent,
whatever the spider asked for (`dont_filter` requests skip Scrapy's offsite check, and redirects keep the flag).
HostPolicyMiddleware runs first among the downloader middlewares, and RedirectMiddleware hands each redirect hop
back to the engine as a new request, which passes through every downloader middleware again.

The policy allows:
- http and https only;
- the crawl's own hosts and their subdomains, on the ports of the portal's start URLs on that host (a start URL
  on port 80 or 443 allows both: http -> https upgrades);
- an address that is loopback, private, link-local, multicast, reserved or otherwise not global only when the
  crawl was started on it (an IP start URL, or what a start URL's name resolved to when the crawl began):
  `nianbao demo` and the tests crawl 127.0.0.1:PORT; any other port there is refused by the port rule.

A name is resolved once, before the request is sent, through the reactor's resolver (CheckedResolver, which
caches the address for the crawl); the connection then uses that cached address, so a name that answers with a
public address first and 127.0.0.1 next (DNS rebinding) is connected to the address that was checked. Should the
cache drop a name, CheckedResolver checks again when Scrapy resolves it to connect. Not covered: an HTTP proxy
(HTTP_PROXY / meta "proxy") resolves names itself, and another TWISTED_DNS_RESOLVER bypasses the check at
connection time (the middleware's check remains).
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from scrapy import Request, signals
from scrapy.exceptions import IgnoreRequest
from scrapy.resolver import CachingThreadedResolver
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.error import DNSLookupError

from crawler.links import followable

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

    from crawler.portals import Portal

log = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
DEFAULT_PORTS = {"http": 80, "https": 443}


class Refused(IgnoreRequest):
    """A request the crawl will not send. The spider's errback records it as an `errors` row with this stage
    (`policy`: the host policy; `budget`: a crawl budget ran out), unless `record` is False (a budget records
    itself once, not once per request it keeps out)."""

    def __init__(self, message: str, stage: str = "policy", *, record: bool = True) -> None:
        super().__init__(message)
        self.stage = stage
        self.record = record


class AddressRefused(DNSLookupError):
    """CheckedResolver's answer for a name that resolved to an address the crawl may not connect to."""


def parse_ip(host: str) -> IPAddress | None:
    """`host` as an IP address (an IPv4-mapped IPv6 address as the IPv4 it maps), None for a name."""
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None
    mapped = getattr(address, "ipv4_mapped", None)
    return mapped or address


def is_special(address: IPAddress) -> bool:
    """Loopback, private, link-local (169.254.169.254: cloud metadata), multicast, reserved, shared (100.64/10),
    unspecified …: anything that is not a public unicast address."""
    return not address.is_global or address.is_multicast


def url_port(url: str) -> int | None:
    parts = urlsplit(url)
    try:
        return parts.port or DEFAULT_PORTS.get(parts.scheme)
    except ValueError:  # a port out of range or not a number
        return None


def _resolve_all(host: str) -> list[str]:
    try:
        return [info[4][0] for info in socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)]
    except OSError:
        return []


@dataclass(frozen=True)
class HostPolicy:
    ports: dict[str, frozenset[int]]  # crawl host -> the ports allowed on it and its subdomains
    addresses: frozenset[IPAddress]  # the special addresses the crawl was started on

    @classmethod
    def for_portals(cls, portals: Iterable[Portal],
                    resolve: Callable[[str], list[str]] = _resolve_all) -> HostPolicy:
        """The policy of a crawl of `portals`; `resolve(name)` lists a start host's addresses (once, now)."""
        ports: dict[str, set[int]] = {}
        addresses: set[IPAddress] = set()
        for portal in portals:
            for url in portal.start_urls:
                host, port = (urlsplit(url).hostname or "").lower(), url_port(url)
                allowed = set(DEFAULT_PORTS.values()) if port in DEFAULT_PORTS.values() else {port}
                ports.setdefault(host, set()).update(allowed)
                ip = parse_ip(host)
                found = [ip] if ip else [parse_ip(a) for a in resolve(host)]
                addresses.update(a for a in found if a is not None and is_special(a))
            for host in portal.hosts:  # registered hosts without a start URL: the default ports
                ports.setdefault(host.lower(), set(DEFAULT_PORTS.values()))
                ip = parse_ip(host)
                if ip is not None and is_special(ip):
                    addresses.add(ip)
        return cls({h: frozenset(p) for h, p in ports.items()}, frozenset(addresses))

    def url_refusal(self, url: str) -> str | None:
        """Why `url` may not be fetched (scheme, host, port, an IP address), or None when it may."""
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        if parts.scheme not in DEFAULT_PORTS:
            return f"scheme {parts.scheme or '(none)'!r} is not http(s)"
        if not followable(url, tuple(self.ports)):
            return f"host {host!r} is not one of the crawl's hosts ({', '.join(sorted(self.ports))})"
        own = host if host in self.ports else max((h for h in self.ports if host.endswith("." + h)), key=len)
        port = url_port(url)
        if port not in self.ports[own]:
            return (f"port {port} of {host} is not a port the crawl started on "
                    f"({', '.join(map(str, sorted(self.ports[own])))})")
        ip = parse_ip(host)
        return None if ip is None else self.address_refusal(host, ip)

    def allows(self, url: str) -> bool:
        return self.url_refusal(url) is None

    def address_refusal(self, host: str, address: IPAddress | str) -> str | None:
        """Why `host` may not be connected to at `address`, or None when it may."""
        ip = parse_ip(str(address))
        if ip is None:
            return f"{host} resolved to {address!r}, not an address"
        if is_special(ip) and ip not in self.addresses:
            return f"{host} resolves to {ip}, a {_kind(ip)} address the crawl was not started on"
        return None


def _kind(ip: IPAddress) -> str:
    for kind in ("loopback", "link_local", "private", "multicast", "reserved", "unspecified"):
        if getattr(ip, f"is_{kind}"):
            return kind.replace("_", "-")
    return "non-public"


class CheckedResolver(CachingThreadedResolver):
    """Scrapy's caching resolver, refusing an address the crawl's policy refuses (the spider's `host_policy`;
    until a crawl has one, every special address). Installed by TWISTED_DNS_RESOLVER, so the address Scrapy
    connects to is always one that was checked, whenever the name was (re)resolved."""

    policy: HostPolicy | None = None

    def getHostByName(self, name: str, timeout: Any = ()) -> Any:
        return super().getHostByName(name, timeout).addCallback(self._checked, name)

    def _checked(self, address: str, name: str) -> str:
        policy = self.policy or HostPolicy({}, frozenset())
        refusal = policy.address_refusal(name, address)
        if refusal:
            from scrapy.resolver import dnscache

            dnscache.pop(name, None)  # never connect there from the cache either
            raise AddressRefused(refusal)
        return address


class HostPolicyMiddleware:
    """Refuses (a Refused `policy` error, before any connection) every request, redirect hop and robots.txt
    included, that the spider's host policy does not allow; resolves names first and checks their address."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> HostPolicyMiddleware:
        return cls(crawler)

    def spider_opened(self) -> None:
        from twisted.internet import reactor

        if isinstance(reactor.resolver, CheckedResolver):
            reactor.resolver.policy = self.crawler.spider.host_policy

    async def process_request(self, request: Request) -> None:
        policy: HostPolicy = self.crawler.spider.host_policy
        refusal = policy.url_refusal(request.url)
        host = urlsplit(request.url).hostname or ""
        if refusal is None and parse_ip(host) is None:
            from twisted.internet import reactor

            try:
                address = await maybe_deferred_to_future(reactor.resolve(host))
            except AddressRefused as exc:
                refusal = str(exc)
            except DNSLookupError:
                return None  # the download fails on it as before: a fetch error, retried
            else:
                refusal = policy.address_refusal(host, address)
        if refusal:
            raise Refused(f"refused by the host policy: {refusal}")
        return None
