"""A second test portal whose report pages and attachments each misbehave in one way (issue #6).

The portal starts well behaved: its column lists the pages of the faults marked `before`, each serving a fixture
report, so a first crawl archives them. `arm()` then breaks those pages (500s that never stop, connection resets, no
answer, a trickling body, a truncated body, a redirect loop, a soft 404 for a page and for an attachment, a page
with no HTML content, a 2 GB attachment, a zip bomb) and adds the faults a crawler meets on first sight (a
500/502/503 burst that recovers, wrong or missing Content-Type, a charset that lies), so a second crawl shows what
each fault ends as and that nothing archived before is lost. Every good body is a fixture report
(tests/fixtures/seed-00N.*), so a report that must come through a fault can be compared with its gold values.

    server = serve_faults(); ...; server.arm(); ...; server.shutdown()
"""

from __future__ import annotations

import hashlib
import socket
import struct
import sys
import threading
import time
import zipfile
from dataclasses import dataclass
from functools import cache
from io import BytesIO
from urllib.parse import urlsplit

from nianbao.demo.server import PortalHandler, PortalServer, Served
from nianbao.demo.site import LAST_MODIFIED, Page, article, attachments, chrome, column_page, fixture_body
from parsers.limits import MAX_UNZIPPED
from tests.gold import FIXTURES, load_gold

INDEX = "/zwgk/index.html"
BURST = (500, 502, 503)  # the burst page answers these, in order, then the report
HUGE_SIZE = 2 * 1024**3  # what the huge attachment announces in Content-Length
TRICKLE = (4, 0.5)  # the trickling body: 4 bytes every half second
STALL_SECONDS = 30  # a stalled answer gives up waiting for the client after this long
RESET_PAUSE = 0.3  # seconds between the half body and the reset
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
SOFT_404 = ('<!DOCTYPE html><html><head><meta charset="utf-8"><title>页面不存在</title></head><body>'
            '<div class="error"><h1>404</h1><p>抱歉，您访问的页面不存在或已被删除！</p>'
            '<a href="/">返回首页</a></div></body></html>').encode()


@dataclass(frozen=True)
class Fault:
    """One misbehaving URL: the page the column links (`path`), the attachment that misbehaves when the report
    is in one, the fixture report it carries when it behaves, and whether the clean crawl sees it."""

    name: str
    path: str
    seed: str
    before: bool  # listed (and good) before arm(): the report was archived before the fault began
    attachment: str | None = None

    @property
    def title(self) -> str:
        gold = load_gold(self.seed)
        return f"{gold['meta']['agency'][0]}{gold['meta']['year']}年政府信息公开工作年度报告"

    @property
    def url_path(self) -> str:
        """The path that misbehaves: the attachment's when there is one."""
        return self.attachment or self.path


FAULTS = {f.name: f for f in (
    # Good first, then broken: each must end as a recorded error, and the report archived before stays.
    Fault("unavailable", "/faults/503.html", "seed-000", before=True),
    Fault("reset_headers", "/faults/reset-headers.html", "seed-001", before=True),
    Fault("reset_body", "/faults/reset-body.html", "seed-002", before=True),
    Fault("timeout", "/faults/timeout.html", "seed-003", before=True),
    Fault("trickle", "/faults/trickle.html", "seed-004", before=True),
    Fault("truncated", "/faults/truncated.html", "seed-000", before=True),
    Fault("soft_404", "/faults/soft404.html", "seed-001", before=True),
    Fault("soft_404_attachment", "/faults/gone.html", "seed-000", before=True, attachment="/faults/uploads/gone.docx"),
    Fault("redirect_loop", "/faults/loop.html", "seed-002", before=True),
    Fault("blank", "/faults/blank.html", "seed-003", before=True),
    Fault("huge_attachment", "/faults/huge.html", "seed-003", before=True, attachment="/faults/uploads/huge.docx"),
    Fault("zip_bomb", "/faults/bomb.html", "seed-004", before=True, attachment="/faults/uploads/bomb.docx"),
    # New with the faults: each must end as a correct report.
    Fault("burst", "/faults/burst.html", "seed-000", before=False),
    Fault("octet_stream", "/faults/show/octet", "seed-001", before=False),
    Fault("docx_as_html", "/faults/download.jsp?fileid=77", "seed-002", before=False),
    Fault("no_content_type", "/faults/show/plain", "seed-003", before=False),
    Fault("gbk_says_utf8", "/faults/gbk-says-utf8.html", "seed-004", before=False),
    Fault("utf8_says_gbk", "/faults/utf8-says-gbk.html", "seed-000", before=False),
)}
LOOP_BACK = "/faults/loop-b.html"  # the redirect loop: loop.html -> loop-b.html -> loop.html
FAULT_AT = {**{f.url_path: f.name for f in FAULTS.values()}, LOOP_BACK: "redirect_loop"}


