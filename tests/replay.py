"""Replay a captured portal on 127.0.0.1: each page at its original path, as wayback replay does.

A site is a folder of tests/fixtures/real/portals/ whose pages each have a `.source.json` sidecar naming the
original URL (`url`, or `replay_url` where the original is unknown). Pages are served byte for byte, except that
absolute links to the original host are rewritten to the loopback server, so the real spider crawls real markup
without leaving 127.0.0.1. Whatever the capture lacks answers 404 (and is logged, so a test can see that the
spider asked for it); `extra` adds stand-ins (a report body where the capture has only the link to it, a
challenge page).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

PORTALS = Path(__file__).parent / "fixtures" / "real" / "portals"
SEEDS = Path(__file__).parent / "fixtures"
HTML = "text/html; charset=utf-8"


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes
    content_type: str | None = HTML
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Site:
    origin: str  # scheme://host of the original portal, rewritten to the loopback server
    pages: dict[str, Reply]  # original path -> the captured page


def load_site(name: str) -> Site:
    """The captured pages of tests/fixtures/real/portals/<name>, keyed by their original paths."""
    pages, origins = {}, set()
    for sidecar in sorted((PORTALS / name).rglob("*.source.json")):
        source = json.loads(sidecar.read_text(encoding="utf-8"))
        url = urlsplit(source.get("url") or source["replay_url"])
        origins.add(f"{url.scheme}://{url.netloc}")
        page = sidecar.with_name(sidecar.name.removesuffix(".source.json"))
        pages[url.path] = Reply(200, page.read_bytes(), HTML if page.suffix in (".html", ".htm", ".shtml") else None)
    (origin,) = origins
    return Site(origin, pages)


def standin_report(seed: int) -> Reply:
    """A report page for a link whose target the capture lacks: a seed report (tests/fixtures/seed-NNN.html)."""
    return Reply(200, (SEEDS / f"seed-{seed:03d}.html").read_bytes())


class ReplayServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, site: Site, extra: Mapping[str, Reply] | None = None) -> None:
        super().__init__(("127.0.0.1", 0), ReplayHandler)
        self.site = site
        self.replies = {**site.pages, **(extra or {})}
        self.requested: list[tuple[str, str, int]] = []  # (method, path, status) in the order served
        self.lock = threading.Lock()

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def reply(self, path: str) -> Reply:
        """The reply for a request path: the page itself, or the folder's index.html ("/zwgk/gsgg/")."""
        found = self.replies.get(path) or (self.replies.get(path + "index.html") if path.endswith("/") else None)
        if found is None:
            return Reply(404, "<h1>404 未收录 (not in the capture)</h1>".encode())
        if found.content_type and found.content_type.startswith("text/"):
            body = found.body.replace(self.site.origin.encode(), self.base_url.encode())
            return Reply(found.status, body, found.content_type, found.headers)
        return found

    def paths(self, status: int | None = None) -> list[str]:
        with self.lock:
            return [path for _, path, served in self.requested if status is None or served == status]


class ReplayHandler(BaseHTTPRequestHandler):
    server: ReplayServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args) -> None:  # keep test output quiet
        pass

    def do_GET(self) -> None:
        reply = self.server.reply(urlsplit(self.path).path)
        self.send_response(reply.status)
        if reply.content_type:
            self.send_header("Content-Type", reply.content_type)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        self.wfile.write(reply.body)
        with self.server.lock:
            self.server.requested.append((self.command, self.path, reply.status))


def replay(site: Site, extra: Mapping[str, Reply] | None = None) -> ReplayServer:
    """Serve `site` (plus `extra` paths) from a background thread; stop it with .shutdown()."""
    server = ReplayServer(site, extra)
    threading.Thread(target=server.serve_forever, name="replay", daemon=True).start()
    return server
