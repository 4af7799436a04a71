"""A threaded HTTP server for the offline portal, with ETag/Last-Modified and 304, and a log of what it served."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from nianbao.demo.site import FLAKY, HANWEB_COLUMN, LAST_MODIFIED, Page, build_pages, dataproxy_answer


@dataclass(frozen=True)
class Served:
    method: str
    path: str
    status: int
    bytes: int  # body bytes sent
    user_agent: str


class PortalServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler] | None = None,
                 pages: Mapping[str, Page] | None = None) -> None:
        """The test portal's pages and handler, or other ones (the fault portal, the benchmarks' big portal)."""
        super().__init__(address, handler or PortalHandler)
        self.pages = build_pages() if pages is None else pages
        self.served: list[Served] = []
        self.lock = threading.Lock()
        self.failed_once: set[str] = set()

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def log_served(self, entry: Served) -> None:
        with self.lock:
            self.served.append(entry)

    def snapshot(self) -> int:
        """A mark in the log; served_since(mark) is what was served after it."""
        with self.lock:
            return len(self.served)

    def served_since(self, mark: int = 0) -> list[Served]:
        with self.lock:
            return list(self.served[mark:])

    def rearm_flaky(self) -> None:
        """Make the flaky page fail once more (for a test that must see the retry, whatever ran before)."""
        with self.lock:
            self.failed_once.clear()

    def fail_first(self, path: str) -> bool:
        """True the first time `path` is asked for (the flaky page answers 500 once)."""
        with self.lock:
            if path in self.failed_once:
                return False
            self.failed_once.add(path)
            return True


class PortalHandler(BaseHTTPRequestHandler):
    server: PortalServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args) -> None:  # keep test output quiet
        pass

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        if path == FLAKY and self.server.fail_first(path):
            self.send(500, b"<h1>500 Internal Server Error</h1>", "text/html")
            return
        page = self.server.pages.get(path)
        if page is None:
            self.send(404, "<h1>404 页面不存在</h1>".encode(), "text/html; charset=utf-8")
            return
        if page.status != 200:
            self.send(page.status, page.body, page.content_type, {"Location": page.location or "/"})
            return
        etag = '"' + hashlib.sha256(page.body).hexdigest()[:20] + '"'
        validators = {"ETag": etag, "Last-Modified": LAST_MODIFIED}
        if self.headers.get("If-None-Match") == etag or (
            "If-None-Match" not in self.headers and self.headers.get("If-Modified-Since") == LAST_MODIFIED
        ):
            self.send(304, b"", None, validators)
            return
        self.send(200, page.body, page.content_type, validators)

    def do_POST(self) -> None:
        """Hanweb's dataproxy.jsp: records startrecord..endrecord of the column named in the form."""
        parts = urlsplit(self.path)
        form = parse_qs(self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode())
        query = parse_qs(parts.query)
        if parts.path != "/module/web/jpage/dataproxy.jsp" or form.get("columnid") != [HANWEB_COLUMN["columnid"]]:
            self.send(404, b"no such column", "text/plain")
            return
        start, end = int(query["startrecord"][0]), int(query["endrecord"][0])
        self.send(200, dataproxy_answer(start, end), "text/xml; charset=utf-8")

    def send(self, status: int, body: bytes, content_type: str | None, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.server.log_served(Served(self.command, self.path, status, len(body), self.headers.get("User-Agent", "")))


def serve(host: str = "127.0.0.1", port: int = 0) -> PortalServer:
    """Start the portal in a background thread (port 0: a free one); stop it with .shutdown()."""
    server = PortalServer((host, port))
    threading.Thread(target=server.serve_forever, name="test-portal", daemon=True).start()
    return server