def _report_page(fault: Fault, charset: str = "utf-8") -> str:
    gold = load_gold(fault.seed)
    agency = gold["meta"]["agency"][0]
    if fault.attachment:
        body = f"<p>{fault.title}详见附件。</p>" + attachments((fault.attachment, "年度报告.docx"))
    elif charset == "gbk":
        text = (FIXTURES / f"{fault.seed}.gbk.html").read_bytes().decode("gbk")
        body = text.split("<body>")[1].split("</body>")[0]
    else:
        body = fixture_body(f"{fault.seed}.html")
    return article(fault.title, body, agency, "2025-01-25", charset)


def _docx(fault: Fault) -> bytes:
    return (FIXTURES / f"{fault.seed}.docx").read_bytes()


@cache
def zip_bomb() -> bytes:
    """The zip-bomb fault's DOCX plus one member of zeros that inflates to just over the limit (~200 KB)."""
    out = BytesIO(_docx(FAULTS["zip_bomb"]))
    with (zipfile.ZipFile(out, "a", compression=zipfile.ZIP_DEFLATED) as docx,
          docx.open("word/media/padding.bin", "w", force_zip64=True) as member):
        chunk = bytes(1 << 20)
        for _ in range(MAX_UNZIPPED // len(chunk) + 1):
            member.write(chunk)
    return out.getvalue()


def build_fault_pages(armed: bool) -> dict[str, Page]:
    """Path -> page. Until armed, every page behaves and the column lists only the `before` faults; armed, the
    faults that are a lie in the headers or the bytes are here, the others are FaultHandler's answer_* methods."""
    listed = [f for f in FAULTS.values() if armed or f.before]
    pages = {
        "/robots.txt": Page(b"User-agent: *\nDisallow:\n", "text/plain"),
        "/": Page(chrome("故障县人民政府", f'<ul class="nav"><li><a href="{INDEX}">政务公开</a></li></ul>').encode()),
        INDEX: Page(column_page("政府信息公开年报", [(f.path, f.title) for f in listed]).encode()),
    }
    for fault in FAULTS.values():
        pages[urlsplit(fault.path).path] = Page(_report_page(fault).encode())
        if fault.attachment:
            pages[fault.attachment] = Page(_docx(fault), DOCX)
    if not armed:
        return pages
    # The faults that are only a lie in the headers or bytes, served the same on every request.
    lies = {
        "soft_404": Page(SOFT_404),
        "soft_404_attachment": Page(SOFT_404),
        "blank": Page("<!-- 内容已迁移 -->\n".encode()),  # 200 and no HTML content at all
        "zip_bomb": Page(zip_bomb(), DOCX),
        "octet_stream": Page(_report_page(FAULTS["octet_stream"]).encode(), "application/octet-stream"),
        "docx_as_html": Page(_docx(FAULTS["docx_as_html"]), "text/html; charset=utf-8"),
        "no_content_type": Page(_report_page(FAULTS["no_content_type"]).encode(), None),
        "gbk_says_utf8": Page(_report_page(FAULTS["gbk_says_utf8"], charset="utf-8").encode("gbk"),
                              "text/html; charset=utf-8"),
        "utf8_says_gbk": Page(_report_page(FAULTS["utf8_says_gbk"], charset="gbk").encode(),
                              "text/html; charset=GBK"),
    }
    for name, page in lies.items():
        pages[urlsplit(FAULTS[name].url_path).path] = page
    return pages


class FaultServer(PortalServer):
    """The test portal's server (its log, ETags and 304s) serving the fault pages; `arm()` starts the faults."""

    def __init__(self, address: tuple[str, int]) -> None:
        super().__init__(address, FaultHandler, build_fault_pages(armed=False))
        self.armed = False
        self.answers: dict[str, int] = {}  # path -> requests answered while armed (for the burst)

    def arm(self) -> None:
        with self.lock:
            self.pages = build_fault_pages(armed=True)
            self.armed = True
            self.answers.clear()

    def handle_error(self, request, client_address) -> None:
        """Quiet about the connections the faults break on purpose; loud about anything else."""
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)

    def answer_number(self, path: str) -> int:
        """How many times `path` was asked for since arm(), this request included."""
        with self.lock:
            self.answers[path] = self.answers.get(path, 0) + 1
            return self.answers[path]


class FaultHandler(PortalHandler):
    """Answers a fault's URL through its answer_<fault> method while the server is armed. The answers write to the
    socket directly (a response may stop anywhere), every one is in the server's log: status 0 when no status
    line went out, bytes = body bytes sent."""

    server: FaultServer

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        fault = FAULT_AT.get(path) if self.server.armed else None
        answer = getattr(self, f"answer_{fault}", None)  # the faults that are only a lie have none
        if answer is None:
            super().do_GET()
            return
        self.answered = [0, 0]  # status, body bytes sent
        try:
            answer(self.server.pages.get(path))
        except OSError:  # the client gave up or was cut off: that is the point of these answers
            self.close_connection = True
        self.server.log_served(Served(self.command, self.path, *self.answered, self.headers.get("User-Agent", "")))

    # -- faults ---------------------------------------------------------------------------------------------

    def answer_unavailable(self, page: Page) -> None:
        self._whole(503, b"<h1>503 Service Unavailable</h1>", "text/html")

    def answer_burst(self, page: Page) -> None:
        n = self.server.answer_number(urlsplit(self.path).path)
        if n <= len(BURST):
            self._whole(BURST[n - 1], f"<h1>{BURST[n - 1]}</h1>".encode(), "text/html")
        else:
            self._whole(200, page.body, page.content_type)

    def answer_reset_headers(self, page: Page) -> None:
        self.connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/ht")
        self._reset()

    def answer_reset_body(self, page: Page) -> None:
        """Half the page, then a reset. The client loses what it had not read when the RST came (Linux drops
        the receive queue), so the pause lets it take most of the half first."""
        self._headers(200, page.content_type, len(page.body), _validators(page))
        self._body(page.body[: len(page.body) // 2])
        time.sleep(RESET_PAUSE)
        self._reset()

    def answer_truncated(self, page: Page) -> None:
        """Content-Length says the whole page; a third of it comes, then an orderly close."""
        self._headers(200, page.content_type, len(page.body), _validators(page))
        self._body(page.body[: len(page.body) // 3])
        self.close_connection = True

    def answer_timeout(self, page: Page) -> None:
        self._stall()

    def answer_trickle(self, page: Page) -> None:
        self._headers(200, page.content_type, len(page.body))
        size, pause = TRICKLE
        deadline = time.monotonic() + STALL_SECONDS
        for start in range(0, len(page.body), size):
            if time.monotonic() > deadline:
                break
            self._body(page.body[start: start + size])
            time.sleep(pause)
        self.close_connection = True

    def answer_redirect_loop(self, page: Page | None) -> None:
        path = urlsplit(self.path).path
        target = LOOP_BACK if path == FAULTS["redirect_loop"].path else FAULTS["redirect_loop"].path
        self._whole(302, b"", "text/html", {"Location": target})

    def answer_huge_attachment(self, page: Page) -> None:
        """Announces 2 GB, sends the start of a real DOCX, and waits for the client to hang up."""
        self._headers(200, DOCX, HUGE_SIZE)
        self._body(page.body[:4096])
        self._stall()

    # -- raw socket helpers -----------------------------------------------------------------------------------

    def _headers(self, status: int, content_type: str | None, length: int,
                 extra: dict[str, str] | None = None) -> None:
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(length))
        self.end_headers()
        self.wfile.flush()
        self.answered[0] = status

    def _body(self, data: bytes) -> None:
        self.connection.sendall(data)
        self.answered[1] += len(data)

    def _whole(self, status: int, body: bytes, content_type: str | None,
               extra: dict[str, str] | None = None) -> None:
        self._headers(status, content_type, len(body), extra)
        self._body(body)

    def _reset(self) -> None:
        """Abort the connection: SO_LINGER 0 makes close() send a TCP RST instead of an orderly FIN."""
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()
        self.close_connection = True

    def _stall(self) -> None:
        """Say nothing more until the client hangs up (or STALL_SECONDS pass)."""
        self.connection.settimeout(STALL_SECONDS)
        while self.connection.recv(65536):
            pass
        self.close_connection = True


def _validators(page: Page) -> dict[str, str]:
    """What a real server sends with a body it then fails to finish."""
    return {"ETag": '"' + hashlib.sha256(page.body).hexdigest()[:20] + '"', "Last-Modified": LAST_MODIFIED}


def serve_faults(host: str = "127.0.0.1", port: int = 0) -> FaultServer:
    """Start the fault portal in a background thread (port 0: a free one); stop it with .shutdown()."""
    server = FaultServer((host, port))
    threading.Thread(target=server.serve_forever, name="fault-portal", daemon=True).start()
    return server
